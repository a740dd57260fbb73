"""Queues: callers waiting in line, offers to agents, and the agent's call controls (sans-IO).

`Acd` is the coordinator. It owns the `AgentBook` (the one owner of agent state), the
queues and the callers waiting in them, and acts on calls only through the engine's
call-control methods (`AcdControl`). Every queue decision is journaled with Asterisk's
queue_log names and parameters (FEATURES.md §4.1), so reports and `ccd queuelog export`
are rebuilt from the journal, never from counters that vanish on restart.

The engine hands each queued call to an `AcdApp` (registered as the "queue" application),
which forwards the call's events here. All timing (offer timeouts, retries, announcements,
maximum wait, wrap-up ends) is checked in `tick(now)`, which the daemon calls every 20 ms.

Decisions worth knowing:

- **Order of service** across all queues: higher caller priority first (VIP), then the
  earlier arrival. A caller who took a callback keeps their arrival number, so they are
  called back exactly when their turn comes and never jump ahead of live callers
  (FEATURES pain point 6).
- **Position announcements** say the caller's place among the callers of their queue
  (callbacks included), at join and every `announce_frequency` seconds. The periodic one
  is skipped while an agent's phone is ringing for that caller, and never plays after an
  agent answered (pain point 3: head-caller announcements wasting time, announcements
  overlapping the agent).
- **Join and leave rules**: a caller who may not join (`join_when`) or must leave
  (`leave_when`) gets ENTERQUEUE then EXITEMPTY, so they still count in reports, and goes
  to the overflow destination.
- **Callbacks**: the caller presses `callback_key`, hears the confirmation and hangs up;
  their entry stays in line. When it reaches the front, an agent is reserved (their phone
  rings); when they lift it a trunk is seized and the caller dialled (the engine's
  click-to-dial path). The CONNECT row then carries the hold time since the first call.
  An unanswered callback is tried again after `callback_retry` seconds, in the same place,
  up to `callback_attempts` times, then EXITWITHTIMEOUT.
- **Blind transfer with no answer** puts the caller back in the call's queue (or ends the
  call when it had none); the transferring agent is already in wrap-up.
- **`announce_position_only_up`**: the first announcement always says the place (Asterisk's
  option never announced at all, asterisk#1386); later ones say it only when it is not worse
  than the last place announced (a VIP who joins ahead does not make a caller hear "you are
  now 4th" after "3rd"); the estimated wait is still said.
- **Withdrawn offers**: when a ringing phone stops because the caller hung up, left the line,
  or another agent answered first (ring_all), the agent's row is RINGCANCELED with the ring
  time in ms (Asterisk's event), so reports can tell a cancelled ring from RINGNOANSWER.
- **Reload** (`reconfigure()`): a changed queue takes its new settings at the next decision
  (strategy, timeouts, wrap-up for the next call, announcements: a shorter interval applies
  to the callers waiting now); a new queue takes callers at once; a removed queue is
  *retired*: it takes no new callers (routes to it fail like an unknown queue) but the
  callers already in it keep their place and are served, time out or overflow under its
  last settings; it disappears once nobody waits in it and no call of it is with an agent.
  Agents' skills and own wrap-up come from `[[agents]]` again (a login no longer listed has
  no skills and the queue's wrap-up); a wrap-up in progress keeps its end time. A
  CONFIGRELOAD row is journaled.
- **Today's counters** (agents' calls and talk time, the queues' counts and service level
  and `fewest_calls`' per-agent counts) start again at the office's midnight (`tz`, from
  `[callcenter] timezone`); the journal keeps every day, reports read it.
- **Dispositions** (wrap-up codes, `[acd] dispositions`): an agent codes the call they are
  on or just finished (during wrap-up, or after it until their next call); the code is
  journaled as a DISPOSITION row (code, note) and set on the CDR by the server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import random
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ccd.telephony.acd import (
    WITH_CALL,
    Agent,
    AgentBook,
    AgentState,
    IllegalAgentTransition,
    RankContext,
    rank,
)
from ccd.telephony.apps import CallApp, CallControl

if TYPE_CHECKING:
    import numpy as np

    from ccd.telephony.engine import Call
    from ccd.telephony.line import Line

log = logging.getLogger(__name__)
A = AgentState
OVERFLOW_KINDS = ("hangup", "queue", "ivr", "voicemail", "extension")


class AcdError(Exception):
    """A request the ACD refuses; `code` is one of ccd.ipc.errors' names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class AcdControl(CallControl, Protocol):
    """The call control the ACD needs beyond a plain application's (implemented by the Engine)."""

    calls: dict[str, Call]
    apps: dict[str, Any]
    prompts: Any

    def originate(self, ext_id: str, number: str) -> Call: ...

    def ext(self, extension: str) -> Line | None: ...

    def hold(self, call: Call, extension: str, music: np.ndarray) -> None: ...

    def retrieve(self, call: Call, extension: str) -> None: ...

    def talk(self, a: str, b: str) -> None: ...

    def conference(self, call: Call, extensions: Sequence[str]) -> None: ...

    def listen(self, call: Call, supervisor: str, agent_ext: str, mode: str) -> None: ...

    def send_dtmf(self, call: Call, digits: str) -> None: ...


@dataclass
class QueueSpec:
    """One queue's settings (built from `[[queues]]`; tests build them directly)."""

    name: str
    strategy: str = "longest_idle"
    skills: dict[str, int] = field(default_factory=dict)  # required skill -> minimum level
    members: tuple[str, ...] = ()  # agent logins; empty: every agent with the skills
    skill_first: bool = True
    ring_timeout: float = 15.0
    retry: float = 2.0
    wrap_up: float = 10.0
    max_wait: float = 0.0  # 0: no limit
    overflow: str = "hangup"
    overflow_target: str | None = None
    exit_key: str = ""
    exit_to: str = "voicemail"
    exit_target: str | None = None
    join_when: str = "always"  # always | logged_in | ready
    leave_when: str = "never"  # never | no_logged_in | no_ready
    announce_position: bool = True
    announce_holdtime: bool = True
    announce_frequency: float = 30.0
    announce_position_only_up: bool = False
    periodic_announce: tuple[str, ...] = ()
    periodic_frequency: float = 60.0
    moh: str = "moh"
    announce_agent: bool = True
    callback_key: str = ""
    callback_attempts: int = 2
    callback_retry: float = 60.0
    priority: int = 0
    service_level: float = 30.0
    default_handle_time: float = 120.0
    survey: bool = False


@dataclass
class QueueState:
    spec: QueueSpec
    last_index: int = -1  # round robin memory
    calls: dict[str, int] = field(default_factory=dict)  # answered per agent
    handle_ema: float | None = None
    entered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    abandoned_after: int = 0  # abandoned after the service-level threshold
    retired: bool = False  # removed from the configuration: no new callers, drains


@dataclass(eq=False)
class Entry:
    """A caller in line (or a callback keeping their place)."""

    callid: str  # the original call's uniqueid: every journal row of this caller uses it
    queue: str
    seq: int
    joined: float
    priority: int
    number: str
    lang: str
    origposition: int
    call: Call | None
    state: str = "waiting"  # waiting | offering | callback | calling_back
    offered: dict[str, str] = field(default_factory=dict)  # agent -> extension ringing
    offer_started: float = 0.0
    tried: list[str] = field(default_factory=list)
    retry_at: float = 0.0
    next_announce: float = 0.0
    next_periodic: float = 0.0
    announced: list[int] = field(default_factory=list)  # positions announced, in order
    callback: bool = False
    cb_attempts: int = 0
    cb_call: str | None = None


