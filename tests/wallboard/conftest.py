"""Deterministic wallboards: frozen time, no cursor blink, a scripted daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.wallboard.fake_daemon import SCRIPTS, FakeDaemon
from tui.wallboard.app import WallboardApp


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def make_app(script: str = "normal", **kw) -> WallboardApp:
    """A wallboard on the scripted daemon, its clock frozen at the script's "now"."""
    now = json.loads(Path(SCRIPTS / f"{script}.json").read_text("utf-8"))["now"]
    kw.setdefault("now", lambda: now)
    # long intervals: nothing moves by itself while a test looks at the screen
    kw.setdefault("stats_every", 3600.0)
    kw.setdefault("backend_factory", FakeDaemon.factory(script))
    return WallboardApp("/nonexistent.sock", **kw)


async def settle(pilot) -> None:
    """Let the scripted events, the stats poll and one flush happen."""
    for _ in range(3):
        await pilot.pause()
    pilot.app.flush()
    await pilot.pause()
