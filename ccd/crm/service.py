"""CRM logic above the repositories: the screen pop and the views the agent terminal shows.

The repositories answer one question each (customers by number, a customer's notes, ...);
an agent's screen needs several at once, the moment a call is offered. `CrmService.pop`
assembles that bundle — card(s), the number's location and carrier, the last three contacts
with the first words of each note (seed 002: 最近3次来电信息备注的前20个字), open follow-ups,
recent orders, call history with recordings, voicemails and survey scores, and what the caller
did in the IVR — with a handful of indexed queries, and returns plain JSON-ready dicts so the
socket layer only has to send them.

No SQL here (that stays in `ccd/store/`), no clock reads except through the store's clock.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccd.crm.timeline import timeline as _timeline
from ccd.store.models import Call, Customer, CustomField, Note, NoteCategory, Order, Recording, Reminder

if TYPE_CHECKING:
    from ccd.store import Store

log = logging.getLogger(__name__)

EXCERPT = 20  # seed 002: the first 20 characters of each note
LAST_CONTACTS = 3
POP_CALLS = 10
POP_ORDERS = 3
MAX_CUSTOMERS = 20  # cards in a shared-number picker


# --- serialisers: records -> JSON-ready dicts ----------------------------------------------------


def customer_dict(c: Customer) -> dict[str, Any]:
    """A customer card as the socket sends it (numbers and contacts inline)."""
    return {
        "id": c.id,
        "name": c.name,
        "company": c.company,
        "level": c.level,
        "vip": c.vip,
        "tags": list(c.tags),
        "gender": c.gender,
        "birthday": c.birthday,
        "address": c.address,
        "email": c.email,
        "owner": c.owner,
        "custom": dict(c.custom),
        "created": c.created,
        "updated": c.updated,
        "numbers": [
            {"id": n.id, "number": n.raw, "e164": n.e164, "national": n.national, "label": n.label}
            for n in c.numbers
        ],
        "contacts": [
            {
                "id": k.id,
                "name": k.name,
                "title": k.title,
                "email": k.email,
                "numbers": [n.raw for n in k.numbers],
            }
            for k in c.contacts
        ],
    }


def note_dict(n: Note) -> dict[str, Any]:
    return {
        "id": n.id,
        "customer": n.customer_id,
        "call": n.call_uniqueid,
        "author": n.author,
        "category": n.category,
        "status": n.status,
        "text": n.text,
        "excerpt": excerpt(n.text),
        "follow_up_at": n.follow_up_at,
        "created": n.created,
        "updated": n.updated,
    }


def excerpt(text: str, n: int = EXCERPT) -> str:
    """The first `n` characters of a note on one line, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[:n] + "…"


def order_dict(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "customer": o.customer_id,
        "no": o.no,
        "status": o.status,
        "created": o.created,
        "total": o.total,
        "author": o.author,
        "note": o.note,
        "lines": [
            {"line": ln.line, "product": ln.product_id, "sku": ln.sku, "name": ln.name, "qty": ln.qty,
             "price": ln.price, "amount": ln.amount}
            for ln in o.lines
        ],
    }  # fmt: skip


def recording_dict(r: Recording) -> dict[str, Any]:
    return {"id": r.id, "call": r.call_uniqueid, "path": r.path, "start": r.start, "duration": r.duration}


def call_dict(c: Call) -> dict[str, Any]:
    """A call in a history list: who, when, outcome, agent, IVR path, wait, survey, recordings."""
    return {
        "call": c.uniqueid,
        "direction": c.direction,
        "start": c.start,
        "answer": c.answer,
        "end": c.end,
        "billsec": c.billsec,
        "src": c.src,
        "dst": c.dst,
        "caller_name": c.caller_name,
        "queue": c.queue,
        "agent": c.agent,
        "disposition": c.disposition,
        "ivr_path": c.ivr_path,
        "wait": c.wait_time,
        "survey_score": c.survey_score,
        "customer": c.customer_id,
        "recordings": [recording_dict(r) for r in c.recordings],
    }


def reminder_dict(r: Reminder) -> dict[str, Any]:
    return {
        "id": r.id,
        "user": r.user,
        "customer": r.customer_id,
        "note": r.note_id,
        "kind": r.kind,
        "due": r.due,
        "text": r.text,
        "done": r.done,
    }


def field_dict(f: CustomField) -> dict[str, Any]:
    return {**asdict(f), "choices": list(f.choices)}


def category_dict(c: NoteCategory) -> dict[str, Any]:
    return asdict(c)


