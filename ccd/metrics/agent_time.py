"""Agent time for a period (agent and sign-in reports) from the rollups of migration 4.

A period [t0, end) is cut into whole 15-minute buckets [a0, a1), read from `rollup_agent`
and `rollup_agent_calls`, and two ragged edges [t0, a0) and [a1, end) walked row by row with
`agent_times`. Every walk starts from the agent's exact state at its start, found from their
own rows (signed in, paused and why, on a call or in wrap-up) — the same state the trigger
carries — so the pieces add up to one walk over the whole period (`pure_agent_times`, which
a test holds them to).

The rollup cannot split a wrap-up whose end the journal does not vouch for (no WRAPUPEND next,
as after a restart, or one at or after the period's end): it needs the configured wrap-up and
the period's end. Nor does it hold the walk's figures where migration 6 records a break (a row
written out of time order, a very long silence). Those buckets of that agent — a few around
each such wrap-up, since no row of the agent lies inside one — are walked row by row like the
edges, and the rest of the agent's period is read from the rollup. Walking the agent's whole
period instead (as before) cost a cold-cache report seconds per agent; it is kept only for an
agent with more than `MAX_RUNS` such stretches (a journal with no WRAPUPEND at all), where
walking is the cheaper way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ccd.metrics.journal import HANDLED, WRAPUPEND, AgentTimes, WrapFor, agent_times, norm_agent

ROLLUP = 900.0


class _Row:
    """A journal tuple (ts, callid, queue, agent, event, data1..5) as a row for `normalise`."""

    __slots__ = ("agent", "callid", "data", "event", "queue", "ts")

    def __init__(self, r: tuple[Any, ...]) -> None:
        self.ts, self.callid, self.queue, self.agent, self.event = r[0], r[1], r[2], r[3], r[4]
        self.data = tuple("" if d is None else d for d in r[5:])


def _rows(raw: Iterable[tuple[Any, ...]]) -> list[_Row]:
    return [_Row(r) for r in raw]


def initial_state(s: dict[str, Any], horizon: float, wrap_for: WrapFor) -> tuple[Any, ...]:
    """(logged in, paused, reason, activity, wrap-up end) from `AgentRollups.state_at`'s answer,
    by the rules of the walk (a wrap-up ends at the agent's next row; exactly there when it is
    a WRAPUPEND before `horizon`)."""
    logged = s.get("l_event") == "AGENTLOGIN"
    paused, reason = False, ""
    if s.get("p_row"):
        event, data1, _ = str(s["p_row"]).split("\x1f")
        if event == "PAUSE":
            paused, reason = True, data1 or "break"
    activity, wrap_end = None, 0.0
    if s.get("a_row"):
        event, row_id, ts, queue = str(s["a_row"]).split("\x1f")
        last_id = str(s["last_row"]).split("\x1f")[0] if s.get("last_row") else None
        if event == "CONNECT":
            activity = "call"
        elif event in HANDLED and row_id == last_id:
            h = float(ts)
            nxt = str(s["next_row"]).split("\x1f") if s.get("next_row") else None
            if nxt is not None and nxt[0] == WRAPUPEND and float(nxt[1]) < horizon:
                wrap = max(0.0, float(nxt[1]) - h)
            else:
                wrap = max(0.0, min(wrap_for(s["agent"], queue or None), horizon - h))
                if nxt is not None:
                    wrap = min(wrap, float(nxt[1]) - h)
            activity, wrap_end = "wrap", h + wrap
    return (logged, paused, reason, activity, wrap_end)


def wrap_vouched(s: dict[str, Any], end: float) -> bool:
    """False if the agent is in a wrap-up at that moment that no WRAPUPEND before `end` ends."""
    if not s.get("a_row") or not s.get("last_row"):
        return True
    event, row_id, _, _ = str(s["a_row"]).split("\x1f")
    if event not in HANDLED or row_id != str(s["last_row"]).split("\x1f")[0]:
        return True
    nxt = str(s["next_row"]).split("\x1f") if s.get("next_row") else None
    return nxt is not None and nxt[0] == WRAPUPEND and float(nxt[1]) < end


async def _walk(
    q: Any, t0: float, t1: float, end: float, agents: list[str], agent: str | None, wrap_for: WrapFor
) -> dict[str, AgentTimes]:
    """One row-by-row walk over [t0, t1) from the agents' exact states at t0."""
    states = await q.state_at(t0, agents)
    initial = {a: initial_state(s, end, wrap_for) for a, s in states.items()}
    rows = _rows(await q.rows(t0, t1, agent))
    return agent_times(rows, t0, t1, initial=initial, wrap_for=wrap_for, wrap_horizon=end)


