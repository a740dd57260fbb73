"""Everything a screen pop shows for one caller number, gathered in a few bounded queries.

Issue 5 §3: before the agent says hello — who is calling, from where, what they bought,
what they called about last time and what is still open. The daemon calls `screen_pop`
when a call is offered and sends the result with the event; the agent app only paints it.
Unknown numbers still get location and carrier, for the new-customer form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccd.crm.numbers import NumberInfo
from ccd.store.models import Call, Customer, Note, Order

if TYPE_CHECKING:
    from ccd.store import Store

NOTE_PREVIEW = 20  # seed 002: "最近3次来电信息备注的前20个字"


@dataclass(frozen=True, slots=True)
class NotePreview:
    note: Note
    preview: str


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """`customers` has 0 (unknown caller: new-customer form), 1 (the card) or several (a picker).

    The detail fields are filled only when exactly one customer matched.
    """

    number: NumberInfo
    customers: tuple[Customer, ...]
    last_notes: tuple[NotePreview, ...] = ()
    follow_ups: tuple[Note, ...] = ()
    orders: tuple[Order, ...] = ()
    calls: tuple[Call, ...] = field(default=())

    @property
    def customer(self) -> Customer | None:
        return self.customers[0] if len(self.customers) == 1 else None


async def identify(store: Store, raw: str) -> tuple[NumberInfo, list[Customer]]:
    """The number's meaning and the customers who have it (the ≤ 1 ms part of a pop)."""
    info = store.plan.normalise(raw if isinstance(raw, str) else "")
    if not info.present:
        return info, []
    return info, await store.customers.find_by_number(raw)


async def screen_pop(store: Store, raw: str, *, notes: int = 3, orders: int = 3, calls: int = 5) -> ScreenPop:
    """Build the pop for a caller number (see `ScreenPop`)."""
    info, found = await identify(store, raw)
    if len(found) != 1:
        return ScreenPop(info, tuple(found))
    c = found[0]
    last = await store.notes.list_for_customer(c.id, notes)
    keys = [n.e164 for n in c.numbers]
    return ScreenPop(
        info,
        (c,),
        tuple(NotePreview(n, n.text[:NOTE_PREVIEW]) for n in last),
        tuple(await store.notes.open_follow_ups(c.id)),
        tuple(await store.orders.recent(c.id, orders)),
        tuple(await store.calls.for_customer(c.id, keys, calls)),
    )