class AcdApp(CallApp):
    """One call under the ACD: waiting in a queue, then with an agent (and their controls)."""

    kind = "queue"

    def __init__(self, acd: Acd, queue: str | None) -> None:
        self.acd = acd
        self.queue = queue
        self.entry: Entry | None = None
        self.callid = ""
        self.joined = 0.0
        self.origposition = 0
        self.agent: str | None = None  # the agent talking with the caller
        self.ext: str | None = None  # their extension (or a plain extension after a transfer)
        self.answered_at: float | None = None
        self.bridged = False
        self.held = False
        self.logged = False  # COMPLETE*/TRANSFER written: later agents are not counted again
        self.done = False
        self.consult: dict[str, Any] | None = None  # {ext, agent, mode, answered}
        self.party: set[str] = set()  # extra extensions in a conference
        self.monitors: dict[str, str] = {}  # supervisor extension -> mode (pending or live)

    def start(self, ctl: CallControl, call: Call) -> None:
        self.acd.join(self, call)

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        self.acd.digit(self, call, digit)

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        self.acd.play_done(self, call, tag)

    def on_answered(self, ctl: CallControl, call: Call, line: Line) -> None:
        self.acd.answered(self, call, line)

    def on_ring_timeout(self, ctl: CallControl, call: Call, line: Line) -> None:
        self.acd.ring_timeout(self, call, line)

    def on_party_left(self, ctl: CallControl, call: Call, line: Line) -> bool:
        return self.acd.party_left(self, call, line)

    def on_caller_gone(self, ctl: CallControl, call: Call) -> None:
        self.acd.finish(self, call, by="caller")

    def stop(self, ctl: CallControl, call: Call) -> None:
        if not self.done:
            self.acd.finish(self, call, by="system")

    def snapshot(self) -> dict[str, Any]:
        return {
            "app": self.kind,
            "queue": self.queue,
            "agent": self.agent,
            "extension": self.ext,
            "held": self.held,
            "consult": dict(self.consult) if self.consult else None,
            "conference": sorted(self.party),
            "waiting": self.entry is not None,
        }


class CallbackApp(CallApp):
    """The call placed for a callback: the reserved agent's phone rings, then the caller is dialled."""

    kind = "callback"

    def __init__(self, acd: Acd, entry: Entry, agent: str, ext: str) -> None:
        self.acd, self.entry, self.agent, self.ext = acd, entry, agent, ext
        self.lifted = False  # the agent took the phone: a trunk is seized and the caller dialled
        self.connected = False  # the caller answered
        self.answered_at = 0.0
        self.no_answer = False
        self.done = False
        self.agent_left = False

    def on_answered(self, ctl: CallControl, call: Call, line: Line) -> None:
        self.acd.callback_answered(self, call)

    def on_ring_timeout(self, ctl: CallControl, call: Call, line: Line) -> None:
        self.acd.callback_no_answer(self, call)

    def on_party_left(self, ctl: CallControl, call: Call, line: Line) -> bool:
        self.agent_left = True
        return False

    def stop(self, ctl: CallControl, call: Call) -> None:
        self.acd.callback_ended(self, call)

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind, "queue": self.entry.queue, "agent": self.agent, "for": self.entry.callid}


