"""Problems found in a configuration file, and the error that carries them.

A config file is checked as a whole: every problem is collected, not just the first,
so `ccd config validate` can show a user all of them in one go (harlequin's
`Problems` collector). Each problem names the file, the line and the key path, the
way a compiler does, so an editor can jump to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: A key path inside the document: table keys and 0-based array indices,
#: e.g. ``("trunks", 1, "driver")`` for the 2nd ``[[trunks]]`` table's ``driver``.
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file.

    `line` is 1-based, or None when the problem has no place in the file (it cannot be
    read at all). `key_path` is the dotted path with 0-based indices, e.g.
    ``trunks[1].driver``; empty for syntax errors.
    """

    file: str
    line: int | None
    key_path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key_path:
            return f"{where}: {self.key_path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used. `str()` lists every problem, one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: Iterable[str | int]) -> str:
    """Render a key path the way users write it: ``trunks[1].driver``, ``keys."ctrl+q"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _is_bare(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out


def _is_bare(key: str) -> bool:
    return bool(key) and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the nearest candidate, or ``""`` if none is close.

    The cutoff is a little below difflib's default so that short words with one typo
    (``'ofice'`` → ``'office'``, ``'smi'`` → ``'sim'``) still find their match.
    """
    pool = [c for c in candidates if isinstance(c, str)]
    close = difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    # among near ties, a transposition ('smi' -> 'sim', not 'sms') is the likelier typo
    swapped = [c for c in close if sorted(c) == sorted(word)]
    close = swapped or close
    if not close:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""
