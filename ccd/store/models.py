"""Plain records the repositories return: frozen, so a caller cannot mistake one for a live row.

Money is in fen (1/100 yuan) as an int, so totals never suffer float rounding.
Timestamps are Unix floats from `Clock.wall()`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

ROLES = ("agent", "supervisor", "admin")
LEVELS = ("normal", "silver", "gold", "vip")
NOTE_STATUSES = ("new", "follow_up", "closed")
ORDER_STATUSES = ("new", "paid", "shipped", "done", "cancelled")
REMINDER_KINDS = ("follow_up", "birthday", "memo")
DIRECTIONS = ("in", "out", "internal")
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
FIELD_TYPES = ("text", "int", "date", "choice")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    name: str
    role: str
    agent_no: str | None
    extension: str | None
    disabled: bool
    created: float

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> User:
        return cls(
            r["id"],
            r["login"],
            r["name"],
            r["role"],
            r["agent_no"],
            r["extension"],
            bool(r["disabled"]),
            r["created"],
        )


@dataclass(frozen=True, slots=True)
class Leg:
    call_uniqueid: str
    seq: int
    channel: str
    peer: str | None
    kind: str
    start: float
    answer: float | None
    end: float | None
    disposition: str | None
    agent: str | None

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Leg:
        return cls(*(r[k] for k in LEG_COLUMNS))


LEG_COLUMNS = (
    "call_uniqueid",
    "seq",
    "channel",
    "peer",
    "kind",
    "start",
    "answer",
    "end",
    "disposition",
    "agent",
)


@dataclass(frozen=True, slots=True)
class Recording:
    id: int
    call_uniqueid: str | None
    leg: int | None
    path: str
    format: str
    channels: int
    start: float
    duration: float
    bytes: int
    deleted_at: float | None

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Recording:
        return cls(*(r[k] for k in RECORDING_COLUMNS))


RECORDING_COLUMNS = (
    "id", "call_uniqueid", "leg", "path", "format", "channels", "start", "duration", "bytes", "deleted_at",
)  # fmt: skip

CALL_COLUMNS = (
    "uniqueid", "linkedid", "direction", "start", "answer", "end", "duration", "billsec", "src", "dst",
    "clid", "caller_name", "location", "channel", "dstchannel", "trunk", "queue", "agent", "disposition",
    "userfield", "ivr_path", "wait_time", "survey_score", "customer_id", "peer_key",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Call:
    """One CDR row (Asterisk field names) with its legs and recordings."""

    uniqueid: str
    linkedid: str | None
    direction: str
    start: float
    answer: float | None
    end: float | None
    duration: int | None
    billsec: int | None
    src: str | None
    dst: str | None
    clid: str | None
    caller_name: str | None
    location: str | None
    channel: str | None
    dstchannel: str | None
    trunk: str | None
    queue: str | None
    agent: str | None
    disposition: str | None
    userfield: str | None
    ivr_path: str | None
    wait_time: float | None
    survey_score: int | None
    customer_id: int | None
    peer_key: str | None
    legs: tuple[Leg, ...] = ()
    recordings: tuple[Recording, ...] = ()

    @classmethod
    def from_row(
        cls, r: sqlite3.Row, legs: tuple[Leg, ...] = (), recordings: tuple[Recording, ...] = ()
    ) -> Call:
        return cls(*(r[k] for k in CALL_COLUMNS), legs=legs, recordings=recordings)  # type: ignore[misc]

    def as_cdr(self) -> dict[str, Any]:
        """The CDR fields as a plain dict (for `ccd cdr --json` and the socket)."""
        d = {k: getattr(self, k) for k in CALL_COLUMNS if k != "peer_key"}
        d["legs"] = [{k: getattr(leg, k) for k in LEG_COLUMNS if k != "call_uniqueid"} for leg in self.legs]
        return d


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    ts: float
    callid: str | None
    queue: str | None
    agent: str | None
    event: str
    data: tuple[str, ...]

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> JournalEntry:
        data = [r[f"data{i}"] for i in range(1, 6)]
        while data and data[-1] is None:
            data.pop()
        return cls(
            r["id"], r["ts"], r["callid"], r["queue"], r["agent"], r["event"], tuple(d or "" for d in data)
        )


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    id: int
    customer_id: int
    contact_id: int | None
    raw: str
    e164: str
    national: str
    local: str
    label: str | None

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> PhoneNumber:
        return cls(
            r["id"],
            r["customer_id"],
            r["contact_id"],
            r["raw"],
            r["e164"],
            r["national"],
            r["local"],
            r["label"],
        )


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    customer_id: int
    name: str
    title: str | None
    email: str | None
    note: str | None
    numbers: tuple[PhoneNumber, ...] = ()


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: str
    company: str | None
    level: str
    tags: tuple[str, ...]
    gender: str | None
    birthday: str | None
    address: str | None
    email: str | None
    owner: str | None
    custom: dict[str, Any]
    created: float
    updated: float
    numbers: tuple[PhoneNumber, ...] = ()
    contacts: tuple[Contact, ...] = ()

    @property
    def vip(self) -> bool:
        return self.level == "vip"

    @classmethod
    def from_row(
        cls, r: sqlite3.Row, numbers: tuple[PhoneNumber, ...] = (), contacts: tuple[Contact, ...] = ()
    ) -> Customer:
        return cls(
            r["id"], r["name"], r["company"], r["level"], tuple(json.loads(r["tags"])), r["gender"], r["birthday"],
            r["address"], r["email"], r["owner"], json.loads(r["custom"]), r["created"], r["updated"],
            numbers, contacts,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CustomField:
    name: str
    label: str
    type: str
    choices: tuple[str, ...]
    required: bool
    position: int


@dataclass(frozen=True, slots=True)
class NoteCategory:
    name: str
    label: str
    position: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    customer_id: int
    call_uniqueid: str | None
    author: str
    category: str | None
    status: str
    text: str
    follow_up_at: float | None
    created: float
    updated: float

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Note:
        return cls(
            r["id"], r["customer_id"], r["call_uniqueid"], r["author"], r["category"], r["status"], r["text"],
            r["follow_up_at"], r["created"], r["updated"],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    name: str
    price: int  # fen
    disabled: bool


@dataclass(frozen=True, slots=True)
class OrderLine:
    line: int
    product_id: int
    sku: str
    name: str
    qty: int
    price: int  # fen, unit price at the time of the order

    @property
    def amount(self) -> int:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    customer_id: int
    no: str
    status: str
    created: float
    total: int  # fen
    author: str | None
    note: str | None
    lines: tuple[OrderLine, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder row; birthday reminders made on the fly from customers have id None."""

    id: int | None
    user: str
    customer_id: int | None
    note_id: int | None
    kind: str
    due: float
    text: str
    done: bool

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Reminder:
        return cls(
            r["id"],
            r["user"],
            r["customer_id"],
            r["note_id"],
            r["kind"],
            r["due"],
            r["text"],
            bool(r["done"]),
        )
