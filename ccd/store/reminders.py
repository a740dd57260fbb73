"""Reminders: follow-ups (made from notes), memos, and customers' birthdays.

Birthdays are not stored as rows: they are read from the customers a user looks after
(`customers.owner`) for the day asked, so a changed birthday never leaves a stale reminder.
"Today" is a calendar day in the office's time zone (the store's `tz`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ccd.store.base import Database
from ccd.store.customers import Customers
from ccd.store.errors import InvalidValueError, NotFoundError
from ccd.store.models import REMINDER_KINDS, Reminder


class Reminders:
    """`store.reminders`."""

    def __init__(self, db: Database, customers: Customers) -> None:
        self._db = db
        self._customers = customers

    async def add(
        self,
        user: str,
        kind: str,
        due: float,
        text: str,
        *,
        customer_id: int | None = None,
        note_id: int | None = None,
    ) -> Reminder:
        if kind not in REMINDER_KINDS:
            raise InvalidValueError(f"reminder kind {kind!r} is not one of {', '.join(REMINDER_KINDS)}")
        text = (text or "").strip()
        if not text or len(text) > 2000:
            raise InvalidValueError("a reminder needs 1-2000 characters of text")
        rowid, _ = await self._db.write(
            "INSERT INTO reminders(user, customer_id, note_id, kind, due, text) VALUES (?, ?, ?, ?, ?, ?)",
            (user, customer_id, note_id, kind, float(due), text),
        )
        row = await self._db.fetchone("SELECT * FROM reminders WHERE id = ?", (rowid,))
        assert row is not None
        return Reminder.from_row(row)

    def day_bounds(self, day: date) -> tuple[float, float]:
        """Unix times of the start and end of `day` in the office's time zone."""
        start = datetime.combine(day, time(), self._db.tz)
        return start.timestamp(), (start + timedelta(days=1)).timestamp()

    async def due(self, user: str, day: date) -> list[Reminder]:
        """What `user` should see on `day`: open reminders due by its end (overdue ones too),
        then birthdays of the customers the user looks after. Oldest due first."""
        t0, t1 = self.day_bounds(day)
        rows = await self._db.fetchall(
            "SELECT * FROM reminders WHERE user = ? AND done = 0 AND due < ? ORDER BY due, id", (user, t1)
        )
        out = [Reminder.from_row(r) for r in rows]
        for c in await self._customers.birthdays(f"{day.month:02d}-{day.day:02d}", owner=user):
            out.append(Reminder(None, user, c.id, None, "birthday", t0, f"{c.name} 生日", False))
        return out

    async def mark_done(self, reminder_id: int) -> None:
        _, n = await self._db.write("UPDATE reminders SET done = 1 WHERE id = ?", (reminder_id,))
        if n == 0:
            raise NotFoundError(f"no reminder {reminder_id}")
