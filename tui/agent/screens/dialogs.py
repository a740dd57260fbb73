"""Small dialogs: the not-ready reason, a note in full, an order."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.agent.model import REASONS
from tui.agent.widgets.screen_pop import STATUS, when, yuan


class ReasonPicker(ModalScreen[str | None]):
    """置忙: why the agent is not taking calls."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="reason_cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("置忙 Not ready — reason", classes="dialog-title")
            yield OptionList(*(Option(label, id=key) for key, label in REASONS.items()), id="reasons")
        yield Footer()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteView(ModalScreen[None]):
    """One note in full (the seed's 详情 button)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="noteview_close")]

    def __init__(self, note: dict[str, Any], tz: Any = None) -> None:
        super().__init__()
        self.note = note
        self.tz = tz

    def compose(self) -> ComposeResult:
        n = self.note
        with VerticalScroll(classes="dialog"):
            yield Static(
                f"{when(n.get('created'), self.tz)}  [{n.get('category') or '-'}] {STATUS.get(n['status'], n['status'])}"
                f"  by {n.get('author')}", classes="dialog-title",
            )  # fmt: skip
            yield Static(n["text"])
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


class OrderDialog(ModalScreen[dict[str, Any] | None]):
    """| + / - | quantity of the highlighted product | ctrl+s | create the order |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "qty(1)", "+1", id="order_more"),
        Binding("minus", "qty(-1)", "-1", id="order_less"),
        Binding("ctrl+s", "save", "Create order", id="order_save"),
        Binding("escape", "cancel", "Cancel", id="order_cancel"),
    ]

    def __init__(self, customer: dict[str, Any], products: list[dict[str, Any]]) -> None:
        super().__init__()
        self.customer = customer
        self.products = products
        self.qty: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"订单 New order for {self.customer['name']}", classes="dialog-title")
            yield DataTable(id="products", cursor_type="row")
            yield Static("", id="order-total")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#products", DataTable)
        table.add_columns("SKU", "product", "price", "qty")
        for p in self.products:
            table.add_row(p["sku"], p["name"], yuan(p["price"]), "0", key=p["sku"])
        table.focus()

    def action_qty(self, delta: int) -> None:
        table = self.query_one("#products", DataTable)
        if table.row_count == 0:
            return
        sku = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        self.qty[sku] = max(0, self.qty.get(sku, 0) + delta)
        table.update_cell(sku, table.ordered_columns[3].key, str(self.qty[sku]))
        total = sum(p["price"] * self.qty.get(p["sku"], 0) for p in self.products)
        self.query_one("#order-total", Static).update(f"合计 Total {yuan(total)}")

    async def action_save(self) -> None:
        lines = [{"product": sku, "qty": q} for sku, q in self.qty.items() if q > 0]
        if not lines:
            self.query_one("#order-total", Static).update("↑ add at least one product (+)")
            return
        app: Any = self.app
        order = await app.rpc("order.create", customer=self.customer["id"], lines=lines)
        if isinstance(order, dict):
            app.notify(f"order {order['no']} {yuan(order['total'])}", title="订单 Order")
            self.dismiss(order)

    def action_cancel(self) -> None:
        self.dismiss(None)
