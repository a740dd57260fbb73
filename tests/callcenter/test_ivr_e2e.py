"""A caller walks the IVR by DTMF on the simulated office; what they heard is checked."""

from __future__ import annotations

from pathlib import Path

from ccd.daemon import Daemon
from ccd.telephony.line import LineState
from ccd.telephony.prompts import PromptLibrary
from tests.callcenter.conftest import heard_prompt, named, press


async def answered_by_ivr(office: Daemon, number: str = "13800138000") -> None:
    office.sim.place_call("1", number, talk=None, hangup_after=60.0)
    await office.run_for(8.0)  # rings, caller ID, answered by the IVR
    assert office.lines["1"].state is LineState.CONNECTED


async def test_menu_to_an_agent(office: Daemon) -> None:
    await answered_by_ivr(office)
    await office.run_for(6.0)
    press(office, "1", "0")
    await office.run_for(3.0)
    assert office.lines["801"].state is LineState.RINGING
    assert office.lines["802"].state is LineState.IDLE
    assert heard_prompt(office, "1", "welcome")
    assert heard_prompt(office, "1", "menu_main")
    assert not heard_prompt(office, "1", "goodbye")
    offered = named(office.events, "call.offered")
    assert offered[-1].data["ivr_path"] == ["menu=0", "extension:801"]


async def test_order_status_by_entered_number(office: Daemon) -> None:
    customer = await office.store.customers.add("张三", numbers=["13900001111"])
    await office.store.products.add("A1", "茶叶", 12800)
    order = await office.store.orders.create(customer.id, [("A1", 1)], status="shipped")
    digits = "".join(ch for ch in order.no if ch.isdigit())
    await answered_by_ivr(office)
    press(office, "1", "1", after=2.0)  # barge into the menu
    await office.run_for(4.0)
    press(office, "1", digits + "#", gap=0.25)
    await office.run_for(0.25 * len(digits) + 8.0)
    assert heard_prompt(office, "1", "enter_order_number")
    assert heard_prompt(office, "1", "order_status_shipped")
    assert not heard_prompt(office, "1", "order_status_pending")
    await office.run_for(6.0)  # goodbye, then ccd hangs up
    assert heard_prompt(office, "1", "goodbye")
    assert office.lines["1"].state is LineState.IDLE
    await office.callcenter.idle()
    await office.flush()
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.ivr_path == f"menu=1 > ask_order={digits} > hangup"


async def test_invalid_and_silent_callers_reach_an_agent(office: Daemon) -> None:
    await answered_by_ivr(office)
    await office.run_for(6.0)  # the menu plays; the caller presses a key it does not offer
    press(office, "1", "7")
    await office.run_for(30.0)  # invalid, menu again, nothing pressed: retries exhausted
    assert heard_prompt(office, "1", "invalid")
    assert office.lines["801"].state is LineState.RINGING
    offered = named(office.events, "call.offered")[-1]
    assert offered.data["ivr_path"] == ["menu!timeout", "extension:801"]


async def test_caller_hanging_up_mid_flow_ends_it_cleanly(office: Daemon) -> None:
    office.sim.place_call("1", "13800138000", talk=10.0, hangup_after=60.0)
    await office.run_for(30.0)  # the caller leaves during the menu
    assert office.lines["1"].state is LineState.IDLE
    assert not office.engine.calls
    assert office.lines["801"].state is LineState.IDLE
    await office.callcenter.idle()
    await office.flush()
    cdr = (await office.store.calls.last(1))[0]
    assert cdr.ivr_path == "hangup"
    assert cdr.disposition == "ANSWERED"
    await office.run_for(10.0)  # nothing left running: no prompt, no timer
    assert not office.engine.calls


async def test_missing_prompt_at_run_time_plays_silence_and_the_call_goes_on(
    office: Daemon, tmp_path: Path
) -> None:
    office.engine.prompts = PromptLibrary(tmp_path)  # every prompt has vanished from the disk
    await answered_by_ivr(office)
    await office.run_for(2.0)
    press(office, "1", "0")
    await office.run_for(3.0)
    assert office.lines["801"].state is LineState.RINGING


async def test_after_hours_goes_to_voicemail(office: Daemon) -> None:
    await office.callcenter.set_override("office", "closed", None)
    office.sim.place_call("1", "13800138000", talk=12.0, hangup_after=60.0)
    await office.run_for(9.0)
    assert office.engine.calls
    call = next(iter(office.engine.calls.values()))
    assert call.app is not None and call.app.kind == "voicemail"
    assert office.lines["801"].state is LineState.IDLE
