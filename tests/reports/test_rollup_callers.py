"""The customer report from migration 5's per-caller rollups equals the same grouping computed
straight from the CDRs, for periods with ragged edges, shorter than a day, and spanning whole
weeks; and the rollups stay equal to the CDRs while calls are answered, finished, linked to a
customer, moved, re-keyed and deleted, and when a customer is deleted (SET NULL on its calls)."""

from __future__ import annotations

import random
import sqlite3
from itertools import pairwise
from pathlib import Path

from ccd.clock import VirtualClock
from ccd.store import Store
from ccd.store.reports import ReportQueries, _caller_spans

DAY = 1767542400.0  # 2026-01-05 00:00 Beijing = 2026-01-04 16:00 UTC (a Sunday)
SPAN = 22 * 86400  # three whole UTC weeks and more
NUMBERS = [f"1380000{i:04d}" for i in range(25)]

# The customer report's query before migration 5, with a tie-break on the caller's key (the
# rollup's order for calls tied on both count and last call): what every result must equal.
DIRECT = """
SELECT c.customer_id AS customer_id, cu.name AS name,
  CASE WHEN c.customer_id IS NULL THEN c.peer_key END AS number,
  count(*) AS calls, sum(c.direction = 'in') AS inbound, sum(c.direction = 'out') AS outbound,
  sum(c.answer IS NOT NULL) AS answered, total(c.billsec) AS talk, max(c.start) AS last_call
FROM calls c LEFT JOIN customers cu ON cu.id = c.customer_id
WHERE c.start >= ? AND c.start < ? AND (c.customer_id IS NOT NULL OR c.peer_key IS NOT NULL)
GROUP BY coalesce('c' || c.customer_id, 'n' || c.peer_key)
ORDER BY calls DESC, last_call DESC, coalesce('c' || c.customer_id, 'n' || c.peer_key) LIMIT ?"""

# The rollup tables as they must be: one row per (UTC day or week from Monday, caller)
EXPECTED = """
SELECT {bucket} AS b, coalesce('c' || customer_id, 'n' || peer_key) AS k, count(*), sum(direction = 'in'),
  sum(direction = 'out'), sum(answer IS NOT NULL), total(billsec), max(start)
FROM calls WHERE customer_id IS NOT NULL OR peer_key IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"""
DAY_B = "CAST(start / 86400 AS INTEGER) * 86400.0"
WEEK_B = "CAST((start - 345600) / 604800 AS INTEGER) * 604800 + 345600.0"


def periods() -> list[tuple[float, float]]:
    rng = random.Random(9)
    fixed = [
        (DAY - 86400, DAY + SPAN + 86400),  # everything
        (DAY + 8 * 3600, DAY + 8 * 3600 + 7 * 86400),  # UTC-aligned: whole days and a week, no edges
        (DAY + 123.5, DAY + SPAN - 4567.25),  # ragged both ends, three whole weeks inside
        (DAY + 3600, DAY + 20 * 3600),  # under a day, inside one UTC day... or over its end
        (DAY + 9 * 3600, DAY + 9 * 3600 + 1),  # one second
        (DAY + 2 * 86400 + 5, DAY + 2 * 86400 + 5),  # empty
        (DAY + 86400 * 5.5, DAY + 86400 * 13.25),  # a week of whole days inside, not Monday-aligned
    ]
    return fixed + [
        tuple(sorted((DAY + rng.uniform(0, SPAN), DAY + rng.uniform(0, SPAN)))) for _ in range(12)
    ]


async def assert_report_equals_cdrs(store: Store, where: str) -> None:
    q = ReportQueries.of(store)
    for t0, t1 in periods():
        for limit in (7, 10_000):
            got = await q.customers(t0, t1, limit)
            want = [dict(r) for r in await store._db.fetchall(DIRECT, (t0, t1, limit))]
            assert got == want, (where, t0, t1, limit)


