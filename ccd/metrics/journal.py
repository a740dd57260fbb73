"""Counting queue_log rows: the base measures every queue and agent figure is computed from.

Pure functions over journal rows (anything with ``ts, callid, queue, agent, event, data``,
such as `ccd.store.models.JournalEntry`). The rules are written once here and mirrored by
the SQL aggregate in `ccd.store.reports` (a test holds the two to the same numbers):

* ENTERQUEUE offered · CONNECT answered (holdtime = data1) · CALLBACK marks the caller as
  a callback: their CONNECT counts as answered but stays out of SL and ASA;
* ABANDON (waittime = data3) ≤ S is a short abandon, else abandoned; > T also counts
  against SL;
* COMPLETEAGENT / COMPLETECALLER (calltime = data2) and BLINDTRANSFER / ATTENDEDTRANSFER
  (calltime = data4) end an agent's handling of a call: handled, talk;
* wrap-up after a handled call ends at the agent's WRAPUPEND row (ccd writes one when the
  wrap-up ends, early or by its timer) when that is their next row; otherwise — journals
  from before WRAPUPEND, Asterisk's own queue_log, a wrap-up still running — it is
  min(the configured wrap-up, time until the same agent's next row, time until the end
  of the period).

Agent time is a walk over each agent's rows (`agent_times`): logged in, ready, on call,
wrap-up, not ready per PAUSE reason; sign-in/sign-out sessions (签入签出).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from ccd.metrics.definitions import Thresholds

HANDLED_COMPLETE = ("COMPLETEAGENT", "COMPLETECALLER")
HANDLED_TRANSFER = ("BLINDTRANSFER", "ATTENDEDTRANSFER")
HANDLED = HANDLED_COMPLETE + HANDLED_TRANSFER
SESSION_EVENTS = ("AGENTLOGIN", "AGENTLOGOFF", "PAUSE", "UNPAUSE")
WRAPUPEND = "WRAPUPEND"  # ccd's own agent row: the wrap-up after a handled call ended (early or by timer)


class RowLike(Protocol):
    ts: float
    callid: str | None
    queue: str | None
    agent: str | None
    event: str
    data: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """A journal row with the agent and queue normalised ("Agent/1001" -> "1001", "NONE" -> None)."""

    ts: float
    callid: str | None
    queue: str | None
    agent: str | None
    event: str
    data: tuple[str, ...] = ()

    def num(self, i: int) -> float:
        """data[i] (0-based) as a number; 0 when missing or not a number."""
        try:
            return float(self.data[i])
        except (IndexError, ValueError):
            return 0.0


def norm_agent(agent: str | None) -> str | None:
    if not agent or agent == "NONE":
        return None
    return agent.split("/", 1)[1] if "/" in agent else agent


def norm_queue(queue: str | None) -> str | None:
    return None if not queue or queue == "NONE" else queue


def normalise(rows: Iterable[Any]) -> list[Row]:
    """Rows as `Row`s, oldest first (the journal is already ordered; sorting is stable)."""
    out = [
        Row(
            float(r.ts),
            None if r.callid in (None, "NONE") else r.callid,
            norm_queue(r.queue),
            norm_agent(r.agent),
            r.event,
            tuple(r.data),
        )
        for r in rows
    ]
    out.sort(key=lambda r: r.ts)
    return out


# --- queue counts ------------------------------------------------------------------------


@dataclass(slots=True)
class QueueCounts:
    """Additive base measures of one queue (or one queue in one interval)."""

    offered: int = 0
    answered: int = 0
    callback_answered: int = 0
    asa_calls: int = 0  # answered, not callbacks: ASA's and SL's answered
    answered_within: int = 0
    wait_answered: float = 0.0
    abandoned: int = 0
    short_abandoned: int = 0
    abandoned_after: int = 0
    wait_abandoned: float = 0.0
    timeouts: int = 0
    exit_key: int = 0
    exit_empty: int = 0
    callbacks: int = 0
    handled: int = 0
    transferred: int = 0
    talk: float = 0.0
    wrap: float = 0.0
    ring_no_answer: int = 0
    max_wait: float = 0.0

    def add(self, other: QueueCounts) -> None:
        for f in fields(self):
            if f.name == "max_wait":
                self.max_wait = max(self.max_wait, other.max_wait)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


WrapFor = Callable[[str | None, str | None], float]


def wrap_lookup(queue_wrap: Mapping[str, float], agent_wrap: Mapping[str, float]) -> WrapFor:
    """wrap(agent, queue): the agent's own wrap-up if set, else the queue's, else 0."""

    def wrap(agent: str | None, queue: str | None) -> float:
        if agent is not None and agent in agent_wrap:
            return agent_wrap[agent]
        return queue_wrap.get(queue or "", 0.0)

    return wrap


def wrap_durations(rows: list[Row], end: float, wrap_for: WrapFor) -> dict[int, float]:
    """Index of each handled row -> its wrap-up seconds (see the module docstring)."""
    out: dict[int, float] = {}
    open_: dict[str, tuple[int, float]] = {}  # agent -> (row index, ts) of a wrap-up in progress
    for i, r in enumerate(rows):
        if r.agent is None:
            continue
        pending = open_.pop(r.agent, None)
        if pending is not None:
            idx, ts = pending
            if r.event == WRAPUPEND and r.ts < end:
                out[idx] = max(0.0, r.ts - ts)  # ccd wrote when the wrap-up really ended
            else:
                out[idx] = min(out[idx], r.ts - ts)
        if r.event in HANDLED:
            out[i] = max(0.0, min(wrap_for(r.agent, r.queue), end - r.ts))
            open_[r.agent] = (i, r.ts)
    return out


def queue_counts(
    rows: Iterable[Any],
    thresholds: Callable[[str], Thresholds],
    *,
    end: float,
    wrap_for: WrapFor | None = None,
    bucket: Callable[[float], Any] | None = None,
    callbacks: Iterable[tuple[str | None, str | None]] = (),
) -> dict[tuple[str, Any], QueueCounts]:
    """(queue, bucket key) -> counts, for rows of the period ending at `end` (now, or the period's end).

    `bucket(ts)` gives the interval a row belongs to (None: one bucket per queue).
    `callbacks` adds (queue, callid) of calls that asked for a callback before these rows
    (the SQL looks through the whole journal for a CONNECT's CALLBACK row).
    """
    rs = normalise(rows)
    wraps = wrap_durations(rs, end, wrap_for or (lambda a, q: 0.0))
    callbacks = {(r.queue, r.callid) for r in rs if r.event == "CALLBACK"} | set(callbacks)
    out: dict[tuple[str, Any], QueueCounts] = defaultdict(QueueCounts)
    for i, r in enumerate(rs):
        if r.queue is None:
            continue
        c = out[(r.queue, bucket(r.ts) if bucket else None)]
        ev = r.event
        if ev == "ENTERQUEUE":
            c.offered += 1
        elif ev == "CONNECT":
            hold = r.num(0)
            c.answered += 1
            if (r.queue, r.callid) in callbacks:
                c.callback_answered += 1
            else:
                t = thresholds(r.queue)
                c.asa_calls += 1
                c.wait_answered += hold
                c.answered_within += hold <= t.service_level
                c.max_wait = max(c.max_wait, hold)
        elif ev == "ABANDON":
            t = thresholds(r.queue)
            wait = r.num(2)
            if wait <= t.short_abandon:
                c.short_abandoned += 1
            else:
                c.abandoned += 1
                c.wait_abandoned += wait
                c.abandoned_after += wait > t.service_level
                c.max_wait = max(c.max_wait, wait)
        elif ev == "EXITWITHTIMEOUT":
            c.timeouts += 1
        elif ev == "EXITWITHKEY":
            c.exit_key += 1
        elif ev == "EXITEMPTY":
            c.exit_empty += 1
        elif ev == "CALLBACK":
            c.callbacks += 1
        elif ev == "RINGNOANSWER":
            c.ring_no_answer += 1
        elif ev in HANDLED:
            c.handled += 1
            c.talk += r.num(1) if ev in HANDLED_COMPLETE else r.num(3)
            c.transferred += ev in HANDLED_TRANSFER
            c.wrap += wraps.get(i, 0.0)
    return dict(out)


# --- agent time --------------------------------------------------------------------------


@dataclass(slots=True)
class AgentTimes:
    """Seconds per state in the period, calls handled, and the sign-in sessions of one agent."""

    agent: str
    logged_in: float = 0.0
    ready: float = 0.0
    on_call: float = 0.0
    wrap_up: float = 0.0
    not_ready: dict[str, float] = field(default_factory=dict)
    answered: int = 0
    handled: int = 0
    transferred: int = 0
    talk: float = 0.0
    wrap: float = 0.0  # wrap-up after the calls handled in the period (= wrap_up but for the cap)
    ring_no_answer: int = 0
    sessions: list[tuple[float, float | None]] = field(default_factory=list)  # (sign in, sign out)

    @property
    def not_ready_total(self) -> float:
        return sum(self.not_ready.values())


@dataclass(slots=True)
class _Walk:
    logged: bool = False
    paused: bool = False
    reason: str = ""
    activity: str | None = None  # "call" | "wrap"
    wrap_end: float = 0.0
    at: float = 0.0


def initial_states(rows: Iterable[Any]) -> dict[str, tuple[bool, bool, str]]:
    """agent -> (logged in, paused, reason) after these rows (AGENTLOGIN/OFF, PAUSE, UNPAUSE).

    Fed with the rows before a period, it gives each agent's state at the period's start.
    """
    out: dict[str, tuple[bool, bool, str]] = {}
    for r in normalise(rows):
        if r.agent is None:
            continue
        logged = out.get(r.agent, (False, False, ""))[0]
        if r.event == "AGENTLOGIN":
            out[r.agent] = (True, False, "")
        elif r.event == "AGENTLOGOFF":
            out[r.agent] = (False, False, "")
        elif r.event == "PAUSE":
            out[r.agent] = (logged, True, (r.data[0] if r.data and r.data[0] else "break"))
        elif r.event == "UNPAUSE":
            out[r.agent] = (logged, False, "")
    return out


def agent_times(
    rows: Iterable[Any],
    t0: float,
    end: float,
    *,
    initial: Mapping[str, tuple[Any, ...]] | None = None,
    wrap_for: WrapFor | None = None,
    wrap_horizon: float | None = None,
) -> dict[str, AgentTimes]:
    """Walk each agent's rows in [t0, end) and split their time by state.

    `initial` is each agent's (logged in, paused, reason) at `t0` (see `initial_states`), or
    (logged in, paused, reason, activity, wrap-up end) when a call or wrap-up runs over `t0`;
    `end` is the end of the period, or now for a period still running. `wrap_horizon` (default
    `end`) is the end of the whole period when this walk is one piece of it: wrap-ups are
    judged against it (rows past `end` may be given for that; they are not counted).
    """
    wrap_for = wrap_for or (lambda a, q: 0.0)
    walks: dict[str, _Walk] = {}
    out: dict[str, AgentTimes] = {}
    for agent, state in (initial or {}).items():
        logged, paused, reason = state[0], state[1], state[2]
        activity, wrap_end = (state[3], state[4]) if len(state) > 3 else (None, 0.0)
        walks[agent] = _Walk(logged, paused, reason, activity, wrap_end or 0.0, t0)
        out[agent] = AgentTimes(agent)
        if logged:
            out[agent].sessions.append((t0, None))

    def account(a: AgentTimes, w: _Walk, until: float) -> None:
        start = w.at
        if until <= start:
            return
        w.at = until
        if w.activity == "call":
            a.on_call += until - start
            a.logged_in += until - start
            return
        if w.activity == "wrap":
            upto = min(until, w.wrap_end)
            if upto > start:
                a.wrap_up += upto - start
                a.logged_in += upto - start
                start = upto
            if until >= w.wrap_end:
                w.activity = None
            if until <= start:
                return
        if not w.logged:
            return
        a.logged_in += until - start
        if w.paused:
            a.not_ready[w.reason] = a.not_ready.get(w.reason, 0.0) + until - start
        else:
            a.ready += until - start

    rs = normalise(rows)
    wraps = wrap_durations(rs, end if wrap_horizon is None else wrap_horizon, wrap_for)
    for i, r in enumerate(rs):
        if r.agent is None or r.ts < t0 or r.ts >= end:
            continue
        w = walks.setdefault(r.agent, _Walk(at=t0))
        a = out.setdefault(r.agent, AgentTimes(r.agent))
        w.at = max(w.at, t0)
        account(a, w, r.ts)
        if w.activity == "wrap":  # any row of the agent ends their wrap-up
            w.activity = None
        ev = r.event
        if ev == "AGENTLOGIN":
            if not w.logged:
                a.sessions.append((r.ts, None))
            w.logged, w.paused, w.reason = True, False, ""
        elif ev == "AGENTLOGOFF":
            if w.logged and a.sessions and a.sessions[-1][1] is None:
                a.sessions[-1] = (a.sessions[-1][0], r.ts)
            w.logged, w.paused, w.activity = False, False, None
        elif ev == "PAUSE":
            w.paused, w.reason = True, (r.data[0] if r.data and r.data[0] else "break")
        elif ev == "UNPAUSE":
            w.paused = False
        elif ev == "CONNECT":
            a.answered += 1
            w.activity = "call"
        elif ev in HANDLED:
            a.handled += 1
            a.transferred += ev in HANDLED_TRANSFER
            a.talk += r.num(1) if ev in HANDLED_COMPLETE else r.num(3)
            a.wrap += wraps.get(i, 0.0)
            w.activity = "wrap"
            w.wrap_end = r.ts + wraps.get(i, 0.0)
        elif ev == "RINGNOANSWER":
            a.ring_no_answer += 1
    for agent, w in walks.items():
        account(out[agent], w, end)
    return out
