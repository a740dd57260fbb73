"""The wallboard against a real daemon on the simulated office (virtual clock), through its socket:
a call rings and the channels panel shows it, an agent signs in and shows ready, a supervisor
forces an agent not ready from the board, and a lost daemon brings the banner up and a fresh
snapshot back when it returns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.crm.demo_data import load_demo
from ccd.daemon import Daemon
from tests.spine.conftest import OFFICE, short_dir
from tests.wallboard.test_board import cells
from tui.client import DaemonClient
from tui.wallboard.app import WallboardApp
from tui.wallboard.screens import ConfirmDialog

__all__ = ["short_dir"]


@pytest.fixture
async def office(short_dir: Path) -> AsyncIterator[Daemon]:
    daemon = Daemon(config_from_text(OFFICE, base_dir=short_dir), VirtualClock())
    await daemon.start()
    await load_demo(daemon.store, customers=12)  # users: 9000 supervisor, 1001.. agents
    try:
        yield daemon
    finally:
        await daemon.stop()


def board(daemon: Daemon) -> WallboardApp:
    return WallboardApp(
        daemon.config.daemon.socket, auth=("9000", "9000"), now=daemon.clock.wall, flush_every=0.05
    )


async def until(pilot: Any, what: str, cond: Callable[[], Any], *, daemon: Daemon | None = None) -> None:
    """Let the board (and the daemon's virtual clock, 0.1 s a step) run until `cond()` holds.

    Bounded in wall time, generously: these run on loaded machines."""
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if cond():
            return
        if daemon is not None:
            await daemon.run_for(0.1)
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def row(app: WallboardApp, table: str, key: str) -> list[str]:
    try:
        return cells(app, table, key)
    except Exception:  # not on the board yet
        return []


async def agent_client(daemon: Daemon, login: str) -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket)
    await client.connect()
    await client.hello()
    await client.login(login, login)
    return client


async def test_a_ringing_call_shows_on_its_trunk(office: Daemon) -> None:
    app = board(office)
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, "connected", lambda: app.connection == "connected")
        await until(pilot, "trunk 1 on the board", lambda: row(app, "channels", "1"))
        assert "idle" in row(app, "channels", "1")
        office.sim.place_call("1", "13800138000", name="张三", talk=60.0, hangup_after=None)
        await until(
            pilot,
            "trunk 1 rings with the caller",
            lambda: "13800138000" in row(app, "channels", "1") and "ringing" in row(app, "channels", "1"),
            daemon=office,
        )


async def test_an_agent_signs_in_and_shows_ready(office: Daemon) -> None:
    app = board(office)
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, "connected", lambda: app.connection == "connected")
        agent = await agent_client(office, "1001")
        try:
            await agent.request("agent.login")
            await until(pilot, "1001 ready on the board", lambda: "ready" in row(app, "agents", "1001"))
            assert "801" in row(app, "agents", "1001") and "王小丽" in row(app, "agents", "1001")
        finally:
            await agent.close()


async def test_force_not_ready_from_the_board_changes_the_agent_in_the_daemon(office: Daemon) -> None:
    app = board(office)
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, "connected", lambda: app.connection == "connected")
        agent = await agent_client(office, "1001")
        try:
            await agent.request("agent.login")
            await until(pilot, "1001 ready", lambda: "ready" in row(app, "agents", "1001"))
            app.select_row("agents", "1001")
            await pilot.press("n")
            await until(pilot, "the confirmation", lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await until(pilot, "1001 not ready", lambda: "not ready" in row(app, "agents", "1001"))
            state = await agent.request("agent.state")
            assert state["state"] == "not_ready"
        finally:
            await agent.close()


async def test_lost_daemon_banner_then_reconnect_with_a_fresh_snapshot(office: Daemon) -> None:
    app = board(office)
    banner = None
    async with app.run_test(size=(200, 60)) as pilot:
        await until(pilot, "connected", lambda: app.connection == "connected")
        banner = app.query_one("#banner", Static)
        assert not banner.display
        agent = await agent_client(office, "1001")
        await agent.request("agent.login")
        await until(pilot, "1001 ready", lambda: "ready" in row(app, "agents", "1001"))
        await agent.close()

        await office.server.stop()
        await until(pilot, "the banner", lambda: banner.display and "daemon" in str(banner.render()))
        # while the board cannot hear it, the agent goes to lunch
        office.acd.set_state("1001", "not_ready", "lunch")
        await asyncio.sleep(0)
        assert "ready" in row(app, "agents", "1001") and "not ready" not in row(app, "agents", "1001")

        await office.server.start()
        await until(pilot, "reconnected", lambda: app.connection == "connected" and not banner.display)
        await until(
            pilot,
            "the fresh snapshot shows lunch",
            lambda: "not ready" in row(app, "agents", "1001") and "lunch" in row(app, "agents", "1001"),
        )
        assert "idle" in row(app, "channels", "1")  # the lines came back with the snapshot
