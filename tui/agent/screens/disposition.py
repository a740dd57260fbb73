"""The wrap-up code picker (话后小结): which outcome the call had, with an optional note.

Offered when the daemon says codes exist (``agent.state`` -> ``dispositions``): it opens by
itself when wrap-up starts and again with the `disposition` key. Picking a code (Enter on
the list, or Enter in the note field for the highlighted code) returns ``(code, note)``;
Escape returns None and the call stays uncoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option


class DispositionPicker(ModalScreen[tuple[str, str] | None]):
    """Pick one of the daemon's disposition codes for `call` (the current one is highlighted)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Later", id="dispo_cancel")]

    def __init__(self, call: str, codes: Sequence[str], current: str | None = None) -> None:
        super().__init__()
        self.call = call
        self.codes = list(codes)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"小结 Disposition — call {self.call}", classes="dialog-title")
            yield OptionList(*(Option(code, id=code) for code in self.codes), id="dispo-codes")
            yield Input(placeholder="note (optional), Enter to save", id="dispo-note")
        yield Footer()

    def on_mount(self) -> None:
        codes = self.query_one(OptionList)
        if self.current in self.codes:
            codes.highlighted = self.codes.index(self.current)
        codes.focus()

    def _note(self) -> str:
        return self.query_one("#dispo-note", Input).value.strip()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((str(event.option.id), self._note()))

    @on(Input.Submitted, "#dispo-note")
    def _submitted(self) -> None:
        codes = self.query_one(OptionList)
        if codes.highlighted is None:
            self.app.notify("pick a code first", severity="warning")
            codes.focus()
            return
        self.dismiss((self.codes[codes.highlighted], self._note()))

    def action_cancel(self) -> None:
        self.dismiss(None)
