"""centrpc e2e driver for centrifuge-python: reads a script (JSON) on stdin, prints a report.

See ../DRIVER.md for the protocol.
"""

import asyncio
import json
import sys
from typing import Any

from centrifuge import (
    Client,
    ClientEventHandler,
    DisconnectedContext,
    PublicationContext,
    ReplyError,
    ServerPublicationContext,
    SubscriptionErrorContext,
    SubscriptionEventHandler,
    UnsubscribedContext,
)


class Inbox:
    """Publications received, per channel, with a way to wait for the n-th one."""

    def __init__(self) -> None:
        self.items: dict[str, list[Any]] = {}
        self.changed = asyncio.Condition()

    async def put(self, channel: str, data: Any) -> None:
        async with self.changed:
            self.items.setdefault(channel, []).append(data)
            self.changed.notify_all()

    async def wait(self, channel: str, count: int, timeout: float) -> list[Any]:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.items.get(channel, [])) >= count), timeout
            )
            return self.items[channel][:count]


def error(e: BaseException) -> dict[str, Any]:
    if isinstance(e, ReplyError):
        return {"error": {"code": e.code, "message": e.message, "temporary": e.temporary}}
    return {"error": {"code": -1, "message": f"{type(e).__name__}: {e}", "temporary": False}}


class Events(ClientEventHandler):
    def __init__(self, inbox: Inbox, disconnects: list[dict[str, Any]]) -> None:
        self.inbox = inbox
        self.disconnects = disconnects

    async def on_disconnected(self, ctx: DisconnectedContext) -> None:
        if ctx.code >= 3000:
            self.disconnects.append({"code": ctx.code, "reason": ctx.reason})

    async def on_publication(self, ctx: ServerPublicationContext) -> None:
        await self.inbox.put(ctx.channel, ctx.pub.data)


class KeptDict(dict):
    def __bool__(self) -> bool:
        return True


def kept(data: Any) -> Any:
    """centrifuge-python leaves falsy subscribe data out of the command (the other SDKs send
    `{}`): an empty object is sent as such, as by the other drivers."""
    if isinstance(data, dict) and not data:
        return KeptDict()
    return data


class SubState:
    """What happened to one subscription: its unsubscribed events and how often the SDK
    subscribed it again after it had been subscribed, each with how many the script has seen."""

    def __init__(self) -> None:
        self.changed = asyncio.Condition()
        self.unsubscribed: list[dict[str, Any]] = []
        self.unsubscribed_seen = 0
        self.was_subscribed = False
        self.left = False
        self.resubscribed = 0
        self.resubscribed_seen = 0

    async def note(self, update: Any) -> None:
        async with self.changed:
            update()
            self.changed.notify_all()

    async def next_unsubscribed(self, timeout: float) -> dict[str, Any]:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.unsubscribed) > self.unsubscribed_seen), timeout
            )
            self.unsubscribed_seen += 1
            return self.unsubscribed[self.unsubscribed_seen - 1]

    async def next_resubscribed(self, timeout: float) -> None:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: self.resubscribed > self.resubscribed_seen), timeout
            )
            self.resubscribed_seen += 1


class SubEvents(SubscriptionEventHandler):
    def __init__(
        self, channel: str, inbox: Inbox, outcome: "asyncio.Future[dict[str, Any]]", state: SubState
    ) -> None:
        self.channel = channel
        self.inbox = inbox
        self.outcome = outcome
        self.state = state

    async def on_subscribing(self, ctx: Any) -> None:
        def update() -> None:
            if self.state.was_subscribed:
                self.state.left = True

        await self.state.note(update)

    async def on_subscribed(self, ctx: Any) -> None:
        def update() -> None:
            if self.state.left:
                self.state.resubscribed += 1
                self.state.left = False
            self.state.was_subscribed = True

        await self.state.note(update)
        if not self.outcome.done():
            self.outcome.set_result({"ok": True})

    async def on_error(self, ctx: SubscriptionErrorContext) -> None:
        if not self.outcome.done():
            self.outcome.set_result(error(ctx.error))

    async def on_unsubscribed(self, ctx: UnsubscribedContext) -> None:
        def update() -> None:
            self.state.unsubscribed.append({"code": ctx.code, "reason": ctx.reason})
            if self.state.was_subscribed:
                self.state.left = True

        await self.state.note(update)
        if not self.outcome.done():
            self.outcome.set_result({"error": {"code": ctx.code, "message": ctx.reason, "temporary": False}})

    async def on_publication(self, ctx: PublicationContext) -> None:
        await self.inbox.put(self.channel, ctx.pub.data)


