"""Login: agent ID and password, and an advanced panel to change the socket and test it.

Like the seed's login page (日期/时间/用户名/密码, and 高级 to test the database connection),
but the "database" here is the daemon's socket.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Collapsible, Footer, Input, Label, Static

from tui.client import DaemonClient, DaemonConnectionError


class LoginScreen(Screen[None]):
    """| enter | log in | ctrl+t | test the connection |"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "test", "Test connection", id="login_test"),
        Binding("ctrl+q", "app.quit", "Quit", id="login_quit"),
    ]
    AUTO_FOCUS = "#user"

    def __init__(self, user: str = "", socket: str = "") -> None:
        super().__init__()
        self.user = user
        self.socket = socket
        if user:
            # `ccd agent --user 1001` already says who: the cursor waits in the password field, so
            # the agent types the password and Enter, with no focus change to race on a slow machine.
            self.AUTO_FOCUS = "#password"

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static("ccd 坐席登录 Agent login", id="login-title")
            yield Label("工号 Agent ID")
            yield Input(self.user, placeholder="1001", id="user")
            yield Label("密码 Password")
            yield Input(password=True, id="password")
            yield Button("登录 Log in", id="login", variant="primary")
            with Collapsible(title="高级 Advanced", id="advanced"):
                yield Label("Daemon socket")
                yield Input(self.socket, id="socket")
                with Horizontal(id="test-row"):
                    yield Button("测试连接 Test", id="test")
            yield Static("", id="login-status")
        yield Footer()

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#login-status", Static)
        status.update(text)
        status.set_class(error, "error")

    @on(Input.Submitted, "#user")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Input.Submitted, "#socket")
    @on(Button.Pressed, "#login")
    def _login(self) -> None:
        user = self.query_one("#user", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not user:
            self._status("请输入工号 Enter your agent ID", error=True)
            self.query_one("#user", Input).focus()
            return
        self._status(f"connecting as {user}…")
        self.app.begin_session(user, password, self.query_one("#socket", Input).value.strip())  # type: ignore[attr-defined]

    @on(Button.Pressed, "#test")
    def action_test(self) -> None:
        self._test(self.query_one("#socket", Input).value.strip())

    @work(exclusive=True, group="login-test")
    async def _test(self, path: str) -> None:
        self._status(f"testing {path}…")
        client = DaemonClient(path, client_name="ccd-agent-test")
        try:
            await client.connect(2.0)
            info = await client.hello()
        except (DaemonConnectionError, OSError, TimeoutError) as exc:
            self._status(f"✗ {exc}", error=True)
            return
        except Exception as exc:  # a daemon speaking another protocol
            self._status(f"✗ {exc}", error=True)
            return
        finally:
            await client.close()
        self._status(f"✓ ccd {info.get('version', '?')} (protocol {info.get('protocol')}) at {path}")

    def connection_changed(self, state: str, info: dict[str, Any]) -> None:
        """Progress and errors of the login attempt."""
        if state == "failed":
            err = info.get("error")
            self._status(f"✗ {getattr(err, 'message', err)}", error=True)
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
        elif state == "lost" and self.is_current:
            self._status(f"✗ {info.get('reason')} — retrying in {info.get('retry_in', 0):.1f} s", error=True)
        elif state == "connecting" and self.is_current and info.get("attempt", 1) == 1:
            self._status("connecting…")
