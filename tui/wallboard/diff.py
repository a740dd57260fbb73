"""Keyed diff of a DataTable (dolphie's Processlist): remove stale keys, add new rows, and call
`update_cell` only where a value changed — never clear and refill, so the cursor stays on its
row and a busy board costs only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable


def sync_table(
    table: DataTable[Any],
    columns: Sequence[tuple[str, str]],
    rows: dict[str, tuple[Any, ...]],
    previous: dict[str, tuple[Any, ...]],
) -> int:
    """Bring `table` from `previous` to `rows`; return the number of cells written.

    `previous` is the caller's copy of what the table shows; it is updated in place.
    Call inside ``app.batch_update()`` so all changes reach the screen in one frame.
    """
    if not table.columns:
        for key, label in columns:
            table.add_column(label, key=key)
    keys = [k for k, _ in columns]
    written = 0
    for stale in [k for k in previous if k not in rows]:
        table.remove_row(stale)
        del previous[stale]
    for row_key, cells in rows.items():
        old = previous.get(row_key)
        if old is None:
            table.add_row(*cells, key=row_key)
            written += len(cells)
        elif old != cells:
            for i, (a, b) in enumerate(zip(old, cells, strict=True)):
                if a != b:
                    table.update_cell(row_key, keys[i], b)
                    written += 1
        previous[row_key] = cells
    return written
