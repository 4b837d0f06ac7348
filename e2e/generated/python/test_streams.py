"""End-to-end test of the generated Python client's streams and typed channels against the
example app behind Centrifugo.

Usage: python test_streams.py WS_URL TOKEN METRICS_URL API_URL API_KEY
(the token is for user "42"; METRICS_URL is the app's Prometheus endpoint, API_URL and API_KEY
Centrifugo's server API; the generated package must be importable as `opensdk.python`).

Prints one line per check and a summary; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import traceback
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from centrifuge import ClientEventHandler, ReplyError
from opensdk.python import (
    APIClient,
    CentrifugoRPCClient,
    ChatMessage,
    ChatPost,
    Count,
    CountParams,
    CreateTaskParams,
    ProcessParams,
    Progress,
    PublishingSubscription,
    RPCDisconnectedError,
    RPCError,
    RPCResultError,
    Subscription,
    Tally,
    TallyAdd,
    TallyParams,
    TaskEventCreatedVariant,
    WatchTasks,
)
from pydantic import ValidationError

USER = "42"


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def check(self, name: str, ok: bool, detail: Any = "") -> None:
        if ok:
            self.passed += 1
            print(f"PASS {name}")
        else:
            self.failed.append(name)
            print(f"FAIL {name}: {detail}")

    def equal(self, name: str, got: Any, want: Any) -> None:
        self.check(name, got == want, f"got {got!r}, want {want!r}")

    async def error(self, name: str, call: Awaitable[Any], code: int) -> RPCError | None:
        try:
            result = await call
        except RPCError as e:
            self.check(name, e.code == code, f"got {e!r}, want code {code}")
            return e
        self.check(name, False, f"no error, got {result!r}")
        return None

    async def run(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        try:
            await asyncio.wait_for(body(), 60)
        except Exception:  # reported as a failure
            self.check(f"{name}: no unexpected exception", False, traceback.format_exc())


def metric(text: str, name: str, labels: dict[str, str]) -> float | None:
    """The value of one series in Prometheus text, or None when absent."""
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if got == labels:
            return float(m.group(4))
    return None


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


def server_publish(api_url: str, api_key: str, channel: str, data: Any) -> None:
    body = json.dumps({"channel": channel, "data": data}).encode()
    request = urllib.request.Request(
        f"{api_url}/publish",
        data=body,
        headers={"X-API-Key": api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        reply = json.loads(r.read())
    if "error" in reply:
        raise RuntimeError(f"server API publish failed: {reply}")


async def take(sub: Subscription[Any], n: int, timeout: float = 10.0) -> list[Any]:
    """The next n items of an open subscription."""
    out = []
    for _ in range(n):
        out.append(await asyncio.wait_for(anext(sub), timeout))
    return out


class ConnectionEvents(ClientEventHandler):  # type: ignore[misc, unused-ignore]
    """The application's own handler, which the generated client passes events on to."""

    def __init__(self) -> None:
        self.connecting: list[tuple[int, str]] = []

    async def on_connecting(self, ctx: Any) -> None:
        print(f"connecting: {ctx.code} {ctx.reason}", flush=True)
        self.connecting.append((ctx.code, ctx.reason))


