"""Fixtures shared by every suite. Add yours below; keep each one's definition in its own suite's conftest."""

from hypothesis import HealthCheck, settings

from tests.store.conftest import store, store_clock, store_path

# Property tests must give the same verdict on every machine and every run (CI starts with
# no example database): examples are derived from the test, not drawn at random.
settings.register_profile(
    "ccd", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ccd")

__all__ = ["store", "store_clock", "store_path"]
