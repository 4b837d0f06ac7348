"""End-to-end test of the generated Python client against the example app behind Centrifugo.

Usage: python test_generated.py WS_URL TOKEN SAMPLES
(the token is for user "42" with meta {"plan": "e2e"}; the generated package must be importable
as `opensdk.python`, i.e. the directory holding `opensdk/` is on PYTHONPATH; SAMPLES is the JSON
file of the zero, minimal and maximal sample of every named type with what `types.echo` answers
to each, `[{"type", "sample", "value", "expected"}]`, which the Rust test writes from the code
generator's samples).

Calls every method of the example through the typed APIClient (and the low-level `call`), checks
results and typed errors, prints one line per check and a summary; exits 1 on any failure.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from centrifuge import PublicationContext, SubscriptionEventHandler
from pydantic import TypeAdapter, ValidationError
from opensdk.python import (
    APIClient,
    AppErrorCode,
    CentrifugoRPCClient,
    Color,
    Command,
    CommandRenameVariant,
    CommandStop,
    CommandStopVariant,
    CreateTaskParams,
    ErrorCode,
    EventInput,
    EventInputCreatedVariant,
    EventInputDeleted,
    EventInputDeletedVariant,
    EventInputPingVariant,
    Everything,
    EverythingInput,
    DEFAULT_TIMEOUT,
    FailParams,
    FailureKind,
    FlakyParams,
    InnerInput,
    Login,
    PageInnerInput,
    PageStringInput,
    ProcessParams,
    RPCDisconnectedError,
    RPCError,
    RPCResultError,
    RPCTimeoutError,
    RetryPolicy,
    Scalar,
    Shape,
    ShapeCircle,
    ShapeEmpty,
    ShapeRect,
    SlowParams,
    TaskRef,
    TaskStatsParams,
    TypedValue,
    TypedValueInput,
    connect_data,
)

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1


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

    async def error(
        self,
        name: str,
        call: Awaitable[Any],
        code: int,
        message: str | None = None,
        temporary: bool | None = None,
        kind: type[RPCError] = RPCError,
    ) -> RPCError | None:
        try:
            result = await call
        except RPCError as e:
            ok = (
                type(e) is kind
                and e.code == code
                and (message is None or e.message == message)
                and (temporary is None or e.temporary == temporary)
            )
            self.check(
                name,
                ok,
                f"got {type(e).__name__}({e.code}, {e.message!r}, temporary={e.temporary}), "
                f"want {kind.__name__}({code}, {message!r}, temporary={temporary})",
            )
            return e
        self.check(name, False, f"no error, got {result!r}")
        return None

    async def run(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        """Runs a group of checks; an unexpected exception fails the group."""
        try:
            await body()
        except Exception:  # reported as a failure
            self.check(f"{name}: no unexpected exception", False, traceback.format_exc())


def same_json(a: Any, b: Any) -> bool:
    """JSON equality that, unlike `==`, tells a bool from an int and an int from a float."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return bool(a == b)


class Inbox(SubscriptionEventHandler):
    def __init__(self) -> None:
        self.items: list[Any] = []

    async def on_publication(self, ctx: PublicationContext) -> None:
        self.items.append(ctx.pub.data)


