"""The modem driver against the pty emulator: what a call on a USR or Conexant modem looks like.

Real time (the emulator paces audio at 8000 samples/s), short timeouts, and every wait is
on a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccd.clock import RealClock
from ccd.drivers.base import (
    Dial,
    DialResult,
    DriverError,
    DriverUnavailable,
    Hook,
    HwCallerId,
    HwDtmf,
    LineAlarm,
    LineKind,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    Ring,
    RingPhone,
    SendDtmf,
    UnsupportedCommand,
    load_driver_class,
)
from tests.fakes.fake_modem import FakeModem, MediaLoop

FAST: dict[str, Any] = {
    "command_timeout": 0.3,
    "reset_timeout": 0.4,
    "guard_time": 0.05,
    "reopen_interval": 0.1,
    "keepalive": 0.2,
    "cid_timeout": 0.2,
    "ring_on": 0.1,
    "tx_hangover": 0.2,
}
LINE = "trunk1"
BOTH = pytest.mark.parametrize("profile", ["usr", "conexant"])


@contextlib.asynccontextmanager
async def rig(
    profile: str, tmp_path: Path, quirks: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[tuple[FakeModem, Any, MediaLoop]]:
    emu = FakeModem(profile, tmp_path / "ttyMODEM", **(quirks or {})).start()
    drv = load_driver_class("modem")(
        "m1",
        [LineSpec(LINE, LineKind.TRUNK, 0, passthrough=True)],
        {"port": emu.path, "clock": RealClock(), **FAST, **options},
    )
    try:
        await drv.open()
        yield emu, drv, MediaLoop(drv)
    finally:
        await drv.close()
        emu.stop()


async def answered(emu: FakeModem, drv: Any, media: MediaLoop) -> None:
    drv.command(OffHook(LINE))
    assert await media.wait_for(lambda: media.of(Loop) and emu.mode == "vrx"), emu.commands[-6:]


def u8_samples(codes: bytes) -> np.ndarray:
    """int16 samples that the 8-bit unsigned codec turns into exactly `codes`."""
    return ((np.frombuffer(codes, np.uint8).astype(np.int16) - 128) * 256).astype(np.int16)


# ---------------------------------------------------------------- ringing and caller ID


@BOTH
async def test_ring_and_caller_id(profile: str, tmp_path: Path) -> None:
    async with rig(profile, tmp_path) as (emu, _drv, media):
        emu.ring()
        emu.caller_id(name="ZHANG SAN")
        emu.ring()
        assert await media.wait_for(
            lambda: len([r for r in media.of(Ring) if r.on]) == 2 and media.of(HwCallerId)
        )
        (cid,) = media.of(HwCallerId)
        assert (cid.number, cid.name, cid.datetime, cid.ok) == ("13800138000", "ZHANG SAN", "11221530", True)
        assert await media.wait_for(lambda: len([r for r in media.of(Ring) if not r.on]) == 2)
        # caller ID comes between the rings, in the order the modem said it
        kinds = [type(e).__name__ for e in media.events]
        assert kinds.index("HwCallerId") < [i for i, k in enumerate(kinds) if k == "Ring"][2]


@pytest.mark.parametrize("code", ["P", "O"])
async def test_withheld_number(code: str, tmp_path: Path) -> None:
    async with rig("conexant", tmp_path) as (emu, _drv, media):
        emu.ring()
        emu.caller_id(time_=None, number=code)  # a partial record: no TIME; completed by the timeout
        assert await media.wait_for(lambda: media.of(HwCallerId))
        (cid,) = media.of(HwCallerId)
        assert cid.number is None and cid.number_absent == code and cid.ok


async def test_garbled_caller_id_is_reported_raw_and_the_call_still_rings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with rig("usr", tmp_path) as (emu, _drv, media):
        emu.ring()
        emu.caller_id(number="1380\x01\xfe0138000")
        emu.ring()
        assert await media.wait_for(lambda: media.of(HwCallerId) and len(media.of(Ring)) >= 3)
        (cid,) = media.of(HwCallerId)
        assert not cid.ok and "1380" in cid.raw
        assert "garbled caller ID" in caplog.text


@BOTH
async def test_raw_mdmf_caller_id(profile: str, tmp_path: Path) -> None:
    from ccd.dsp.callerid import CallerId, encode_mdmf

    packet = encode_mdmf(CallerId("mdmf", number="13800138000", datetime="11221530")).hex().upper()
    quirks = {"hash_cid": True}
    async with rig(profile, tmp_path, quirks, cid_mode="raw") as (emu, drv, media):
        assert emu.state.cid == 2 and drv.describe()["caller_id_command"].endswith("=2")
        emu.ring()
        emu.caller_id(mesg=packet)
        emu.ring()
        assert await media.wait_for(lambda: media.of(HwCallerId))
        (cid,) = media.of(HwCallerId)
        assert (cid.number, cid.datetime, cid.ok) == ("13800138000", "11221530", True)


async def test_rings_without_caller_id_on_a_line_that_had_it_resend_vcid(tmp_path: Path) -> None:
    async with rig("conexant", tmp_path) as (emu, _drv, media):
        emu.ring()
        emu.caller_id()
        assert await media.wait_for(lambda: media.of(HwCallerId))
        assert await media.wait_for(lambda: media.of(Ring)[-1].on is False)
        emu.forget_cid()  # the stick silently drops +VCID (callattendant#175)
        media.events.clear()
        await media.wait_for(lambda: False, timeout=0.05)
        n = len(emu.commands)
        _drv.opts.ring_gap = 0.0  # the next RING starts a new call at once
        emu.ring()
        await media.wait_for(lambda: media.of(Ring), timeout=0.5)
        _drv.opts.ring_gap = 8.0
        emu.ring()
        emu.ring()
        assert await media.wait_for(lambda: "AT+VCID=1" in emu.commands[n:])
        assert emu.state.cid == 1


# ---------------------------------------------------------------- answering, DTMF, audio


@BOTH
async def test_answer_then_dtmf_once_per_key(profile: str, tmp_path: Path) -> None:
    async with rig(profile, tmp_path) as (emu, drv, media):
        emu.ring()
        assert await media.wait_for(lambda: media.of(Ring))
        await answered(emu, drv, media)
        assert drv.capabilities(LINE).audio and not drv.capabilities(LINE).switching
        for d in "5#":
            emu.dtmf(d)
        assert await media.wait_for(lambda: len(media.of(HwDtmf)) >= 2)
        await media.wait_for(lambda: False, timeout=0.1)
        assert [e.digit for e in media.of(HwDtmf)] == ["5", "#"]
        assert media.of(Hook) == []  # the USR's <DLE>H right after AT+VLS=1 is not a handset
        if profile == "usr":
            assert emu.state.vls == 5  # USR records nothing from the line at VLS=1


@BOTH
async def test_played_audio_reaches_the_line_unshielded(profile: str, tmp_path: Path) -> None:
    codes = bytes([0x10, 0x90, 0x10, 0x10, 0x03, 0xF0, 0x21, 0x10]) * 60  # 480 samples, DLE-rich
    async with rig(profile, tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        media.send(u8_samples(codes))
        assert await media.wait_for(lambda: codes in emu.tx_audio and emu.mode == "vrx")
        # half duplex: it went back to recording after the prompt
        assert emu.commands[-1] == "AT+VRX"


@BOTH
async def test_recorded_audio_arrives_decoded(profile: str, tmp_path: Path) -> None:
    codes = bytes([0x10, 0x10, 0x10, 0x10, 0x40, 0x10, 0xC0, 0x7F]) * 50  # 0x10 pairs: <DLE><SUB> on Conexant
    want = u8_samples(codes).tobytes()
    async with rig(profile, tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        emu.play_rx(codes)
        assert await media.wait_for(lambda: want in media.rx_samples().tobytes())


async def test_full_duplex_records_while_playing(tmp_path: Path) -> None:
    codes = bytes([0x10, 0x50, 0xB0, 0x11]) * 100
    async with rig("usr", tmp_path, {"vtr": True}, full_duplex=True) as (emu, drv, media):
        drv.command(OffHook(LINE))
        assert await media.wait_for(lambda: emu.mode == "vtr")
        assert drv.capabilities(LINE).full_duplex
        emu.play_rx(codes)
        media.send(u8_samples(codes))
        want = u8_samples(codes).tobytes()
        assert await media.wait_for(lambda: codes in emu.tx_audio and want in media.rx_samples().tobytes())


@BOTH
async def test_send_dtmf_in_the_chipset_form(profile: str, tmp_path: Path) -> None:
    async with rig(profile, tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        drv.command(SendDtmf(LINE, "9"))
        assert await media.wait_for(lambda: emu.state.vts and emu.mode == "vrx")
        assert emu.state.vts == (["[852,1477,10]"] if profile == "usr" else ["{9,10}"])


async def test_on_hook_goes_back_to_caller_id_mode(tmp_path: Path) -> None:
    async with rig("conexant", tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        drv.command(OnHook(LINE))
        assert await media.wait_for(lambda: drv.state == "idle")
        assert emu.state.vls == 0 and emu.state.fclass == 0 and emu.state.cid == 1
        assert not drv.capabilities(LINE).audio
        assert media.rx[-1] is None


# ---------------------------------------------------------------- the far end hangs up


@pytest.mark.parametrize(
    ("profile", "code"), [("usr", "b"), ("usr", "d"), ("conexant", "l"), ("conexant", "b")]
)
async def test_far_end_hangup_is_one_loop_drop(profile: str, code: str, tmp_path: Path) -> None:
    async with rig(profile, tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        emu.dle(code)
        emu.dle("b")
        assert await media.wait_for(lambda: Loop(LINE, current=False) in media.events)
        await media.wait_for(lambda: False, timeout=0.1)
        assert media.of(Loop) == [Loop(LINE, current=True), Loop(LINE, current=False)]


async def test_busy_tone_in_the_audio_alone_ends_the_call(tmp_path: Path) -> None:
    pytest.importorskip("ccd.dsp.tones")
    t = np.arange(int(0.35 * 8000)) / 8000
    on = (np.sin(2 * np.pi * 450 * t) * 8000).astype(np.int16)
    off = np.zeros_like(on)
    cadence = np.concatenate([on, off] * 4)
    codes = ((cadence.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
    async with rig("usr", tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        emu.play_rx(codes)
        assert await media.wait_for(lambda: Loop(LINE, current=False) in media.events, timeout=2.8)


# ---------------------------------------------------------------- dialling


@pytest.mark.parametrize(
    ("profile", "modem_says", "result"),
    [
        ("usr", "BUSY", "busy"),
        ("conexant", "NO ANSWER", "no_answer"),
        ("conexant", "NO DIALTONE", "no_dialtone"),
        ("usr", "VCON", "answer"),
        ("conexant", "CONNECT", "answer"),
    ],
)
async def test_dial_results(profile: str, modem_says: str, result: str, tmp_path: Path) -> None:
    async with rig(profile, tmp_path) as (emu, drv, media):
        emu.dial_result = modem_says
        drv.command(Dial(LINE, "13800138000"))
        assert await media.wait_for(lambda: media.of(DialResult))
        assert media.of(DialResult) == [DialResult(LINE, result)]
        assert "ATD13800138000" in emu.commands
        if result == "answer":
            assert await media.wait_for(lambda: emu.mode == "vrx")
            assert media.of(Loop) == [Loop(LINE, current=True)]
        else:
            assert await media.wait_for(lambda: drv.state == "idle" and emu.state.fclass == 0)


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("until", ["escape", "atz", "reopen"])
async def test_wedged_modem_is_recovered(until: str, tmp_path: Path) -> None:
    async with rig("conexant", tmp_path) as (emu, _drv, media):
        emu.wedge(until)
        assert await media.wait_for(lambda: LineAlarm(LINE, ok=True, reason="recovered") in media.events, 2.8)
        (down,) = [a for a in media.of(LineAlarm) if not a.ok]
        assert "not answering" in down.reason
        assert "+++" in emu.commands
        # the init strings went out again after the reset: the Conexant forgets +VCID on ATZ
        assert "AT+VCID=1" in emu.commands_after("ATZ") and emu.state.cid == 1
        emu.ring()
        emu.caller_id()
        assert await media.wait_for(lambda: media.of(HwCallerId))


async def test_wedge_during_a_call_ends_the_call_and_recovers(tmp_path: Path) -> None:
    async with rig("usr", tmp_path) as (emu, drv, media):
        await answered(emu, drv, media)
        emu.wedge("escape")  # no more audio, no more answers
        assert await media.wait_for(lambda: LineAlarm(LINE, ok=True, reason="recovered") in media.events, 2.8)
        assert Loop(LINE, current=False) in media.events
        assert drv.state == "idle" and not drv.capabilities(LINE).audio


@BOTH
async def test_unplug_and_replug(profile: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "ccd.drivers.modem")
    async with rig(profile, tmp_path) as (emu, _drv, media):
        emu.unplug()
        assert await media.wait_for(lambda: media.of(LineAlarm))
        assert media.of(LineAlarm) == [LineAlarm(LINE, ok=False, reason="device vanished")]
        await media.wait_for(lambda: False, timeout=0.3)  # several failed reopen attempts
        emu.replug()
        assert await media.wait_for(lambda: LineAlarm(LINE, ok=True, reason="recovered") in media.events)
        assert emu.state.cid == 1  # init re-sent to the fresh device
        assert caplog.text.count("vanished") == 1 and caplog.text.count("recovered") == 1
        emu.ring()
        emu.caller_id()
        assert await media.wait_for(lambda: media.of(HwCallerId))


async def test_garbage_on_the_wire_is_survived(tmp_path: Path) -> None:
    async with rig("usr", tmp_path) as (emu, drv, media):
        emu.send_raw(b"\xff\x00\x13\x8a~~}\r\n\x10\xee\x01\x02garbage\r\n")
        emu.ring()
        emu.caller_id()
        emu.ring()
        assert await media.wait_for(lambda: media.of(HwCallerId) and len(media.of(Ring)) >= 2)
        assert media.of(HwCallerId)[0].number == "13800138000"
        assert drv.describe()["stats"]["garbage_bytes"] > 0
        await answered(emu, drv, media)


async def test_unknown_modem_gets_the_generic_profile_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with rig("unknown", tmp_path) as (emu, drv, media):
        d = drv.describe()
        assert d["profile"] == "generic" and d["identity"]["ati0"] == "ACME VOICE 2000"
        assert any("unknown modem" in w for w in d["warnings"])
        assert "generic V.253 profile" in caplog.text
        assert d["caller_id_command"] == "AT#CID=1"  # +VCID=1 refused, fell back
        assert d["codec"] == "ulaw"
        emu.ring()
        emu.caller_id()
        assert await media.wait_for(lambda: media.of(HwCallerId))
        await answered(emu, drv, media)


# ---------------------------------------------------------------- bad input


async def test_bad_commands_are_refused_clearly(tmp_path: Path) -> None:
    async with rig("usr", tmp_path) as (_emu, drv, _media):
        with pytest.raises(UnsupportedCommand, match="RingPhone"):
            drv.command(RingPhone(LINE, on=True))
        with pytest.raises(DriverError, match="cannot dial"):
            drv.command(Dial(LINE, "138x"))
        with pytest.raises(UnsupportedCommand, match="no line"):
            drv.command(OffHook("other"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": "/dev/null", "speed": 1}, "unknown option"),
        ({}, "no port"),
        ({"port": "/x", "profile": "zyxel"}, "unknown profile"),
        ({"port": "/x", "codec": "gsm"}, "unknown codec"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DriverUnavailable, match=message):
        load_driver_class("modem")("m1", [LineSpec(LINE, LineKind.TRUNK, 0)], options)


@pytest.mark.parametrize("port", ["/nonexistent/ttyACM9", "ffff:0001"])
async def test_absent_port_is_unavailable(port: str) -> None:
    drv = load_driver_class("modem")("m1", [LineSpec(LINE, LineKind.TRUNK, 0)], {"port": port})
    with pytest.raises(DriverUnavailable, match="cannot open"):
        await drv.open()
    await drv.close()


def test_the_config_schema_options_are_accepted() -> None:
    """What `[[drivers]] kind = "modem"` in ccd.toml hands over (ccd.config.schema.ModemOptions)."""
    opts = {"port": "/dev/ttyACM0", "profile": "cx93001", "gci": "26", "baud": 115200, "cid_mode": "auto"}
    drv = load_driver_class("modem")("m1", [LineSpec(LINE, LineKind.TRUNK, 0)], opts)
    assert drv.profile.name == "cx93001" and drv.describe()["port"] == "/dev/ttyACM0"


async def test_cid_mode_can_force_a_command(tmp_path: Path) -> None:
    async with rig("usr", tmp_path, cid_mode="AT#CID=1") as (emu, _drv, media):
        assert "AT+VCID=1" not in emu.commands and "AT#CID=1" in emu.commands
        emu.ring()
        emu.caller_id()
        assert await media.wait_for(lambda: media.of(HwCallerId))
