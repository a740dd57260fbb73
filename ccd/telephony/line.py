"""Line state machines for trunks and extensions (sans-IO).

Rule 1 (after h11): everything that decides a line's state lives in this file, as data.
The states follow the voice-board design in seed 003 (§2.1 inbound, §2.2 outbound):

inbound trunk:   idle → ringing (ring heard, caller ID collected) → wait_answer (offered
                 to phones) → connected → wait_hangup → idle
outbound trunk:  idle → selected → seized (off-hook, waiting for dial tone) → dialing →
                 calling (far end ringing) → connected → wait_hangup → idle
extension:       idle → selected → ringing → connected → wait_hangup → idle (a call to
                 the phone), or idle → offhook (dial tone) → dialing → calling →
                 connected (a call from the phone); the seed's 45 s answer timeout is
                 the `answer_timeout` trigger.

`Line.fire(trigger, now)` returns the `Transition` or raises `IllegalTransition` and
leaves the state unchanged. Every transition is an event for the bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ccd.drivers.base import Capabilities, LineKind, LineSpec


class LineState(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"  # trunk: ring heard; extension: phone ringing
    WAIT_ANSWER = "wait_answer"  # trunk: offered to phones / queue, not yet answered
    SELECTED = "selected"  # chosen for a call, not yet acting
    SEIZED = "seized"  # trunk: off-hook for an outgoing call, waiting for dial tone
    OFFHOOK = "offhook"  # extension: handset lifted, hearing dial tone
    DIALING = "dialing"
    CALLING = "calling"  # the far end is ringing
    CONNECTED = "connected"
    WAIT_HANGUP = "wait_hangup"  # the other side has gone; waiting for this side to clear
    OUT_OF_SERVICE = "out_of_service"


class IllegalTransition(Exception):
    """Our bug: a trigger that the line's state machine does not allow in its state."""

    def __init__(self, line: str, state: LineState, trigger: str) -> None:
        super().__init__(f"line {line}: can't handle {trigger!r} in state {state.value}")
        self.line, self.state, self.trigger = line, state, trigger


S = LineState
_ALWAYS = {"alarm": S.OUT_OF_SERVICE}

TRUNK_TRANSITIONS: dict[LineState, dict[str, LineState]] = {
    S.IDLE: {"ring": S.RINGING, "select": S.SELECTED, "offhook": S.CONNECTED, **_ALWAYS},
    S.RINGING: {
        "offer": S.WAIT_ANSWER,
        "answer": S.CONNECTED,
        "ring_stopped": S.IDLE,
        "release": S.IDLE,
        **_ALWAYS,
    },
    S.WAIT_ANSWER: {"answer": S.CONNECTED, "ring_stopped": S.IDLE, "release": S.IDLE, **_ALWAYS},
    S.SELECTED: {"seize": S.SEIZED, "release": S.IDLE, **_ALWAYS},
    S.SEIZED: {"dial": S.DIALING, "release": S.IDLE, "far_hangup": S.WAIT_HANGUP, **_ALWAYS},
    S.DIALING: {"dialed": S.CALLING, "release": S.IDLE, "far_hangup": S.WAIT_HANGUP, **_ALWAYS},
    S.CALLING: {
        "far_answer": S.CONNECTED,
        "far_hangup": S.WAIT_HANGUP,
        "release": S.IDLE,
        **_ALWAYS,
    },
    S.CONNECTED: {"far_hangup": S.WAIT_HANGUP, "release": S.IDLE, **_ALWAYS},
    S.WAIT_HANGUP: {"release": S.IDLE, **_ALWAYS},
    S.OUT_OF_SERVICE: {"restore": S.IDLE},
}

