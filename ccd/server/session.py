"""One client connection's state, and its bounded, coalescing outgoing queue.

The daemon must never wait for a client. Every message for a client goes into that
client's `OutQueue`, which a per-client sender task drains into the socket at whatever pace
the client reads. Status events (``BusEvent.coalesce``) replace a queued event with the
same ``(name, key)`` (toolong's ``can_replace``), so a stalled wallboard holds at most one
pending update per line or agent and gets only the latest state when it wakes up. Events
that must not be lost and do not fit make the queue report an overflow; the server then
disconnects that client (it gets a fresh snapshot when it reconnects).

Replies and snapshot items are never refused: their number is bounded by the reader,
which stops reading a client's requests while that client is not reading its replies.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from ccd.ipc.codec import encode
from ccd.ipc.messages import push

if TYPE_CHECKING:
    from ccd.bus import BusEvent
    from ccd.server.auth import PeerCred, UserInfo


class OutQueue:
    """FIFO of encoded messages with replace-by-key for status events.

    A replaced event moves to the back of the queue: the latest state of an object then
    comes after everything published before it, so a client never sees an older event
    (say ``call.ended``) arrive after a state that already reflects it.
    """

    def __init__(self, limit: int) -> None:
        if limit < 2:
            raise ValueError("queue limit must be at least 2")
        self.limit = limit
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._closed = False
        self.peak = 0  # most messages ever queued at once
        self.replaced = 0  # status events dropped because a newer one replaced them

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def _added(self) -> None:
        n = len(self._items)
        if n > self.peak:
            self.peak = n
        if n >= self.limit // 2:
            self._space.clear()
        self._ready.set()

    def put(self, payload: bytes) -> None:
        """Queue a message that must be delivered (a reply, a snapshot item)."""
        if self._closed:
            return
        self._items[next(self._seq)] = payload
        self._added()

    def offer(self, payload: bytes, *, name: str, key: str | None, coalesce: bool) -> bool:
        """Queue an event; False when it does not fit (the caller disconnects the client)."""
        if self._closed:
            return True
        if coalesce:
            slot: Hashable = ("c", name, key)
            if slot in self._items:
                self._items[slot] = payload
                self._items.move_to_end(slot)
                self.replaced += 1
                return True
        else:
            slot = next(self._seq)
        if len(self._items) >= self.limit:
            return False
        self._items[slot] = payload
        self._added()
        return True

    async def get(self) -> bytes | None:
        """Next message, waiting if there is none; None once closed."""
        while not self._items:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        _, payload = self._items.popitem(last=False)
        if len(self._items) < self.limit // 2:
            self._space.set()
        return payload

    async def wait_for_space(self) -> None:
        """Wait until the client has read enough that taking more requests is fair."""
        await self._space.wait()

    def drain_to(self, other: OutQueue) -> bool:
        """Move everything to `other` in order, with its coalescing rules; False on overflow."""
        ok = True
        for slot, payload in self._items.items():
            if isinstance(slot, tuple):
                ok = other.offer(payload, name=slot[1], key=slot[2], coalesce=True) and ok
            else:
                ok = other.offer(payload, name="", key=None, coalesce=False) and ok
        self._items.clear()
        return ok

    def close(self, *, discard: bool = False) -> None:
        """No more messages; the getter finishes what is queued (or nothing, if `discard`)."""
        self._closed = True
        if discard:
            self._items.clear()
        self._ready.set()
        self._space.set()


class Session:
    """Per-connection state. Handlers may keep their own things in `state`."""

    _ids = itertools.count(1)

    def __init__(
        self,
        *,
        peer: PeerCred | None,
        queue_limit: int,
        connected_at: float,
        on_overflow: Callable[[Session], None],
    ) -> None:
        self.id = next(Session._ids)
        self.peer = peer
        self.connected_at = connected_at
        self.user: UserInfo | None = None
        self.protocol: int | None = None
        self.client_name: str | None = None
        self.topics: set[str] = set()
        self.state: dict[str, Any] = {}
        self.login_failures = 0
        self.queue = OutQueue(queue_limit)
        self.closing = False
        self.close_reason = ""
        self._on_overflow = on_overflow
        # While a subscribe builds its snapshot, events of the topics it asked for wait
        # here so they reach the client after the snapshot and the reply.
        self._held: OutQueue | None = None
        self._hold_topics: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        who = self.user.login if self.user else "-"
        return f"<Session #{self.id} user={who} {self.peer or 'peer=?'}>"

    def describe(self) -> dict[str, Any]:
        """A JSON-ready line for the admin's list of connected clients."""
        return {
            "session": self.id,
            "user": self.user.login if self.user else None,
            "role": self.user.role if self.user else None,
            "pid": self.peer.pid if self.peer else None,
            "uid": self.peer.uid if self.peer else None,
            "client": self.client_name,
            "connected_at": self.connected_at,
            "topics": sorted(self.topics),
            "queued": len(self.queue),
        }

    # --- outgoing ---------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        """Queue a reply or other must-deliver message."""
        self.queue.put(encode(message))

    def send_event(
        self, name: str, data: dict[str, Any] | None = None, *, key: str | None = None, coalesce: bool = False
    ) -> None:
        """Push an event to this client alone, whatever it subscribed to (a private notice)."""
        self._offer(self.queue, encode(push(name, data)), name, key, coalesce)

    def deliver(self, event: BusEvent, payload: bytes) -> None:
        """Queue a bus event already encoded (once, for all clients) as `payload`."""
        if self.closing:
            return
        held = self._held
        target = held if held is not None and event.topic in self._hold_topics else self.queue
        self._offer(target, payload, event.name, event.key, event.coalesce)

    def _offer(self, queue: OutQueue, payload: bytes, name: str, key: str | None, coalesce: bool) -> None:
        if not queue.offer(payload, name=name, key=key, coalesce=coalesce):
            self._on_overflow(self)

    # --- subscribe support ------------------------------------------------------------

    def hold(self, topics: frozenset[str]) -> None:
        self._held = OutQueue(self.queue.limit)
        self._hold_topics = topics

    def release(self, *, discard: bool = False) -> None:
        held, self._held, self._hold_topics = self._held, None, frozenset()
        if held is not None and not discard and not held.drain_to(self.queue):
            self._on_overflow(self)
