"""Socket commands of the ACD: agent state, queues, agent call control and supervisor monitoring.

`build_acd(daemon)` builds the ACD itself (`daemon.acd`): it registers the "queue"
application with the engine, hooks `Acd.tick` onto the daemon's tickers (every 20 ms, after
the engine) and `apply_config` onto `daemon.reload_hooks`, so `ccd reload` applies
`[[queues]]`, `[[agents]]` and `[acd]` to the running ACD without dropping a call (what
changes when is in `ccd.telephony.acd_queue`'s module doc). `build_registry(daemon)` adds
the `agent` and `queue` snapshot topics to the server and restores agents' login state from
the journal.

Permission rules: an agent acts on their own state and on calls at their own extension;
supervisors may name any agent (`agent` argument) and monitor, force states and log out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import (
    E_INVALID_ARGS,
    E_NO_CALL,
    E_NOT_FOUND,
    E_UNAVAILABLE,
    E_UNSUPPORTED,
    RpcError,
)
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require
from ccd.telephony.acd_queue import Acd, AcdApp, AcdError, QueueSpec, restore_states

if TYPE_CHECKING:
    from ccd.daemon import Daemon

log = logging.getLogger(__name__)
STATES = ("ready", "not_ready", "logged_out")
RESTORE_DAYS = 7


def queue_specs(config: Any) -> list[QueueSpec]:
    """`[[queues]]` as the ACD's QueueSpecs."""
    specs = []
    for q in getattr(config, "queues", ()):
        specs.append(
            QueueSpec(
                name=q.name,
                strategy=q.strategy,
                skills=dict(q.skills),
                members=tuple(q.members),
                skill_first=q.skill_first,
                ring_timeout=q.ring_timeout,
                retry=q.retry,
                wrap_up=q.wrap_up,
                max_wait=q.max_wait,
                overflow=q.overflow,
                overflow_target=q.overflow_target,
                exit_key=q.exit_key,
                exit_to=q.exit_to,
                exit_target=q.exit_target,
                join_when=q.join_when,
                leave_when=q.leave_when,
                announce_position=q.announce_position,
                announce_holdtime=q.announce_holdtime,
                announce_frequency=q.announce_frequency,
                announce_position_only_up=q.announce_position_only_up,
                periodic_announce=tuple(q.periodic_announce),
                periodic_frequency=q.periodic_frequency,
                moh=q.moh,
                announce_agent=q.announce_agent,
                callback_key=q.callback_key,
                callback_attempts=q.callback_attempts,
                callback_retry=q.callback_retry,
                priority=q.priority,
                service_level=q.service_level,
                default_handle_time=q.default_handle_time,
                survey=q.survey,
            )
        )
    return specs


def agent_settings(config: Any) -> dict[str, tuple[dict[str, int], float | None]]:
    """`[[agents]]` as login -> (skills, own wrap-up)."""
    return {a.login: (dict(a.skills), a.wrap_up) for a in getattr(config, "agents", ())}


def office_tz(config: Any) -> Any:
    """The office's time zone (`[callcenter] timezone`), for the midnight reset; UTC if unusable."""
    from ccd.telephony.router import parse_tz

    name = getattr(getattr(config, "callcenter", None), "timezone", "") or "UTC"
    try:
        return parse_tz(name)
    except ValueError:
        log.warning("time zone %r unusable: today's counters reset at midnight UTC", name)
        return parse_tz("+00:00")


def target_warnings(config: Any) -> list[str]:
    """Overflow/exit targets that exist but are not of the destination's kind (the config
    check only knows that the name exists somewhere)."""
    kinds: dict[str, set[str]] = {
        "queue": {q.name for q in getattr(config, "queues", ())},
        "ivr": {f.name for f in getattr(config, "ivr", ())},
        "extension": {e.id for e in getattr(config, "extensions", ())},
    }
    kinds["voicemail"] = kinds["extension"] | {m.id for m in getattr(config, "mailboxes", ())} | {"*"}
    out = []
    for i, q in enumerate(getattr(config, "queues", ())):
        for key, kind, target in (
            ("overflow_target", q.overflow, q.overflow_target),
            ("exit_target", q.exit_to, q.exit_target),
        ):
            if target and kind in kinds and target not in kinds[kind]:
                out.append(f"queues[{i}].{key}: '{target}' is not a {kind} ({q.name} sends callers there)")
    return out


