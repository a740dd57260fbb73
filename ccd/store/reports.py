"""Read-only aggregate queries behind the supervisor reports (`ccd report`, the wallboard).

A report over a million calls must come back within a second, so these never load rows
into Python objects: SQLite counts and sums, grouped by interval bucket, and hands back a
few hundred result rows. The queue counts follow exactly the rules written out in
`ccd.metrics.journal` (a test holds both to the same numbers on the same journal).

Buckets are computed in SQL from the period's UTC offset: ``interval`` is one of 15m, 30m,
1h, day, week (from Monday), month, or None for a single bucket.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from ccd.store.base import Database

_SIZES = {"15m": 900, "30m": 1800, "1h": 3600, "day": 86400, "week": 604800}
_MONDAY = 4 * 86400  # 1970-01-05, the first Monday after the epoch
HANDLED_COMPLETE = ("COMPLETEAGENT", "COMPLETECALLER")
HANDLED_TRANSFER = ("BLINDTRANSFER", "ATTENDEDTRANSFER")
HANDLED = HANDLED_COMPLETE + HANDLED_TRANSFER
_TRAFFIC = ("calls", "inbound", "outbound", "internal", "answered", "missed", "talk", "duration")


def bucket_sql(column: str, interval: str | None, offset: float) -> str:
    """An SQL expression for the Unix start of `column`'s bucket (or 0 for no buckets).

    Only `interval` names from a fixed table and a float offset go into the text.
    """
    off = float(offset)
    if interval is None:
        return "0"
    if interval == "month":
        return f"(strftime('%s', {column} + {off!r}, 'unixepoch', 'start of month') - {off!r})"
    size = _SIZES[interval]
    if interval == "week":
        return (
            f"((CAST(({column} + {off!r} - {_MONDAY}) / {size} AS INTEGER)) * {size} + {_MONDAY} - {off!r})"
        )
    return f"(CAST(({column} + {off!r}) / {size} AS INTEGER) * {size} - {off!r})"


def _values(rows: list[tuple[Any, ...]], width: int) -> tuple[str, list[Any]]:
    """A VALUES list for a CTE (a dummy row keeps the CTE valid when empty)."""
    if not rows:
        return "VALUES (" + ", ".join(["NULL"] * width) + ")", []
    one = "(" + ", ".join("?" * width) + ")"
    return "VALUES " + ", ".join([one] * len(rows)), [v for r in rows for v in r]


def _agent_keys(agent_wrap: Mapping[str, float]) -> list[tuple[str, float]]:
    """Agent wrap-up for both spellings the journal may hold ("1001" and "Agent/1001")."""
    out: list[tuple[str, float]] = []
    for agent, secs in agent_wrap.items():
        out += [(agent, secs), (f"Agent/{agent}", secs)]
    return out


ROLLUP = 900.0  # seconds: the rollups' bucket (migration 3)
_MAX_FIELDS = ("max_wait",)


def _aligned(t0: float, t1: float, offset: float) -> tuple[float, float] | None:
    """The whole rollup buckets inside [t0, t1), or None when the rollups cannot serve it.

    Rollup buckets are 15-minute UTC buckets; they nest in local buckets only when the UTC
    offset is a whole number of quarter hours (true of every zone in use today).
    """
    if float(offset) % ROLLUP:
        return None
    a0 = math.ceil(t0 / ROLLUP) * ROLLUP
    a1 = math.floor(t1 / ROLLUP) * ROLLUP
    return (a0, a1) if a1 > a0 else None


def _ranges(t0: float, a0: float, a1: float, t1: float, holes: list[float]) -> list[tuple[float, float]]:
    """Ranges to count from raw rows: the two edges and each rollup bucket in `holes` (merged)."""
    out = [(t0, a0)]
    for b in holes:
        if out and out[-1][1] == b:
            out[-1] = (out[-1][0], b + ROLLUP)
        else:
            out.append((b, b + ROLLUP))
    if out and out[-1][1] == a1:
        out[-1] = (out[-1][0], t1)
    else:
        out.append((a1, t1))
    return [(a, b) for a, b in out if b > a]


def _merge(into: dict[Any, dict[str, Any]], key: Any, row: Mapping[str, Any]) -> None:
    """Add `row`'s numbers into `into[key]` (maxima for the max_ fields)."""
    have = into.get(key)
    if have is None:
        into[key] = {k: v for k, v in row.items() if k not in ("queue", "bucket", "trunk")}
        return
    for k, v in row.items():
        if k in ("queue", "bucket", "trunk") or v is None:
            continue
        have[k] = max(have.get(k) or 0, v) if k in _MAX_FIELDS else (have.get(k) or 0) + v


