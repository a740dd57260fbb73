"""Error codes: named, described, and round-tripped over the wire."""

from __future__ import annotations

from ccd.ipc import errors
from ccd.ipc.errors import DESCRIPTIONS, E_FORBIDDEN, E_INTERNAL, RpcError, describe


def test_every_code_constant_is_described_and_spelled_as_its_name() -> None:
    constants = {name: value for name, value in vars(errors).items() if name.startswith("E_")}
    assert len(constants) >= 24
    for name, value in constants.items():
        assert value == name
        assert DESCRIPTIONS[value].endswith(".")
    assert set(DESCRIPTIONS) == set(constants.values())


def test_rpc_error_round_trip() -> None:
    err = RpcError(E_FORBIDDEN, "'cdr.list' needs the supervisor role", {"role": "supervisor"})
    assert RpcError.from_dict(err.to_dict()) == err
    assert err.to_dict() == {
        "code": E_FORBIDDEN,
        "message": "'cdr.list' needs the supervisor role",
        "details": {"role": "supervisor"},
    }
    assert RpcError(E_FORBIDDEN, "x").to_dict() == {"code": E_FORBIDDEN, "message": "x"}
    assert str(err) == "'cdr.list' needs the supervisor role"


def test_malformed_error_from_the_wire_does_not_crash() -> None:
    assert RpcError.from_dict("boom").code == E_INTERNAL
    err = RpcError.from_dict({"code": "E_FROM_THE_FUTURE"})
    assert err.code == "E_FROM_THE_FUTURE" and err.message == "E_FROM_THE_FUTURE"
    assert describe("E_FROM_THE_FUTURE") == "E_FROM_THE_FUTURE"
