"""The agent terminal against a real daemon on the simulated office (virtual clock): a call is
offered, the pop shows 张三's story before answer, the agent answers, files a note, hangs up,
wraps up and is ready again."""

from __future__ import annotations

from ccd.daemon import Daemon
from ccd.store.db import CHINA_TZ
from tests.tui.conftest import until
from tui.agent.app import AgentApp
from tui.agent.screens.main import MainScreen
from tui.agent.screens.note_editor import NoteEditor


def _app(daemon: Daemon) -> AgentApp:
    return AgentApp(
        daemon.config.daemon.socket, user="1001", password="1001", now=daemon.clock.wall, tz=CHINA_TZ
    )


def _pop_text(app: AgentApp) -> str:
    return str(app.screen.query_one("#pop-card").render()) if isinstance(app.screen, MainScreen) else ""


async def test_offered_pop_answer_note_hangup_wrapup_ready(office_daemon: Daemon) -> None:
    app = _app(office_daemon)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        main = app.screen
        assert isinstance(main, MainScreen)
        await until(pilot, lambda: app.model.state not in ("logged_out",))
        office_daemon.sim.place_call("1", "13800138000", name="张三", talk=60.0, hangup_after=None)
        await until(pilot, lambda: main.bundle is not None, daemon=office_daemon)
        # the pop is on screen while the phone still rings
        assert app.model.call is not None and app.model.call.answered_at is None
        assert main.bundle["customers"][0]["name"] == "张三"
        assert len(main.bundle["contacts"]) == 3
        assert app.model.state == "ringing"

        await pilot.press("a")  # answer from the keyboard; or the phone is lifted by hand
        await office_daemon.run_for(0.5)
        if app.model.call is None or app.model.call.state != "up":  # a daemon that cannot answer for us
            office_daemon.sim.phone("801", "offhook")
        await until(pilot, lambda: app.model.state == "on_call", daemon=office_daemon)

        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteEditor))
        await pilot.press(*"xin lv xin")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await office_daemon.flush()
        notes = await office_daemon.store.notes.list_for_customer(main.bundle["customer"])
        assert notes[0].text == "xin lv xin" and notes[0].call_uniqueid == app.model.call.call

        await pilot.press("h")
        await until(pilot, lambda: app.model.call is None, daemon=office_daemon)
        if office_daemon.sim.snapshot()["phones"]["801"]["offhook"]:
            office_daemon.sim.phone("801", "onhook")
        await until(pilot, lambda: app.model.state in ("wrap_up", "ready"), daemon=office_daemon)
        if app.model.state == "wrap_up":
            await pilot.press("w")
            await until(pilot, lambda: app.model.state == "ready", daemon=office_daemon)


async def test_login_typed_at_the_keyboard(office_daemon: Daemon) -> None:
    """`ccd agent --user 1001`: the cursor waits in the password field; a wrong password is refused
    and cleared, the right one opens the main screen. With no --user, Enter in the ID field goes
    on to the password, and Enter with no ID asks for one."""
    from textual.widgets import Input, Static

    app = AgentApp(office_daemon.config.daemon.socket, user="1001", now=office_daemon.clock.wall, tz=CHINA_TZ)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.focused is not None)
        assert app.focused is app.screen.query_one("#password", Input)
        assert app.screen.query_one("#user", Input).value == "1001"
        await pilot.press(*"wrong", "enter")
        status = app.screen.query_one("#login-status", Static)
        await until(pilot, lambda: "✗" in str(status.render()), daemon=office_daemon)
        assert app.screen.query_one("#password", Input).value == ""
        assert not isinstance(app.screen, MainScreen)
        await pilot.press(*"1001", "enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), daemon=office_daemon)

    app = AgentApp(office_daemon.config.daemon.socket, now=office_daemon.clock.wall, tz=CHINA_TZ)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.focused is not None)
        user = app.screen.query_one("#user", Input)
        assert app.focused is user
        await pilot.press("tab", "enter")  # the password field, Enter with no agent ID
        await until(pilot, lambda: app.focused is user)
        assert "Enter your agent ID" in str(app.screen.query_one("#login-status", Static).render())
        await pilot.press(*"1002", "enter")
        await until(pilot, lambda: app.focused is app.screen.query_one("#password", Input))
        await pilot.press(*"1002", "enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), daemon=office_daemon)
        assert app.model.login == "1002"
