"""Report periods and interval buckets in the office's time zone.

Users type dates, not Unix seconds: ``--from 2025-03-01 --to 2025-03-07`` means the whole
seven days (a date as `to` includes that day). Buckets are 15/30/60 minutes, day, week
(from Monday) or month, keyed by the bucket's start as a Unix time.
"""

from __future__ import annotations

import datetime as dt
import re

INTERVALS: dict[str, int] = {"15m": 900, "30m": 1800, "1h": 3600, "day": 86400, "week": 7 * 86400, "month": 0}
INTERVAL_ALIASES = {"15": "15m", "30": "30m", "60": "1h", "60m": "1h", "hour": "1h", "d": "day", "w": "week"}


class PeriodError(ValueError):
    """The period or interval cannot be understood; the message says what was expected."""


def parse_interval(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    key = INTERVAL_ALIASES.get(text.strip().lower(), text.strip().lower())
    if key not in INTERVALS:
        raise PeriodError(f"unknown interval {text!r}: use one of {', '.join(INTERVALS)}")
    return key


def _midnight(day: dt.date, tz: dt.tzinfo) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def parse_when(text: str | float | int, tz: dt.tzinfo, now: float, *, is_end: bool = False) -> float:
    """A moment from 'today', 'yesterday', 'now', a date, a date and time, or Unix seconds.

    As an end, a bare date (or 'today') means the midnight after it.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    s = str(text).strip().lower()
    today = dt.datetime.fromtimestamp(now, tz).date()
    if s == "now":
        return now
    if s in ("today", "yesterday"):
        day = today - dt.timedelta(days=1 if s == "yesterday" else 0)
        return _midnight(day + dt.timedelta(days=1 if is_end else 0), tz)
    if re.fullmatch(r"\d+(\.\d+)?", s) and len(s) > 8:
        return float(s)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    try:
        if m:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
            return _midnight(day + dt.timedelta(days=1 if is_end else 0), tz)
        when = dt.datetime.fromisoformat(s.replace(" ", "T"))
    except ValueError:
        raise PeriodError(
            f"cannot read {text!r} as a time: use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', today, yesterday or now"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def parse_period(
    start: str | float | None, end: str | float | None, tz: dt.tzinfo, now: float
) -> tuple[float, float]:
    """[t0, t1) from user input; defaults: today so far. Raises PeriodError for an empty range."""
    t0 = parse_when(start if start not in (None, "") else "today", tz, now)
    t1 = parse_when(end, tz, now, is_end=True) if end not in (None, "") else now
    if t1 <= t0:
        a = dt.datetime.fromtimestamp(t0, tz).strftime("%Y-%m-%d %H:%M")
        b = dt.datetime.fromtimestamp(t1, tz).strftime("%Y-%m-%d %H:%M")
        raise PeriodError(f"empty range: from {a} to {b} (the end must come after the start)")
    return t0, t1


def utc_offset(tz: dt.tzinfo, at: float) -> float:
    """Seconds east of UTC at `at` (buckets use the offset at the period's start)."""
    off = dt.datetime.fromtimestamp(at, tz).utcoffset()
    return off.total_seconds() if off else 0.0


# 1970-01-05 was a Monday: weeks are counted from it
_MONDAY = 4 * 86400


def bucket_start(ts: float, interval: str, offset: float) -> float:
    """The Unix time at which `ts`'s bucket starts (local time = UTC + offset)."""
    local = ts + offset
    if interval == "month":
        d = dt.datetime.fromtimestamp(local, dt.UTC)
        return dt.datetime(d.year, d.month, 1, tzinfo=dt.UTC).timestamp() - offset
    size = INTERVALS[interval]
    if interval == "week":
        return ((local - _MONDAY) // size) * size + _MONDAY - offset
    return (local // size) * size - offset


def bucket_label(start: float, interval: str | None, tz: dt.tzinfo) -> str:
    d = dt.datetime.fromtimestamp(start, tz)
    if interval in (None, "day"):
        return d.strftime("%Y-%m-%d")
    if interval == "week":
        return d.strftime("%G-W%V")
    if interval == "month":
        return d.strftime("%Y-%m")
    return d.strftime("%Y-%m-%d %H:%M")
