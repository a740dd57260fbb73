"""Config section of the supervisor metrics: `[metrics]` and `[metrics.queues.NAME]`.

The thresholds live here, not in the code, because every office argues about them: T (the
service-level threshold), S (the short-abandon threshold) and the targets the wallboard
compares against. Each report writes the T and S it used next to its figures, so a figure
printed last month still means what it meant then after someone changes these.

    [metrics]
    service_level = 20        # T, seconds (a queue's own [[queues]] service_level wins)
    short_abandon = 5         # S, seconds
    sl_target = 80.0          # % answered within T the wallboard expects
    [metrics.queues.sales]
    sl_target = 90.0
    short_abandon = 3
"""

# `setting()` is a dataclass field specifier (it returns `dataclasses.field`), which RUF009 cannot know.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ccd.config.fields import setting


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueMetricsConfig:
    """Overrides for one queue; a key left out takes the `[metrics]` value."""

    service_level: float | None = setting(None, gt=0, doc="T for this queue, seconds")
    short_abandon: float | None = setting(None, min=0, doc="S for this queue, seconds")
    sl_target: float | None = setting(None, min=0, max=100, doc="service-level target for this queue, %")
    abandon_target: float | None = setting(None, min=0, max=100, doc="highest acceptable abandon rate, %")
    wait_alert: float | None = setting(None, gt=0, doc="alert when a caller waits longer, seconds")


@dataclass(frozen=True, kw_only=True, slots=True)
class MetricsConfig:
    """[metrics]: thresholds and targets of the wallboard and the reports."""

    service_level: float | None = setting(
        None, gt=0, doc="T, seconds; default: the queue's own service_level (30 s when it has none)"
    )
    short_abandon: float = setting(
        5.0, min=0, doc="S: callers who hang up within S seconds are short abandons"
    )
    sl_target: float = setting(80.0, min=0, max=100, doc="service-level target, % (below it: alert)")
    abandon_target: float = setting(5.0, min=0, max=100, doc="highest acceptable abandon rate, %")
    wait_alert: float = setting(60.0, gt=0, doc="alert when a caller has waited longer than this, seconds")
    occupancy_target: float = setting(
        85.0, min=0, max=100, doc="occupancy above this is shown as a warning, %"
    )
    disk_alert: float = setting(90.0, min=1, max=100, doc="alert when the recordings disk is fuller, %")
    queues: dict[str, QueueMetricsConfig] = setting(
        default_factory=dict, doc="[metrics.queues.NAME]: per-queue overrides"
    )

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        for name, q in self.queues.items():
            t = q.service_level or self.service_level
            s = self.short_abandon if q.short_abandon is None else q.short_abandon
            if t is not None and s >= t:
                yield (
                    f"queues.{name}",
                    f"short_abandon ({s:g} s) must be shorter than service_level ({t:g} s)",
                )
        if self.service_level is not None and self.short_abandon >= self.service_level:
            yield (
                "short_abandon",
                (
                    f"short_abandon ({self.short_abandon:g} s) must be shorter than service_level "
                    f"({self.service_level:g} s)"
                ),
            )
