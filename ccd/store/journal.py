"""The call-event journal, shaped like Asterisk's queue_log.

Every queue decision (ENTERQUEUE, CONNECT, ABANDON, RINGNOANSWER, PAUSE...) is appended
here; supervisor reports are rebuilt from it, and `export_queue_log` writes the exact
pipe-delimited text that QueueMetrics, Asternic and friends already read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from ccd.store.base import Database
from ccd.store.errors import InvalidValueError
from ccd.store.models import JournalEntry

MAX_DATA = 5
_INSERT = (
    "INSERT INTO journal(ts, callid, queue, agent, event, data1, data2, data3, data4, data5) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(
    ts: float, callid: str | None, queue: str | None, agent: str | None, event: str, data: tuple[Any, ...]
):
    if not event or "|" in event:
        raise InvalidValueError(f"journal event name {event!r} must be non-empty and have no '|'")
    if len(data) > MAX_DATA:
        raise InvalidValueError(f"a journal row holds at most {MAX_DATA} data fields, got {len(data)}")
    padded = [None if d is None else str(d) for d in data] + [None] * (MAX_DATA - len(data))
    return (float(ts), callid, queue, agent, event, *padded)


def _field(v: str | None) -> str:
    # A '|' or newline inside a value would break every reader of the format.
    return "" if v is None else v.replace("|", "/").replace("\n", " ")


class Journal:
    """`store.journal`: append-only queue_log-like rows."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self, ts: float, callid: str | None, queue: str | None, agent: str | None, event: str, *data: Any
    ) -> None:
        """Append one row; `data` are up to five event parameters (stored as text)."""
        await self._db.write(_INSERT, _row(ts, callid, queue, agent, event, data))

    async def append_many(
        self, rows: Iterable[tuple[float, str | None, str | None, str | None, str, tuple[Any, ...]]]
    ) -> None:
        """Append several rows in one transaction (a burst of events from one engine tick)."""
        await self._db.write_many(_INSERT, [_row(*r[:5], tuple(r[5])) for r in rows])

    async def between(
        self, t0: float, t1: float, queue: str | None = None, agent: str | None = None
    ) -> list[JournalEntry]:
        """Rows with t0 <= ts < t1, oldest first, optionally for one queue and/or agent."""
        sql = "SELECT * FROM journal WHERE ts >= ? AND ts < ?"
        params: list[Any] = [t0, t1]
        if queue is not None:
            sql += " AND queue = ?"
            params.append(queue)
        if agent is not None:
            sql += " AND agent = ?"
            params.append(agent)
        rows = await self._db.fetchall(sql + " ORDER BY ts, id", params)
        return [JournalEntry.from_row(r) for r in rows]

    async def for_call(self, callid: str) -> list[JournalEntry]:
        rows = await self._db.fetchall("SELECT * FROM journal WHERE callid = ? ORDER BY ts, id", (callid,))
        return [JournalEntry.from_row(r) for r in rows]

    async def export_queue_log(self, fp: TextIO, t0: float, t1: float) -> int:
        """Write rows in [t0, t1) as Asterisk queue_log lines; return the number written.

        ``ts|callid|queue|agent|EVENT|data1|data2|...`` with an integer Unix timestamp;
        missing callid/queue/agent are written as NONE, as Asterisk does.
        """
        n = 0
        for e in await self.between(t0, t1):
            data = list(e.data) or [""]
            head = [str(int(e.ts)), e.callid or "NONE", e.queue or "NONE", e.agent or "NONE", e.event]
            fp.write("|".join([*map(_field, head), *map(_field, data)]) + "\n")
            n += 1
        return n
