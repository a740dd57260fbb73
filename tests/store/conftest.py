"""Fixtures for anything that needs a real database: a fresh store on a temp file per test.

`store` is re-exported from tests/conftest.py so other suites (server, CLI) can use it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.store import Store


@pytest.fixture
def store_clock() -> VirtualClock:
    """The clock the `store` fixture stamps records with (2026-01-05 09:00 UTC = 17:00 in Beijing)."""
    return VirtualClock()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "ccd.db"


@pytest.fixture
async def store(store_path: Path, store_clock: VirtualClock) -> AsyncIterator[Store]:
    """An open, empty, migrated store on a temp file (Beijing numbering plan, area code 010)."""
    s = await Store.open(store_path, store_clock)
    try:
        yield s
    finally:
        await s.close()
