"""Agent time for a period (agent and sign-in reports) from the rollups of migration 4.

A period [t0, end) is cut into whole 15-minute buckets [a0, a1), read from `rollup_agent`
and `rollup_agent_calls`, and two ragged edges [t0, a0) and [a1, end) walked row by row with
`agent_times`. Every walk starts from the agent's exact state at its start, found from their
own rows (signed in, paused and why, on a call or in wrap-up) — the same state the trigger
carries — so the pieces add up to one walk over the whole period (`pure_agent_times`, which
a test holds them to).

The rollup cannot split a wrap-up whose end the journal does not vouch for (no WRAPUPEND
next, or one after the period's end): it needs the configured wrap-up. Such an agent is
walked row by row over the whole period, as before migration 4.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ccd.metrics.journal import HANDLED, WRAPUPEND, AgentTimes, WrapFor, agent_times, norm_agent, normalise

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
    rows: list[_Row], t0: float, logged_at_t0: dict[str, bool]
) -> dict[str, list[tuple[float, float | None]]]:
    """Sign-in sessions from the sign-in/out rows of the period, as the walk builds them."""
    out: dict[str, list[tuple[float, float | None]]] = {}
    logged = dict(logged_at_t0)
    for agent, on in logged.items():
        if on:
            out[agent] = [(t0, None)]
    for r in normalise(rows):
        if r.agent is None:
            continue
        s = out.setdefault(r.agent, [])
        if r.event == "AGENTLOGIN":
            if not logged.get(r.agent):
                s.append((r.ts, None))
            logged[r.agent] = True
        elif r.event == "AGENTLOGOFF":
            if logged.get(r.agent) and s and s[-1][1] is None:
                s[-1] = (s[-1][0], r.ts)
            logged[r.agent] = False
    return out


async def rollup_agent_times(
    q: Any, t0: float, end: float, wrap_for: WrapFor, agent: str | None = None
) -> dict[str, AgentTimes]:
    """Agent time over [t0, end) from the rollups and the two ragged edges (module docstring)."""
    import math

    a0 = math.ceil(t0 / ROLLUP) * ROLLUP
    a1 = math.floor(end / ROLLUP) * ROLLUP
    if a1 <= a0:
        return await pure_agent_times(q, t0, end, wrap_for, agent)
    now = await q.agents(agent)
    agents = sorted(now)
    times, calls = await q.times(a0, a1, agent)
    deficit = {norm_agent(c["agent"]) for c in calls if c["unvouched"] or (c["wrap_reach"] or 0) >= end}
    at_a0 = await q.state_at(a0, agents)
    deficit |= {a for a, s in at_a0.items() if not wrap_vouched(s, end)}
    deficit |= {a for a, n in now.items() if n["activity"] == "wrap" and n["at"] < a1}

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
        start, stop = max(float(n["at"]), a0), a1
        if stop <= start or name in deficit:
            continue
        a = out.setdefault(name, AgentTimes(name))
        secs = stop - start
        if n["activity"] == "call":
            a.on_call += secs
        elif not n["logged"]:
            continue
        elif n["paused"]:
            a.not_ready[n["reason"]] = a.not_ready.get(n["reason"], 0.0) + secs
        else:
            a.ready += secs
        a.logged_in += secs
    if a1 < end:
        _add(out, await _walk(q, a1, end, end, agents, agent, wrap_for))

    at_t0 = at_a0 if a0 == t0 else await q.state_at(t0, agents)
    logged = {a: s.get("l_event") == "AGENTLOGIN" for a, s in at_t0.items()}
    for name, sessions in _sessions(_rows(await q.session_rows(t0, end, agent)), t0, logged).items():
        out.setdefault(name, AgentTimes(name)).sessions = sessions
    for name in sorted(deficit):
        if agent is None or name == agent:
            redo = await pure_agent_times(q, t0, end, wrap_for, name)
            out.pop(name, None)
            out.update(redo)
    return _drop_idle(out)
