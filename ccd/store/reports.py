"""Read-only aggregate queries behind the supervisor reports (`ccd report`, the wallboard).

A report over a million calls must come back within a second, so these never load rows
into Python objects: SQLite counts and sums, grouped by interval bucket, and hands back a
few hundred result rows. The queue counts follow exactly the rules written out in
`ccd.metrics.journal` (a test holds both to the same numbers on the same journal).

Buckets are computed in SQL from the period's UTC offset: ``interval`` is one of 15m, 30m,
1h, day, week (from Monday), month, or None for a single bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ccd.store.base import Database

_SIZES = {"15m": 900, "30m": 1800, "1h": 3600, "day": 86400, "week": 604800}
_MONDAY = 4 * 86400  # 1970-01-05, the first Monday after the epoch
HANDLED_COMPLETE = ("COMPLETEAGENT", "COMPLETECALLER")
HANDLED_TRANSFER = ("BLINDTRANSFER", "ATTENDEDTRANSFER")
HANDLED = HANDLED_COMPLETE + HANDLED_TRANSFER


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
        """
        th_sql, th_params = _values([(q, t, s) for q, (t, s) in thresholds.items()], 3)
        b = bucket_sql("j.ts", interval, offset)
        qfilter = "AND queue = ?" if queue is not None else ""
        sql = f"""
        WITH th(queue, t, s) AS ({th_sql}),
        j AS (SELECT ts, callid, queue, event, data1, data2, data3, data4 FROM journal
              WHERE ts >= ? AND ts < ? AND queue IS NOT NULL AND queue != 'NONE' {qfilter}),
        cb AS MATERIALIZED (SELECT DISTINCT queue, callid FROM j WHERE event = 'CALLBACK'),
        k AS (SELECT j.*, {b} AS bucket, coalesce(th.t, ?) AS t, coalesce(th.s, ?) AS s,
                     CAST(j.data1 AS REAL) AS d1, CAST(j.data3 AS REAL) AS d3,
                     (j.event = 'CONNECT' AND EXISTS (SELECT 1 FROM cb WHERE cb.queue = j.queue
                        AND cb.callid IS j.callid)) AS is_cb
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
        """(queue, bucket) -> Σ wrap-up: min(configured, to the agent's next row, to `end`)."""
        w_sql, w_params = _values(list(queue_wrap.items()), 2)
        aw_sql, aw_params = _values(_agent_keys(agent_wrap), 2)
        b = bucket_sql("a.ts", interval, offset)
        sql = f"""
        WITH w(queue, secs) AS ({w_sql}), aw(agent, secs) AS ({aw_sql}),
        a AS (SELECT ts, queue, agent, event,
                     lead(ts) OVER (PARTITION BY agent ORDER BY ts, id) AS nxt
              FROM journal WHERE ts >= ? AND ts < ? AND agent IS NOT NULL AND agent != 'NONE')
        SELECT a.queue AS queue, {b} AS bucket,
               total(max(0, min(coalesce(aw.secs, w.secs, 0), coalesce(a.nxt, ?) - a.ts, ? - a.ts))) AS wrap
        FROM a LEFT JOIN w ON w.queue = a.queue LEFT JOIN aw ON aw.agent = a.agent
        WHERE a.event IN {HANDLED!r} GROUP BY a.queue, bucket"""
        rows = await self._db.fetchall(sql, [*w_params, *aw_params, t0, t1, end, end])
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
        b = bucket_sql("start", interval, offset)
        sql = f"""
        SELECT {b} AS bucket, count(*) AS calls,
          sum(direction = 'in') AS inbound, sum(direction = 'out') AS outbound,
          sum(direction = 'internal') AS internal,
          sum(answer IS NOT NULL) AS answered,
          sum(direction = 'in' AND answer IS NULL) AS missed,
          total(billsec) AS talk, total(duration) AS duration,
          avg(CASE WHEN direction = 'in' AND answer IS NOT NULL THEN answer - start END) AS answer_delay
        FROM calls WHERE start >= ? AND start < ? GROUP BY bucket ORDER BY bucket"""
        return await self._rows(sql, [t0, t1])

    async def trunks(self, t0: float, t1: float) -> list[dict[str, Any]]:
        """Per trunk: seizures, by direction, answered, line seconds, rings without caller ID."""
        sql = """
        SELECT trunk, count(*) AS seizures, sum(direction = 'in') AS inbound,
          sum(direction = 'out') AS outbound, sum(answer IS NOT NULL) AS answered,
          total(duration) AS duration, total(billsec) AS talk,
          sum(direction = 'in' AND (src IS NULL OR src = '' OR src IN ('P', 'O'))) AS no_cid
        FROM calls WHERE start >= ? AND start < ? AND trunk IS NOT NULL AND trunk != ''
        GROUP BY trunk ORDER BY trunk"""
        return await self._rows(sql, [t0, t1])

    async def customers(self, t0: float, t1: float, limit: int = 200) -> list[dict[str, Any]]:
        """Calls per customer (unknown numbers grouped by number), most calls first."""
        sql = """
        SELECT c.customer_id AS customer_id, cu.name AS name,
          CASE WHEN c.customer_id IS NULL THEN c.peer_key END AS number,
          count(*) AS calls, sum(c.direction = 'in') AS inbound, sum(c.direction = 'out') AS outbound,
          sum(c.answer IS NOT NULL) AS answered, total(c.billsec) AS talk, max(c.start) AS last_call
        FROM calls c LEFT JOIN customers cu ON cu.id = c.customer_id
        WHERE c.start >= ? AND c.start < ? AND (c.customer_id IS NOT NULL OR c.peer_key IS NOT NULL)
        GROUP BY coalesce('c' || c.customer_id, 'n' || c.peer_key)
        ORDER BY calls DESC, last_call DESC LIMIT ?"""
        return await self._rows(sql, [t0, t1, int(limit)])

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
