"""Agents and routing for the ACD: the one owner of agent state, and the strategy table (sans-IO).

Rule 1 (after h11): every agent state change goes through `AgentBook.fire()`, and the
allowed moves are the data in `TRANSITIONS`. Nothing else assigns `Agent.state`. The book
checks its invariants after every event (`check()`), so a bug shows up as a logged
problem on the event that caused it instead of an agent stuck "on call" for hours
(FEATURES.md pain point 4: mod_callcenter members `Answered` after hang-up, agents stuck
`Reserved`, OpenSIPS "agent locked forever in incall state").

States (FEATURES §4.6 vocabulary in brackets):

    logged_out [AGENTLOGOFF / Logged Out]      ready [Available+Waiting / READY]
    not_ready + reason [Paused / On Break]     ringing [Receiving / AgentCalled]
    on_call [In a queue call / BUSYACD]        hold (the caller hears music)
    wrap_up [WORKINGAFTERCALL / DISPO] — its own state, visible everywhere, never shown as
    "available" (pain point 2).

A request that cannot apply now (not ready while on a call, log out while on a call) is
kept as `pending` and applied when the call ends, instead of being refused or lost.

Routing (STYLE "Routing (app_queue, with the clock injected)"): each strategy is a pure
function `metric(agent, ctx) -> float`; lower rings first. `rank()` sorts candidates by
the documented key

    (skill tier, tried tier, strategy metric, agent id)

- skill tier: with `skill_first`, agents whose summed level of the queue's required skills
  is higher ring first (an expert before a beginner), else every eligible agent is tier 0;
- tried tier: how often this caller already rang the agent without answer (fewer first),
  so a caller is not stuck ringing one absent agent while another is free;
- the strategy metric;
- the agent id, so equal metrics never depend on dict or set order.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    HOLD = "hold"
    WRAP_UP = "wrap_up"


A = AgentState
WITH_CALL = frozenset({A.RINGING, A.ON_CALL, A.HOLD})
IDLE_STATES = frozenset({A.LOGGED_OUT, A.READY, A.NOT_READY, A.WRAP_UP})
DEFAULT_REASONS = ("break", "lunch", "meeting", "training", "admin", "no_answer", "restart")

# None as a target means "decided by the book": `end` goes to wrap-up or ready (or the
# pending request), `no_answer` to ready or to not_ready after too many unanswered offers.
TRANSITIONS: dict[AgentState, dict[str, AgentState | None]] = {
    A.LOGGED_OUT: {"login": None},
    A.READY: {
        "ready": A.READY,
        "not_ready": A.NOT_READY,
        "logout": A.LOGGED_OUT,
        "offer": A.RINGING,
        "direct": A.ON_CALL,
    },
    A.NOT_READY: {
        "ready": A.READY,
        "not_ready": A.NOT_READY,
        "logout": A.LOGGED_OUT,
        "direct": A.ON_CALL,
    },
    A.RINGING: {
        "answer": A.ON_CALL,
        "no_answer": None,
        "withdraw": None,
        "not_ready": A.NOT_READY,  # the offer is withdrawn by whoever asks for this
        "logout": A.LOGGED_OUT,
        "ready": A.RINGING,  # already taking a call: remembered as pending
        "end": None,
    },
    A.ON_CALL: {
        "hold": A.HOLD,
        "end": None,
        "ready": A.ON_CALL,
        "not_ready": A.ON_CALL,
        "logout": A.ON_CALL,
    },
    A.HOLD: {
        "retrieve": A.ON_CALL,
        "end": None,
        "ready": A.HOLD,
        "not_ready": A.HOLD,
        "logout": A.HOLD,
    },
    A.WRAP_UP: {
        "wrapup_done": None,
        "ready": A.READY,
        "not_ready": A.NOT_READY,
        "logout": A.LOGGED_OUT,
        "direct": A.ON_CALL,
    },
}


class IllegalAgentTransition(Exception):
    """Our bug: an event the agent state table does not allow in the agent's state."""

    def __init__(self, agent: str, state: AgentState, event: str) -> None:
        super().__init__(f"agent {agent}: can't handle {event!r} in state {state.value}")
        self.agent, self.state, self.event = agent, state, event


