"""Offline checks of the Python package generated for the edge-case API of
tests/codegen_python.rs (importable as `edge.python`): escaped names, hard descriptions, defaults,
optional fields that may not be null, recursion, tagged newtype variants, and every APIClient
code path (models and adapters, params out and results in) against a fake connection.

Run with `python -W error edge_cases.py`; exits 1 on the first failed assertion.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from edge.python import (
    APIClient,
    Awkward,
    Defaults,
    DefaultsInput,
    ErrorCodeType,
    Expr,
    Expr3,
    Leaf,
    Msg,
    MsgBye,
    MsgHello,
    MsgNop,
    Options2,
    RPCResultError,
    TreeInput,
)
from pydantic import TypeAdapter, ValidationError


def wire(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def names_and_descriptions() -> None:
    a = Awkward(
        from_="me",
        import_=1,
        list_=[1, -2],
        json_=True,
        model_dump_=-5,
        n2fa=False,
        naïve_value=7,
    )
    assert wire(a) == {
        "from": "me",
        "import": 1,
        "list": [1, -2],
        "json": True,
        "model_dump": -5,
        "2fa": False,
        "naïveValue": 7,
    }, wire(a)
    assert Awkward.model_validate(wire(a)) == a, "wire names populate the model too"
    assert Awkward.__doc__ == (
        'A description with "quotes", a backslash \\ and """triple quotes""" '
        'that ends in a quote: "'
    ), repr(Awkward.__doc__)
    doc = APIClient.edge_awkward.__doc__ or ""
    assert doc.startswith('Awkward "names"; a backslash \\ and """ too.'), repr(doc)
    assert hasattr(APIClient, "import_"), "method `import` is escaped"
    assert ErrorCodeType(code=3).code == 3


def defaults() -> None:
    d = DefaultsInput()
    assert (d.ratio, d.color, d.tags, d.label, d.nested, d.maybe_count) == (
        3.25,
        "blue",
        [],
        'it\'s "quoted"',
        Leaf(value=5),
        9,
    ), d
    assert wire(d) == {}, "defaults left at their value are not sent"
    d.tags.append("x")
    assert DefaultsInput().tags == [], "mutable defaults are not shared"
    assert wire(DefaultsInput(maybe_count=None)) == {"maybe_count": None}, "explicit null is sent"
    # On the result side these fields are required: always sent.
    assert set(wire(Defaults())) == {
        "ratio",
        "color",
        "tags",
        "label",
        "nested",
        "maybe_count",
        "scale",
    }
    # An f32 takes magnitudes up to 3.4e38; the server would read a larger one as infinity.
    assert wire(DefaultsInput(scale=-3.4e38)) == {"scale": -3.4e38}
    try:
        DefaultsInput(scale=1e39)
    except ValidationError:
        pass
    else:
        raise AssertionError("an f32 beyond 3.4e38 was accepted")


def optional_never_null() -> None:
    assert wire(Options2()) == {}
    assert wire(Options2(mode=None, retry_limit=None)) == {}, "None leaves it out"
    assert wire(Options2(mode="careful", retry_limit=3)) == {"mode": "careful", "retryLimit": 3}
    o = Options2(mode="fast")
    o.mode = None
    assert wire(o) == {}, "also after assignment"
    assert wire(Options2(note=None)) == {"note": None}, "a nullable field sends null"


def recursion() -> None:
    expr: TypeAdapter[Expr] = TypeAdapter(Expr)
    value = expr.validate_json('[1, "2", {"not": [3]}, "x"]', strict=True)
    assert value == [1.0, "2", Expr3(not_=[3.0]), "x"], value
    assert expr.dump_python(value, mode="json", by_alias=True) == [1.0, "2", {"not": [3.0]}, "x"]
    assert expr.validate_python("3") == "3", "a string stays a string though float comes first"
    assert expr.validate_python(3) == 3.0
    tree = TreeInput(label="a", children=[TreeInput(label="b", children=[])], expr=[1.0, "x"])
    assert wire(tree) == {
        "label": "a",
        "children": [{"label": "b", "children": []}],
        "expr": [1.0, "x"],
    }, wire(tree)


