"""Where calls go: inbound rules by trunk and time, outbound trunk hunting and dial policy
(pure logic).

Inbound rules are tried in order; the first whose trunk list matches *and whose schedule
is open* decides, so "closed" is simply the next rule down (Asterisk's GotoIfTime, without
a dialplan): a `day` rule gated by the office schedule, then a `night` rule to voicemail.

A schedule is open during its weekly hours, except on holidays, plus on make-up workdays
(调休: a Saturday worked in exchange for a holiday, open with Monday's hours). A forced
override ("closed today") wins over all of it until it is lifted or expires.

Outbound rules pick a trunk for a calling extension with the hunting the seeds and DAHDI
users know: `sequential` (first free, in order), `round_robin` (continue after the trunk
used last time, remembered per rule), `random` (seeded, so tests are reproducible). The
dialled number loses the outside-line prefix, is rewritten by the first matching rewrite
rule (`+86` → `0`...), and is refused outside the rule's calling hours.

Time is given, never read: `inbound_rule(trunk, at)` takes the Unix time and the router's
`wall` callable (injected by the daemon) supplies it where the engine does not pass it.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(
    r"^\s*([a-z]{3}(?:\s*-\s*[a-z]{3})?|daily|weekdays|weekends)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$"
)


@dataclass(frozen=True)
class InboundRule:
    name: str
    trunks: tuple[str, ...]  # ("*",) matches every trunk
    ring: tuple[str, ...] = ()  # extensions to ring (ring-all)
    queue: str | None = None
    ivr: str | None = None
    voicemail: str | None = None
    hangup: bool = False

    def matches(self, trunk: str) -> bool:
        return "*" in self.trunks or trunk in self.trunks


@dataclass
class OutboundRule:
    name: str
    extensions: tuple[str, ...]
    trunks: tuple[str, ...]
    hunt: str = "sequential"  # sequential | round_robin | random
    prefix: str = ""
    _last: int = field(default=-1, repr=False)

    def matches(self, extension: str) -> bool:
        return "*" in self.extensions or extension in self.extensions


HUNT_STRATEGIES = ("sequential", "round_robin", "random")


# ---------------------------------------------------------------- schedules


def parse_hours(spec: str) -> tuple[frozenset[int], int, int]:
    """ "mon-fri 09:00-18:00" -> (weekdays 0..6, start minute, end minute). Raises ValueError."""
    m = _HOURS_RE.match(spec.lower())
    if not m:
        raise ValueError(f'cannot read hours "{spec}": write them as "mon-fri 09:00-18:00"')
    days_text, h1, m1, h2, m2 = m.groups()
    if days_text == "daily":
        days = frozenset(range(7))
    elif days_text == "weekdays":
        days = frozenset(range(5))
    elif days_text == "weekends":
        days = frozenset((5, 6))
    else:
        parts = [p.strip() for p in days_text.split("-")]
        for p in parts:
            if p not in DAYS:
                raise ValueError(f'unknown day "{p}" in "{spec}" (use {", ".join(DAYS)})')
        a, b = DAYS.index(parts[0]), DAYS.index(parts[-1])
        days = frozenset(range(a, b + 1)) if a <= b else frozenset((*range(a, 7), *range(0, b + 1)))
    start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
    if int(m1) > 59 or int(m2) > 59 or start > 24 * 60 or end > 24 * 60:
        raise ValueError(f'"{spec}": times run from 00:00 to 24:00')
    if end <= start:
        raise ValueError(f'"{spec}": the period ends before it starts (split a night shift in two)')
    return days, start, end


def parse_days(spec: str) -> tuple[dt.date, dt.date]:
    """ "2026-10-01" or "2026-10-01..2026-10-07" -> (first, last). Raises ValueError."""
    first, _, last = spec.partition("..")
    try:
        a = dt.date.fromisoformat(first.strip())
        b = dt.date.fromisoformat(last.strip()) if last else a
    except ValueError:
        raise ValueError(
            f'cannot read date "{spec}": write "2026-10-01" or "2026-10-01..2026-10-07"'
        ) from None
    if b < a:
        raise ValueError(f'"{spec}": the range ends before it starts')
    return a, b


def parse_tz(name: str) -> dt.tzinfo:
    """A zone name ("Asia/Shanghai") or a fixed offset ("+08:00"). Raises ValueError."""
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name or "")
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        raise ValueError(f"unknown time zone {name!r}") from None


OPEN, CLOSED, HOLIDAY = "open", "closed", "holiday"


@dataclass
class Schedule:
    """Opening hours; `state(at)` is open, closed or holiday. `override` forces open/closed."""

    name: str
    hours: tuple[tuple[frozenset[int], int, int], ...] = ()
    holidays: tuple[tuple[dt.date, dt.date], ...] = ()
    workdays: tuple[tuple[dt.date, dt.date], ...] = ()
    tz: dt.tzinfo = dt.UTC
    override: str = "auto"  # auto | open | closed
    override_until: float | None = None  # Unix time the override lapses (None: until lifted)

    @classmethod
    def from_specs(
        cls,
        name: str,
        hours: Iterable[str],
        holidays: Iterable[str] = (),
        workdays: Iterable[str] = (),
        tz: dt.tzinfo = dt.UTC,
        override: str = "auto",
    ) -> Schedule:
        return cls(
            name,
            tuple(parse_hours(h) for h in hours),
            tuple(parse_days(d) for d in holidays),
            tuple(parse_days(d) for d in workdays),
            tz,
            override,
        )

    @staticmethod
    def _in(day: dt.date, ranges: Iterable[tuple[dt.date, dt.date]]) -> bool:
        return any(a <= day <= b for a, b in ranges)

    def state(self, at: float) -> str:
        if self.override != "auto":
            if self.override_until is None or at < self.override_until:
                return OPEN if self.override == "open" else CLOSED
        local = dt.datetime.fromtimestamp(at, self.tz)
        day = local.date()
        if self._in(day, self.holidays):
            return HOLIDAY
        weekday = 0 if self._in(day, self.workdays) else local.weekday()
        minute = local.hour * 60 + local.minute
        for days, start, end in self.hours:
            if weekday in days and start <= minute < end:
                return OPEN
        return CLOSED

    def is_open(self, at: float) -> bool:
        return self.state(at) == OPEN

    def snapshot(self, at: float) -> dict[str, Any]:
        return {
            "schedule": self.name,
            "state": self.state(at),
            "override": self.override,
            "override_until": self.override_until,
        }


@dataclass(frozen=True)
class Rewrite:
    pattern: re.Pattern[str]
    replace: str
    outbound: tuple[str, ...] = ("*",)

    def applies(self, rule: str) -> bool:
        return "*" in self.outbound or rule in self.outbound


class DialRefused(Exception):
    """The number may not be dialled now (no rule, missing prefix, outside calling hours)."""


# ---------------------------------------------------------------- the router


class Router:
    def __init__(
        self,
        inbound: Sequence[InboundRule],
        outbound: Sequence[OutboundRule],
        *,
        seed: int = 0,
    ) -> None:
        self.inbound = list(inbound)
        self.outbound = list(outbound)
        self._rng = random.Random(seed)
        self.schedules: dict[str, Schedule] = {}
        self.inbound_gates: dict[str, list[str]] = {}  # inbound rule -> schedules
        self.outbound_gates: dict[str, list[str]] = {}  # outbound rule -> schedules (calling hours)
        self.rewrites: list[Rewrite] = []
        self.wall: Callable[[], float] | None = None  # injected by the daemon

    def configure(
        self,
        schedules: Iterable[Schedule] = (),
        *,
        inbound_gates: dict[str, list[str]] | None = None,
        outbound_gates: dict[str, list[str]] | None = None,
        rewrites: Iterable[Rewrite] = (),
        wall: Callable[[], float] | None = None,
    ) -> None:
        """Install schedules, their gates, rewrite rules and the time source (replaces earlier ones).

        A forced override of a schedule that still exists is kept, so a reload does not
        reopen an office someone closed for the day.
        """
        old = self.schedules
        self.schedules = {s.name: s for s in schedules}
        for name, sched in self.schedules.items():
            prev = old.get(name)
            if prev is not None and sched.override == "auto" and prev.override != "auto":
                sched.override, sched.override_until = prev.override, prev.override_until
        self.inbound_gates = dict(inbound_gates or {})
        self.outbound_gates = dict(outbound_gates or {})
        self.rewrites = list(rewrites)
        if wall is not None:
            self.wall = wall

    def _now(self, at: float | None) -> float | None:
        if at is not None:
            return at
        return self.wall() if self.wall is not None else None

    def _gated_closed(self, gates: dict[str, list[str]], rule: str, at: float | None) -> bool:
        names = gates.get(rule)
        if not names or at is None:
            return False
        return not all(self.schedules[n].is_open(at) for n in names if n in self.schedules)

    def set_override(self, schedule: str, state: str, until: float | None = None) -> Schedule:
        """Force a schedule open or closed (until `until`), or back to its hours with "auto"."""
        sched = self.schedules.get(schedule)
        if sched is None:
            raise LookupError(f"no schedule {schedule!r}")
        if state not in ("auto", "open", "closed"):
            raise ValueError(f"override must be auto, open or closed, not {state!r}")
        sched.override, sched.override_until = state, (None if state == "auto" else until)
        return sched

    def inbound_rule(self, trunk: str, at: float | None = None) -> InboundRule | None:
        """The first rule matching `trunk` whose schedules (if any) are open at Unix time `at`."""
        at = self._now(at)
        return next(
            (
                rule
                for rule in self.inbound
                if rule.matches(trunk) and not self._gated_closed(self.inbound_gates, rule.name, at)
            ),
            None,
        )

    def outbound_rule(self, extension: str) -> OutboundRule | None:
        return next((rule for rule in self.outbound if rule.matches(extension)), None)

    def dial_number(self, extension: str, digits: str, at: float | None = None) -> str:
        """The number to dial on the trunk for what `extension` dialled. Raises DialRefused."""
        rule = self.outbound_rule(extension)
        if rule is None:
            raise DialRefused(f"extension {extension} has no outbound rule")
        if rule.prefix:
            if not digits.startswith(rule.prefix):
                raise DialRefused(f"dial {rule.prefix} first for an outside line")
            digits = digits[len(rule.prefix) :]
        at = self._now(at)
        if self._gated_closed(self.outbound_gates, rule.name, at):
            raise DialRefused(f"outside the calling hours of rule {rule.name}")
        for rewrite in self.rewrites:
            if rewrite.applies(rule.name) and rewrite.pattern.search(digits):
                digits = rewrite.pattern.sub(rewrite.replace, digits, count=1)
                break
        if not digits:
            raise DialRefused("nothing left to dial")
        return digits

    def strip_prefix(self, extension: str, digits: str) -> str | None:
        """The number to dial on the trunk, or None if it may not be dialled (see `dial_number`)."""
        try:
            return self.dial_number(extension, digits)
        except DialRefused:
            return None

    def hunt(self, extension: str, is_free: Callable[[str], bool]) -> str | None:
        """Pick a free trunk for `extension` by its outbound rule's hunting; None if none is free."""
        rule = self.outbound_rule(extension)
        if rule is None or not rule.trunks:
            return None
        trunks = list(rule.trunks)
        if rule.hunt == "round_robin":
            start = (rule._last + 1) % len(trunks)
            order = trunks[start:] + trunks[:start]
        elif rule.hunt == "random":
            order = trunks[:]
            self._rng.shuffle(order)
        else:
            order = trunks
        for trunk in order:
            if is_free(trunk):
                rule._last = trunks.index(trunk)
                return trunk
        return None