class Acd:
    """Queues, waiting callers and the agent book, driven by call events and `tick(now)`."""

    def __init__(
        self,
        ctl: AcdControl,
        queues: Sequence[QueueSpec],
        *,
        reasons: Sequence[str] | None = None,
        max_no_answer: int = 3,
        seed: int = 0,
        tz: dt.tzinfo | None = None,
        dispositions: Sequence[str] = (),
    ) -> None:
        self.ctl = ctl
        kwargs: dict[str, Any] = {"max_no_answer": max_no_answer, "call_alive": self._call_alive}
        if reasons:
            kwargs["reasons"] = tuple(reasons)
        self.book = AgentBook(**kwargs)
        self.book.listeners.append(self._agent_changed)
        self.queues: dict[str, QueueState] = {q.name: QueueState(q) for q in queues}
        self.entries: dict[str, Entry] = {}
        self.apps: dict[str, AcdApp] = {}  # call uniqueid -> its app
        self.callbacks: dict[str, CallbackApp] = {}
        self.rng = random.Random(seed)
        self._seq = itertools.count(1)
        self._last_pub = -1.0
        self.now = 0.0
        self.tz: dt.tzinfo = tz or dt.UTC
        self._next_midnight: float | None = None  # wall time the counters start again
        self.dispositions: tuple[str, ...] = tuple(dispositions)
        self.coded: OrderedDict[str, tuple[str, str]] = OrderedDict()  # call -> (code, note), recent
        self.configured_agents: set[str] = set()  # logins whose skills come from [[agents]]

    # ------------------------------------------------------------------ helpers
    @property
    def t(self) -> float:
        return self.ctl.now

    def _call_alive(self, call_id: str) -> bool:
        call = self.ctl.calls.get(call_id)
        return call is not None and call.end is None

    def _fire(self, agent_id: str, event: str, **kw: Any) -> bool:
        try:
            self.book.fire(agent_id, event, self.t, **kw)
            return True
        except (IllegalAgentTransition, LookupError) as exc:
            log.error("ACD: %s", exc)
            return False

    def _journal(self, callid: str | None, queue: str | None, agent: str | None, event: str, *data: Any):
        self.ctl.journal(
            _Ref(callid) if callid else None,
            queue or "NONE",
            f"Agent/{agent}" if agent else "NONE",
            event,
            *data,
        )

    def _wall(self, mono: float) -> float:
        return self.ctl.wall() - (self.t - mono)

    def _agent_changed(self, agent: Agent, old: AgentState, event: str) -> None:
        if old is A.WRAP_UP and agent.state is not A.WRAP_UP:
            # Asterisk writes no row when wrap-up ends; ccd does, so AHT and the agents' time
            # split count the wrap-up an agent really took (early `wrapup_done`, timer, force).
            self._journal(None, agent.queue, agent.id, "WRAPUPEND", event)
        if event == "login":
            self._journal(None, None, agent.id, "AGENTLOGIN", f"Local/{agent.extension}")
        if agent.state is A.LOGGED_OUT and old is not A.LOGGED_OUT:
            self._journal(None, None, agent.id, "AGENTLOGOFF", f"Local/{agent.extension}", "")
        if agent.state is A.NOT_READY and (old is not A.NOT_READY or event == "not_ready"):
            self._journal(None, None, agent.id, "PAUSE", agent.reason)
        elif old is A.NOT_READY and agent.state is not A.NOT_READY:
            self._journal(None, None, agent.id, "UNPAUSE", "")
        data = agent.snapshot(self.ctl.wall() - self.t)
        data["old"] = old.value
        data["event"] = event
        self.ctl.publish("agent.changed", data, key=agent.id, coalesce=True)

    def queue_snapshot(self, name: str) -> dict[str, Any]:
        q = self.queues[name]
        waiting = [e for e in self.entries.values() if e.queue == name]
        live = [e for e in waiting if e.call is not None]
        members = [a for a in self.book.agents.values() if self._member(q.spec, a)]
        extra = {"retired": True} if q.retired else {}
        return {
            "queue": name,
            **extra,
            "strategy": q.spec.strategy,
            "waiting": len(live),
            "longest_wait": round(max((self.t - e.joined for e in live), default=0.0), 1),
            "callbacks_pending": len(waiting) - len(live),
            "agents_ready": sum(a.state is A.READY for a in members),
            "agents_busy": sum(a.state in WITH_CALL for a in members),
            "agents_wrap_up": sum(a.state is A.WRAP_UP for a in members),
            "agents_not_ready": sum(a.state is A.NOT_READY for a in members),
            "entered": q.entered,
            "answered": q.answered,
            "abandoned": q.abandoned,
            "service_level": round(100.0 * q.answered_in_sl / max(q.answered + q.abandoned_after, 1), 1),
            "service_level_seconds": q.spec.service_level,
            "callers": [
                {
                    "call": e.callid,
                    "number": e.number,
                    "position": position,
                    "wait": round(self.t - e.joined, 1),
                    "priority": e.priority,
                    "state": e.state,
                }
                for position, e in enumerate(self._ordered(name), 1)
            ],
        }

    def _queue_changed(self, name: str) -> None:
        self.ctl.publish("queue.changed", self.queue_snapshot(name), key=name, coalesce=True)

    def _member(self, spec: QueueSpec, agent: Agent) -> bool:
        if spec.members and agent.id not in spec.members:
            return False
        return all(agent.skills.get(s, -1) >= lvl for s, lvl in spec.skills.items())

    def _ordered(self, queue: str | None = None) -> list[Entry]:
        entries = [e for e in self.entries.values() if queue is None or e.queue == queue]
        return sorted(entries, key=lambda e: (-e.priority, e.seq))

    def position(self, entry: Entry) -> int:
        return self._ordered(entry.queue).index(entry) + 1

    def estimated_wait(self, entry: Entry) -> float:
        q = self.queues[entry.queue]
        staffed = [
            a
            for a in self.book.agents.values()
            if self._member(q.spec, a) and a.state not in (A.LOGGED_OUT, A.NOT_READY)
        ]
        handle = q.handle_ema if q.handle_ema is not None else q.spec.default_handle_time
        return self.position(entry) * handle / max(len(staffed), 1)

    # ------------------------------------------------------------------ callers join and wait
    def join(self, app: AcdApp, call: Call) -> None:
        name = app.queue or ""
        q = self.queues[name]
        spec = q.spec
        call.queue = name
        app.callid = call.uniqueid
        self.apps[call.uniqueid] = app
        self.ctl.answer(call)
        entry = Entry(
            call.uniqueid,
            name,
            next(self._seq),
            self.t,
            spec.priority + int(call.vars.get("priority", 0) or 0),
            call.src,
            call.lang,
            0,
            call,
        )
        self.entries[call.uniqueid] = entry
        entry.origposition = self.position(entry)
        app.entry, app.joined, app.origposition = entry, entry.joined, entry.origposition
        q.entered += 1
        self._journal(call.uniqueid, name, None, "ENTERQUEUE", "", call.src, entry.origposition)
        members = [a for a in self.book.agents.values() if self._member(spec, a)]
        if not self._rule_allows(spec.join_when, members):
            self._leave(app, entry, "EXITEMPTY", spec.overflow, spec.overflow_target, reason="joinempty")
            return
        self.ctl.publish(
            "queue.caller_joined",
            {
                "queue": name,
                "call": call.uniqueid,
                "number": call.src,
                "position": entry.origposition,
                "count": sum(e.queue == name for e in self.entries.values()),
                "priority": entry.priority,
            },
            key=name,
        )
        ready = any(a.state is A.READY for a in members)
        # the place in line first: a caller whose agent answers at once still hears it
        names = self._position_prompts(entry)
        if not ready:
            names.append("all_busy")
        elif entry.origposition > 1:  # "you are next" already asks the caller to hold
            names.append("please_hold")
        if spec.callback_key and call.src and (entry.origposition > 1 or not ready):
            names.append("callback_offer")
        entry.next_announce = self.t + spec.announce_frequency
        entry.next_periodic = self.t + spec.periodic_frequency
        self.ctl.play_prompts(call, names, tag="announce")
        self._queue_changed(name)
        self.dispatch()

    def _position_prompts(self, entry: Entry) -> list[str]:
        from ccd.telephony.say import estimated_wait_prompts, queue_position_prompts

        spec = self.queues[entry.queue].spec
        lang = entry.lang if entry.lang in ("zh", "en") else "zh"
        names: list[str] = []
        position = self.position(entry)
        if spec.announce_position and not (
            spec.announce_position_only_up and entry.announced and position > entry.announced[-1]
        ):
            names += queue_position_prompts(position, lang)
            entry.announced.append(position)
        if spec.announce_holdtime and position > 1:
            names += estimated_wait_prompts(self.estimated_wait(entry), lang)
        return names

    @staticmethod
    def _rule_allows(rule: str, members: list[Agent]) -> bool:
        if rule in ("always", "never"):
            return True
        if rule in ("logged_in", "no_logged_in"):
            return any(a.state is not A.LOGGED_OUT for a in members)
        return any(a.state is A.READY for a in members)

    def _music(self, call: Call) -> Any:
        import numpy as np

        spec_moh = "moh"
        app = self.apps.get(call.uniqueid)
        if app is not None and app.queue in self.queues:
            spec_moh = self.queues[app.queue].spec.moh
        prompts = getattr(self.ctl, "prompts", None)
        if prompts is None:
            return np.zeros(160, dtype=np.int16)
        return prompts.get(spec_moh, call.lang)

    def play_done(self, app: AcdApp, call: Call, tag: str) -> None:
        if tag == "announce" and app.entry is not None and call.end is None:
            self.ctl.play_loop(call, self._music(call))
        elif tag == "agent_id" and app.ext is not None and not app.bridged:
            self._bridge(app, call)
        elif tag == "cb_confirm":
            self.ctl.hangup(call)

    def digit(self, app: AcdApp, call: Call, digit: str) -> None:
        entry = app.entry
        if entry is None:
            return
        spec = self.queues[entry.queue].spec
        if spec.exit_key and digit == spec.exit_key:
            self._leave(app, entry, "EXITWITHKEY", spec.exit_to, spec.exit_target, key=digit)
        elif spec.callback_key and digit == spec.callback_key and not entry.callback and entry.number:
            entry.callback = True
            self._journal(entry.callid, entry.queue, None, "CALLBACK", entry.number, self.position(entry))
            self.ctl.play_prompts(call, ["callback_confirm"], tag="cb_confirm")

    def _leave(
        self,
        app: AcdApp,
        entry: Entry,
        event: str,
        kind: str,
        target: str | None,
        *,
        key: str = "",
        reason: str = "",
    ) -> None:
        """The caller leaves the line for another destination (timeout, exit key, empty queue)."""
        position = self.position(entry) if entry.callid in self.entries else entry.origposition
        wait = round(self.t - entry.joined)
        data = (key, position, entry.origposition, wait) if key else (position, entry.origposition, wait)
        self._journal(entry.callid, entry.queue, None, event, *data)
        self._drop(entry, reason or event.lower())
        app.entry = None
        app.done = True
        if self.apps.get(entry.callid) is app:
            del self.apps[entry.callid]
        call = entry.call
        if call is not None and call.end is None:
            self.ctl.stop_play(call)
            self.ctl.route(call, kind, target)

    def _drop(self, entry: Entry, reason: str) -> None:
        """Take an entry out of line and withdraw its offers (RINGCANCELED for each)."""
        self._cancel_offers(entry)
        if self.entries.pop(entry.callid, None) is not None:
            self.ctl.publish(
                "queue.caller_left",
                {
                    "queue": entry.queue,
                    "call": entry.callid,
                    "reason": reason,
                    "wait": round(self.t - entry.joined, 1),
                },
                key=entry.queue,
            )
            self._queue_changed(entry.queue)

    def _cancel_offers(self, entry: Entry) -> None:
        """Phones still ringing for this caller stop: the caller left, or another agent answered."""
        ringtime = round((self.t - entry.offer_started) * 1000)
        for agent_id, ext in list(entry.offered.items()):
            if entry.call is not None and entry.call.end is None:
                self.ctl.stop_ring(entry.call, ext)
            self._journal(entry.callid, entry.queue, agent_id, "RINGCANCELED", ringtime)
            if self.book.agents[agent_id].state is A.RINGING:
                self._fire(agent_id, "withdraw")
        entry.offered.clear()

    # ------------------------------------------------------------------ offers
    def dispatch(self) -> None:
        """Offer waiting callers to free agents: by priority then arrival, across every queue."""
        for entry in self._ordered():
            if entry.state not in ("waiting", "callback") or entry.retry_at > self.t:
                continue
            q = self.queues[entry.queue]
            free = [a for a in self.book.available() if self._member(q.spec, a) and self._phone_free(a)]
            if not free:
                continue
            ctx = RankContext(self.t, self._member_order(q), q.last_index, q.calls, self.rng)
            ranked = rank(
                q.spec.strategy,
                free,
                ctx,
                required=q.spec.skills,
                skill_first=q.spec.skill_first,
                tried=entry.tried,
            )
            if not ranked:
                continue
            if entry.call is None:
                self._call_back(entry, ranked[0])
                continue
            chosen = ranked if q.spec.strategy == "ring_all" else ranked[:1]
            for agent in chosen:
                assert agent.extension is not None
                if self.ctl.ring(entry.call, agent.extension, agent=agent.id):
                    self._fire(agent.id, "offer", call=entry.callid, queue=entry.queue)
                    entry.offered[agent.id] = agent.extension
            if entry.offered:
                entry.state = "offering"
                entry.offer_started = self.t

    def _phone_free(self, agent: Agent) -> bool:
        from ccd.telephony.line import LineState

        line = self.ctl.line(agent.extension or "") or self.ctl.ext(agent.extension or "")
        return line is not None and line.state is LineState.IDLE

    def _member_order(self, q: QueueState) -> list[str]:
        if q.spec.members:
            return list(q.spec.members)
        return sorted(a.id for a in self.book.agents.values() if self._member(q.spec, a))

    def _offer_timed_out(self, entry: Entry) -> None:
        ringtime = round((self.t - entry.offer_started) * 1000)
        for agent_id, ext in list(entry.offered.items()):
            if entry.call is not None:
                self.ctl.stop_ring(entry.call, ext)
            self._journal(entry.callid, entry.queue, agent_id, "RINGNOANSWER", ringtime)
            entry.tried.append(agent_id)
            if self.book.agents[agent_id].state is A.RINGING:
                self._fire(agent_id, "no_answer")
        entry.offered.clear()
        entry.state = "waiting"
        entry.retry_at = self.t + self.queues[entry.queue].spec.retry

    def ring_timeout(self, app: AcdApp, call: Call, line: Line) -> None:
        entry = app.entry
        if entry is not None and line.id in entry.offered.values():
            # the engine's own answer timeout came first: same as ours, for that phone
            agent_id = next(a for a, e in entry.offered.items() if e == line.id)
            ringtime = round((self.t - entry.offer_started) * 1000)
            self._journal(entry.callid, entry.queue, agent_id, "RINGNOANSWER", ringtime)
            del entry.offered[agent_id]
            entry.tried.append(agent_id)
            if self.book.agents[agent_id].state is A.RINGING:
                self._fire(agent_id, "no_answer")
            if not entry.offered:
                entry.state = "waiting"
                entry.retry_at = self.t + self.queues[entry.queue].spec.retry
            return
        if app.consult is not None and line.id == app.consult["ext"]:
            self._consult_failed(app, call)
            return
        if line.id in app.monitors:
            del app.monitors[line.id]

    def answered(self, app: AcdApp, call: Call, line: Line) -> None:
        entry = app.entry
        if entry is not None and line.id in entry.offered.values():
            agent_id = next(a for a, e in entry.offered.items() if e == line.id)
            ringtime = round(self.t - entry.offer_started)
            del entry.offered[agent_id]
            self._drop(entry, "answered")  # other phones (ring all) stop, their agents are free again
            app.entry = None
            q = self.queues[entry.queue]
            self._fire(agent_id, "answer")
            holdtime = round(self.t - entry.joined)
            q.answered += 1
            q.answered_in_sl += holdtime <= q.spec.service_level
            q.calls[agent_id] = q.calls.get(agent_id, 0) + 1
            order = self._member_order(q)
            if agent_id in order:
                q.last_index = order.index(agent_id)
            self._journal(
                entry.callid,
                entry.queue,
                agent_id,
                "CONNECT",
                holdtime,
                f"{call.uniqueid}-{line.id}",
                ringtime,
            )
            app.agent, app.ext, app.answered_at = agent_id, line.id, self.t
            call.agent = agent_id
            agent = self.book.agents[agent_id]
            if q.spec.announce_agent and agent.agent_no:
                from ccd.telephony.say import agent_id_prompts

                try:
                    names = agent_id_prompts(agent.agent_no, call.lang if call.lang in ("zh", "en") else "zh")
                except ValueError:
                    names = []
                if names:
                    self.ctl.play_prompts(call, names, tag="agent_id")
                    return
            self._bridge(app, call)
            return
        if app.consult is not None and line.id == app.consult["ext"]:
            consult = app.consult
            consult["answered"] = True
            if consult["agent"]:
                self._fire(consult["agent"], "answer")
            if consult["mode"] == "blind":
                self._promote(app, call, consult["ext"], consult["agent"])
                app.consult = None
                self.ctl.connect(call, line.id)
            elif app.ext is not None:
                self.ctl.talk(app.ext, line.id)
            return
        if line.id in app.monitors and app.ext is not None:
            self.ctl.listen(call, line.id, app.ext, app.monitors[line.id])
            return
        self.ctl.connect(call, line.id)

    def _bridge(self, app: AcdApp, call: Call) -> None:
        app.bridged = True
        if app.ext is not None and call.end is None:
            self.ctl.connect(call, app.ext)

    def _promote(self, app: AcdApp, call: Call, ext: str, agent: str | None) -> None:
        """`ext` (and its agent, if any) now has the caller."""
        app.ext, app.agent, app.answered_at, app.bridged = ext, agent, self.t, True
        call.agent = agent

    # ------------------------------------------------------------------ leaving
    def party_left(self, app: AcdApp, call: Call, line: Line) -> bool:
        """An extension in the call hung up: True keeps the caller, False ends the call."""
        if line.id in app.monitors:
            del app.monitors[line.id]
            return True
        if app.consult is not None and line.id == app.consult["ext"]:
            agent = app.consult["agent"]
            app.consult = None
            if agent:
                self._release(agent, call.uniqueid, 0.0)
            if app.ext is not None and app.held:
                self.hold_off(app, call)
            return True
        if line.id in app.party:
            app.party.discard(line.id)
            agent = self.book.by_extension(line.id)
            if agent is not None:
                self._release(agent.id, call.uniqueid, self._wrap(agent, app.queue))
            return True
        if line.id == app.ext:
            if app.party:
                # the agent leaves a three-way call: the other party keeps the caller
                other = sorted(app.party)[0]
                app.party.discard(other)
                self._complete(app, call, "COMPLETEAGENT")
                who = self.book.by_extension(other)
                self._promote(app, call, other, who.id if who else None)
                return True
            self._complete(app, call, "COMPLETEAGENT")
            spec = self.queues[app.queue].spec if app.queue in self.queues else None
            if spec is not None and spec.survey and "survey" in getattr(self.ctl, "apps", {}):
                app.done = True
                self.apps.pop(call.uniqueid, None)
                self.ctl.route(call, "survey", app.queue)
                return True
            app.done = True
            self.apps.pop(call.uniqueid, None)
            self._release_all(app, call)
            return False
        return False

    def _release_all(self, app: AcdApp, call: Call) -> None:
        """Whoever else is still on this call as an agent (a colleague who took a transfer
        without an offer, a consulted agent) is free when it ends."""
        for agent in self.book.on_call(call.uniqueid):
            wrap = 0.0 if agent.direct else self._wrap(agent, app.queue)
            self._release(agent.id, call.uniqueid, wrap)

    def finish(self, app: AcdApp, call: Call, by: str) -> None:
        """The call is ending (caller hung up, forced hang-up, line failure): settle everything."""
        if app.done:
            return
        app.done = True
        self.apps.pop(call.uniqueid, None)
        entry = app.entry
        if entry is not None:
            app.entry = None
            if entry.callback and entry.number and entry.callid in self.entries:
                # keeps their place: detached from the call, called back when it is their turn
                self._cancel_offers(entry)
                entry.call = None
                entry.state = "callback"
                self._queue_changed(entry.queue)
                return
            position = self.position(entry) if entry.callid in self.entries else entry.origposition
            wait = round(self.t - entry.joined)
            self._journal(entry.callid, entry.queue, None, "ABANDON", position, entry.origposition, wait)
            q = self.queues[entry.queue]
            q.abandoned += 1
            q.abandoned_after += wait > q.spec.service_level
            self._drop(entry, "abandon")
        elif app.ext is not None:
            self._complete(app, call, "COMPLETECALLER" if by == "caller" else "COMPLETEAGENT")
        if app.consult is not None:
            if app.consult["agent"]:
                self._release(app.consult["agent"], call.uniqueid, 0.0)
            app.consult = None
        for ext in list(app.party):
            agent = self.book.by_extension(ext)
            if agent is not None:
                self._release(agent.id, call.uniqueid, self._wrap(agent, app.queue))
        app.party.clear()
        self._release_all(app, call)
        self.dispatch()

    def _complete(self, app: AcdApp, call: Call, event: str) -> None:
        """The agent's part of the call ends: journal it once and start their wrap-up."""
        agent_id = app.agent
        if agent_id is not None and not app.logged and app.queue in self.queues:
            holdtime = round((app.answered_at or self.t) - app.joined)
            calltime = round(self.t - (app.answered_at or self.t))
            self._journal(app.callid, app.queue, agent_id, event, holdtime, calltime, app.origposition)
            q = self.queues[app.queue]
            q.handle_ema = calltime if q.handle_ema is None else 0.8 * q.handle_ema + 0.2 * calltime
            app.logged = True
        if agent_id is not None:
            self._release(agent_id, call.uniqueid, self._wrap(self.book.agents[agent_id], app.queue))
        app.agent = None
        app.ext = None

    def _wrap(self, agent: Agent, queue: str | None) -> float:
        if agent.wrap_up is not None:
            return agent.wrap_up
        return self.queues[queue].spec.wrap_up if queue in self.queues else 0.0

    def _release(self, agent_id: str, call_id: str, wrap_up: float) -> None:
        agent = self.book.agents.get(agent_id)
        if agent is not None and agent.call == call_id and agent.state in WITH_CALL:
            self._fire(agent_id, "end", wrap_up=wrap_up)

    # ------------------------------------------------------------------ callbacks
    def _call_back(self, entry: Entry, agent: Agent) -> None:
        assert agent.extension is not None
        try:
            call = self.ctl.originate(agent.extension, entry.number)
        except (LookupError, RuntimeError) as exc:
            log.warning("callback to %s via %s not placed: %s", entry.number, agent.extension, exc)
            return
        app = CallbackApp(self, entry, agent.id, agent.extension)
        call.app = app
        call.queue = entry.queue
        call.vars["callback_for"] = entry.callid
        self.callbacks[call.uniqueid] = app
        entry.cb_call = call.uniqueid
        entry.state = "calling_back"
        entry.offered = {agent.id: agent.extension}
        entry.offer_started = self.t
        self._fire(agent.id, "offer", call=call.uniqueid, queue=entry.queue)

    def callback_answered(self, app: CallbackApp, call: Call) -> None:
        """The reserved agent lifted the phone: the caller is being dialled (CONNECT when they answer)."""
        app.lifted = True
        app.entry.offered.clear()  # reserved through this call now, no longer an offer
        self._fire(app.agent, "answer")

    def callback_connected(self, app: CallbackApp, call: Call) -> None:
        """The caller answered the callback: they leave the line, with their whole wait as hold time."""
        entry = app.entry
        app.connected = True
        entry.offered.clear()
        q = self.queues[entry.queue]
        holdtime = round(self.t - entry.joined)
        q.answered += 1
        q.answered_in_sl += holdtime <= q.spec.service_level
        q.calls[app.agent] = q.calls.get(app.agent, 0) + 1
        self._journal(
            entry.callid,
            entry.queue,
            app.agent,
            "CONNECT",
            holdtime,
            call.uniqueid,
            round(self.t - entry.offer_started),
        )
        app.answered_at = self.t
        self._drop(entry, "callback")

    def callback_no_answer(self, app: CallbackApp, call: Call) -> None:
        if app.lifted or app.done:
            return
        app.no_answer = True
        self.ctl.hangup(call)

    def callback_ended(self, app: CallbackApp, call: Call) -> None:
        if app.done:
            return
        app.done = True
        self.callbacks.pop(call.uniqueid, None)
        entry = app.entry
        q = self.queues[entry.queue]
        agent = self.book.agents[app.agent]
        if not app.lifted:
            # the agent did not lift the phone: like any unanswered offer
            ringtime = round((self.t - entry.offer_started) * 1000)
            self._journal(entry.callid, entry.queue, app.agent, "RINGNOANSWER", ringtime)
            entry.tried.append(app.agent)
            entry.offered.clear()
            if agent.state is A.RINGING and agent.call == call.uniqueid:
                self._fire(app.agent, "no_answer")
            entry.state = "callback"
            entry.retry_at = self.t + q.spec.retry
            return
        answered_at = app.answered_at
        if app.connected:
            event = "COMPLETEAGENT" if app.agent_left else "COMPLETECALLER"
            holdtime = round(answered_at - entry.joined)
            self._journal(
                entry.callid,
                entry.queue,
                app.agent,
                event,
                holdtime,
                round(self.t - answered_at),
                entry.origposition,
            )
            self._release(app.agent, call.uniqueid, self._wrap(agent, entry.queue))
        else:
            # the caller did not answer the callback: try again later, same place in line
            self._release(app.agent, call.uniqueid, 0.0)
            entry.cb_attempts += 1
            if entry.cb_attempts >= q.spec.callback_attempts:
                wait = round(self.t - entry.joined)
                self._journal(entry.callid, entry.queue, None, "EXITWITHTIMEOUT", 1, entry.origposition, wait)
            else:
                entry.state = "callback"
                entry.cb_call = None
                entry.retry_at = self.t + q.spec.callback_retry
                self.entries[entry.callid] = entry
        self._queue_changed(entry.queue)
        self.dispatch()

    # ------------------------------------------------------------------ the clock
    def tick(self, now: float) -> None:
        """Wrap-up ends, offer timeouts, announcements, maximum waits, reconciliation, dispatch."""
        self.now = now
        self._calendar()
        for cb_id, cb in list(self.callbacks.items()):
            cb_call = self.ctl.calls.get(cb_id)
            if cb.lifted and not cb.connected and cb_call is not None and cb_call.answer is not None:
                self.callback_connected(cb, cb_call)
        for agent in list(self.book.agents.values()):
            if agent.state is A.WRAP_UP and agent.wrap_until is not None and agent.wrap_until <= now:
                self._fire(agent.id, "wrapup_done")
        self.reconcile()
        for entry in self._ordered():
            if entry.callid not in self.entries:
                continue
            spec = self.queues[entry.queue].spec
            if entry.state == "offering" and now - entry.offer_started >= spec.ring_timeout:
                self._offer_timed_out(entry)
            elif entry.state == "calling_back" and now - entry.offer_started >= spec.ring_timeout:
                cb = self.callbacks.get(entry.cb_call or "")
                cb_call = self.ctl.calls.get(entry.cb_call or "")
                if cb is not None and cb_call is not None and not cb.lifted:
                    self.callback_no_answer(cb, cb_call)
            call = entry.call
            if call is None or entry.callid not in self.entries:
                continue
            app = self.apps.get(entry.callid)
            if app is None:
                continue
            if spec.max_wait and now - entry.joined >= spec.max_wait and entry.state != "offering":
                self._leave(app, entry, "EXITWITHTIMEOUT", spec.overflow, spec.overflow_target)
                continue
            if spec.leave_when != "never":
                members = [a for a in self.book.agents.values() if self._member(spec, a)]
                if not self._rule_allows(spec.leave_when, members):
                    self._leave(app, entry, "EXITEMPTY", spec.overflow, spec.overflow_target)
                    continue
            if entry.state == "waiting" and spec.announce_frequency and now >= entry.next_announce:
                entry.next_announce = now + spec.announce_frequency
                names = self._position_prompts(entry)
                if names:
                    self.ctl.play_prompts(call, names, tag="announce")
            elif entry.state == "waiting" and spec.periodic_announce and now >= entry.next_periodic:
                entry.next_periodic = now + spec.periodic_frequency
                self.ctl.play_prompts(call, list(spec.periodic_announce), tag="announce")
        self.dispatch()
        if now - self._last_pub >= 1.0:
            if self.entries:
                self._last_pub = now
                for name in {e.queue for e in self.entries.values()}:
                    self._queue_changed(name)
            self._prune_retired()

    def reconcile(self) -> None:
        """Agents against the calls that exist: nobody stays ringing or on a call that has ended,
        and an agent who is on their phone for a call not from a queue shows as on a call."""
        from ccd.telephony.line import LineState

        for agent in list(self.book.agents.values()):
            if agent.state in WITH_CALL:
                if agent.call is None or not self._call_alive(agent.call):
                    log.warning(
                        "ACD reconcile: agent %s was %s for a finished call", agent.id, agent.state.value
                    )
                    for entry in self.entries.values():
                        entry.offered.pop(agent.id, None)
                        if entry.state == "offering" and not entry.offered:
                            entry.state = "waiting"
                    self._fire(agent.id, "end", wrap_up=0.0)
            elif agent.state in (A.READY, A.NOT_READY, A.WRAP_UP) and agent.extension:
                line = self.ctl.line(agent.extension) or self.ctl.ext(agent.extension)
                if (
                    line is not None
                    and line.state is LineState.CONNECTED
                    and line.call_id
                    and self._call_alive(line.call_id)
                ):
                    self._fire(agent.id, "direct", call=line.call_id)

    # ------------------------------------------------------------------ agents' own requests
    def login(
        self,
        agent_id: str,
        *,
        name: str = "",
        extension: str | None = None,
        agent_no: str | None = None,
        ready: bool = True,
        reason: str = "login",
    ) -> Agent:
        from ccd.ipc.errors import E_CONFLICT, E_INVALID_ARGS, E_TARGET_UNKNOWN

        if not extension:
            raise AcdError(E_INVALID_ARGS, "no extension: pass 'extension' or set one for the user")
        if self.ctl.line(extension) is None and self.ctl.ext(extension) is None:
            raise AcdError(E_TARGET_UNKNOWN, f"no extension {extension!r}")
        other = self.book.by_extension(extension)
        if other is not None and other.id != agent_id:
            raise AcdError(E_CONFLICT, f"extension {extension} is taken by agent {other.id}")
        agent = self.book.ensure(agent_id, name=name or None, agent_no=agent_no or agent_id)
        if agent.state is not A.LOGGED_OUT:
            if agent.extension != extension:
                raise AcdError(
                    E_CONFLICT, f"agent {agent_id} is logged in at {agent.extension}: log out first"
                )
            return agent
        agent.extension = extension
        self._fire(agent_id, "login", ready=ready, reason=reason)
        self._all_queues_changed()
        self.dispatch()
        return agent

    def _all_queues_changed(self) -> None:
        for name in self.queues:
            self._queue_changed(name)

    def _withdraw(self, agent: Agent) -> None:
        """A ringing agent leaves: stop their phone and put the caller back in line."""
        for entry in self.entries.values():
            ext = entry.offered.pop(agent.id, None)
            if ext is not None:
                if entry.call is not None:
                    self.ctl.stop_ring(entry.call, ext)
                elif entry.cb_call and entry.cb_call in self.ctl.calls:
                    cb = self.callbacks.get(entry.cb_call)
                    if cb is not None:
                        cb.no_answer = True
                        cb.done = True
                        self.callbacks.pop(entry.cb_call, None)
                    self.ctl.hangup(self.ctl.calls[entry.cb_call])
                    entry.state = "callback"
                if not entry.offered and entry.state == "offering":
                    entry.state = "waiting"

    def set_state(self, agent_id: str, state: str, reason: str = "") -> Agent:
        """ready / not_ready (reason) / logged_out, now or after the current call."""
        from ccd.ipc.errors import E_INVALID_ARGS, E_NOT_FOUND

        agent = self.book.agents.get(agent_id)
        if agent is None:
            raise AcdError(E_NOT_FOUND, f"agent {agent_id} has never logged in")
        if state == "not_ready":
            reason = reason or "break"
            if reason not in self.book.reasons:
                raise AcdError(
                    E_INVALID_ARGS, f"unknown reason {reason!r}: use one of {', '.join(self.book.reasons)}"
                )
        if agent.state is A.LOGGED_OUT:
            if state == "logged_out":
                return agent
            raise AcdError("E_AGENT_NOT_READY", f"agent {agent_id} is logged out: log in first")
        event = {"ready": "ready", "not_ready": "not_ready", "logged_out": "logout"}.get(state)
        if event is None:
            raise AcdError(E_INVALID_ARGS, f"state must be ready, not_ready or logged_out, not {state!r}")
        if agent.state is A.RINGING and event in ("not_ready", "logout"):
            self._withdraw(agent)
        self._fire(agent_id, event, reason=reason)
        self._all_queues_changed()
        self.dispatch()
        return agent

    def wrapup_done(self, agent_id: str) -> Agent:
        from ccd.ipc.errors import E_CONFLICT

        agent = self.book.get(agent_id)
        if agent.state is not A.WRAP_UP:
            raise AcdError(E_CONFLICT, f"agent {agent_id} is not in wrap-up ({agent.state.value})")
        self._fire(agent_id, "wrapup_done")
        self.dispatch()
        return agent

    # ------------------------------------------------------------------ call controls
    def control_app(self, call: Call, extension: str | None) -> AcdApp:
        """The ACD app of a call an agent is on; a call that came without one (ring group,
        click-to-dial) gets one, so every call an agent holds can be held and transferred."""
        from ccd.ipc.errors import E_NO_CALL, E_UNSUPPORTED

        trunk = self.ctl.line(call.trunk) if call.trunk else None
        if trunk is not None and (trunk.spec.passthrough or not trunk.caps.switching):
            raise AcdError(
                E_UNSUPPORTED,
                f"line {trunk.id} is a pass-through line: the desk phone holds the call and ccd cannot "
                "switch it (hold, transfer, conference and monitoring need a board line)",
            )
        if isinstance(call.app, AcdApp):
            return call.app
        if call.app is not None and type(call.app) is not CallApp:
            raise AcdError(E_NO_CALL, f"call {call.uniqueid} is in {call.app.kind}, not with an agent")
        app = AcdApp(self, None)
        app.callid, app.joined, app.bridged = call.uniqueid, self.t, True
        app.ext = extension if extension in call.lines else call.dstchannel or None
        agent = self.book.by_extension(app.ext or "")
        app.agent = agent.id if agent is not None else None
        app.answered_at = self.t
        call.app = app
        self.apps[call.uniqueid] = app
        return app

    def hold(self, app: AcdApp, call: Call) -> None:
        from ccd.ipc.errors import E_CONFLICT

        if app.ext is None:
            raise AcdError(E_CONFLICT, "the caller is not with an agent")
        if app.held:
            return
        self.ctl.hold(call, app.ext, self._music(call))
        app.held = True
        if app.agent and self.book.agents[app.agent].state is A.ON_CALL:
            self._fire(app.agent, "hold")

    def hold_off(self, app: AcdApp, call: Call) -> None:
        if not app.held or app.ext is None:
            return
        self.ctl.retrieve(call, app.ext)
        app.held = False
        if app.agent and self.book.agents[app.agent].state is A.HOLD:
            self._fire(app.agent, "retrieve")

    def transfer(self, app: AcdApp, call: Call, target: str, mode: str) -> dict[str, Any]:
        """Blind or consultative transfer to an extension, an agent or (blind only) a queue."""
        from ccd.ipc.errors import E_CONFLICT, E_INVALID_ARGS, E_TARGET_BUSY, E_TARGET_UNKNOWN

        if app.ext is None:
            raise AcdError(E_CONFLICT, "the caller is not with an agent")
        if app.consult is not None:
            raise AcdError(E_CONFLICT, "a transfer is already in progress: complete or cancel it")
        if target in self.queues and self.queues[target].retired:
            raise AcdError(E_TARGET_UNKNOWN, f"queue {target!r} was removed from the configuration")
        if target in self.queues:
            if mode != "blind":
                raise AcdError(E_INVALID_ARGS, "a transfer to a queue is blind: use mode 'blind'")
            self._transfer_log(app, "BLINDTRANSFER", target, "queue")
            self._hand_over(app, call)
            app.done = True
            self.apps.pop(call.uniqueid, None)
            self.ctl.route(call, "queue", target)
            return {"target": target, "kind": "queue"}
        agent_target = self.book.agents.get(target)
        if agent_target is not None and agent_target.state is not A.LOGGED_OUT:
            ext = agent_target.extension
        else:
            ext = target
            agent_target = self.book.by_extension(target)
        line = self.ctl.ext(ext or "")
        if line is None:
            raise AcdError(E_TARGET_UNKNOWN, f"no extension, agent or queue {target!r}")
        if ext == app.ext:
            raise AcdError(E_INVALID_ARGS, "that is your own extension")
        from ccd.telephony.line import LineState

        busy = line.state is not LineState.IDLE
        if agent_target is not None and agent_target.state not in (A.READY, A.NOT_READY, A.WRAP_UP):
            busy = True
        if busy:
            raise AcdError(E_TARGET_BUSY, f"{target} is busy; the caller stays with you")
        offered_agent = (
            agent_target.id if agent_target is not None and agent_target.state is A.READY else None
        )
        self.hold(app, call)
        if not self.ctl.ring(call, line.id, agent=offered_agent):
            self.hold_off(app, call)
            raise AcdError(E_TARGET_BUSY, f"{target} is busy; the caller stays with you")
        if offered_agent:
            self._fire(offered_agent, "offer", call=call.uniqueid, queue=app.queue)
        app.consult = {
            "ext": line.id,
            "agent": offered_agent,
            "mode": mode,
            "answered": False,
            "from": app.ext,
        }
        if mode == "blind":
            self._transfer_log(app, "BLINDTRANSFER", line.id, "extension")
            self._hand_over(app, call)
        return {"target": line.id, "kind": "agent" if agent_target else "extension", "agent": offered_agent}

    def _transfer_log(self, app: AcdApp, event: str, target: str, context: str) -> None:
        if app.agent is None or app.logged or app.queue not in self.queues:
            return
        holdtime = round((app.answered_at or self.t) - app.joined)
        calltime = round(self.t - (app.answered_at or self.t))
        if event == "BLINDTRANSFER":
            data: tuple[Any, ...] = (target, context, holdtime, calltime, app.origposition)
        else:
            data = ("BRIDGE", target, holdtime, calltime, app.origposition)
        self._journal(app.callid, app.queue, app.agent, event, *data)
        app.logged = True

    def _hand_over(self, app: AcdApp, call: Call) -> None:
        """The transferring agent leaves the call (wrap-up starts); the caller stays."""
        ext, agent = app.ext, app.agent
        if ext is not None:
            self.ctl.disconnect(call, ext)
        if agent is not None:
            self._release(agent, call.uniqueid, self._wrap(self.book.agents[agent], app.queue))
        app.ext, app.agent, app.held = None, None, False

    def _consult_failed(self, app: AcdApp, call: Call) -> None:
        consult, app.consult = app.consult, None
        assert consult is not None
        if consult["agent"] and self.book.agents[consult["agent"]].state is A.RINGING:
            self._fire(consult["agent"], "no_answer")
        self.ctl.publish(
            "call.transfer_failed", {"call": call.uniqueid, "target": consult["ext"], "reason": "no answer"}
        )
        if consult["mode"] == "blind":
            if app.queue in self.queues:
                app.done = True
                self.apps.pop(call.uniqueid, None)
                self.ctl.route(call, "queue", app.queue)
            else:
                self.ctl.hangup(call, "NO ANSWER")
        else:
            self.hold_off(app, call)

    def transfer_complete(self, app: AcdApp, call: Call) -> None:
        from ccd.ipc.errors import E_CONFLICT

        consult = app.consult
        if consult is None or consult["mode"] != "consult":
            raise AcdError(E_CONFLICT, "no consultation in progress")
        if not consult["answered"]:
            raise AcdError(E_CONFLICT, f"{consult['ext']} has not answered yet: wait, or cancel")
        self._transfer_log(app, "ATTENDEDTRANSFER", consult["ext"], "")
        self._hand_over(app, call)
        app.consult = None
        self._promote(app, call, consult["ext"], consult["agent"])
        self.ctl.connect(call, consult["ext"])

    def transfer_cancel(self, app: AcdApp, call: Call) -> None:
        from ccd.ipc.errors import E_CONFLICT

        consult = app.consult
        if consult is None or consult["mode"] != "consult":
            raise AcdError(E_CONFLICT, "no consultation in progress")
        app.consult = None
        if consult["answered"]:
            self.ctl.disconnect(call, consult["ext"])
            if consult["agent"]:
                self._release(consult["agent"], call.uniqueid, 0.0)
        else:
            self.ctl.stop_ring(call, consult["ext"])
            if consult["agent"] and self.book.agents[consult["agent"]].state is A.RINGING:
                self._fire(consult["agent"], "withdraw")
        self.hold_off(app, call)

    def conference(self, app: AcdApp, call: Call) -> None:
        from ccd.ipc.errors import E_CONFLICT

        consult = app.consult
        if consult is None or not consult["answered"] or app.ext is None:
            raise AcdError(E_CONFLICT, "consult someone first (call.transfer mode consult), then conference")
        app.consult = None
        app.held = False
        if app.agent and self.book.agents[app.agent].state is A.HOLD:
            self._fire(app.agent, "retrieve")
        app.party.add(consult["ext"])
        self.ctl.conference(call, [app.ext, *sorted(app.party)])

    def monitor(self, app: AcdApp, call: Call, supervisor_ext: str, mode: str) -> None:
        from ccd.ipc.errors import E_CONFLICT, E_TARGET_BUSY, E_TARGET_UNKNOWN

        if app.ext is None:
            raise AcdError(E_CONFLICT, "the call is not with an agent")
        line = self.ctl.ext(supervisor_ext)
        if line is None:
            raise AcdError(E_TARGET_UNKNOWN, f"no extension {supervisor_ext!r}")
        if supervisor_ext in app.monitors and line.call_id == call.uniqueid:
            app.monitors[supervisor_ext] = mode  # change mode on the fly (listen -> barge)
            self.ctl.listen(call, supervisor_ext, app.ext, mode)
            return
        if not self.ctl.ring(call, supervisor_ext):
            raise AcdError(E_TARGET_BUSY, f"extension {supervisor_ext} is busy")
        app.monitors[supervisor_ext] = mode

    def monitor_stop(self, app: AcdApp, call: Call, supervisor_ext: str) -> None:
        from ccd.ipc.errors import E_CONFLICT

        if supervisor_ext not in app.monitors:
            raise AcdError(E_CONFLICT, f"{supervisor_ext} is not monitoring this call")
        del app.monitors[supervisor_ext]
        line = self.ctl.ext(supervisor_ext)
        if line is not None and supervisor_ext in call.offered:
            self.ctl.stop_ring(call, supervisor_ext)
        else:
            self.ctl.disconnect(call, supervisor_ext)

    # ------------------------------------------------------------------ dispositions
    def disposition(self, agent_id: str, call_id: str | None, code: str, note: str = "") -> dict[str, Any]:
        """Code the agent's current or last call with one of `[acd] dispositions` (the last code wins).

        Returns what was recorded; the caller (the server) also writes it on the CDR.
        """
        from ccd.ipc.errors import E_INVALID_ARGS, E_NO_CALL, E_NOT_FOUND, E_UNSUPPORTED

        if not self.dispositions:
            raise AcdError(E_UNSUPPORTED, "no disposition codes are configured ([acd] dispositions)")
        by_upper = {c.upper(): c for c in self.dispositions}
        known = by_upper.get(code.strip().upper())
        if known is None:
            raise AcdError(
                E_INVALID_ARGS, f"unknown disposition {code!r}: use one of {', '.join(self.dispositions)}"
            )
        agent = self.book.agents.get(agent_id)
        if agent is None or agent.state is A.LOGGED_OUT:
            raise AcdError(E_NOT_FOUND, f"agent {agent_id} is not logged in")
        mine = [c for c in (agent.call if agent.state is not A.RINGING else None, agent.last_call) if c]
        call_id = call_id or (mine[0] if mine else None)
        if call_id is None:
            raise AcdError(E_NO_CALL, f"agent {agent_id} has no call to code")
        if call_id not in mine:
            raise AcdError(E_NO_CALL, f"call {call_id} is not agent {agent_id}'s current or last call")
        # one journal field: no pipes (the queue_log separator), no line breaks, bounded
        clean = " ".join(note.replace("|", "/").split())[:500]
        queue = agent.queue if call_id == agent.call else agent.last_queue
        queue = queue if queue in self.queues else None
        self._journal(call_id, queue, agent_id, "DISPOSITION", known, clean)
        self.coded[call_id] = (known, clean)
        self.coded.move_to_end(call_id)
        while len(self.coded) > 1000:
            self.coded.popitem(last=False)
        data = {"call": call_id, "agent": agent_id, "code": known, "note": clean, "queue": queue}
        self.ctl.publish("call.disposition", data, key=call_id)
        return data

    def coding(self, agent: Agent) -> dict[str, Any]:
        """What the agent terminal needs to offer a disposition picker (for `agent.state`)."""
        coded = self.coded.get(agent.last_call or "") if agent.last_call else None
        return {
            "dispositions": list(self.dispositions),
            "last_call": agent.last_call,
            "disposition": coded[0] if coded else None,
        }

    # ------------------------------------------------------------------ calendar
    def _calendar(self) -> None:
        """Start today's counters again when the office's midnight has passed."""
        wall = self.ctl.wall()
        if self._next_midnight is None:
            self._next_midnight = next_midnight(wall, self.tz)
        elif wall >= self._next_midnight:
            self._next_midnight = next_midnight(wall, self.tz)
            self.new_day()

    def new_day(self) -> None:
        """Agents' calls and talk time, queue counts and service level start at zero."""
        self.book.new_day(self.t)
        for q in self.queues.values():
            q.calls.clear()
            q.entered = q.answered = q.answered_in_sl = q.abandoned = q.abandoned_after = 0
        log.info("ACD: a new day in %s: today's counters start again", self.tz)
        for agent in self.book.agents.values():
            if agent.state is not A.LOGGED_OUT:
                self._agent_changed(agent, agent.state, "new_day")
        self._all_queues_changed()

    # ------------------------------------------------------------------ reload
    def accepts(self, name: str | None) -> bool:
        """True if new callers may be sent to queue `name` (it exists and was not removed)."""
        q = self.queues.get(name or "")
        return q is not None and not q.retired

    def configure_agents(self, agents: Mapping[str, tuple[Mapping[str, int], float | None]]) -> None:
        """Skills and own wrap-up per login (`[[agents]]`); logins dropped from it lose theirs."""
        for login in self.configured_agents - set(agents):
            agent = self.book.agents.get(login)
            if agent is not None:
                agent.skills, agent.wrap_up = {}, None
        for login, (skills, wrap_up) in agents.items():
            agent = self.book.ensure(login)
            agent.skills, agent.wrap_up = dict(skills), wrap_up
        self.configured_agents = set(agents)

    def reconfigure(
        self,
        queues: Sequence[QueueSpec],
        agents: Mapping[str, tuple[Mapping[str, int], float | None]] | None = None,
        *,
        reasons: Sequence[str] | None = None,
        max_no_answer: int | None = None,
        dispositions: Sequence[str] | None = None,
        tz: dt.tzinfo | None = None,
    ) -> dict[str, list[str]]:
        """Apply new settings to the running ACD without touching a call (see the module doc).

        The caller has checked the configuration; this only swaps settings. Returns the
        queue names added, changed, removed (retired) and restored.
        """
        out: dict[str, list[str]] = {"added": [], "changed": [], "removed": [], "restored": []}
        wanted = {spec.name: spec for spec in queues}
        for name, spec in wanted.items():
            q = self.queues.get(name)
            if q is None:
                self.queues[name] = QueueState(spec)
                out["added"].append(name)
                continue
            if q.retired:
                q.retired = False
                out["restored"].append(name)
            if q.spec != spec:
                self._respec(name, q.spec, spec)
                q.spec = spec
                out["changed"].append(name)
        for name, q in self.queues.items():
            if name not in wanted and not q.retired:
                q.retired = True
                out["removed"].append(name)
        if agents is not None:
            self.configure_agents(agents)
        if reasons:
            self.book.reasons = tuple(reasons)
        if max_no_answer is not None:
            self.book.max_no_answer = max_no_answer
        if dispositions is not None:
            self.dispositions = tuple(dispositions)
        if tz is not None and tz != self.tz:
            self.tz = tz
            self._next_midnight = None
        self._journal(None, None, None, "CONFIGRELOAD")
        log.info(
            "ACD reconfigured: added %s, changed %s, removed %s",
            out["added"] or "-",
            out["changed"] or "-",
            out["removed"] or "-",
        )
        self._prune_retired()
        self._all_queues_changed()
        self.dispatch()
        return out

    def _respec(self, name: str, old: QueueSpec, new: QueueSpec) -> None:
        """Callers waiting in a changed queue: the new base priority and announcement intervals
        count from the last announcement each caller heard (due ones play at the next tick)."""
        for entry in self.entries.values():
            if entry.queue != name:
                continue
            entry.priority += new.priority - old.priority
            entry.next_announce += new.announce_frequency - old.announce_frequency
            entry.next_periodic += new.periodic_frequency - old.periodic_frequency

    def _prune_retired(self) -> None:
        """Forget removed queues once nobody waits in them and no call of theirs is with an agent."""
        for name in [n for n, q in self.queues.items() if q.retired]:
            busy = (
                any(e.queue == name for e in self.entries.values())
                or any(app.queue == name for app in self.apps.values())
                or any(cb.entry.queue == name for cb in self.callbacks.values())
            )
            if not busy:
                del self.queues[name]
                log.info("ACD: removed queue %s has drained", name)
                self.ctl.publish("queue.removed", {"queue": name}, key=name)

    # ------------------------------------------------------------------ invariants
    def check(self) -> list[str]:
        """The book's invariants plus the queue's: [] when everything is consistent."""
        out = self.book.check()
        for entry in self.entries.values():
            if entry.call is not None and not self._call_alive(entry.callid):
                out.append(f"caller {entry.callid} waits in {entry.queue} but the call has ended")
            if entry.call is None and not entry.number:
                out.append(f"callback {entry.callid} has no number")
            for agent_id in entry.offered:
                agent = self.book.agents[agent_id]
                if agent.state is not A.RINGING:
                    out.append(f"caller {entry.callid} offered to {agent_id} who is {agent.state.value}")
        for agent in self.book.agents.values():
            if agent.state is A.RINGING and agent.call is not None:
                offering = any(agent.id in e.offered for e in self.entries.values())
                app = self.apps.get(agent.call)
                consult = app is not None and app.consult is not None and app.consult.get("agent") == agent.id
                if not offering and not consult:
                    out.append(f"agent {agent.id} rings for {agent.call} but nobody offers it")
        return out

    def agent_snapshots(self) -> list[dict[str, Any]]:
        offset = self.ctl.wall() - self.t
        return [a.snapshot(offset) for a in sorted(self.book.agents.values(), key=lambda a: a.id)]


