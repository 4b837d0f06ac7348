"""Subscription-stream scenarios through the real Centrifugo with the official centrifuge-python
SDK, driven by tests/streams_e2e.rs. One JSON script on stdin, one JSON report on stdout;
`wait_line` steps read a line from stdin, so the Rust test can restart servers in between.

Scenarios (`scenario` in the script):
- many: `clients` connections (one token each) open `streams` bidirectional `tally:<k>` streams
  each, publish `adds` distinct additions into every one, and check that every stream's totals
  are exactly the running sums of its own additions, in order (nothing lost, nothing crossed).
- restart: one `tally:r` stream; publish, then (after each stdin line) check that the SDK
  resubscribed by itself and the new stream serves again.
- slow: a raw WebSocket client subscribes to `watch:count` and stops reading.
- fault: tally streams fed continuously while the test breaks the link between Centrifugo and
  centrpc (resets, a silent drop), then heals it.
"""

import asyncio
import json
import sys
from typing import Any

from centrifuge import (
    Client,
    PublicationContext,
    SubscribedContext,
    SubscriptionEventHandler,
    UnsubscribedContext,
)


class Collect(SubscriptionEventHandler):
    """Publications and subscribe/unsubscribe events of one subscription."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.subscribed = 0
        self.unsubscribed: list[int] = []
        self.changed = asyncio.Event()

    async def on_publication(self, ctx: PublicationContext) -> None:
        self.items.append(ctx.pub.data)
        self.changed.set()

    async def on_subscribed(self, ctx: SubscribedContext) -> None:
        self.subscribed += 1
        self.changed.set()

    async def on_unsubscribed(self, ctx: UnsubscribedContext) -> None:
        self.unsubscribed.append(ctx.code)
        self.changed.set()

    async def until(self, check: Any, timeout: float) -> None:
        async def wait() -> None:
            while not check():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)


async def one_client(url: str, token: str, c: int, streams: int, adds: int, timeout: float) -> dict[str, int]:
    client = Client(url, token=token, timeout=timeout)
    await client.connect()
    subs = []
    for k in range(streams):
        events = Collect()
        start = c * 1_000_000 + k * 1_000
        sub = client.new_subscription(f"tally:{c}-{k}", events, data={"start": start})
        await sub.subscribe()
        subs.append((sub, events, start))
    # Every stream gets its own additions, interleaved across streams.
    for i in range(adds):
        await asyncio.gather(*(sub.publish({"add": k * 10 + i + 1}) for k, (sub, _, _) in enumerate(subs)))
    matched = mismatched = 0
    for k, (sub, events, start) in enumerate(subs):
        try:
            await events.until(lambda: len(events.items) >= adds, timeout)
        except asyncio.TimeoutError:
            pass
        want, total = [], start
        for i in range(adds):
            total += k * 10 + i + 1
            want.append({"total": total, "adds": i + 1, "refused": 0})
        if events.items == want:
            matched += 1
        else:
            mismatched += 1
            print(f"stream tally:{c}-{k}: got {events.items[:3]}..., want {want[:3]}...", file=sys.stderr)
    await client.disconnect()
    return {"matched": matched, "mismatched": mismatched}


async def many(script: dict[str, Any]) -> dict[str, Any]:
    results = await asyncio.gather(
        *(
            one_client(script["url"], token, c, script["streams"], script["adds"], script["timeout"])
            for c, token in enumerate(script["tokens"])
        )
    )
    return {
        "matched": sum(r["matched"] for r in results),
        "mismatched": sum(r["mismatched"] for r in results),
    }


async def restart(script: dict[str, Any]) -> dict[str, Any]:
    timeout = script["timeout"]
    client = Client(script["url"], token=script["tokens"][0], timeout=timeout)
    await client.connect()
    events = Collect()
    sub = client.new_subscription("tally:r", events, data={"start": 100})
    await sub.subscribe()
    report: dict[str, Any] = {"rounds": []}
    for round_ in range(script["rounds"] + 1):
        if round_ > 0:
            print("READY", flush=True)
            # The test restarts a server, then sends a line.
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            subscribed_before = round_
            await events.until(lambda: events.subscribed > subscribed_before, timeout)
        # A new stream starts from `start` again: publish and read its total back.
        seen = len(events.items)
        await sub.publish({"add": round_ + 1})
        await events.until(lambda: len(events.items) > seen, timeout)
        report["rounds"].append({"total": events.items[-1]["total"], "subscribed": events.subscribed})
    report["unsubscribed"] = events.unsubscribed
    await client.disconnect()
    return report


async def slow(script: dict[str, Any]) -> dict[str, Any]:
    """Subscribes with a raw WebSocket that then stops reading, until stdin says stop."""
    import websockets

    async with websockets.connect(script["url"], max_queue=1, max_size=None) as ws:
        await ws.send(json.dumps({"id": 1, "connect": {"token": script["tokens"][0]}}))
        await ws.recv()
        await ws.send(
            json.dumps({"id": 2, "subscribe": {"channel": "watch:count", "data": {"count": 10_000_000}}})
        )
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return {"ok": True}


class Incarnations(Collect):
    """Items grouped by the stream that sent them: a new group at every (re)subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[list[Any]] = []

    async def on_subscribed(self, ctx: SubscribedContext) -> None:
        self.groups.append([])
        await super().on_subscribed(ctx)

    async def on_publication(self, ctx: PublicationContext) -> None:
        if not self.groups:
            self.groups.append([])
        self.groups[-1].append(ctx.pub.data)
        await super().on_publication(ctx)


