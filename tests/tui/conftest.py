"""Agent-terminal fixtures: deterministic snapshots (no cursor blink) and a real daemon on the
simulated office with the virtual clock and the demo customers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.crm.demo_data import load_demo
from ccd.daemon import Daemon
from tests.spine.conftest import OFFICE, short_dir

__all__ = ["short_dir"]


@pytest.fixture(autouse=True)
def no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor would make every snapshot a coin toss."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
async def office_daemon(short_dir: Path) -> AsyncIterator[Daemon]:
    daemon = Daemon(config_from_text(OFFICE, base_dir=short_dir), VirtualClock())
    await daemon.start()
    await load_demo(daemon.store, customers=12)
    try:
        yield daemon
    finally:
        await daemon.stop()


async def until(
    pilot: Any, cond: Callable[[], Any], *, daemon: Daemon | None = None, tries: int = 200
) -> None:
    """Let the app (and the daemon's virtual clock, 0.1 s a step) run until `cond()` holds."""
    for _ in range(tries):
        if cond():
            return
        if daemon is not None:
            await daemon.run_for(0.1)
        await pilot.pause(0.02)
    raise AssertionError(f"condition never held: {cond}")