def next_midnight(wall: float, tz: dt.tzinfo) -> float:
    """The Unix time of the next local midnight after `wall` in `tz` (DST-aware with zoneinfo)."""
    today = dt.datetime.fromtimestamp(wall, tz).date()
    nxt = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return nxt.timestamp()


class _Ref:
    """A stand-in with just the uniqueid, for journal rows of a caller whose call has ended."""

    __slots__ = ("uniqueid",)

    def __init__(self, uniqueid: str) -> None:
        self.uniqueid = uniqueid


def restore_states(rows: Sequence[Any]) -> dict[str, tuple[str, str, str]]:
    """Agent login state from journal rows (oldest first): agent -> (state, reason, extension).

    Persistence across restarts is rebuilt from the journal (AGENTLOGIN, AGENTLOGOFF, PAUSE,
    UNPAUSE rows), the same log reports use, so there is no second table to drift from it.
    """
    out: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        agent = (row.agent or "").removeprefix("Agent/")
        if not agent or agent == "NONE":
            continue
        data = list(row.data)
        if row.event == "AGENTLOGIN":
            ext = (data[0] if data else "").removeprefix("Local/")
            out[agent] = ("ready", "", ext)
        elif row.event == "AGENTLOGOFF":
            out.pop(agent, None)
        elif row.event == "PAUSE" and agent in out:
            out[agent] = ("not_ready", data[0] if data and data[0] else "break", out[agent][2])
        elif row.event == "UNPAUSE" and agent in out:
            out[agent] = ("ready", "", out[agent][2])
    return out


