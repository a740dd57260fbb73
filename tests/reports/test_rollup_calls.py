"""Traffic and trunk figures from the calls rollup equal a direct count over the CDRs, also after
calls are answered, ended and deleted (the triggers follow every change)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from ccd.clock import VirtualClock
from ccd.store import Store
from ccd.store.reports import ReportQueries

DAY = 1767542400.0  # 2026-01-05 00:00 Beijing


async def test_rollup_traffic_and_trunks_equal_the_cdrs(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = await Store.open(path, VirtualClock(DAY + 86400))
    await store.close()
    rng = random.Random(4)
    conn = sqlite3.connect(path)
    for i in range(600):
        start = DAY + rng.uniform(0, 86400)
        direction = rng.choice(("in", "in", "out", "internal"))
        src = rng.choice(("13800000001", "", None, "P"))
        conn.execute(
            "INSERT INTO calls(uniqueid, direction, start, src, trunk) VALUES (?, ?, ?, ?, ?)",
            (f"u{i}", direction, start, src, rng.choice(("1", "2", None))),
        )
    for i in range(0, 600, 2):  # answered and ended later, as the daemon writes them
        conn.execute(
            'UPDATE calls SET answer = start + 7, "end" = start + 67, duration = 67, billsec = 60 '
            "WHERE uniqueid = ?",
            (f"u{i}",),
        )
    conn.execute("DELETE FROM calls WHERE uniqueid IN ('u3', 'u4')")
    conn.commit()
    conn.close()
    store = await Store.open(path, VirtualClock(DAY + 86400))
    try:
        q = ReportQueries.of(store)
        t0, t1 = DAY + 3 * 3600 + 123.0, DAY + 20 * 3600 + 17.0  # ragged edges
        got = {r["bucket"]: r for r in await q.traffic(t0, t1, "1h", 28800.0)}
        want = await store._db.fetchall(
            "SELECT CAST((start + 28800) / 3600 AS INTEGER) * 3600 - 28800.0 AS bucket, count(*) AS calls, "
            "sum(answer IS NOT NULL) AS answered, total(billsec) AS talk, "
            "avg(CASE WHEN direction = 'in' AND answer IS NOT NULL THEN answer - start END) AS delay "
            "FROM calls WHERE start >= ? AND start < ? GROUP BY 1",
            (t0, t1),
        )
        assert len(got) == len(want)
        for w in want:
            g = got[w["bucket"]]
            assert (g["calls"], g["answered"], g["talk"]) == (w["calls"], w["answered"], w["talk"])
            assert (g["answer_delay"] or 0) == (w["delay"] or 0)
        trunks = {r["trunk"]: r for r in await q.trunks(t0, t1)}
        want_t = await store._db.fetchall(
            "SELECT trunk, count(*) AS n, sum(direction = 'in' AND (src IS NULL OR src IN ('', 'P', 'O'))) AS no_cid "
            "FROM calls WHERE start >= ? AND start < ? AND trunk IS NOT NULL GROUP BY trunk",
            (t0, t1),
        )
        assert {w["trunk"]: (w["n"], w["no_cid"]) for w in want_t} == {
            k: (r["seizures"], r["no_cid"]) for k, r in trunks.items()
        }
    finally:
        await store.close()