def everything(case: int) -> EverythingInput:
    """Values covering every construct; `case` rotates the enum variants."""
    shapes: list[Shape] = [ShapeCircle(radius=1.5), ShapeRect(w=2.0, h=0.25), ShapeEmpty()]
    events: list[EventInput] = [
        EventInputCreatedVariant(data=InnerInput(label="created", weight=0.5)),
        EventInputDeletedVariant(data=EventInputDeleted(id=U64_MAX)),
        EventInputPingVariant(),
    ]
    commands: list[Command] = [
        "Start",
        CommandStopVariant(stop=CommandStop(force=True)),
        CommandRenameVariant(rename="new name"),
    ]
    scalars: list[Scalar] = [2.5, "3", ["a", "b"]]
    colors: list[Color] = ["red", "dark_blue", "red"]
    # Left unset in case 0 (and so left out of the request and the reply).
    optional: dict[str, Any] = {"omitted_when_none": "present"} if case else {}
    return EverythingInput(
        **optional,
        text=f'case {case}: héllo "quoted" \\ 😀',
        count=[2147483647, -2147483648, 0][case],
        ratio=[0.1, 1e300, -2.5][case],
        flag=case % 2 == 0,
        big_signed=[I64_MAX, I64_MIN, -1][case],
        big_unsigned=[U64_MAX, 0, 2**53 + 1][case],
        maybe=[None, "something", None][case],
        with_default=[7, 0, 4294967295][case],
        tags=[[], ["one"], ["a", "b", "c"]][case],
        scores=[{}, {"a": 1.5}, {"x": -2.0, "y": 1e-9}][case],
        by_id=[{7: "seven", 0: "zero", 4294967295: "max"}, {}, {1: ""}][case],
        by_offset=[{-3: -1.5, 2**40: 2.5, I64_MIN: 0.0, I64_MAX: 1e-9}, {0: 1.0}, {}][case],
        by_color=[{"red": 1, "dark_blue": 4294967295}, {}, {"dark_blue": 0}][case],
        nested=InnerInput(label=f"nested {case}", weight=[None, 1.0, 3.25][case]),
        items=[InnerInput(label="i", weight=0.0), InnerInput(label="j", weight=None)][: case + 1],
        color=colors[case],
        shape=shapes[case],
        event=events[case],
        command=commands[case],
        scalar=scalars[case],
        id=[1, U64_MAX, 42][case],
        when=[
            datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=timezone.utc),
            datetime(1970, 1, 1, tzinfo=timezone.utc),
            datetime(2030, 12, 31, 23, 59, 59, 1, tzinfo=timezone.utc),
        ][case],
        uuid=[
            uuid.UUID("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            uuid.UUID(int=0),
            uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"),
        ][case],
        extra=[
            {"nested": [1, 2.5, None, True, "x", {"big": U64_MAX, "neg": I64_MIN}]},
            None,
            ["any", {"json": "value"}],
        ][case],
        from_=f"sender {case}",
        type_=f"type {case}",
        bytes_=[[], [0, 1, 127, 128, 255], list(b"\x00bytes\xff")][case],
        maybe_bytes=[None, [], [7]][case],
        # None is a value of its own: the server's default (3) is for a left-out key.
        nullable_default=[None, 5, 0][case],
        # Two instantiations of the generic `Page`, named after their arguments.
        inner_page=PageInnerInput(
            items=[InnerInput(label="paged", weight=0.5)][:case],
            next_cursor=[None, "c1", ""][case],
        ),
        word_page=PageStringInput(items=[[], ["w"], ["w", ""]][case], next_cursor=[None, None, "next"][case]),
    )


