"""The index of recording files (the WAVs themselves live under the recordings directory).

Rows are soft-deleted (`deleted_at`) when retention removes a file, so reports can still say
a call *was* recorded.
"""

from __future__ import annotations

from typing import Any

from ccd.store.base import Database
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError
from ccd.store.models import Recording


class Recordings:
    """`store.recordings`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        path: str,
        *,
        call_uniqueid: str | None = None,
        leg: int | None = None,
        format: str = "wav",
        channels: int = 1,
        start: float | None = None,
        duration: float = 0.0,
        bytes: int = 0,
    ) -> Recording:
        """Index a recording (at its start; `finish` fills in duration and size)."""
        if not path:
            raise InvalidValueError("a recording needs a path")
        if channels not in (1, 2):
            raise InvalidValueError("a recording has 1 or 2 channels")
        try:
            rowid, _ = await self._db.write(
                """INSERT INTO recordings(call_uniqueid, leg, path, format, channels, start, duration, bytes)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (call_uniqueid, leg, str(path), format, channels,
                 self._db.clock.wall() if start is None else start, duration, bytes),
            )  # fmt: skip
        except DuplicateError:
            raise DuplicateError(f"recording {path!s} is already indexed") from None
        return await self.get(rowid)

    async def finish(self, recording_id: int, duration: float, bytes: int) -> Recording:
        _, n = await self._db.write(
            "UPDATE recordings SET duration = ?, bytes = ? WHERE id = ?", (duration, bytes, recording_id)
        )
        if n == 0:
            raise NotFoundError(f"no recording {recording_id}")
        return await self.get(recording_id)

    async def get(self, recording_id: int) -> Recording:
        row = await self._db.fetchone("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        if row is None:
            raise NotFoundError(f"no recording {recording_id}")
        return Recording.from_row(row)

    async def list(
        self, call_uniqueid: str | None = None, *, include_deleted: bool = False, limit: int = 100
    ) -> list[Recording]:
        """Recordings of one call (oldest first), or the latest ones overall (newest first)."""
        where, params, order = ["(deleted_at IS NULL OR ?)"], [int(include_deleted)], "start DESC, id DESC"
        if call_uniqueid is not None:
            where.append("call_uniqueid = ?")
            params.append(call_uniqueid)  # type: ignore[arg-type]
            order = "start, id"
        rows = await self._db.fetchall(
            f"SELECT * FROM recordings WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?",
            (*params, int(limit)),
        )
        return [Recording.from_row(r) for r in rows]

    async def for_calls(self, uniqueids: list[str]) -> list[Recording]:
        out: list[Recording] = []
        for i in range(0, len(uniqueids), 500):
            part = uniqueids[i : i + 500]
            rows = await self._db.fetchall(
                f"SELECT * FROM recordings WHERE deleted_at IS NULL AND call_uniqueid IN ({', '.join('?' * len(part))})",
                part,
            )
            out += [Recording.from_row(r) for r in rows]
        return out

    async def mark_deleted(self, recording_id: int, at: float | None = None) -> None:
        _, n = await self._db.write(
            "UPDATE recordings SET deleted_at = coalesce(deleted_at, ?) WHERE id = ?",
            (self._db.clock.wall() if at is None else at, recording_id),
        )
        if n == 0:
            raise NotFoundError(f"no recording {recording_id}")

    async def older_than(self, ts: float, limit: int = 1000) -> list[Recording]:
        """Live recordings that started before `ts`: what retention should delete next."""
        rows: Any = await self._db.fetchall(
            "SELECT * FROM recordings WHERE deleted_at IS NULL AND start < ? ORDER BY start LIMIT ?",
            (ts, int(limit)),
        )
        return [Recording.from_row(r) for r in rows]
