"""Call detail records (Asterisk's field names) and their legs.

The engine writes a call when it *starts* (end NULL), marks the answer, then finishes it.
A call still open when the daemon died (`kill -9`) is found by `close_orphans` at the next
start and closed as FAILED at the last moment anything was known about it, so reports never
show a call that lasts forever.
"""

from __future__ import annotations

import logging
from typing import Any

from ccd.crm.numbers import NumberPlan
from ccd.store.base import Database, placeholders
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError
from ccd.store.models import CALL_COLUMNS, DIRECTIONS, DISPOSITIONS, LEG_COLUMNS, Call, Leg, Recording

log = logging.getLogger(__name__)


def _q(column: str) -> str:
    """Quote a column name from our own whitelist ("end" is an SQL keyword)."""
    return f'"{column}"'


_SELECT = "SELECT " + ", ".join(map(_q, CALL_COLUMNS)) + " FROM calls"
# Fields the engine may set at begin / finish (never duration/billsec: those are computed).
_SETTABLE = frozenset(CALL_COLUMNS) - {"duration", "billsec", "peer_key"}
_FINISH_FIELDS = _SETTABLE - {"uniqueid", "start", "end", "answer", "disposition"}
_LEG_FIELDS = frozenset({"peer", "kind", "answer", "end", "disposition", "agent", "channel"})


def _secs(x: float) -> int:
    """Whole seconds, rounded half up, as CDR tools expect."""
    return int(x + 0.5) if x > 0 else 0


def _check_disposition(d: str | None) -> None:
    if d is not None and d not in DISPOSITIONS:
        raise InvalidValueError(f"disposition {d!r} is not one of {', '.join(DISPOSITIONS)}")