async def main(url: str, token: str, cases: list[dict[str, Any]]) -> int:
    c = Checks()

    async with CentrifugoRPCClient(url, token, timeout=5.0) as rpc:
        api = APIClient(rpc)

        async def who() -> None:
            me = await api.system_whoami()
            c.equal("system.whoami: user from the token", me.user, "42")
            c.equal("system.whoami: meta from the token (Any)", me.meta, {"plan": "e2e"})
            c.equal("system.whoami: transport", me.transport, "websocket")
            c.check("system.whoami: client id", bool(me.client), me.client)

        async def tasks() -> None:
            stats = await api.tasks_get_stats(TaskStatsParams(user_id="42"))
            c.equal("tasks.get_stats: empty at first", (stats.total, stats.completed), (0, 0))
            task = await api.tasks_create(CreateTaskParams(title="  write the client  "))
            c.equal(
                "tasks.create: the task (title trimmed, owner from the token)",
                (task.title, task.owner, task.done),
                ("write the client", "42", False),
            )
            stats = await api.tasks_get_stats(TaskStatsParams(user_id="42"))
            c.equal("tasks.get_stats: one task", (stats.total, stats.completed), (1, 0))
            done = await api.tasks_complete(TaskRef(id=task.id))
            c.equal("tasks.complete: done", (done.id, done.done), (task.id, True))
            stats = await api.tasks_get_stats(TaskStatsParams(user_id="42"))
            c.equal("tasks.get_stats: one done", (stats.total, stats.completed), (1, 1))
            await c.error(
                "tasks.create: empty title → AppErrorCode.INVALID_TITLE",
                api.tasks_create(CreateTaskParams(title="   ")),
                AppErrorCode.INVALID_TITLE,
                "title must be 1 to 200 characters",
                False,
            )
            await c.error(
                "tasks.complete: unknown id → AppErrorCode.TASK_NOT_FOUND",
                api.tasks_complete(TaskRef(id=U64_MAX)),
                AppErrorCode.TASK_NOT_FOUND,
                "task not found",
                False,
            )
            # Integers carry their Rust type's range: a value the server would refuse (422) is
            # refused when the model is built, for every width and sign.
            for build, value, accepted in [
                (lambda v: TaskRef(id=v), -1, False),
                (lambda v: TaskRef(id=v), U64_MAX + 1, False),
                (lambda v: TaskRef(id=v), 0, True),
                (lambda v: SlowParams(ms=v), -1, False),
            ]:
                try:
                    build(value)
                    c.check(f"integer range: {value} accepted", accepted, "accepted")
                except ValidationError as e:
                    c.check(f"integer range: {value} refused", not accepted, str(e))

        async def failures() -> None:
            await c.error(
                "tasks.fail app → AppErrorCode.DEMO_FAILURE",
                api.tasks_fail(FailParams(kind="app")),
                AppErrorCode.DEMO_FAILURE,
                "demo failure",
                False,
            )
            await c.error(
                "tasks.fail temporary → 1500, temporary",
                api.tasks_fail(FailParams(kind="temporary")),
                1500,
                "demo failure, try again",
                True,
            )
            kinds: list[FailureKind] = ["internal", "panic"]
            for kind in kinds:
                e = await c.error(
                    f"tasks.fail {kind} → 500 internal error",
                    api.tasks_fail(FailParams(kind=kind)),
                    500,
                    "internal error",
                    False,
                )
                if e is not None:
                    c.equal(f"tasks.fail {kind}: ErrorCode.INTERNAL", e.code, ErrorCode.INTERNAL)

        async def slow() -> None:
            r = await api.tasks_slow(SlowParams(ms=50))
            c.equal("tasks.slow: short call succeeds", r.slept_ms, 50)
            started = time.monotonic()
            e = await c.error(
                "tasks.slow: per-call timeout → RPCTimeoutError",
                api.tasks_slow(SlowParams(ms=3000), timeout=0.3),
                1,
                temporary=True,
                kind=RPCTimeoutError,
            )
            elapsed = time.monotonic() - started
            c.check("tasks.slow: timeout fired early", elapsed < 2.0, f"{elapsed:.2f}s")
            c.check("RPCTimeoutError is an RPCError", isinstance(e, RPCError), repr(e))
            again = await api.tasks_slow(SlowParams(ms=1))
            c.equal("tasks.slow: the connection still works after a timeout", again.slept_ms, 1)

        async def process() -> None:
            inbox = Inbox()
            sub = rpc.client.new_subscription("#42", events=inbox)
            await sub.subscribe()
            await sub.ready(5.0)
            r = await api.tasks_process(ProcessParams(steps=3))
            c.equal("tasks.process: result", (r.steps, r.channel), (3, "#42"))
            deadline = time.monotonic() + 5.0
            while len(inbox.items) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            c.equal(
                "tasks.process: progress on #42",
                inbox.items[:3],
                [{"step": i, "of": 3} for i in (1, 2, 3)],
            )
            await sub.unsubscribe()

        async def echo() -> None:
            value = {"a": [1, "x", None, True], "big": U64_MAX, "neg": I64_MIN, "f": 0.1}
            c.equal("system.echo: any JSON", await api.system_echo(value), value)
            c.equal("system.echo: null", await api.system_echo(None), None)
            c.equal("system.echo: a string", await api.system_echo("héllo"), "héllo")
            model = everything(0)
            c.equal(
                "system.echo: a model is sent by wire names",
                await api.system_echo(model),
                model.model_dump(mode="json", by_alias=True, exclude_unset=True),
            )

        async def roundtrip() -> None:
            for case in range(3):
                sent = everything(case)
                got = await api.types_roundtrip(sent)
                wire_sent = sent.model_dump(mode="json", by_alias=True, exclude_unset=True)
                wire_got = got.model_dump(mode="json", by_alias=True, exclude_unset=True)
                # Inner.weight is always present in results; the inputs above set every weight.
                c.equal(f"types.roundtrip case {case}: equal on the wire", wire_got, wire_sent)
                c.equal(f"types.roundtrip case {case}: big_signed", got.big_signed, sent.big_signed)
                c.equal(
                    f"types.roundtrip case {case}: big_unsigned",
                    got.big_unsigned,
                    sent.big_unsigned,
                )
                c.equal(f"types.roundtrip case {case}: when", got.when, sent.when)
                c.equal(f"types.roundtrip case {case}: uuid", got.uuid, sent.uuid)
                c.equal(f"types.roundtrip case {case}: shape", got.shape, sent.shape)
                c.equal(
                    f"types.roundtrip case {case}: event type",
                    type(got.event).__name__,
                    type(sent.event).__name__.replace("EventInput", "Event"),
                )
                c.equal(f"types.roundtrip case {case}: command", got.command, sent.command)
                c.equal(
                    f"types.roundtrip case {case}: scalar (type kept)",
                    (type(got.scalar), got.scalar),
                    (type(sent.scalar), sent.scalar),
                )
                c.equal(f"types.roundtrip case {case}: color", got.color, sent.color)
                # Integer keys are ints in Python and decimal strings on the wire.
                c.equal(f"types.roundtrip case {case}: by_id", got.by_id, sent.by_id)
                c.equal(f"types.roundtrip case {case}: by_offset", got.by_offset, sent.by_offset)
                c.equal(f"types.roundtrip case {case}: by_color", got.by_color, sent.by_color)
                c.check(
                    f"types.roundtrip case {case}: integer keys come back as int",
                    all(type(k) is int for k in [*got.by_id, *got.by_offset]),
                    [*got.by_id, *got.by_offset],
                )
                c.equal(
                    f"types.roundtrip case {case}: integer keys are decimal strings on the wire",
                    sorted(wire_got["byOffset"]),
                    sorted(str(k) for k in sent.by_offset),
                )
                c.equal(f"types.roundtrip case {case}: bytes", got.bytes_, sent.bytes_)
                c.check(
                    f"types.roundtrip case {case}: bytes sent as an array of numbers",
                    wire_sent["bytes"] == list(sent.bytes_)
                    and all(type(b) is int for b in wire_sent["bytes"]),
                    wire_sent["bytes"],
                )
                c.equal(f"types.roundtrip case {case}: from_", got.from_, sent.from_)
                c.equal(f"types.roundtrip case {case}: type_", got.type_, sent.type_)
                c.check(
                    f"types.roundtrip case {case}: result is an Everything",
                    isinstance(got, Everything),
                    type(got),
                )

            c.equal(
                "AppErrorCode: the declared codes",
                {e.name: e.value for e in AppErrorCode},
                {
                    "INVALID_TITLE": 1001,
                    "TASK_NOT_FOUND": 1004,
                    "NOT_YOUR_CHANNEL": 1403,
                    "DEMO_FAILURE": 1500,
                    "FLAKY_FAILURE": 1501,
                    "PUBLISHING_DISABLED": 1503,
                },
            )

            # Read-modify-write: a result goes back as params as it is, modified.
            first = await api.types_roundtrip(everything(1))
            first.text = "modified"
            first.nested.weight = None
            again = await api.types_roundtrip(first)
            c.equal(
                "types.roundtrip of a modified result: equal on the wire",
                again.model_dump(mode="json", by_alias=True, exclude_unset=True),
                first.model_dump(mode="json", by_alias=True, exclude_unset=True),
            )
            c.equal("types.roundtrip of a modified result: text", again.text, "modified")

            # Fields the caller leaves out: the server's defaults come back.
            sparse = EverythingInput(
                text="sparse",
                count=1,
                ratio=3,  # an int for a float field
                flag=False,
                big_signed=0,
                big_unsigned=0,
                tags=[],
                scores={},
                by_id={},
                by_offset={},
                by_color={},
                nested=InnerInput(label="no weight"),
                items=[],
                color="red",
                shape=ShapeEmpty(),
                event=EventInputPingVariant(),
                command="Start",
                scalar=3,
                id=0,
                when=datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
                uuid=uuid.UUID(int=1),
                extra={},
                from_="f",
                type_="t",
                bytes_=[],
            )
            wire = sparse.model_dump(mode="json", by_alias=True, exclude_unset=True)
            for key, value, accepted in [
                ("count", 2**31, False),
                ("count", -(2**31), True),
                ("bigSigned", I64_MIN - 1, False),
                ("bigUnsigned", U64_MAX, True),
                ("bigUnsigned", -1, False),
                ("bytes", [256], False),
                ("withDefault", 2**32, False),
            ]:
                try:
                    EverythingInput.model_validate({**wire, key: value})
                    c.check(f"integer range: {key}={value} accepted", accepted, "accepted")
                except ValidationError as e:
                    c.check(f"integer range: {key}={value} refused", not accepted, str(e))
            c.check(
                "optional fields left unset are left out of the request",
                not {"withDefault", "maybe", "omittedWhenNone"} & wire.keys()
                and "weight" not in wire["nested"],
                wire,
            )
            c.equal("tag fields are sent even at their default", wire["shape"], {"kind": "empty"})
            got = await api.types_roundtrip(sparse)
            c.equal("types.roundtrip: server default withDefault=7", got.with_default, 7)
            c.equal("types.roundtrip: maybe comes back null", got.maybe, None)
            c.equal("types.roundtrip: maybeBytes comes back null", got.maybe_bytes, None)
            c.equal("types.roundtrip: nullableDefault is 3", got.nullable_default, 3)
            try:
                EverythingInput.model_validate({**wire, "bytes": b"\x01\x02"})
                c.check("a bytes object is refused for bytes (it would not be an array)", False, "")
            except ValidationError as e:
                c.check(
                    "a bytes object is refused for bytes (it would not be an array)",
                    "bytes" in str(e),
                    str(e),
                )
            c.check(
                "types.roundtrip: omittedWhenNone stays absent",
                got.omitted_when_none is None and "omitted_when_none" not in got.model_fields_set,
                got.model_fields_set,
            )
            c.equal("types.roundtrip: nested weight null", got.nested.weight, None)
            c.equal("types.roundtrip: int for float", (type(got.ratio), got.ratio), (float, 3.0))
            c.equal("types.roundtrip: scalar 3 is a number", got.scalar, 3.0)
            c.equal("types.roundtrip: +02:00 timestamp is the same instant", got.when, sparse.when)
            c.equal("types.roundtrip: as UTC", got.when.utcoffset(), timedelta(0))

        async def low_level() -> None:
            e = await c.error(
                "call: unknown method → 404",
                rpc.call("nope.nothing", {}),
                404,
                temporary=False,
            )
            if e is not None:
                c.equal(
                    "call: 404 is ErrorCode.METHOD_NOT_FOUND", e.code, ErrorCode.METHOD_NOT_FOUND
                )
            e = await c.error(
                "call: params of the wrong type → 422",
                rpc.call("tasks.get_stats", {"user_id": 5}),
                422,
                temporary=False,
            )
            if e is not None:
                c.check("call: 422 names the field", "user_id" in e.message, e.message)
            raw = await rpc.call("tasks.get_stats", {"user_id": "nobody"})
            c.equal("call: raw JSON result", raw, {"total": 0, "completed": 0})

        async def samples() -> None:
            """The zero, minimal and maximal value of every named type, built in Python from
            their JSON as the type of `types.echo`'s params, round-tripped, and written back as
            JSON."""
            params: TypeAdapter[TypedValueInput] = TypeAdapter(TypedValueInput)
            result: TypeAdapter[TypedValue] = TypeAdapter(TypedValue)
            kinds: dict[str, list[str]] = {}
            for x in cases:
                kinds.setdefault(x["type"], []).append(x["sample"])
            c.check("samples: some types", bool(kinds), "none")
            c.equal(
                "samples: zero, min and max of every type",
                [t for t, k in kinds.items() if k != ["zero", "min", "max"]],
                [],
            )
            for case in cases:
                name = f"types.echo {case['type']} {case['sample']}"
                sample = {case["type"]: case["value"]}
                try:
                    value = params.validate_python(sample)
                except ValidationError as e:
                    c.check(f"{name}: TypedValueInput reads it", False, str(e))
                    continue
                sent = params.dump_python(value, mode="json", by_alias=True, exclude_unset=True)
                c.check(
                    f"{name}: written back as it was read",
                    same_json(sent, sample),
                    f"\nsample {sample!r}\nsent   {sent!r}",
                )
                got = await api.types_echo(value)
                wire = result.dump_python(got, mode="json", by_alias=True, exclude_unset=True)
                want = {case["type"]: case["expected"]}
                c.check(
                    f"{name}: comes back as the server wrote it",
                    same_json(wire, want),
                    f"\nwant {want!r}\ngot  {wire!r}",
                )

        for name, body in [
            ("whoami", who),
            ("tasks", tasks),
            ("failures", failures),
            ("slow", slow),
            ("process", process),
            ("echo", echo),
            ("roundtrip", roundtrip),
            ("samples", samples),
            ("low-level", low_level),
        ]:
            await c.run(name, body)

    async def error_model() -> None:
        """One error model: every failure is an RPCError that pickles; results that do not match
        the schema are RPCResultError; per-call timeouts may be longer than the client's."""
        c.equal("the default timeout is 5 s", DEFAULT_TIMEOUT, 5.0)
        c.equal(
            "a client without a timeout uses the default",
            CentrifugoRPCClient(url, token)._timeout,
            5.0,
        )
        samples: list[RPCError] = [
            RPCError(1500, "demo failure, try again", True),
            RPCTimeoutError("no reply"),
            RPCDisconnectedError("invalid credentials", False, 4503),
            RPCResultError("bad result"),
        ]
        async with CentrifugoRPCClient(url, token, timeout=0.3) as quick:
            api = APIClient(quick)
            r = await api.tasks_slow(SlowParams(ms=600), timeout=3.0)
            c.equal("a per-call timeout longer than the client's succeeds", r.slept_ms, 600)
            await c.error(
                "the client's shorter default still applies",
                api.tasks_slow(SlowParams(ms=600)),
                1,
                temporary=True,
                kind=RPCTimeoutError,
            )

            class Misrouted(CentrifugoRPCClient):
                """Answers tasks.get_stats with system.echo: a result of the wrong shape."""

                async def call(self, method: str, params: Any = None, **kw: Any) -> Any:
                    if method == "tasks.get_stats":
                        method = "system.echo"
                    return await super().call(method, params, **kw)

            async with Misrouted(url, token) as misrouted:
                e = await c.error(
                    "a result that does not match the schema → RPCResultError 30",
                    APIClient(misrouted).tasks_get_stats(TaskStatsParams(user_id="42")),
                    30,
                    temporary=False,
                    kind=RPCResultError,
                )
                c.check(
                    "RPCResultError: the ValidationError is the cause",
                    e is not None and isinstance(e.__cause__, ValidationError),
                    repr(e and e.__cause__),
                )
                if e is not None:
                    samples.append(e)

            class Newer(CentrifugoRPCClient):
                """Answers types.roundtrip with system.echo of the params with one value
                replaced: what a newer server with more enum values or variants could send."""

                def __init__(self, key: str, value: Any) -> None:
                    super().__init__(url, token)
                    self._key, self._value = key, value

                async def call(self, method: str, params: Any = None, **kw: Any) -> Any:
                    if method == "types.roundtrip":
                        method, params = "system.echo", {**params, self._key: self._value}
                    return await super().call(method, params, **kw)

            for key, value in [
                ("color", "purple"),
                ("byColor", {"purple": 1}),
                ("shape", {"kind": "hexagon"}),
                ("event", {"type": "moved", "data": {}}),
                ("command", "Pause"),
                ("command", {"Pause": {}}),
            ]:
                async with Newer(key, value) as newer:
                    await c.error(
                        f"an unknown enum value or tag ({key}: {value!r}) → RPCResultError 30",
                        APIClient(newer).types_roundtrip(everything(0)),
                        30,
                        temporary=False,
                        kind=RPCResultError,
                    )
            async with Newer("color", "dark_blue") as newer:
                got = await APIClient(newer).types_roundtrip(everything(0))
                c.equal("a known enum value through the same path decodes", got.color, "dark_blue")
            caught = await c.error(
                "tasks.fail temporary (to pickle)",
                api.tasks_fail(FailParams(kind="temporary")),
                1500,
                temporary=True,
            )
            if caught is not None:
                samples.append(caught)
        for e in samples:
            back = pickle.loads(pickle.dumps(e))
            c.check(
                f"pickle: {type(e).__name__} {e.code} survives",
                type(back) is type(e)
                and (back.code, back.message, back.temporary) == (e.code, e.message, e.temporary)
                and str(back) == str(e),
                f"{back!r} vs {e!r}",
            )

    async def retries() -> None:
        """The opt-in retry policy: idempotent methods only, temporary errors only."""
        policy = RetryPolicy(attempts=3, backoff=0.05, max_backoff=0.2)
        c.equal(
            "RetryPolicy: the backoff doubles up to its cap",
            [policy.delay(n) for n in (1, 2, 3, 4)],
            [0.05, 0.1, 0.2, 0.2],
        )
        async with CentrifugoRPCClient(url, token, retry=policy) as retrying, CentrifugoRPCClient(
            url, token
        ) as plain:
            api, once = APIClient(retrying), APIClient(plain)
            key = uuid.uuid4().hex
            r = await api.tasks_flaky(FlakyParams(key=key, failures=2))
            c.equal("retry: an idempotent method is retried past 2 temporary failures", r.attempt, 3)

            key = uuid.uuid4().hex
            await c.error(
                "retry: at most `attempts` calls, then the last error",
                api.tasks_flaky(FlakyParams(key=key, failures=5)),
                1501,
                temporary=True,
            )
            r = await once.tasks_flaky(FlakyParams(key=key, failures=0))
            c.equal("retry: exactly 3 attempts were made", r.attempt, 4)

            key = uuid.uuid4().hex
            await c.error(
                "no retry policy: the temporary failure is raised",
                once.tasks_flaky(FlakyParams(key=key, failures=1)),
                1501,
                temporary=True,
            )

            key = uuid.uuid4().hex
            await c.error(
                "retry: a method not marked idempotent is never retried",
                api.tasks_flaky_unsafe(FlakyParams(key=key, failures=1)),
                1501,
                temporary=True,
            )
            r = await once.tasks_flaky(FlakyParams(key=key, failures=0))
            c.equal("retry: the non-idempotent method was called once", r.attempt, 2)


    await c.run("error model", error_model)
    await c.run("retries", retries)

    async def other_clients() -> None:
        # The client's own default timeout.
        async with CentrifugoRPCClient(url, token, timeout=0.3) as quick:
            await c.error(
                "client default timeout → RPCTimeoutError",
                APIClient(quick).tasks_slow(SlowParams(ms=3000)),
                1,
                temporary=True,
                kind=RPCTimeoutError,
            )

        # get_token and client options (connect data for the connect proxy) pass through.
        async def get_token() -> str:
            return token

        async with CentrifugoRPCClient(url, "", get_token=get_token) as by_callback:
            me = await APIClient(by_callback).system_whoami()
            c.equal("get_token: the token is used", me.user, "42")
            # A JWT connection never reaches the connect hook: no reply data.
            c.equal(
                "connect reply data: none without the connect hook",
                APIClient(by_callback).connect_reply_data(),
                None,
            )
        async with CentrifugoRPCClient(
            url, "", data=connect_data(Login(user="alice", password="centrpc"))
        ) as alice:
            alice_api = APIClient(alice)
            me = await alice_api.system_whoami()
            c.equal("typed connect data reaches the connect hook", me.user, "alice")
            welcome = alice_api.connect_reply_data()
            alice._connect_reply_data = {"user": 5}
            try:
                alice_api.connect_reply_data()
                c.check("connect reply data of the wrong shape → RPCResultError", False)
            except RPCResultError as e:
                c.check(
                    "connect reply data of the wrong shape → RPCResultError",
                    isinstance(e.__cause__, ValidationError),
                    repr(e),
                )
            c.check(
                "typed connect reply data",
                welcome is not None
                and welcome.user == "alice"
                and welcome.via == "connect_data"
                and welcome.expires_at > time.time(),
                welcome,
            )

        # Connect data the server cannot read as a Login is refused with centrpc's 422.
        mistyped = CentrifugoRPCClient(url, "", data={"user": "alice"})
        await c.error(
            "connect: mistyped connect data → the server's 422",
            mistyped.connect(),
            422,
            "invalid params: missing field `password` at line 1 column 17",
            temporary=False,
            kind=RPCDisconnectedError,
        )
        await mistyped.disconnect()

        refused = CentrifugoRPCClient(
            url, "", data=connect_data(Login(user="alice", password="wrong"))
        )
        await c.error(
            "connect: refused login → RPCDisconnectedError with the server's code",
            refused.connect(),
            4503,
            "invalid credentials",
            temporary=False,
            kind=RPCDisconnectedError,
        )
        await refused.disconnect()

        # Nothing listening: connect() gives up after the timeout and stops reconnecting.
        unreachable = CentrifugoRPCClient(
            "ws://127.0.0.1:9/connection/websocket", token, timeout=0.5
        )
        await c.error(
            "connect: nothing listening → RPCTimeoutError",
            unreachable.connect(),
            1,
            temporary=True,
            kind=RPCTimeoutError,
        )
        c.equal(
            "connect: a failed connect leaves the client disconnected",
            unreachable.client.state.value,
            "disconnected",
        )

        # The protobuf protocol: params and results still travel as JSON.
        async with CentrifugoRPCClient(url, token, use_protobuf=True) as proto:
            value = {"over": "protobuf", "n": [1, 2.5]}
            c.equal("use_protobuf: echo", await APIClient(proto).system_echo(value), value)
            stats = await APIClient(proto).tasks_get_stats(TaskStatsParams(user_id="nobody"))
            c.equal("use_protobuf: typed result", (stats.total, stats.completed), (0, 0))

        # A disconnect outcome closes the connection: the call in flight fails, typed.
        closing = CentrifugoRPCClient(url, token)
        await closing.connect()
        await c.error(
            "tasks.fail disconnect → RPCDisconnectedError (no reconnect)",
            APIClient(closing).tasks_fail(FailParams(kind="disconnect")),
            3,
            temporary=False,
            kind=RPCDisconnectedError,
        )
        await c.error(
            "a call after a terminal disconnect → RPCDisconnectedError",
            APIClient(closing).system_whoami(),
            3,
            temporary=False,
            kind=RPCDisconnectedError,
        )
        await closing.disconnect()

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
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[3], encoding="utf-8") as f:
        samples = json.load(f)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], samples)))
