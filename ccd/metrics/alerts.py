"""Wallboard alerts: pure rules over the live state and today's figures.

An alert has a stable key, so the board can add and remove alerts by key without
flicker, and a severity (``error`` needs someone to act now, ``warning`` needs a look).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ccd.metrics.definitions import Thresholds

RINGING_STATES = ("ringing", "wait_answer")


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    severity: str  # "error" | "warning"
    text: str


def mmss(secs: float) -> str:
    s = max(0, round(secs))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def compute_alerts(
    *,
    queues_live: Mapping[str, Mapping[str, Any]],
    queue_stats: Mapping[str, Mapping[str, Any]],
    lines: Mapping[str, Mapping[str, Any]],
    thresholds: Callable[[str], Thresholds],
    now_mono: float | None = None,
    disk: Mapping[str, Any] | None = None,
    disk_alert: float = 90.0,
    no_cid: Mapping[str, float] | None = None,
) -> list[Alert]:
    """Every alert that holds now, in a stable order (queues, lines, disk)."""
    out: list[Alert] = []
    for name in sorted(set(queues_live) | set(queue_stats)):
        t = thresholds(name)
        stats = queue_stats.get(name) or {}
        sl = stats.get("service_level")
        if sl is not None and sl < t.sl_target:
            out.append(
                Alert(f"sl:{name}", "error", f"Queue {name}: SL {sl:.1f} % below target {t.sl_target:g} %")
            )
        rate = stats.get("abandon_rate")
        if rate is not None and rate > t.abandon_target:
            out.append(
                Alert(
                    f"ab:{name}",
                    "warning",
                    f"Queue {name}: abandon {rate:.1f} % above {t.abandon_target:g} %",
                )
            )
        live = queues_live.get(name) or {}
        longest = float(live.get("longest_wait") or 0.0)
        if live.get("waiting") and longest > t.wait_alert:
            out.append(
                Alert(
                    f"wait:{name}",
                    "error",
                    f"Queue {name}: a caller has waited {mmss(longest)} (limit {mmss(t.wait_alert)})",
                )
            )
    for line_id in sorted(lines, key=_natural):
        line = lines[line_id]
        label = f"Line {line_id}" + (f" ({line['label']})" if line.get("label") else "")
        state = line.get("state")
        if state == "out_of_service":
            reason = line.get("reason") or "no reason given"
            out.append(Alert(f"oos:{line_id}", "error", f"{label} out of service: {reason}"))
        elif line.get("kind") == "trunk" and state in RINGING_STATES and not line.get("caller"):
            out.append(Alert(f"nocid:{line_id}", "warning", f"{label} rings without caller ID"))
        elif no_cid and line_id in no_cid:
            out.append(Alert(f"nocid:{line_id}", "warning", f"{label} rang without caller ID"))
    if disk:
        used = disk.get("used_pct")
        if used is not None and used >= disk_alert:
            free = disk.get("free_bytes") or 0
            out.append(
                Alert("disk", "error", f"Recording disk {used:.0f} % full ({free / 2**30:.1f} GiB free)")
            )
    return out


def _natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)
