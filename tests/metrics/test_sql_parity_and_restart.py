"""The SQL aggregate and the pure row counter agree, and figures survive a restart of the store."""

from __future__ import annotations

from pathlib import Path

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.definitions import thresholds_for
from ccd.metrics.journal import queue_counts, wrap_lookup
from ccd.metrics.live import today_stats
from ccd.metrics.reports import run_report
from ccd.store import Store
from ccd.store.db import CHINA_TZ
from tests.metrics.scenario import BEFORE, END, ROWS, TOML, journal_tuples


async def _filled(path: Path) -> Store:
    store = await Store.open(path, VirtualClock(END))
    await store.journal.append_many(journal_tuples(BEFORE + ROWS))
    return store


async def test_sql_counts_equal_the_pure_counts(tmp_path: Path) -> None:
    cfg = config_from_text(TOML)
    store = await _filled(tmp_path / "a.db")
    try:
        rep = await run_report(store, cfg, "queue", "2026-01-05", "2026-01-05", now=END, tz=CHINA_TZ)
        rows = await store.journal.between(END - 86400, END)
        pure = queue_counts(
            rows, lambda q: thresholds_for(cfg, q), end=END, wrap_for=wrap_lookup({"sales": 10.0}, {})
        )[("sales", None)]
    finally:
        await store.close()
    (row,) = rep.rows
    for key, value in pure.as_dict().items():
        if key in row:
            assert row[key] == value, key
    assert row["service_level"] == 33.3 and row["aht"] == 58.3 and row["T"] == 20.0 and row["S"] == 5.0


async def test_figures_are_unchanged_after_a_restart(tmp_path: Path) -> None:
    cfg = config_from_text(TOML)
    path = tmp_path / "b.db"
    store = await _filled(path)
    before = await today_stats(store, cfg, now=END, tz=CHINA_TZ)
    await store.close()
    store = await Store.open(path, VirtualClock(END))  # the daemon restarted
    try:
        after = await today_stats(store, cfg, now=END, tz=CHINA_TZ)
    finally:
        await store.close()
    assert after["queues"] == before["queues"]
    assert after["agents"] == before["agents"]
    assert after["queues"]["sales"]["service_level"] == 33.3
    assert after["agents"]["1001"]["handled"] == 2