class Calls:
    """`store.calls`: CDR rows and legs; `plan` normalises the far end's number for lookups."""

    def __init__(self, db: Database, plan: NumberPlan) -> None:
        self._db = db
        self._keys_for = plan.lookup_keys
        self._plan = plan

    # --- writing ---------------------------------------------------------------------------------

    async def begin(self, call: dict[str, Any]) -> None:
        """Record a call as it starts. Needs `uniqueid` and `direction`; `start` defaults to now.

        Other keys are CDR field names (src, dst, channel, trunk, caller_name, ...); an unknown
        key is an error so a typo in the engine does not silently lose data. `location` is
        filled from the far end's number when not given.
        """
        fields = dict(call)
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise InvalidValueError(f"unknown CDR field(s): {', '.join(sorted(unknown))}")
        if not fields.get("uniqueid"):
            raise InvalidValueError("a call needs a uniqueid")
        if fields.get("direction") not in DIRECTIONS:
            raise InvalidValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        _check_disposition(fields.get("disposition"))
        fields.setdefault("start", self._db.clock.wall())
        fields.setdefault("linkedid", fields["uniqueid"])
        peer = fields.get("dst") if fields["direction"] == "out" else fields.get("src")
        keys = self._keys_for(peer) if peer else []
        fields["peer_key"] = keys[0] if keys else None
        if "location" not in fields and peer and fields["direction"] != "internal":
            fields["location"] = self._plan.normalise(peer).location or None  # "北京市", offline
        cols = list(fields)
        sql = f"INSERT INTO calls({', '.join(map(_q, cols))}) VALUES ({placeholders(len(cols))})"
        try:
            await self._db.write(sql, [fields[c] for c in cols])
        except DuplicateError:
            raise DuplicateError(f"call {fields['uniqueid']!r} already recorded") from None

    async def answer(self, uniqueid: str, at: float) -> None:
        """Mark the call answered at `at` (the first answer wins)."""
        _, n = await self._db.write(
            "UPDATE calls SET answer = coalesce(answer, ?) WHERE uniqueid = ?", (at, uniqueid)
        )
        if n == 0:
            raise NotFoundError(f"no call {uniqueid!r}")

    async def update(self, uniqueid: str, **fields: Any) -> None:
        """Set CDR fields on a call in progress (agent, queue, customer_id, ivr_path, ...)."""
        if not fields:
            return
        unknown = set(fields) - _FINISH_FIELDS
        if unknown:
            raise InvalidValueError(f"cannot set CDR field(s): {', '.join(sorted(unknown))}")
        sets = ", ".join(f'"{k}" = ?' for k in fields)
        _, n = await self._db.write(
            f"UPDATE calls SET {sets} WHERE uniqueid = ?", (*fields.values(), uniqueid)
        )
        if n == 0:
            raise NotFoundError(f"no call {uniqueid!r}")

    async def finish(self, uniqueid: str, end: float, disposition: str, **fields: Any) -> Call:
        """Close the call: duration = end − start, billsec = end − answer (0 if never answered).

        Legs still open are closed at the same time. Extra `fields` are CDR columns to set.
        """
        _check_disposition(disposition)
        unknown = set(fields) - _FINISH_FIELDS
        if unknown:
            raise InvalidValueError(f"cannot set CDR field(s): {', '.join(sorted(unknown))}")
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                'SELECT start, answer, "end" FROM calls WHERE uniqueid = ?', (uniqueid,)
            )
            if not rows:
                raise NotFoundError(f"no call {uniqueid!r}")
            start, answer, _ = next(iter(rows))
            end = max(end, start)
            duration = _secs(end - start)
            billsec = _secs(end - answer) if answer is not None else 0
            sets = "".join(f', "{k}" = ?' for k in fields)
            await db.execute(
                f'UPDATE calls SET "end" = ?, duration = ?, billsec = ?, disposition = ?{sets} WHERE uniqueid = ?',
                (end, duration, billsec, disposition, *fields.values(), uniqueid),
            )
            await db.execute(
                """UPDATE legs SET "end" = ?,
                       disposition = coalesce(disposition, CASE WHEN answer IS NULL THEN 'NO ANSWER' ELSE 'ANSWERED' END)
                   WHERE call_uniqueid = ? AND "end" IS NULL""",
                (end, uniqueid),
            )
        return await self.get(uniqueid)

    async def add_leg(
        self,
        uniqueid: str,
        channel: str,
        *,
        kind: str = "agent",
        peer: str | None = None,
        start: float | None = None,
        agent: str | None = None,
    ) -> int:
        """Add the next leg of a call (a ring attempt, the bridge to an agent, a transfer...); return its seq."""
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT coalesce(max(seq), 0) + 1 FROM legs WHERE call_uniqueid = ?", (uniqueid,)
            )
            seq = int(next(iter(rows))[0])
            await db.execute(
                "INSERT INTO legs(call_uniqueid, seq, channel, peer, kind, start, agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    uniqueid,
                    seq,
                    channel,
                    peer,
                    kind,
                    self._db.clock.wall() if start is None else start,
                    agent,
                ),
            )
        return seq

    async def update_leg(self, uniqueid: str, seq: int, **fields: Any) -> None:
        """Set answer / end / disposition / agent / peer on a leg."""
        unknown = set(fields) - _LEG_FIELDS
        if unknown:
            raise InvalidValueError(f"cannot set leg field(s): {', '.join(sorted(unknown))}")
        _check_disposition(fields.get("disposition"))
        if not fields:
            return
        sets = ", ".join(f'"{k}" = ?' for k in fields)
        _, n = await self._db.write(
            f"UPDATE legs SET {sets} WHERE call_uniqueid = ? AND seq = ?", (*fields.values(), uniqueid, seq)
        )
        if n == 0:
            raise NotFoundError(f"no leg {seq} on call {uniqueid!r}")

    async def close_orphans(self, now: float) -> int:
        """Close every call left open by a crash; return how many.

        The end is the last moment we know the call was alive — its latest journal event (or
        answer, or start) — or `now` when the journal has nothing on it. Disposition FAILED.
        """
        async with self._db.transaction() as db:
            rows = await db.execute_fetchall(
                """SELECT c.uniqueid, c.start, c.answer,
                          (SELECT max(ts) FROM journal j WHERE j.callid = c.uniqueid) AS last_ts
                   FROM calls c WHERE c."end" IS NULL"""
            )
            for uniqueid, start, answer, last_ts in rows:
                alive = max(start, answer or start)
                end = max(alive, last_ts) if last_ts is not None else max(now, alive)
                billsec = _secs(end - answer) if answer is not None else 0
                await db.execute(
                    """UPDATE calls SET "end" = ?, duration = ?, billsec = ?, disposition = 'FAILED'
                       WHERE uniqueid = ?""",
                    (end, _secs(end - start), billsec, uniqueid),
                )
                await db.execute(
                    """UPDATE legs SET "end" = max(?, start), disposition = 'FAILED'
                       WHERE call_uniqueid = ? AND "end" IS NULL""",
                    (end, uniqueid),
                )
        if rows:
            log.warning("closed %d call(s) left open by an unclean stop as FAILED", len(rows))
        return len(rows)

    # --- reading ---------------------------------------------------------------------------------

    async def get(self, uniqueid: str) -> Call:
        """One call with its legs in order and its recordings."""
        calls = await self._load(f"{_SELECT} WHERE uniqueid = ?", (uniqueid,))
        if not calls:
            raise NotFoundError(f"no call {uniqueid!r}")
        return calls[0]

    async def last(self, n: int = 20) -> list[Call]:
        """The n most recent calls, newest first."""
        return await self._load(f"{_SELECT} ORDER BY start DESC LIMIT ?", (max(0, int(n)),))

    async def by_number(self, number: str, limit: int = 50) -> list[Call]:
        """Calls to or from `number` in any of its written forms, newest first."""
        keys = self._keys_for(number)
        if not keys:
            return []
        return await self._load(
            f"{_SELECT} WHERE peer_key = ? ORDER BY start DESC LIMIT ?", (keys[0], max(0, int(limit)))
        )

    async def for_customer(self, customer_id: int, keys: list[str], limit: int = 200) -> list[Call]:
        """Calls linked to the customer, or with one of the customer's numbers; newest first."""
        params: list[Any] = [customer_id]
        sql = f"{_SELECT} WHERE customer_id = ?"
        if keys:
            sql += f" UNION {_SELECT} WHERE peer_key IN ({placeholders(len(keys))})"
            params += keys
        return await self._load(f"SELECT * FROM ({sql}) ORDER BY start DESC LIMIT ?", (*params, int(limit)))

    async def range(self, t0: float, t1: float, limit: int = 100_000) -> list[Call]:
        """Calls that started in [t0, t1), oldest first."""
        return await self._load(
            f"{_SELECT} WHERE start >= ? AND start < ? ORDER BY start LIMIT ?", (t0, t1, int(limit))
        )

    async def open_calls(self) -> list[Call]:
        """Calls not finished yet (in progress, or orphans before `close_orphans`)."""
        return await self._load(f'{_SELECT} WHERE "end" IS NULL ORDER BY start')

    async def _load(self, sql: str, params: Any = ()) -> list[Call]:
        rows = await self._db.fetchall(sql, params)
        if not rows:
            return []
        ids = [r["uniqueid"] for r in rows]
        legs: dict[str, list[Leg]] = {i: [] for i in ids}
        recs: dict[str, list[Recording]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            q = placeholders(len(part))
            for r in await self._db.fetchall(
                f"SELECT {', '.join(map(_q, LEG_COLUMNS))} FROM legs "
                f"WHERE call_uniqueid IN ({q}) ORDER BY call_uniqueid, seq",
                part,
            ):
                legs[r["call_uniqueid"]].append(Leg.from_row(r))
            for r in await self._db.fetchall(
                f"SELECT * FROM recordings WHERE call_uniqueid IN ({q}) AND deleted_at IS NULL ORDER BY start, id",
                part,
            ):
                recs[r["call_uniqueid"]].append(Recording.from_row(r))
        return [Call.from_row(r, tuple(legs[r["uniqueid"]]), tuple(recs[r["uniqueid"]])) for r in rows]