async def fault(script: dict[str, Any]) -> dict[str, Any]:
    """`streams` tally streams per client, each fed one addition every 50 ms while the test
    breaks the link (after READY) and heals it (then a line on stdin); then 2 s more. Checks
    that no item reached the wrong stream (every total lies in its own stream's range), that
    none was lost inside one stream (`adds` counts 1, 2, 3… without a gap per incarnation),
    and that every stream delivers again after the heal."""
    timeout = script["timeout"]
    clients, subs = [], []
    for c, token in enumerate(script["tokens"]):
        client = Client(script["url"], token=token, timeout=timeout)
        await client.connect()
        clients.append(client)
        for k in range(script["streams"]):
            events = Incarnations()
            base = (c * script["streams"] + k) * 1_000_000
            sub = client.new_subscription(f"tally:f{c}-{k}", events, data={"start": base})
            await sub.subscribe()
            subs.append((sub, events, base))
    publish_errors = 0
    stop = asyncio.Event()

    async def feed() -> None:
        nonlocal publish_errors
        while not stop.is_set():
            for sub, _, _ in subs:
                try:
                    await asyncio.wait_for(sub.publish({"add": 1}), 0.5)
                except Exception:  # noqa: BLE001 - a broken link refuses publications; counted
                    publish_errors += 1
            await asyncio.sleep(0.05)

    feeder = asyncio.create_task(feed())
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    healed_marks = [len(events.items) for _, events, _ in subs]
    healed = asyncio.get_running_loop().time()

    def all_back() -> bool:
        return all(len(events.items) > mark for (_, events, _), mark in zip(subs, healed_marks))

    # Wait for every stream to deliver again (SDK resubscribe backoff grows during a long fault;
    # the bound only keeps a bug from hanging the test), then feed 1 s more.
    while not all_back() and asyncio.get_running_loop().time() - healed < script["recover_within"]:
        await asyncio.sleep(0.05)
    recovery_s = asyncio.get_running_loop().time() - healed
    await asyncio.sleep(1.0)
    stop.set()
    await feeder
    crossed = gaps = recovered = 0
    incarnations = 0
    for (_, events, base), mark in zip(subs, healed_marks):
        incarnations += len(events.groups)
        for group in events.groups:
            crossed += sum(1 for t in group if not base <= t["total"] < base + 1_000_000)
            adds = [t["adds"] for t in group]
            gaps += sum(1 for i, a in enumerate(adds) if a != i + 1)
        recovered += len(events.items) > mark
    for client in clients:
        await client.disconnect()
    return {
        "streams": len(subs),
        "crossed": crossed,
        "gaps": gaps,
        "recovered": recovered,
        "resubscribes": incarnations - len(subs),
        "publish_errors": publish_errors,
        "recovery_s": round(recovery_s, 2),
    }


SCENARIOS = {"many": many, "restart": restart, "slow": slow, "fault": fault}


def main() -> None:
    script = json.loads(sys.stdin.readline())
    report = asyncio.run(SCENARIOS[script["scenario"]](script))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
