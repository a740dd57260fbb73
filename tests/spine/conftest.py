"""A small simulated office on the virtual clock, for end-to-end tests of the spine."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccd.bus import BusEvent
from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon

OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"
tone_plan = "cn"
country = "CN"
area_code = "010"

[[drivers]]
name = "office"
kind = "sim"
seed = 3
snr_db = 30.0

[[trunks]]
id = "1"
driver = "office"
channel = 0
number = "62345678"

[[trunks]]
id = "2"
driver = "office"
channel = 1
number = "62345679"

[[trunks]]
id = "5"
driver = "office"
channel = 4
passthrough = true
phone = "desk5"

[[extensions]]
id = "801"
driver = "office"
channel = 2

[[extensions]]
id = "802"
driver = "office"
channel = 3

[[inbound]]
name = "hotline"
trunks = ["1", "2"]
ring = ["801", "802"]

[[outbound]]
name = "out"
extensions = ["*"]
trunks = ["2", "1"]
hunt = "sequential"
"""


@pytest.fixture
def short_dir() -> AsyncIterator[Path]:
    # Unix socket paths are limited to ~107 bytes: keep the workspace short
    with tempfile.TemporaryDirectory(prefix="ccd-", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture
async def office(short_dir: Path) -> AsyncIterator[Daemon]:
    cfg = config_from_text(OFFICE, base_dir=short_dir)
    daemon = Daemon(cfg, VirtualClock(), server=False)
    await daemon.start()
    daemon.events = []  # type: ignore[attr-defined]
    daemon.bus.subscribe(daemon.events.append)  # type: ignore[attr-defined]
    try:
        yield daemon
    finally:
        await daemon.stop()


def named(events: list[BusEvent], name: str) -> list[BusEvent]:
    return [e for e in events if e.name == name]
