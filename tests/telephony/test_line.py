"""The line state machines: every transition is data, illegal ones raise and change nothing."""

from __future__ import annotations

import pytest

from ccd.drivers.base import Capabilities, LineKind, LineSpec
from ccd.telephony.line import (
    EXTENSION_TRANSITIONS,
    TRUNK_TRANSITIONS,
    IllegalTransition,
    Line,
    LineState,
)

S = LineState


def trunk(passthrough: bool = False) -> Line:
    return Line(LineSpec("1", LineKind.TRUNK, 0, passthrough=passthrough), Capabilities(), "sim", 0)


def ext() -> Line:
    return Line(LineSpec("801", LineKind.EXTENSION, 1), Capabilities(ring_phone=True), "sim", 1)


def run(line: Line, *triggers: str) -> list[LineState]:
    return [line.fire(t, float(i)).new for i, t in enumerate(triggers)]


def test_inbound_trunk_follows_the_seed_chart() -> None:
    # seed 003 §2.1: idle → ringing → wait answer → connected → wait hangup → idle
    assert run(trunk(), "ring", "offer", "answer", "far_hangup", "release") == [
        S.RINGING,
        S.WAIT_ANSWER,
        S.CONNECTED,
        S.WAIT_HANGUP,
        S.IDLE,
    ]


def test_outbound_trunk_follows_the_seed_chart() -> None:
    # seed 003 §2.2: idle → selected → (off-hook) → dialling → calling → connected
    assert run(trunk(), "select", "seize", "dial", "dialed", "far_answer", "release") == [
        S.SELECTED,
        S.SEIZED,
        S.DIALING,
        S.CALLING,
        S.CONNECTED,
        S.IDLE,
    ]


def test_extension_rings_and_times_out() -> None:
    line = ext()
    assert run(line, "select", "ring", "answer_timeout") == [S.SELECTED, S.RINGING, S.IDLE]


def test_illegal_transition_raises_and_leaves_state() -> None:
    line = trunk()
    line.fire("ring", 0.0)
    with pytest.raises(IllegalTransition):
        line.fire("far_answer", 1.0)
    assert line.state is S.RINGING
    assert len(line.history) == 1


def test_idle_clears_the_call() -> None:
    line = trunk()
    line.fire("ring", 0.0)
    line.call_id, line.caller_number = "c1", "13800138000"
    line.fire("ring_stopped", 6.0)
    assert line.call_id is None and line.caller_number is None


@pytest.mark.parametrize("table", [TRUNK_TRANSITIONS, EXTENSION_TRANSITIONS])
def test_every_state_can_go_out_of_service_and_back(table: dict) -> None:
    for state, moves in table.items():
        if state is S.OUT_OF_SERVICE:
            assert moves == {"restore": S.IDLE}
        else:
            assert moves["alarm"] is S.OUT_OF_SERVICE


@pytest.mark.parametrize("table", [TRUNK_TRANSITIONS, EXTENSION_TRANSITIONS])
def test_no_state_is_a_dead_end(table: dict) -> None:
    # from every state there is a way back to idle: no line can get stuck
    for start in table:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in table[frontier.pop()].values():
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert S.IDLE in seen, start


def test_passthrough_line_answered_by_the_desk_phone() -> None:
    line = trunk(passthrough=True)
    assert run(line, "ring", "offer", "phone_offhook", "phone_onhook") == [
        S.RINGING,
        S.WAIT_ANSWER,
        S.CONNECTED,
        S.IDLE,
    ]
