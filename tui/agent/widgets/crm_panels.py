"""Side panels of the main screen: today's reminders and calls to return, at a glance.

Pure renderers plus one small widget; the full lists are screens of their own (keys u, m).
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from tui.agent.widgets.screen_pop import when

KIND = {"follow_up": "回访", "birthday": "生日", "memo": "备忘"}


def render_side(
    reminders: list[dict[str, Any]], missed: list[dict[str, Any]], tz: tzinfo | None = None
) -> RenderableType:
    parts: list[RenderableType] = [Text(f"今日提醒 Today ({len(reminders)})  u", style="bold underline")]
    for r in reminders[:6]:
        parts.append(
            Text(
                f" {when(r['due'], tz)[6:]} {KIND.get(r['kind'], r['kind'])} {r['text']}",
                overflow="ellipsis",
                no_wrap=True,
            )
        )
    if not reminders:
        parts.append(Text(" -", style="dim"))
    parts.append(Text(f"未接来电 Missed ({len(missed)})  m", style="bold underline"))
    for m in missed[:6]:
        who = m.get("customer_name") or m.get("caller_name") or ""
        parts.append(Text(f" {when(m['start'], tz)} {m['src']} {who}", overflow="ellipsis", no_wrap=True))
    if not missed:
        parts.append(Text(" -", style="dim"))
    return Group(*parts)


class SidePanel(Static):
    """Reminders due today and missed calls; `show()` repaints."""

    DEFAULT_CSS = """
    SidePanel { width: 36; padding: 0 1; border-left: solid $primary-darken-2; height: 1fr; }
    """

    def show(
        self, reminders: list[dict[str, Any]], missed: list[dict[str, Any]], tz: tzinfo | None = None
    ) -> None:
        self.update(render_side(reminders, missed, tz))
