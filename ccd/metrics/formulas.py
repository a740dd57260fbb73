"""The formulas of `definitions.DEFINITIONS`, applied to counted base measures.

A rate with an empty denominator is None ("no calls yet"), never 100 % or 0 %: a wallboard
that shows 100 % service level at 08:00 with no calls teaches people to ignore it.
"""

from __future__ import annotations

from typing import Any

from ccd.metrics.definitions import Thresholds
from ccd.metrics.journal import AgentTimes, QueueCounts


def ratio(num: float, den: float, scale: float = 1.0, digits: int = 1) -> float | None:
    return round(scale * num / den, digits) if den else None


def service_level(c: QueueCounts) -> float | None:
    """answered within T / (answered + abandoned after T) × 100 (callbacks and short abandons out)."""
    return ratio(c.answered_within, c.asa_calls + c.abandoned_after, 100.0)


def abandon_rate(c: QueueCounts) -> float | None:
    """abandoned (after S) / (answered + abandoned) × 100."""
    return ratio(c.abandoned, c.answered + c.abandoned, 100.0)


def queue_figures(c: QueueCounts, t: Thresholds) -> dict[str, Any]:
    """Every queue figure, with the thresholds it was computed with."""
    sl = service_level(c)
    return {
        "offered": c.offered,
        "answered": c.answered,
        "answered_within": c.answered_within,
        "service_level": sl,
        "sl_target": t.sl_target,
        "sl_ok": None if sl is None else sl >= t.sl_target,
        "abandoned": c.abandoned,
        "short_abandoned": c.short_abandoned,
        "abandoned_after": c.abandoned_after,
        "abandon_rate": abandon_rate(c),
        "asa": ratio(c.wait_answered, c.asa_calls),
        "aht": ratio(c.talk + c.wrap, c.handled),
        "att": ratio(c.talk, c.handled),
        "acw": ratio(c.wrap, c.handled),
        "handled": c.handled,
        "transferred": c.transferred,
        "callbacks": c.callbacks,
        "callback_answered": c.callback_answered,
        "timeouts": c.timeouts,
        "exit_key": c.exit_key,
        "exit_empty": c.exit_empty,
        "ring_no_answer": c.ring_no_answer,
        "max_wait": round(c.max_wait, 1),
        "T": t.service_level,
        "S": t.short_abandon,
    }


def occupancy(a: AgentTimes) -> float | None:
    """(on call + wrap-up) / (on call + wrap-up + ready) × 100."""
    busy = a.on_call + a.wrap_up
    return ratio(busy, busy + a.ready, 100.0)


def agent_figures(a: AgentTimes) -> dict[str, Any]:
    first = min((s for s, _ in a.sessions), default=None)
    ends = [e for _, e in a.sessions]
    last = None if not ends or ends[-1] is None else max(e for e in ends if e is not None)
    return {
        "agent": a.agent,
        "first_login": first,
        "last_logout": last,
        "logged_in": round(a.logged_in, 1),
        "ready": round(a.ready, 1),
        "on_call": round(a.on_call, 1),
        "wrap_up": round(a.wrap_up, 1),
        "not_ready": round(a.not_ready_total, 1),
        "not_ready_by_reason": {k: round(v, 1) for k, v in sorted(a.not_ready.items())},
        "answered": a.answered,
        "handled": a.handled,
        "transferred": a.transferred,
        "ring_no_answer": a.ring_no_answer,
        "aht": ratio(a.talk + a.wrap, a.handled),
        "att": ratio(a.talk, a.handled),
        "occupancy": occupancy(a),
        "sessions": len(a.sessions),
    }