def new_client(script: dict[str, Any], events: ClientEventHandler | None = None) -> Client:
    return Client(
        script["url"],
        events=events,
        token=script.get("token") or "",
        data=script.get("connect_data"),
        headers=script.get("headers") or None,
        timeout=script.get("timeout", 5.0),
    )


async def rpc_many(script: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    clients = [new_client(script) for _ in range(op["clients"])]
    for c in clients:
        await c.connect()

    async def one(ci: int, i: int) -> tuple[bool, dict[str, Any] | None]:
        sent = {"client": ci, "call": i}
        try:
            reply = await clients[ci].rpc(op["method"], sent)
            return reply.data == sent, None
        except Exception as e:  # noqa: BLE001 - every failure is reported
            return False, error(e)["error"]

    outcomes = await asyncio.gather(*(one(ci, i) for ci in range(len(clients)) for i in range(op["calls"])))
    for c in clients:
        await c.disconnect()
    errors = [e for ok, e in outcomes if e is not None]
    matched = sum(1 for ok, _ in outcomes if ok)
    return {"ok": {"matched": matched, "mismatched": len(outcomes) - matched - len(errors), "errors": errors[:5]}}


async def run(script: dict[str, Any]) -> dict[str, Any]:
    timeout = float(script.get("timeout", 5.0))
    inbox = Inbox()
    disconnects: list[dict[str, Any]] = []
    client = new_client(script, Events(inbox, disconnects))
    await client.connect()
    try:
        await client.ready(timeout)
        connected = True
    except Exception:  # noqa: BLE001 - the report says it
        connected = False
    results: list[dict[str, Any]] = []
    states: dict[str, SubState] = {}
    timed_out = {"error": {"code": -1, "message": "timeout", "temporary": False}}
    for op in script["ops"]:
        if not connected:
            results.append({"error": {"code": -2, "message": "not connected", "temporary": False}})
            continue
        kind = op["op"]
        try:
            if kind == "rpc":
                reply = await client.rpc(op["method"], op.get("data"), timeout=timeout)
                results.append({"ok": reply.data})
            elif kind == "subscribe":
                outcome: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                state = states[op["channel"]] = SubState()
                sub = client.new_subscription(
                    op["channel"],
                    events=SubEvents(op["channel"], inbox, outcome, state),
                    data=kept(op.get("data")),
                )
                await sub.subscribe()
                results.append(await asyncio.wait_for(outcome, timeout))
            elif kind == "unsubscribe":
                sub = client.get_subscription(op["channel"])
                if sub is None:
                    results.append(
                        {"error": {"code": -1, "message": f"not subscribed to {op['channel']}", "temporary": False}}
                    )
                    continue
                await sub.unsubscribe()
                client.remove_subscription(sub)
                results.append({"ok": True})
            elif kind in ("wait_unsubscribed", "wait_resubscribed"):
                state = states.get(op["channel"])
                if state is None:
                    results.append(
                        {"error": {"code": -1, "message": f"not subscribed to {op['channel']}", "temporary": False}}
                    )
                    continue
                try:
                    if kind == "wait_unsubscribed":
                        results.append({"ok": await state.next_unsubscribed(timeout)})
                    else:
                        await state.next_resubscribed(timeout)
                        results.append({"ok": True})
                except asyncio.TimeoutError:
                    results.append(timed_out)
            elif kind == "publish":
                await client.publish(op["channel"], op.get("data"), timeout=timeout)
                results.append({"ok": True})
            elif kind == "wait_publications":
                try:
                    got = await inbox.wait(op["channel"], op["count"], timeout)
                    results.append({"ok": got})
                except asyncio.TimeoutError:
                    results.append(timed_out)
            elif kind == "rpc_many":
                results.append(await rpc_many(script, op))
            elif kind == "sleep":
                await asyncio.sleep(op["ms"] / 1000)
                results.append({"ok": True})
            else:
                results.append({"error": {"code": -3, "message": f"unknown op {kind}", "temporary": False}})
        except Exception as e:  # noqa: BLE001 - every failure is reported
            results.append(error(e))
    await asyncio.sleep(0.05)  # let a pending disconnect event land
    await client.disconnect()
    return {"connected": connected, "results": results, "disconnects": disconnects}


def main() -> None:
    script = json.load(sys.stdin)
    report = asyncio.run(run(script))
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
