"""Wallboard panels: pure functions from `WallboardState` to rows (keyed) or a rich Table.

`rows(state, now)` gives ``{row key: (cell, ...)}`` for a `LiveTable` updated by keyed diff, each
cell a plain ``(text, style)`` pair: cheap to build and to compare, which matters at 128 lines;
`render(state, now)` gives the same as a rich Table (plain views, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

Cell = tuple[str, str]  # (text, rich style string)
Rows = dict[str, tuple[Cell, ...]]


def dur(secs: float | None) -> str:
    if secs is None:
        return ""
    s = max(0, int(secs))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def num(value: Any, fmt: str = "{:.1f}", empty: str = "—") -> str:
    return empty if value is None else fmt.format(value)


def t(text: Any, style: str = "") -> Cell:
    return (str(text) if text is not None else "", style)


def natural(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def table_of(columns: Sequence[tuple[str, str]], rows: Rows, title: str = "") -> Table:
    table = Table(title=title or None, header_style="bold", expand=True, pad_edge=False)
    for _key, label in columns:
        table.add_column(label, no_wrap=True, overflow="ellipsis")
    for cells in rows.values():
        table.add_row(*(Text(text, style=style, no_wrap=True, overflow="ellipsis") for text, style in cells))
    return table


RowsFn = Callable[[Any, float], Rows]
