"""The agent terminal's actions, with stable ids so keys can be remapped from ccd.toml.

Every key the agent presses maps to an action id here (harlequin's ``HARLEQUIN_ACTIONS``);
``[keys]`` in ccd.toml maps ids to other keys (``answer = "f5"``), applied through Textual's
keymap, so no code changes to move a key. The footer shows the current key of each action.

| id | default | what it does |
|---|---|---|
| answer | a | answer the ringing call (应答) |
| hangup | h | hang up (挂机) |
| hold | o | hold / take back (保持 / 接回) |
| transfer | t | transfer: blind or consult, with a picker (转移) |
| transfer_complete | T | finish a consult transfer (完成) |
| conference | c | conference the consulted party in (会议) |
| dial | d | dial out, the customer's numbers one key away (外呼) |
| dtmf | k | send DTMF digits (送号) |
| ready | r | ready for calls (置闲) |
| not_ready | p | not ready, with a reason (置忙) |
| wrapup_done | w | end wrap-up now |
| disposition | s | wrap-up code for the call (小结; opens by itself in wrap-up when the daemon has codes) |
| logout | l | log out (离席) |
| note | n | write a note on the customer |
| edit_customer | e | edit the customer card (or file a new one) |
| order | g | create an order |
| pick_customer | x | pick among customers sharing the number |
| search | / | search customers |
| detail | i | customer detail with the full timeline |
| missed | m | missed calls and voicemails |
| reminders | u | today's reminders |
| quit | q | quit |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class AgentAction:
    id: str
    key: str
    description: str
    show: bool = True


AGENT_ACTIONS: dict[str, AgentAction] = {
    a.id: a
    for a in (
        AgentAction("answer", "a", "Answer"),
        AgentAction("hangup", "h", "Hang up"),
        AgentAction("hold", "o", "Hold"),
        AgentAction("transfer", "t", "Transfer"),
        AgentAction("transfer_complete", "T", "Complete", show=False),
        AgentAction("conference", "c", "Conf"),
        AgentAction("dial", "d", "Dial"),
        AgentAction("dtmf", "k", "DTMF"),
        AgentAction("ready", "r", "Ready"),
        AgentAction("not_ready", "p", "Not ready"),
        AgentAction("wrapup_done", "w", "End wrap-up"),
        AgentAction("disposition", "s", "Code", show=False),
        AgentAction("note", "n", "Note"),
        AgentAction("edit_customer", "e", "Customer"),
        AgentAction("order", "g", "Order"),
        AgentAction("pick_customer", "x", "Pick", show=False),
        AgentAction("search", "slash", "Search"),
        AgentAction("detail", "i", "Detail"),
        AgentAction("missed", "m", "Missed"),
        AgentAction("reminders", "u", "Today"),
        AgentAction("logout", "l", "Logout"),
        AgentAction("quit", "q", "Quit", show=False),
    )
}


def main_bindings() -> list[Binding]:
    """The main screen's bindings, one per action, each with its id for remapping."""
    return [
        Binding(a.key, "app.quit" if a.id == "quit" else a.id, a.description, show=a.show, id=a.id)
        for a in AGENT_ACTIONS.values()
    ]


class UnknownActionError(ValueError):
    """A `[keys]` entry names an action that does not exist."""


def keymap(overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Validate `[keys]` from ccd.toml (action id -> key) into a Textual keymap.

    Raises UnknownActionError naming the bad id and the closest real one.
    """
    out: dict[str, str] = {}
    for action, key in (overrides or {}).items():
        if action not in AGENT_ACTIONS:
            import difflib

            close = difflib.get_close_matches(action, AGENT_ACTIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UnknownActionError(f"[keys] {action}: no such agent action{hint}")
        if not isinstance(key, str) or not key.strip():
            raise UnknownActionError(f"[keys] {action}: the key must be a non-empty string")
        out[action] = key.strip()
    return out
