"""Map key paths in a TOML document back to the line they were written on.

`tomllib` gives us the data but forgets where each value came from, and a problem
report without a line number makes the user hunt. This scanner walks the text once
and records the line of every table header, array-of-tables entry, key, inline-table
key and array element. It only runs on text that `tomllib` has already accepted, so it
can assume the syntax is valid; on anything it does not understand it stops and keeps
what it has, and lookups fall back to the nearest enclosing key.
"""

from __future__ import annotations

import bisect
import logging
import tomllib

from ccd.config.problems import KeyPath

log = logging.getLogger(__name__)

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\n\r")


class LineLocator:
    """Line numbers (1-based) for key paths such as ``("trunks", 1, "driver")``."""

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        scanner = _Scanner(text, self._lines)
        try:
            scanner.document()
        except Exception:  # the scanner is best effort: a partial map beats no report at all
            log.debug("line locator stopped early at offset %d", scanner.i, exc_info=True)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of `path`, or of its nearest ancestor that was written down; None if none was."""
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None


class _Scanner:
    """A forgiving recursive-descent walk over valid TOML that records positions."""

    def __init__(self, text: str, out: dict[KeyPath, int]) -> None:
        self.s = text
        self.i = 0
        self.out = out
        self._newlines = [n for n, c in enumerate(text) if c == "\n"]
        self._aot_counts: dict[KeyPath, int] = {}  # array-of-tables path -> entries so far

    # -- helpers -------------------------------------------------------------------
    def line(self, at: int | None = None) -> int:
        return bisect.bisect_left(self._newlines, self.i if at is None else at) + 1

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def record(self, path: KeyPath, line: int, *, overwrite: bool = False) -> None:
        if overwrite or path not in self.out:
            self.out[path] = line

    def record_chain(self, path: KeyPath, line: int) -> None:
        """Record `path` and every ancestor not yet seen (dotted keys create implicit tables)."""
        for n in range(1, len(path) + 1):
            self.record(path[:n], line)

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def skip_blank(self) -> None:
        """Skip whitespace, newlines and comments."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    # -- grammar -------------------------------------------------------------------
    def document(self) -> None:
        prefix: KeyPath = ()
        while True:
            self.skip_blank()
            if self.i >= len(self.s):
                return
            line = self.line()
            if self.peek(2) == "[[":
                self.i += 2
                keys = self.key()
                self.i += 2  # "]]"
                parent = self.resolve(keys[:-1])
                table = (*parent, keys[-1])
                index = self._aot_counts.get(table, 0)
                self._aot_counts[table] = index + 1
                self.record_chain(table, line)
                prefix = (*table, index)
                self.record(prefix, line, overwrite=True)
            elif self.peek() == "[":
                self.i += 1
                keys = self.key()
                self.i += 1  # "]"
                prefix = self.resolve(keys)
                self.record_chain(prefix, line)
            else:
                keys = self.key()
                path = (*prefix, *keys)
                self.record_chain(path, line)
                self.skip_ws()
                self.i += 1  # "="
                self.value(path)

    def resolve(self, keys: list[str]) -> KeyPath:
        """Turn a header's keys into a path, stepping into the latest entry of each array of tables."""
        path: KeyPath = ()
        for key in keys:
            path = (*path, key)
            if path in self._aot_counts:
                path = (*path, self._aot_counts[path] - 1)
        return path

    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_ws()
            c = self.peek()
            if c == '"':
                start = self.i
                self.basic_string()
                parts.append(tomllib.loads("k = " + self.s[start : self.i])["k"])
            elif c == "'":
                end = self.s.index("'", self.i + 1)
                parts.append(self.s[self.i + 1 : end])
                self.i = end + 1
            else:
                start = self.i
                while self.i < len(self.s) and self.s[self.i] in _BARE:
                    self.i += 1
                if self.i == start:
                    raise ValueError(f"no key at offset {start}")
                parts.append(self.s[start : self.i])
            self.skip_ws()
            if self.peek() != ".":
                return parts
            self.i += 1

    def basic_string(self) -> None:
        self.i += 1
        while self.s[self.i] != '"':
            self.i += 2 if self.s[self.i] == "\\" else 1
        self.i += 1

    def multiline_string(self, quote: str) -> None:
        self.i += 3
        while self.peek(3) != quote * 3:
            self.i += 2 if quote == '"' and self.s[self.i] == "\\" else 1
        self.i += 3
        for _ in range(2):  # up to two quotes may sit right before the closing delimiter
            if self.peek() == quote:
                self.i += 1

    def value(self, path: KeyPath) -> None:
        self.skip_ws()
        c = self.peek()
        if self.peek(3) in ('"""', "'''"):
            self.multiline_string(c)
        elif c == '"':
            self.basic_string()
        elif c == "'":
            self.i = self.s.index("'", self.i + 1) + 1
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_blank()
                if self.peek() == "]":
                    self.i += 1
                    return
                element = (*path, index)
                self.record(element, self.line())
                self.value(element)
                self.skip_blank()
                if self.peek() == ",":
                    self.i += 1
                    index += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip_blank()
                if self.peek() == "}":
                    self.i += 1
                    return
                line = self.line()
                sub = (*path, *self.key())
                self.record_chain(sub, line)
                self.skip_ws()
                self.i += 1  # "="
                self.value(sub)
                self.skip_blank()
                if self.peek() == ",":
                    self.i += 1
        else:
            start = self.i
            while self.i < len(self.s) and self.s[self.i] not in _SCALAR_END:
                self.i += 1
            if self.i == start:
                raise ValueError(f"no value at offset {start}")
