"""Command registry, roles and argument checking (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from ccd.ipc.errors import E_INVALID_ARGS, RpcError
from ccd.server.registry import CommandRegistry, optional, reject_unknown, require, role_allows


async def handler(ctx: Any, args: dict[str, Any]) -> Any:
    """Do the thing.

    More words that are not the summary.
    """


def test_role_order() -> None:
    assert role_allows("admin", "supervisor") and role_allows("supervisor", "agent")
    assert not role_allows("agent", "supervisor") and not role_allows("supervisor", "admin")
    assert role_allows(None, None) and not role_allows(None, "agent")
    assert not role_allows("guest", "agent")


def test_decorator_registers_with_doc_from_docstring() -> None:
    reg = CommandRegistry()
    reg.command("thing.do", role="supervisor", example={"a": 1})(handler)
    cmd = reg.get("thing.do")
    assert cmd is not None and cmd.doc == "Do the thing." and cmd.role == "supervisor"
    assert [c.name for c in reg.allowed("agent")] == []
    assert [c.name for c in reg.allowed("admin")] == ["thing.do"]


def test_registration_mistakes_are_caught_at_import_time() -> None:
    reg = CommandRegistry()
    reg.add("a.b", handler)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a.b", handler)
    with pytest.raises(ValueError, match="bad command name"):
        reg.add("Agent Pause", handler)
    with pytest.raises(ValueError, match="unknown role"):
        reg.add("x", handler, role="boss")
    with pytest.raises(TypeError, match="async"):
        reg.add("y", lambda ctx, args: None)  # type: ignore[arg-type]


def test_include_merges_and_refuses_clashes() -> None:
    engine, crm = CommandRegistry(), CommandRegistry()
    engine.add("call.dial", handler)
    crm.add("customer.get", handler)
    merged = CommandRegistry()
    merged.include(engine)
    merged.include(crm)
    assert [c.name for c in merged] == ["call.dial", "customer.get"]
    with pytest.raises(ValueError, match=r"call\.dial"):
        merged.include(engine)


def test_missing_docs_are_reported() -> None:
    reg = CommandRegistry()

    async def bare(ctx: Any, args: dict[str, Any]) -> None:
        pass

    reg.add("bare", bare)
    reg.add("ok", bare, doc="Documented.")
    assert reg.missing_docs() == ["bare"]


@pytest.mark.parametrize(
    ("args", "spec", "expected"),
    [
        ({"n": 3}, ("n", int), 3),
        ({"n": 3}, ("n", float), 3.0),
        ({"s": "x"}, ("s", (str, int)), "x"),
        ({}, ("n", int, 5), 5),
        ({"n": None}, ("n", int, 5), 5),
    ],
)
def test_require_accepts(args: dict, spec: tuple, expected: Any) -> None:
    if len(spec) == 3:
        assert optional(args, spec[0], spec[1], spec[2]) == expected
    else:
        assert require(args, *spec) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ({}, {"name": "n", "type_": int}, "missing argument 'n'"),
        ({"n": "3"}, {"name": "n", "type_": int}, "argument 'n' must be an integer"),
        ({"n": True}, {"name": "n", "type_": int}, "argument 'n' must be an integer"),
        ({"n": 1.5}, {"name": "n", "type_": int}, "argument 'n' must be an integer"),
        ({"s": 1}, {"name": "s", "type_": (str, list)}, "argument 's' must be a string or a list"),
        (
            {"r": "boss"},
            {"name": "r", "type_": str, "choices": ("agent", "admin")},
            "must be one of 'agent', 'admin'",
        ),
    ],
)
def test_require_refuses_naming_the_argument(args: dict, kwargs: dict, message: str) -> None:
    with pytest.raises(RpcError) as info:
        require(args, **kwargs)
    assert info.value.code == E_INVALID_ARGS
    assert message in info.value.message
    assert info.value.details == {"argument": kwargs["name"]}


def test_reject_unknown_suggests() -> None:
    reject_unknown({"number": 1}, "number", "extension")
    with pytest.raises(RpcError, match="unknown argument 'extention' \\(did you mean 'extension'\\?\\)"):
        reject_unknown({"extention": "801"}, "number", "extension")
