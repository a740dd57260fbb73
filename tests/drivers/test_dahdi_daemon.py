"""A DAHDI board through the real daemon (kernel shim in place of /dev/dahdi, virtual clock):
a ring with FSK caller ID between the rings is offered with the caller's number; a phone on
an FXS port lifts its handset, dials, and the call goes out on the FXO trunk as DTMF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.drivers.dahdi import driver as dahdi_driver
from ccd.drivers.dahdi import ioctl as dio
from ccd.dsp.callerid import CallerId, cid_audio
from ccd.dsp.dtmf import DtmfDetector, dtmf_generate
from ccd.dsp.tones import get_plan, tone_generate
from tests.drivers.daemon_helpers import short_dir  # noqa: F401  (fixture)
from tests.fakes.fake_dahdi import FakeDahdi

BOARD = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "board"
kind = "dahdi"
channels = [1, 2]
law = "alaw"

[[trunks]]
id = "1"
driver = "board"
channel = 0
number = "62345678"

[[extensions]]
id = "802"
driver = "board"
channel = 1

[[inbound]]
name = "hotline"
trunks = ["1"]
ring = ["802"]

[[outbound]]
name = "out"
extensions = ["*"]
trunks = ["1"]
"""


@pytest.fixture
async def board(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Daemon, FakeDahdi]]:  # noqa: F811
    clock = VirtualClock()
    fake = FakeDahdi(clock)
    fake.add(1, "fxo")
    fake.add(2, "fxs")
    monkeypatch.setattr(dahdi_driver, "OsBackend", lambda: fake)  # the kernel is not here
    daemon = Daemon(config_from_text(BOARD, base_dir=short_dir), clock, server=False)
    await daemon.start()
    daemon.events = []  # type: ignore[attr-defined]
    daemon.bus.subscribe(daemon.events.append)  # type: ignore[attr-defined]
    try:
        yield daemon, fake
    finally:
        await daemon.stop()


def named(daemon: Daemon, name: str) -> list:
    return [e for e in daemon.events if e.name == name]  # type: ignore[attr-defined]


async def test_ring_caller_id_from_audio_then_offered(board: tuple[Daemon, FakeDahdi]) -> None:
    daemon, fake = board
    fake.event(1, dio.DAHDI_EVENT_RINGOFFHOOK)  # first ring
    await daemon.run_for(1.5)
    cid = CallerId(format="mdmf", number="13800138000", name="ZHANG", datetime="01051700")
    fake.play(1, np.asarray(cid_audio(cid, modulation="fsk-bell202"), np.int16))
    await daemon.run_for(2.5)
    ringing = named(daemon, "call.ringing")
    assert ringing and ringing[0].data["number"] == "13800138000"
    assert ringing[0].data["targets"] == ["802"]
    assert dio.DAHDI_RING in fake.hooks(2)  # the phone on the FXS port rings
    assert daemon.lines["1"].state.value == "wait_answer"  # offered: waiting for the phone


async def test_phone_on_fxs_port_dials_out_on_the_trunk(board: tuple[Daemon, FakeDahdi]) -> None:
    daemon, fake = board
    fake.event(2, dio.DAHDI_EVENT_RINGOFFHOOK)  # the handset is lifted
    await daemon.run_for(0.5)
    assert daemon.lines["802"].state.value == "offhook"
    fake.play(2, dtmf_generate("13800138000#", on_ms=80, off_ms=80, level_dbm0=-8.0))
    fake.play(1, tone_generate(get_plan("cn"), "dial", 4.0, level_dbm0=-15.0))  # the exchange's dial tone
    await daemon.run_for(7.0)
    assert dio.DAHDI_OFFHOOK in fake.hooks(1)  # the trunk was seized
    sent = [e.digit for e in DtmfDetector().process(fake.written(1))]
    assert "".join(sent) == "13800138000"
    assert named(daemon, "call.dialing") or daemon.lines["1"].state.value in ("calling", "connected")
