"""Helpers shared by the metrics parity tests and the migration tests: a journal database written
as the daemon writes it, and agent time breakdowns compared field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ccd.clock import VirtualClock
from ccd.metrics.journal import Row
from ccd.store import Store
from tests.metrics.scenario import journal_tuples


async def journal_database(path: Path, written: list[Row], now: float) -> None:
    """A database of this ccd holding `written` journal rows, as the daemon wrote them."""
    store = await Store.open(path, VirtualClock(now))
    try:
        await store.journal.append_many(journal_tuples(written))
    finally:
        await store.close()


def assert_agent_times_same(got: dict[str, Any], want: dict[str, Any], where: object, tol: float) -> None:
    """Two {agent: AgentTimes} agree: the same agents, seconds to within `tol`, counts exactly."""
    assert set(got) == set(want), where
    for agent, w in want.items():
        g = got[agent]
        for name in ("logged_in", "ready", "on_call", "wrap_up", "talk", "wrap"):
            assert getattr(g, name) == pytest.approx(getattr(w, name), abs=tol), (where, agent, name)
        for name in ("answered", "handled", "transferred", "ring_no_answer", "sessions"):
            assert getattr(g, name) == getattr(w, name), (where, agent, name)
        assert g.not_ready == pytest.approx(w.not_ready, abs=tol), (where, agent)
