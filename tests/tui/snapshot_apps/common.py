"""Build the agent app on a scripted FakeDaemon, at a frozen time, for snapshot tests."""

from __future__ import annotations

from pathlib import Path

from ccd.store.db import CHINA_TZ
from tests.tui.fake_daemon import FakeDaemon
from tui.agent.app import AgentApp

HERE = Path(__file__).parent
FROZEN = 1767603605.0  # 2026-01-05 17:00:05 in Beijing


def make_app(script: str) -> AgentApp:
    return AgentApp(
        "/nonexistent/ccd.sock", user="1001", password="1001", now=lambda: FROZEN, tz=CHINA_TZ,
        backend_factory=FakeDaemon.factory(HERE / f"{script}.json"),
    )  # fmt: skip
