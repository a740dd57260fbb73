"""NDJSON framing, sans-IO: bytes in, messages out; messages in, bytes out.

One JSON object per ``\\n``-terminated line, the mpv IPC convention, so a person can talk to
the daemon with ``socat - UNIX:/run/ccd/ccd.sock``. The decoder never raises on bad input:
a bad line becomes a `ProtocolError` item in the output list and decoding goes on with the
next line, because one garbled message must not cost a client its connection (and a
daemon its other clients). A line longer than ``max_line`` is reported once and then
skipped up to its newline without being buffered, so a peer cannot make the daemon hold
an unbounded amount of memory by never sending a newline.

No sockets here (h11's rule): the server and the client each own the I/O and feed this.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import PurePath
from typing import Any

from ccd.ipc.errors import E_BAD_JSON, E_TOO_LARGE, RpcError

DEFAULT_MAX_LINE = 1_048_576


class ProtocolError(RpcError):
    """The peer sent bytes that are not a message (bad JSON, not an object, too long).

    Returned as an item by `NdjsonDecoder.feed`, not raised: the peer is to blame, and the
    reader decides whether to answer with an error reply or hang up.
    """


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; accepting them would let a client send values that
    # the daemon could not echo back as valid JSON.
    raise ValueError(f"{name} is not valid JSON")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


class NdjsonDecoder:
    """Split a byte stream into JSON objects, one per line.

    `feed()` returns, in order, a ``dict`` for every good line and a `ProtocolError` for
    every bad one. Blank lines are ignored (handy when typing into socat). Bytes after the
    last newline are kept until more data arrives; `pending` says how many, so a reader at
    end of stream can tell a half message from a clean close.
    """

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 2:
            raise ValueError("max_line must be at least 2 bytes")
        self.max_line = max_line
        self._buf = bytearray()
        self._scanned = 0  # leading bytes of _buf known to contain no newline
        self._discarding = False  # inside an oversized line, dropping bytes until "\n"
        self.discarded = 0  # total bytes dropped as parts of oversized lines
        self.errors = 0  # total ProtocolError items produced

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held (or being skipped) right now."""
        return len(self._buf) + (1 if self._discarding else 0)

    def feed(self, data: bytes) -> list[dict[str, Any] | ProtocolError]:
        out: list[dict[str, Any] | ProtocolError] = []
        if not data:
            return out
        if self._discarding:
            nl = data.find(b"\n")
            if nl < 0:
                self.discarded += len(data)
                return out
            self.discarded += nl
            self._discarding = False
            data = data[nl + 1 :]
        buf = self._buf
        buf += data
        start = 0
        search = self._scanned
        while True:
            nl = buf.find(b"\n", search)
            if nl < 0:
                break
            length = nl - start
            if length > self.max_line:
                self.discarded += length
                out.append(self._too_large(length))
            elif length:
                item = self._parse(bytes(buf[start:nl]))
                if item is not None:
                    out.append(item)
            start = search = nl + 1
        rest = len(buf) - start
        if rest > self.max_line:
            # No newline in sight and already too long: report now, drop it, and skip the
            # remainder of this line as it arrives instead of buffering it.
            self.discarded += rest
            out.append(self._too_large(rest, unfinished=True))
            buf.clear()
            self._discarding = True
            self._scanned = 0
        else:
            del buf[:start]
            self._scanned = len(buf)
        return out

    def _too_large(self, length: int, *, unfinished: bool = False) -> ProtocolError:
        self.errors += 1
        more = "+" if unfinished else ""
        return ProtocolError(
            E_TOO_LARGE,
            f"message too large ({length}{more} bytes; the limit is {self.max_line} bytes per line)",
            {"limit": self.max_line},
        )

    def _parse(self, line: bytes) -> dict[str, Any] | ProtocolError | None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.errors += 1
            return ProtocolError(E_BAD_JSON, f"message is not valid UTF-8 (byte {exc.start})")
        if not text.strip():
            return None
        try:
            obj = _decoder.decode(text)
        except json.JSONDecodeError as exc:
            self.errors += 1
            return ProtocolError(E_BAD_JSON, f"message is not valid JSON: {exc.msg} at column {exc.colno}")
        except (ValueError, RecursionError) as exc:
            self.errors += 1
            return ProtocolError(E_BAD_JSON, f"message is not valid JSON: {exc}")
        if not isinstance(obj, dict):
            self.errors += 1
            return ProtocolError(E_BAD_JSON, f"message must be a JSON object, not {_json_type(obj)}")
        return obj


def _json_type(obj: Any) -> str:
    if isinstance(obj, list):
        return "an array"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, int | float):
        return "a number"
    if obj is None:
        return "null"
    return type(obj).__name__


def _default(obj: Any) -> Any:
    """Make the few non-JSON types handlers naturally return encodable."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def encode(obj: Any) -> bytes:
    """One message as compact UTF-8 JSON plus ``\\n``.

    Raises TypeError/ValueError for values JSON cannot carry (NaN, arbitrary objects), so a
    handler bug surfaces at the sender instead of as garbage at the peer.
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_default)
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; the \\u escape form is still valid JSON.
        text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_default)
        return text.encode("ascii") + b"\n"
