"""Socket commands of the call-center logic: recordings, voicemail, the call firewall,
routing overrides, the survey, IVR flows and `config.reload`.

Roles: agents control the recording of a call (pause for a card number) and their mailbox
and can send a caller to the survey; supervisors list and export recordings, force a
schedule open or closed and read the firewall log; admins edit the firewall list, purge
recordings and reload the configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import E_CONFLICT, E_INVALID_ARGS, E_NOT_FOUND, E_UNAVAILABLE, RpcError
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.callcenter import CallCenter
    from ccd.daemon import Daemon


def _store_error(exc: Exception) -> RpcError:
    from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError

    if isinstance(exc, NotFoundError):
        return RpcError(E_NOT_FOUND, str(exc))
    if isinstance(exc, DuplicateError):
        return RpcError(E_CONFLICT, str(exc))
    if isinstance(exc, InvalidValueError):
        return RpcError(E_INVALID_ARGS, str(exc))
    return RpcError(E_UNAVAILABLE, f"the database could not do that: {exc}")


def build_registry(daemon: Daemon) -> CommandRegistry:
    reg = CommandRegistry()

    def cc() -> CallCenter:
        center = getattr(daemon, "callcenter", None)
        if center is None:
            raise RpcError(E_UNAVAILABLE, "the call-center parts are not running")
        return center

    def call_arg(args: dict[str, Any]) -> str:
        call_id = require(args, "call", str)
        if daemon.engine is None or call_id not in daemon.engine.calls:
            raise RpcError(E_NOT_FOUND, f"no call {call_id!r} in progress", {"argument": "call"})
        return call_id

    # -- recording ---------------------------------------------------------------------
    @reg.command("rec.control", role="agent", example={"call": "1767603600.1", "action": "pause"})
    async def rec_control(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Start, stop, pause or resume the recording of a call in progress (pause for card numbers)."""
        reject_unknown(args, "call", "action")
        call_id = call_arg(args)
        action = require(args, "action", str, choices=("start", "stop", "pause", "resume"))
        rec = cc().recorder
        try:
            if action == "start":
                rec.start(call_id)
            elif action == "stop":
                rec.stop(call_id)
            else:
                rec.pause(call_id, action == "pause")
        except LookupError as exc:
            raise RpcError(E_NOT_FOUND, str(exc).strip("'\"")) from None
        except RuntimeError as exc:
            raise RpcError(E_UNAVAILABLE, str(exc)) from None
        return rec.snapshot()

    @reg.command("rec.list", role="supervisor", example={"call": None, "limit": 20})
    async def rec_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Recordings, newest first (or those of one call), with their file, length and size."""
        reject_unknown(args, "call", "limit", "include_deleted")
        rows = await daemon.store.recordings.list(
            optional(args, "call", str),
            include_deleted=optional(args, "include_deleted", bool, False),
            limit=optional(args, "limit", int, 100),
        )
        return [
            {
                "id": r.id,
                "call": r.call_uniqueid,
                "path": r.path,
                "format": r.format,
                "channels": r.channels,
                "start": r.start,
                "duration": r.duration,
                "bytes": r.bytes,
                "deleted_at": r.deleted_at,
            }
            for r in rows
        ]

    @reg.command("rec.status", role="supervisor", example={})
    async def rec_status(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Recording mode, disk state and the calls being recorded now."""
        return cc().recorder.snapshot()

    @reg.command("rec.purge", role="admin", example={"dry_run": True})
    async def rec_purge(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Delete recordings past their retention (per queue, else the default); index rows are kept."""
        reject_unknown(args, "dry_run")
        return await cc().purge(dry_run=optional(args, "dry_run", bool, False))

    # -- voicemail ---------------------------------------------------------------------
    @reg.command("vm.list", role="agent", example={"mailbox": "801"})
    async def vm_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages in a mailbox (new first), or in all mailboxes for a supervisor."""
        reject_unknown(args, "mailbox")
        box = optional(args, "mailbox", str)
        if box is None:
            ctx.require_role("supervisor")
        msgs = await cc().cc_store.voicemail.list(box)
        return [m.as_dict() for m in msgs]

    @reg.command("vm.mark", role="agent", example={"id": 1, "status": "saved"})
    async def vm_mark(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Mark a message saved (heard) or deleted."""
        reject_unknown(args, "id", "status")
        msg_id = require(args, "id", int)
        status = require(args, "status", str, choices=("new", "saved", "deleted"))
        try:
            await cc().cc_store.voicemail.set_status(msg_id, status)
        except Exception as exc:
            raise _store_error(exc) from None
        return {"id": msg_id, "status": status}

    # -- firewall ----------------------------------------------------------------------
    @reg.command(
        "firewall.add",
        role="admin",
        example={"kind": "prefix", "value": "170", "action": "reject", "note": "virtual carriers"},
    )
    async def firewall_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Add a number or pattern (number, prefix, regex, withheld, out_of_area) with its action."""
        reject_unknown(args, "kind", "value", "action", "target", "note")
        try:
            rule = await cc().cc_store.firewall.add(
                require(args, "kind", str),
                optional(args, "value", str, ""),
                optional(args, "action", str, "reject"),
                target=optional(args, "target", str),
                note=optional(args, "note", str),
            )
        except Exception as exc:
            raise _store_error(exc) from None
        await cc().reload_firewall()
        return rule.as_dict()

    @reg.command("firewall.list", role="supervisor", example={})
    async def firewall_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        """The list, with how many calls each entry has screened."""
        return [r.as_dict() for r in await cc().cc_store.firewall.list()]

    @reg.command("firewall.remove", role="admin", example={"id": 3})
    async def firewall_remove(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Remove an entry by id."""
        reject_unknown(args, "id")
        rule_id = require(args, "id", int)
        try:
            await cc().cc_store.firewall.remove(rule_id)
        except Exception as exc:
            raise _store_error(exc) from None
        await cc().reload_firewall()
        return {"id": rule_id, "removed": True}

    @reg.command("firewall.log", role="supervisor", example={"limit": 50})
    async def firewall_log(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        """The latest screened attempts (blocked, sent to voicemail, screened), newest first."""
        reject_unknown(args, "limit")
        return await cc().cc_store.firewall.log(optional(args, "limit", int, 100))

    # -- routing -----------------------------------------------------------------------
    @reg.command("route.status", role="agent", example={})
    async def route_status(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Schedules (open, closed or holiday now), IVR flows, mailboxes, recording and firewall state."""
        return cc().status()

    @reg.command("route.override", role="supervisor", example={"schedule": "office", "state": "closed"})
    async def route_override(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Force a schedule open or closed (e.g. closed today) until `until` (Unix time), or back to auto."""
        reject_unknown(args, "schedule", "state", "until")
        try:
            return await cc().set_override(
                require(args, "schedule", str),
                require(args, "state", str, choices=("auto", "open", "closed")),
                optional(args, "until", float),
            )
        except LookupError as exc:
            raise RpcError(E_NOT_FOUND, str(exc).strip("'\""), {"argument": "schedule"}) from None

    # -- survey ------------------------------------------------------------------------
    @reg.command("survey.start", role="agent", example={"call": "1767603600.1"})
    async def survey_start(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Send the caller to the satisfaction survey (the agent leaves the call)."""
        reject_unknown(args, "call")
        call_id = call_arg(args)
        engine = daemon.engine
        assert engine is not None
        call = engine.calls[call_id]
        if call.trunk is None or call.direction == "internal":
            raise RpcError(E_INVALID_ARGS, "only a call with an outside caller can take the survey")
        engine.route(call, "survey", call.queue)
        daemon._apply(engine.drain())
        return {"call": call_id, "app": "survey"}

    # -- configuration -----------------------------------------------------------------
    @reg.command("config.reload", role="admin", example={})
    async def config_reload(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        """Apply the configuration file again without dropping calls; an invalid one is refused
        with its file and line, and the running configuration stays."""
        reject_unknown(args, "path")
        from ccd.callcenter import ReloadError

        try:
            return cc().reload(optional(args, "path", str))
        except ReloadError as exc:
            raise RpcError(E_INVALID_ARGS, f"configuration not applied:\n{exc}") from None

    return reg
