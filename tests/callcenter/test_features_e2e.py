"""Firewall, voicemail, recording and survey end to end on the simulated office."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ccd.daemon import Daemon
from ccd.dsp.wav import read_wav
from ccd.telephony.line import LineState
from tests.callcenter.conftest import find_audio, heard_prompt, make_office, named, press


async def block(office: Daemon, number: str, action: str, target: str | None = None) -> None:
    await office.callcenter.cc_store.firewall.add("number", number, action, target=target)
    await office.callcenter.reload_firewall()


async def test_blocked_number_never_rings_a_phone(office: Daemon) -> None:
    await block(office, "13800138000", "reject")
    office.sim.place_call("2", "13800138000", hangup_after=20.0)
    states = set()
    for _ in range(60):
        await office.run_for(0.5)
        states |= {office.lines["801"].state, office.lines["802"].state}
    assert states == {LineState.IDLE}
    assert not named(office.events, "call.offered")
    assert len(named(office.events, "alert.call_blocked")) == 1
    await office.callcenter.idle()
    entry = (await office.callcenter.cc_store.firewall.list())[0]
    assert entry.hits == 1
    assert (await office.callcenter.cc_store.firewall.log())[0]["number"] == "13800138000"
    # another number still rings the office
    office.sim.place_call("2", "13900001111", hangup_after=15.0)
    await office.run_for(8.0)
    assert office.lines["801"].state is LineState.RINGING


async def test_blocked_caller_hears_a_message_and_is_hung_up(office: Daemon) -> None:
    await block(office, "13800138000", "message")
    office.sim.place_call("2", "13800138000", talk=None, hangup_after=60.0)
    await office.run_for(14.0)
    assert heard_prompt(office, "2", "blocked")
    assert office.lines["2"].state is LineState.IDLE
    assert office.lines["801"].state is LineState.IDLE


async def test_screening_lets_a_human_through_with_hash(office: Daemon) -> None:
    await block(office, "13800138000", "screen")
    office.sim.place_call("2", "13800138000", talk=None, hangup_after=60.0)
    await office.run_for(8.0)
    assert office.lines["801"].state is LineState.IDLE
    press(office, "2", "#", after=1.0)
    await office.run_for(3.0)
    assert heard_prompt(office, "2", "press_hash_to_talk")
    assert office.lines["801"].state is LineState.RINGING
    assert office.lines["802"].state is LineState.RINGING
    office.sim.phone("802", "offhook")
    await office.run_for(1.0)
    assert office.lines["802"].state is LineState.CONNECTED
    assert office.lines["801"].state is LineState.IDLE


async def test_vip_raises_priority(office: Daemon) -> None:
    await block(office, "13800138000", "vip", target="7")
    office.sim.place_call("2", "13800138000", hangup_after=15.0)
    await office.run_for(7.0)
    call = next(iter(office.engine.calls.values()))
    assert call.vars["priority"] == 7
    assert office.lines["801"].state is LineState.RINGING


async def test_voicemail_is_left_after_hours_and_heard_by_calling_in(office: Daemon) -> None:
    await office.callcenter.set_override("office", "closed", None)
    office.sim.place_call("1", "13800138000", talk=30.0, hangup_after=60.0)
    await office.run_for(50.0)  # greeting, beep, the caller speaks, then silence ends it
    assert not office.engine.calls
    await office.callcenter.idle()
    new = named(office.events, "voicemail.new")
    assert len(new) == 1 and new[0].data["mailbox"] == "801" and new[0].data["caller"] == "13800138000"
    messages = await office.callcenter.cc_store.voicemail.list("801")
    assert len(messages) == 1 and messages[0].status == "new" and messages[0].duration >= 2.0
    message_audio, _ = read_wav(messages[0].path)

    # the owner calls in during office hours and listens: 8, mailbox, PIN, 1
    await office.callcenter.set_override("office", "auto", None)
    office.sim.place_call("1", "13911112222", talk=None, hangup_after=60.0)
    await office.run_for(10.0)
    press(office, "1", "8")
    await office.run_for(3.0)
    press(office, "1", "801#")
    await office.run_for(4.0)
    press(office, "1", "4321#")
    await office.run_for(12.0)
    press(office, "1", "1")
    await office.run_for(4.0 + message_audio.size / 8000)
    for prompt in ("voicemail_enter_mailbox", "voicemail_enter_pin", "voicemail_you_have", "voicemail_menu"):
        assert heard_prompt(office, "1", prompt), prompt
    heard = office.sim.heard("1").astype(np.float64)
    assert find_audio(heard, message_audio[:12000].astype(np.float64)) is not None
    await office.callcenter.idle()
    assert (await office.callcenter.cc_store.voicemail.list("801"))[0].status == "saved"


async def test_wrong_pin_is_refused(office: Daemon) -> None:
    office.sim.place_call("1", "13911112222", talk=None, hangup_after=60.0)
    await office.run_for(10.0)
    press(office, "1", "8")
    await office.run_for(3.0)
    press(office, "1", "801#")
    await office.run_for(4.0)
    press(office, "1", "1111#")
    await office.run_for(5.0)
    assert heard_prompt(office, "1", "voicemail_login_failed")


async def answered_on_801(office: Daemon, talk: float = 60.0) -> None:
    office.sim.place_call("2", "13800138000", talk=talk, hangup_after=60.0)
    await office.run_for(7.0)
    office.sim.phone("801", "offhook")
    await office.run_for(1.0)
    assert office.lines["801"].state is LineState.CONNECTED


async def test_recording_is_a_valid_wav_linked_to_the_cdr_even_if_killed(short_dir: Path) -> None:
    office = await make_office(short_dir, recording="all", stereo=True)
    try:
        await answered_on_801(office, talk=20.0)
        await office.run_for(5.5)
        await office.callcenter.idle()
        rec = office.callcenter.recorder.active
        assert len(rec) == 1
        path = next(iter(rec.values())).path
        # the daemon is killed now: whatever is on disk must be a playable WAV
        snapshot = short_dir / "killed.wav"
        shutil.copyfile(path, snapshot)
        samples, info = read_wav(snapshot, mix=False)
        assert info.channels == 2 and not info.truncated
        assert samples.shape[0] / 8000 >= 4.0
        rows = await office.store.recordings.list()
        call_id = next(iter(office.engine.calls))
        assert rows and rows[0].call_uniqueid == call_id and rows[0].path == str(path)
        # the call ends normally: the file is closed and its length indexed
        await office.run_for(25.0)
        office.sim.phone("801", "onhook")
        await office.run_for(1.0)
        await office.callcenter.idle()
        await office.flush()
        cdr = await office.store.calls.get(call_id)
        assert [r.path for r in cdr.recordings] == [str(path)]
        assert cdr.recordings[0].duration >= 15.0
        samples, info = read_wav(path, mix=False)
        assert abs(samples.shape[0] / 8000 - cdr.recordings[0].duration) < 0.05
        # caller left (their speech), the agent's side right
        assert np.abs(samples[:, 0]).mean() > np.abs(samples[:, 1]).mean()
    finally:
        await office.callcenter.idle()
        await office.stop()


async def test_full_disk_stops_recording_not_the_call(short_dir: Path) -> None:
    office = await make_office(short_dir, recording="all")
    try:
        await answered_on_801(office)
        await office.run_for(3.0)
        assert office.callcenter.recorder.active
        office.callcenter.recorder.free = lambda folder: 10 << 20  # 10 MB left, below the minimum
        await office.run_for(11.0)
        assert not office.callcenter.recorder.active
        assert named(office.events, "alert.disk_full")
        assert office.lines["2"].state is LineState.CONNECTED
        assert office.lines["801"].state is LineState.CONNECTED
        await office.run_for(5.0)
        assert not office.callcenter.recorder.active  # not restarted while the disk is full
    finally:
        await office.callcenter.idle()
        await office.stop()


async def test_survey_after_the_call_stores_the_score(office: Daemon) -> None:
    await answered_on_801(office)
    call = next(iter(office.engine.calls.values()))
    call.agent, call.queue = "1001", "sales"
    office.engine.route(call, "survey", "sales")  # the agent sends the caller to the survey
    await office.run_for(1.0)
    assert office.lines["801"].state is LineState.WAIT_HANGUP
    press(office, "2", "4", after=2.0)
    await office.run_for(8.0)
    assert heard_prompt(office, "2", "survey_thanks")
    await office.run_for(4.0)
    assert not office.engine.calls
    await office.callcenter.idle()
    await office.flush()
    cdr = await office.store.calls.get(call.uniqueid)
    assert cdr.survey_score == 4
    rows = await office.store.journal.for_call(call.uniqueid)
    survey = [r for r in rows if r.event == "SURVEY"]
    assert survey and survey[0].queue == "sales" and survey[0].agent == "1001"
