"""Agents: state and reason (wrap-up shown as wrap-up), time in state, calls today, AHT, caller."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tui.wallboard.panels import Rows, dur, natural, num, t, table_of

COLUMNS = [
    ("agent", "Agent"),
    ("name", "Name"),
    ("ext", "Ext"),
    ("state", "State"),
    ("reason", "Reason"),
    ("in_state", "In state"),
    ("calls", "Calls"),
    ("aht", "AHT"),
    ("occ", "Occ %"),
    ("caller", "Caller"),
]

MAX_WIDTHS = {"name": 10, "reason": 10, "caller": 16}

STATE_STYLE = {
    "ready": "bold green",
    "ringing": "bold yellow",
    "on_call": "bold red",
    "hold": "magenta",
    "wrap_up": "bold dark_orange",
    "not_ready": "cyan",
    "logged_out": "dim",
}
STATE_WORD = {
    "wrap_up": "wrap-up",
    "not_ready": "not ready",
    "on_call": "on call",
    "logged_out": "signed out",
}


def rows(state: Any, now: float) -> Rows:
    figures = (state.stats.get("agents") or {}) if state.stats else {}
    out: Rows = {}
    for agent_id in sorted(state.agents, key=natural):
        a = state.agents[agent_id]
        st = a.get("state") or "?"
        f = figures.get(agent_id) or {}
        call = state.calls.get(a.get("call") or "") or {}
        caller = call.get("caller_name") or call.get("src") or ""
        since = a.get("since")
        calls_today = f.get("handled", a.get("calls_today"))
        out[agent_id] = (
            t(agent_id),
            t(a.get("name") or ""),
            t(a.get("extension") or ""),
            t(STATE_WORD.get(st, st), STATE_STYLE.get(st, "")),
            t(a.get("reason") if st in ("not_ready", "logged_out") else ""),
            t(dur(now - float(since)) if since is not None and st != "logged_out" else ""),
            t(num(calls_today, "{}", "0")),
            t(dur(f.get("aht")) if f.get("aht") is not None else "—"),
            t(num(f.get("occupancy"), "{:.0f}")),
            t(caller),
        )
    return out


def render(state: Any, now: float) -> Table:
    return table_of(COLUMNS, rows(state, now), "Agents")