def build_acd(daemon: Daemon) -> Acd:
    """The ACD for this daemon's configuration, wired to its engine (idempotent)."""
    existing = getattr(daemon, "acd", None)
    if existing is not None:
        return existing
    engine = daemon.engine
    assert engine is not None
    cfg = daemon.config
    acd_cfg = getattr(cfg, "acd", None)
    acd = Acd(
        engine,  # type: ignore[arg-type]
        queue_specs(cfg),
        reasons=tuple(acd_cfg.reasons) if acd_cfg else None,
        max_no_answer=acd_cfg.max_no_answer if acd_cfg else 3,
        seed=acd_cfg.seed if acd_cfg else 0,
        tz=office_tz(cfg),
        dispositions=tuple(getattr(acd_cfg, "dispositions", ())),
    )
    acd.configure_agents(agent_settings(cfg))
    for problem in target_warnings(cfg):
        log.warning("%s", problem)
    engine.register_app("queue", lambda target: AcdApp(acd, _known_queue(acd, target)))
    daemon.acd = acd  # type: ignore[attr-defined]

    daemon.tickers.append(acd.tick)
    hooks = getattr(daemon, "reload_hooks", None)
    if hooks is None:
        hooks = daemon.reload_hooks = []  # type: ignore[attr-defined]
    hooks.append(lambda config: apply_config(daemon, acd, config))
    return acd


def apply_config(daemon: Daemon, acd: Acd, config: Any) -> dict[str, list[str]]:
    """The reload hook: a checked configuration's queues, agents and [acd] onto the running ACD."""
    for problem in target_warnings(config):
        log.warning("%s", problem)
    acd_cfg = getattr(config, "acd", None)
    result = acd.reconfigure(
        queue_specs(config),
        agent_settings(config),
        reasons=tuple(acd_cfg.reasons) if acd_cfg else None,
        max_no_answer=acd_cfg.max_no_answer if acd_cfg else None,
        dispositions=tuple(getattr(acd_cfg, "dispositions", ())),
        tz=office_tz(config),
    )
    if daemon.engine is not None:
        daemon._apply(daemon.engine.drain())  # offers the new settings made at once
    return result


def _known_queue(acd: Acd, name: str | None) -> str:
    if not name or name not in acd.queues:
        raise KeyError(f"no queue {name!r}")
    if not acd.accepts(name):
        raise KeyError(f"queue {name!r} was removed from the configuration: it takes no new callers")
    return name


async def restore_agents(daemon: Daemon, acd: Acd) -> int:
    """Log agents back in as the journal last saw them (calls in progress are gone after a restart)."""
    now = daemon.clock.wall()
    rows = await daemon.store.journal.between(now - RESTORE_DAYS * 86400, now + 1)
    wanted = [r for r in rows if r.event in ("AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE")]
    restored = 0
    for login, (state, reason, ext) in restore_states(wanted).items():
        agent = acd.book.agents.get(login)
        if agent is not None and agent.state.value != "logged_out":
            continue  # logged in again since the restart began
        user = await daemon.store.users.find(login)
        try:
            acd.login(
                login,
                name=user.name if user else "",
                extension=ext,
                agent_no=(user.agent_no if user else None) or login,
                ready=state == "ready",
                reason=reason or "restart",
            )
            restored += 1
        except AcdError as exc:
            log.warning("agent %s not restored: %s", login, exc.message)
    if restored:
        log.info("%d agent(s) restored from the journal", restored)
    daemon._apply(daemon.engine.drain())  # type: ignore[union-attr]
    return restored


