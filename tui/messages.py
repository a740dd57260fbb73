"""App-wide Textual messages: what the daemon connection tells the screens.

Kept flat and small (toolong's `messages.py`): the socket client's callbacks post these from
its reader task, and any screen or widget can handle them with ``@on(DaemonEvent)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class DaemonEvent(Message, bubble=False):
    """One event pushed by the daemon (``{"event": name, "data": {...}}``)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConnectionChanged(Message, bubble=False):
    """The connection's state: connecting, syncing, connected, lost, failed, stopped."""

    state: str
    info: dict[str, Any] = field(default_factory=dict)

    def can_replace(self, message: Message) -> bool:
        # only the latest connection state matters to a banner
        return isinstance(message, ConnectionChanged) and message.state == self.state


@dataclass
class PopReady(Message, bubble=False):
    """A screen-pop bundle arrived for the call on screen."""

    call: str | None
    bundle: dict[str, Any]
