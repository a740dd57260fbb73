"""The agent's own state as the terminal sees it: pure logic, no Textual, no I/O, no clock.

Fed with the daemon's events, it answers "what state am I in, since when, and which call is
mine". The state follows the call events for the agent's extension at once (ringing, on call,
wrap-up), so the bar tells the truth about the phone even on a daemon without call-center
logic; when the daemon reports agent states (``agent.changed``), its word overrides, and the
app asks ``agent.state`` after each answer and hang-up to resynchronise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATES = ("logged_out", "ready", "not_ready", "ringing", "on_call", "hold", "wrap_up")
STATE_LABELS = {
    "logged_out": "离席 Logged out",
    "ready": "置闲 Ready",
    "not_ready": "置忙 Not ready",
    "ringing": "振铃 Ringing",
    "on_call": "通话 On call",
    "hold": "保持 On hold",
    "wrap_up": "整理 Wrap-up",
}
REASONS = {
    "break": "休息 break",
    "lunch": "午餐 lunch",
    "meeting": "会议 meeting",
    "training": "培训 training",
    "other": "其他 other",
}


@dataclass
class CallInfo:
    """The call on the agent's screen."""

    call: str
    number: str = ""
    name: str | None = None
    location: str | None = None
    direction: str = "in"
    state: str = "ringing"  # ringing | up | hold | ended
    offered_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    queue: str | None = None
    ivr_path: list[str] = field(default_factory=list)
    wait: float | None = None
    offer: dict[str, Any] = field(default_factory=dict)


@dataclass
class AgentModel:
    """State of one logged-in agent. `now` is passed in by the caller on every change."""

    login: str
    extension: str | None = None
    name: str = ""
    state: str = "logged_out"
    reason: str | None = None
    since: float = 0.0
    call: CallInfo | None = None
    last_call: CallInfo | None = None  # the call just ended (for the wrap-up note)
    daemon_states: bool = False  # the daemon reports agent states itself

    def set_state(self, state: str, now: float, reason: str | None = None) -> None:
        if state != self.state or reason != self.reason:
            self.state, self.reason, self.since = state, reason, now

    def _mine(self, data: dict[str, Any]) -> bool:
        if data.get("agent") is not None and data.get("agent") == self.login:
            return True
        ext = self.extension
        if ext is None:
            return False
        return (
            data.get("extension") == ext
            or ext in (data.get("lines") or ())
            or ext in (data.get("offered") or ())
        )

    def apply_agent(self, data: dict[str, Any], now: float) -> bool:
        """An ``agent.changed``/``agent.state`` dict; returns True when it was about us."""
        if data.get("agent") != self.login:
            return False
        self.daemon_states = True
        state = data.get("state")
        if state in STATES:
            since = data.get("since")
            stamp = float(since) if isinstance(since, int | float) and since > 1e9 else now
            if state != self.state or data.get("reason") != self.reason:
                self.state, self.reason, self.since = state, data.get("reason"), stamp
        if data.get("extension"):
            self.extension = str(data["extension"])
        return True

    def on_event(self, name: str, data: dict[str, Any], now: float) -> set[str]:
        """Apply one daemon event; returns what changed: {"state", "call", "pop"}."""
        changed: set[str] = set()
        if name in ("agent.changed", "agent.snapshot"):
            if self.apply_agent(data, now):
                changed.add("state")
            return changed
        call_id = data.get("call") or data.get("uniqueid")
        mine = self.call is not None and call_id == self.call.call
        if name == "call.offered" and self._mine(data):
            if not mine:
                self.call = CallInfo(
                    call=call_id or "",
                    number=data.get("number") or data.get("src") or "",
                    name=data.get("name") or data.get("caller_name"),
                    location=data.get("location"),
                    direction=data.get("direction") or "in",
                    offered_at=now,
                    queue=data.get("queue"),
                    ivr_path=[str(x) for x in data.get("ivr_path") or []],
                    wait=data.get("wait"),
                    offer=dict(data),
                )
                changed |= {"call", "pop"}
            self.set_state("ringing", now)
            changed.add("state")
        elif name == "call.snapshot" and self._mine(data) and data.get("state") != "ended":
            if not mine:
                peer = data.get("src") if data.get("direction") != "out" else data.get("dst")
                self.call = CallInfo(
                    call=call_id or "",
                    number=peer or "",
                    name=data.get("caller_name"),
                    location=data.get("location"),
                    direction=data.get("direction") or "in",
                    state="up" if data.get("state") == "up" else "ringing",
                    offered_at=now,
                    offer=dict(data),
                )
                changed |= {"call", "pop"}
            self.set_state("on_call" if data.get("state") == "up" else "ringing", now)
            changed.add("state")
        elif name == "call.dialing" and self._mine(data) and not mine:
            self.call = CallInfo(
                call=call_id or "", number=data.get("number") or data.get("dst") or "", direction="out",
                state="dialing", offered_at=now, offer=dict(data),
            )  # fmt: skip
            changed |= {"call", "pop"}
            self.set_state("on_call", now)
            changed.add("state")
        elif name == "call.answered" and mine and self.call is not None:
            by = data.get("by")
            if by in (None, self.extension) or self.extension in (data.get("lines") or ()):
                self.call.state, self.call.answered_at = "up", now
                self.set_state("on_call", now)
                changed.add("state")
            else:  # picked up at another desk
                self.call = None
                self.set_state("ready", now)
                changed.add("state")
            changed.add("call")
        elif name == "call.ended" and mine and self.call is not None:
            self.call.state, self.call.ended_at = "ended", now
            self.last_call, self.call = self.call, None
            self.set_state("wrap_up" if self.last_call.answered_at else "ready", now)
            changed.add("state")
            changed.add("call")
        return changed
