"""The note editor: category, status new / follow-up / closed, follow-up date, text.

What is typed is copied into the app's drafts on every change, keyed by customer and call, so
a lost connection, a closed dialog or a failed save never loses it; a successful save clears
the draft. Errors show inline under the field (too long, a date that is not a date, a
category the daemon does not know).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from ccd.ipc.errors import RpcError
from tui.client import DaemonConnectionError

MAX_NOTE = 10_000
STATUSES = [("新建 new", "new"), ("后续 follow-up", "follow_up"), ("结束 closed", "closed")]


def parse_follow_up(text: str, tz: tzinfo | None) -> float | None:
    """ "2026-01-06 10:00" or "2026-01-06" (09:00) as a Unix time; ValueError when neither."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            dt = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d":
            dt = dt.replace(hour=9)
        return dt.replace(tzinfo=tz).timestamp() if tz else dt.timestamp()
    raise ValueError("use YYYY-MM-DD or YYYY-MM-DD HH:MM")


def check_note(text: str, status: str, follow_up: str, tz: tzinfo | None) -> dict[str, str]:
    """Field -> message, before sending (pure)."""
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "写点内容 a note needs some text"
    elif len(text.strip()) > MAX_NOTE:
        errors["text"] = f"too long: {len(text.strip())} characters, at most {MAX_NOTE}"
    try:
        when = parse_follow_up(follow_up, tz)
    except ValueError as exc:
        errors["follow_up_at"] = str(exc)
    else:
        if status == "follow_up" and when is None:
            errors["follow_up_at"] = "a follow-up needs a date"
    return errors


class NoteEditor(ModalScreen[dict[str, Any] | None]):
    """| ctrl+s | save | escape | close (the text is kept as a draft) |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save note", id="note_save"),
        Binding("escape", "close", "Close (keeps draft)", id="note_close"),
    ]

    def __init__(
        self,
        customer: dict[str, Any],
        call: str | None,
        categories: list[dict[str, Any]],
        draft: dict[str, Any],
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.customer = customer
        self.call = call
        self.categories = categories
        self.draft = draft  # the app's dict: edited in place
        self.tz = tz

    def compose(self) -> ComposeResult:
        cats = [(c.get("label") or c["name"], c["name"]) for c in self.categories]
        with Vertical(classes="dialog", id="note-dialog"):
            yield Static(f"备注 Note on {self.customer['name']}" + (f"  call {self.call}" if self.call else ""),
                         classes="dialog-title")  # fmt: skip
            yield Label("分类 Category")
            chosen = self.draft.get("category")
            if chosen in {v for _, v in cats}:
                yield Select(cats, value=chosen, id="n-category")
            else:
                yield Select(cats, id="n-category")
            yield Static("", id="err-category", classes="field-error")
            yield Label("状态 Status")
            yield Select(STATUSES, value=self.draft.get("status", "new"), allow_blank=False, id="n-status")
            yield Label("跟进时间 Follow-up (YYYY-MM-DD HH:MM)")
            yield Input(self.draft.get("follow_up", ""), id="n-follow")
            yield Static("", id="err-follow_up_at", classes="field-error")
            yield TextArea(self.draft.get("text", ""), id="n-text")
            yield Static("", id="err-text", classes="field-error")
            yield Static("", id="err-form", classes="field-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#n-text", TextArea).focus()

    @on(TextArea.Changed, "#n-text")
    def _text_changed(self, event: TextArea.Changed) -> None:
        self.draft["text"] = event.text_area.text

    @on(Input.Changed, "#n-follow")
    def _follow_changed(self, event: Input.Changed) -> None:
        self.draft["follow_up"] = event.value

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        key = "category" if event.select.id == "n-category" else "status"
        if isinstance(event.value, str):
            self.draft[key] = event.value

    def show_errors(self, errors: dict[str, str]) -> None:
        for key in ("category", "follow_up_at", "text", "form"):
            self.query_one(f"#err-{key}", Static).update(f"↑ {errors[key]}" if key in errors else "")

    async def action_save(self) -> None:
        text = self.query_one("#n-text", TextArea).text
        status = self.query_one("#n-status", Select).value
        status = status if isinstance(status, str) else "new"
        follow = self.query_one("#n-follow", Input).value
        errors = check_note(text, status, follow, self.tz)
        if errors:
            self.show_errors(errors)
            return
        category = self.query_one("#n-category", Select).value
        args: dict[str, Any] = {"customer": self.customer["id"], "text": text.strip(), "status": status}
        if isinstance(category, str):
            args["category"] = category
        if self.call:
            args["call"] = self.call
        when = parse_follow_up(follow, self.tz)
        if when is not None:
            args["follow_up_at"] = when
        try:
            note = await self.app.rpc_raw("note.add", **args)  # type: ignore[attr-defined]
        except RpcError as exc:
            self.show_errors({(exc.details or {}).get("argument") or "form": exc.message})
            return
        except (DaemonConnectionError, ConnectionError, TimeoutError) as exc:
            self.show_errors(
                {"form": f"未保存 not saved — {exc}. Your text is kept; ctrl+s again when reconnected."}
            )
            return
        self.draft.clear()
        self.app.notify(f"note saved on {self.customer['name']}", title="备注 Note")
        self.dismiss(note)

    def action_close(self) -> None:
        self.dismiss(None)