def service_level(rows: Sequence[Any], threshold: float, short_abandon: float = 0.0) -> dict[str, Any]:
    """FEATURES §4.9 from journal rows: SL = answered within T / (answered + abandoned after T) x 100.

    Short abandons (within `short_abandon` s) are left out of the abandon rate; callers who
    waited for a callback count by the hold time of their CONNECT like anyone else.
    """
    answered = within = abandoned_after = abandoned = short = 0
    waits: list[int] = []
    for row in rows:
        data = list(row.data)
        if row.event == "CONNECT":
            answered += 1
            hold = int(float(data[0]))
            waits.append(hold)
            within += hold <= threshold
        elif row.event == "ABANDON":
            wait = int(float(data[2]))
            if wait <= short_abandon:
                short += 1
                continue
            abandoned += 1
            abandoned_after += wait > threshold
    denominator = answered + abandoned_after
    return {
        "answered": answered,
        "answered_within": within,
        "abandoned": abandoned,
        "short_abandoned": short,
        "service_level": round(100.0 * within / denominator, 1) if denominator else 100.0,
        "abandon_rate": round(100.0 * abandoned / (answered + abandoned), 1) if answered + abandoned else 0.0,
        "asa": round(sum(waits) / len(waits), 1) if waits else 0.0,
        "threshold": threshold,
    }
