"""`ccd agent`: the agent terminal — softphone bar, screen pop, CRM panels — over the socket.

The app owns the connection (a `ReconnectingClient`, or any object with the same
``run/stop/call`` shape, which is how tests feed it a scripted fake daemon) and the agent's
`AgentModel`. Screens ask the daemon through `AgentApp.rpc()`, which turns every refusal
into a notification carrying the daemon's own words, so a request the role may not make
shows why and changes nothing on screen.

Start-up stays under a second: Textual is imported only here (not by `ccd` or `cli`), and
nothing waits on the daemon before the login screen is painted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App

from ccd.ipc.errors import E_UNKNOWN_COMMAND, RpcError, describe
from tui.actions import keymap
from tui.agent.model import AgentModel
from tui.client import DaemonConnectionError, ReconnectingClient
from tui.messages import ConnectionChanged, DaemonEvent, PopReady

log = logging.getLogger(__name__)

TOPICS = ("call", "agent", "queue")
FAILED: Any = object()  # what rpc() returns when the daemon refused or is unreachable

BackendFactory = Callable[..., Any]


def default_backend(
    socket: Path,
    auth: tuple[str, str],
    on_event: Callable[[dict[str, Any]], Any],
    on_state: Callable[..., Any],
) -> ReconnectingClient:
    return ReconnectingClient(
        socket, auth=auth, topics=TOPICS, on_event=on_event, on_state=on_state, client_name="ccd-agent"
    )


class AgentApp(App[None]):
    """The agent terminal. `now` and `tz` are injectable so snapshots are deterministic."""

    CSS_PATH = "agent.tcss"
    TITLE = "ccd 坐席 agent"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        socket_path: str | Path,
        *,
        user: str | None = None,
        password: str | None = None,
        keys: dict[str, str] | None = None,
        now: Callable[[], float] | None = None,
        tz: tzinfo | None = None,
        backend_factory: BackendFactory | None = None,
    ) -> None:
        super().__init__()
        self.socket_path = Path(socket_path)
        self.initial_user = user
        self.initial_password = password
        self.keys_config = keymap(keys)
        self.now: Callable[[], float] = now or time.time
        self.tz = tz
        self.backend_factory = backend_factory or default_backend
        self.backend: Any = None
        self.model = AgentModel(login=user or "")
        self.connection = "idle"
        self.user_info: dict[str, Any] = {}
        self.drafts: dict[str, dict[str, Any]] = {}  # unsaved notes, kept across reconnects
        self.field_labels: dict[str, str] = {}
        self.fields: list[dict[str, Any]] = []
        self.categories: list[dict[str, Any]] = []
        self.has_agent_commands = True
        self._main_shown = False
        self.pop_painted: Callable[[str | None], None] | None = None  # bench hook

    # --- life cycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.keys_config:
            self.set_keymap(self.keys_config)
        from tui.agent.screens.login import LoginScreen

        self.push_screen(LoginScreen(self.initial_user or "", str(self.socket_path)))
        if self.initial_user and self.initial_password is not None:
            self.begin_session(self.initial_user, self.initial_password, self.socket_path)

    def begin_session(self, user: str, password: str, socket: str | Path) -> None:
        """Connect and log in; the connection then lives (and reconnects) by itself."""
        if self.backend is not None:
            self.backend.stop()
        self.socket_path = Path(socket)
        self.model = AgentModel(login=user)
        self._main_shown = False
        self.backend = self.backend_factory(
            self.socket_path,
            (user, password),
            lambda event: self.post_message(DaemonEvent(str(event.get("event")), event.get("data") or {})),
            lambda state, info: self.post_message(ConnectionChanged(state, info)),
        )
        self._run_backend(self.backend)

    @work(exclusive=True, group="daemon", exit_on_error=False)
    async def _run_backend(self, backend: Any) -> None:
        try:
            await backend.run()
        except RpcError:
            pass  # reported through on_state("failed")

    def end_session(self) -> None:
        """Log out: hang up the socket and go back to the login screen."""
        if self.backend is not None:
            self.backend.stop()
            self.backend = None
        self.connection = "idle"
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if self._main_shown:
            self.pop_screen()
            self._main_shown = False

    # --- talking to the daemon ----------------------------------------------------------------

    async def rpc(self, cmd: str, /, quiet: tuple[str, ...] = (), **args: Any) -> Any:
        """One request; a refusal or a lost connection becomes a notification and returns FAILED."""
        backend = self.backend
        if backend is None:
            self.notify("Not connected to the daemon.", title=cmd, severity="error")
            return FAILED
        try:
            return await backend.call(cmd, args)
        except RpcError as exc:
            if exc.code not in quiet:
                hint = " (this daemon does not have it yet)" if exc.code == E_UNKNOWN_COMMAND else ""
                self.notify(f"{exc.message}{hint}", title=f"{cmd}: {describe(exc.code)}", severity="error")
            self.last_error = exc
            return FAILED
        except (DaemonConnectionError, ConnectionError, TimeoutError) as exc:
            self.last_error = exc
            self.notify(f"{exc}", title=f"{cmd}: not sent", severity="error")
            return FAILED

    async def rpc_raw(self, cmd: str, /, **args: Any) -> Any:
        """A request whose errors the caller handles itself (forms with inline validation)."""
        if self.backend is None:
            raise DaemonConnectionError("not connected to the daemon")
        return await self.backend.call(cmd, args)

    # --- events -------------------------------------------------------------------------------

    @on(ConnectionChanged)
    def _connection_changed(self, message: ConnectionChanged) -> None:
        self.connection = message.state
        if message.state == "syncing":
            user = message.info.get("user") or {}
            self.user_info = user
            self.model.extension = user.get("extension")
            self.model.name = user.get("name") or ""
            self.model.call = None  # the snapshot that follows rebuilds it
        elif message.state == "connected" and not self._main_shown:
            from tui.agent.screens.main import MainScreen

            self._main_shown = True
            self.push_screen(MainScreen())
        elif message.state == "failed" and not self._main_shown:
            self.backend = None
        for screen in self.screen_stack:
            handler = getattr(screen, "connection_changed", None)
            if handler is not None:
                handler(message.state, message.info)

    @on(DaemonEvent)
    def _daemon_event(self, message: DaemonEvent) -> None:
        changed = self.model.on_event(message.name, message.data, self.now())
        main = self._main()
        if main is not None:
            main.model_changed(changed, message.name, message.data)

    def _main(self) -> Any:
        from tui.agent.screens.main import MainScreen

        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    @on(PopReady)
    def _pop_ready(self, message: PopReady) -> None:
        main = self._main()
        if main is not None:
            main.show_pop(message.bundle)
        if self.pop_painted is not None:
            self.call_after_refresh(self.pop_painted, message.call)
