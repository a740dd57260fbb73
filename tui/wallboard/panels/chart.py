"""Calls per 15 minutes: today against yesterday, as two aligned bar rows."""

from __future__ import annotations

from typing import Any

from rich.text import Text

BARS = " ▁▂▃▄▅▆▇█"


def _bars(values: list[int], top: int, width: int) -> str:
    return "".join(BARS[min(8, round(8 * v / top))] if top else " " for v in values[:width])


def render(state: Any, now: float, width: int = 96) -> Text:
    chart = (state.stats.get("chart") or {}) if state.stats else {}
    today = list(chart.get("today") or [])
    yesterday = list(chart.get("yesterday") or [])
    if not today and not yesterday:
        return Text("calls per 15 min: waiting for figures…", style="dim")
    # one column per 15 minutes from 07:00 when the panel is narrow, else the whole day
    start = 28 if width < 96 + 6 else 0
    span = max(8, min(96 - start, width - 6))
    top = max([1, *today[start : start + span], *yesterday[start : start + span]])
    out = Text()
    out.append("today ", style="bold")
    out.append(_bars(today[start:], top, span), style="bold cyan")
    out.append(f"  {sum(today)}\n", style="bold")
    out.append("yday  ", style="dim")
    out.append(_bars(yesterday[start:], top, span), style="grey50")
    out.append(f"  {sum(yesterday)}", style="dim")
    return out
