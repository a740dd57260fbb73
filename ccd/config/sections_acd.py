"""Config sections of the ACD: `[acd]`, `[[queues]]` and `[[agents]]`.

They follow `ccd.config.schema`'s rules (frozen keyword-only dataclasses of `setting()`s).
A queue's ``name`` is an identifier of kind ``queue``, so ``[[inbound]] queue = "sales"``
is checked against it. ``overflow_target`` and ``exit_target`` must name a queue, an IVR
flow, an extension or a mailbox (a typo is refused at load and at `ccd reload`, with its
line); whether the name fits the destination kind is checked when the ACD applies it.
"""

# `setting()` is a dataclass field specifier (it returns `dataclasses.field`), which RUF009 cannot know.
# ruff: noqa: RUF009

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ccd.config.fields import setting
from ccd.telephony.acd import DEFAULT_REASONS, STRATEGIES

OVERFLOW_KINDS = ("hangup", "queue", "ivr", "voicemail", "extension")
JOIN_RULES = ("always", "logged_in", "ready")
LEAVE_RULES = ("never", "no_logged_in", "no_ready")
_KEY = r"[0-9*#]?"
_TARGET_KINDS = ("queue", "ivr", "extension", "mailbox")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")


def _codes(value: tuple[str, ...]) -> str | None:
    """Disposition codes: short words (stored as `CODE: note` on the CDR), each once."""
    for code in value:
        if not _CODE.fullmatch(code):
            return f"disposition code {code!r} must be 1-20 letters, digits, '_' or '-'"
    upper = [c.upper() for c in value]
    dupes = sorted({c for c in upper if upper.count(c) > 1})
    if dupes:
        return f"disposition codes must differ (ignoring case): {', '.join(dupes)}"
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class AcdConfig:
    """Settings shared by every queue."""

    reasons: tuple[str, ...] = setting(DEFAULT_REASONS, doc="not-ready reason codes agents may pick")
    max_no_answer: int = setting(3, min=1, doc="unanswered offers in a row before an agent is set not ready")
    seed: int = setting(0, doc="seed of the 'random' strategy (reproducible runs)")
    dispositions: tuple[str, ...] = setting(
        (),
        check=_codes,
        doc='wrap-up codes agents give a call, e.g. ["SALE", "INFO", "COMPLAINT", "CALLBACK"] (empty: none)',
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueConfig:
    """A queue of callers waiting for agents."""

    name: str = setting(ident="queue", what="queue name", doc="unique; [[inbound]] queue = refers to it")
    strategy: str = setting(
        "longest_idle", choices=tuple(STRATEGIES), what="strategy", doc="which free agent rings first"
    )
    skills: dict[str, int] = setting(
        default_factory=dict, min=0, doc="required skill -> minimum level, e.g. { sales = 2 }"
    )
    members: tuple[str, ...] = setting((), doc="agent logins allowed (empty: every agent with the skills)")
    skill_first: bool = setting(True, doc="higher skill levels ring before the strategy decides")
    ring_timeout: float = setting(15.0, gt=0, doc="seconds an agent's phone rings before the next try")
    retry: float = setting(2.0, min=0, doc="pause before offering the caller again")
    wrap_up: float = setting(10.0, min=0, doc="after-call work seconds (agents may override)")
    max_wait: float = setting(0.0, min=0, doc="seconds before the caller goes to the overflow (0: never)")
    overflow: str = setting("hangup", choices=OVERFLOW_KINDS, what="destination", doc="where overflow goes")
    overflow_target: str | None = setting(
        None,
        ref=_TARGET_KINDS,
        what="destination",
        doc="the queue, IVR flow, mailbox or extension of overflow",
    )
    exit_key: str = setting(
        "", pattern=_KEY, pattern_doc="must be one DTMF key", doc="key to leave the queue"
    )
    exit_to: str = setting("voicemail", choices=OVERFLOW_KINDS, what="destination", doc="where the key leads")
    exit_target: str | None = setting(None, ref=_TARGET_KINDS, what="destination", doc="target of exit_to")
    join_when: str = setting("always", choices=JOIN_RULES, what="join rule", doc="callers may join when")
    leave_when: str = setting("never", choices=LEAVE_RULES, what="leave rule", doc="callers leave when")
    announce_position: bool = setting(True, doc="tell callers their place in line")
    announce_holdtime: bool = setting(True, doc="tell callers the estimated wait")
    announce_frequency: float = setting(
        30.0, min=0, doc="seconds between position announcements (0: at join only)"
    )
    announce_position_only_up: bool = setting(
        False, doc="after the first, never announce a place worse than the last one announced"
    )
    periodic_announce: tuple[str, ...] = setting((), doc="prompt names played periodically")
    periodic_frequency: float = setting(60.0, gt=0, doc="seconds between periodic announcements")
    moh: str = setting("moh", doc="prompt played as music on hold")
    announce_agent: bool = setting(True, doc="tell the caller the agent's number before bridging (报工号)")
    callback_key: str = setting(
        "", pattern=_KEY, pattern_doc="must be one DTMF key", doc="key for a callback"
    )
    callback_attempts: int = setting(2, min=1, doc="times a callback is tried")
    callback_retry: float = setting(60.0, min=0, doc="seconds before an unanswered callback is tried again")
    priority: int = setting(0, doc="base priority of this queue's callers (VIPs add to it)")
    service_level: float = setting(30.0, gt=0, doc="service-level threshold T, seconds")
    default_handle_time: float = setting(120.0, gt=0, doc="handle time assumed before any call was taken")
    survey: bool = setting(False, doc="after the agent hangs up, the caller takes the satisfaction survey")

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if self.overflow != "hangup" and not self.overflow_target:
            yield "overflow_target", f"overflow = '{self.overflow}' needs overflow_target"
        if self.exit_key and self.exit_to != "hangup" and not self.exit_target:
            yield "exit_target", f"exit_to = '{self.exit_to}' needs exit_target"
        if self.exit_key and self.exit_key == self.callback_key:
            yield "callback_key", "callback_key and exit_key must differ"
        if self.overflow == "queue" and self.overflow_target == self.name:
            yield "overflow_target", "a queue cannot overflow into itself"


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentConfig:
    """An agent's skills and own wrap-up time (the person is a [[users]] entry or a database user)."""

    login: str = setting(what="login", doc="the user's login")
    skills: dict[str, int] = setting(default_factory=dict, min=0, doc="skill -> level, e.g. { sales = 3 }")
    wrap_up: float | None = setting(None, min=0, doc="wrap-up seconds for this agent (overrides the queue)")
