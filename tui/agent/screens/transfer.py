"""Transfer picker (seed 003's 转移): agents and queues with who is free, or a typed number.

The lists come from ``agent.list`` and ``queue.list`` when the daemon has them; without them
the agent can still type an extension or a number. Returns (target, mode) or None.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from tui.agent.model import STATE_LABELS


class TransferDialog(ModalScreen[tuple[str, str] | None]):
    """| enter / b | blind transfer | c | consult first | escape | cancel |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "pick('blind')", "Blind", id="transfer_blind"),
        Binding("c", "pick('consult')", "Consult", id="transfer_consult"),
        Binding("escape", "cancel", "Cancel", id="transfer_cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("转移 Transfer to… (b blind, c consult)", classes="dialog-title")
            yield DataTable(id="targets", cursor_type="row", zebra_stripes=True)
            yield Input(
                placeholder="或输入分机/号码 or type an extension / number, enter = blind", id="target"
            )
            yield Static("", id="transfer-note", classes="dim")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#targets", DataTable)
        table.add_columns("", "target", "name", "state")
        table.focus()
        self._load()

    @work(exclusive=True)
    async def _load(self) -> None:
        app: Any = self.app
        table = self.query_one("#targets", DataTable)
        agents = await app.rpc("agent.list", quiet=("E_UNKNOWN_COMMAND",))
        queues = await app.rpc("queue.list", quiet=("E_UNKNOWN_COMMAND",))
        me = app.model.login
        rows = 0
        if isinstance(agents, list):
            free_first = sorted(agents, key=lambda a: (a.get("state") != "ready", str(a.get("agent"))))
            for a in free_first:
                if a.get("agent") == me:
                    continue
                free = "●" if a.get("state") == "ready" else "○"
                target = str(a.get("extension") or a.get("agent"))
                table.add_row(free, target, a.get("name") or a.get("agent"),
                              STATE_LABELS.get(a.get("state"), a.get("state") or ""), key=f"a:{target}")  # fmt: skip
                rows += 1
        if isinstance(queues, list):
            for q in queues:
                table.add_row("Q", str(q["queue"]), f"队列 waiting {q.get('waiting', 0)}",
                              f"{q.get('agents_ready', 0)} ready", key=f"q:{q['queue']}")  # fmt: skip
                rows += 1
        if not rows:
            self.query_one("#transfer-note", Static).update(
                "no agent list from the daemon: type a target below"
            )
            self.query_one("#target", Input).focus()

    def _target(self) -> str | None:
        typed = self.query_one("#target", Input).value.strip()
        if typed:
            return typed
        table = self.query_one("#targets", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return key.split(":", 1)[1]

    def action_pick(self, mode: str) -> None:
        target = self._target()
        if target:
            self.dismiss((target, mode))

    @on(Input.Submitted, "#target")
    @on(DataTable.RowSelected)
    def _chosen(self) -> None:
        self.action_pick("blind")

    def action_cancel(self) -> None:
        self.dismiss(None)
