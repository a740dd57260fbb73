"""A database with the scenario's journal, a morning of CDRs, a survey and some orders, and a
ccd.toml pointing at it (no daemon: `ccd report` reads the file directly)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.store import Store
from tests.metrics.scenario import BEFORE, END, ROWS, T0, TOML, journal_tuples

CONFIG = (
    """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "office"
kind = "sim"

[[trunks]]
id = "1"
driver = "office"
channel = 0
label = "总机 1"

[[trunks]]
id = "2"
driver = "office"
channel = 1

[[users]]
login = "1001"
name = "王小明"
"""
    + TOML
)


async def fill(store: Store) -> None:
    await store.journal.append_many(journal_tuples(BEFORE + ROWS))
    zhang = await store.customers.add("张三", numbers=["13800000001"])
    calls = [
        # uniqueid, start, answer, end, trunk, src, survey, customer
        ("k1", 0, 10, 70, "1", "13800000001", 5, zhang.id),
        ("k2", 5, None, 8, "1", "13800000002", None, None),
        ("k3", 20, None, 50, "2", "", None, None),  # no caller ID
        ("k4", 900, 905, 1000, "1", "13800000001", 3, zhang.id),
        ("k5", 3700, 3702, 3760, "2", "13900000009", 4, None),
    ]
    for uid, start, answer, end, trunk, src, score, cust in calls:
        await store.calls.begin(
            {"uniqueid": uid, "direction": "in", "start": T0 + start, "src": src or None, "trunk": trunk}
        )
        if answer is not None:
            await store.calls.answer(uid, T0 + answer)
        await store.calls.finish(uid, T0 + end, "ANSWERED" if answer is not None else "NO ANSWER")
        await store._db.write(
            "UPDATE calls SET survey_score = ?, customer_id = ?, agent = ? WHERE uniqueid = ?",
            (score, cust, "1001" if answer is not None else None, uid),
        )
    await store.products.add("A1", "净水器", 128000)
    await store.products.add("B2", "滤芯", 9900)
    await store.orders.create(zhang.id, [("A1", 1), ("B2", 3)], at=T0 + 100)
    await store.orders.create(zhang.id, [("B2", 2)], at=T0 + 200)
    await store.orders.create(zhang.id, [("A1", 5)], at=T0 + 300, status="cancelled")


@pytest.fixture
async def office_db(tmp_path: Path) -> Path:
    (tmp_path / "ccd.toml").write_text(CONFIG, "utf-8")
    (tmp_path / "rec").mkdir()
    store = await Store.open(tmp_path / "ccd.db", VirtualClock(END))
    try:
        await fill(store)
    finally:
        await store.close()
    return tmp_path / "ccd.toml"
