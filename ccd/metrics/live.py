"""Today's figures for the wallboard, rebuilt from the journal on every request.

Nothing is counted in memory, so a restart of the daemon (or of the wallboard) shows the
same numbers as before it: the journal is the only source (FEATURES §3, pain point 1).
A small office writes a few thousand rows a day; reading them is milliseconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ccd.metrics.definitions import thresholds_for, wrap_times
from ccd.metrics.formulas import agent_figures, queue_figures
from ccd.metrics.journal import QueueCounts, agent_times, initial_states, queue_counts, wrap_lookup

CHART_BUCKET = 900  # seconds: calls per 15 minutes


def day_start(now: float, tz: dt.tzinfo) -> float:
    d = dt.datetime.fromtimestamp(now, tz).date()
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


async def today_stats(store: Any, config: Any, *, now: float, tz: dt.tzinfo) -> dict[str, Any]:
    """Per queue and per agent, today so far; and inbound calls per 15 minutes, today and yesterday."""
    from ccd.store.reports import ReportQueries

    t0 = day_start(now, tz)
    rows = await store.journal.between(t0, now + 1e-6)
    q = ReportQueries.of(store)
    before = await q.session_rows_before(t0)
    qwrap, awrap = wrap_times(config)
    wrap_for = wrap_lookup(qwrap, awrap)
    counts = queue_counts(rows, lambda name: thresholds_for(config, name), end=now, wrap_for=wrap_for)
    names = [qc.name for qc in getattr(config, "queues", ()) or ()]
    for (name, _), _c in counts.items():
        if name not in names:
            names.append(name)
    queues = {}
    for name in names:
        c = counts.get((name, None), QueueCounts())
        queues[name] = queue_figures(c, thresholds_for(config, name))
    initial = initial_states(_Row(r) for r in before)
    times = agent_times(rows, t0, now, initial=initial, wrap_for=wrap_for)
    agents = {a: agent_figures(t) for a, t in times.items()}
    n = int((now - t0) // CHART_BUCKET) + 1
    today = await q.calls_per_bucket(t0, now + 1e-6, CHART_BUCKET)
    yesterday = await q.calls_per_bucket(t0 - 86400, t0, CHART_BUCKET)
    return {
        "day_start": t0,
        "now": now,
        "queues": queues,
        "agents": agents,
        "chart": {
            "bucket": CHART_BUCKET,
            "today": [today.get(i, 0) for i in range(n)],
            "yesterday": [yesterday.get(i, 0) for i in range(86400 // CHART_BUCKET)],
        },
        "thresholds": {name: thresholds_for(config, name).as_dict() for name in names},
        "default_thresholds": thresholds_for(config, None).as_dict(),
    }


class _Row:
    """A (ts, callid, queue, agent, event, data1..5) tuple seen as a journal row."""

    __slots__ = ("agent", "callid", "data", "event", "queue", "ts")

    def __init__(self, r: tuple[Any, ...]) -> None:
        self.ts, self.callid, self.queue, self.agent, self.event = r[:5]
        self.data = tuple("" if d is None else d for d in r[5:])
