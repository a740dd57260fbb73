"""Repositories of the call-center logic: voicemail messages, the call firewall and its log,
IVR lookups on orders, and the recordings that retention should remove.

Kept out of `Store` so the call center can grow without touching the spine; build them on
a store with `CallCenterStore(store)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ccd.store.base import Database
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError
from ccd.store.models import Recording

VM_STATUSES = ("new", "saved", "deleted")
FIREWALL_KINDS = ("number", "prefix", "regex", "withheld", "out_of_area")
FIREWALL_ACTIONS = ("reject", "message", "busy", "voicemail", "screen", "allow", "vip")


@dataclass(frozen=True, slots=True)
class VoicemailMessage:
    id: int
    mailbox: str
    call_uniqueid: str | None
    caller: str | None
    path: str
    created: float
    duration: float
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class FirewallRule:
    id: int
    kind: str
    value: str
    action: str
    target: str | None
    note: str | None
    created: float
    hits: int
    last_hit: float | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class Voicemails:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        mailbox: str,
        path: str,
        *,
        caller: str | None = None,
        call_uniqueid: str | None = None,
        duration: float = 0.0,
        created: float | None = None,
    ) -> VoicemailMessage:
        if not mailbox or not path:
            raise InvalidValueError("a voicemail needs a mailbox and a file")
        rowid, _ = await self._db.write(
            "INSERT INTO voicemail(mailbox, call_uniqueid, caller, path, created, duration) VALUES (?, ?, ?, ?, ?, ?)",
            (
                mailbox,
                call_uniqueid,
                caller,
                path,
                self._db.clock.wall() if created is None else created,
                duration,
            ),
        )
        return await self.get(rowid)

    async def get(self, message_id: int) -> VoicemailMessage:
        row = await self._db.fetchone("SELECT * FROM voicemail WHERE id = ?", (message_id,))
        if row is None:
            raise NotFoundError(f"no voicemail {message_id}")
        return VoicemailMessage(*row)

    async def list(
        self, mailbox: str | None = None, *, include_deleted: bool = False
    ) -> list[VoicemailMessage]:
        """New messages first, then saved ones, oldest first within each (how callers hear them)."""
        where, params = ["(status != 'deleted' OR ?)"], [int(include_deleted)]
        if mailbox is not None:
            where.append("mailbox = ?")
            params.append(mailbox)  # type: ignore[arg-type]
        rows = await self._db.fetchall(
            f"SELECT * FROM voicemail WHERE {' AND '.join(where)} "
            "ORDER BY CASE status WHEN 'new' THEN 0 ELSE 1 END, created, id",
            params,
        )
        return [VoicemailMessage(*r) for r in rows]

    async def for_calls(self, uniqueids: list[str]) -> list[VoicemailMessage]:
        """Messages left during these calls (a caller's history), newest first."""
        if not uniqueids:
            return []
        marks = ", ".join("?" for _ in uniqueids)
        rows = await self._db.fetchall(
            f"SELECT * FROM voicemail WHERE call_uniqueid IN ({marks}) AND status != 'deleted' "
            "ORDER BY created DESC, id DESC",
            list(uniqueids),
        )
        return [VoicemailMessage(*r) for r in rows]

    async def set_status(self, message_id: int, status: str) -> None:
        if status not in VM_STATUSES:
            raise InvalidValueError(f"status must be one of {', '.join(VM_STATUSES)}")
        _, n = await self._db.write("UPDATE voicemail SET status = ? WHERE id = ?", (status, message_id))
        if n == 0:
            raise NotFoundError(f"no voicemail {message_id}")

    async def counts(self) -> dict[str, dict[str, int]]:
        rows = await self._db.fetchall(
            "SELECT mailbox, status, count(*) FROM voicemail WHERE status != 'deleted' GROUP BY mailbox, status"
        )
        out: dict[str, dict[str, int]] = {}
        for box, status, n in rows:
            out.setdefault(box, {"new": 0, "saved": 0})[status] = n
        return out


class Firewall:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: str,
        value: str = "",
        action: str = "reject",
        *,
        target: str | None = None,
        note: str | None = None,
    ) -> FirewallRule:
        if kind not in FIREWALL_KINDS:
            raise InvalidValueError(f"kind must be one of {', '.join(FIREWALL_KINDS)}")
        if action not in FIREWALL_ACTIONS:
            raise InvalidValueError(f"action must be one of {', '.join(FIREWALL_ACTIONS)}")
        value = value.strip()
        if kind in ("number", "prefix") and not re.fullmatch(r"\+?[0-9]+", value):
            raise InvalidValueError(f"value must be digits for a {kind} entry, got {value!r}")
        if kind == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise InvalidValueError(f"value is not a valid regular expression: {exc}") from None
        if kind in ("withheld", "out_of_area"):
            value = ""
        if action == "voicemail" and not target:
            raise InvalidValueError("target (a mailbox) is needed for the voicemail action")
        try:
            rowid, _ = await self._db.write(
                "INSERT INTO firewall(kind, value, action, target, note, created) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, value, action, target, note, self._db.clock.wall()),
            )
        except DuplicateError:
            raise DuplicateError(f"the list already has a {kind} entry {value!r}") from None
        return await self.get(rowid)

    async def get(self, rule_id: int) -> FirewallRule:
        row = await self._db.fetchone("SELECT * FROM firewall WHERE id = ?", (rule_id,))
        if row is None:
            raise NotFoundError(f"no firewall entry {rule_id}")
        return FirewallRule(*row)

    async def list(self) -> list[FirewallRule]:
        return [FirewallRule(*r) for r in await self._db.fetchall("SELECT * FROM firewall ORDER BY id")]

    async def remove(self, rule_id: int) -> None:
        _, n = await self._db.write("DELETE FROM firewall WHERE id = ?", (rule_id,))
        if n == 0:
            raise NotFoundError(f"no firewall entry {rule_id}")

    async def hit(
        self, rule_id: int | None, number: str | None, trunk: str | None, action: str, call: str | None
    ) -> None:
        """Count a screened attempt on its entry and log it (blocked calls stay visible)."""
        ts = self._db.clock.wall()
        if rule_id is not None:
            await self._db.write(
                "UPDATE firewall SET hits = hits + 1, last_hit = ? WHERE id = ?", (ts, rule_id)
            )
        await self._db.write(
            "INSERT INTO firewall_log(ts, rule_id, number, trunk, action, call_uniqueid) VALUES (?, ?, ?, ?, ?, ?)",
            (ts, rule_id, number, trunk, action, call),
        )

    async def log(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._db.fetchall(
            "SELECT ts, rule_id, number, trunk, action, call_uniqueid FROM firewall_log ORDER BY id DESC LIMIT ?",
            (int(limit),),
        )
        return [dict(zip(("ts", "rule", "number", "trunk", "action", "call"), r, strict=True)) for r in rows]


class CallCenterStore:
    """The call center's repositories on top of an open `Store`."""

    def __init__(self, store: Any) -> None:
        db: Database = store._db
        self._db = db
        self.voicemail = Voicemails(db)
        self.firewall = Firewall(db)

    async def order_by_number(self, digits: str) -> dict[str, Any] | None:
        """An order by what a caller keys in: the digits of its number (SO20261122-00001) or its id."""
        digits = re.sub(r"\D", "", digits or "")
        if not digits:
            return None
        row = await self._db.fetchone(
            "SELECT id, no, status, total, created, customer_id FROM orders "
            "WHERE replace(replace(no, 'SO', ''), '-', '') = ? OR id = ? LIMIT 1",
            (digits, int(digits) if len(digits) < 12 else -1),
        )
        if row is None:
            return None
        return dict(zip(("id", "no", "status", "total", "created", "customer_id"), row, strict=True))

    async def set_recording_queue(self, recording_id: int, queue: str | None) -> None:
        await self._db.write("UPDATE recordings SET queue = ? WHERE id = ?", (queue, recording_id))

    async def recordings_expired(
        self, now: float, retention_days: int, queue_retention: dict[str, int], limit: int = 1000
    ) -> list[Recording]:
        """Live recordings past their queue's retention (or the default; 0 days keeps forever)."""
        from ccd.store.models import RECORDING_COLUMNS

        cols = ", ".join(f"r.{c}" for c in RECORDING_COLUMNS)
        rows = await self._db.fetchall(
            f"SELECT {cols}, coalesce(r.queue, c.queue) FROM recordings r "
            "LEFT JOIN calls c ON c.uniqueid = r.call_uniqueid WHERE r.deleted_at IS NULL ORDER BY r.start LIMIT ?",
            (int(limit) * 10,),
        )
        out: list[Recording] = []
        for row in rows:
            rec = Recording(*row[: len(RECORDING_COLUMNS)])
            days = queue_retention.get(row[-1] or "", retention_days)
            if days > 0 and rec.start < now - days * 86400:
                out.append(rec)
            if len(out) >= limit:
                break
        return out

    async def oldest_recordings(self, limit: int = 10) -> list[Recording]:
        from ccd.store.models import RECORDING_COLUMNS

        rows = await self._db.fetchall(
            f"SELECT {', '.join(RECORDING_COLUMNS)} FROM recordings WHERE deleted_at IS NULL ORDER BY start, id LIMIT ?",
            (int(limit),),
        )
        return [Recording(*r) for r in rows]
