"""Fixtures shared by every suite. Add yours below; keep each one's definition in its own suite's conftest."""

from tests.store.conftest import store, store_clock, store_path

__all__ = ["store", "store_clock", "store_path"]
