"""A USB box's voice path: its sound card found in /proc/asound, audio both ways through
arecord/aplay (here tests/fakes/fake_alsa.py), the jitter buffer, and a child that dies."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccd.drivers.base import LineAlarm, LineKind, LineSpec, Ring, load_driver_class
from ccd.drivers.usbbox.audio import JitterBuffer, audio_setting, find_alsa_card, resolve_device
from ccd.drivers.usbbox.profile import ProfileError, load_profile
from tests.drivers.test_usbbox_driver import TWO_LINE, state
from tests.fakes import fake_alsa
from tests.fakes.fake_modem import MediaLoop
from tests.fakes.fake_usbbox import FakeUsbBox

WITH_CARD = TWO_LINE.replace("uac_interfaces = [0, 1]", 'uac_interfaces = [0, 1]\nalsa_name = "CID-2"')


def asound(root: Path, cards: dict[int, tuple[str, str, str | None]]) -> Path:
    """A /proc/asound stand-in: card number -> (id, long name, usbid or None)."""
    listing = []
    for n, (cid, long_name, usbid) in cards.items():
        d = root / f"card{n}"
        d.mkdir(parents=True)
        (d / "id").write_text(cid + "\n")
        if usbid:
            (d / "usbid").write_text(usbid + "\n")
        listing.append(
            f"{n:2d} [{cid:<15}]: USB-Audio - {long_name}\n                      {long_name} at usb-1"
        )
    (root / "cards").write_text("\n".join(listing) + "\n")
    return root


def tone(seconds: float, freq: float = 1000.0, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * 8000)) / 8000
    x = (8000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
    return np.repeat(x[:, None], channels, axis=1)  # interleaved when flattened


async def rig(tmp_path: Path, **opts: Any):
    path = tmp_path / "box.toml"
    path.write_text(WITH_CARD)
    prof = load_profile(path)
    fake = FakeUsbBox(
        prof.vid, prof.pid, prof.interface, prof.endpoint_in, prof.endpoint_out, prof.uac_interfaces
    )
    root = asound(
        tmp_path / "asound", {0: ("PCH", "HDA Intel PCH", None), 1: ("Box", "Acme CID-2", "1234:5678")}
    )
    cap, play = tmp_path / "cap.raw", tmp_path / "play.raw"
    cap.write_bytes(b"")
    options = {
        "profile": str(path),
        "usb_backend": fake,
        "reopen_interval": 0.1,
        "asound_root": str(root),
        "alsa_command": fake_alsa.command(cap, play, tmp_path / "alsa.log", tmp_path / "fail"),
        **opts,
    }
    lines = [LineSpec("L1", LineKind.TRUNK, 0), LineSpec("L2", LineKind.TRUNK, 1)]
    drv = load_driver_class("usbbox")("box", lines, options)
    await drv.open()
    return fake, drv, MediaLoop(drv, channels=2), cap, play


def played(play: Path, channels: int = 2) -> np.ndarray:
    data = play.read_bytes() if play.exists() else b""
    data = data[: len(data) - len(data) % (2 * channels)]
    return np.frombuffer(data, "<i2").reshape(-1, channels)


# ---------------------------------------------------------------- which card


def test_the_card_is_found_by_usb_id_then_by_name(tmp_path: Path) -> None:
    root = asound(tmp_path, {0: ("PCH", "HDA Intel PCH", None), 2: ("Maple", "8 Amps Maple", "335e:8a01")})
    assert find_alsa_card("335e:8a01", "", root) == "Maple"
    assert find_alsa_card("335E:8A01", "", root) == "Maple"  # lsusb prints either case
    assert find_alsa_card("1234:5678", "maple", root) == "Maple"  # no such USB id: the name still finds it
    assert find_alsa_card("1234:5678", "8 Amps", root) == "Maple"  # part of the long name
    assert find_alsa_card("1234:5678", "", root) is None
    assert find_alsa_card("335e:8a01", "", tmp_path / "no-asound") is None  # no sound at all
    assert resolve_device("auto", "335e:8a01", "", root) == "plughw:CARD=Maple,DEV=0"
    assert resolve_device("hw:3,0", "335e:8a01", "", root) == "hw:3,0"
    assert resolve_device("none", "335e:8a01", "", root) is None


def test_who_says_a_box_line_has_audio(tmp_path: Path) -> None:
    assert audio_setting(None, "auto") == "auto"  # the profile's word...
    assert audio_setting("none", "auto") == "none"  # ...unless ccd.toml says otherwise
    assert audio_setting("plughw:1,0", "none") == "plughw:1,0"
    (tmp_path / "a.toml").write_text(TWO_LINE)
    (tmp_path / "b.toml").write_text(WITH_CARD)
    assert load_profile(tmp_path / "a.toml").alsa_device == "none"  # no card named: HID only
    assert load_profile(tmp_path / "b.toml").alsa_device == "auto"
    assert load_profile("maple-v3").has_audio
    cls = load_driver_class("usbbox")
    spec = [LineSpec("L1", LineKind.TRUNK, 0)]
    caps = cls("box", spec, {"profile": str(tmp_path / "b.toml")}).capabilities("L1")
    assert caps.audio and caps.play and caps.record and caps.full_duplex and not caps.switching
    assert not cls("box", spec, {"profile": str(tmp_path / "a.toml")}).capabilities("L1").audio
    off = cls("box", spec, {"profile": str(tmp_path / "b.toml"), "alsa_device": "none"})
    assert not off.capabilities("L1").audio
    (tmp_path / "c.toml").write_text(WITH_CARD.replace('alsa_name = "CID-2"', 'alsa_device = " "'))
    with pytest.raises(ProfileError, match=r"\[audio\].alsa_device: empty"):
        load_profile(tmp_path / "c.toml")


# ---------------------------------------------------------------- the jitter buffer


def test_jitter_buffer_inserts_silence_and_drops_back_to_its_target() -> None:
    jb = JitterBuffer(channels=1, target=2, limit=4)
    frame = lambda v: np.full(160, v, "<i2").tobytes()  # noqa: E731
    jb.push(frame(1))
    assert jb.pop()[0].sum() == 0 and jb.underruns == 0  # not started yet: waiting for 2 frames
    jb.push(frame(2)[:100])  # a read can end mid-frame
    jb.push(frame(2)[100:])
    assert [int(jb.pop()[0][0, 0]) for _ in range(2)] == [1, 2]
    out, what = jb.pop()
    assert what == "underrun" and not out.any() and jb.underruns == 1
    for v in range(3, 10):  # a burst after a stall
        jb.push(frame(v))
    out, what = jb.pop()
    assert what == "overrun" and jb.dropped == 5 and int(out[0, 0]) == 8  # newest kept, in order
    two = JitterBuffer(channels=2, target=1)
    two.push(np.array([[1, -1]] * 160, "<i2").tobytes())  # interleaved L1 R1 L2 R2 ...
    out, _ = two.pop()
    assert out.shape == (2, 160) and (out[0] == 1).all() and (out[1] == -1).all()


# ---------------------------------------------------------------- audio through the fake card


async def test_audio_both_ways_through_the_card(tmp_path: Path) -> None:
    _fake, drv, media, cap, play = await rig(tmp_path)
    try:
        with cap.open("ab") as f:
            f.write(tone(0.3, channels=2).tobytes())
        assert await media.wait_for(lambda: media.rx_samples().size >= 2000, 3.0)
        heard = media.rx_samples()
        assert np.abs(heard).max() > 7000  # the line's tone came through the jitter buffer
        media.send(tone(0.2, 500.0)[:, 0])
        assert await media.wait_for(lambda: np.abs(played(play)[:, 0]).max(initial=0) > 7000, 3.0)
        assert not played(play)[:, 1].any()  # line 2 said nothing
        argv = (tmp_path / "alsa.log").read_text().splitlines()
        assert sorted(a.split()[0] for a in argv) == ["aplay", "arecord"]
        assert "-D plughw:CARD=Box,DEV=0 -t raw -f S16_LE -r 8000 -c 2" in argv[0]
        described = drv.describe()["audio"]
        assert described["up"] and described["device"] == "plughw:CARD=Box,DEV=0"
    finally:
        await drv.close()
    assert drv.audio is not None and drv.audio._rec is None  # the children are gone


async def test_a_dead_child_is_restarted_logged_once_each_way(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "fail").touch()  # the card is not there at first: arecord gives ALSA's open error
    with caplog.at_level(logging.INFO, logger="ccd.drivers.usbbox.audio"):
        fake, drv, media, cap, _play = await rig(tmp_path)
        try:
            assert await media.wait_for(lambda: drv.audio.stats["restarts"] >= 3, 4.0)
            assert "No such device" in drv.audio.error and not drv.audio.up
            (tmp_path / "fail").unlink()
            assert await media.wait_for(lambda: drv.audio.up, 4.0)
            os.kill(drv.audio._rec.pid, signal.SIGKILL)  # a second outage: the child is killed
            assert await media.wait_for(lambda: not drv.audio.up, 2.0)
            assert await media.wait_for(lambda: drv.audio.up, 4.0)
            fake.report(state(0, ring=True))  # the HID side went on all along
            assert await media.wait_for(lambda: media.of(Ring), 2.0)
            with cap.open("ab") as f:
                f.write(tone(0.2, channels=2).tobytes())
            assert await media.wait_for(lambda: media.rx_samples().size >= 1000, 3.0)
        finally:
            await drv.close()
    # one "vanished" and one "recovered" per outage, however many retries in between
    assert caplog.text.count("audio vanished") == 2 and caplog.text.count("audio recovered") == 2
    assert "audio open error: No such device" in caplog.text  # ALSA's own words
    assert "arecord exited" in caplog.text
    assert not media.of(LineAlarm)  # the HID side is fine: the lines stay in service


async def test_without_alsa_utils_the_line_still_rings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, drv, media, _cap, _play = await rig(tmp_path, alsa_command=[str(tmp_path / "no-such-program")])
    try:
        fake.report(state(0, ring=True))
        assert await media.wait_for(lambda: media.of(Ring), 2.0)
        assert "cannot run" in caplog.text and "alsa-utils" in caplog.text
        assert not drv.audio.up and all(r is not None and not r.any() for r in media.rx)
    finally:
        await drv.close()
