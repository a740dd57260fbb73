"""Queue behaviour on a fake engine: what callers and agents notice, and the queue_log it writes."""

from __future__ import annotations

import pytest

from ccd.telephony.acd import AgentState
from ccd.telephony.acd_queue import AcdError, QueueSpec
from tests.acd.fakes import events, office

A = AgentState


def spec(**kw: object) -> QueueSpec:
    base: dict[str, object] = {"name": "sales", "strategy": "linear", "ring_timeout": 10.0, "retry": 1.0}
    base.update(kw)
    return QueueSpec(**base)  # type: ignore[arg-type]


def test_a_caller_is_offered_answered_bridged_after_the_agent_number_and_wrap_up_holds() -> None:
    ctl, acd = office([spec(wrap_up=20.0)], {"1001": "801"})
    call = ctl.arrive("sales", "13900000001")
    assert ctl.exts["801"].state.value == "ringing"
    assert acd.book.agents["1001"].state is A.RINGING
    names = ctl.played[call.uniqueid][0][0]
    assert names == ["queue_next"]
    ctl.step(3.0)
    ctl.lift("801")
    assert acd.book.agents["1001"].state is A.ON_CALL
    assert "agent_announce_1" in ctl.played[call.uniqueid][-1][0]  # 报工号 before the bridge
    assert "801" not in call.lines or call.lines == {"801"}
    ctl.play_finished(call)
    assert "801" in call.lines
    ctl.step(30.0)
    ctl.caller_hangs_up(call)
    assert acd.book.agents["1001"].state is A.WRAP_UP
    ctl.put_down("801")
    ctl.arrive("sales", "13900000002")
    ctl.step(10.0)
    assert acd.book.agents["1001"].state is A.WRAP_UP  # wrap-up holds even with a caller waiting
    assert ctl.exts["801"].state.value == "idle"
    ctl.step(11.0)
    assert acd.book.agents["1001"].state is A.RINGING
    enter, connect, complete = (
        events(ctl, "ENTERQUEUE")[0],
        events(ctl, "CONNECT")[0],
        events(ctl, "COMPLETECALLER")[0],
    )
    assert enter[4] == ("", "13900000001", "1")
    assert connect[4][0] == "3" and connect[2] == "Agent/1001"
    assert complete[4] == ("3", "30", "1")
    assert acd.check() == []


def test_unanswered_offers_move_on_and_pause_the_agent_after_three() -> None:
    ctl, acd = office([spec()], {"1001": "801", "1002": "802"}, max_no_answer=3)
    call = ctl.arrive("sales")
    for _ in range(3):
        ctl.step(10.0)  # 801 rings out
        ctl.step(1.0)  # retry: 802 rings (1001 was tried) ...
        ctl.step(10.0)
        ctl.step(1.0)
    rows = events(ctl, "RINGNOANSWER")
    assert [r[2] for r in rows[:4]] == ["Agent/1001", "Agent/1002", "Agent/1001", "Agent/1002"]
    assert rows[0][4] == ("10000",)
    assert acd.book.agents["1001"].state is A.NOT_READY
    assert acd.book.agents["1001"].reason == "no_answer"
    assert ("NONE", "NONE", "Agent/1001", "PAUSE", ("no_answer",)) in ctl.rows
    assert call.end is None and acd.check() == []


def test_vip_callers_are_served_first_and_positions_follow() -> None:
    ctl, acd = office([spec()], {"1001": "801"})
    acd.set_state("1001", "not_ready", "lunch")
    first = ctl.arrive("sales", "1")
    vip = ctl.arrive("sales", "2", priority=5)
    assert [e.callid for e in acd._ordered("sales")] == [vip.uniqueid, first.uniqueid]
    acd.set_state("1001", "ready")
    assert ctl.exts["801"].call_id == vip.uniqueid


def test_exit_key_and_max_wait_send_the_caller_on_with_the_right_rows() -> None:
    ctl, acd = office(
        [spec(exit_key="0", exit_to="hangup", max_wait=60.0, overflow="hangup")], {"1001": "801"}
    )
    acd.set_state("1001", "not_ready", "meeting")
    a = ctl.arrive("sales")
    b = ctl.arrive("sales")
    ctl.step(5.0)
    ctl.press(a, "0")
    assert a.end is not None
    assert events(ctl, "EXITWITHKEY")[0][4] == ("0", "1", "1", "5")
    ctl.step(56.0)
    assert b.end is not None
    assert events(ctl, "EXITWITHTIMEOUT")[0][4] == ("1", "2", "61")
    assert acd.entries == {}


def test_join_and_leave_rules_when_nobody_is_logged_in() -> None:
    ctl, acd = office([spec(join_when="logged_in", leave_when="no_ready")], {"1001": "801"})
    acd.set_state("1001", "logged_out")
    call = ctl.arrive("sales")
    assert call.end is not None and events(ctl, "EXITEMPTY")
    acd.login("1001", extension="801", ready=False, reason="break")
    waiting = ctl.arrive("sales")
    assert waiting.end is None
    ctl.step(0.5)
    assert waiting.end is not None and len(events(ctl, "EXITEMPTY")) == 2


