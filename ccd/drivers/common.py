"""Small pieces every hardware driver shell needs, kept in one place so they behave alike.

* `options_from_dict`: a driver's `[[drivers]]` options become its options dataclass, and a
  misspelt key is refused with the list of known ones (a typo must not pass silently);
* `AlarmLatch`: a line's `LineAlarm` goes out only when its state changes, so a device that
  keeps failing raises one alarm and clears it once (the Home Assistant coordinator rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from ccd.drivers.base import DriverUnavailable, LineAlarm

T = TypeVar("T")


def options_from_dict(cls: type[T], kind: str, name: str, options: dict[str, Any]) -> T:
    """Build `cls` (a dataclass) from `options`; raises DriverUnavailable naming unknown keys."""
    known = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = sorted(set(options) - known)
    if unknown:
        raise DriverUnavailable(
            f"{kind} {name}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return cls(**options)


@dataclass(slots=True)
class AlarmLatch:
    """Whether one line is in alarm; `update()` gives a `LineAlarm` only on a change."""

    line: str
    raised: bool = False

    def update(self, ok: bool, reason: str) -> LineAlarm | None:
        """The event to report for the line becoming `ok` (or not), or None if it already was."""
        if ok != self.raised:
            return None
        self.raised = not ok
        return LineAlarm(self.line, ok=ok, reason=reason)
