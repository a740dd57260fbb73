"""Voice modems through the real daemon (real clock, emulators on ptys), both chipsets:
a call rings with its caller ID, the IVR answers and plays, DTMF walks the menu, the call
is recorded (a WAV linked to the CDR), the far end's hang-up ends it and the CDR is right.
Faults: unplug/replug (line down and back, other lines untouched), garbled caller ID
(logged raw, the call still rings), an unknown modem (generic profile, a warning)."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from ccd.config import config_from_text
from ccd.daemon import Daemon
from tests.drivers.daemon_helpers import short_dir, wait_for  # noqa: F401  (fixture)
from tests.fakes.fake_modem import FakeModem

FLOW = """
start = "menu"

[nodes.menu]
type = "menu"
prompts = ["menu_main"]
options = { "1" = "again" }
timeout = 10
retries = 1

[nodes.again]
type = "menu"
prompts = ["menu_main"]
options = { "9" = "bye" }
timeout = 10
retries = 1

[nodes.bye]
type = "hangup"
prompts = ["goodbye"]
"""

OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "modem"
kind = "modem"
port = "{port}"
command_timeout = 1.0
reopen_interval = 0.3

[[drivers]]
name = "office"
kind = "sim"
speech = false

[[trunks]]
id = "1"
driver = "modem"
channel = 0

[[trunks]]
id = "2"
driver = "office"
channel = 0

[[extensions]]
id = "801"
driver = "office"
channel = 1

[[ivr]]
name = "main"
file = "main.toml"

[[inbound]]
name = "modem"
trunks = ["1"]
ivr = "main"

[[inbound]]
name = "board"
trunks = ["2"]
ring = ["801"]

[recording]
mode = "all"
format = "pcm16"
"""


@asynccontextmanager
async def office(folder: Path, profile: str) -> AsyncIterator[tuple[Daemon, FakeModem, list]]:
    emu = FakeModem(profile, folder / "ttyV").start()
    (folder / "main.toml").write_text(FLOW, encoding="utf-8")
    daemon = Daemon(config_from_text(OFFICE.format(port=emu.path), base_dir=folder), server=False)
    events: list = []
    daemon.bus.subscribe(events.append)
    await daemon.start()
    try:
        modem = daemon.slots[0]
        await wait_for(lambda: modem.ok and modem.driver.state == "idle", 3.0, "the modem to be ready")
        yield daemon, emu, events
    finally:
        await daemon.stop()
        emu.stop()


def named(events: list, name: str, line: str | None = None) -> list:
    return [e for e in events if e.name == name and (line is None or e.data.get("line") == line)]


@pytest.mark.parametrize("profile", ["usr", "conexant"])
async def test_a_call_through_the_ivr(short_dir: Path, profile: str) -> None:  # noqa: F811
    async with office(short_dir, profile) as (daemon, emu, events):
        emu.ring()
        emu.caller_id(number="13800138000")
        emu.ring()
        await wait_for(lambda: named(events, "call.ringing", "1"), 3.0, "call.ringing")
        assert named(events, "call.ringing", "1")[0].data["number"] == "13800138000"
        await wait_for(lambda: emu.state.offhook and len(emu.tx_audio) > 4000, 4.0, "the IVR's prompt")
        assert any(b not in (0x80, 0xFF, 0xD5, 0x00) for b in emu.tx_audio[:8000])  # sound, not silence
        emu.dtmf("1")
        await wait_for(
            lambda: any(e.data.get("digit") == "1" for e in named(events, "call.dtmf")), 3.0, "DTMF"
        )
        await wait_for(lambda: daemon.callcenter.recorder.active, 2.0, "the recording to start")
        emu.dle("b")  # the far end hangs up: the modem reports busy
        await wait_for(lambda: named(events, "call.ended"), 3.0, "call.ended")
        await wait_for(lambda: not emu.state.offhook, 3.0, "ATH")
        await daemon.callcenter.idle()
        await daemon.flush()
        cdr = (await daemon.store.calls.last(1))[0]
        assert (cdr.src, cdr.trunk, cdr.disposition) == ("13800138000", "1", "ANSWERED")
        assert cdr.ivr_path.startswith("menu=1")
        (rec,) = await daemon.store.recordings.for_calls([cdr.uniqueid])
        with wave.open(str(rec.path)) as w:
            assert w.getframerate() == 8000 and w.getnframes() > 0
        assert daemon.lines["1"].state.value == "idle"


async def test_unplug_and_replug_only_touches_that_line(short_dir: Path) -> None:  # noqa: F811
    async with office(short_dir, "conexant") as (daemon, emu, events):
        emu.unplug()
        await wait_for(lambda: named(events, "alert.line_down", "1"), 3.0, "alert.line_down")
        assert daemon.lines["1"].state.value == "out_of_service"
        daemon.sim.place_call("2", talk=30.0)  # the other lines work on
        await wait_for(lambda: named(events, "call.ringing", "2"), 8.0, "a call on line 2")
        assert daemon.lines["2"].state.value != "out_of_service"
        emu.replug()
        await wait_for(lambda: named(events, "alert.line_restored", "1"), 4.0, "alert.line_restored")
        assert daemon.lines["1"].state.value == "idle"
        assert "AT+VCID=1" in emu.commands_after("ATZ")  # caller ID set up again on the new tty
        emu.ring()
        emu.caller_id(number="13900001111")
        emu.ring()
        await wait_for(lambda: named(events, "call.ringing", "1"), 3.0, "a call after the replug")


async def test_garbled_caller_id_is_logged_raw_and_the_call_rings(
    short_dir: Path,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with office(short_dir, "usr") as (_daemon, emu, events):
        emu.ring()
        emu.caller_id(number="1380\x01\xfe0138000")
        emu.ring()
        await wait_for(lambda: named(events, "call.cid_error", "1"), 3.0, "call.cid_error")
        assert "1380" in named(events, "call.cid_error", "1")[0].data["raw"]
        assert "garbled caller ID" in caplog.text
        emu.ring()  # the call is offered without a number at the next ring
        await wait_for(lambda: named(events, "call.ringing", "1"), 3.0, "call.ringing")
        assert not named(events, "call.ringing", "1")[0].data["number"]


async def test_unknown_modem_generic_profile_with_a_warning(short_dir: Path) -> None:  # noqa: F811
    async with office(short_dir, "unknown") as (daemon, emu, events):
        described = daemon.status()["drivers"][0]
        assert described["profile"] == "generic"
        assert any("unknown modem" in w and "ACME VOICE 2000" in w for w in described["warnings"])
        emu.ring()
        emu.caller_id(number="13800138000")
        emu.ring()
        await wait_for(lambda: named(events, "call.ringing", "1"), 3.0, "call.ringing")
        assert named(events, "call.ringing", "1")[0].data["number"] == "13800138000"
