"""Contact notes (seed 002's 备注: category, status new / follow-up / closed) and their categories.

A note with a follow-up date also becomes a reminder for its author, in the same transaction,
so "call back Thursday" cannot be saved without landing on Thursday's list. Closing a note
ticks off its reminders.
"""

from __future__ import annotations

from ccd.store.base import Database
from ccd.store.errors import InvalidValueError, NotFoundError
from ccd.store.models import NOTE_STATUSES, Note, NoteCategory

MAX_NOTE = 10_000


def _status(s: str) -> str:
    if s not in NOTE_STATUSES:
        raise InvalidValueError(f"note status {s!r} is not one of {', '.join(NOTE_STATUSES)}")
    return s


class Notes:
    """`store.notes`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- categories (managed by supervisors; the server checks the role) ---------------------------

    async def add_category(self, name: str, label: str | None = None) -> NoteCategory:
        name = (name or "").strip()
        if not name or len(name) > 50:
            raise InvalidValueError("a category name must be 1-50 characters")
        row = await self._db.fetchone("SELECT coalesce(max(position), 0) + 1 FROM note_categories")
        await self._db.write(
            "INSERT INTO note_categories(name, label, position) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET label = excluded.label, disabled = 0",
            (name, (label or name).strip()[:100], row[0] if row else 1),
        )
        return next(c for c in await self.categories(include_disabled=True) if c.name == name)

    async def disable_category(self, name: str) -> None:
        """Hide a category from pickers; notes already filed under it keep it."""
        _, n = await self._db.write("UPDATE note_categories SET disabled = 1 WHERE name = ?", (name,))
        if n == 0:
            raise NotFoundError(f"no note category {name!r}")

    async def categories(self, *, include_disabled: bool = False) -> list[NoteCategory]:
        rows = await self._db.fetchall(
            "SELECT * FROM note_categories WHERE disabled = 0 OR ? ORDER BY position, name",
            (int(include_disabled),),
        )
        return [NoteCategory(r["name"], r["label"], r["position"], bool(r["disabled"])) for r in rows]

    # --- notes ---------------------------------------------------------------------------------------

    async def add(
        self,
        customer_id: int,
        author: str,
        text: str,
        *,
        category: str | None = None,
        status: str = "new",
        call_uniqueid: str | None = None,
        follow_up_at: float | None = None,
        at: float | None = None,
    ) -> Note:
        """File a note on a customer (optionally tied to a call); a follow-up date makes a reminder.

        `at` backdates the note (imports, demo data); default now.
        """
        text = (text or "").strip() if isinstance(text, str) else ""
        if not text:
            raise InvalidValueError("a note needs some text")
        if len(text) > MAX_NOTE:
            raise InvalidValueError(f"a note is at most {MAX_NOTE} characters (this one has {len(text)})")
        _status(status)
        if category is not None and not await self._db.fetchone(
            "SELECT 1 FROM note_categories WHERE name = ?", (category,)
        ):
            known = ", ".join(c.name for c in await self.categories()) or "none defined"
            raise InvalidValueError(f"unknown note category {category!r} (known: {known})")
        if not await self._db.fetchone("SELECT 1 FROM customers WHERE id = ?", (customer_id,)):
            raise NotFoundError(f"no customer {customer_id}")
        now = self._db.clock.wall() if at is None else float(at)
        async with self._db.transaction() as db:
            cur = await db.execute(
                """INSERT INTO notes(customer_id, call_uniqueid, author, category, status, text, follow_up_at,
                       created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (customer_id, call_uniqueid, author, category, status, text, follow_up_at, now, now),
            )
            note_id = cur.lastrowid
            if follow_up_at is not None and status != "closed":
                await db.execute(
                    "INSERT INTO reminders(user, customer_id, note_id, kind, due, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (author, customer_id, note_id, "follow_up", follow_up_at, text[:200]),
                )
        assert note_id is not None
        return await self.get(note_id)

    async def get(self, note_id: int) -> Note:
        row = await self._db.fetchone("SELECT * FROM notes WHERE id = ?", (note_id,))
        if row is None:
            raise NotFoundError(f"no note {note_id}")
        return Note.from_row(row)

    async def list_for_customer(self, customer_id: int, limit: int = 50) -> list[Note]:
        """The customer's notes, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM notes WHERE customer_id = ? ORDER BY created DESC, id DESC LIMIT ?",
            (customer_id, int(limit)),
        )
        return [Note.from_row(r) for r in rows]

    async def for_call(self, call_uniqueid: str) -> list[Note]:
        rows = await self._db.fetchall(
            "SELECT * FROM notes WHERE call_uniqueid = ? ORDER BY id", (call_uniqueid,)
        )
        return [Note.from_row(r) for r in rows]

    async def open_follow_ups(self, customer_id: int) -> list[Note]:
        """Notes still marked follow-up, soonest due first (the screen pop's "still open")."""
        rows = await self._db.fetchall(
            """SELECT * FROM notes WHERE customer_id = ? AND status = 'follow_up'
               ORDER BY follow_up_at IS NULL, follow_up_at, id""",
            (customer_id,),
        )
        return [Note.from_row(r) for r in rows]

    async def update_status(self, note_id: int, status: str) -> Note:
        """Move a note to new / follow_up / closed; closing ticks off its reminders."""
        _status(status)
        async with self._db.transaction() as db:
            cur = await db.execute(
                "UPDATE notes SET status = ?, updated = ? WHERE id = ?",
                (status, self._db.clock.wall(), note_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no note {note_id}")
            if status == "closed":
                await db.execute("UPDATE reminders SET done = 1 WHERE note_id = ?", (note_id,))
        return await self.get(note_id)

    async def update_text(self, note_id: int, text: str, *, category: str | None = None) -> Note:
        text = (text or "").strip()
        if not text or len(text) > MAX_NOTE:
            raise InvalidValueError(f"a note needs 1-{MAX_NOTE} characters")
        _, n = await self._db.write(
            "UPDATE notes SET text = ?, category = coalesce(?, category), updated = ? WHERE id = ?",
            (text, category, self._db.clock.wall(), note_id),
        )
        if n == 0:
            raise NotFoundError(f"no note {note_id}")
        return await self.get(note_id)