@dataclass
class Agent:
    """One agent's live state and today's counters (FreeSWITCH keeps the same counters)."""

    id: str  # the user's login
    name: str = ""
    extension: str | None = None
    agent_no: str = ""  # spoken to the caller on connect (报工号)
    skills: dict[str, int] = field(default_factory=dict)
    wrap_up: float | None = None  # overrides the queue's wrap-up time
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""
    since: float = 0.0  # engine clock
    call: str | None = None
    queue: str | None = None  # the queue of the current/last call
    direct: bool = False  # on a call that did not come from a queue
    pending: tuple[str, str] | None = None  # (event, reason) to apply after the call
    wrap_until: float | None = None
    idle_since: float = 0.0  # when the agent last became free (longest-idle)
    login_at: float | None = None
    calls_today: int = 0
    talk_today: float = 0.0
    answered_at: float | None = None
    no_answer_count: int = 0
    last_call: str | None = None  # the call they last talked on (what a disposition code is for)
    last_queue: str | None = None  # and its queue

    def snapshot(self, wall_offset: float = 0.0) -> dict[str, Any]:
        return {
            "agent": self.id,
            "name": self.name,
            "extension": self.extension,
            "agent_no": self.agent_no,
            "state": self.state.value,
            "reason": self.reason,
            "since": round(self.since + wall_offset, 3),
            "call": self.call,
            "queue": self.queue,
            "pending": self.pending[0] if self.pending else None,
            "wrap_until": round(self.wrap_until + wall_offset, 3) if self.wrap_until is not None else None,
            "calls_today": self.calls_today,
            "talk_today": round(self.talk_today, 1),
            "skills": dict(self.skills),
        }


Listener = Callable[[Agent, AgentState, str], None]


