"""Agent-terminal flows on a scripted daemon: unknown caller form, inline validation, a refused
request shown as a notification, the lost-connection banner keeping the unsaved note, keys
remapped from ccd.toml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccd.ipc.errors import E_INVALID_ARGS, RpcError
from tests.tui.conftest import until
from tests.tui.snapshot_apps.common import HERE, make_app
from tui.actions import UnknownActionError, keymap
from tui.agent.app import AgentApp
from tui.agent.screens.customer_form import validate
from tui.agent.screens.main import MainScreen
from tui.agent.screens.note_editor import NoteEditor, check_note


def _fake(app: AgentApp) -> Any:
    return app.backend


async def test_unknown_caller_gets_a_prefilled_form_and_is_filed(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app("unknown")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.query("#pop-form #f-number")
        )
        form = app.screen.query_one("#pop-form")
        assert form.query_one("#f-number").value == "075512345678"
        assert "深圳" in form.query_one("#f-address").value
        fake = _fake(app)
        fake.script["replies"]["customer.add"] = {"error": {"code": E_INVALID_ARGS, "message": "name is too long",
                                                            "details": {"argument": "name"}}}  # fmt: skip
        form.query_one("#f-name").focus()
        await pilot.press("ctrl+s")  # empty name: caught before sending
        await pilot.pause()
        assert "required" in str(form.query_one("#err-name").render())
        assert not [c for c in fake.calls if c[0] == "customer.add"]
        await pilot.press(*"Li")
        await pilot.press("ctrl+s")  # the daemon's own refusal lands under the field it names
        await until(pilot, lambda: "too long" in str(form.query_one("#err-name").render()))
        saved = {**json.loads((HERE / "ringing.json").read_text())["replies"]["crm.pop"]["customers"][0],
                 "id": 77, "name": "Li"}  # fmt: skip
        fake.script["replies"]["customer.add"] = saved
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(c[0] == "crm.pop" and c[1].get("customer") == 77 for c in fake.calls))
        add = [c for c in fake.calls if c[0] == "customer.add"][-1][1]
        assert add["name"] == "Li" and add["numbers"][0]["number"] == "075512345678"


async def test_refused_request_is_a_notification_and_changes_nothing() -> None:
    app = make_app("ringing")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.bundle is not None)
        fake = _fake(app)
        fake.script["replies"]["call.answer"] = {"error": {"code": "E_FORBIDDEN", "message": "not your call"}}
        before = app.model.state
        await pilot.press("a")
        await until(pilot, lambda: any("not your call" in str(n.message) for n in app._notifications))
        assert app.model.state == before and app.model.call is not None
        assert ("call.answer", {"call": "1767603600.1"}) in fake.calls


async def test_lost_connection_shows_a_banner_and_keeps_the_note() -> None:
    app = make_app("ringing")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.bundle is not None)
        main = app.screen
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteEditor))
        await pilot.press(*"call back")
        fake = _fake(app)

        async def gone(cmd: str, args: Any = None, **kw: Any) -> Any:
            raise ConnectionError("connection to the ccd daemon lost (the daemon closed the connection)")

        fake.call = gone
        fake.on_state("lost", {"reason": "the daemon closed the connection", "retry_in": 0.2})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not saved" in str(app.screen.query_one("#err-form").render()))
        assert main.query_one("#banner").display
        assert "lost" in str(main.query_one("#banner").render())
        await pilot.press("escape")  # closing keeps the draft too
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteEditor))
        assert app.screen.query_one("#n-text").text == "call back"


def test_pure_checks() -> None:
    assert validate({"name": ""}, [])["name"]
    assert validate({"name": "x", "birthday": "1980-13-01"}, [])["birthday"].startswith("not a date")
    assert "custom.n" in validate(
        {"name": "x", "custom.n": "abc"}, [{"name": "n", "label": "N", "type": "int"}]
    )
    assert check_note("x" * 10_001, "new", "", None)["text"].startswith("too long")
    assert "follow_up_at" in check_note("hi", "follow_up", "", None)
    assert check_note("hi", "follow_up", "2026-01-06 10:00", None) == {}
    assert keymap({"answer": "f5"}) == {"answer": "f5"}
    with pytest.raises(UnknownActionError, match="did you mean 'answer'"):
        keymap({"anwser": "f5"})
    assert RpcError  # the client and the daemon share the error type
