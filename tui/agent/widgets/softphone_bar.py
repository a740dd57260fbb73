"""The softphone bar (seed 003's 坐席状态条): state with time in state, the call, the connection.

Rendering is a pure function of the model and the time (`render_bar`), so snapshot tests
freeze the clock and get the same picture every run; the widget only re-renders once a second.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from tui.agent.model import REASONS, STATE_LABELS, AgentModel

STATE_STYLE = {
    "logged_out": "white on grey30",
    "ready": "bold black on green",
    "not_ready": "bold white on dark_orange3",
    "ringing": "bold black on yellow",
    "on_call": "bold white on red3",
    "hold": "bold white on magenta",
    "wrap_up": "bold black on cyan",
}


def clock_text(seconds: float) -> str:
    """ "mm:ss", or "h:mm:ss" past an hour; never negative."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def render_bar(model: AgentModel, now: float, connection: str = "connected") -> Text:
    """One or two lines: [state mm:ss] ext · agent │ call with caller and timer."""
    label = STATE_LABELS.get(model.state, model.state)
    if model.state == "not_ready" and model.reason:
        label += f" · {REASONS.get(model.reason, model.reason)}"
    t = Text()
    t.append(f" {label} {clock_text(now - model.since)} ", style=STATE_STYLE.get(model.state, "reverse"))
    t.append(f"  {model.name or model.login}", style="bold")
    t.append(f" ({model.login})  分机 ext {model.extension or '-'}")
    call = model.call
    if call is not None:
        who = call.name or "未知来电 unknown"
        t.append("  │  ")
        arrow = "☎ ←" if call.direction == "in" else "☎ →"
        t.append(f"{arrow} {who} {call.number}", style="bold")
        if call.location:
            t.append(f" {call.location}")
        if call.state == "up" and call.answered_at is not None:
            t.append(f"  通话 {clock_text(now - call.answered_at)}")
        elif call.state == "hold":
            t.append("  保持 on hold", style="magenta")
        else:
            t.append(f"  振铃 {clock_text(now - call.offered_at)}", style="yellow")
    elif model.state == "wrap_up" and model.last_call is not None:
        t.append(f"  │  整理 {model.last_call.name or model.last_call.number}", style="cyan")
    if connection != "connected":
        t.append(f"  │  ⚠ {connection}", style="bold red")
    return t


class SoftphoneBar(Static):
    """Shows the agent's state; call `refresh_bar()` after the model changes."""

    DEFAULT_CSS = """
    SoftphoneBar { height: 1; background: $panel; }
    """

    def __init__(self, model: AgentModel, now: Callable[[], float], **kw: object) -> None:
        super().__init__("", **kw)  # type: ignore[arg-type]
        self.model = model
        self.now = now
        self.connection = "connected"

    def on_mount(self) -> None:
        self.refresh_bar()
        self.set_interval(1.0, self.refresh_bar)

    def refresh_bar(self) -> None:
        self.update(render_bar(self.model, self.now(), self.connection))
