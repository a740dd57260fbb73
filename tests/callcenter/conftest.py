"""A simulated office with the call-center parts switched on, on the virtual clock.

The virtual clock starts on Monday 2026-01-05 09:00 UTC, which is 17:00 in the office's
time zone (Asia/Shanghai): the "office" schedule (09:00-18:00) is open for an hour.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from ccd.bus import BusEvent
from ccd.clock import VirtualClock
from ccd.daemon import Daemon

FLOW = """
start = "welcome"

[nodes.welcome]
type = "play"
prompts = ["welcome"]
next = "menu"

[nodes.menu]
type = "menu"
prompts = ["menu_main"]
options = { "1" = "ask_order", "0" = "agent", "8" = "listen", "9" = "bye" }
timeout = 4
retries = 2
on_fail = "agent"

[nodes.ask_order]
type = "play_digits"
prompts = ["enter_order_number"]
var = "order"
max = 16
timeout = 5
next = "find"

[nodes.find]
type = "lookup"
query = "order_status"
args = { number = "${order}" }
found = "status"
not_found = "no_order"

[nodes.status]
type = "compare"
left = "${order_status}"
op = "=="
right = "shipped"
then = "shipped"
else = "pending"

[nodes.shipped]
type = "play"
prompts = ["order_status_shipped"]
next = "bye"

[nodes.pending]
type = "play"
prompts = ["order_status_pending"]
next = "bye"

[nodes.no_order]
type = "play"
prompts = ["order_not_found"]
next = "bye"

[nodes.listen]
type = "voicemail"
mailbox = "*"

[nodes.agent]
type = "extension"
extension = "801"

[nodes.bye]
type = "hangup"
prompts = ["goodbye"]
"""

OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"
tone_plan = "cn"
country = "CN"
area_code = "010"

[callcenter]
timezone = "Asia/Shanghai"

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

[[extensions]]
id = "801"
driver = "office"
channel = 2

[[extensions]]
id = "802"
driver = "office"
channel = 3

[[ivr]]
name = "main"
file = "main.toml"

[[inbound]]
name = "day"
trunks = ["1"]
ivr = "main"

[[inbound]]
name = "night"
trunks = ["1"]
voicemail = "801"

[[inbound]]
name = "hotline"
trunks = ["2"]
ring = ["801", "802"]

[[outbound]]
name = "out"
extensions = ["*"]
trunks = ["2", "1"]

[[schedules]]
name = "office"
inbound = ["day"]
hours = ["mon-fri 09:00-18:00"]

[[mailboxes]]
id = "801"
pin = "4321"
owner = "801"
silence_seconds = 3.0

[recording]
mode = "{recording}"
stereo = {stereo}
"""


@pytest.fixture
def short_dir() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ccd-", dir="/tmp") as d:
        yield Path(d)


async def make_office(
    folder: Path, *, recording: str = "off", stereo: bool = False, flow: str = FLOW
) -> Daemon:
    (folder / "main.toml").write_text(flow, encoding="utf-8")
    text = OFFICE.replace("{recording}", recording).replace("{stereo}", str(stereo).lower())
    (folder / "ccd.toml").write_text(text, encoding="utf-8")
    from ccd.config import load_config

    cfg = load_config(folder / "ccd.toml")
    daemon = Daemon(cfg, VirtualClock(), server=False)
    await daemon.start()
    daemon.events = []  # type: ignore[attr-defined]
    daemon.bus.subscribe(daemon.events.append)  # type: ignore[attr-defined]
    return daemon


@pytest.fixture
async def office(short_dir: Path) -> AsyncIterator[Daemon]:
    daemon = await make_office(short_dir)
    try:
        yield daemon
    finally:
        await daemon.callcenter.idle()
        await daemon.stop()


def named(events: list[BusEvent], name: str) -> list[BusEvent]:
    return [e for e in events if e.name == name]


def press(daemon: Daemon, trunk: str, digits: str, after: float = 0.3, gap: float = 0.3) -> None:
    """The caller on `trunk` presses `digits`, starting `after` seconds from now."""
    call = daemon.sim.calls[trunk]
    t = daemon.clock.now() + after
    for d in digits:
        call.pending_press.append((t, d))
        t += gap


def heard_prompt(daemon: Daemon, trunk: str, name: str, lang: str = "zh") -> bool:
    """True if the caller on `trunk` heard the prompt `name` (its audio appears in what they heard)."""
    return prompt_offset(daemon, trunk, name, lang) is not None


def prompt_offset(daemon: Daemon, trunk: str, name: str, lang: str = "zh") -> int | None:
    heard = daemon.sim.heard(trunk).astype(np.float64)
    prompt = daemon.engine.prompts.get(name, lang).astype(np.float64)
    return find_audio(heard, prompt)


def find_audio(haystack: np.ndarray, needle: np.ndarray, threshold: float = 0.9) -> int | None:
    """Where `needle` (its first 1.5 s) occurs in `haystack`, by normalised cross-correlation.

    A long probe matters: espeak speaks the same syllable the same way in two prompts.
    """
    n = min(12000, needle.size)
    if n < 800 or haystack.size < n:
        return None
    probe = needle[:n] - needle[:n].mean()
    size = 1 << int(np.ceil(np.log2(haystack.size + n)))
    corr = np.fft.irfft(np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(probe, size)), size)[
        : haystack.size - n + 1
    ]
    csum = np.concatenate([[0.0], np.cumsum(haystack**2)])
    win = csum[n:] - csum[:-n]
    energy = float(np.sum(probe**2))
    score = corr / np.sqrt(np.maximum(win, 0.1 * energy) * energy)  # silence is not a match
    best = int(np.argmax(score))
    return best if score[best] >= threshold else None