EXTENSION_TRANSITIONS: dict[LineState, dict[str, LineState]] = {
    S.IDLE: {"select": S.SELECTED, "offhook": S.OFFHOOK, **_ALWAYS},
    S.SELECTED: {"ring": S.RINGING, "offhook": S.CONNECTED, "cancel": S.IDLE, **_ALWAYS},
    S.RINGING: {"offhook": S.CONNECTED, "cancel": S.IDLE, "answer_timeout": S.IDLE, **_ALWAYS},
    S.OFFHOOK: {"digit": S.DIALING, "onhook": S.IDLE, "far_hangup": S.WAIT_HANGUP, **_ALWAYS},
    S.DIALING: {
        "digit": S.DIALING,
        "dialed": S.CALLING,
        "onhook": S.IDLE,
        "far_hangup": S.WAIT_HANGUP,
        **_ALWAYS,
    },
    S.CALLING: {"connect": S.CONNECTED, "far_hangup": S.WAIT_HANGUP, "onhook": S.IDLE, **_ALWAYS},
    S.CONNECTED: {"far_hangup": S.WAIT_HANGUP, "onhook": S.IDLE, **_ALWAYS},
    S.WAIT_HANGUP: {"onhook": S.IDLE, **_ALWAYS},
    S.OUT_OF_SERVICE: {"restore": S.IDLE},
}

# A pass-through box line is a trunk whose desk phone also lifts and drops the handset.
PASSTHROUGH_TRANSITIONS: dict[LineState, dict[str, LineState]] = {
    state: dict(moves) for state, moves in TRUNK_TRANSITIONS.items()
}
PASSTHROUGH_TRANSITIONS[S.RINGING]["phone_offhook"] = S.CONNECTED
PASSTHROUGH_TRANSITIONS[S.WAIT_ANSWER]["phone_offhook"] = S.CONNECTED
PASSTHROUGH_TRANSITIONS[S.IDLE]["phone_offhook"] = S.OFFHOOK
PASSTHROUGH_TRANSITIONS[S.OFFHOOK] = {
    "digit": S.DIALING,
    "phone_onhook": S.IDLE,
    "release": S.IDLE,
    **_ALWAYS,
}
PASSTHROUGH_TRANSITIONS[S.DIALING] = {
    **TRUNK_TRANSITIONS[S.DIALING],
    "digit": S.DIALING,
    "phone_onhook": S.IDLE,
}
for _state in (S.CONNECTED, S.WAIT_HANGUP, S.CALLING):
    PASSTHROUGH_TRANSITIONS[_state] = {**PASSTHROUGH_TRANSITIONS[_state], "phone_onhook": S.IDLE}
PASSTHROUGH_TRANSITIONS[S.CALLING]["far_answer"] = S.CONNECTED


@dataclass(frozen=True, slots=True)
class Transition:
    line: str
    old: LineState
    new: LineState
    trigger: str
    at: float


@dataclass
class Line:
    """One line's state plus what the call engine needs to know about it."""

    spec: LineSpec
    caps: Capabilities
    driver: str
    row: int  # global audio row in the media matrix
    state: LineState = LineState.IDLE
    since: float = 0.0
    call_id: str | None = None  # the call this line is part of
    caller_number: str | None = None
    caller_name: str | None = None
    digits: str = ""  # digits collected (dialled by a phone, or caller keypresses)
    last_ring_at: float | None = None
    rings: int = 0
    oos_reason: str = ""
    history: list[Transition] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def kind(self) -> LineKind:
        return self.spec.kind

    @property
    def table(self) -> dict[LineState, dict[str, LineState]]:
        if self.spec.kind is LineKind.EXTENSION:
            return EXTENSION_TRANSITIONS
        return PASSTHROUGH_TRANSITIONS if self.spec.passthrough else TRUNK_TRANSITIONS

    def can(self, trigger: str) -> bool:
        return trigger in self.table.get(self.state, {})

    def fire(self, trigger: str, now: float) -> Transition:
        try:
            new = self.table[self.state][trigger]
        except KeyError:
            raise IllegalTransition(self.id, self.state, trigger) from None
        transition = Transition(self.id, self.state, new, trigger, now)
        self.state, self.since = new, now
        if new is LineState.IDLE:
            self.call_id = None
            self.caller_number = self.caller_name = None
            self.digits = ""
            self.rings = 0
            self.last_ring_at = None
        self.history.append(transition)
        del self.history[:-20]
        return transition

    def snapshot(self) -> dict[str, object]:
        return {
            "line": self.id,
            "kind": self.spec.kind.value,
            "label": self.spec.label,
            "number": self.spec.number,
            "driver": self.driver,
            "passthrough": self.spec.passthrough,
            "state": self.state.value,
            "since": self.since,
            "call": self.call_id,
            "caller": self.caller_number,
            "caller_name": self.caller_name,
            "reason": self.oos_reason,
            "caps": self.caps.as_dict(),
        }
