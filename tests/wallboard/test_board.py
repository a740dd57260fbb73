"""The board as a supervisor sees it: Pilot tests on a scripted daemon and screenshots."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from tests.wallboard.conftest import make_app, settle
from tests.wallboard.fake_daemon import FakeDaemon
from tui.wallboard.livetable import LiveTable


def cells(app, table_id: str, row: str) -> list[str]:
    return app.query_one(f"#{table_id}", LiveTable).get_row(row)


async def test_board_shows_lines_agents_queues_and_todays_figures() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        line1 = cells(app, "channels", "1")
        assert "connected" in line1 and "13800138000" in line1 and "张三" in line1
        assert "北京市" in line1 and "1001" in line1 and "● REC" in line1 and "1:35" in line1
        assert "no caller ID" in cells(app, "channels", "2")
        assert "wrap-up" in cells(app, "agents", "1002")  # never shown as available
        lunch = cells(app, "agents", "1003")
        assert "not ready" in lunch and "lunch" in lunch and "5:20" in lunch
        sales = cells(app, "queues", "sales")
        assert sales[3] == "88.9" and sales[6] == "3" and sales[7] == "2"  # SL, abandoned, short apart
        assert "0:14" in sales and "3:05" in sales
        alerts = str(app.query_one("#alerts", Static).render())
        assert alerts.strip() == "!  Line 2 (总机 2) rings without caller ID"  # the only thing to look at


async def test_alerts_for_sl_long_wait_line_down_no_cid_and_disk() -> None:
    app = make_app("alerting")
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        text = str(app.query_one("#alerts", Static).render())
        assert "SL 62.5 % below target 80 %" in text
        assert "waited 1:35" in text
        assert "Line 3 (总机 3) out of service" in text
        assert "Line 2 (总机 2) rings without caller ID" in text
        assert "Recording disk 95 % full" in text
        assert "OUT OF SERVICE" in cells(app, "channels", "3")


async def test_keyed_diff_updates_only_what_changed() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        table = app.query_one("#agents", LiveTable)
        table.move_cursor(row=2)
        before = app.cells_written
        fake = app.backend
        fake.emit("agent.changed", {**app.state.agents["1002"], "state": "ready", "since": app.now()})
        await settle(pilot)
        assert "ready" in cells(app, "agents", "1002")
        assert app.cells_written - before <= 3  # state, time in state (and nothing else)
        assert table.cursor_row == 2  # the cursor stayed on its row


async def test_force_ready_asks_then_sends_the_frozen_agent() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        table = app.query_one("#agents", LiveTable)
        table.focus()
        table.move_cursor(row=2)  # 1003, at lunch
        await pilot.press("r")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("y")
        await pilot.pause()
        await pilot.pause()
        assert ("agent.force_state", {"agent": "1003", "state": "ready"}) in app.backend.calls


async def test_no_means_nothing_is_sent() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        app.query_one("#agents", LiveTable).focus()
        await pilot.press("o")
        await pilot.press("n")
        await pilot.pause()
        assert not any(cmd.startswith("agent.") for cmd, _ in app.backend.calls)


async def test_a_refused_command_is_shown_in_the_daemons_words() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        app.query_one("#agents", LiveTable).focus()
        await pilot.press("l", "y")
        for _ in range(3):
            await pilot.pause()
        assert ("monitor.listen", {"agent": "1001"}) in app.backend.calls
        messages = [n.message for n in app._notifications]
        assert any("unknown command 'monitor.listen'" in m for m in messages)


async def test_lost_connection_shows_a_banner() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.backend.on_state("lost", {"reason": "the daemon closed the connection", "retry_in": 0.4})
        await pilot.pause()
        banner = app.query_one("#banner", Static)
        assert banner.display and "connection to the daemon lost" in str(banner.render())
        app.backend.on_state("connected", {"snapshot": [], "user": {}})
        await pilot.pause()
        assert not banner.display


async def test_an_agent_login_is_refused_with_a_clear_message() -> None:
    script = {"user": {"user": "1001", "role": "agent"}, "events": [], "replies": {}}
    app = make_app(backend_factory=FakeDaemon.factory(script), now=lambda: 0.0)
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 1
    assert app.refusal == "1001 has the agent role: the wallboard needs a supervisor or admin login"


async def test_reports_tab_runs_a_report() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.query_one("#tabs").active = "reports"
        await pilot.pause()
        await pilot.click("#report_run")
        for _ in range(3):
            await pilot.pause()
        table = app.query_one("#report_table", DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["sales", "88.9"]
        assert ("report.run", {"name": "queue", "from": "today"}) in app.backend.calls


@pytest.mark.parametrize(
    ("script", "size", "tv"),
    [
        ("normal", (200, 60), False),
        ("alerting", (200, 60), False),
        ("normal", (80, 24), False),
        ("alerting", (120, 34), True),
    ],
    ids=["normal-200x60", "alerting-200x60", "normal-80x24", "tv-120x34"],
)
def test_snapshots(snap_compare, script: str, size: tuple[int, int], tv: bool) -> None:
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(script, tv=tv), terminal_size=size, run_before=run_before)
