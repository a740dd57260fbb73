"""Alerts: SL below target, long waits, lines out of service or ringing without caller ID, disk."""

from __future__ import annotations

from typing import Any

from rich.text import Text

STYLE = {"error": "bold white on red", "warning": "bold black on yellow"}


def render(state: Any, now: float) -> Text:
    alerts = state.alerts(now)
    if not alerts:
        return Text("No alerts", style="green")
    out = Text()
    for i, a in enumerate(alerts):
        if i:
            out.append("\n")
        out.append(" ! ", style=STYLE.get(a.severity, ""))
        out.append(" " + a.text)
    return out
