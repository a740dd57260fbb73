"""The 15-minute rollups (migration 3) give exactly the figures of the pure row counter, for
aligned and ragged periods, every interval, and journals with and without WRAPUPEND rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.definitions import thresholds_for, wrap_times
from ccd.metrics.journal import Row, queue_counts, wrap_lookup
from ccd.metrics.period import bucket_start, utc_offset
from ccd.metrics.reports import Context, queue_counts_sql
from ccd.store import Store
from ccd.store.db import CHINA_TZ
from tests.metrics.scenario import DAY, journal_tuples

TOML = """
[[queues]]
name = "sales"
wrap_up = 10.0
service_level = 20.0

[[queues]]
name = "support"
wrap_up = 30.0

[metrics]
short_abandon = 5.0
"""


def office_day(seed: int, wrapupend: bool, wrapupend_share: float = 0.95) -> list[Row]:
    """A busy random morning: two queues, four agents, callbacks, transfers, pauses, early wrap-ups."""
    rng = random.Random(seed)
    rows: list[Row] = []
    free = {a: DAY + 8 * 3600 for a in ("1001", "1002", "1003", "1004")}
    for a in free:
        rows.append(Row(DAY + 8 * 3600 - 60, None, None, f"Agent/{a}", "AGENTLOGIN", (f"Local/8{a[-2:]}",)))
    t = DAY + 8 * 3600
    for i in range(400):
        t += rng.uniform(1, 40)
        q = rng.choice(("sales", "support"))
        cid = f"c{i}"
        rows.append(Row(t, cid, q, "NONE", "ENTERQUEUE", ("", "138", "1")))
        wait = rng.randint(0, 60)
        roll = rng.random()
        if roll < 0.15:
            rows.append(Row(t + wait, cid, q, "NONE", "ABANDON", ("1", "1", str(wait))))
            continue
        callback = roll < 0.22
        if callback:
            rows.append(Row(t + 2, cid, q, "NONE", "CALLBACK", ("138", "1")))
        agent = min(free, key=free.get)
        at = max(t + wait, free[agent])
        hold = round(at - t)
        rows.append(Row(at, cid, q, f"Agent/{agent}", "CONNECT", (str(hold), cid, "1")))
        talk = rng.randint(10, 200)
        done = at + talk
        if rng.random() < 0.1:
            rows.append(
                Row(
                    done, cid, q, f"Agent/{agent}", "BLINDTRANSFER", ("803", "ext", str(hold), str(talk), "1")
                )
            )
        else:
            rows.append(Row(done, cid, q, f"Agent/{agent}", "COMPLETECALLER", (str(hold), str(talk), "1")))
        wrap = {"sales": 10.0, "support": 30.0}[q] * (rng.random() if rng.random() < 0.3 else 1.0)
        if wrapupend and rng.random() < wrapupend_share:
            rows.append(Row(done + wrap + 0.01, cid, q, f"Agent/{agent}", "WRAPUPEND", (f"{wrap:.2f}",)))
        if rng.random() < 0.05:
            rows.append(Row(done + wrap + 1, None, None, f"Agent/{agent}", "PAUSE", ("lunch",)))
            rows.append(Row(done + wrap + 300, None, None, f"Agent/{agent}", "UNPAUSE", ("",)))
            wrap += 300
        free[agent] = done + wrap + 1
    rows.sort(key=lambda r: r.ts)
    return rows


PERIODS = [
    (DAY, DAY + 86400),  # the whole day: aligned
    (DAY + 8 * 3600 + 437.5, DAY + 10 * 3600 + 1234.25),  # ragged both ends
    (DAY + 9 * 3600, DAY + 9 * 3600 + 900),  # one bucket
    (DAY + 9 * 3600 + 100, DAY + 9 * 3600 + 700),  # inside one bucket
]


@pytest.mark.parametrize("wrapupend", [True, False])
async def test_rollup_counts_equal_the_pure_counts(tmp_path: Path, wrapupend: bool) -> None:
    cfg = config_from_text(TOML)
    rows = office_day(6, wrapupend)
    now = rows[-1].ts - 400  # some wrap-ups still running at "now"
    store = await Store.open(tmp_path / "r.db", VirtualClock(now))
    await store.journal.append_many(journal_tuples(rows))
    qwrap, awrap = wrap_times(cfg)
    try:
        for t0, t1 in [*PERIODS, (DAY + 8 * 3600, now + 3600)]:
            for interval in (None, "15m", "1h", "day"):
                ctx = Context(store, cfg, t0, t1, now, CHINA_TZ, None, None, interval)
                got = await queue_counts_sql(ctx)
                off = utc_offset(CHINA_TZ, t0)
                inside = [r for r in rows if t0 <= r.ts < t1]
                want = queue_counts(
                    inside,
                    lambda q: thresholds_for(cfg, q),
                    end=min(t1, now),
                    wrap_for=wrap_lookup(qwrap, awrap),
                    bucket=(lambda ts, iv=interval, o=off: bucket_start(ts, iv, o) if iv else 0.0),
                    callbacks={(r.queue, r.callid) for r in rows if r.event == "CALLBACK"},
                )
                assert set(got) == set(want), (t0, t1, interval)
                for key, c in want.items():
                    g, w = got[key].as_dict(), c.as_dict()
                    for field, value in w.items():
                        assert g[field] == pytest.approx(value, abs=1e-6), (t0, t1, interval, key, field)
    finally:
        await store.close()
