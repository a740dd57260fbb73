"""The screen pop: who is calling and their whole story, painted before the agent says hello.

`render_card` and `render_story` turn the daemon's `crm.pop` bundle into Rich renderables
(pure functions, dolphie's panel style), so painting is one `update()` per column.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

LEVELS = {"normal": "普通", "silver": "银卡", "gold": "金卡", "vip": "VIP"}
STATUS = {"new": "新建", "follow_up": "后续", "closed": "结束"}


def when(ts: float | None, tz: tzinfo | None = None) -> str:
    if not ts:
        return "-"
    return datetime.fromtimestamp(ts, tz).strftime("%m-%d %H:%M")


def yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def render_card(
    bundle: dict[str, Any] | None, labels: dict[str, str] | None = None, tz: tzinfo | None = None
) -> RenderableType:
    """The caller: card(s), number with location and carrier, what they did in the IVR."""
    if not bundle:
        return Text("等待来电 Waiting for a call…", style="dim")
    labels = labels or {}
    parts: list[RenderableType] = []
    number = Text()
    number.append(bundle.get("number") or "未知号码", style="bold")
    where = " ".join(x for x in (bundle.get("location"), bundle.get("carrier")) if x)
    if where:
        number.append(f"  {where}")
    if not bundle.get("present", True):
        number.append("  号码隐藏 withheld", style="italic")
    parts.append(number)
    offer = bundle.get("offer") or {}
    if offer.get("ivr_path") or offer.get("wait") is not None or offer.get("queue"):
        t = Text("IVR ", style="dim")
        t.append(" › ".join(offer.get("ivr_path") or []) or "-")
        if offer.get("queue"):
            t.append(f"  队列 {offer['queue']}")
        if offer.get("wait") is not None:
            t.append(f"  等待 {float(offer['wait']):.0f}s")
        parts.append(t)
    customers = bundle.get("customers") or []
    if not customers:
        parts.append(
            Text("新客户 Unknown caller — the form below is filled in with the number", style="yellow")
        )
        return Group(*parts)
    if len(customers) > 1:
        parts.append(Text(f"{len(customers)} 个客户共用此号码 — press x to pick", style="yellow"))
        for i, c in enumerate(customers[:9], 1):
            parts.append(Text(f" [{i}] {c['name']}  {c.get('company') or ''}"))
        return Group(*parts)
    c = customers[0]
    name = Text()
    name.append(c["name"], style="bold reverse" if c.get("vip") else "bold")
    name.append(
        f"  {LEVELS.get(c.get('level'), c.get('level') or '')}", style="bold magenta" if c.get("vip") else ""
    )
    if c.get("company") and c["company"] != c["name"]:
        name.append(f"  {c['company']}")
    parts.append(name)
    if c.get("tags"):
        parts.append(Text("标签 " + " ".join(f"#{t}" for t in c["tags"]), style="cyan"))
    extra = []
    if c.get("birthday"):
        extra.append(f"生日 {c['birthday']}")
    if c.get("owner"):
        extra.append(f"负责 {c['owner']}")
    for k, v in (c.get("custom") or {}).items():
        extra.append(f"{labels.get(k, k)} {v}")
    if extra:
        parts.append(Text("  ".join(extra)))
    nums = "  ".join(
        f"{n['number']}{'(' + n['label'] + ')' if n.get('label') else ''}" for n in c.get("numbers", [])
    )
    if nums:
        parts.append(Text(f"电话 {nums}", style="dim"))
    return Group(*parts)


def render_story(bundle: dict[str, Any] | None, tz: tzinfo | None = None) -> RenderableType:
    """Last three contacts (keys 1-3 open each note), open follow-ups, orders, calls, surveys."""
    if not bundle or (not bundle.get("customers") and not bundle.get("calls")):
        return Text("")
    parts: list[RenderableType] = [_heading("最近联系 Last contacts")]
    contacts = bundle.get("contacts") or []
    if not contacts:
        parts.append(Text(" -", style="dim"))
    for i, item in enumerate(contacts, 1):
        line = Text(f" [{i}] {when(item.get('ts'), tz)} ")
        if item["kind"] == "call":
            arrow = "来电" if item.get("direction") == "in" else "去电"
            line.append(
                f"{arrow} {item.get('disposition') or ''} {item.get('agent') or ''}".rstrip(), style="dim"
            )
        for n in item.get("notes") or []:
            line.append(
                f" [{n.get('category') or '-'}|{STATUS.get(n['status'], n['status'])}] ", style="cyan"
            )
            line.append(n["excerpt"])
        parts.append(line)
    follow = bundle.get("follow_ups") or []
    if follow:
        parts.append(_heading("待跟进 Open follow-ups"))
        for n in follow[:5]:
            parts.append(Text(f" • {when(n.get('follow_up_at'), tz)} {n['excerpt']}", style="yellow"))
    orders = bundle.get("orders") or []
    if orders:
        parts.append(_heading("订单 Orders"))
        for o in orders:
            items = ", ".join(f"{ln['name']}×{ln['qty']}" for ln in o.get("lines", []))
            parts.append(
                Text(f" {o['no']} {when(o['created'], tz)} {yuan(o['total'])} {o['status']}  {items}")
            )
    calls = bundle.get("calls") or []
    if calls:
        parts.append(_heading("通话记录 Calls"))
        table = Table.grid(padding=(0, 1))
        for c in calls[:6]:
            rec = "♪" * len(c.get("recordings") or [])
            score = f"★{c['survey_score']}" if c.get("survey_score") is not None else ""
            arrow = "←" if c.get("direction") == "in" else "→"
            table.add_row(
                when(c.get("start"), tz), arrow, c.get("disposition") or "", c.get("agent") or "",
                f"{c.get('billsec') or 0}s", score, rec,
            )  # fmt: skip
        parts.append(table)
    vms = bundle.get("voicemails") or []
    if vms:
        parts.append(Text(f"留言 Voicemails: {len(vms)}", style="bold yellow"))
    return Group(*parts)


class ScreenPop(Horizontal):
    """Two columns: the caller on the left, their story on the right."""

    DEFAULT_CSS = """
    ScreenPop { height: auto; min-height: 6; }
    ScreenPop > #pop-card { width: 1fr; padding: 0 1; height: auto; }
    ScreenPop > #pop-story { width: 1fr; padding: 0 1; height: auto; }
    """

    def __init__(self, tz: Callable[[], tzinfo | None] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.bundle: dict[str, Any] | None = None
        self.labels: dict[str, str] = {}
        self._tz = tz or (lambda: None)

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(render_card(None), id="pop-card")
        yield VerticalScroll(Static("", id="pop-story-text"), id="pop-story")

    def show(self, bundle: dict[str, Any] | None) -> None:
        """Paint a bundle (None clears the pop)."""
        self.bundle = bundle
        tz = self._tz()
        self.query_one("#pop-card", Static).update(render_card(bundle, self.labels, tz))
        self.query_one("#pop-story-text", Static).update(render_story(bundle, tz))