async def pure_agent_times(
    q: Any, t0: float, end: float, wrap_for: WrapFor, agent: str | None = None
) -> dict[str, AgentTimes]:
    """The whole period walked row by row (the reference the rollup path must equal)."""
    agents = sorted(await q.agents(agent))
    return _drop_idle(await _walk(q, t0, end, end, agents, agent, wrap_for))


def _add(into: dict[str, AgentTimes], more: dict[str, AgentTimes]) -> None:
    for agent, m in more.items():
        a = into.setdefault(agent, AgentTimes(agent))
        for name in ("logged_in", "ready", "on_call", "wrap_up", "answered", "handled", "transferred",
                     "talk", "wrap", "ring_no_answer"):  # fmt: skip
            setattr(a, name, getattr(a, name) + getattr(m, name))
        for reason, secs in m.not_ready.items():
            a.not_ready[reason] = a.not_ready.get(reason, 0.0) + secs


def _drop_idle(times: dict[str, AgentTimes]) -> dict[str, AgentTimes]:
    """Agents with nothing in the period (signed out throughout) are left out of the report."""
    return {
        k: a
        for k, a in times.items()
        if a.logged_in or a.sessions or a.answered or a.handled or a.ring_no_answer or a.not_ready
    }


def _sessions(
    rows: Iterable[tuple[float, str | None, str]], t0: float, logged_at_t0: dict[str, bool]
) -> dict[str, list[tuple[float, float | None]]]:
    """Sign-in sessions from the (ts, agent, event) sign-in/out rows of the period, oldest first, as
    the walk builds them. Plain tuples, not `Row`s: a month of shifts is tens of thousands of rows,
    and only these two events open or close a session."""
    out: dict[str, list[tuple[float, float | None]]] = {}
    logged = dict(logged_at_t0)
    for agent, on in logged.items():
        if on:
            out[agent] = [(t0, None)]
    for ts, raw, event in rows:
        agent = norm_agent(raw)
        if agent is None:
            continue
        s = out.setdefault(agent, [])
        if event == "AGENTLOGIN":
            if not logged.get(agent):
                s.append((ts, None))
            logged[agent] = True
        elif event == "AGENTLOGOFF":
            if logged.get(agent) and s and s[-1][1] is None:
                s[-1] = (s[-1][0], ts)
            logged[agent] = False
    return out


MAX_RUNS = 24  # unvouched stretches of one agent beyond which their whole period is walked


def _bucket(ts: float) -> float:
    return math.floor(ts / ROLLUP) * ROLLUP


