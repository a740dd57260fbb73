"""CRM screens outside calls: search, customer detail with the full timeline, missed calls and
voicemails with one-key call back, and today's reminders.

Rows carry the id of what they show (customer id, call id, reminder id) as their row key, so a
key press acts on the row on screen, never on a position that may have shifted.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from tui.agent.widgets.crm_panels import KIND
from tui.agent.widgets.screen_pop import render_card, when


def _row_key(table: DataTable) -> str | None:
    if table.row_count == 0:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


class SearchScreen(Screen[None]):
    """| enter | open the customer | escape | back |"""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="search_back")]
    AUTO_FOCUS = "#q"

    def compose(self) -> ComposeResult:
        yield Static("搜索客户 Search customers: name, company, tag or number", classes="dialog-title")
        yield Input(placeholder="张 / 华信 / 老客户 / 1380013", id="q")
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#results", DataTable).add_columns("name", "company", "level", "numbers", "tags")

    @on(Input.Changed, "#q")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @on(Input.Submitted, "#q")
    def _to_results(self) -> None:
        self.query_one("#results", DataTable).focus()

    @work(exclusive=True, group="search")
    async def _search(self, text: str) -> None:
        table = self.query_one("#results", DataTable)
        if not text.strip():
            table.clear()
            return
        app: Any = self.app
        found = await app.rpc("customer.search", text=text, limit=50)
        if not isinstance(found, list):
            return
        table.clear()
        for c in found:
            table.add_row(
                c["name"], c.get("company") or "", c["level"], " ".join(n["number"] for n in c["numbers"][:2]),
                " ".join(c.get("tags") or []), key=str(c["id"]),
            )  # fmt: skip

    @on(DataTable.RowSelected, "#results")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(CustomerDetail(int(event.row_key.value or 0)))


class CustomerDetail(Screen[None]):
    """| d | call the customer | n | note | e | edit | g | order | escape | back |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail_back"),
        Binding("d", "dial", "Dial", id="detail_dial"),
        Binding("n", "note", "Note", id="detail_note"),
        Binding("e", "edit", "Edit", id="detail_edit"),
        Binding("g", "order", "Order", id="detail_order"),
        Binding("enter", "open", "Open", show=False, id="detail_open"),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.customer: dict[str, Any] | None = None
        self.items: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-card")
        yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#timeline", DataTable).add_columns("when", "kind", "what")
        self.reload()

    @work(exclusive=True, group="detail")
    async def reload(self) -> None:
        app: Any = self.app
        customer = await app.rpc("customer.get", customer=self.customer_id)
        if not isinstance(customer, dict):
            return
        self.customer = customer
        self.query_one("#detail-card", Static).update(
            render_card({"number": ", ".join(n["number"] for n in customer["numbers"]), "customers": [customer]},
                        app.field_labels, app.tz)
        )  # fmt: skip
        story = await app.rpc("timeline", customer=self.customer_id)
        if not isinstance(story, list):
            return
        table = self.query_one("#timeline", DataTable)
        table.clear()
        kinds = {"call": "通话", "note": "备注", "order": "订单", "recording": "录音"}
        for i, item in enumerate(story):
            key = f"{item['kind']}:{item['ref']}:{i}"
            self.items[key] = item
            table.add_row(
                when(item["ts"], app.tz), kinds.get(item["kind"], item["kind"]), item["summary"], key=key
            )
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)

    def action_open(self) -> None:
        from tui.agent.screens.dialogs import NoteView

        key = _row_key(self.query_one("#timeline", DataTable))
        item = self.items.get(key or "")
        if item and item["kind"] == "note":
            self.app.push_screen(NoteView(item["item"], self.app.tz))  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#timeline")
    def _selected(self) -> None:
        self.action_open()

    def action_dial(self) -> None:
        if self.customer:
            main = self.app._main()  # type: ignore[attr-defined]
            if main is not None:
                main.open_dialpad(self.customer)

    def action_note(self) -> None:
        if self.customer:
            main = self.app._main()  # type: ignore[attr-defined]
            if main is not None:
                main.open_note(self.customer, None, after=self.reload)

    def action_edit(self) -> None:
        if self.customer:
            from tui.agent.screens.customer_form import CustomerFormScreen

            app: Any = self.app
            app.push_screen(CustomerFormScreen(self.customer, fields=app.fields), lambda _c: self.reload())

    def action_order(self) -> None:
        if self.customer:
            main = self.app._main()  # type: ignore[attr-defined]
            if main is not None:
                main.open_order(self.customer, after=self.reload)


class MissedScreen(Screen[None]):
    """| enter / c | call back | escape | back |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="missed_back"),
        Binding("c", "call_back", "Call back", id="missed_call_back"),
        Binding("f5", "reload", "Reload", id="missed_reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "未接来电与留言 Missed calls & voicemails — c / enter calls back", classes="dialog-title"
        )
        yield DataTable(id="missed", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#missed", DataTable).add_columns(
            "when", "number", "who", "tries", "waited", "voicemail"
        )
        self.action_reload()

    @work(exclusive=True, group="missed")
    async def action_reload(self) -> None:
        app: Any = self.app
        rows = await app.rpc("missed.list")
        if not isinstance(rows, list):
            return
        table = self.query_one("#missed", DataTable)
        table.clear()
        for m in rows:
            vm = "♪" * len(m.get("recordings") or [])
            table.add_row(
                when(m["start"], app.tz), m["src"], m.get("customer_name") or m.get("caller_name") or "",
                str(m.get("attempts", 1)), f"{m.get('wait') or 0:.0f}s", vm, key=m["src"],
            )  # fmt: skip

    @on(DataTable.RowSelected, "#missed")
    async def action_call_back(self) -> None:
        number = _row_key(self.query_one("#missed", DataTable))
        if number:
            app: Any = self.app
            result = await app.rpc("call.dial", number=number)
            if isinstance(result, dict):
                app.notify(f"calling {number}: lift your phone", title="回拨 Call back")


class RemindersScreen(Screen[None]):
    """| x / enter | done | escape | back |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="reminders_back"),
        Binding("x", "done", "Done", id="reminders_done"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("今日提醒 Today's reminders — x marks one done", classes="dialog-title")
        yield DataTable(id="reminders", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#reminders", DataTable).add_columns("due", "kind", "what", "customer")
        self.reload()

    @work(exclusive=True, group="reminders")
    async def reload(self) -> None:
        app: Any = self.app
        rows = await app.rpc("reminder.list")
        if not isinstance(rows, list):
            return
        table = self.query_one("#reminders", DataTable)
        table.clear()
        for i, r in enumerate(rows):
            key = f"r:{r['id']}" if r["id"] is not None else f"b:{i}"
            table.add_row(when(r["due"], app.tz), KIND.get(r["kind"], r["kind"]), r["text"],
                          str(r.get("customer") or ""), key=key)  # fmt: skip

    @on(DataTable.RowSelected, "#reminders")
    async def action_done(self) -> None:
        key = _row_key(self.query_one("#reminders", DataTable)) or ""
        if not key.startswith("r:"):
            return
        app: Any = self.app
        if isinstance(await app.rpc("reminder.done", reminder=int(key[2:])), dict):
            self.reload()
