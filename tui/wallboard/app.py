"""`ccd wallboard`: every line, agent and queue live, with supervisor controls and a reports tab.

Data flow: the connection (a `ReconnectingClient`, or a scripted fake in tests) posts
`DaemonEvent`s; `WallboardState.apply` records them and marks panels dirty; a flush every
`FLUSH` seconds turns dirty panels into rows (pure functions in `panels/`) and applies them
to the `LiveTable`s by keyed diff inside `batch_update()` — no table is ever cleared and
refilled, and a table redraws only the rows whose cells changed. Today's figures come from `wallboard.stats` (computed by the daemon from the
journal), polled with a one-shot timer re-armed after each reply so polls never overlap.

Keys (on the selected row of the agents or channels table):

| key | action |
|---|---|
| l | listen (silent monitor) |
| w | whisper (coach the agent) |
| b | barge in (three-way) |
| k | force hang-up of the row's call (强拆) |
| r / n | force the agent ready / not ready |
| o | force the agent to sign out |
| t | TV mode on/off (big numbers) |
| q | quit |

Every action asks for confirmation and acts on the ids captured when the key was pressed
(dolphie's rule), not on whatever the row shows when the answer comes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Digits,
    Footer,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from ccd.ipc.errors import RpcError
from tui.client import DaemonConnectionError, ReconnectingClient
from tui.messages import ConnectionChanged, DaemonEvent
from tui.wallboard.livetable import LiveTable
from tui.wallboard.model import WallboardState
from tui.wallboard.panels import agents as agents_panel
from tui.wallboard.panels import alerts as alerts_panel
from tui.wallboard.panels import channels as channels_panel
from tui.wallboard.panels import chart as chart_panel
from tui.wallboard.panels import queues as queues_panel

log = logging.getLogger(__name__)

TOPICS = ("line", "call", "agent", "queue", "alert", "wallboard")  # "wallboard" needs a supervisor
OPTIONAL_TOPICS = ("recording",)
FLUSH = 0.25  # seconds between frames: events in between coalesce per row (the latest state wins)
STATS_EVERY = 5.0  # seconds between wallboard.stats polls
ALLOWED_ROLES = ("supervisor", "admin")
RESET = "wallboard.reset"  # marker in the inbox: a reconnect's fresh snapshot starts here
BOARD_PANELS = frozenset({"queues", "agents", "channels", "alerts", "chart"})
TV_PANELS = frozenset({"tv"})
REPORTS = ("queue", "agent", "signin", "traffic", "trunk", "customer", "survey", "sales")

BackendFactory = Callable[..., Any]


def default_backend(
    socket: Path, auth: Any, on_event: Callable[[dict[str, Any]], Any], on_state: Callable[..., Any]
) -> ReconnectingClient:
    return ReconnectingClient(
        socket, auth=auth, topics=TOPICS, on_event=on_event, on_state=on_state, client_name="ccd-wallboard"
    )


class WallboardApp(App[None]):
    """The supervisor board. `now` (wall seconds) is injectable so snapshots are deterministic."""

    CSS_PATH = "wallboard.tcss"
    TITLE = "ccd wallboard"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar = [
        Binding("l", "monitor('listen')", "Listen", id="listen"),
        Binding("w", "monitor('whisper')", "Whisper", id="whisper"),
        Binding("b", "monitor('barge')", "Barge", id="barge"),
        Binding("k", "hangup", "Hang up", id="hangup"),
        Binding("r", "force('ready')", "Ready", id="force_ready"),
        Binding("n", "force('not_ready')", "Not ready", id="force_not_ready"),
        Binding("o", "force('logged_out')", "Sign out", id="force_logout"),
        Binding("t", "toggle_tv", "TV", id="tv"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        socket_path: str | Path,
        *,
        auth: Any = "peer",
        tv: bool = False,
        extension: str | None = None,
        now: Callable[[], float] | None = None,
        backend_factory: BackendFactory | None = None,
        stats_every: float = STATS_EVERY,
        flush_every: float = FLUSH,
    ) -> None:
        super().__init__()
        self.socket_path = Path(socket_path)
        self.auth = auth
        self.tv = tv
        self.extension = extension
        self.now: Callable[[], float] = now or time.time
        self.backend_factory = backend_factory or default_backend
        self.stats_every = stats_every
        self.flush_every = flush_every
        self.state = WallboardState()
        self.backend: Any = None
        self.connection = "idle"
        self.user: dict[str, Any] = {}
        self.refusal: str | None = None  # why the board closed itself (role, password)
        self._dirty: set[str] = {"channels", "agents", "queues", "alerts", "chart", "tv"}
        # held, not queried: with a dialog on top, query_one no longer finds them
        self._tables: dict[str, LiveTable] = {}
        self._last_text: dict[str, Any] = {}
        self._tv_digits: dict[str, Any] = {}
        self.cells_written = 0  # bench: cells changed by keyed diffs
        self.frames = 0  # bench: flushes that drew something
        self.events_taken = 0  # bench: events applied to the state
        self._stats_pending = False
        self._inbox: deque[dict[str, Any]] = deque()  # events from the connection, same event loop

    # --- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="banner")
        with TabbedContent(id="tabs", initial="board"):
            with TabPane("Board", id="board"):
                with Horizontal(id="top"):
                    yield LiveTable(queues_panel.COLUMNS, id="queues")
                    with Vertical(id="side"):
                        yield Static("", id="chart")
                        yield Static("", id="alerts")
                with Horizontal(id="bottom"):
                    yield LiveTable(agents_panel.COLUMNS, id="agents", max_widths=agents_panel.MAX_WIDTHS)
                    yield LiveTable(
                        channels_panel.COLUMNS, id="channels", max_widths=channels_panel.MAX_WIDTHS
                    )
            with TabPane("TV", id="tv"):
                yield Vertical(id="tvgrid")
                yield Static("", id="tvalerts")
            with TabPane("Reports", id="reports"):
                with Horizontal(id="reportbar"):
                    yield Select(
                        [(n, n) for n in REPORTS], value="queue", allow_blank=False, id="report_name"
                    )
                    yield Input("today", placeholder="from", id="report_from")
                    yield Input("", placeholder="to (default now)", id="report_to")
                    yield Input("", placeholder="interval", id="report_interval")
                    yield Button("Run", id="report_run", variant="primary")
                yield Static("", id="report_info")
                yield DataTable(id="report_table")
        yield Footer()

    def on_mount(self) -> None:
        self._tables = {
            name: self.query_one(f"#{name}", LiveTable) for name in ("queues", "agents", "channels")
        }
        self._tabs = self.query_one(TabbedContent)
        self._connect()
        self.set_interval(self.flush_every, self.flush)
        self.set_interval(1.0, self._tick)
        if self.tv:
            self.query_one(TabbedContent).active = "tv"
        self.flush()

    def on_resize(self) -> None:
        self.screen.set_class(self.size.width < 120, "narrow")

    # --- connection ---------------------------------------------------------------------------

    def _connect(self) -> None:
        self.backend = self.backend_factory(
            self.socket_path,
            self.auth,
            self._inbox.append,  # drained by flush(): one Textual message per event costs too much at 128 lines
            self._on_state,
        )
        self._run_backend(self.backend)

    def _on_state(self, state: str, info: dict[str, Any]) -> None:
        if state == "syncing":
            # the fresh snapshot follows: drop the old state in order with the events
            self._inbox.clear()
            self._inbox.append({"event": RESET})
        self.post_message(ConnectionChanged(state, info))

    @work(exclusive=True, group="daemon", exit_on_error=False)
    async def _run_backend(self, backend: Any) -> None:
        try:
            await backend.run()
        except RpcError:
            pass  # reported through on_state("failed")

    @on(ConnectionChanged)
    def connection_changed(self, message: ConnectionChanged) -> None:
        self.connection = message.state
        info = message.info
        banner = self.query_one("#banner", Static)
        if message.state == "syncing":
            self.user = dict(info.get("user") or {})
            role = self.user.get("role")
            if role not in ALLOWED_ROLES:
                who = self.user.get("user") or self.user.get("login") or "this user"
                self.refuse(f"{who} has the {role} role: the wallboard needs a supervisor or admin login")
                return
        elif message.state == "connected":
            banner.display = False
            self._subscribe_optional()
            self.poll_stats()
        elif message.state == "lost":
            banner.display = True
            banner.update(
                f"⚠ connection to the daemon lost ({info.get('reason')}); reconnecting in "
                f"{info.get('retry_in', 0):.0f} s — figures shown are from before"
            )
        elif message.state == "connecting" and info.get("attempt", 1) > 1:
            banner.display = True
            banner.update(f"⚠ reconnecting to the daemon (attempt {info.get('attempt')})…")
        elif message.state == "failed":
            error = info.get("error")
            text = getattr(error, "message", None) or str(error)
            code = getattr(error, "code", "")
            if code == "E_FORBIDDEN":
                text = f"the wallboard needs a supervisor or admin login ({text})"
            self.refuse(text)

    def refuse(self, text: str) -> None:
        """Close the board with a reason the CLI prints (wrong role, bad password)."""
        self.refusal = text
        if self.backend is not None:
            self.backend.stop()
        self.exit(return_code=1, message=text)

    @work(group="optional", exit_on_error=False)
    async def _subscribe_optional(self) -> None:
        for topic in OPTIONAL_TOPICS:  # topics an older daemon may not know: never fatal
            try:
                await self.backend.call("subscribe", {"topics": [topic]})
            except (RpcError, DaemonConnectionError, TimeoutError):
                log.debug("topic %s not available", topic)

    @on(DaemonEvent)
    def daemon_event(self, message: DaemonEvent) -> None:
        self._apply(message.name, message.data)

    def _reset(self) -> None:
        self.state.reset()  # the tables follow at the next flush, by keyed diff like any change
        self._dirty |= {"channels", "agents", "queues", "alerts", "tv"}

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        self._dirty |= self.state.apply(name.replace(".snapshot", ".changed"), data, self.now())
        if self._dirty & {"queues", "alerts"}:
            self._dirty.add("tv")

    # --- today's figures ----------------------------------------------------------------------

    @work(exclusive=True, group="stats", exit_on_error=False)
    async def poll_stats(self) -> None:
        try:
            stats = await self.backend.call("wallboard.stats", {})
        except RpcError as exc:
            self.notify(exc.message, title="wallboard.stats", severity="error")
            stats = None
        except (DaemonConnectionError, TimeoutError):
            stats = None
        if stats is not None:
            self.state.set_stats(stats)
            self._dirty |= {"queues", "agents", "alerts", "chart", "tv", "channels"}
        if self.connection == "connected":
            self.set_timer(self.stats_every, self.poll_stats)  # re-armed only after the reply

    # --- drawing --------------------------------------------------------------------------

    def _tick(self) -> None:
        # durations move every second: the keyed diff writes only the cells that changed
        self._dirty |= {"channels", "agents", "queues", "alerts", "tv"}

    def flush(self) -> None:
        """Apply waiting events, then redraw the dirty panels (keyed diffs; text only when changed)."""
        inbox = self._inbox
        self.events_taken += len(inbox)
        while inbox:
            event = inbox.popleft()
            if event.get("event") == RESET:
                self._reset()
            else:
                self._apply(str(event.get("event")), event.get("data") or {})
        if not self._dirty or not self._tables:
            return
        # draw only what the active tab shows; the rest stays dirty until its tab is opened
        shown = TV_PANELS if self._tabs.active == "tv" else BOARD_PANELS
        dirty = self._dirty & shown
        if not dirty:
            return
        self._dirty -= dirty
        self.frames += 1
        now = self.now()
        with self.batch_update():
            for name, module in (
                ("queues", queues_panel),
                ("agents", agents_panel),
                ("channels", channels_panel),
            ):
                if name in dirty:
                    self.cells_written += self._tables[name].set_rows(module.rows(self.state, now))
            if "alerts" in dirty:
                self._set_text("#alerts", alerts_panel.render(self.state, now))
            if "chart" in dirty:
                width = self.query_one("#chart", Static).size.width or 80
                self._set_text("#chart", chart_panel.render(self.state, now, width))
            if "tv" in dirty:
                self._draw_tv(now)

    def _set_text(self, selector: str, renderable: Any) -> None:
        key = str(renderable) + repr(getattr(renderable, "spans", ""))
        if self._last_text.get(selector) != key:
            self._last_text[selector] = key
            self.query_one(selector, Static).update(renderable)

    def _draw_tv(self, now: float) -> None:
        """Big numbers per queue: waiting, longest wait, SL today, agents ready."""
        grid = self.query_one("#tvgrid", Vertical)
        stats = (self.state.stats.get("queues") or {}) if self.state.stats else {}
        for name in queues_panel.queue_names(self.state):
            live = self.state.queues.get(name) or {}
            th = self.state.thresholds(name)
            sl = (stats.get(name) or {}).get("service_level")
            waiting = int(live.get("waiting") or 0)
            longest = float(live.get("longest_wait") or 0.0)
            values = {
                "waiting": (str(waiting), "warn" if waiting else ""),
                "longest": (_mmss(longest) if waiting else "0:00", "bad" if longest > th.wait_alert else ""),
                "sl": (
                    "--" if sl is None else f"{sl:.0f}%",
                    "" if sl is None else ("good" if sl >= th.sl_target else "bad"),
                ),
                "ready": (str(live.get("agents_ready", 0)), ""),
            }
            if name not in self._tv_digits:
                row = Horizontal(classes="tvrow")
                grid.mount(row)
                row.mount(Label(name, classes="tvqueue"))
                cells = {}
                for key, caption in (
                    ("waiting", "waiting"),
                    ("longest", "longest"),
                    ("sl", "SL today"),
                    ("ready", "ready"),
                ):
                    box = Vertical(classes="tvbox")
                    row.mount(box)
                    digits = Digits("", classes="tvdigits")
                    box.mount(digits)
                    box.mount(Label(caption, classes="tvcaption"))
                    cells[key] = [digits, None]
                self._tv_digits[name] = cells
            for key, (text, cls) in values.items():
                cell = self._tv_digits[name][key]
                if cell[1] != (text, cls):
                    cell[1] = (text, cls)
                    cell[0].update(text)
                    cell[0].set_classes(f"tvdigits {cls}".strip())
        self._set_text("#tvalerts", alerts_panel.render(self.state, now))

    # --- supervisor actions ----------------------------------------------------------------

    def select_row(self, table_id: str, key: str) -> None:
        """Focus `table_id` ("agents" or "channels") with its cursor on the row `key`."""
        table = self._tables[table_id]
        table.focus()
        table.select_key(key)

    def _selected(self) -> tuple[str, dict[str, Any]] | None:
        """(table id, frozen copy of the selected row's agent/call) of the focused table."""
        focused = self.focused
        if not isinstance(focused, LiveTable) or focused.id not in ("agents", "channels"):
            for table_id in ("agents", "channels"):
                if self._tables[table_id].row_count:
                    focused = self._tables[table_id]
                    break
            else:
                return None
        table = focused
        key = table.selected_key
        if key is None:
            return None
        if table.id == "agents":
            agent = dict(self.state.agents.get(key) or {})
            call = dict(self.state.calls.get(agent.get("call") or "") or {})
            return "agents", {"agent": key, "name": agent.get("name"), "call": call.get("call") or agent.get("call"),
                              "caller": call.get("caller_name") or call.get("src")}  # fmt: skip
        call = dict(self.state.call_for_line(key) or {})
        agent = call.get("agent")
        if not agent:
            at = self.state.agent_at(key)
            agent = at.get("agent") if at else None
        return "channels", {"line": key, "agent": agent, "call": call.get("call"),
                            "caller": call.get("caller_name") or call.get("src")}  # fmt: skip

    def action_monitor(self, mode: str) -> None:
        sel = self._selected()
        if sel is None or not (sel[1].get("agent") or sel[1].get("call")):
            self.notify("Select an agent or a line with a call first.", severity="warning")
            return
        target = sel[1]
        args: dict[str, Any] = {"agent": target["agent"]} if target.get("agent") else {"call": target["call"]}
        if self.extension:
            args["extension"] = self.extension
        who = f"agent {target['agent']}" if target.get("agent") else f"call {target['call']}"
        question = {"listen": "Listen to", "whisper": "Whisper to", "barge": "Barge in on"}[mode] + f" {who}?"
        detail = f"caller {target['caller']}" if target.get("caller") else ""
        self._confirm_then(question, detail, f"monitor.{mode}", args)

    def action_hangup(self) -> None:
        sel = self._selected()
        if sel is None or not sel[1].get("call"):
            self.notify("The selected row has no call to hang up.", severity="warning")
            return
        target = sel[1]
        self._confirm_then(
            f"Force hang-up of call {target['call']} (强拆)?",
            f"caller {target.get('caller') or '?'}"
            + (f", agent {target['agent']}" if target.get("agent") else ""),
            "call.hangup",
            {"call": target["call"]},
        )

    def action_force(self, state: str) -> None:
        sel = self._selected()
        if sel is None or not sel[1].get("agent"):
            self.notify("Select an agent first.", severity="warning")
            return
        agent = sel[1]["agent"]
        if state == "logged_out":
            self._confirm_then(f"Sign agent {agent} out?", "", "agent.force_logout", {"agent": agent})
            return
        # no reason: the daemon's default one, which every [acd] reasons list accepts
        # (a made-up "supervisor" reason was refused as unknown)
        args = {"agent": agent, "state": state}
        word = {"ready": "ready", "not_ready": "not ready"}[state]
        self._confirm_then(f"Set agent {agent} {word}?", "", "agent.force_state", args)

    def _confirm_then(self, question: str, detail: str, cmd: str, args: dict[str, Any]) -> None:
        from tui.wallboard.screens import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.send(cmd, args)

        self.push_screen(ConfirmDialog(question, detail), done)

    @work(group="actions", exit_on_error=False)
    async def send(self, cmd: str, args: dict[str, Any]) -> Any:
        """One supervisor command; the daemon's refusal is shown in its own words."""
        if self.backend is None:
            return None
        try:
            result = await self.backend.call(cmd, args)
        except RpcError as exc:
            self.notify(f"{exc.code}: {exc.message}", title=cmd, severity="error")
            return None
        except (DaemonConnectionError, TimeoutError) as exc:
            self.notify(str(exc), title=cmd, severity="error")
            return None
        self.notify("done", title=cmd)
        return result

    def action_toggle_tv(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "board" if tabs.active == "tv" else "tv"
        self._dirty.add("tv")

    # --- reports tab --------------------------------------------------------------------------

    @on(Button.Pressed, "#report_run")
    def run_report_pressed(self) -> None:
        args: dict[str, Any] = {"name": self.query_one("#report_name", Select).value}
        for key, widget in (("from", "#report_from"), ("to", "#report_to"), ("interval", "#report_interval")):
            value = self.query_one(widget, Input).value.strip()
            if value:
                args[key] = value
        self.run_report(args)

    @work(exclusive=True, group="report", exit_on_error=False)
    async def run_report(self, args: dict[str, Any]) -> None:
        info = self.query_one("#report_info", Static)
        info.update("running…")
        try:
            data = await self.backend.call("report.run", args, timeout=60.0)
        except RpcError as exc:
            info.update(f"[red]{exc.message}[/]")
            return
        except (DaemonConnectionError, TimeoutError) as exc:
            info.update(f"[red]{exc}[/]")
            return
        table = self.query_one("#report_table", DataTable)
        table.clear(columns=True)  # a new report: new columns
        cols = data["columns"]
        for c in cols:
            table.add_column(c["label"], key=c["key"])
        for row in data["rows"]:
            table.add_row(*(_cell(row.get(c["key"]), c["kind"]) for c in cols))
        period = (data.get("params") or {}).get("period", "")
        info.update(f"{data['title']}  {period}  ({len(data['rows'])} rows)")

    # --- life cycle -----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.backend is not None:
            self.backend.stop()
        self.exit()


def _mmss(secs: float) -> str:
    s = max(0, int(secs))
    return f"{s // 60}:{s % 60:02d}"


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "secs" and isinstance(value, int | float):
        return (
            _mmss(value)
            if value < 3600
            else f"{int(value) // 3600}:{int(value) % 3600 // 60:02d}:{int(value) % 60:02d}"
        )
    if kind == "pct" and isinstance(value, int | float):
        return f"{value:.1f}"
    return str(value)


async def run_embedded(daemon: Any, *, tv: bool = False) -> None:
    """The wallboard in this terminal, connected to `daemon`'s socket as the local admin.

    Used by `ccd demo`: returns when the user quits.
    """
    app = WallboardApp(daemon.config.daemon.socket, auth="peer", tv=tv)
    await app.run_async()