async def main(url: str, token: str, metrics_url: str, api_url: str, api_key: str) -> int:
    c = Checks()
    connection = ConnectionEvents()

    async with CentrifugoRPCClient(url, token, timeout=5.0, events=connection) as rpc:
        api = APIClient(rpc)
        client = rpc.client

        async def metrics_until(
            name: str, want: list[tuple[str, dict[str, str], float]]
        ) -> list[float | None]:
            """Polls the app's metrics (staying connected with system.whoami) until each series
            has its value, for at most 10 s; returns the last values."""
            deadline = time.monotonic() + 10
            while True:
                await api.system_whoami()
                text = await asyncio.to_thread(fetch, metrics_url)
                got = [metric(text, n, labels) for n, labels, _ in want]
                if all(g == v for g, (_, _, v) in zip(got, want, strict=True)):
                    break
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            for g, (n, labels, v) in zip(got, want, strict=True):
                c.equal(f"{name}: {n}{labels}", g, v)
            if got != [v for _, _, v in want]:
                print("\n".join(line for line in text.splitlines() if "watch:count" in line))
            return got

        async def count_ends() -> None:
            items = [item async for item in api.watch_count(CountParams(from_=5, count=50))]
            c.equal(
                "watch:count: items 5..54 in order",
                [i.n for i in items],
                list(range(5, 55)),
            )
            c.check(
                "watch:count: items are typed Count",
                all(isinstance(i, Count) for i in items),
                {type(i) for i in items},
            )
            c.equal("watch:count: the subscriber", {i.user for i in items}, {USER})
            c.equal("watch:count: the subscription is removed", client.subscriptions(), {})

        async def count_refused() -> None:
            stream = api.watch_count(CountParams(count=20_000_000))
            try:
                async for item in stream:
                    c.check("watch:count refused: no item", False, item)
            except RPCError as e:
                c.equal("watch:count refused: RPCError 422", e.code, 422)
                c.check("watch:count refused: the message", "count" in e.message, e.message)
            else:
                c.check("watch:count refused: raises", False, "the iteration ended")
            c.equal(
                "watch:count refused: the subscription is removed",
                client.subscriptions(),
                {},
            )
            # The same stream again: no duplicate subscription.
            again = [i.n async for i in api.watch_count(CountParams(count=3))]
            c.equal("watch:count after a refusal: works again", again, [0, 1, 2])
            # async with raises the refusal too.
            try:
                async with api.watch_count(CountParams(count=3, interval_ms=20_000)):
                    c.check("async with: refused", False, "entered")
            except RPCError as e:
                c.equal("async with: refusal raises RPCError 422", e.code, 422)

        async def count_break() -> None:
            got = []
            async for item in api.watch_count(CountParams(count=1_000_000, interval_ms=10)):
                got.append(item.n)
                if len(got) == 3:
                    break
            c.equal("watch:count early exit: 3 items", got, [0, 1, 2])
            await metrics_until(
                "break: the server saw the cancellation",
                [
                    (
                        "centrpc_calls_total",
                        {
                            "kind": "stream",
                            "method": "watch:count",
                            "outcome": "cancelled",
                        },
                        1,
                    ),
                    ("centrpc_streams_active", {"stream": "watch:count"}, 0),
                ],
            )
            c.equal("break: the subscription is removed", client.subscriptions(), {})

            # aclose(), and cancelling the task iterating, leave the stream as well. Each waits
            # until the server saw the cancellation before the channel is subscribed again
            # (Centrifugo may otherwise end the new subscription with 2500 when the old
            # stream's end reaches it: see the report).
            async def cancelled(name: str, n: int) -> None:
                await metrics_until(
                    name,
                    [
                        (
                            "centrpc_calls_total",
                            {"kind": "stream", "method": "watch:count", "outcome": "cancelled"},
                            n,
                        ),
                        ("centrpc_streams_active", {"stream": "watch:count"}, 0),
                    ],
                )

            stream = api.watch_count(CountParams(count=1_000_000, interval_ms=10))
            c.equal("aclose: first item", (await anext(stream)).n, 0)
            await stream.aclose()
            c.equal("aclose: the subscription is removed", client.subscriptions(), {})
            c.check("aclose: then the iteration is over", await anext(stream, None) is None)
            await cancelled("aclose: the server saw the cancellation", 2)

            started = asyncio.Event()

            async def consume() -> None:
                async for _ in api.watch_count(CountParams(count=1_000_000, interval_ms=10)):
                    started.set()

            held = asyncio.Event()

            async def consume_held() -> None:
                # Held in a variable as well: the cancellation still leaves the stream.
                stream = api.watch_count(CountParams(count=1_000_000, interval_ms=10))
                async for _ in stream:
                    held.set()

            for n, (body, running) in enumerate(((consume, started), (consume_held, held))):
                task = asyncio.create_task(body())
                await asyncio.wait_for(running.wait(), 10)
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                await cancelled(f"cancel {body.__name__}: the server saw the cancellation", 3 + n)
            c.equal("cancel: the subscription is removed", client.subscriptions(), {})
            again = [i.n async for i in api.watch_count(CountParams(from_=7, count=2))]
            c.equal("watch:count after a cancellation: works again", again, [7, 8])

        async def tally() -> None:
            t = api.tally("k1", TallyParams(start=10))
            c.check(
                "tally: a PublishingSubscription",
                isinstance(t, PublishingSubscription),
                t,
            )
            async with t as stream:
                c.equal("tally: the channel", stream.channel, "tally:k1")
                await stream.publish(TallyAdd(add=5))
                first = await take(stream, 1)
                await stream.publish(TallyAdd(add=-2))
                second = await take(stream, 1)
            c.equal("tally: totals 15 then 13", [x.total for x in first + second], [15, 13])
            c.check(
                "tally: items are Tally",
                all(isinstance(x, Tally) for x in first + second),
            )
            c.equal("tally: adds", [x.adds for x in first + second], [1, 2])
            c.equal("tally: the subscription is removed", client.subscriptions(), {})

        async def watch_tasks() -> None:
            async with api.watch_tasks(WatchTasks(owner=USER)) as events:
                try:
                    early = await asyncio.wait_for(anext(events), 0.3)
                    c.check("watch:tasks: no event yet", False, early)
                except TimeoutError:
                    c.check("watch:tasks: a timed-out wait for an item", True)
                created = [
                    await api.tasks_create(CreateTaskParams(title=f"watched {i}")) for i in range(3)
                ]
                got = await take(events, 3)
            c.check(
                "watch:tasks: 3 created events",
                all(isinstance(e, TaskEventCreatedVariant) for e in got),
                got,
            )
            c.equal(
                "watch:tasks: in order, the created tasks",
                [(e.task.id, e.task.title) for e in got if isinstance(e, TaskEventCreatedVariant)],
                [(t.id, t.title) for t in created],
            )
            # Params whose fields are all left out are sent as `{}` (centrifuge-python leaves
            # empty subscribe data out), after the server has ended the first stream.
            await metrics_until(
                "watch:tasks: the server ended the stream",
                [
                    (
                        "centrpc_calls_total",
                        {"kind": "stream", "method": "watch:tasks", "outcome": "cancelled"},
                        1,
                    ),
                    ("centrpc_streams_active", {"stream": "watch:tasks"}, 0),
                ],
            )
            async with api.watch_tasks(WatchTasks()) as events:
                task = await api.tasks_create(CreateTaskParams(title="anyone's"))
                (event,) = await take(events, 1)
            c.check(
                "watch:tasks with empty params: the event",
                isinstance(event, TaskEventCreatedVariant) and event.task.id == task.id,
                event,
            )

        async def chat() -> None:
            async with api.subscribe_chat("room1") as room:
                await api.publish_chat("room1", ChatMessage(text="hi"))
                (post,) = await take(room, 1)
                c.equal("chat: the post", post, ChatPost(text="hi", from_=USER))
                await room.publish(ChatMessage(text="  again  "))
                (post,) = await take(room, 1)
                c.equal("chat: publish on the subscription (trimmed)", post.text, "again")
                await c.error(
                    "chat: a refused value → RPCError 1422",
                    api.publish_chat("room1", ChatMessage(text="")),
                    1422,
                )
                try:
                    await client.publish("chat:room1", {"text": 5})
                    c.check("chat: a wrongly shaped value → 422", False, "published")
                except ReplyError as e:
                    c.equal("chat: a wrongly shaped value → 422", e.code, 422)
                    c.check("chat: 422 names the field", "text" in e.message, e.message)
                await c.error(
                    "chat: a wrongly shaped value through rpc.publish → RPCError 422",
                    rpc.publish("chat:room1", {"txt": "x"}),
                    422,
                )

        async def user_channels() -> None:
            async with (
                api.subscribe_tasks(USER) as tasks,
                api.subscribe_progress(USER) as progress,
            ):
                c.equal(
                    "channels: names",
                    (tasks.channel, progress.channel),
                    (f"tasks:{USER}", f"#{USER}"),
                )
                task = await api.tasks_create(CreateTaskParams(title="on my channel"))
                (event,) = await take(tasks, 1)
                c.check(
                    "tasks:<user>: a created TaskEvent",
                    isinstance(event, TaskEventCreatedVariant) and event.task.id == task.id,
                    event,
                )
                r = await api.tasks_process(ProcessParams(steps=3))
                c.equal("tasks.process: the channel", r.channel, f"#{USER}")
                got = await take(progress, 3)
                c.equal(
                    "#<user>: Progress items",
                    got,
                    [Progress(step=i, of=3) for i in (1, 2, 3)],
                )
                # A publication that does not fit the declared type is an error, not a value.
                await asyncio.to_thread(
                    server_publish, api_url, api_key, f"tasks:{USER}", {"type": "bogus"}
                )
                try:
                    value = await asyncio.wait_for(anext(tasks), 10)
                    c.check("tasks:<user>: an undecodable publication raises", False, value)
                except RPCResultError as e:
                    c.check("tasks:<user>: an undecodable publication raises", True)
                    c.check(
                        "tasks:<user>: RPCResultError code 30 from a ValidationError",
                        e.code == 30
                        and not e.temporary
                        and isinstance(e.__cause__, ValidationError),
                        repr(e),
                    )
            await c.error(
                "tasks:<other>: refused → RPCError 1403",
                anext(api.subscribe_tasks("someone-else")),
                1403,
            )
            c.equal("channels: every subscription is removed", client.subscriptions(), {})

        async def across_a_restart() -> None:
            """The app restarts under a watch:tasks stream: the stream ends with an error (2500),
            the SDK resubscribes by itself, and the iteration goes on with the new stream."""
            async with api.watch_tasks(WatchTasks(owner=USER)) as events:
                task = await api.tasks_create(CreateTaskParams(title="before the restart"))
                (event,) = await take(events, 1)
                c.check(
                    "restart: an event before",
                    isinstance(event, TaskEventCreatedVariant) and event.task.id == task.id,
                    event,
                )
                print("RESTART APP", flush=True)
                line = await asyncio.to_thread(sys.stdin.readline)
                c.equal("restart: the app restarted", line.strip(), "restarted")
                # Until the SDK has resubscribed, a new task's event may be missed: create
                # tasks until one comes; it must be one created after the restart.
                created: list[int] = []
                got: Any = None
                deadline = time.monotonic() + 20
                while got is None and time.monotonic() < deadline:
                    try:
                        created.append((await api.tasks_create(CreateTaskParams(title="after"))).id)
                    except RPCError:
                        await asyncio.sleep(0.2)
                        continue
                    try:
                        got = await asyncio.wait_for(anext(events), 1.0)
                    except TimeoutError:
                        pass
                c.check(
                    "restart: the iteration goes on with the resubscribed stream",
                    isinstance(got, TaskEventCreatedVariant)
                    and got.task.id in created
                    and got.task.title == "after",
                    (got, created),
                )
                c.equal(
                    "restart: still one subscription", list(client.subscriptions()), ["watch:tasks"]
                )

        for name, body in [
            ("count ends", count_ends),
            ("count refused", count_refused),
            ("count break", count_break),
            ("tally", tally),
            ("watch tasks", watch_tasks),
            ("chat", chat),
            ("user channels", user_channels),
            ("across a restart", across_a_restart),
        ]:
            await c.run(name, body)

    async def other_clients() -> None:
        # The protobuf protocol: params, items and publications still travel as JSON.
        async with CentrifugoRPCClient(url, token, use_protobuf=True) as proto:
            papi = APIClient(proto)
            got = [i.n async for i in papi.watch_count(CountParams(from_=1, count=3))]
            c.equal("use_protobuf: stream items", got, [1, 2, 3])
            async with papi.subscribe_chat("proto") as room:
                await papi.publish_chat("proto", ChatMessage(text="binary"))
                (post,) = await take(room, 1)
            c.equal("use_protobuf: chat post", post, ChatPost(text="binary", from_=USER))
            await c.error(
                "use_protobuf: a refused publication",
                papi.publish_chat("proto", ChatMessage(text=" ")),
                1422,
            )

        # The connection closed for good under an open stream: the iteration raises.
        closing = CentrifugoRPCClient(url, token)
        await closing.connect()
        stream = APIClient(closing).watch_count(CountParams(count=1_000_000, interval_ms=10))
        c.equal("disconnect: first item", (await anext(stream)).n, 0)
        await closing.disconnect()
        try:
            while True:
                await asyncio.wait_for(anext(stream), 5)
        except RPCDisconnectedError as e:
            c.equal("disconnect: RPCDisconnectedError, not temporary", e.temporary, False)
        c.equal("disconnect: the subscription is removed", closing.client.subscriptions(), {})
        await c.error(
            "disconnect: a new stream on the closed client raises",
            anext(APIClient(closing).watch_count(CountParams(count=1))),
            3,
        )

    await c.run("other clients", other_clients)

    total = c.passed + len(c.failed)
    if c.failed:
        print(f"\nFAILED {len(c.failed)} of {total} checks:")
        for name in c.failed:
            print(f"  - {name}")
        return 1
    print(f"\nOK: all {total} checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