def tagged_newtype() -> None:
    msg: TypeAdapter[Msg] = TypeAdapter(Msg)
    hello = MsgHello(value=1)
    assert isinstance(hello, Leaf), "the variant is the struct plus the tag"
    assert wire(hello) == {"t": "Hello", "value": 1}, wire(hello)
    assert msg.validate_json('{"t": "Hello", "value": 2}', strict=True) == MsgHello(value=2)
    assert msg.validate_json('{"t": "Bye", "reason": "r"}', strict=True) == MsgBye(reason="r")
    assert msg.validate_json('{"t": "Nop"}', strict=True) == MsgNop()
    assert wire(MsgNop()) == {"t": "Nop"}


class FakeRPC:
    """Answers every call with `reply(method, params)` and records what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.replies: dict[str, Any] = {}

    async def call(self, method: str, params: Any = None, *, timeout: float | None = None) -> Any:
        json.dumps(params)  # what goes out must be JSON-ready
        self.sent.append((method, params))
        return self.replies.get(method, params)


async def api_client() -> None:
    rpc = FakeRPC()
    api = APIClient(rpc)  # type: ignore[arg-type]

    got = await api.edge_expr([1.0, "2"])
    assert rpc.sent[-1] == ("edge.expr", [1.0, "2"]) and got == [1.0, "2"], (rpc.sent, got)
    rpc.replies["edge.expr"] = ["3"]
    assert await api.edge_expr(0.5) == ["3"], "results are validated strictly"

    tree = TreeInput(label="t", children=[])
    rpc.replies["edge.tree"] = {"label": "t", "children": [], "expr": None}
    got_tree = await api.edge_tree([tree])
    assert rpc.sent[-1] == ("edge.tree", [{"label": "t", "children": []}]), rpc.sent[-1]
    assert got_tree is not None and got_tree.label == "t" and got_tree.expr is None
    rpc.replies["edge.tree"] = None
    assert await api.edge_tree([]) is None

    rpc.replies["edge.msg"] = [{"t": "Hello", "value": 3}, {"t": "Nop"}]
    msgs = await api.edge_msg(MsgHello(value=3))
    assert rpc.sent[-1] == ("edge.msg", {"t": "Hello", "value": 3}), rpc.sent[-1]
    assert msgs == [MsgHello(value=3), MsgNop()], msgs

    assert await api.edge_options(Options2(mode=None)) is None
    assert rpc.sent[-1] == ("edge.options", {}), rpc.sent[-1]

    assert (await api.import_(ErrorCodeType(code=9))).code == 9
    assert rpc.sent[-1] == ("import", {"code": 9})

    rpc.replies["edge.defaults"] = {
        "ratio": 1.0,
        "color": "red",
        "tags": ["a"],
        "label": "l",
        "nested": {"value": 1},
        "maybe_count": None,
    }
    d = await api.edge_defaults(DefaultsInput(ratio=2))
    assert rpc.sent[-1] == ("edge.defaults", {"ratio": 2.0}), rpc.sent[-1]
    assert isinstance(d, Defaults) and d.maybe_count is None and d.nested == Leaf(value=1)

    try:
        rpc.replies["edge.defaults"] = {"ratio": "1"}
        await api.edge_defaults(DefaultsInput())
    except RPCResultError as e:
        assert e.code == 30 and not e.temporary, repr(e)
        assert isinstance(e.__cause__, ValidationError), repr(e.__cause__)
    else:
        raise AssertionError("a result of the wrong type is refused")

    rpc.replies["edge.when"] = "67e55044-10b1-426f-9247-bb680e5fe0c8"
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    got_uuid = await api.edge_when([when])
    assert rpc.sent[-1] == ("edge.when", ["2024-05-06T07:08:09Z"]), rpc.sent[-1]
    assert got_uuid == UUID("67e55044-10b1-426f-9247-bb680e5fe0c8"), got_uuid

    assert await api.edge_ping() is None
    assert rpc.sent[-1] == ("edge.ping", None), rpc.sent[-1]

    rpc.replies["edge.maybe"] = {"value": 4}
    assert await api.edge_maybe(None) == Leaf(value=4)
    assert rpc.sent[-1] == ("edge.maybe", None), rpc.sent[-1]
    await api.edge_maybe(Leaf(value=2))
    assert rpc.sent[-1] == ("edge.maybe", {"value": 2}), rpc.sent[-1]

    sig = inspect.signature(APIClient.edge_tree)
    assert str(sig.parameters["params"].annotation) == "list[TreeInput]", sig
    assert sig.return_annotation == "Tree | None", sig


def main() -> None:
    names_and_descriptions()
    defaults()
    optional_never_null()
    recursion()
    tagged_newtype()
    asyncio.run(api_client())
    print("OK: edge cases")


if __name__ == "__main__":
    main()
