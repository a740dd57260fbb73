"""Short temporary folders: Unix socket paths are limited to about 107 bytes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def short_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ccd-", dir="/tmp") as d:
        yield Path(d)
