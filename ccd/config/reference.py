"""The configuration reference, generated from the schema so it cannot drift from the code.

`ccd config reference` prints it as Markdown; the README's configuration section can be
pasted from (or checked against) it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from ccd.config.fields import is_required, meta_of, type_name
from ccd.config.schema import DRIVER_KINDS, Config, section_fields


def reference_markdown() -> str:
    """Every section and key of `ccd.toml` with type, default and meaning, as Markdown."""
    out = [
        "# ccd.toml reference",
        "",
        "Relative paths are taken from the folder of the config file; `~` expands.",
        "Problems are reported as `FILE:LINE: KEY.PATH: message`, with 0-based array indices.",
    ]
    hints = get_type_hints(Config)
    for f in section_fields(Config):
        tp = hints[f.name]
        inner = _element(tp)
        if dataclasses.is_dataclass(tp):
            out += ["", f"## [{f.name}]", "", *_table(tp)]
        elif get_origin(tp) is tuple and inner is not None:
            out += ["", f"## [[{f.name}]]", "", *_table(inner)]
            if f.name == "drivers":
                for kind, spec in DRIVER_KINDS.items():
                    out += ["", f'### kind = "{kind}"', "", (spec.options.__doc__ or "").strip(), ""]
                    out += _table(spec.options)
        elif f.name == "tone_plans":
            out += ["", "## [tone_plans.NAME]", "", meta_of(f).doc, "", *_table(_deep_section(tp))]
        else:
            out += ["", f"## [{f.name}]", "", meta_of(f).doc]
    return "\n".join(out) + "\n"


def _element(tp: Any) -> Any:
    args = get_args(tp)
    return args[0] if args and dataclasses.is_dataclass(args[0]) else None


def _deep_section(tp: Any) -> Any:
    """The section type inside ``T | None``, ``tuple[T, ...]`` or ``dict[str, dict[str, T]]``, if any."""
    if dataclasses.is_dataclass(tp):
        return tp
    for arg in get_args(tp):
        found = _deep_section(arg)
        if found is not None:
            return found
    return None


def _table(cls: Any) -> list[str]:
    hints = get_type_hints(cls)
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, Any]] = []
    for f in section_fields(cls):
        meta = meta_of(f)
        if meta.tag:
            continue
        tp = hints[f.name]
        kind = _type_text(tp)
        allowed = meta.allowed()
        if allowed:
            kind = " \\| ".join(f'"{a}"' for a in allowed)
        default = "required" if is_required(f) else _toml(f.default)
        doc = meta.doc.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {kind} | {default} | {doc} |")
        sub = _deep_section(tp) if kind == "table" else None
        if sub is not None:
            nested.append((f.name, sub))
    for name, sub in nested:
        rows += ["", f"`{name}` = {{ ... }}:", "", *_table(sub)]
    return rows


def _type_text(tp: Any) -> str:
    """``array of numbers`` / ``[number, number]`` rather than the bare ``array`` of error messages."""
    args = get_args(tp)
    if get_origin(tp) is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _type_text(args[0])
            return f"array of {inner}s" if inner != "table" else "array of tables"
        return "[" + ", ".join(_type_text(a) for a in args) + "]"
    return type_name(tp)


def _toml(value: Any) -> str:
    if value is None or value is dataclasses.MISSING:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Path):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(json.dumps(v) for v in value) + "]`"
    return f"`{json.dumps(value, ensure_ascii=False)}`"