def _py_bucket(ts: float, interval: str | None, offset: float) -> float:
    """`bucket_sql` in Python: the start of `ts`'s bucket (0 for no buckets)."""
    if interval is None:
        return 0.0
    ts, off = float(ts), float(offset)
    if interval == "month":
        d = dt.datetime.fromtimestamp(ts + off, dt.UTC)
        return dt.datetime(d.year, d.month, 1, tzinfo=dt.UTC).timestamp() - off
    size = _SIZES[interval]
    if interval == "week":
        return ((ts + off - _MONDAY) // size) * size + _MONDAY - off
    return ((ts + off) // size) * size - off


_DAY = 86400.0
_WEEK = 604800.0
# The customer report's grouping (as migration 5's rollup keys it): a customer, else the number
_CALLER_KEY = "coalesce('c' || customer_id, 'n' || peer_key)"


def _caller_spans(
    t0: float, t1: float
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], tuple[float, float]]:
    """[t0, t1) cut for the per-caller rollups: (ranges counted from the CDRs, ranges of whole UTC
    days, the range of whole UTC weeks from Monday). Empty parts are ranges like (x, x)."""
    d0, d1 = math.ceil(t0 / _DAY) * _DAY, math.floor(t1 / _DAY) * _DAY
    if d1 <= d0:
        return [(t0, t1)], [], (0.0, 0.0)
    w0 = math.ceil((d0 - _MONDAY) / _WEEK) * _WEEK + _MONDAY
    w1 = math.floor((d1 - _MONDAY) / _WEEK) * _WEEK + _MONDAY
    raw = [(t0, d0), (d1, t1)]
    if w1 <= w0:
        return raw, [(d0, d1)], (0.0, 0.0)
    return raw, [(d0, w0), (w1, d1)], (w0, w1)


# The wait histograms, coarsest first: migration 5's daily and hourly twins of migration 3's
_WAIT_TABLES = ((_DAY, "rollup_waits_day"), (3600.0, "rollup_waits_hour"), (ROLLUP, "rollup_waits"))


def _wait_ranges(
    a0: float, a1: float, deficits: list[float], interval: str | None, offset: float
) -> dict[str, list[tuple[float, float]]]:
    """Which wait histogram to read for each part of the whole rollup buckets [a0, a1): from each
    point on, the coarsest whose bucket ends by a1, lies inside one report bucket (so its figures
    go to one row of the report) and holds no deficit bucket (counted from raw rows instead:
    deficit 15-minute buckets are read from no table). `deficits` is sorted. Adjacent ranges of
    a table are merged."""
    skip = set(deficits)
    out: dict[str, list[tuple[float, float]]] = {table: [] for _, table in _WAIT_TABLES}
    x = a0
    while x < a1:
        for size, table in _WAIT_TABLES:
            end = x + size
            if x % size or end > a1:
                continue
            if size > ROLLUP and (
                bisect.bisect_left(deficits, x) != bisect.bisect_left(deficits, end)
                or _py_bucket(x, interval, offset) != _py_bucket(end - ROLLUP, interval, offset)
            ):
                continue
            ranges = out[table]
            if size == ROLLUP and x in skip:
                pass
            elif ranges and ranges[-1][1] == x:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((x, end))
            x = end
            break
    return {table: ranges for table, ranges in out.items() if ranges}


class ReportQueries:
    """Aggregates over calls, journal, orders. Build with `ReportQueries.of(store)`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    def of(cls, store: Any) -> ReportQueries:
        return cls(store._db)

    async def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return [dict(r) for r in await self._db.fetchall(sql, params)]

    # --- queues ------------------------------------------------------------------------

    async def queue_counts(
        self,
        t0: float,
        t1: float,
        *,
        end: float,
        thresholds: Mapping[str, tuple[float, float]],
        default: tuple[float, float],
        queue_wrap: Mapping[str, float],
        agent_wrap: Mapping[str, float],
        interval: str | None = None,
        offset: float = 0.0,
        queue: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per (queue, bucket): the fields of `ccd.metrics.journal.QueueCounts`.

        `thresholds` maps a queue to (T, S); others take `default`. `end` caps wrap-up.
        Whole 15-minute buckets come from the rollups of migration 3; the ragged edges of the
        period and any bucket whose wrap-ups the rollup cannot vouch for (a handled call with
        no WRAPUPEND yet, or one ending after `end`) are counted from the journal itself.
        """
        stop = min(t1, end)
        raw: list[tuple[float, float]] = []
        merged: dict[tuple[str, float], dict[str, Any]] = {}
        inner = _aligned(t0, stop, offset)
        if inner is None:
            raw.append((t0, t1))
        else:
            a0, a1 = inner
            deficits = await self._wrap_deficits(a0, a1, end, queue)
            raw += _ranges(t0, a0, a1, t1, deficits)
            for r in await self._rollup_queue(a0, a1, queue, deficits, thresholds, default, interval, offset):
                _merge(merged, (r["queue"], _py_bucket(r["bucket"], interval, offset)), r)
        for r0, r1 in raw:
            if r1 <= r0:
                continue
            for r in await self._raw_queue_counts(
                r0, r1, end, thresholds, default, queue_wrap, agent_wrap, interval, offset, queue
            ):
                _merge(merged, (r["queue"], _py_bucket(r["bucket"], interval, offset)), r)
        out = []
        for (q, b), r in sorted(merged.items()):
            r["queue"], r["bucket"] = q, b
            out.append(r)
        return out

    async def _wrap_deficits(self, a0: float, a1: float, end: float, queue: str | None) -> list[float]:
        sql = (
            "SELECT DISTINCT bucket FROM rollup_queue WHERE bucket >= ? AND bucket < ? "
            "AND (wrap_n < handled OR wrap_reach > ?)"
        )
        params: list[Any] = [a0, a1, end]
        if queue is not None:
            sql += " AND queue = ?"
            params.append(queue)
        return sorted(float(r[0]) for r in await self._db.fetchall(sql, params))

    async def _rollup_queue(
        self,
        a0: float,
        a1: float,
        queue: str | None,
        deficits: list[float],
        thresholds: Mapping[str, tuple[float, float]],
        default: tuple[float, float],
        interval: str | None = None,
        offset: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Rollup rows of [a0, a1), deficit buckets left out: the counters per (queue, 15-minute
        bucket), and the wait figures per (queue, bucket) of the coarsest wait histogram that
        nests in the report's buckets (`_wait_ranges`). Each row's bucket lies in one report bucket."""
        skip = set(deficits)
        qsql = "SELECT * FROM rollup_queue WHERE bucket >= ? AND bucket < ?"
        params: list[Any] = [a0, a1]
        if queue is not None:
            qsql += " AND queue = ?"
            params.append(queue)
        rows: list[dict[str, Any]] = []
        for r in await self._db.fetchall(qsql, params):
            if float(r["bucket"]) in skip:
                continue
            d = dict(r)
            d["talk"] = float(d["talk"])
            d["wrap"] = float(d.pop("wrap_sum"))
            for k in ("wrap_n", "wrap_reach"):
                d.pop(k)
            d.update(asa_calls=0, answered_within=0, wait_answered=0.0, abandoned=0, short_abandoned=0,
                     abandoned_after=0, wait_abandoned=0.0, max_wait=0.0)  # fmt: skip
            rows.append(d)
        names = sorted({d["queue"] for d in rows})
        if not names:
            return rows
        # one statement per queue and range: a single range of the primary key is read in
        # (queue, bucket) order, so the grouping needs no sort (a join over ranges would)
        wsql = """SELECT queue, bucket,
            sum(CASE WHEN kind = 'C' THEN n END) AS asa_calls,
            sum(CASE WHEN kind = 'C' AND wait <= :t THEN n END) AS answered_within,
            total(CASE WHEN kind = 'C' THEN wait * n END) AS wait_answered,
            sum(CASE WHEN kind = 'A' AND wait > :s THEN n END) AS abandoned,
            sum(CASE WHEN kind = 'A' AND wait <= :s THEN n END) AS short_abandoned,
            sum(CASE WHEN kind = 'A' AND wait > :s AND wait > :t THEN n END) AS abandoned_after,
            total(CASE WHEN kind = 'A' AND wait > :s THEN wait * n END) AS wait_abandoned,
            max(CASE WHEN kind = 'C' OR wait > :s THEN wait ELSE 0 END) AS max_wait
            FROM {table} WHERE queue = :q AND bucket >= :b0 AND bucket < :b1 GROUP BY bucket"""
        for table, ranges in _wait_ranges(a0, a1, deficits, interval, offset).items():
            for name in names:
                t, s = thresholds.get(name, default)
                for b0, b1 in ranges:
                    p = {"t": t, "s": s, "q": name, "b0": b0, "b1": b1}
                    for w in await self._db.fetchall(wsql.format(table=table), p):
                        d = {k: w[k] or 0 for k in w.keys()}  # noqa: SIM118 (a Row iterates values)
                        d["queue"], d["bucket"] = w["queue"], w["bucket"]
                        rows.append(d)
        return rows

    async def _raw_queue_counts(
        self,
        t0: float,
        t1: float,
        end: float,
        thresholds: Mapping[str, tuple[float, float]],
        default: tuple[float, float],
        queue_wrap: Mapping[str, float],
        agent_wrap: Mapping[str, float],
        interval: str | None,
        offset: float,
        queue: str | None,
    ) -> list[dict[str, Any]]:
        """The same counts straight from the journal rows of [t0, t1) (edges, deficits, old journals)."""
        th_sql, th_params = _values([(q, t, s) for q, (t, s) in thresholds.items()], 3)
        b = bucket_sql("j.ts", interval, offset)
        qfilter = "AND queue = ?" if queue is not None else ""
        sql = f"""
        WITH th(queue, t, s) AS ({th_sql}),
        j AS (SELECT ts, callid, queue, event, data1, data2, data3, data4 FROM journal
              WHERE ts >= ? AND ts < ? AND queue IS NOT NULL AND queue != 'NONE' {qfilter}),
        k AS (SELECT j.*, {b} AS bucket, coalesce(th.t, ?) AS t, coalesce(th.s, ?) AS s,
                     CAST(j.data1 AS REAL) AS d1, CAST(j.data3 AS REAL) AS d3,
                     -- CASE, not AND: SQLite evaluates both sides of an AND here, and the probe for
                     -- a WRAPUPEND or sign-in row (callid 'NONE', as the ACD writes them) would visit
                     -- every such row of the journal
                     CASE WHEN j.event = 'CONNECT' THEN EXISTS (SELECT 1 FROM journal c
                        WHERE c.callid = j.callid AND c.queue = j.queue AND c.event = 'CALLBACK') ELSE 0 END
                        AS is_cb
              FROM j LEFT JOIN th ON th.queue = j.queue)
        SELECT queue, bucket,
          sum(event = 'ENTERQUEUE') AS offered,
          sum(event = 'CONNECT') AS answered,
          sum(is_cb) AS callback_answered,
          sum(event = 'CONNECT' AND NOT is_cb) AS asa_calls,
          sum(event = 'CONNECT' AND NOT is_cb AND d1 <= t) AS answered_within,
          total(CASE WHEN event = 'CONNECT' AND NOT is_cb THEN d1 END) AS wait_answered,
          sum(event = 'ABANDON' AND d3 > s) AS abandoned,
          sum(event = 'ABANDON' AND d3 <= s) AS short_abandoned,
          sum(event = 'ABANDON' AND d3 > s AND d3 > t) AS abandoned_after,
          total(CASE WHEN event = 'ABANDON' AND d3 > s THEN d3 END) AS wait_abandoned,
          sum(event = 'EXITWITHTIMEOUT') AS timeouts,
          sum(event = 'EXITWITHKEY') AS exit_key,
          sum(event = 'EXITEMPTY') AS exit_empty,
          sum(event = 'CALLBACK') AS callbacks,
          sum(event IN {HANDLED!r}) AS handled,
          sum(event IN {HANDLED_TRANSFER!r}) AS transferred,
          total(CASE WHEN event IN {HANDLED_COMPLETE!r} THEN CAST(data2 AS REAL)
                     WHEN event IN {HANDLED_TRANSFER!r} THEN CAST(data4 AS REAL) END) AS talk,
          sum(event = 'RINGNOANSWER') AS ring_no_answer,
          max(CASE WHEN event = 'CONNECT' AND NOT is_cb THEN d1
                   WHEN event = 'ABANDON' AND d3 > s THEN d3 ELSE 0 END) AS max_wait
        FROM k GROUP BY queue, bucket ORDER BY queue, bucket"""
        params: list[Any] = [*th_params, t0, t1]
        if queue is not None:
            params.append(queue)
        params += [default[0], default[1]]
        rows = await self._rows(sql, params)
        wraps = await self.wrap_sums(
            t0, t1, end=end, queue_wrap=queue_wrap, agent_wrap=agent_wrap, interval=interval, offset=offset
        )
        for r in rows:
            r["wrap"] = wraps.get((r["queue"], r["bucket"]), 0.0)
        return rows

    async def wrap_sums(
        self,
        t0: float,
        t1: float,
        *,
        end: float,
        queue_wrap: Mapping[str, float],
        agent_wrap: Mapping[str, float],
        interval: str | None = None,
        offset: float = 0.0,
    ) -> dict[tuple[str, float], float]:
        """(queue, bucket) -> Σ wrap-up of the calls handled in [t0, t1).

        Each call's wrap-up ends at the agent's next row: exactly there when that row is a
        WRAPUPEND (before `end`), else at min(configured, that row, `end`) — the only guess
        possible for journals written before ccd wrote WRAPUPEND.
        """
        w_sql, w_params = _values(list(queue_wrap.items()), 2)
        aw_sql, aw_params = _values(_agent_keys(agent_wrap), 2)
        b = bucket_sql("a.ts", interval, offset)
        nxt = """(SELECT {col} FROM journal n WHERE n.agent = h.agent
                  AND (n.ts > h.ts OR (n.ts = h.ts AND n.id > h.id)) ORDER BY n.ts, n.id LIMIT 1)"""
        sql = f"""
        WITH w(queue, secs) AS ({w_sql}), aw(agent, secs) AS ({aw_sql}),
        a AS (SELECT h.ts, h.queue, h.agent, {nxt.format(col="ts")} AS nxt, {nxt.format(col="event")} AS nxt_ev
              FROM journal h WHERE h.ts >= ? AND h.ts < ? AND h.event IN {HANDLED!r}
              AND h.agent IS NOT NULL AND h.agent != 'NONE')
        SELECT a.queue AS queue, {b} AS bucket,
               total(max(0, CASE WHEN a.nxt_ev = 'WRAPUPEND' AND a.nxt < ? THEN a.nxt - a.ts
                 ELSE min(coalesce(aw.secs, w.secs, 0), coalesce(a.nxt, ?) - a.ts, ? - a.ts) END)) AS wrap
        FROM a LEFT JOIN w ON w.queue = a.queue LEFT JOIN aw ON aw.agent = a.agent
        GROUP BY a.queue, bucket"""
        rows = await self._db.fetchall(sql, [*w_params, *aw_params, t0, t1, end, end, end])
        return {(r["queue"], r["bucket"]): float(r["wrap"]) for r in rows}

    async def queue_exists(self, queue: str) -> bool:
        row = await self._db.fetchone("SELECT 1 FROM journal WHERE queue = ? LIMIT 1", (queue,))
        return row is not None

    # --- agents ------------------------------------------------------------------------

    async def agent_rows(self, t0: float, t1: float, agent: str | None = None) -> list[tuple[Any, ...]]:
        """(ts, callid, queue, agent, event, data) of agent rows in [t0, t1), oldest first."""
        sql = (
            "SELECT ts, callid, queue, agent, event, data1, data2, data3, data4, data5 FROM journal "
            "WHERE ts >= ? AND ts < ? AND agent IS NOT NULL AND agent != 'NONE'"
        )
        params: list[Any] = [t0, t1]
        if agent is not None:
            sql += " AND agent IN (?, ?)"
            params += [agent, f"Agent/{agent}"]
        rows = await self._db.fetchall(sql + " ORDER BY ts, id", params)
        return [tuple(r) for r in rows]

    async def session_rows_before(self, t0: float, lookback: float = 7 * 86400) -> list[tuple[Any, ...]]:
        """Sign-in, sign-out and pause rows of the `lookback` seconds before t0 (for the state at t0)."""
        rows = await self._db.fetchall(
            "SELECT ts, callid, queue, agent, event, data1, data2, data3, data4, data5 FROM journal "
            "WHERE ts >= ? AND ts < ? AND event IN ('AGENTLOGIN', 'AGENTLOGOFF', 'PAUSE', 'UNPAUSE') "
            "ORDER BY ts, id",
            (t0 - lookback, t0),
        )
        return [tuple(r) for r in rows]

    # --- calls -------------------------------------------------------------------------

    async def traffic(
        self, t0: float, t1: float, interval: str | None, offset: float
    ) -> list[dict[str, Any]]:
        """Per bucket: calls by direction, answered, talk and line seconds, average wait."""
        merged: dict[float, dict[str, Any]] = {}
        inner = _aligned(t0, t1, offset)
        ranges = [(t0, t1)] if inner is None else _ranges(t0, inner[0], inner[1], t1, [])
        if inner is not None:
            rows = await self._rows(
                """SELECT bucket, sum(calls) AS calls, sum(CASE WHEN direction = 'in' THEN calls END) AS inbound,
                  sum(CASE WHEN direction = 'out' THEN calls END) AS outbound,
                  sum(CASE WHEN direction = 'internal' THEN calls END) AS internal,
                  sum(answered) AS answered, sum(missed) AS missed, total(talk) AS talk,
                  total(duration) AS duration, total(delay_sum) AS delay_sum, sum(delay_n) AS delay_n
                FROM rollup_calls WHERE bucket >= ? AND bucket < ? GROUP BY bucket""",
                [inner[0], inner[1]],
            )
            for r in rows:
                if r["calls"]:
                    _merge(merged, _py_bucket(r["bucket"], interval, offset), r)
        for r0, r1 in ranges:
            b = bucket_sql("start", interval, offset)
            sql = f"""
            SELECT {b} AS bucket, count(*) AS calls,
              sum(direction = 'in') AS inbound, sum(direction = 'out') AS outbound,
              sum(direction = 'internal') AS internal,
              sum(answer IS NOT NULL) AS answered,
              sum(direction = 'in' AND answer IS NULL) AS missed,
              total(billsec) AS talk, total(duration) AS duration,
              total(CASE WHEN direction = 'in' AND answer IS NOT NULL THEN answer - start END) AS delay_sum,
              sum(direction = 'in' AND answer IS NOT NULL) AS delay_n
            FROM calls WHERE start >= ? AND start < ? GROUP BY bucket"""
            for r in await self._rows(sql, [r0, r1]):
                _merge(merged, _py_bucket(r["bucket"], interval, offset), r)
        out = []
        for bucket, r in sorted(merged.items()):
            n = r.pop("delay_n") or 0
            delay = r.pop("delay_sum") or 0.0
            out.append(
                {
                    "bucket": bucket,
                    **{k: r.get(k) or 0 for k in _TRAFFIC},
                    "answer_delay": delay / n if n else None,
                }
            )
        return out

    async def trunks(self, t0: float, t1: float) -> list[dict[str, Any]]:
        """Per trunk: seizures, by direction, answered, line seconds, rings without caller ID."""
        merged: dict[str, dict[str, Any]] = {}
        inner = _aligned(t0, t1, 0.0)
        ranges = [(t0, t1)] if inner is None else _ranges(t0, inner[0], inner[1], t1, [])
        if inner is not None:
            for r in await self._rows(
                """SELECT trunk, sum(calls) AS seizures, sum(CASE WHEN direction = 'in' THEN calls END) AS inbound,
                  sum(CASE WHEN direction = 'out' THEN calls END) AS outbound, sum(answered) AS answered,
                  total(duration) AS duration, total(talk) AS talk, sum(no_cid) AS no_cid
                FROM rollup_calls WHERE bucket >= ? AND bucket < ? AND trunk != '' GROUP BY trunk""",
                [inner[0], inner[1]],
            ):
                if r["seizures"]:
                    _merge(merged, r["trunk"], r)
        for r0, r1 in ranges:
            sql = """
            SELECT trunk, count(*) AS seizures, sum(direction = 'in') AS inbound,
              sum(direction = 'out') AS outbound, sum(answer IS NOT NULL) AS answered,
              total(duration) AS duration, total(billsec) AS talk,
              sum(direction = 'in' AND (src IS NULL OR src = '' OR src IN ('P', 'O'))) AS no_cid
            FROM calls WHERE start >= ? AND start < ? AND trunk IS NOT NULL AND trunk != ''
            GROUP BY trunk"""
            for r in await self._rows(sql, [r0, r1]):
                _merge(merged, r["trunk"], r)
        keys = ("seizures", "inbound", "outbound", "answered", "duration", "talk", "no_cid")
        return [{"trunk": t, **{k: r.get(k) or 0 for k in keys}} for t, r in sorted(merged.items())]

    async def customers(self, t0: float, t1: float, limit: int = 200) -> list[dict[str, Any]]:
        """Calls per customer (unknown numbers grouped by number), most calls first.

        Whole UTC weeks and days come from migration 5's per-caller rollups, the ragged edges
        (under a day each) from the CDRs. Callers tied on calls and last call are ordered by
        their key (customers first, then numbers, as text), so the top rows are the same each time.
        """
        raw, days, weeks = _caller_spans(t0, t1)
        part = "SELECT caller, calls, inbound, outbound, answered, talk, last_call FROM {t} WHERE bucket >= ? AND bucket < ?"
        edge = f"""SELECT {_CALLER_KEY} AS caller, count(*), sum(direction = 'in'), sum(direction = 'out'),
            sum(answer IS NOT NULL), total(billsec), max(start)
            FROM calls WHERE start >= ? AND start < ? AND {_CALLER_KEY} IS NOT NULL GROUP BY 1"""
        arms = [part.format(t="rollup_caller_week")] + [part.format(t="rollup_caller_day")] * len(days)
        arms += [edge] * len(raw)
        sql = f"""
        WITH part(caller, calls, inbound, outbound, answered, talk, last_call) AS ({" UNION ALL ".join(arms)}),
        top AS (SELECT caller, sum(calls) AS calls, sum(inbound) AS inbound, sum(outbound) AS outbound,
                  sum(answered) AS answered, total(talk) AS talk, max(last_call) AS last_call
                FROM part GROUP BY caller ORDER BY calls DESC, last_call DESC, caller LIMIT ?),
        who AS (SELECT top.*, CASE WHEN substr(caller, 1, 1) = 'c' THEN CAST(substr(caller, 2) AS INTEGER) END AS cid
                FROM top)
        SELECT who.cid AS customer_id, cu.name AS name,
          CASE WHEN who.cid IS NULL THEN substr(who.caller, 2) END AS number,
          who.calls AS calls, who.inbound AS inbound, who.outbound AS outbound, who.answered AS answered,
          who.talk AS talk, who.last_call AS last_call
        FROM who LEFT JOIN customers cu ON cu.id = who.cid
        ORDER BY who.calls DESC, who.last_call DESC, who.caller"""
        params: list[Any] = [*weeks, *[x for d in days for x in d], *[x for r in raw for x in r], int(limit)]
        return await self._rows(sql, params)

    async def survey(self, t0: float, t1: float) -> list[dict[str, Any]]:
        """Per agent: surveys answered, average score, and how many gave each score 1..5."""
        sql = """
        SELECT coalesce(agent, '') AS agent, count(*) AS surveys, avg(survey_score) AS average,
          sum(survey_score = 1) AS s1, sum(survey_score = 2) AS s2, sum(survey_score = 3) AS s3,
          sum(survey_score = 4) AS s4, sum(survey_score = 5) AS s5
        FROM calls WHERE start >= ? AND start < ? AND survey_score IS NOT NULL
        GROUP BY agent ORDER BY agent"""
        return await self._rows(sql, [t0, t1])

    async def sales(self, t0: float, t1: float) -> list[dict[str, Any]]:
        """产品销售排行: per product, quantity and amount (fen) of orders not cancelled, best first."""
        sql = """
        SELECT p.sku AS sku, p.name AS name, sum(ol.qty) AS qty, sum(ol.qty * ol.price) AS amount,
          count(DISTINCT o.id) AS orders, count(DISTINCT o.customer_id) AS customers
        FROM orders o JOIN order_lines ol ON ol.order_id = o.id JOIN products p ON p.id = ol.product_id
        WHERE o.created >= ? AND o.created < ? AND o.status != 'cancelled'
        GROUP BY p.id ORDER BY amount DESC, qty DESC, p.sku"""
        return await self._rows(sql, [t0, t1])

    async def calls_per_bucket(
        self, t0: float, t1: float, size: int = 900, direction: str = "in"
    ) -> dict[int, int]:
        """Bucket index (0 = the bucket starting at t0) -> calls started in it."""
        rows = await self._db.fetchall(
            "SELECT CAST((start - ?) / ? AS INTEGER) AS i, count(*) AS n FROM calls "
            "WHERE start >= ? AND start < ? AND direction = ? GROUP BY i",
            (t0, size, t0, t1, direction),
        )
        return {int(r["i"]): int(r["n"]) for r in rows}


# --- agent time from the rollups of migration 4 ----------------------------------------------------

_SESSION_EVENTS = "('AGENTLOGIN', 'AGENTLOGOFF', 'PAUSE', 'UNPAUSE')"
_ACTIVITY_EVENTS = (
    "('CONNECT', 'AGENTLOGOFF', 'COMPLETEAGENT', 'COMPLETECALLER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')"
)


def _spellings(agent: str) -> list[str]:
    """How the journal may spell an agent ("1001" and "Agent/1001"), as `_agent_keys`."""
    return [agent, f"Agent/{agent}"]


class AgentRollups:
    """Reads behind the agent and sign-in reports (rollups of migration 4, and the few raw rows
    at the edges of a period). Build with `AgentRollups.of(store)`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @classmethod
    def of(cls, store: Any) -> AgentRollups:
        return cls(store._db)

    async def agents(self, agent: str | None = None) -> dict[str, dict[str, Any]]:
        """agent -> their state after their newest journal row (`agent_now`)."""
        sql = "SELECT * FROM agent_now" + (" WHERE agent = ?" if agent is not None else "")
        rows = await self._db.fetchall(sql, [agent] if agent is not None else [])
        return {r["agent"]: dict(r) for r in rows}

    async def times(
        self, a0: float, a1: float, agent: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(seconds per agent, kind, reason; call counts per agent) over whole buckets [a0, a1):
        whole UTC days from the daily tables, the rest from the 15-minute ones."""
        times: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for suffix, b0, b1 in _day_parts(a0, a1):
            where, params = _bucket_where(b0, b1, agent)
            times += [
                dict(r)
                for r in await self._db.fetchall(
                    f"SELECT agent, kind, reason, total(secs) AS secs FROM rollup_agent{suffix} WHERE {where} "
                    "GROUP BY 1, 2, 3",
                    params,
                )
            ]
            calls += [
                dict(r)
                for r in await self._db.fetchall(
                    f"""SELECT agent, sum(answered) AS answered, sum(handled) AS handled,
                    sum(transferred) AS transferred, total(talk) AS talk, sum(ring_no_answer) AS ring_no_answer,
                    total(wrap) AS wrap, max(wrap_reach) AS wrap_reach, sum(unvouched) AS unvouched
                    FROM rollup_agent_calls{suffix} WHERE {where} GROUP BY agent""",
                    params,
                )
            ]
        return times, calls

    async def unvouched(
        self, a0: float, a1: float, end: float, agent: str | None = None, limit: int = 24
    ) -> dict[str, dict[float, bool] | None]:
        """agent -> {15-minute bucket of [a0, a1) whose agent figures the rollup cannot vouch for
        in a period ending at `end`: True when every later bucket up to a1 is unvouched too}.

        A bucket is unvouched when it holds a call whose wrap-up no WRAPUPEND ends (`unvouched`;
        migration 4 counts its other doubts there too, which `breaks` tells apart) or one ends at
        or after `end` (the walk caps that wrap-up at `end`, so the agent's buckets up to a1 are
        all in it), or 'pending' seconds (such a wrap-up, and the time after it until the agent's
        next row). Whole days are screened in the daily twins and only the days that hold one are
        read by quarter hour; an agent with more than `limit` such days maps to None (the caller
        walks that agent's whole period instead)."""
        out: dict[str, dict[float, bool] | None] = {}
        days: dict[str, list[float]] = {}
        for suffix, b0, b1 in _day_parts(a0, a1):
            for name, bucket, to_end in await self._unvouched_rows(suffix, b0, b1, end, agent):
                if suffix:
                    days.setdefault(name, []).append(bucket)
                else:
                    _flag(out.setdefault(name, {}), bucket, to_end)
        for name, ds in sorted(days.items()):
            if len(set(ds)) > limit:
                out[name] = None
                continue
            flags = out.setdefault(name, {})
            for _, bucket, to_end in await self._unvouched_rows("", min(ds), max(ds) + 86400.0, end, name):
                if flags is not None:
                    _flag(flags, bucket, to_end)
        return out

    async def _unvouched_rows(
        self, suffix: str, b0: float, b1: float, end: float, agent: str | None
    ) -> list[tuple[str, float, bool]]:
        """(agent, bucket, wrap-up reaching `end`) of the unvouched buckets of one rollup table pair."""
        where, params = _bucket_where(b0, b1, agent)
        rows = await self._db.fetchall(
            f"""SELECT agent, bucket, wrap_reach >= ? AS to_end FROM rollup_agent_calls{suffix}
            WHERE {where} AND (unvouched > 0 OR wrap_reach >= ?)
            UNION SELECT DISTINCT agent, bucket, 0 FROM rollup_agent{suffix} WHERE {where} AND kind = 'pending'""",
            [end, *params, end, *params],
        )
        return [(str(r[0]), float(r[1]), bool(r[2])) for r in rows]

    async def breaks(
        self, a0: float, a1: float, agent: str | None = None
    ) -> list[tuple[str, float, float | None]]:
        """(agent, start, healed) of migration 6's breaks that may touch the buckets [a0, a1): from the
        bucket of `start` to the bucket of `healed` (to a1 while not healed) the rollup is not the walk's."""
        sql = "SELECT agent, start, healed FROM rollup_agent_breaks WHERE start < ? AND (healed IS NULL OR healed >= ?)"
        params: list[Any] = [a1, a0 - ROLLUP]
        if agent is not None:
            sql += " AND agent = ?"
            params.append(agent)
        rows = await self._db.fetchall(sql, params)
        return [(str(r[0]), float(r[1]), None if r[2] is None else float(r[2])) for r in rows]

    async def state_at(self, x: float, agents: list[str]) -> dict[str, dict[str, Any]]:
        """Each agent's state just before `x` from their own rows (no look-back window):
        last sign-in/out, last session row (pause reason), last row that sets the activity,
        their last row, and their first row at or after `x` (where a wrap-up in progress ends)."""
        out: dict[str, dict[str, Any]] = {}
        for agent in agents:
            best: dict[str, Any] = {"agent": agent}
            for sp in _spellings(agent):
                row = await self._db.fetchone(
                    f"""SELECT
                    (SELECT event FROM journal WHERE agent = :a AND event IN {_SESSION_EVENTS}
                        AND event IN ('AGENTLOGIN', 'AGENTLOGOFF') AND ts < :x ORDER BY ts DESC, id DESC LIMIT 1)
                        AS l_event,
                    (SELECT ts FROM journal WHERE agent = :a AND event IN {_SESSION_EVENTS}
                        AND event IN ('AGENTLOGIN', 'AGENTLOGOFF') AND ts < :x ORDER BY ts DESC, id DESC LIMIT 1)
                        AS l_ts,
                    (SELECT event || char(31) || coalesce(data1, '') || char(31) || ts FROM journal
                        WHERE agent = :a AND event IN {_SESSION_EVENTS} AND ts < :x
                        ORDER BY ts DESC, id DESC LIMIT 1) AS p_row,
                    (SELECT event || char(31) || id || char(31) || ts || char(31) || coalesce(queue, '')
                        FROM journal WHERE agent = :a AND event IN {_ACTIVITY_EVENTS} AND ts < :x
                        ORDER BY ts DESC, id DESC LIMIT 1) AS a_row,
                    (SELECT id || char(31) || ts FROM journal WHERE agent = :a AND ts < :x
                        ORDER BY ts DESC, id DESC LIMIT 1) AS last_row,
                    (SELECT event || char(31) || ts FROM journal WHERE agent = :a AND ts >= :x
                        ORDER BY ts, id LIMIT 1) AS next_row""",
                    {"a": sp, "x": x},
                )
                _keep_latest(best, dict(row))
            out[agent] = best
        return out

    async def rows(
        self, t0: float, t1: float, agent: str | None = None, lookahead: bool = True
    ) -> list[tuple[Any, ...]]:
        """Agent rows in [t0, t1), oldest first, and (lookahead) each agent's first row at or after
        t1, so a wrap-up running over t1 ends where the journal says."""
        q = ReportQueries(self._db)
        rows = await q.agent_rows(t0, t1, agent)
        if lookahead:
            seen = {r[3] for r in rows}
            for raw in seen:
                nxt = await self._db.fetchone(
                    "SELECT ts, callid, queue, agent, event, data1, data2, data3, data4, data5 FROM journal "
                    "WHERE agent = ? AND ts >= ? ORDER BY ts, id LIMIT 1",
                    (raw, t1),
                )
                if nxt is not None:
                    rows.append(tuple(nxt))
        return rows

    async def signin_rows(
        self, t0: float, t1: float, agent: str | None = None
    ) -> list[tuple[float, str, str]]:
        """(ts, agent, event) of the sign-in and sign-out rows in [t0, t1), oldest first: the
        covering index of migration 7 alone (one range of it, no journal page)."""
        sql = (
            # the index's own WHERE term, word for word, so the planner may use the partial index
            "SELECT ts, agent, event FROM journal INDEXED BY journal_signins "
            "WHERE event IN ('AGENTLOGIN', 'AGENTLOGOFF') AND ts >= ? AND ts < ?"
        )
        params: list[Any] = [t0, t1]
        if agent is not None:
            sql += " AND agent IN (?, ?)"
            params += _spellings(agent)
        rows = await self._db.fetchall(sql + " ORDER BY ts, id", params)
        return [(float(r[0]), r[1], r[2]) for r in rows]


def _day_parts(a0: float, a1: float) -> list[tuple[str, float, float]]:
    """[a0, a1) cut for the agent rollups: (table suffix, from, to) — whole UTC days from the daily
    twins ("_day"), the quarter hours before and after them from the 15-minute tables ("")."""
    d0 = math.ceil(a0 / 86400) * 86400.0
    d1 = math.floor(a1 / 86400) * 86400.0
    parts = [("", a0, d0), ("_day", d0, d1), ("", d1, a1)] if d1 > d0 else [("", a0, a1)]
    return [(suffix, b0, b1) for suffix, b0, b1 in parts if b1 > b0]


def _bucket_where(b0: float, b1: float, agent: str | None) -> tuple[str, list[Any]]:
    """The WHERE text (buckets [b0, b1), one agent or all) and its parameters."""
    where = "bucket >= ? AND bucket < ?" + (" AND agent = ?" if agent is not None else "")
    return where, [b0, b1] + ([agent] if agent is not None else [])


def _flag(flags: dict[float, bool] | None, bucket: float, to_end: bool) -> None:
    if flags is not None:
        flags[bucket] = flags.get(bucket, False) or to_end


def _keep_latest(best: dict[str, Any], row: dict[str, Any]) -> None:
    """Merge one spelling's answers into `best`: the latest row before x, the earliest after."""

    def ts_of(value: Any, index: int) -> float | None:
        return None if value is None else float(str(value).split("\x1f")[index])

    if row["l_event"] is not None and (best.get("l_ts") is None or row["l_ts"] > best["l_ts"]):
        best["l_event"], best["l_ts"] = row["l_event"], row["l_ts"]
    for key, index, latest in (
        ("p_row", 2, True),
        ("a_row", 2, True),
        ("last_row", 1, True),
        ("next_row", 1, False),
    ):
        new, old = ts_of(row[key], index), ts_of(best.get(key), index)
        if new is not None and (old is None or (new > old if latest else new < old)):
            best[key] = row[key]
