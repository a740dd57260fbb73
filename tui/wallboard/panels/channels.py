"""Channels: every line, its state in colour, caller, customer, location, agent, duration, recording."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tui.wallboard.panels import Rows, dur, natural, t, table_of

COLUMNS = [
    ("line", "Line"),
    ("kind", "Kind"),
    ("state", "State"),
    ("for", "For"),
    ("caller", "Caller"),
    ("name", "Name"),
    ("location", "Location"),
    ("agent", "Agent"),
    ("rec", "Rec"),
]

# caps for narrow terminals: a caller's number (up to 16 digits) always fits whole
MAX_WIDTHS = {"line": 14, "kind": 10, "caller": 16, "name": 12, "location": 10, "agent": 6}

STATE_STYLE = {
    "idle": "green",
    "ringing": "bold yellow",
    "wait_answer": "bold yellow",
    "connected": "bold red",
    "calling": "yellow",
    "dialing": "yellow",
    "offhook": "cyan",
    "wait_hangup": "magenta",
    "out_of_service": "bold white on red",
}
STATE_WORD = {"out_of_service": "OUT OF SERVICE", "wait_answer": "ringing", "wait_hangup": "hanging up"}


def rows(state: Any, now: float) -> Rows:
    out: Rows = {}
    for line_id in sorted(state.lines, key=natural):
        line = state.lines[line_id]
        st = line.get("state") or "?"
        call = state.call_for_line(line_id) or {}
        since = state.line_since(line)
        kind = line.get("kind") or ""
        if line.get("passthrough"):
            kind += " box"
        caller = line.get("caller") or call.get("src") or ""
        if kind.startswith("trunk") and st in ("ringing", "wait_answer") and not caller:
            caller_cell = t("no caller ID", "bold yellow")
        else:
            caller_cell = t(caller)
        agent = call.get("agent") or ""
        if not agent and kind == "extension":
            a = state.agent_at(line_id)
            agent = a.get("agent", "") if a else ""
        reason = line.get("reason") if st == "out_of_service" else None
        out[line_id] = (
            t(f"{line_id} {line.get('label') or ''}".strip()),
            t(kind),
            t(STATE_WORD.get(st, st), STATE_STYLE.get(st, "")),
            t(dur(now - since) if since is not None and st != "idle" else ""),
            caller_cell,
            t(reason or line.get("caller_name") or call.get("caller_name") or "", "red" if reason else ""),
            t(call.get("location") or ""),
            t(agent),
            t("● REC", "bold red") if call.get("call") in state.recording else t(""),
        )
    return out


def render(state: Any, now: float) -> Table:
    return table_of(COLUMNS, rows(state, now), "Channels")
