"""Time for everything below the daemon.

Nothing in ccd reads the wall clock directly: the daemon hands a `Clock` to the parts
that need time. `RealClock` follows the monotonic clock for timers and the system clock
for timestamps; `VirtualClock` only moves when told to, so a test can run an hour of
call traffic in seconds and get the same result every time.

`now()` is seconds on the timer scale (monotonic-like, starts anywhere).
`wall()` is a Unix timestamp for records (CDR start/answer/end, journal rows).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale, for timers and durations."""
        ...

    def wall(self) -> float:
        """Unix time, for records shown to people."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Wait until `now() >= deadline` (returns at once on a virtual clock that is already there)."""
        ...


class RealClock:
    """The machine's clocks: monotonic for timers, system time for records."""

    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def now(self) -> float:
        return time.monotonic() - self._mono0

    def wall(self) -> float:
        # Derived from the monotonic clock so that durations computed from wall stamps
        # agree with timer durations even if NTP steps the system clock mid-call.
        return self._wall0 + self.now()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        # Always give the loop a turn, even when already late: a media loop catching up
        # must not starve the socket server (a caller ID would reach clients late).
        await asyncio.sleep(max(delay, 0.0))


class VirtualClock:
    """A clock that moves only when `advance()` is called.

    `start_wall` fixes the Unix time at virtual zero, so records made under test are
    reproducible (default: 2026-01-05 09:00:00 UTC, a Monday morning).
    """

    DEFAULT_START_WALL = 1767603600.0  # 2026-01-05T09:00:00Z

    def __init__(self, start_wall: float = DEFAULT_START_WALL) -> None:
        self._t = 0.0
        self._start_wall = start_wall

    def now(self) -> float:
        return self._t

    def wall(self) -> float:
        return self._start_wall + self._t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._t += seconds

    def set(self, t: float) -> None:
        if t < self._t:
            raise ValueError("a clock cannot go backwards")
        self._t = t

    async def sleep_until(self, deadline: float) -> None:
        # Virtual time is driven by whoever owns the clock (the media loop); waiting
        # here would deadlock, so just give other tasks a turn.
        await asyncio.sleep(0)
