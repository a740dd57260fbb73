"""A customer's whole story in time order: calls, notes, orders and recordings merged.

This is what the agent's customer panel and the screen pop's history show (issue 5 §3, §5):
every kind of contact in one list, so "what happened last time" is one glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ccd.store.models import Call, Note, Order, Recording

if TYPE_CHECKING:
    from ccd.store import Store

Kind = Literal["call", "note", "order", "recording"]


@dataclass(frozen=True, slots=True)
class TimelineItem:
    ts: float
    kind: Kind
    ref: str  # call uniqueid, note id, order no, recording id — what to open on a key press
    summary: str
    item: Call | Note | Order | Recording


def _call_summary(c: Call) -> str:
    arrow = {"in": "来电", "out": "去电", "internal": "内部"}.get(c.direction, c.direction)
    who = c.src if c.direction != "out" else c.dst
    tail = f" {c.billsec}s" if c.billsec else ""
    return f"{arrow} {who or ''} {c.disposition or '通话中'}{tail}".strip()


async def timeline(store: Store, customer_id: int, limit: int = 200) -> list[TimelineItem]:
    """The latest `limit` events of a customer, oldest first (so the newest is at the bottom).

    Calls are those linked to the customer or made from/to any of its numbers.
    """
    await store.customers.get(customer_id)  # NotFoundError for an unknown id
    keys = await store.customers.number_keys(customer_id)
    calls = await store.calls.for_customer(customer_id, keys, limit)
    notes = await store.notes.list_for_customer(customer_id, limit)
    orders = await store.orders.recent(customer_id, limit)
    items: list[TimelineItem] = [
        TimelineItem(c.start, "call", c.uniqueid, _call_summary(c), c) for c in calls
    ]
    items += [
        TimelineItem(n.created, "note", str(n.id), f"[{n.category or '-'}] {n.text[:20]}", n) for n in notes
    ]
    items += [
        TimelineItem(o.created, "order", o.no, f"订单 {o.no} ¥{o.total / 100:.2f} {o.status}", o)
        for o in orders
    ]
    for c in calls:
        items += [
            TimelineItem(r.start, "recording", str(r.id), f"录音 {r.duration:.0f}s", r) for r in c.recordings
        ]
    order = {"call": 0, "recording": 1, "note": 2, "order": 3}
    items.sort(key=lambda i: (i.ts, order[i.kind]))
    return items[-limit:]
