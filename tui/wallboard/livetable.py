"""A keyed live table for the wallboard: rows of plain-string cells with a style, drawn line by line.

Why not Textual's DataTable: every `update_cell` bumps one table-wide counter that is part of
every render cache key, so one changed cell re-renders every visible cell of the table through
rich (Padding → Text → wrap) — with 128 lines changing that was most of a core. Here each row
keeps its own rendered `Strip`, keyed by the row's cells, the column widths and whether the
cursor is on it; a frame re-renders only rows whose cells changed. Column widths follow the
content (a caller's number is never cut because the first snapshot had no caller), within an
optional cap per column.

Keys: up/down, page up/down, home/end move the cursor; a click selects a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = tuple[str, str]  # (text, rich style string; "" for plain)
Row = tuple[Cell, ...]
GAP = 2  # spaces between columns


def _width(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


@lru_cache(maxsize=256)
def _style(spec: str) -> Style | None:
    return Style.parse(spec) if spec else None


def _fit(text: str, width: int) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` cells."""
    n = _width(text)
    if n <= width:
        return text + " " * (width - n)
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - 1 - used)


class LiveTable(ScrollView, can_focus=True):
    """A table updated by keyed diff (`set_rows`) that redraws only the rows that changed."""

    DEFAULT_CSS = """
    LiveTable { background: $surface; }
    LiveTable > .livetable--header { text-style: bold; background: $panel; }
    LiveTable > .livetable--cursor { background: $block-cursor-blurred-background; }
    LiveTable:focus > .livetable--cursor { background: $block-cursor-background; }
    """
    COMPONENT_CLASSES: ClassVar = {"livetable--header", "livetable--cursor"}
    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "cursor(-1000000)", show=False),
        Binding("end", "cursor(1000000)", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        max_widths: dict[str, int] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        caps = max_widths or {}
        self._caps = [caps.get(key, 0) for key, _ in self.columns]
        self._label_widths = [cell_len(label) for _, label in self.columns]
        self._rows: dict[str, Row] = {}
        self._keys: list[str] = []
        self._lengths: dict[str, tuple[int, ...]] = {}
        self._widths: tuple[int, ...] = tuple(self._label_widths)
        self._strips: dict[str, tuple[Any, Strip]] = {}  # row key -> (cache key, rendered line)
        self.cursor_row = 0
        self._styles: tuple[Style, Style, Style] | None = None  # base, header, cursor: once per paint
        self.rows_drawn = 0  # rows rendered into strips (the bench counts them)

    # --- data -----------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    def get_row(self, key: str) -> list[str]:
        """The row's cell texts (KeyError if there is no such row)."""
        return [text for text, _ in self._rows[key]]

    def get_row_index(self, key: str) -> int:
        return self._keys.index(key)

    @property
    def selected_key(self) -> str | None:
        return self._keys[self.cursor_row] if self._keys else None

    def set_rows(self, rows: dict[str, Row]) -> int:
        """Show `rows` (in their order); return the number of cells that changed.

        The cursor stays on its row key when rows come and go around it."""
        old = self._rows
        selected = self.selected_key
        changed = 0
        changed_rows: list[int] = []
        for index, (key, cells) in enumerate(rows.items()):
            before = old.get(key)
            if before is None:
                changed += len(cells)
                self._lengths[key] = tuple(_width(text) for text, _ in cells)
            elif before != cells:
                changed += sum(1 for a, b in zip(before, cells, strict=True) if a != b)
                self._lengths[key] = tuple(_width(text) for text, _ in cells)
                changed_rows.append(index)
        order_changed = len(rows) != len(self._keys) or list(rows) != self._keys
        if order_changed:
            for gone in [k for k in old if k not in rows]:
                self._lengths.pop(gone, None)
                self._strips.pop(gone, None)
            self._keys = list(rows)
            if selected in rows:
                self.cursor_row = self._keys.index(selected)
            self.cursor_row = max(0, min(self.cursor_row, len(self._keys) - 1))
        self._rows = rows
        if changed or order_changed:
            if self._update_widths(fresh=order_changed) or order_changed:
                self.refresh()
            else:
                self._refresh_rows(changed_rows)
        return changed

    def _refresh_rows(self, indexes: list[int]) -> None:
        """Repaint only the visible rows that changed, in runs of adjacent rows."""
        top = int(self.scroll_y)
        bottom = top + max(0, self.size.height - 1)
        width = self.size.width
        start = prev = -2
        for i in [*indexes, -10]:
            if i == prev + 1:
                prev = i
                continue
            if start >= 0 and prev >= top and start < bottom:
                lo, hi = max(start, top), min(prev, bottom - 1)
                self.refresh(Region(0, lo - top + 1, width, hi - lo + 1))
            start = prev = i

    def _update_widths(self, fresh: bool) -> bool:
        """Fit the columns to the content; True if a width changed (every row redraws).

        Columns only grow while the same rows are shown (they shrink again when rows come or
        go): a column that breathes with every duration or caller would move the whole table
        and make Textual lay the screen out again."""
        widths = list(self._label_widths if fresh else self._widths)
        for lengths in self._lengths.values():
            for i, n in enumerate(lengths):
                if n > widths[i]:
                    widths[i] = n
        for i, cap in enumerate(self._caps):
            if cap and widths[i] > cap:
                widths[i] = max(cap, self._label_widths[i])
        new = tuple(widths)
        grew = new != self._widths
        if grew:
            self._widths = new
            self._strips.clear()
        total = sum(new) + GAP * (len(new) - 1)
        size = Size(total, len(self._keys) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        return grew

    # --- cursor ---------------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        if not self._keys:
            return
        self.cursor_row = max(0, min(row, len(self._keys) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def select_key(self, key: str) -> None:
        self.move_cursor(row=self._keys.index(key))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(1, self.size.height - 2))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # less the header
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._keys):
            self.move_cursor(row=index)

    def on_focus(self) -> None:
        self._strips.clear()  # the cursor's colour follows focus
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()

    # --- drawing --------------------------------------------------------------------------------

    def _line(self, cells: Sequence[Cell], base: Style) -> Strip:
        segments: list[Segment] = []
        last = len(self._widths) - 1
        for i, ((text, spec), width) in enumerate(zip(cells, self._widths, strict=False)):
            style = _style(spec)
            segments.append(Segment(_fit(text, width), base + style if style else base))
            if i < last:
                segments.append(Segment(" " * GAP, base))
        return Strip(segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        # resolving CSS styles costs more than drawing a row: once per paint, not per line
        base = self.rich_style
        self._styles = (
            base,
            base + self.get_component_rich_style("livetable--header"),
            base + self.get_component_rich_style("livetable--cursor"),
        )
        self._view = (int(self.scroll_x), self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._styles = None

    def render_line(self, y: int) -> Strip:
        styles = self._styles
        if styles is None:  # called outside a paint
            base = self.rich_style
            styles = (
                base,
                base + self.get_component_rich_style("livetable--header"),
                base + self.get_component_rich_style("livetable--cursor"),
            )
            self._view = (int(self.scroll_x), self.scrollable_content_region.width)
        base, header, cursor_style = styles
        scroll_x, width = self._view
        if y == 0:
            line = self._line([(label, "") for _, label in self.columns], header)
            return line.crop_extend(scroll_x, scroll_x + width, base)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        cursor = index == self.cursor_row
        cells = self._rows[key]
        cache_key = (cells, cursor, base, scroll_x, width)
        cached = self._strips.get(key)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        line = self._line(cells, cursor_style if cursor else base).crop_extend(
            scroll_x, scroll_x + width, base
        )
        self._strips[key] = (cache_key, line)
        self.rows_drawn += 1
        return line
