"""Socket commands backed by the daemon: status, calls, CDRs, users and the simulator.

Each handler checks its arguments, asks the engine or the store, and returns JSON-ready
data. Permission rules that depend on the arguments (an agent may dial only from its own
extension and hang up only its own calls) are checked here with `ctx.require_role`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import (
    E_CONFLICT,
    E_INVALID_ARGS,
    E_LINE_BUSY,
    E_NO_CALL,
    E_NOT_FOUND,
    E_UNAVAILABLE,
    RpcError,
)
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.daemon import Daemon


def _cdr_dict(call: Any) -> dict[str, Any]:
    if hasattr(call, "as_dict"):
        return call.as_dict()
    if hasattr(call, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(call)
    return dict(call)


def build_registry(daemon: Daemon) -> CommandRegistry:
    reg = CommandRegistry()

    def engine() -> Any:
        if daemon.engine is None:
            raise RpcError(E_UNAVAILABLE, "the call engine is not running")
        return daemon.engine

    @reg.command("status", role="agent", doc="Drivers, lines and live calls.", example={})
    async def status(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args)
        return daemon.status()

    @reg.command("line.list", role="agent", doc="Every line with its state.", example={})
    async def line_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        return engine().snapshot_lines()

    @reg.command("call.list", role="agent", doc="Calls in progress.", example={})
    async def call_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        return engine().snapshot_calls()

    @reg.command(
        "call.dial",
        role="agent",
        doc="Click-to-dial: ring the extension's phone, then dial NUMBER on a trunk when it is lifted. "
        "Agents dial from their own extension; supervisors may name any.",
        example={"number": "13800138000", "extension": "801"},
    )
    async def call_dial(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "number", "extension")
        number = require(args, "number", str)
        if not number or not all(c in "0123456789*#+" for c in number):
            raise RpcError(E_INVALID_ARGS, "argument 'number' must be digits")
        ext = optional(args, "extension", str) or (ctx.user.extension if ctx.user else None)
        if ext is None:
            raise RpcError(E_INVALID_ARGS, "no extension: pass 'extension' or set one for the user")
        if ctx.user is not None and ext != ctx.user.extension:
            ctx.require_role("supervisor")
        try:
            call = engine().originate(ext, number.lstrip("+"))
        except LookupError as exc:
            raise RpcError(E_NOT_FOUND, str(exc)) from None
        except RuntimeError as exc:
            raise RpcError(E_LINE_BUSY, str(exc)) from None
        daemon._apply(engine().drain())
        return call.snapshot()

    @reg.command(
        "call.hangup",
        role="agent",
        doc="Hang up a call (agents: their own calls; supervisors: any — 强拆).",
        example={"call": "1767603600.1"},
    )
    async def call_hangup(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call_id = require(args, "call", str)
        eng = engine()
        call = eng.calls.get(call_id)
        if call is None:
            raise RpcError(E_NO_CALL, f"no call {call_id!r} in progress")
        if ctx.user is not None and ctx.user.extension not in call.lines:
            ctx.require_role("supervisor")
        eng.hangup_call(call_id)
        daemon._apply(eng.drain())
        return {"call": call_id, "ended": True}

    @reg.command(
        "cdr.list",
        role="supervisor",
        doc="The last N call records (newest first), with legs.",
        example={"last": 10},
    )
    async def cdr_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args, "last")
        last = require(args, "last", int, default=20)
        if not 1 <= last <= 10_000:
            raise RpcError(E_INVALID_ARGS, "argument 'last' must be between 1 and 10000")
        await daemon.flush()
        # a CDR is the record of a finished call; calls in progress are in `call.list`
        calls = await daemon.store.calls.last(last + len(engine().calls) + 8)
        return [_cdr_dict(c) for c in calls if c.end is not None][:last]

    @reg.command(
        "cdr.get", role="supervisor", doc="One call record by uniqueid.", example={"uniqueid": "1767603600.1"}
    )
    async def cdr_get(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "uniqueid")
        uid = require(args, "uniqueid", str)
        await daemon.flush()
        try:
            return _cdr_dict(await daemon.store.calls.get(uid))
        except LookupError:
            raise RpcError(E_NOT_FOUND, f"no call {uid!r}") from None

    # ------------------------------------------------------------------ users
    def _user_dict(user: Any) -> dict[str, Any]:
        return {
            "login": user.login,
            "name": user.name,
            "role": user.role,
            "extension": user.extension,
            "agent_no": user.agent_no,
            "disabled": bool(getattr(user, "disabled", False)),
        }

    @reg.command("user.list", role="admin", doc="Every user (no password hashes).", example={})
    async def user_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        return [_user_dict(u) for u in await daemon.store.users.list()]

    @reg.command(
        "user.add",
        role="admin",
        doc="Create a user.",
        example={"login": "1005", "name": "赵六", "role": "agent", "password": "s3cret", "extension": "805"},
    )
    async def user_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "login", "name", "role", "password", "extension", "agent_no")
        from ccd.store.errors import StoreError

        try:
            user = await daemon.store.users.add(
                require(args, "login", str),
                optional(args, "name", str, ""),
                require(args, "role", str, choices=("agent", "supervisor", "admin")),
                require(args, "password", str),
                extension=optional(args, "extension", str),
                agent_no=optional(args, "agent_no", str),
            )
        except StoreError as exc:
            raise RpcError(E_CONFLICT if "exist" in str(exc) else E_INVALID_ARGS, str(exc)) from None
        return _user_dict(user)

    # ------------------------------------------------------------------ simulator
    def sim() -> Any:
        driver = daemon.sim
        if driver is None:
            raise RpcError(E_UNAVAILABLE, "no simulated office in this configuration")
        return driver

    @reg.command(
        "sim.call",
        role="admin",
        doc="A virtual caller rings a simulated trunk.",
        example={
            "trunk": "1",
            "number": "13800138000",
            "name": "张三",
            "cid": "fsk-bell202",
            "press": "",
            "talk": 30,
        },
    )
    async def sim_call(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "trunk", "number", "name", "cid", "cid_format", "press", "talk", "hangup_after")
        try:
            return sim().place_call(
                optional(args, "trunk", str),
                optional(args, "number", str),
                name=optional(args, "name", str),
                cid=optional(args, "cid", str),
                cid_format=optional(args, "cid_format", str),
                press=optional(args, "press", str, ""),
                talk=optional(args, "talk", float, 60.0),
                hangup_after=optional(args, "hangup_after", float, 60.0),
            )
        except ValueError as exc:
            raise RpcError(E_INVALID_ARGS, str(exc)) from None

    @reg.command(
        "sim.phone",
        role="admin",
        doc="Act on a virtual phone: offhook, onhook, press DIGITS.",
        example={"line": "801", "action": "offhook"},
    )
    async def sim_phone(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "line", "action", "digits")
        try:
            return sim().phone(
                require(args, "line", str),
                require(args, "action", str, choices=("offhook", "onhook", "press")),
                optional(args, "digits", str, ""),
            )
        except ValueError as exc:
            raise RpcError(E_INVALID_ARGS, str(exc)) from None

    @reg.command(
        "sim.traffic",
        role="admin",
        doc="Generate Poisson call traffic on the simulated trunks (rate in calls per hour; rate 0 stops).",
        example={"rate": 60, "minutes": 10},
    )
    async def sim_traffic(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "rate", "minutes", "talk", "patience", "keys")
        rate = require(args, "rate", float)
        if rate == 0:
            sim().stop_traffic()
            return {"traffic": None}
        try:
            kwargs: dict[str, Any] = {"minutes": optional(args, "minutes", float)}
            if "talk" in args:
                kwargs["talk"] = tuple(require(args, "talk", list))
            if "patience" in args:
                kwargs["patience"] = tuple(require(args, "patience", list))
            if "keys" in args:
                kwargs["keys"] = require(args, "keys", str)
            return {"traffic": sim().start_traffic(rate, **kwargs)}
        except (ValueError, TypeError) as exc:
            raise RpcError(E_INVALID_ARGS, str(exc)) from None

    @reg.command(
        "sim.status", role="admin", doc="The simulated office: callers, phones, traffic.", example={}
    )
    async def sim_status(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args)
        return sim().snapshot()

    return reg