def test_abandon_is_logged_with_position_and_wait() -> None:
    ctl, acd = office([spec()], {"1001": "801"})
    acd.set_state("1001", "not_ready", "break")
    a, b = ctl.arrive("sales"), ctl.arrive("sales")
    ctl.step(12.0)
    ctl.caller_hangs_up(a)
    assert events(ctl, "ABANDON")[0][4] == ("1", "1", "12")
    ctl.step(1.0)
    ctl.caller_hangs_up(b)
    assert events(ctl, "ABANDON")[1][4] == ("1", "2", "13")


def test_callback_keeps_the_place_and_the_agent_calls_back() -> None:
    ctl, acd = office([spec(callback_key="1")], {"1001": "801"})
    acd.set_state("1001", "not_ready", "break")
    first = ctl.arrive("sales", "13900000001")
    cb = ctl.arrive("sales", "13900000002")
    later = ctl.arrive("sales", "13900000003")
    assert "callback_offer" in ctl.played[cb.uniqueid][0][0]
    ctl.press(cb, "1")
    assert ctl.played[cb.uniqueid][-1] == (["callback_confirm"], "cb_confirm")
    ctl.play_finished(cb)  # confirmation heard: ccd hangs up, the place is kept
    assert cb.end is not None and cb.uniqueid in acd.entries
    assert not events(ctl, "ABANDON")
    assert acd.position(acd.entries[later.uniqueid]) == 3
    acd.set_state("1001", "ready")
    assert ctl.exts["801"].call_id == first.uniqueid  # the live caller ahead goes first
    ctl.lift("801")
    ctl.play_finished(first)
    ctl.step(20.0)
    ctl.caller_hangs_up(first)
    ctl.put_down("801")
    ctl.step(11.0)  # wrap-up over: the callback is next, before the later live caller
    back = ctl.calls[ctl.exts["801"].call_id or ""]
    assert back.direction == "out" and back.src == "13900000002"
    ctl.lift("801")  # the agent lifts: a trunk is seized and the caller dialled
    back.answer = ctl.now
    ctl.step(40.0)
    ctl.put_down("801")
    rows = [r for r in ctl.rows if r[0] == cb.uniqueid]
    assert [r[3] for r in rows] == ["ENTERQUEUE", "CALLBACK", "CONNECT", "COMPLETEAGENT"]
    assert acd.check() == []


def test_transfers_to_busy_or_unknown_targets_leave_the_call_with_the_agent() -> None:
    ctl, acd = office([spec()], {"1001": "801", "1002": "802"})
    acd.set_state("1002", "not_ready", "break")
    call = ctl.arrive("sales")
    ctl.lift("801")
    ctl.play_finished(call)
    app = call.app
    with pytest.raises(AcdError) as err:
        acd.transfer(app, call, "999", "blind")
    assert err.value.code == "E_TARGET_UNKNOWN"
    ctl.exts["802"].state = ctl.exts["802"].state.__class__("offhook")
    with pytest.raises(AcdError) as err:
        acd.transfer(app, call, "1002", "consult")
    assert err.value.code == "E_TARGET_BUSY"
    assert app.ext == "801" and not app.held and acd.book.agents["1001"].state is A.ON_CALL


def test_consult_then_complete_hands_the_caller_over_and_logs_attended_transfer() -> None:
    ctl, acd = office([spec(wrap_up=5.0)], {"1001": "801", "1002": "802"})
    acd.set_state("1002", "not_ready", "break")
    call = ctl.arrive("sales")
    ctl.lift("801")
    ctl.play_finished(call)
    acd.set_state("1002", "ready")
    app = call.app
    acd.transfer(app, call, "1002", "consult")
    assert acd.book.agents["1001"].state is A.HOLD and acd.book.agents["1002"].state is A.RINGING
    ctl.lift("802")
    acd.transfer_complete(app, call)
    assert acd.book.agents["1001"].state is A.WRAP_UP and acd.book.agents["1002"].state is A.ON_CALL
    assert events(ctl, "ATTENDEDTRANSFER")[0][4][0] == "BRIDGE"
    ctl.put_down("801")  # the first agent's hang-up no longer touches the call
    assert call.end is None
    ctl.put_down("802")
    assert call.end is not None and acd.book.agents["1002"].state is A.WRAP_UP
    assert not events(ctl, "COMPLETEAGENT")  # the transfer row closed the queue call
    assert acd.check() == []


def test_not_ready_during_a_call_applies_after_it() -> None:
    ctl, acd = office([spec(wrap_up=0.0)], {"1001": "801"})
    call = ctl.arrive("sales")
    ctl.lift("801")
    acd.set_state("1001", "not_ready", "lunch")
    assert acd.book.agents["1001"].state is A.ON_CALL
    ctl.caller_hangs_up(call)
    assert acd.book.agents["1001"].state is A.NOT_READY and acd.book.agents["1001"].reason == "lunch"


def test_an_unknown_reason_is_refused_clearly() -> None:
    _ctl, acd = office([spec()], {"1001": "801"})
    with pytest.raises(AcdError) as err:
        acd.set_state("1001", "not_ready", "nap")
    assert "unknown reason 'nap'" in err.value.message and err.value.code == "E_INVALID_ARGS"
