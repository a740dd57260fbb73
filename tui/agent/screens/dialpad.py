"""Dial pad (外呼) with the customer's numbers one key away, and the DTMF pad (送号)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

DIALABLE = set("0123456789*#+")


class DialPad(ModalScreen[str | None]):
    """| f1..f9 | dial the customer's n-th number | enter | dial what is typed | escape | cancel |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(f"f{i}", f"pick({i})", show=False, id=f"dial_pick_{i}") for i in range(1, 10)),
        Binding("escape", "cancel", "Cancel", id="dial_cancel"),
    ]

    def __init__(self, numbers: list[dict[str, Any]]) -> None:
        super().__init__()
        self.numbers = numbers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("外呼 Dial", classes="dialog-title")
            for i, n in enumerate(self.numbers[:9], 1):
                yield Static(f" F{i}  {n['number']}  {n.get('label') or ''}")
            yield Input(placeholder="number", id="dial-number", restrict=r"[0-9*#+]*")
            yield Static("", id="err-number", classes="field-error")
        yield Footer()

    def action_pick(self, i: int) -> None:
        if 0 < i <= len(self.numbers):
            self.dismiss(self.numbers[i - 1]["number"])

    @on(Input.Submitted)
    def _dial(self, event: Input.Submitted) -> None:
        number = event.value.strip()
        if not number or not set(number) <= DIALABLE:
            self.query_one("#err-number", Static).update("↑ digits only")
            return
        self.dismiss(number)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DtmfPad(ModalScreen[None]):
    """Every digit pressed is sent at once on the call (for IVRs at the far end)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="dtmf_close")]

    def __init__(self, call: str) -> None:
        super().__init__()
        self.call = call
        self.sent = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("送号 DTMF — press 0-9 * #", classes="dialog-title")
            yield Static("", id="dtmf-sent")
        yield Footer()

    async def on_key(self, event: events.Key) -> None:
        if event.character and event.character in "0123456789*#ABCD":
            event.stop()
            from tui.agent.app import FAILED

            app: Any = self.app
            if await app.rpc("call.dtmf", call=self.call, digits=event.character) is not FAILED:
                self.sent += event.character
                self.query_one("#dtmf-sent", Static).update(self.sent)

    def action_close(self) -> None:
        self.dismiss(None)
