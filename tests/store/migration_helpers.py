"""What the migration tests share: a database written by ccd before migration N, and the
one-pass rollup rebuild that bench/wallboard.py runs. Each new migration's upgrade test needs
both, so they live here once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ccd.store.migrations import MIGRATIONS, rebuild_rollups_sql


@contextmanager
def ccd_before(monkeypatch: pytest.MonkeyPatch, migration: int) -> Iterator[None]:
    """Inside, ccd knows only the migrations before `migration` (that one and every later one are
    taken away), as an older ccd did: a store opened here is an older database."""
    with monkeypatch.context() as m:
        for number in [n for n in MIGRATIONS if n >= migration]:
            m.delitem(MIGRATIONS, number)
        yield


def rebuild_rollups_like_the_bench(conn: sqlite3.Connection) -> None:
    """Triggers off, every rollup emptied and filled again by `rebuild_rollups_sql()`, triggers
    back: what bench/wallboard.py does after loading its rows, so tests can compare it with what
    the triggers kept."""
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if (t.startswith("rollup_") and t != "rollup_seq") or t == "agent_now":
            conn.execute(f"DELETE FROM {t}")
    for sql in rebuild_rollups_sql():
        conn.execute(sql)
    for _, sql in triggers:
        conn.execute(sql)
