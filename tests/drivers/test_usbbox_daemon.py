"""A USB caller-ID box through the real daemon, pyusb on a fake backend: the box's ring and
caller-ID reports become `call.ringing` with the caller's number for the desk phone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.drivers.usbbox import driver as usbbox_driver
from ccd.drivers.usbbox.profile import load_profile
from tests.drivers.daemon_helpers import short_dir  # noqa: F401  (fixture)
from tests.drivers.test_usbbox_driver import TWO_LINE, cid, state
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
