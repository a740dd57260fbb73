"""The wrap-up code picker on a scripted daemon: it opens by itself when wrap-up starts and the
daemon has codes, sends call.disposition with the code and the note, and stays away when the
daemon has none."""

from __future__ import annotations

from typing import Any

from tests.tui.conftest import until
from tests.tui.snapshot_apps.common import make_app
from tui.agent.app import AgentApp
from tui.agent.screens.disposition import DispositionPicker
from tui.agent.screens.main import MainScreen

CALL = "1767603600.1"
CODES = ["SALE", "INFO", "COMPLAINT", "CALLBACK"]


def wrap_up_state(codes: list[str]) -> dict[str, Any]:
    return {"agent": "1001", "state": "wrap_up", "reason": "", "since": 1767603604.0, "extension": "801",
            "call": None, "dispositions": codes, "last_call": CALL, "disposition": None}  # fmt: skip


async def _end_the_call(app: AgentApp, pilot: Any, codes: list[str]) -> Any:
    await until(pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.bundle is not None)
    fake = app.backend
    fake.script["replies"]["agent.state"] = wrap_up_state(codes)
    fake.script["replies"]["call.disposition"] = {"call": CALL, "agent": "1001", "code": "INFO",
                                                  "note": "catalogue", "queue": "support", "stored": True}  # fmt: skip
    fake.emit("call.answered", {"call": CALL, "by": "801", "lines": ["1", "801"]})
    fake.emit("call.ended", {"call": CALL})
    return fake


async def test_wrap_up_opens_the_picker_and_sends_the_code_and_note() -> None:
    app = make_app("ringing")
    async with app.run_test(size=(120, 40)) as pilot:
        fake = await _end_the_call(app, pilot, CODES)
        await until(pilot, lambda: isinstance(app.screen, DispositionPicker))
        await pilot.press("tab", *"catalogue")
        await pilot.press("shift+tab", "down", "enter")  # INFO
        await until(pilot, lambda: any(c[0] == "call.disposition" for c in fake.calls))
        sent = [c[1] for c in fake.calls if c[0] == "call.disposition"][-1]
        assert sent == {"call": CALL, "code": "INFO", "note": "catalogue"}
        assert isinstance(app.screen, MainScreen)
        await pilot.press("s")  # the key opens it again, the saved code highlighted
        await until(pilot, lambda: isinstance(app.screen, DispositionPicker))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_no_codes_no_picker() -> None:
    app = make_app("ringing")
    async with app.run_test(size=(120, 40)) as pilot:
        fake = await _end_the_call(app, pilot, [])
        await until(pilot, lambda: any(c[0] == "agent.state" for c in fake.calls[-3:]))
        await pilot.pause(0.1)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("s")
        await pilot.pause(0.05)
        assert isinstance(app.screen, MainScreen)
        assert not [c for c in fake.calls if c[0] == "call.disposition"]