def _ivr_path(raw: Any) -> list[str]:
    """The caller's IVR choices as a list, whether the engine sent a list or the CDR a string."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [str(x) for x in raw]
    text = str(raw).strip()
    if not text:
        return []
    for sep in (">", ",", "|", " "):
        if sep in text:
            return [p.strip() for p in text.split(sep) if p.strip()]
    return [text]


# --- the service ---------------------------------------------------------------------------------


class CrmService:
    """What the CRM socket commands and the agent terminal need, over one `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- the screen pop ------------------------------------------------------------------------------

    async def pop(
        self, number: str, *, call: dict[str, Any] | None = None, customer_id: int | None = None
    ) -> dict[str, Any]:
        """Everything the agent should see when `number` calls, before anyone says hello.

        `call` is the `call.offered` event's data (IVR choices, wait, queue) when there is one.
        With several customers on the number the bundle carries every card for a picker and the
        story of none of them, unless `customer_id` picks one. An unknown caller gets an empty
        `customers` list plus the number's location, so the agent can file a new customer.
        """
        store = self.store
        info = store.plan.normalise(number or "")
        found: list[Customer] = []
        if customer_id is not None:
            found = [await store.customers.get(customer_id)]
        elif info.present and info.key:
            found = (await store.customers.find_by_number(number))[:MAX_CUSTOMERS]
        offer = call or {}
        bundle: dict[str, Any] = {
            "number": number,
            "e164": info.e164,
            "national": info.national,
            "kind": info.kind,
            "present": info.present,
            "location": offer.get("location") or info.location,
            "carrier": info.carrier,
            "customers": [customer_dict(c) for c in found],
            "customer": found[0].id if len(found) == 1 else None,
            "contacts": [],
            "follow_ups": [],
            "orders": [],
            "calls": [],
            "voicemails": [],
            "surveys": [],
            "offer": {
                "call": offer.get("call") or offer.get("uniqueid"),
                "queue": offer.get("queue"),
                "agent": offer.get("agent"),
                "ivr_path": _ivr_path(offer.get("ivr_path")),
                "wait": offer.get("wait"),
                "caller_name": offer.get("name") or offer.get("caller_name"),
            },
        }
        if len(found) > 1:
            return bundle
        if found:
            c = found[0]
            keys = [n.e164 for n in c.numbers]
            calls = await store.calls.for_customer(c.id, list(dict.fromkeys(keys)), POP_CALLS)
            notes = await store.notes.list_for_customer(c.id, 50)
            follow_ups = [n for n in notes if n.status == "follow_up"]
            if len(notes) == 50:  # an old open follow-up may lie beyond the latest 50
                follow_ups = await store.notes.open_follow_ups(c.id)
            orders = await store.orders.recent(c.id, POP_ORDERS)
        else:
            calls = await store.calls.by_number(number, POP_CALLS) if info.present else []
            notes, follow_ups, orders = [], [], []
        current = bundle["offer"]["call"]
        calls = [c for c in calls if c.uniqueid != current]
        bundle["contacts"] = last_contacts(calls, notes)
        bundle["follow_ups"] = [note_dict(n) for n in follow_ups]
        bundle["orders"] = [order_dict(o) for o in orders]
        bundle["calls"] = [call_dict(c) for c in calls]
        from ccd.store.callcenter import CallCenterStore

        messages = await CallCenterStore(store).voicemail.for_calls([c.uniqueid for c in calls])
        bundle["voicemails"] = [m.as_dict() for m in messages]
        bundle["surveys"] = [
            {"call": c.uniqueid, "start": c.start, "score": c.survey_score}
            for c in calls
            if c.survey_score is not None
        ]
        return bundle

    # --- views -----------------------------------------------------------------------------------

    async def timeline(self, customer_id: int, limit: int = 200) -> list[dict[str, Any]]:
        """The customer's whole story, oldest first, as {ts, kind, ref, summary, item}."""
        out: list[dict[str, Any]] = []
        for it in await _timeline(self.store, customer_id, limit):
            item: dict[str, Any]
            if it.kind == "call":
                item = call_dict(it.item)  # type: ignore[arg-type]
            elif it.kind == "note":
                item = note_dict(it.item)  # type: ignore[arg-type]
            elif it.kind == "order":
                item = order_dict(it.item)  # type: ignore[arg-type]
            else:
                item = recording_dict(it.item)  # type: ignore[arg-type]
            out.append({"ts": it.ts, "kind": it.kind, "ref": it.ref, "summary": it.summary, "item": item})
        return out

    def today(self) -> date:
        """The office's calendar day by the store's clock."""
        return datetime.fromtimestamp(self.store.clock.wall(), self.store.tz).date()

    async def reminders(self, user: str, day: date | None = None) -> list[dict[str, Any]]:
        """`user`'s reminders for `day` (default today): overdue and due ones, then birthdays."""
        return [reminder_dict(r) for r in await self.store.reminders.due(user, day or self.today())]

    async def open_reminder_ids(self, user: str) -> set[int]:
        """Ids of every open reminder of `user`, whenever due (to check ownership before ticking one)."""
        far = self.today() + timedelta(days=3650)
        return {r.id for r in await self.store.reminders.due(user, far) if r.id is not None}

    async def missed(self, days: float = 7.0, limit: int = 100) -> list[dict[str, Any]]:
        """Inbound calls nobody answered whose number has not been reached since, newest first.

        A number counts as reached again when a later inbound call from it was answered or
        any later outbound call went to it. Withheld numbers cannot be called back and are left
        out. Each row carries the customer's name when the number is known.
        """
        now = self.store.clock.wall()
        calls = await self.store.calls.range(now - days * 86400.0, now + 1.0)
        by_key: dict[str, list[Call]] = {}
        plan = self.store.plan
        for c in calls:
            peer = c.dst if c.direction == "out" else c.src
            if not peer:
                continue
            info = plan.index_forms(peer)
            if not info.present or not info.key:
                continue
            by_key.setdefault(info.key, []).append(c)
        rows: list[dict[str, Any]] = []
        for group in by_key.values():
            group.sort(key=lambda c: c.start)
            last_missed: Call | None = None
            missed_count = 0
            for c in group:
                if c.end is None:
                    continue
                if c.direction == "in" and c.answer is None:
                    last_missed, missed_count = c, missed_count + 1
                elif c.direction == "out" or c.answer is not None:
                    last_missed, missed_count = None, 0
            if last_missed is not None:
                row = call_dict(last_missed)
                row["attempts"] = missed_count
                rows.append(row)
        rows.sort(key=lambda r: r["start"], reverse=True)
        rows = rows[:limit]
        for row in rows:
            found = await self.store.customers.find_by_number(row["src"])
            row["customer_name"] = found[0].name if found else None
            row["customer"] = found[0].id if found else row.get("customer")
        return rows


def last_contacts(calls: list[Call], notes: list[Note], n: int = LAST_CONTACTS) -> list[dict[str, Any]]:
    """The last `n` contacts, newest first: each call with its notes, and notes filed outside a call.

    This is the seed's "last three calls with the first 20 characters of their note": every
    item names its note ids so the agent can open one in full with a key.
    """
    by_call: dict[str, list[Note]] = {}
    loose: list[Note] = []
    for note in notes:
        if note.call_uniqueid:
            by_call.setdefault(note.call_uniqueid, []).append(note)
        else:
            loose.append(note)
    items: list[tuple[float, dict[str, Any]]] = []
    seen_calls = {c.uniqueid for c in calls}
    for c in calls:
        attached = by_call.get(c.uniqueid, [])
        items.append(
            (
                c.start,
                {
                    "ts": c.start,
                    "kind": "call",
                    "call": c.uniqueid,
                    "direction": c.direction,
                    "disposition": c.disposition,
                    "agent": c.agent,
                    "billsec": c.billsec,
                    "notes": [_note_brief(x) for x in attached],
                },
            )
        )
    # notes of calls not in the list (older, or on another number) count as contacts themselves
    for call_id, attached in by_call.items():
        if call_id not in seen_calls:
            loose.extend(attached)
    for note in loose:
        items.append(
            (
                note.created,
                {
                    "ts": note.created,
                    "kind": "note",
                    "call": note.call_uniqueid,
                    "direction": None,
                    "disposition": None,
                    "agent": note.author,
                    "billsec": None,
                    "notes": [_note_brief(note)],
                },
            )
        )
    items.sort(key=lambda x: x[0], reverse=True)
    return [d for _, d in items[:n]]


def _note_brief(n: Note) -> dict[str, Any]:
    return {
        "id": n.id,
        "category": n.category,
        "status": n.status,
        "excerpt": excerpt(n.text),
        "author": n.author,
        "created": n.created,
    }


__all__ = [
    "CrmService",
    "call_dict",
    "customer_dict",
    "excerpt",
    "last_contacts",
    "note_dict",
    "order_dict",
    "reminder_dict",
]
