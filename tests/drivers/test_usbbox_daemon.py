"""A USB caller-ID box through the real daemon, pyusb on a fake backend: the box's ring and
caller-ID reports become `call.ringing` with the caller's number for the desk phone; with its
sound card (arecord/aplay replaced by tests/fakes/fake_alsa.py) the IVR answers a box line,
plays its prompt, hears DTMF through ccd's soft DSP, records the call and notices the far
end's hang-up from the busy tone."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.drivers.usbbox import driver as usbbox_driver
from ccd.drivers.usbbox.profile import load_profile
from ccd.dsp.callerid import CallerId, cid_audio
from ccd.dsp.dtmf import dtmf_generate
from ccd.dsp.tones import tone_generate
from tests.drivers.daemon_helpers import short_dir, wait_for  # noqa: F401  (fixture)
from tests.drivers.test_modem_daemon import FLOW
from tests.drivers.test_usbbox_driver import TWO_LINE, cid, state
from tests.fakes import fake_alsa
from tests.fakes.fake_usbbox import FakeUsbBox

OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "box"
kind = "usbbox"
profile = "box.toml"

[[trunks]]
id = "1"
driver = "box"
channel = 0
passthrough = true
phone = "desk1"

[[trunks]]
id = "2"
driver = "box"
channel = 1
passthrough = true
phone = "desk2"
"""


