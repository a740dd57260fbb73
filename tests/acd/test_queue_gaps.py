"""Queue behaviour added late (on the fake engine): cancelled rings, position announcements that
never get worse, the office's midnight, and settings swapped by a reload while callers wait."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ccd.telephony.acd import AgentState
from ccd.telephony.acd_queue import AcdError, QueueSpec, next_midnight
from ccd.telephony.say import queue_position_prompts
from tests.acd.fakes import events, office

A = AgentState


def spec(**kw: object) -> QueueSpec:
    base: dict[str, object] = {"name": "sales", "strategy": "linear", "ring_timeout": 10.0, "retry": 1.0}
    base.update(kw)
    return QueueSpec(**base)  # type: ignore[arg-type]


def said_position(names: list[str], position: int) -> bool:
    want = queue_position_prompts(position, "zh")
    return any(names[i : i + len(want)] == want for i in range(len(names)))


def test_ring_all_and_hang_up_cancel_the_other_rings_with_ringcanceled() -> None:
    ctl, acd = office([spec(strategy="ring_all")], {"1001": "801", "1002": "802"})
    a = ctl.arrive("sales")
    assert {ctl.exts["801"].state.value, ctl.exts["802"].state.value} == {"ringing"}
    ctl.step(4.0)
    ctl.lift("801")
    assert events(ctl, "RINGCANCELED") == [(a.uniqueid, "sales", "Agent/1002", "RINGCANCELED", ("4000",))]
    assert acd.book.agents["1002"].state is A.READY and ctl.exts["802"].state.value == "idle"
    b = ctl.arrive("sales")
    assert ctl.exts["802"].call_id == b.uniqueid
    ctl.step(3.0)
    ctl.caller_hangs_up(b)  # gives up while 1002's phone rings
    assert events(ctl, "RINGCANCELED")[1] == (b.uniqueid, "sales", "Agent/1002", "RINGCANCELED", ("3000",))
    assert events(ctl, "RINGNOANSWER") == [] and len(events(ctl, "ABANDON")) == 1
    assert acd.book.agents["1002"].state is A.READY and acd.check() == []


@pytest.mark.parametrize("only_up", [True, False])
def test_position_only_up_never_announces_a_worse_place(only_up: bool) -> None:
    ctl, acd = office([spec(announce_frequency=30.0, announce_position_only_up=only_up)], {"1001": "801"})
    acd.set_state("1001", "not_ready", "lunch")
    ctl.arrive("sales", "1")
    b = ctl.arrive("sales", "2")
    assert said_position(ctl.played[b.uniqueid][-1][0], 2)  # the first one is always said
    vip = ctl.arrive("sales", "3", priority=5)  # b is now third
    ctl.step(30.0)
    names = ctl.played[b.uniqueid][-1][0]
    assert said_position(names, 3) is not only_up
    assert "wait_estimate_1" in names  # the estimated wait is still said
    ctl.caller_hangs_up(vip)  # back to second: not worse than the last place said
    ctl.step(30.0)
    assert said_position(ctl.played[b.uniqueid][-1][0], 2)


def test_next_midnight_follows_the_office_zone_and_daylight_saving() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    at = dt.datetime(2026, 1, 5, 23, 59, 30, tzinfo=shanghai).timestamp()
    assert next_midnight(at, shanghai) == at + 30
    new_york = ZoneInfo("America/New_York")  # 2026-03-08 has 23 hours there
    start = dt.datetime(2026, 3, 8, 0, 0, tzinfo=new_york).timestamp()
    assert next_midnight(start, new_york) - start == 23 * 3600


def test_a_removed_queue_takes_no_new_callers_but_its_callers_wait_and_overflow() -> None:
    support = spec(
        name="support", members=("nobody",), max_wait=40.0, overflow="queue", overflow_target="sales"
    )
    ctl, acd = office([spec(), support], {"1001": "801"})
    acd.set_state("1001", "not_ready", "meeting")
    waiting = ctl.arrive("support")
    ctl.step(10.0)
    result = acd.reconfigure([spec()], {})
    assert result["removed"] == ["support"] and not acd.accepts("support") and acd.accepts("sales")
    assert acd.queue_snapshot("support")["retired"] is True
    assert events(ctl, "CONFIGRELOAD")
    ctl.step(20.0)
    assert waiting.end is None and acd.position(acd.entries[waiting.uniqueid]) == 1
    acd.set_state("1001", "ready")  # not a member of support: the caller keeps waiting there
    assert acd.entries[waiting.uniqueid].queue == "support"
    ctl.step(10.0)  # max wait: on to sales, where 1001 takes it
    assert events(ctl, "EXITWITHTIMEOUT")[0][1] == "support"
    assert ctl.exts["801"].call_id == waiting.uniqueid
    ctl.step(1.0)
    assert "support" not in acd.queues and acd.check() == []
    with pytest.raises(AcdError):
        acd.transfer(acd.apps[waiting.uniqueid], waiting, "support", "blind")  # type: ignore[arg-type]


def test_reload_applies_intervals_priority_skills_and_wrap_up_at_the_next_decision() -> None:
    ctl, acd = office([spec(announce_frequency=120.0, wrap_up=30.0, skills={"sales": 1})], {"1001": "801"})
    acd.configure_agents({"1001": ({"sales": 2}, None)})
    acd.set_state("1001", "not_ready", "break")
    caller = ctl.arrive("sales")
    heard = len(ctl.played[caller.uniqueid])
    ctl.step(10.0)
    acd.reconfigure(
        [spec(announce_frequency=20.0, wrap_up=5.0, skills={"sales": 1})], {"1001": ({"sales": 2}, 60.0)}
    )
    ctl.step(5.0)
    assert len(ctl.played[caller.uniqueid]) == heard  # t=15: not yet
    ctl.step(5.0)
    assert len(ctl.played[caller.uniqueid]) == heard + 1  # t=20: the new interval, not 120 s
    acd.set_state("1001", "ready")
    ctl.step(2.0)
    ctl.lift("801")
    ctl.play_finished(caller)
    ctl.step(10.0)
    ctl.caller_hangs_up(caller)
    agent = acd.book.agents["1001"]
    assert agent.state is A.WRAP_UP and agent.wrap_until == ctl.now + 60.0  # the agent's own, new
    acd.reconfigure([spec(wrap_up=5.0, skills={"sales": 1})], {})  # 1001 no longer in [[agents]]
    assert agent.wrap_until == ctl.now + 60.0  # a wrap-up in progress keeps its end
    assert agent.skills == {} and agent.wrap_up is None
    ctl.put_down("801")
    ctl.step(61.0)
    assert agent.state is A.READY
    ctl.arrive("sales")
    assert agent.state is A.READY  # without the skill, 1001 is no longer offered sales callers
    assert acd.check() == []


def test_disposition_codes_are_checked_and_journaled() -> None:
    ctl, acd = office([spec()], {"1001": "801", "1002": "802"}, dispositions=("SALE", "INFO"))
    caller = ctl.arrive("sales")
    ctl.lift("801")
    with pytest.raises(AcdError) as unknown:
        acd.disposition("1001", None, "NOPE")
    assert unknown.value.code == "E_INVALID_ARGS"
    with pytest.raises(AcdError) as theirs:
        acd.disposition("1002", caller.uniqueid, "SALE")
    assert theirs.value.code == "E_NO_CALL"
    ctl.caller_hangs_up(caller)
    coded = acd.disposition("1001", None, "info", "asked for a catalogue")
    assert coded["call"] == caller.uniqueid and coded["code"] == "INFO"
    assert events(ctl, "DISPOSITION") == [
        (caller.uniqueid, "sales", "Agent/1001", "DISPOSITION", ("INFO", "asked for a catalogue"))
    ]
    assert acd.coding(acd.book.agents["1001"])["disposition"] == "INFO"