def assert_rollups_equal_cdrs(path: Path, where: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for table, bucket in (("rollup_caller_day", DAY_B), ("rollup_caller_week", WEEK_B)):
            got = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            want = conn.execute(EXPECTED.format(bucket=bucket)).fetchall()
            assert got == want, (where, table)
    finally:
        conn.close()


async def fill(store: Store, rng: random.Random, n: int, ids: list[int], tag: str) -> list[str]:
    """`n` calls over the span through the store, as the engine writes them: begun, some answered,
    finished, some linked to a customer (the screen pop), a survey now and then."""
    uids = []
    for i in range(n):
        uid = f"{tag}{i}"
        start = DAY + rng.uniform(-3600, SPAN + 3600)
        direction = rng.choice(("in", "in", "in", "out", "internal"))
        number = rng.choice([*NUMBERS, "", "P"])  # "" and "P": no caller, no peer_key
        far = {"src": number} if direction != "out" else {"dst": number}
        await store.calls.begin({"uniqueid": uid, "direction": direction, "start": start, **far})
        if rng.random() < 0.7:
            await store.calls.answer(uid, start + rng.uniform(1, 20))
        if rng.random() < 0.3 and ids:
            await store.calls.update(uid, customer_id=rng.choice(ids), agent="1001")
        if rng.random() < 0.9:
            await store.calls.finish(uid, start + rng.uniform(20, 600), "ANSWERED")
        uids.append(uid)
    return uids


async def test_customer_report_from_rollups_equals_the_cdrs(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = await Store.open(path, VirtualClock(DAY + SPAN))
    rng = random.Random(5)
    try:
        ids = [(await store.customers.add(f"客户{i}", numbers=[NUMBERS[i]])).id for i in range(6)]
        uids = await fill(store, rng, 900, ids, "u")
        assert_rollups_equal_cdrs(path, "written")
        await assert_report_equals_cdrs(store, "written")

        # every kind of change the triggers must follow
        db = store._db
        for uid in rng.sample(uids, 60):  # moved in time (to another day or week, or within its day)
            await db.write(
                "UPDATE calls SET start = start + ? WHERE uniqueid = ?", (rng.uniform(-9e5, 9e5), uid)
            )
        for uid in rng.sample(uids, 60):  # linked to another customer, or unlinked
            await db.write(
                "UPDATE calls SET customer_id = ? WHERE uniqueid = ?", (rng.choice([*ids, None]), uid)
            )
        for uid in rng.sample(uids, 40):  # re-keyed: another number, or none
            await db.write(
                "UPDATE calls SET peer_key = ? WHERE uniqueid = ?", (rng.choice([*NUMBERS[:5], None]), uid)
            )
        for uid in rng.sample(uids, 40):  # direction, answer and billsec rewritten
            await db.write(
                "UPDATE calls SET direction = ?, answer = NULL, billsec = ? WHERE uniqueid = ?",
                (rng.choice(("in", "out", "internal")), rng.randint(0, 50), uid),
            )
        await db.write("UPDATE calls SET agent = '1002' WHERE uniqueid = ?", (uids[0],))  # not counted
        for uid in rng.sample(uids, 150):
            await db.write("DELETE FROM calls WHERE uniqueid = ?", (uid,))
        assert_rollups_equal_cdrs(path, "changed")
        await assert_report_equals_cdrs(store, "changed")

        # a customer deleted: their calls fall back to being grouped by number
        await store.customers.delete(ids[0])
        assert_rollups_equal_cdrs(path, "customer deleted")
        await assert_report_equals_cdrs(store, "customer deleted")

        # a caller's newest call of a day taken away: the day and week find the one before it
        rows = await db.fetchall(
            "SELECT uniqueid FROM calls WHERE peer_key = ? AND customer_id IS NULL ORDER BY start DESC LIMIT 3",
            (NUMBERS[10],),
        )
        for r in rows:
            await db.write("DELETE FROM calls WHERE uniqueid = ?", (r["uniqueid"],))
            assert_rollups_equal_cdrs(path, "newest deleted")
        await assert_report_equals_cdrs(store, "newest deleted")
    finally:
        await store.close()


async def test_two_calls_at_the_same_moment_and_a_whole_day_deleted(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = await Store.open(path, VirtualClock(DAY + SPAN))
    try:
        at = DAY + 30 * 3600
        for uid in ("a", "b", "c"):  # the same caller, the same start: one is deleted, the max stays
            await store.calls.begin({"uniqueid": uid, "direction": "in", "start": at, "src": NUMBERS[1]})
        await store.calls.begin({"uniqueid": "d", "direction": "in", "start": at - 60, "src": NUMBERS[1]})
        await store._db.write("DELETE FROM calls WHERE uniqueid IN ('a', 'b')")
        assert_rollups_equal_cdrs(path, "same start")
        await store._db.write("DELETE FROM calls WHERE uniqueid = 'c'")
        assert_rollups_equal_cdrs(path, "older left")
        await store._db.write("DELETE FROM calls")
        assert_rollups_equal_cdrs(path, "all gone")
        conn = sqlite3.connect(path)
        try:  # no empty rows left behind
            assert conn.execute("SELECT count(*) FROM rollup_caller_day").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM rollup_caller_week").fetchone() == (0,)
        finally:
            conn.close()
    finally:
        await store.close()


def test_caller_spans_cover_the_period_once() -> None:
    for t0, t1 in periods():
        raw, days, weeks = _caller_spans(t0, t1)
        parts: list[tuple[float, float]] = sorted(p for p in [*raw, *days, weeks] if p[1] > p[0])
        if t1 <= t0:
            assert not parts
            continue
        assert parts[0][0] == t0 and parts[-1][1] == t1, (t0, t1)
        for (_, b), (c, _) in pairwise(parts):
            assert b == c, (t0, t1)
        assert all((b - a) < 86400 for a, b in raw)
        assert all(a % 86400 == 0 and b % 86400 == 0 for a, b in days)
        if weeks[1] > weeks[0]:
            assert (weeks[0] - 345600) % 604800 == 0 and (weeks[1] - 345600) % 604800 == 0
