"""Queues: waiting, longest wait, SL today against target, answered, abandoned (short apart), ASA, AHT, callbacks."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tui.wallboard.panels import Rows, dur, num, t, table_of

COLUMNS = [
    ("queue", "Queue"),
    ("waiting", "Wait"),
    ("longest", "Longest"),
    ("sl", "SL %"),
    ("target", "Tgt"),
    ("answered", "Ans"),
    ("abandoned", "Abd"),
    ("short", "Short"),
    ("asa", "ASA"),
    ("aht", "AHT"),
    ("callbacks", "CB"),
    ("agents", "Rdy/Busy"),
]


def queue_names(state: Any) -> list[str]:
    names = list(state.queues)
    for name in (state.stats.get("queues") or {}) if state.stats else {}:
        if name not in names:
            names.append(name)
    return sorted(names)


def rows(state: Any, now: float) -> Rows:
    stats = (state.stats.get("queues") or {}) if state.stats else {}
    out: Rows = {}
    for name in queue_names(state):
        live = state.queues.get(name) or {}
        f = stats.get(name) or {}
        th = state.thresholds(name)
        sl = f.get("service_level")
        sl_style = "" if sl is None else ("bold green" if sl >= th.sl_target else "bold white on red")
        longest = float(live.get("longest_wait") or 0.0)
        waiting = int(live.get("waiting") or 0)
        out[name] = (
            t(name),
            t(str(waiting), "bold yellow" if waiting else ""),
            t(dur(longest) if waiting else "", "bold red" if longest > th.wait_alert else ""),
            t(num(sl), sl_style),
            t(f"{th.sl_target:g}"),
            t(str(f.get("answered", 0))),
            t(str(f.get("abandoned", 0))),
            t(str(f.get("short_abandoned", 0)), "dim"),
            t(dur(f.get("asa")) if f.get("asa") is not None else "—"),
            t(dur(f.get("aht")) if f.get("aht") is not None else "—"),
            t(str(live.get("callbacks_pending", 0))),
            t(f"{live.get('agents_ready', 0)}/{live.get('agents_busy', 0)}"),
        )
    return out


def render(state: Any, now: float) -> Table:
    return table_of(COLUMNS, rows(state, now), "Queues")
