"""Audio between lines: who hears whom, and what ccd plays to each line (pure numpy, no I/O).

Every 20 ms the media loop hands `mix()` the audio received on every line (one row per
line) and gets back the audio to send to each line. A line's outgoing audio is the sum of

- the rows it is linked to (a two-party bridge is two links; a conference is links from
  every member to every other; silent monitoring is one link supervisor <- agent/caller),
- whatever is playing to it (prompts, tones, DTMF, music on hold) from its player queue.

Links are kept as index arrays so one tick costs O(links x 160) numpy work whatever the
number of lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

FRAME = 160


class AudioSource(Protocol):
    def read(self, n: int) -> np.ndarray | None:
        """Up to n int16 samples (fewer at the end); None once finished."""
        ...


class BufferSource:
    """Plays a fixed buffer once (a prompt, a DTMF string, a beep)."""

    def __init__(self, samples: np.ndarray) -> None:
        self._buf = np.asarray(samples, dtype=np.int16)
        self._pos = 0

    def read(self, n: int) -> np.ndarray | None:
        if self._pos >= len(self._buf):
            return None
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out


class LoopSource:
    """Plays a buffer forever (music on hold, a cadenced tone rendered for one cycle)."""

    def __init__(self, samples: np.ndarray) -> None:
        buf = np.asarray(samples, dtype=np.int16)
        self._buf = buf if len(buf) else np.zeros(FRAME, dtype=np.int16)
        self._pos = 0

    def read(self, n: int) -> np.ndarray | None:
        idx = (self._pos + np.arange(n)) % len(self._buf)
        self._pos = (self._pos + n) % len(self._buf)
        return self._buf[idx]


class CallbackSource:
    """Adapts any `read(n) -> samples` callable (e.g. a streaming tone generator)."""

    def __init__(self, read: Callable[[int], np.ndarray]) -> None:
        self._read = read

    def read(self, n: int) -> np.ndarray | None:
        return np.asarray(self._read(n), dtype=np.int16)


@dataclass
class _Playing:
    source: AudioSource
    tag: str | None


class Media:
    """The audio switch and the players of every line."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._links: dict[tuple[int, int], float] = {}
        self._dst = np.zeros(0, dtype=np.intp)
        self._src = np.zeros(0, dtype=np.intp)
        self._gain = np.zeros(0, dtype=np.float32)
        self._players: dict[int, deque[_Playing]] = {}

    # ------------------------------------------------------------------ links
    def link(self, dst: int, src: int, gain: float = 1.0) -> None:
        """`dst` hears `src` (one way)."""
        if dst == src:
            return
        self._links[(dst, src)] = gain
        self._rebuild()

    def unlink(self, dst: int, src: int) -> None:
        if self._links.pop((dst, src), None) is not None:
            self._rebuild()

    def connect(self, a: int, b: int) -> None:
        """Two-way bridge between rows a and b."""
        self._links[(a, b)] = 1.0
        self._links[(b, a)] = 1.0
        self._rebuild()

    def disconnect(self, a: int, b: int) -> None:
        self._links.pop((a, b), None)
        self._links.pop((b, a), None)
        self._rebuild()

    def isolate(self, row: int) -> None:
        """Remove every link to and from `row`."""
        before = len(self._links)
        self._links = {k: g for k, g in self._links.items() if row not in k}
        if len(self._links) != before:
            self._rebuild()

    def hears(self, row: int) -> list[int]:
        return sorted(src for (dst, src) in self._links if dst == row)

    def _rebuild(self) -> None:
        if self._links:
            keys = list(self._links)
            self._dst = np.fromiter((k[0] for k in keys), dtype=np.intp, count=len(keys))
            self._src = np.fromiter((k[1] for k in keys), dtype=np.intp, count=len(keys))
            self._gain = np.fromiter(self._links.values(), dtype=np.float32, count=len(keys))
        else:
            self._dst = self._src = np.zeros(0, dtype=np.intp)
            self._gain = np.zeros(0, dtype=np.float32)

    # ------------------------------------------------------------------ players
    def play(self, row: int, source: AudioSource, tag: str | None = None, *, replace: bool = False) -> None:
        queue = self._players.setdefault(row, deque())
        if replace:
            queue.clear()
        queue.append(_Playing(source, tag))

    def stop(self, row: int) -> list[str]:
        """Stop everything playing to `row`; returns the tags that were cut short."""
        queue = self._players.pop(row, None)
        return [p.tag for p in queue or () if p.tag]

    def playing(self, row: int) -> bool:
        return bool(self._players.get(row))

    # ------------------------------------------------------------------ the tick
    def mix(self, rx: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """Outgoing audio for every row, and (row, tag) of each play that finished."""
        acc = np.zeros(rx.shape, dtype=np.float32)
        if len(self._dst):
            contrib = rx[self._src].astype(np.float32)
            if not np.all(self._gain == 1.0):
                contrib *= self._gain[:, None]
            np.add.at(acc, self._dst, contrib)
        finished: list[tuple[int, str]] = []
        n = rx.shape[1]
        for row in list(self._players):
            queue = self._players[row]
            filled = 0
            while queue and filled < n:
                item = queue[0]
                chunk = item.source.read(n - filled)
                if chunk is None or len(chunk) == 0:
                    queue.popleft()
                    if item.tag:
                        finished.append((row, item.tag))
                    continue
                acc[row, filled : filled + len(chunk)] += chunk
                filled += len(chunk)
            if not queue:
                del self._players[row]
        np.clip(acc, -32768, 32767, out=acc)
        return acc.astype(np.int16), finished
