"""Snapshots of the agent terminal's main screens at 80×24 and 160×48 (frozen time, no blink).

Update with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after checking the
report shows the intended change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

APPS = Path(__file__).parent / "snapshot_apps"
SIZES = [(80, 24), (160, 48)]


async def _settle(pilot: Any) -> None:
    # the connection worker runs for ever, so wait on time, not on workers
    for _ in range(15):
        await pilot.pause(0.02)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["ringing", "unknown", "idle"])
def test_main_screen(snap_compare: Any, name: str, size: tuple[int, int]) -> None:
    assert snap_compare(APPS / f"agent_{name}.py", terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    async def open_advanced(pilot: Any) -> None:
        await pilot.click("#advanced CollapsibleTitle")
        await pilot.pause()

    assert snap_compare(APPS / "agent_login.py", terminal_size=size, run_before=open_advanced)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_note_editor(snap_compare: Any, size: tuple[int, int]) -> None:
    async def write_note(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"hello")
        await pilot.press("ctrl+s")  # status new, no category: saved? the fake has no note.add
        await pilot.pause()

    assert snap_compare(APPS / "agent_ringing.py", terminal_size=size, run_before=write_note)