def _merge_runs(runs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, overlapping or touching ranges joined."""
    out: list[tuple[float, float]] = []
    for r0, r1 in sorted(runs):
        if out and r0 <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], r1))
        else:
            out.append((r0, r1))
    return out


def _between(a0: float, a1: float, runs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[a0, a1) less the (merged, sorted) runs."""
    out, x = [], a0
    for r0, r1 in runs:
        if r0 > x:
            out.append((x, r0))
        x = max(x, r1)
    if a1 > x:
        out.append((x, a1))
    return out


def _outside(lo: float, hi: float, runs: list[tuple[float, float]]) -> float:
    """Seconds of [lo, hi) outside the runs."""
    return sum(b - a for a, b in _between(lo, hi, runs)) if hi > lo else 0.0


async def unvouched_runs(
    q: Any,
    a0: float,
    a1: float,
    end: float,
    now: dict[str, dict[str, Any]],
    at_a0: dict[str, dict[str, Any]],
    agent: str | None = None,
) -> dict[str, list[tuple[float, float]] | None]:
    """agent -> the merged stretches of whole buckets in [a0, a1) that must be walked for that agent
    (None: too many, walk their whole period). An agent not in the answer is read from the rollup.

    The stretches: each bucket `q.unvouched` names (to a1 when a wrap-up in it reaches `end`); from
    a0 while a wrap-up running over a0 is not vouched for (to the bucket of the row that ends it, or
    a1); from the bucket of an agent's newest row when that row started a wrap-up still running (the
    rollup has nothing after it); and each break of migration 6, clipped to [a0, a1).
    """
    flags = await q.unvouched(a0, a1, end, agent, limit=MAX_RUNS)
    runs: dict[str, list[tuple[float, float]]] = {}
    whole: set[str] = set()
    for name, buckets in flags.items():
        if buckets is None:
            whole.add(name)
            continue
        for b, to_end in buckets.items():
            runs.setdefault(name, []).append((b, a1 if to_end else b + ROLLUP))
    for name, s in at_a0.items():
        if not wrap_vouched(s, end):
            nxt = str(s["next_row"]).split("\x1f") if s.get("next_row") else None
            stop = a1
            if nxt is not None and nxt[0] != WRAPUPEND and float(nxt[1]) < a1:
                stop = _bucket(float(nxt[1])) + ROLLUP
            runs.setdefault(name, []).append((a0, stop))
    for name, n in now.items():
        if n["activity"] == "wrap" and n["at"] < a1:
            since = min(float(n["at"]), float(n["handled_at"] if n["handled_at"] is not None else n["at"]))
            runs.setdefault(name, []).append((max(a0, _bucket(since)), a1))
    for name, start, healed in await q.breaks(a0, a1, agent):
        r0 = max(a0, _bucket(start))
        r1 = a1 if healed is None else min(a1, _bucket(healed) + ROLLUP)
        if r1 > r0:
            runs.setdefault(name, []).append((r0, r1))
    out: dict[str, list[tuple[float, float]] | None] = {name: None for name in whole}
    for name, rs in runs.items():
        if name not in whole:
            merged = _merge_runs(rs)
            out[name] = merged if len(merged) <= MAX_RUNS else None
    return out


async def rollup_agent_times(
    q: Any, t0: float, end: float, wrap_for: WrapFor, agent: str | None = None
) -> dict[str, AgentTimes]:
    """Agent time over [t0, end) from the rollups, the two ragged edges and the unvouched
    stretches of each agent (module docstring)."""
    a0 = math.ceil(t0 / ROLLUP) * ROLLUP
    a1 = math.floor(end / ROLLUP) * ROLLUP
    if a1 <= a0:
        return await pure_agent_times(q, t0, end, wrap_for, agent)
    now = await q.agents(agent)
    agents = sorted(now)
    at_a0 = await q.state_at(a0, agents)
    runs = await unvouched_runs(q, a0, a1, end, now, at_a0, agent)
    whole = {name for name, rs in runs.items() if rs is None}
    parted = {name: rs for name, rs in runs.items() if rs is not None}
    times, calls = await q.times(a0, a1, agent)
    times = [r for r in times if r["agent"] not in runs]
    calls = [c for c in calls if c["agent"] not in runs]
    for name, rs in sorted(parted.items()):
        for p0, p1 in _between(a0, a1, rs):
            more_times, more_calls = await q.times(p0, p1, name)
            times += more_times
            calls += more_calls

    out: dict[str, AgentTimes] = {}
    if t0 < a0:
        _add(out, await _walk(q, t0, a0, end, agents, agent, wrap_for))
    for r in times:
        a = out.setdefault(r["agent"], AgentTimes(r["agent"]))
        secs = float(r["secs"])
        if r["kind"] == "pending":
            continue
        a.logged_in += secs
        if r["kind"] == "call":
            a.on_call += secs
        elif r["kind"] == "wrap":
            a.wrap_up += secs
        elif r["kind"] == "ready":
            a.ready += secs
        elif r["kind"] == "not_ready":
            a.not_ready[r["reason"]] = a.not_ready.get(r["reason"], 0.0) + secs
    for c in calls:
        a = out.setdefault(c["agent"], AgentTimes(c["agent"]))
        a.answered += c["answered"] or 0
        a.handled += c["handled"] or 0
        a.transferred += c["transferred"] or 0
        a.talk += float(c["talk"] or 0)
        a.wrap += float(c["wrap"] or 0)
        a.ring_no_answer += c["ring_no_answer"] or 0
    for name, n in now.items():  # the state since an agent's newest row: not in any bucket yet
        if name in whole:
            continue
        secs = _outside(max(float(n["at"]), a0), a1, parted.get(name, []))
        if secs <= 0:
            continue
        a = out.setdefault(name, AgentTimes(name))
        if n["activity"] == "call":
            a.on_call += secs
        elif not n["logged"]:
            continue
        elif n["paused"]:
            a.not_ready[n["reason"]] = a.not_ready.get(n["reason"], 0.0) + secs
        else:
            a.ready += secs
        a.logged_in += secs
    for name, rs in sorted(parted.items()):
        for r0, r1 in rs:
            _add(out, await _walk(q, r0, r1, end, [name], name, wrap_for))
    if a1 < end:
        _add(out, await _walk(q, a1, end, end, agents, agent, wrap_for))

    at_t0 = at_a0 if a0 == t0 else await q.state_at(t0, agents)
    logged = {a: s.get("l_event") == "AGENTLOGIN" for a, s in at_t0.items()}
    for name, sessions in _sessions(await q.signin_rows(t0, end, agent), t0, logged).items():
        out.setdefault(name, AgentTimes(name)).sessions = sessions
    for name in sorted(whole):
        if agent is None or name == agent:
            redo = await pure_agent_times(q, t0, end, wrap_for, name)
            out.pop(name, None)
            out.update(redo)
    return _drop_idle(out)
