"""USB voice boxes: profiles checked, HID reports to line events, through a fake pyusb backend."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from ccd.drivers.base import (
    DriverUnavailable,
    Hook,
    HwCallerId,
    LineAlarm,
    LineKind,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    Polarity,
    Ring,
    SendDtmf,
    UnsupportedCommand,
    load_driver_class,
)
from ccd.drivers.usbbox.profile import ProfileError, load_profile, parse_profile, shipped_profiles
from ccd.drivers.usbbox.reports import ReportDecoder
from tests.fakes.fake_modem import MediaLoop
from tests.fakes.fake_usbbox import FakeUsbBox

# A two-line caller-ID box of the usual kind: a state report and a caller-ID report, both
# starting with a type byte and a line index (synthetic: written for these tests).
TWO_LINE = """
[device]
name = "Test two-line box"
vid = 0x1234
pid = 0x5678
lines = 2
source = "synthetic, for tests"

[hid]
interface = 3
endpoint_in = 0x82
report_size = 16

[audio]
uac_interfaces = [0, 1]

[[reports]]
match = { byte = 0, value = 0x01 }
line = { byte = 1 }
ring = { byte = 2, bit = 0 }
offhook = { byte = 2, bit = 1 }

[[reports]]
match = { byte = 0, value = 0x02 }
line = { byte = 1 }
cid = { length_byte = 2, start = 3, encoding = "ascii" }
"""


def state(line: int, ring: bool = False, offhook: bool = False) -> bytes:
    return bytes([0x01, line, int(ring) | int(offhook) << 1]) + bytes(13)


def cid(line: int, number: str) -> bytes:
    body = number.encode()
    return (bytes([0x02, line, len(body)]) + body).ljust(16, b"\0")


async def rig(tmp_path: Path, profile: str = TWO_LINE, lines: list[LineSpec] | None = None, **opts: Any):
    path = tmp_path / "box.toml"
    path.write_text(profile)
    prof = load_profile(path)
    fake = FakeUsbBox(
        prof.vid, prof.pid, prof.interface, prof.endpoint_in, prof.endpoint_out, prof.uac_interfaces
    )
    lines = lines or [LineSpec("L1", LineKind.TRUNK, 0, passthrough=True), LineSpec("L2", LineKind.TRUNK, 1)]
    drv = load_driver_class("usbbox")(
        "box", lines, {"profile": str(path), "usb_backend": fake, "reopen_interval": 0.02, **opts}
    )
    await drv.open()
    return fake, drv, MediaLoop(drv, channels=2)


async def test_ring_caller_id_and_hook_per_line(tmp_path: Path) -> None:
    fake, drv, media = await rig(tmp_path)
    try:
        fake.report(state(1, ring=True))
        fake.report(cid(1, "13800138000"))
        fake.report(cid(1, "13800138000"))  # boxes repeat the report: one caller ID per call
        fake.report(state(1, ring=False))
        fake.report(state(0, offhook=True))
        fake.report(state(0, offhook=False))
        assert await media.wait_for(lambda: len(media.of(Hook)) == 2)
        seen = [(type(e).__name__, e.line) for e in media.events]
        assert seen == [("Ring", "L2"), ("HwCallerId", "L2"), ("Ring", "L2"), ("Hook", "L1"), ("Hook", "L1")]
        assert media.of(HwCallerId)[0].number == "13800138000"
        assert [r.on for r in media.of(Ring)] == [True, False]
        assert drv.capabilities("L1").hw_caller_id and not drv.capabilities("L1").audio
    finally:
        await drv.close()


async def test_only_the_hid_interface_is_claimed(tmp_path: Path) -> None:
    fake, drv, _ = await rig(tmp_path)
    try:
        assert fake.claimed == {3} and fake.detached == [3]
        assert fake.kernel_driver[0] and fake.kernel_driver[1]  # the audio stays with snd-usb-audio
        assert fake.set_configuration_calls == 0
    finally:
        await drv.close()
    assert fake.kernel_driver[3]  # usbhid is given its interface back


async def test_unknown_and_garbage_reports_are_ignored_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, drv, media = await rig(tmp_path)
    try:
        with caplog.at_level(logging.WARNING):
            fake.report(b"\x7f" + bytes(15))  # an unknown report type
            fake.report(b"\x7f" + bytes(15))  # logged once, not every time
            fake.report(b"\x01")  # cut short
            fake.report(cid(0, "13A\x01"))  # caller ID that is not digits
            fake.report(state(0, ring=True))
            assert await media.wait_for(lambda: media.of(Ring))
        assert caplog.text.count("matches no [[reports]] layout") == 1
        assert "shorter than" in caplog.text
        bad = media.of(HwCallerId)
        assert len(bad) == 1 and not bad[0].ok and bad[0].raw
        assert drv.describe()["stats"]["ignored"] == 3
    finally:
        await drv.close()


async def test_unplug_and_replug(tmp_path: Path) -> None:
    fake, drv, media = await rig(tmp_path)
    try:
        fake.report(state(0, ring=True))
        assert await media.wait_for(lambda: media.of(Ring))
        fake.unplug()
        assert await media.wait_for(lambda: len(media.of(LineAlarm)) == 2)
        assert {(a.line, a.ok) for a in media.of(LineAlarm)} == {("L1", False), ("L2", False)}
        fake.replug()
        assert await media.wait_for(lambda: len(media.of(LineAlarm)) == 4)
        assert {(a.line, a.ok) for a in media.of(LineAlarm)[2:]} == {("L1", True), ("L2", True)}
        fake.report(state(0, ring=True))  # a fresh start: the ring is news again
        assert await media.wait_for(lambda: len(media.of(Ring)) == 2)
    finally:
        await drv.close()


async def test_shipped_maple_profile_against_the_emulator(tmp_path: Path) -> None:
    prof = load_profile("maple-v3")
    fake = FakeUsbBox(
        prof.vid, prof.pid, prof.interface, prof.endpoint_in, prof.endpoint_out, prof.uac_interfaces
    )
    drv = load_driver_class("usbbox")(
        "maple", [LineSpec("T1", LineKind.TRUNK, 0)], {"profile": "maple-v3", "usb_backend": fake}
    )
    await drv.open()
    media = MediaLoop(drv)
    try:
        assert fake.written == [bytes.fromhex("000001")]  # "host available" at open
        fake.report(bytes([0, 0b00001]))  # loop current, idle
        fake.report(bytes([0, 0b00011]))  # ringing
        fake.report(bytes([0, 0b00001]))
        fake.report(bytes([0, 0b10001]))  # polarity reversed
        fake.report(bytes([0, 0b10101]))  # line unplugged from the box
        assert await media.wait_for(lambda: media.of(LineAlarm))
        assert [r.on for r in media.of(Ring)] == [True, False] and len(media.of(Polarity)) == 1
        assert media.of(LineAlarm)[0].ok is False
        assert drv.capabilities("T1").hook_control and drv.capabilities("T1").polarity
        drv.command(OffHook("T1"))
        drv.command(OnHook("T1"))
        assert await media.wait_for(lambda: len(fake.written) == 3)
        assert fake.written[1:] == [bytes.fromhex("000003"), bytes.fromhex("000001")]
        assert media.of(Loop)[0].current is True
        with pytest.raises(UnsupportedCommand):
            drv.command(SendDtmf("T1", "1"))
    finally:
        await drv.close()


async def test_box_not_plugged_in(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(TWO_LINE)
    fake = FakeUsbBox(0x1234, 0x5678, 3)
    fake.unplug()
    drv = load_driver_class("usbbox")(
        "box", [LineSpec("L1", LineKind.TRUNK, 0)], {"profile": str(path), "usb_backend": fake}
    )
    with pytest.raises(DriverUnavailable, match=r"no Test two-line box \(1234:5678\) on USB"):
        await drv.open()


async def test_hook_control_refused_without_output_reports(tmp_path: Path) -> None:
    _fake, drv, _ = await rig(tmp_path)
    try:
        with pytest.raises(UnsupportedCommand, match=r"no \[output\] reports"):
            drv.command(OffHook("L1"))
    finally:
        await drv.close()


def test_line_beyond_the_box(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(TWO_LINE)
    with pytest.raises(DriverUnavailable, match="has 2 line"):
        load_driver_class("usbbox")("box", [LineSpec("L3", LineKind.TRUNK, 2)], {"profile": str(path)})


# ---------------------------------------------------------------- profiles


def test_shipped_profiles_load_and_say_where_they_come_from() -> None:
    profs = shipped_profiles()
    assert [p.name for p in profs] == ["8 Amps Maple v3 phone line interface"]
    assert profs[0].usb_id == "335e:8a01" and "phony_hid" in profs[0].source


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["device"].pop("vid"), r"\[device\]: missing key 'vid'"),
        (lambda d: d["device"].update(vid=0x12345), "not a 16-bit USB id"),
        (lambda d: d["hid"].update(endpoint_in=0x02), "is an OUT endpoint"),
        (lambda d: d["reports"][0]["ring"].update(byte=40), "outside a 16-byte report"),
        (lambda d: d["reports"][0]["ring"].update(bit=9), "0 to 7"),
        (lambda d: d["reports"][0].update(rign={"byte": 1, "bit": 0}), "unknown key.*rign"),
        (lambda d: d["reports"][1]["cid"].update(encoding="utf8"), "ascii or bcd"),
        (lambda d: d["reports"][1]["cid"].update(length=4), "exactly one of length_byte or length"),
        (lambda d: d.update(reports=[]), "no \\[\\[reports\\]\\]"),
        (lambda d: d["audio"].update(uac_interfaces=[3]), "both the HID and an audio interface"),
        (lambda d: d.update(output={"offhook": "0003"}), "need \\[hid\\].endpoint_out"),
        (lambda d: d["reports"][0].update(match={"byte": 0, "value": "one"}), "must be int"),
    ],
)
def test_profile_errors_name_the_key(change: Any, message: str) -> None:
    import tomllib

    data = tomllib.loads(TWO_LINE)
    change(data)
    with pytest.raises(ProfileError, match=message):
        parse_profile(data, "box.toml")


def test_profile_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"cannot read the profile.*shipped profiles: maple-v3"):
        load_profile(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[device\nname = 1")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    with pytest.raises(DriverUnavailable, match=r"usbbox box: .*not valid TOML"):
        load_driver_class("usbbox")("box", [], {"profile": str(bad)})


def test_bcd_caller_id_and_withheld() -> None:
    import tomllib

    data = tomllib.loads(TWO_LINE)
    data["reports"][1]["cid"] = {"length_byte": 2, "start": 3, "encoding": "bcd"}
    dec = ReportDecoder(parse_profile(data), {0: "L1"})
    (ev,) = dec.feed(bytes([0x02, 0, 11, 0x31, 0x08, 0x10, 0x83, 0x00, 0xF0]).ljust(16, b"\0"))
    assert ev.number == "13800138000"
    data["reports"][1]["cid"] = {"length_byte": 2, "start": 3}
    dec = ReportDecoder(parse_profile(data), {0: "L1"})
    (ev,) = dec.feed(cid(0, "P"))
    assert ev.number is None and ev.number_absent == "P"