async def _cdr_userfield(daemon: Daemon, uniqueid: str, userfield: str) -> bool:
    """Set the CDR's userfield; False (logged) if the call has no record."""
    from ccd.store.errors import NotFoundError

    for attempt in range(2):
        try:
            await daemon.store.calls.update(uniqueid, userfield=userfield)
            return True
        except NotFoundError:
            if attempt == 0:
                await daemon.flush()  # its call_begin may still be queued
    log.warning("call %s has no call record: disposition %r only journaled", uniqueid, userfield)
    return False


def build_registry(daemon: Daemon) -> CommandRegistry:
    reg = CommandRegistry()
    # the docs generator calls this with daemon=None: it only needs the commands
    acd: Any = build_acd(daemon) if daemon is not None else None

    async def start() -> None:
        # runs once the server object exists (this is called while it is being built)
        for _ in range(100):
            if daemon.server is not None:
                break
            await asyncio.sleep(0)
        if daemon.server is not None:
            daemon.server.add_snapshot("agent", snap_agents)
            daemon.server.add_snapshot("queue", snap_queues)
        try:
            await restore_agents(daemon, acd)
        except Exception:
            log.exception("agent states could not be restored from the journal")

    async def snap_agents(ctx: Any) -> list[dict[str, Any]]:
        return acd.agent_snapshots()

    async def snap_queues(ctx: Any) -> list[dict[str, Any]]:
        return [acd.queue_snapshot(name) for name in acd.queues]

    ready: asyncio.Task[None] | None = None
    if daemon is not None:
        ready = asyncio.get_running_loop().create_task(start(), name="ccd-acd-start")
        daemon._acd_ready = ready  # type: ignore[attr-defined]

    def done() -> None:
        daemon._apply(daemon.engine.drain())  # type: ignore[union-attr]

    async def settle() -> None:
        if ready is not None and not ready.done():
            await ready

    def me(ctx: RequestContext, args: dict[str, Any]) -> str:
        """The agent a request is about: the caller's own login, or (supervisors) `agent`."""
        agent = optional(args, "agent", str)
        own = ctx.user.login if ctx.user else None
        if agent is None:
            if own is None:
                raise RpcError(E_INVALID_ARGS, "missing argument 'agent'")
            return own
        if agent != own:
            ctx.require_role("supervisor")
        return agent

    def wrap(fn: Any) -> Any:
        try:
            return fn()
        except AcdError as exc:
            raise RpcError(exc.code, exc.message) from None
        finally:
            done()

    # ------------------------------------------------------------------ agent state
    @reg.command(
        "agent.login",
        role="agent",
        doc="Log in as an agent at an extension (default: the user's own) — ready, or not ready with ready=false.",
        example={"extension": "801"},
    )
    async def agent_login(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "extension", "agent", "ready")
        await settle()
        login = me(ctx, args)
        ext = optional(args, "extension", str)
        user = await daemon.store.users.find(login)
        if user is None:
            raise RpcError(E_NOT_FOUND, f"no user {login!r}")
        ext = ext or user.extension
        ready_flag = optional(args, "ready", bool, True)
        agent = wrap(
            lambda: acd.login(
                login,
                name=user.name,
                extension=ext,
                agent_no=user.agent_no or login,
                ready=ready_flag,
                reason="login",
            )
        )
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command("agent.logout", role="agent", doc="Log out (after the current call, if on one).", example={})
    async def agent_logout(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent")
        await settle()
        agent = wrap(lambda: acd.set_state(me(ctx, args), "logged_out"))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command("agent.ready", role="agent", doc="Ready to take calls (置闲).", example={})
    async def agent_ready(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent")
        await settle()
        agent = wrap(lambda: acd.set_state(me(ctx, args), "ready"))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command(
        "agent.not_ready",
        role="agent",
        doc="Not ready (置忙) with a reason code; on a call it applies when the call ends.",
        example={"reason": "lunch"},
    )
    async def agent_not_ready(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent", "reason")
        await settle()
        reason = optional(args, "reason", str, "break")
        agent = wrap(lambda: acd.set_state(me(ctx, args), "not_ready", reason))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command(
        "agent.state",
        role="agent",
        doc="An agent's state (default: your own), with the wrap-up codes they may give "
        "(`dispositions`, empty if none are configured), their `last_call` and its `disposition`.",
        example={},
    )
    async def agent_state(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent")
        await settle()
        login = me(ctx, args)
        agent = acd.book.agents.get(login)
        if agent is None:
            return {"agent": login, "state": "logged_out", "dispositions": list(acd.dispositions)}
        return {**agent.snapshot(daemon.clock.wall() - daemon.clock.now()), **acd.coding(agent)}

    @reg.command(
        "agent.list", role="agent", doc="Every known agent with state and today's counters.", example={}
    )
    async def agent_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        await settle()
        return acd.agent_snapshots()

    @reg.command(
        "queue.list",
        role="agent",
        doc="Every queue: callers waiting, agents, today's counts and service level. A queue removed by "
        "`ccd reload` is listed with `retired: true` until the callers still in it are served or leave.",
        example={},
    )
    async def queue_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        return [acd.queue_snapshot(name) for name in acd.queues]

    @reg.command(
        "call.wrapup_done", role="agent", doc="End after-call work now and take calls again.", example={}
    )
    async def wrapup_done(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent")
        agent = wrap(lambda: acd.wrapup_done(me(ctx, args)))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command(
        "call.disposition",
        role="agent",
        doc="Code your current or last call with a wrap-up code of [acd] dispositions (also during "
        "wrap-up; the last code wins), with an optional note. Stored on the call record (userfield "
        "'CODE: note') and journaled as a DISPOSITION queue_log row. Supervisors may name an 'agent'.",
        example={"call": "1767603600.1", "code": "SALE", "note": "2 boxes"},
    )
    async def call_disposition(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call", "code", "note", "agent")
        await settle()
        login = me(ctx, args)
        call_id = optional(args, "call", str)
        code = require(args, "code", str)
        note = optional(args, "note", str, "")
        coded = wrap(lambda: acd.disposition(login, call_id, code, note))
        userfield = f"{coded['code']}: {coded['note']}" if coded["note"] else coded["code"]
        stored = await _cdr_userfield(daemon, coded["call"], userfield)
        return {**coded, "stored": stored}

    @reg.command(
        "agent.force_state",
        role="supervisor",
        doc="Set another agent's state (ready, not_ready with a reason, logged_out).",
        example={"agent": "1001", "state": "not_ready", "reason": "meeting"},
    )
    async def force_state(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent", "state", "reason")
        await settle()
        login = require(args, "agent", str)
        state = require(args, "state", str, choices=STATES)
        reason = optional(args, "reason", str, "")
        agent = wrap(lambda: acd.set_state(login, state, reason))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    @reg.command(
        "agent.force_logout",
        role="supervisor",
        doc="Log another agent out (after their current call).",
        example={"agent": "1001"},
    )
    async def force_logout(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent")
        await settle()
        login = require(args, "agent", str)
        agent = wrap(lambda: acd.set_state(login, "logged_out"))
        return agent.snapshot(daemon.clock.wall() - daemon.clock.now())

    # ------------------------------------------------------------------ call control
    def my_call(ctx: RequestContext, args: dict[str, Any]) -> tuple[Any, AcdApp]:
        engine = daemon.engine
        if engine is None:
            raise RpcError(E_UNAVAILABLE, "the call engine is not running")
        call_id = require(args, "call", str)
        call = engine.calls.get(call_id)
        if call is None:
            raise RpcError(E_NO_CALL, f"no call {call_id!r} in progress")
        ext = ctx.user.extension if ctx.user else None
        agent = acd.book.agents.get(ctx.user.login) if ctx.user else None
        if agent is not None and agent.extension:
            ext = agent.extension
        if ext not in call.lines:
            ctx.require_role("supervisor")
            ext = None
        app = wrap(lambda: acd.control_app(call, ext))
        return call, app

    @reg.command(
        "call.answer",
        role="agent",
        doc="Answer the call ringing at your phone. On the simulated office this lifts the virtual "
        "phone; on real lines the agent lifts the handset.",
        example={"call": "1767603600.1"},
    )
    async def call_answer(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        engine = daemon.engine
        assert engine is not None
        call_id = require(args, "call", str)
        call = engine.calls.get(call_id)
        if call is None:
            raise RpcError(E_NO_CALL, f"no call {call_id!r} in progress")
        agent = acd.book.agents.get(ctx.user.login) if ctx.user else None
        ext = (agent.extension if agent else None) or (ctx.user.extension if ctx.user else None)
        if ext is None or (ext not in call.offered and ext != call.channel):
            raise RpcError(E_NO_CALL, f"call {call_id} is not ringing at your phone")
        sim = daemon.sim
        if sim is None or ext not in getattr(sim, "phones", {}):
            raise RpcError(
                E_UNSUPPORTED, "this phone is a real handset: lift it to answer (ccd cannot take it off-hook)"
            )
        sim.phone(ext, "offhook")
        return {"call": call_id, "extension": ext}

    @reg.command(
        "call.hold",
        role="agent",
        doc="Put the caller on hold (they hear music).",
        example={"call": "1767603600.1"},
    )
    async def call_hold(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call, app = my_call(ctx, args)
        wrap(lambda: acd.hold(app, call))
        return {"call": call.uniqueid, "held": True}

    @reg.command(
        "call.retrieve", role="agent", doc="Take the caller off hold.", example={"call": "1767603600.1"}
    )
    async def call_retrieve(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call, app = my_call(ctx, args)
        wrap(lambda: acd.hold_off(app, call))
        return {"call": call.uniqueid, "held": False}

    @reg.command(
        "call.transfer",
        role="agent",
        doc="Transfer to an extension, an agent or a queue: blind (at once) or consult (talk first, "
        "then call.transfer_complete / call.transfer_cancel). A busy or unknown target leaves the "
        "call with you (E_TARGET_BUSY / E_TARGET_UNKNOWN).",
        example={"call": "1767603600.1", "target": "802", "mode": "consult"},
    )
    async def call_transfer(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call", "target", "mode")
        target = require(args, "target", str)
        mode = optional(args, "mode", str, "blind")
        if mode not in ("blind", "consult"):
            raise RpcError(E_INVALID_ARGS, f"argument 'mode' must be 'blind' or 'consult', not {mode!r}")
        call, app = my_call(ctx, args)
        result = wrap(lambda: acd.transfer(app, call, target, mode))
        return {"call": call.uniqueid, "mode": mode, **result}

    @reg.command(
        "call.transfer_complete",
        role="agent",
        doc="Finish a consultative transfer: the caller talks to the consulted party, you leave.",
        example={"call": "1767603600.1"},
    )
    async def transfer_complete(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call, app = my_call(ctx, args)
        wrap(lambda: acd.transfer_complete(app, call))
        return {"call": call.uniqueid, "transferred": True}

    @reg.command(
        "call.transfer_cancel",
        role="agent",
        doc="Abandon a consultative transfer and take the caller back.",
        example={"call": "1767603600.1"},
    )
    async def transfer_cancel(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call, app = my_call(ctx, args)
        wrap(lambda: acd.transfer_cancel(app, call))
        return {"call": call.uniqueid, "transferred": False}

    @reg.command(
        "call.conference",
        role="agent",
        doc="Three-way call: the caller, you and the party you consulted all hear each other.",
        example={"call": "1767603600.1"},
    )
    async def call_conference(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call")
        call, app = my_call(ctx, args)
        wrap(lambda: acd.conference(app, call))
        return {"call": call.uniqueid, "conference": sorted({*(app.party), app.ext or ""} - {""})}

    @reg.command(
        "call.dtmf",
        role="agent",
        doc="Send DTMF digits to the far end.",
        example={"call": "1767603600.1", "digits": "123#"},
    )
    async def call_dtmf(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "call", "digits")
        digits = require(args, "digits", str)
        if not digits or not all(c in "0123456789*#ABCDabcd" for c in digits):
            raise RpcError(E_INVALID_ARGS, "argument 'digits' must be DTMF keys (0-9 * # A-D)")
        engine = daemon.engine
        assert engine is not None
        call_id = require(args, "call", str)
        call = engine.calls.get(call_id)
        if call is None:
            raise RpcError(E_NO_CALL, f"no call {call_id!r} in progress")
        if ctx.user is not None and ctx.user.extension not in call.lines:
            agent = acd.book.agents.get(ctx.user.login)
            if agent is None or agent.extension not in call.lines:
                ctx.require_role("supervisor")
        trunk = engine.lines.get(call.trunk) if call.trunk else None
        if trunk is None or not trunk.caps.play:
            raise RpcError(E_UNSUPPORTED, "this call has no line ccd can send tones on")
        engine.send_dtmf(call, digits.upper())
        done()
        return {"call": call_id, "digits": digits}

    # ------------------------------------------------------------------ supervisor
    def monitored(args: dict[str, Any]) -> tuple[Any, AcdApp]:
        engine = daemon.engine
        assert engine is not None
        call_id = optional(args, "call", str)
        login = optional(args, "agent", str)
        if call_id is None and login is None:
            raise RpcError(E_INVALID_ARGS, "name the 'agent' or the 'call' to monitor")
        if call_id is None:
            agent = acd.book.agents.get(login or "")
            if agent is None or agent.call is None:
                raise RpcError(E_NO_CALL, f"agent {login} is not on a call")
            call_id = agent.call
        call = engine.calls.get(call_id)
        if call is None:
            raise RpcError(E_NO_CALL, f"no call {call_id!r} in progress")
        app = wrap(lambda: acd.control_app(call, None))
        return call, app

    def monitor_cmd(mode: str, doc: str) -> None:
        async def handler(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
            reject_unknown(args, "agent", "call", "extension")
            sup = optional(args, "extension", str) or (ctx.user.extension if ctx.user else None)
            if not sup:
                raise RpcError(E_INVALID_ARGS, "missing argument 'extension' (the supervisor's phone)")
            call, app = monitored(args)
            wrap(lambda: acd.monitor(app, call, sup, mode))
            return {"call": call.uniqueid, "extension": sup, "mode": mode}

        reg.add(
            f"monitor.{mode}",
            handler,
            role="supervisor",
            doc=doc,
            example={"agent": "1001", "extension": "809"},
        )

    monitor_cmd("listen", "Silent monitoring: your phone rings; lift it to hear the agent and the caller.")
    monitor_cmd("whisper", "Coach: you hear both sides and only the agent hears you.")
    monitor_cmd("barge", "Barge in: a three-way call with the agent and the caller.")

    @reg.command(
        "monitor.stop",
        role="supervisor",
        doc="Stop monitoring a call.",
        example={"call": "1767603600.1", "extension": "809"},
    )
    async def monitor_stop(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "agent", "call", "extension")
        sup = optional(args, "extension", str) or (ctx.user.extension if ctx.user else None)
        if not sup:
            raise RpcError(E_INVALID_ARGS, "missing argument 'extension' (the supervisor's phone)")
        call, app = monitored(args)
        wrap(lambda: acd.monitor_stop(app, call, sup))
        return {"call": call.uniqueid, "extension": sup, "stopped": True}

    return reg
