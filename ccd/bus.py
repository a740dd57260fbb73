"""In-process event bus: the call engine publishes, the socket server and recorder listen.

Modelled on Home Assistant's EventBus: `subscribe()` returns an unsubscribe callable,
listeners are plain callables run synchronously on the loop (they must not block; a
listener that needs I/O queues the work). A failing listener is logged and skipped so
one bad subscriber never stops the others or the engine.

Events are `BusEvent(topic, name, data, key)`: `topic` is what clients subscribe to
(`line`, `call`, `agent`, `queue`, `alert`, `sim` ...), `name` the full event name
(`call.ringing`), `data` a JSON-ready dict, and `key` identifies the object the event is
about (a line id, call id, agent login) so that slow clients can coalesce status updates
of the same object (only the latest matters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[["BusEvent"], None]
Unsubscribe = Callable[[], None]


@dataclass(frozen=True, slots=True)
class BusEvent:
    topic: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    # True for status-like events where a newer event with the same (name, key) makes
    # an older one useless; False for events every client must see (call.ended, cdr).
    coalesce: bool = False


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[str | None, list[Listener]] = {}

    def subscribe(self, listener: Listener, topic: str | None = None) -> Unsubscribe:
        """Call `listener` for every event on `topic` (or every event when topic is None)."""
        self._listeners.setdefault(topic, []).append(listener)

        def unsubscribe() -> None:
            try:
                self._listeners.get(topic, []).remove(listener)
            except ValueError:
                pass

        return unsubscribe

    def publish(self, event: BusEvent) -> None:
        for listener in (*self._listeners.get(event.topic, ()), *self._listeners.get(None, ())):
            try:
                listener(event)
            except Exception:
                log.exception("bus listener %r failed on %s", listener, event.name)

    def emit(
        self, name: str, data: dict[str, Any] | None = None, *, key: str | None = None, coalesce: bool = False
    ) -> BusEvent:
        """Publish an event whose topic is the part of `name` before the first dot."""
        event = BusEvent(name.split(".", 1)[0], name, data or {}, key, coalesce)
        self.publish(event)
        return event
