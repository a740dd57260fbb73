"""Call applications: what happens to an answered call (IVR flow, queue, voicemail, survey...).

The engine owns lines, calls, audio and records; an application owns *one decision
process for one call*. The engine hands it the call's events and the application acts
through the engine's call-control methods (`CallControl`). Both sides are sans-IO: an
application never sleeps or reads a clock, it asks for timers and gets `on_timer` back.

A call has at most one application at a time; `ctl.route(call, kind, target)` hands it to
another (an IVR exit to a queue, a queue overflow to voicemail). Applications are made by
factories registered by kind (`engine.register_app("queue", factory)`), so new kinds need
no change in the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ccd.telephony.engine import Call
    from ccd.telephony.line import Line


class CallControl(Protocol):
    """What an application may do to its call (implemented by the Engine)."""

    now: float

    def wall(self) -> float: ...

    def answer(self, call: Call) -> None:
        """Take the caller's trunk off-hook (no-op when already answered)."""

    def play(self, call: Call, audio: np.ndarray, tag: str | None = None, *, replace: bool = True) -> None:
        """Play audio to the caller; `on_play_done(tag)` follows when it has all been sent."""

    def play_prompts(
        self, call: Call, names: Sequence[str], tag: str | None = None, *, replace: bool = True
    ) -> None:
        """Play named voice prompts in the call's language (missing ones are silence, logged)."""

    def play_loop(self, call: Call, audio: np.ndarray, tag: str | None = None) -> None:
        """Play audio to the caller over and over (music on hold) until `stop_play`."""

    def stop_play(self, call: Call) -> None: ...

    def set_timer(self, call: Call, delay: float, tag: str) -> None:
        """`on_timer(tag)` after `delay` seconds (a timer with the same tag is replaced)."""

    def cancel_timer(self, call: Call, tag: str) -> None: ...

    def ring(self, call: Call, extension: str, *, agent: str | None = None) -> bool:
        """Ring an idle extension for this call; False if it is not idle or does not exist."""

    def stop_ring(self, call: Call, extension: str) -> None: ...

    def connect(self, call: Call, extension: str) -> None:
        """Bridge the caller with an answered extension (stops prompts/music to the caller)."""

    def disconnect(self, call: Call, extension: str) -> None:
        """Take an extension out of the call (it hears busy tone until it hangs up)."""

    def dial_external(self, call: Call, number: str) -> bool:
        """Seize a free trunk and dial `number`; the caller is bridged to it once dialled."""

    def hangup(self, call: Call, disposition: str | None = None) -> None:
        """End the call: release the trunk and every extension still in it."""

    def route(self, call: Call, kind: str, target: str | None = None) -> None:
        """Hand the call to another application (queue, ivr, voicemail, extension, hangup...)."""

    def journal(self, call: Call | None, queue: str, agent: str, event: str, *data: Any) -> None:
        """Append a queue_log-style row to the call-event journal."""

    def publish(
        self, name: str, data: dict[str, Any], key: str | None = None, coalesce: bool = False
    ) -> None: ...

    def line(self, line_id: str) -> Line | None: ...


class CallApp:
    """Base class: every hook does nothing, so an application implements what it needs."""

    kind: str = "app"

    def start(self, ctl: CallControl, call: Call) -> None:
        """The call has been handed to this application."""

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        """The caller pressed a key."""

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        """Audio played with `tag` has been sent completely."""

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        """A timer set with `set_timer` expired."""

    def on_answered(self, ctl: CallControl, call: Call, line: Line) -> None:
        """An extension rung with `ring` was lifted; default: bridge it to the caller."""
        ctl.connect(call, line.id)

    def on_ring_timeout(self, ctl: CallControl, call: Call, line: Line) -> None:
        """An extension rung with `ring` was not lifted within the answer timeout."""

    def on_party_left(self, ctl: CallControl, call: Call, line: Line) -> bool:
        """An extension in the call hung up. Return True if the application keeps the caller
        (a survey after the agent hangs up); False ends the call (the default)."""
        return False

    def on_caller_gone(self, ctl: CallControl, call: Call) -> None:
        """The caller hung up (or the trunk failed). The engine ends the call right after."""

    def stop(self, ctl: CallControl, call: Call) -> None:
        """The call leaves this application (routed elsewhere or ended)."""

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind}


AppFactory = Callable[[str | None], CallApp]