async def test_ring_and_caller_id_reach_the_agent(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    (short_dir / "box.toml").write_text(TWO_LINE, encoding="utf-8")
    prof = load_profile(short_dir / "box.toml")
    fake = FakeUsbBox(
        prof.vid, prof.pid, prof.interface, prof.endpoint_in, prof.endpoint_out, prof.uac_interfaces
    )
    init = usbbox_driver.UsbBoxDriver.__init__

    def with_fake_usb(self, *args, **kwargs) -> None:  # no USB bus here: pyusb gets the fake backend
        init(self, *args, **kwargs)
        self.backend = fake

    monkeypatch.setattr(usbbox_driver.UsbBoxDriver, "__init__", with_fake_usb)
    daemon = Daemon(config_from_text(OFFICE, base_dir=short_dir), VirtualClock(), server=False)
    await daemon.start()
    events: list = []
    daemon.bus.subscribe(events.append, "call")
    try:
        assert all(s.ok for s in daemon.slots), [s.error for s in daemon.slots]
        fake.report(state(0, ring=True))
        fake.report(cid(0, "13800138000"))
        for _ in range(500):  # the box's reader is a thread on real time: tick until its reports are in
            await daemon.run_for(0.02)
            await asyncio.sleep(0.01)
            if any(e.name == "call.ringing" for e in events):
                break
        ringing = [e for e in events if e.name == "call.ringing"]
        assert ringing and ringing[0].data["number"] == "13800138000"
        assert ringing[0].data["line"] == "1" and ringing[0].data["targets"] == ["desk1"]
        assert daemon.lines["2"].state.value == "idle"
    finally:
        await daemon.stop()


# ---------------------------------------------------------------- the box's voice path (ALSA)

# A one-line box that reports caller-ID digits, can seize the line and has a sound card
# (synthetic, for tests): the IVR answers it, hears DTMF and plays through the card.
VOICE_BOX = """
[device]
name = "Test one-line box with a sound card"
vid = 0x1234
pid = 0x5679
lines = 1
source = "synthetic, for tests"

[hid]
interface = 3
endpoint_in = 0x82
endpoint_out = 0x02
report_size = 16

[audio]
uac_interfaces = [0, 1]
alsa_name = "CID-1"

[[reports]]
match = { byte = 0, value = 0x01 }
line = { byte = 1 }
ring = { byte = 2, bit = 0 }
offhook = { byte = 2, bit = 1 }

[[reports]]
match = { byte = 0, value = 0x02 }
line = { byte = 1 }
cid = { length_byte = 2, start = 3, encoding = "ascii" }

[output]
init = "01"
offhook = "03"
onhook = "01"
"""

MAPLE_BOX_TEXT = (Path(usbbox_driver.__file__).parent / "profiles" / "maple-v3.toml").read_text(
    encoding="utf-8"
)

VOICE_OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "box"
kind = "usbbox"
profile = "box.toml"
alsa_device = "auto"

[[trunks]]
id = "1"
driver = "box"
channel = 0

[[ivr]]
name = "main"
file = "main.toml"

[[inbound]]
name = "box"
trunks = ["1"]
ivr = "main"

[recording]
mode = "all"
format = "pcm16"
"""


class SoundCard:
    """The box's sound card as the test sees it: what the line says, what ccd played."""

    def __init__(self, folder: Path, usb_id: str) -> None:
        self.capture = folder / "capture.raw"
        self.playback = folder / "playback.raw"
        self.capture.write_bytes(b"")
        self.asound = folder / "asound"
        (self.asound / "card1").mkdir(parents=True)
        (self.asound / "card1" / "id").write_text("CID1\n")
        (self.asound / "card1" / "usbid").write_text(usb_id + "\n")
        (self.asound / "cards").write_text(" 1 [CID1           ]: USB-Audio - CID-1\n")

    def say(self, audio: np.ndarray) -> None:
        with self.capture.open("ab") as f:
            f.write(np.asarray(audio, "<i2").tobytes())

    def played(self) -> np.ndarray:
        data = self.playback.read_bytes() if self.playback.exists() else b""
        return np.frombuffer(data[: len(data) // 2 * 2], "<i2")


@asynccontextmanager
async def voice_office(
    folder: Path, monkeypatch: pytest.MonkeyPatch, profile: str = VOICE_BOX, office: str = VOICE_OFFICE
) -> AsyncIterator[tuple[Daemon, FakeUsbBox, SoundCard, list]]:
    (folder / "box.toml").write_text(profile, encoding="utf-8")
    (folder / "main.toml").write_text(FLOW, encoding="utf-8")
    prof = load_profile(folder / "box.toml")
    fake = FakeUsbBox(
        prof.vid, prof.pid, prof.interface, prof.endpoint_in, prof.endpoint_out, prof.uac_interfaces
    )
    card = SoundCard(folder, prof.usb_id)
    init = usbbox_driver.UsbBoxDriver.__init__

    def with_fakes(self, name: str, lines: list, options: dict) -> None:
        # no USB bus or sound card here: pyusb gets the fake backend, arecord/aplay the fake card
        fakes = {"usb_backend": fake, "reopen_interval": 0.2, "asound_root": str(card.asound),
                 "alsa_command": fake_alsa.command(card.capture, card.playback)}  # fmt: skip
        init(self, name, lines, {**options, **fakes})

    monkeypatch.setattr(usbbox_driver.UsbBoxDriver, "__init__", with_fakes)
    daemon = Daemon(config_from_text(office, base_dir=folder), server=False)
    events: list = []
    daemon.bus.subscribe(events.append)
    await daemon.start()
    try:
        box = daemon.slots[0].driver
        assert daemon.slots[0].ok and daemon.lines["1"].caps.audio
        await wait_for(lambda: box.audio.up, 3.0, "the box's sound card")
        yield daemon, fake, card, events
    finally:
        await daemon.stop()


def named(events: list, name: str) -> list:
    return [e for e in events if e.name == name]


async def test_a_box_call_through_the_ivr(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    async with voice_office(short_dir, monkeypatch) as (daemon, fake, card, events):
        fake.report(state(0, ring=True))
        fake.report(cid(0, "13800138000"))
        await wait_for(lambda: named(events, "call.ringing"), 3.0, "call.ringing")
        assert named(events, "call.ringing")[0].data["number"] == "13800138000"
        await wait_for(lambda: b"\x03" in fake.written, 3.0, "the IVR to seize the line")
        fake.report(state(0))  # the ring voltage stops once the line is answered
        await wait_for(lambda: np.count_nonzero(card.played()) > 4000, 4.0, "the IVR's prompt on the card")
        card.say(dtmf_generate("1", on_ms=100, off_ms=100))  # the caller presses 1
        await wait_for(
            lambda: any(e.data.get("digit") == "1" for e in named(events, "call.dtmf")), 3.0, "DTMF 1"
        )
        await wait_for(lambda: daemon.callcenter.recorder.active, 2.0, "the recording to start")
        card.say(tone_generate(daemon.plan, "busy", 3.0))  # the caller hangs up: the exchange sends busy
        await wait_for(lambda: named(events, "call.ended"), 4.0, "call.ended after busy tone")
        await wait_for(lambda: fake.written[-1] == b"\x01", 2.0, "the line released")
        await daemon.callcenter.idle()
        await daemon.flush()
        cdr = (await daemon.store.calls.last(1))[0]
        assert (cdr.src, cdr.trunk, cdr.disposition) == ("13800138000", "1", "ANSWERED")
        assert cdr.ivr_path.startswith("menu=1")
        (rec,) = await daemon.store.recordings.for_calls([cdr.uniqueid])
        with wave.open(str(rec.path)) as w:
            assert w.getframerate() == 8000 and w.getnframes() > 8000
        assert daemon.lines["1"].state.value == "idle"


MAPLE_OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"

[[drivers]]
name = "box"
kind = "usbbox"
profile = "maple-v3"

[[trunks]]
id = "1"
driver = "box"
channel = 0
passthrough = true
phone = "desk1"
cid = "fsk-bell202"
"""


async def test_maple_caller_id_decoded_from_the_audio(
    short_dir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Maple reports no caller-ID digits: ccd's soft DSP reads the FSK between the rings."""
    async with voice_office(short_dir, monkeypatch, MAPLE_BOX_TEXT, MAPLE_OFFICE) as (
        daemon,
        fake,
        card,
        events,
    ):
        assert not daemon.lines["1"].caps.hw_caller_id
        fake.report(bytes([0, 0b00011]))  # loop current + ring voltage
        await wait_for(lambda: daemon.lines["1"].state.value == "ringing", 3.0, "the line to ring")
        fake.report(bytes([0, 0b00001]))  # the first ring ends; the exchange sends caller ID
        card.say(cid_audio(CallerId("mdmf", number="13800138000", datetime="01051230")))
        await wait_for(lambda: named(events, "call.ringing"), 3.0, "call.ringing")
        ringing = named(events, "call.ringing")[0].data
        assert ringing["number"] == "13800138000" and ringing["targets"] == ["desk1"]