class AgentBook:
    """The one owner of agent state.

    `fire(agent_id, event, now, ...)` is the only way state changes. Listeners are told
    `(agent, old_state, event)` after each change (the ACD journals and publishes from
    there). `call_alive(call_id)` lets `check()` verify that calls agents hold still exist.
    """

    def __init__(
        self,
        *,
        reasons: Sequence[str] = DEFAULT_REASONS,
        max_no_answer: int = 3,
        call_alive: Callable[[str], bool] | None = None,
    ) -> None:
        self.agents: dict[str, Agent] = {}
        self.reasons = tuple(reasons)
        self.max_no_answer = max_no_answer
        self.call_alive = call_alive or (lambda call_id: True)
        self.listeners: list[Listener] = []
        self.problems: list[str] = []  # invariant violations seen (tests assert it stays empty)

    # ------------------------------------------------------------------ agents
    def ensure(self, agent_id: str, **info: Any) -> Agent:
        """The agent `agent_id`, created logged out if new; `info` updates name/extension/skills..."""
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = Agent(agent_id)
        for key, value in info.items():
            if value is not None and hasattr(agent, key):
                setattr(agent, key, value)
        return agent

    def get(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise LookupError(f"no agent {agent_id!r}") from None

    def by_extension(self, extension: str) -> Agent | None:
        """The logged-in agent sitting at `extension` (None if nobody is)."""
        for agent in self.agents.values():
            if agent.extension == extension and agent.state is not A.LOGGED_OUT:
                return agent
        return None

    def on_call(self, call_id: str) -> list[Agent]:
        return [a for a in self.agents.values() if a.call == call_id]

    def available(self) -> list[Agent]:
        """Agents a queue may offer a call to: ready (wrap-up is not ready, whatever the phone says)."""
        return [a for a in self.agents.values() if a.state is A.READY and a.extension]

    # ------------------------------------------------------------------ the state machine
    def can(self, agent_id: str, event: str) -> bool:
        agent = self.agents.get(agent_id)
        return agent is not None and event in TRANSITIONS[agent.state]

    def fire(
        self,
        agent_id: str,
        event: str,
        now: float,
        *,
        call: str | None = None,
        queue: str | None = None,
        reason: str = "",
        wrap_up: float = 0.0,
        ready: bool = True,
    ) -> Agent:
        """Apply `event` to the agent at time `now`; raises IllegalAgentTransition (state unchanged).

        - `login` (ready=...): to ready, or to not_ready with `reason`;
        - `ready` / `not_ready` (reason) / `logout`: now, or after the call (pending);
        - `offer` (call, queue) -> ringing; `answer` -> on_call; `no_answer` -> ready, or
          not_ready "no_answer" after `max_no_answer` offers in a row; `withdraw` -> ready;
        - `direct` (call): a call that did not come from a queue (their own phone, a transfer);
        - `hold` / `retrieve`; `end` (wrap_up seconds) -> wrap_up, or ready/pending;
        - `wrapup_done` -> ready, or the pending request.
        """
        agent = self.get(agent_id)
        old = agent.state
        moves = TRANSITIONS[old]
        if event not in moves:
            raise IllegalAgentTransition(agent_id, old, event)
        if event == "not_ready" and not reason:
            raise ValueError("not ready needs a reason code")
        target = moves[event]
        if event in ("ready", "not_ready", "logout") and target in WITH_CALL:
            # on a call: remembered and applied when the call ends (a ringing agent who
            # asks for not-ready or logs out leaves at once; the offer is withdrawn)
            agent.pending = (event, reason)
            self._after(agent, old, f"pending_{event}")
            return agent
        if event == "login":
            target = A.READY if ready else A.NOT_READY
            agent.login_at = now
            agent.no_answer_count = 0
        elif event == "no_answer":
            agent.no_answer_count += 1
            target = A.NOT_READY if agent.no_answer_count >= self.max_no_answer else A.READY
            if target is A.NOT_READY:
                reason = "no_answer"
        elif event == "withdraw":
            target = self._resolve_pending(agent) or A.READY
            reason = agent.reason if target is A.NOT_READY else reason
        elif event == "end":
            target = self._after_call(agent, now, wrap_up)
            reason = agent.reason if target is A.NOT_READY else reason
        elif event == "wrapup_done":
            target = self._resolve_pending(agent) or A.READY
            reason = agent.reason if target is A.NOT_READY else reason
        assert target is not None
        self._enter(agent, target, now, event, call=call, queue=queue, reason=reason)
        self._after(agent, old, event)
        return agent

    def _after_call(self, agent: Agent, now: float, wrap_up: float) -> AgentState:
        if agent.answered_at is not None:
            agent.talk_today += max(0.0, now - agent.answered_at)
            agent.answered_at = None
        if agent.state is not A.RINGING and not agent.direct:
            agent.calls_today += 1
        if agent.state is not A.RINGING:
            agent.last_call, agent.last_queue = agent.call, agent.queue
        if agent.state is A.RINGING:
            return self._resolve_pending(agent) or A.READY
        if agent.direct:
            # a call on their own phone: back to where they were, no wrap-up
            return self._resolve_pending(agent) or (A.NOT_READY if agent.reason else A.READY)
        if wrap_up > 0:
            agent.wrap_until = now + wrap_up
            return A.WRAP_UP
        return self._resolve_pending(agent) or A.READY

    def _resolve_pending(self, agent: Agent) -> AgentState | None:
        if agent.pending is None:
            return None
        event, reason = agent.pending
        agent.pending = None
        if event == "logout":
            return A.LOGGED_OUT
        if event == "not_ready":
            agent.reason = reason
            return A.NOT_READY
        agent.reason = ""
        return A.READY

    def _enter(
        self,
        agent: Agent,
        target: AgentState,
        now: float,
        event: str,
        *,
        call: str | None,
        queue: str | None,
        reason: str,
    ) -> None:
        old = agent.state
        if target in WITH_CALL:
            if old not in WITH_CALL:
                agent.call = call
                agent.queue = queue
                agent.direct = event == "direct"
            if target is A.ON_CALL and old is A.RINGING:
                agent.answered_at = now
                agent.no_answer_count = 0
            elif target is A.ON_CALL and event == "direct":
                agent.answered_at = now
        else:
            agent.call = None
            agent.direct = False
            if old in WITH_CALL or target is A.READY:
                agent.idle_since = now
        if target is A.NOT_READY:
            agent.reason = reason or agent.reason or "break"
        elif target in (A.READY, A.WRAP_UP, A.LOGGED_OUT):
            agent.reason = ""
        if target is not A.WRAP_UP:
            agent.wrap_until = None
        if target is A.LOGGED_OUT:
            agent.pending = None
            agent.login_at = None
        if target != old or event in ("not_ready", "login"):
            agent.since = now
        agent.state = target

    def _after(self, agent: Agent, old: AgentState, event: str) -> None:
        for listener in list(self.listeners):
            listener(agent, old, event)
        problems = self.check_agent(agent)
        if problems:
            self.problems.extend(problems)
            for problem in problems:
                log.error("agent invariant broken after %s: %s", event, problem)

    def new_day(self, now: float) -> None:
        """Today's counters start again (the office's midnight).

        Talk time of a call that spans midnight counts from midnight on, so "today" means
        the office's calendar day for `least_talk_time` as it does on the wallboard.
        """
        for agent in self.agents.values():
            agent.calls_today = 0
            agent.talk_today = 0.0
            if agent.answered_at is not None:
                agent.answered_at = now

    # ------------------------------------------------------------------ invariants
    def check_agent(self, agent: Agent) -> list[str]:
        out: list[str] = []
        if agent.state in WITH_CALL:
            if agent.call is None:
                out.append(f"agent {agent.id} is {agent.state.value} without a call")
            elif not self.call_alive(agent.call):
                out.append(f"agent {agent.id} is {agent.state.value} for ended call {agent.call}")
        elif agent.call is not None:
            out.append(f"agent {agent.id} is {agent.state.value} but holds call {agent.call}")
        if agent.state is A.NOT_READY and not agent.reason:
            out.append(f"agent {agent.id} is not ready without a reason")
        if agent.state is A.WRAP_UP and agent.wrap_until is None:
            out.append(f"agent {agent.id} is in wrap-up with no end time")
        if agent.state is A.LOGGED_OUT and agent.pending is not None:
            out.append(f"agent {agent.id} is logged out with a pending {agent.pending[0]}")
        return out

    def check(self) -> list[str]:
        """Every invariant over every agent: [] when all hold."""
        out: list[str] = []
        for agent in self.agents.values():
            out.extend(self.check_agent(agent))
        return out


# ---------------------------------------------------------------- strategies


@dataclass(frozen=True)
class RankContext:
    """What a strategy may look at besides the agent (no clock reads: `now` is given)."""

    now: float
    members: Sequence[str]  # the queue's member order (linear, round robin)
    last_index: int  # round robin: index in `members` of the agent who took the last call
    calls: Mapping[str, int]  # calls answered in this queue today, per agent
    rng: random.Random


def _ring_all(agent: Agent, ctx: RankContext) -> float:
    return 0.0


def _longest_idle(agent: Agent, ctx: RankContext) -> float:
    return -(ctx.now - agent.idle_since)


def _member_index(agent: Agent, ctx: RankContext) -> int:
    try:
        return list(ctx.members).index(agent.id)
    except ValueError:
        return len(ctx.members)


def _round_robin(agent: Agent, ctx: RankContext) -> float:
    n = max(len(ctx.members), 1)
    return float((_member_index(agent, ctx) - ctx.last_index - 1) % (n + 1))


def _fewest_calls(agent: Agent, ctx: RankContext) -> float:
    return float(ctx.calls.get(agent.id, 0))


def _least_talk_time(agent: Agent, ctx: RankContext) -> float:
    return agent.talk_today


def _linear(agent: Agent, ctx: RankContext) -> float:
    return float(_member_index(agent, ctx))


def _random(agent: Agent, ctx: RankContext) -> float:
    return ctx.rng.random()


Metric = Callable[[Agent, RankContext], float]

STRATEGIES: dict[str, Metric] = {
    "ring_all": _ring_all,  # every available agent rings at once; the first to lift takes it
    "longest_idle": _longest_idle,  # Asterisk leastrecent, FS longest-idle-agent
    "round_robin": _round_robin,  # Asterisk rrmemory: continue after the last agent served
    "fewest_calls": _fewest_calls,  # fewest calls answered from this queue today
    "least_talk_time": _least_talk_time,  # least talk time today (all queues)
    "linear": _linear,  # always in member order (Asterisk linear, FS top-down)
    "random": _random,  # seeded, so a run is reproducible
}


def skill_level(agent: Agent, required: Mapping[str, int]) -> int | None:
    """Summed level of the required skills, or None if the agent lacks one (or is below its minimum)."""
    total = 0
    for skill, minimum in required.items():
        level = agent.skills.get(skill)
        if level is None or level < minimum:
            return None
        total += level
    return total


def rank(
    strategy: str,
    candidates: Sequence[Agent],
    ctx: RankContext,
    *,
    required: Mapping[str, int] | None = None,
    skill_first: bool = True,
    tried: Sequence[str] = (),
) -> list[Agent]:
    """Candidates in ringing order by (skill tier, tried tier, metric, id); ineligible ones dropped."""
    metric = STRATEGIES[strategy]
    keyed: list[tuple[tuple[float, int, float, str], Agent]] = []
    for agent in candidates:
        level = skill_level(agent, required or {})
        if level is None:
            continue
        tier = -level if skill_first else 0
        keyed.append(((tier, tried.count(agent.id), metric(agent, ctx), agent.id), agent))
    keyed.sort(key=lambda item: item[0])
    return [agent for _, agent in keyed]
