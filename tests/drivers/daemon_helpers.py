"""What the drivers-through-the-daemon tests share: short folders (Unix socket paths are
limited to ~107 bytes) and waiting on a condition while the real-clock daemon runs."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ccd-", dir="/tmp") as d:
        yield Path(d)


async def wait_for(predicate: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Poll `predicate` every 10 ms until true; fail the test with `what` after `timeout` s."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what or predicate}") from None
