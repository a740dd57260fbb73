"""The three message shapes of the protocol, and how to build and check them.

    request  {"id": 7, "cmd": "agent.pause", "args": {...}}
    reply    {"id": 7, "ok": true, "result": ...}
             {"id": 7, "ok": false, "error": {"code": "E_...", "message": "..."}}
    push     {"event": "call.ringing", "data": {...}}

Kept as plain dicts on the wire (one `encode` away from bytes) and checked here in one
place, so the server and the clients agree on what is valid. See docs/protocol.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccd.ipc.errors import E_BAD_REQUEST, RpcError

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS: frozenset[int] = frozenset({PROTOCOL_VERSION})

RequestId = int | str | None


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


def request(id: RequestId, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"id": id, "cmd": cmd}
    if args:
        msg["args"] = args
    return msg


def reply_ok(id: RequestId, result: Any = None) -> dict[str, Any]:
    return {"id": id, "ok": True, "result": result}


def reply_error(id: RequestId, error: RpcError) -> dict[str, Any]:
    return {"id": id, "ok": False, "error": error.to_dict()}


def push(event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event": event, "data": data if data is not None else {}}


def _valid_id(value: Any) -> bool:
    # bool is an int subclass; an id of `true` is almost certainly a client bug.
    return value is None or (isinstance(value, int | str) and not isinstance(value, bool))


def salvage_id(msg: dict[str, Any]) -> RequestId:
    """The id to echo in an error reply to a bad request: its own if usable, else null."""
    value = msg.get("id")
    return value if _valid_id(value) else None


def parse_request(msg: dict[str, Any]) -> Request:
    """Check a decoded object is a request. Raises RpcError(E_BAD_REQUEST) naming what is wrong.

    ``id`` may be a number, a string, or absent (a hand-typed one-off: the reply then has
    ``"id": null``); ``args`` may be absent (no arguments).
    """
    rid = msg.get("id")
    if not _valid_id(rid):
        raise RpcError(E_BAD_REQUEST, "'id' must be a number or a string")
    cmd = msg.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        if "event" in msg:
            raise RpcError(E_BAD_REQUEST, "clients send requests ('cmd'), not events")
        raise RpcError(E_BAD_REQUEST, "request has no 'cmd' (a command name string)")
    args = msg.get("args")
    if args is None:
        args = {}
    elif not isinstance(args, dict):
        raise RpcError(E_BAD_REQUEST, "'args' must be a JSON object")
    unknown = set(msg) - {"id", "cmd", "args"}
    if unknown:
        raise RpcError(E_BAD_REQUEST, f"unknown member(s) in request: {', '.join(sorted(unknown))}")
    return Request(rid, cmd, args)
