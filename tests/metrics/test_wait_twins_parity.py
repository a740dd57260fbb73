"""The queue figures read through migration 5's hourly and daily twins of the wait histogram equal
the pure row counter over several days, for ragged periods, every interval, time zones whose
offset is whole days, whole hours or neither, and journals whose wrap-ups are all, mostly or never
ended by WRAPUPEND (buckets the rollup cannot vouch for are recounted raw, and a twin holding one
is not read); and the twins follow `rollup_waits` row for row, also when its rows change or go."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.definitions import thresholds_for, wrap_times
from ccd.metrics.journal import Row, queue_counts, wrap_lookup
from ccd.metrics.period import bucket_start, utc_offset
from ccd.metrics.reports import Context, queue_counts_sql
from ccd.store import Store
from ccd.store import reports as store_reports
from ccd.store.db import CHINA_TZ
from tests.metrics.helpers import journal_database
from tests.metrics.scenario import DAY, journal_tuples
from tests.metrics.test_rollup_parity import TOML, office_day

NEPAL = dt.timezone(dt.timedelta(hours=5, minutes=45))  # quarter-hour buckets nest, hours do not
ZONES: dict[str, tuple[dt.tzinfo, tuple[str | None, ...]]] = {
    "china": (CHINA_TZ, (None, "15m", "30m", "1h", "day", "week", "month")),
    "utc": (dt.UTC, (None, "1h", "day", "week")),
    "nepal": (NEPAL, (None, "15m", "1h", "day")),
}
STRIDE = 30 * 3600  # each morning six hours later than the last: busy hours over both midnights


def office_days(n: int, wrapupend: bool, share: float) -> list[Row]:
    """`n` random mornings of `office_day`, each STRIDE after the one before (own call ids)."""
    rows: list[Row] = []
    for k in range(n):
        for r in office_day(20 + k, wrapupend, wrapupend_share=share):
            cid = f"d{k}{r.callid}" if r.callid else None
            rows.append(dataclasses.replace(r, ts=r.ts + k * STRIDE, callid=cid))
    rows.sort(key=lambda r: r.ts)
    return rows


def periods(rows: list[Row], now: float) -> list[tuple[float, float]]:
    first = rows[0].ts
    utc0 = (first // 86400 + 1) * 86400  # the first UTC midnight after the first row
    return [
        (first - 86400, now + 86400),  # everything: whole UTC days inside, now inside
        (DAY + 437.5, now - 1234.25),  # ragged both ends
        (utc0, utc0 + 3 * 86400),  # whole UTC days
        (utc0 - 900, utc0 + 86400 + 1800),  # a UTC day and quarter hours around it
        (DAY + STRIDE + 8 * 3600 + 100, DAY + STRIDE + 9 * 3600 + 4000),  # part of one morning
    ]


@pytest.mark.parametrize(("wrapupend", "share"), [(True, 1.0), (True, 0.95), (False, 0.0)])
async def test_queue_counts_through_the_twins_equal_the_pure_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrapupend: bool, share: float
) -> None:
    cfg = config_from_text(TOML)
    rows = office_days(4, wrapupend, share)
    now = rows[-1].ts - 400  # some wrap-ups still running at "now"
    store = await Store.open(tmp_path / "w.db", VirtualClock(now))
    await store.journal.append_many(journal_tuples([r for r in rows if r.ts <= now]))
    used: set[str] = set()

    def spy(*args: Any) -> dict[str, list[tuple[float, float]]]:
        plan = wait_ranges(*args)
        used.update(plan)
        return plan

    wait_ranges = store_reports._wait_ranges
    monkeypatch.setattr(store_reports, "_wait_ranges", spy)
    qwrap, awrap = wrap_times(cfg)
    callbacks = {(r.queue, r.callid) for r in rows if r.event == "CALLBACK"}
    try:
        for t0, t1 in periods(rows, now):
            for zone, (tz, intervals) in ZONES.items():
                for interval in intervals:
                    ctx = Context(store, cfg, t0, t1, now, tz, None, None, interval)
                    got = await queue_counts_sql(ctx)
                    off = utc_offset(tz, t0)
                    want = queue_counts(
                        [r for r in rows if t0 <= r.ts < t1 and r.ts <= now],
                        lambda q: thresholds_for(cfg, q),
                        end=min(t1, now),
                        wrap_for=wrap_lookup(qwrap, awrap),
                        bucket=(lambda ts, iv=interval, o=off: bucket_start(ts, iv, o) if iv else 0.0),
                        callbacks=callbacks,
                    )
                    where = (t0, t1, zone, interval)
                    assert set(got) == set(want), where
                    for key, c in want.items():
                        g, w = got[key].as_dict(), c.as_dict()
                        for field, value in w.items():
                            assert g[field] == pytest.approx(value, abs=1e-6), (*where, key, field)
    finally:
        await store.close()
    if share == 1.0:  # whole days and hours were read from the twins
        assert {"rollup_waits_day", "rollup_waits_hour", "rollup_waits"} <= used


TWINS = {"rollup_waits_hour": 3600, "rollup_waits_day": 86400}


def assert_twins_follow(conn: sqlite3.Connection, where: str) -> None:
    for table, size in TWINS.items():
        got = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
        want = conn.execute(
            f"SELECT queue, CAST(bucket / {size} AS INTEGER) * {size}.0, kind, wait, sum(n) FROM rollup_waits "
            "GROUP BY 1, 2, 3, 4 HAVING sum(n) > 0 ORDER BY 1, 2, 3, 4"
        ).fetchall()
        assert got and got == want, (where, table)


async def test_twins_follow_the_quarter_hour_histogram(tmp_path: Path) -> None:
    rows = office_days(3, True, 1.0)
    path = tmp_path / "t.db"
    await journal_database(path, rows, rows[-1].ts)
    conn = sqlite3.connect(path)
    try:
        assert_twins_follow(conn, "journal written")
        # rows of the 15-minute histogram changed or deleted (no ccd code does; the twins follow anyway)
        conn.execute("UPDATE rollup_waits SET n = n + 2 WHERE CAST(wait AS INTEGER) % 7 = 0 AND kind = 'C'")
        conn.execute("UPDATE rollup_waits SET n = 0 WHERE wait = 3")
        conn.execute("DELETE FROM rollup_waits WHERE wait > 50 OR n = 0")
        assert_twins_follow(conn, "changed")
        assert not conn.execute("SELECT 1 FROM rollup_waits_hour WHERE n <= 0").fetchall()
    finally:
        conn.close()


def test_wait_ranges_pick_the_coarsest_histogram_that_nests() -> None:
    ranges = store_reports._wait_ranges
    d0 = 20000 * 86400.0  # a UTC midnight
    # one bucket: a whole day, then hours, then quarter hours at the ragged end
    assert ranges(d0 - 900, d0 + 86400 + 3600 + 1800, [], None, 0.0) == {
        "rollup_waits_day": [(d0, d0 + 86400)],
        "rollup_waits_hour": [(d0 + 86400, d0 + 86400 + 3600)],
        "rollup_waits": [(d0 - 900, d0), (d0 + 86400 + 3600, d0 + 86400 + 3600 + 1800)],
    }
    # a deficit bucket: its day is read by hours, its hour by quarter hours, itself from no table
    bad = d0 + 5 * 3600 + 900
    got = ranges(d0, d0 + 86400, [bad], None, 0.0)
    assert "rollup_waits_day" not in got
    assert got["rollup_waits_hour"] == [(d0, d0 + 5 * 3600), (d0 + 6 * 3600, d0 + 86400)]
    assert got["rollup_waits"] == [(d0 + 5 * 3600, bad), (bad + 900, d0 + 6 * 3600)]
    # daily buckets in Beijing: UTC days straddle two of them, hours do not
    got = ranges(d0, d0 + 2 * 86400, [], "day", 8 * 3600.0)
    assert set(got) == {"rollup_waits_hour"}
    # half-hour buckets: only quarter hours nest; Nepal's hours straddle two of its hours
    assert set(ranges(d0, d0 + 86400, [], "30m", 0.0)) == {"rollup_waits"}
    assert set(ranges(d0, d0 + 86400, [], "1h", 5.75 * 3600)) == {"rollup_waits"}
