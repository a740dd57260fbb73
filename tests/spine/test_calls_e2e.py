"""First calls end to end on the simulated office: real line audio through the soft DSP."""

from __future__ import annotations

import pytest

from ccd.daemon import Daemon
from ccd.telephony.line import LineState
from tests.spine.conftest import named


def state(daemon: Daemon, line: str) -> LineState:
    return daemon.lines[line].state


@pytest.mark.parametrize("cid", ["fsk-bell202", "fsk-v23", "dtmf"])
async def test_inbound_call_rings_with_caller_id_and_leaves_a_cdr(office: Daemon, cid: str) -> None:
    name = None if cid == "dtmf" else "张三"
    office.sim.place_call("1", "13800138000", name=name, cid=cid, talk=10.0, hangup_after=60.0)
    await office.run_for(7.0)  # first ring, caller ID, second ring
    ringing = named(office.events, "call.ringing")
    assert len(ringing) == 1
    assert ringing[0].data["number"] == "13800138000"
    assert ringing[0].data["name"] == name
    assert ringing[0].data["location"]  # 北京/… from the offline number plan
    assert sorted(ringing[0].data["targets"]) == ["801", "802"]
    assert state(office, "801") is LineState.RINGING and state(office, "802") is LineState.RINGING

    office.sim.phone("801", "offhook")
    await office.run_for(1.0)
    assert state(office, "1") is LineState.CONNECTED
    assert state(office, "801") is LineState.CONNECTED
    assert state(office, "802") is LineState.IDLE  # the other phone stopped ringing

    # the caller talks 10 s then hangs up: the line only carries busy tone
    await office.run_for(12.0)
    assert state(office, "1") is LineState.IDLE
    assert state(office, "801") is LineState.WAIT_HANGUP
    office.sim.phone("801", "onhook")
    await office.run_for(0.5)
    assert state(office, "801") is LineState.IDLE

    cdr = (await office.store.calls.last(1))[0]
    assert cdr.disposition == "ANSWERED"
    assert cdr.src == "13800138000"
    assert cdr.caller_name == name
    assert cdr.direction == "in"
    assert cdr.channel == "1" and cdr.dstchannel == "801"
    assert 9 <= cdr.billsec <= 13
    assert cdr.duration >= cdr.billsec + 5
    assert [leg.channel for leg in cdr.legs] == ["1", "801", "802"]


async def test_caller_who_gives_up_is_no_answer(office: Daemon) -> None:
    office.sim.place_call("2", "02161234567", name="李四", hangup_after=12.0)
    await office.run_for(25.0)
    assert state(office, "2") is LineState.IDLE
    assert state(office, "801") is LineState.IDLE
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.disposition == "NO ANSWER"
    assert cdr.billsec == 0
    assert cdr.src == "02161234567"


async def test_withheld_number_still_rings(office: Daemon) -> None:
    office.sim.place_call("1", None, cid="fsk-bell202", talk=3.0)
    await office.run_for(7.0)
    ringing = named(office.events, "call.ringing")
    assert ringing and ringing[0].data["number"] == ""
    assert ringing[0].data["name"] == "withheld"


async def test_outbound_call_from_a_phone_hears_busy(office: Daemon) -> None:
    office.sim.set_callee("13900001111", "busy")
    office.sim.phone("802", "offhook")
    await office.run_for(1.0)
    assert state(office, "802") is LineState.OFFHOOK
    office.sim.phone("802", "press", "13900001111#")
    await office.run_for(12.0)
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.direction == "out"
    assert cdr.dst == "13900001111"
    assert cdr.disposition == "BUSY"
    assert cdr.trunk == "2"  # sequential hunting: first trunk of the rule
    assert state(office, "2") is LineState.IDLE
    assert state(office, "802") is LineState.WAIT_HANGUP


async def test_outbound_call_answered(office: Daemon) -> None:
    office.sim.set_callee("13900002222", "answer", answer_after=8.0, talk=10.0)
    office.sim.phone("801", "offhook")
    await office.run_for(0.5)
    office.sim.phone("801", "press", "13900002222#")
    # keys 2 s, dial tone 1-3 s, DTMF out 2 s, exchange 3 s, ringback 8 s, then a voice
    await office.run_for(24.0)
    assert state(office, "2") is LineState.CONNECTED
    answered = named(office.events, "call.answered")
    assert answered
    office.sim.phone("801", "onhook")
    await office.run_for(1.0)
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.disposition == "ANSWERED"
    assert cdr.dst == "13900002222"
    assert state(office, "2") is LineState.IDLE


async def test_click_to_dial_rings_the_agent_first(office: Daemon) -> None:
    office.sim.set_callee("13900003333", "answer", answer_after=5.0, talk=5.0)
    office.engine.originate("801", "13900003333")
    office._apply(office.engine.drain())
    await office.run_for(1.0)
    assert state(office, "801") is LineState.RINGING
    office.sim.phone("801", "offhook")
    await office.run_for(25.0)
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.dst == "13900003333"
    assert cdr.disposition == "ANSWERED"


async def test_pass_through_line_answered_at_the_desk_phone(office: Daemon) -> None:
    office.sim.place_call("5", "13800138000", name="张三", talk=5.0)
    await office.run_for(7.0)
    ringing = named(office.events, "call.ringing")
    assert ringing and ringing[0].data["targets"] == ["desk5"]
    office.sim.phone("5", "offhook")
    await office.run_for(8.0)
    office.sim.phone("5", "onhook")
    await office.run_for(0.5)
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.disposition == "ANSWERED" and cdr.src == "13800138000"
    assert state(office, "5") is LineState.IDLE


async def test_internal_call_between_extensions(office: Daemon) -> None:
    office.sim.phone("801", "offhook")
    await office.run_for(0.5)
    office.sim.phone("801", "press", "802")
    await office.run_for(2.0)
    assert state(office, "802") is LineState.RINGING
    office.sim.phone("802", "offhook")
    await office.run_for(3.0)
    assert state(office, "801") is LineState.CONNECTED
    office.sim.phone("802", "onhook")
    await office.run_for(0.5)
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.direction == "internal" and cdr.disposition == "ANSWERED"


async def test_caller_sent_out_on_another_trunk(office: Daemon) -> None:
    office.sim.set_callee("13900004444", "answer", answer_after=4.0, talk=20.0)
    office.sim.place_call("1", "13800138000", talk=60.0)
    await office.run_for(7.0)
    call = next(iter(office.engine.calls.values()))
    office.engine.route(call, "external", "13900004444")
    office._apply(office.engine.drain())
    assert state(office, "801") is LineState.IDLE  # the phones stopped ringing
    await office.run_for(25.0)
    assert state(office, "1") is LineState.CONNECTED
    assert state(office, "2") is LineState.CONNECTED  # the outside line, bridged
    assert office.sim.calls["2"].dialled == "13900004444"
