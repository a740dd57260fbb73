"""A small declarative layer that turns a TOML dict into frozen dataclasses, collecting problems.

A section is a frozen, keyword-only dataclass whose fields are declared with
`setting()`. The annotation says the type (str, int, float, bool, Path, nested section,
``tuple[T, ...]``, fixed ``tuple[T1, T2]``, ``dict[str, T]``, ``T | None``); the metadata
says what else must hold (allowed values, ranges, pattern, identifiers and references).
`build()` walks a raw table against a section and never stops at the first problem: a
bad value is reported and left at its default, an array entry missing a required key is
reported and dropped, and everything else keeps being checked, so one run shows the
user everything that is wrong.

Identifiers and references are declared, not coded: a field with ``ident="trunk"``
registers its value as a trunk's name (and is checked for duplicates within its
identifier group), a field with ``ref="trunk"`` must name one. References are resolved
after the whole file is read, so a rule may name a trunk defined further down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from ccd.config.locate import LineLocator
from ccd.config.problems import KeyPath, Problem, did_you_mean, format_path

_META = "ccd.config"
REQUIRED: Any = dataclasses.MISSING


class _Invalid:
    """Marker for a value that failed its checks (the problem is already reported)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


@dataclass(frozen=True, slots=True)
class Meta:
    """What a `setting()` knows beyond its type; see `setting()` for the meaning of each."""

    doc: str = ""
    what: str = ""
    choices: tuple[str, ...] | Callable[[], Iterable[str]] | None = None
    min: float | None = None
    max: float | None = None
    gt: float | None = None
    pattern: str | None = None
    pattern_doc: str = ""
    check: Callable[[Any], str | None] | None = None
    ident: str | None = None
    ref: tuple[str, ...] = ()
    wildcard: bool = False
    tag: str | None = None
    variants: Callable[[], Mapping[str, type]] | None = None

    def allowed(self) -> tuple[str, ...] | None:
        if self.choices is None:
            return None
        return tuple(self.choices() if callable(self.choices) else self.choices)


def setting(
    default: Any = REQUIRED,
    *,
    doc: str = "",
    what: str = "",
    default_factory: Callable[[], Any] | None = None,
    choices: Iterable[str] | Callable[[], Iterable[str]] | None = None,
    min: float | None = None,
    max: float | None = None,
    gt: float | None = None,
    pattern: str | None = None,
    pattern_doc: str = "",
    check: Callable[[Any], str | None] | None = None,
    ident: str | None = None,
    ref: str | tuple[str, ...] = (),
    wildcard: bool = False,
    tag: str | None = None,
    variants: Callable[[], Mapping[str, type]] | None = None,
) -> Any:
    """Declare one key of a section.

    - `default`: leave out (REQUIRED) to make the key mandatory.
    - `doc`: one line for the configuration reference (`ccd config reference`).
    - `what`: the noun used in messages ("log level", "driver kind", "line id").
    - `choices`: allowed string values (or a callable, for registries that grow).
    - `min`/`max`/`gt`: numeric bounds, checked on the value or on each element of an array.
    - `pattern` + `pattern_doc`: a regex strings must fully match, and what to say when not.
    - `check`: a function of the converted value returning an error message or None.
    - `ident`: the value names a thing of this kind (unique within its identifier group).
    - `ref`: the value (or each element) must name a thing of one of these kinds;
      `wildcard` also allows ``"*"``.
    - `tag` + `variants`: this field holds a per-kind option set, chosen by the value of
      the sibling field `tag`, whose keys sit flat in the same table (``kind = "sim"``
      then ``seed = 1`` next to it).
    """
    meta = Meta(
        doc=doc,
        what=what,
        choices=choices if callable(choices) or choices is None else tuple(choices),
        min=min,
        max=max,
        gt=gt,
        pattern=pattern,
        pattern_doc=pattern_doc,
        check=check,
        ident=ident,
        ref=(ref,) if isinstance(ref, str) else tuple(ref),
        wildcard=wildcard,
        tag=tag,
        variants=variants,
    )
    if default_factory is not None:
        return field(default_factory=default_factory, metadata={_META: meta})
    return field(default=default, metadata={_META: meta})


def meta_of(f: dataclasses.Field[Any]) -> Meta:
    return f.metadata.get(_META) or Meta()


def is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


# -- identifier groups and name providers (registries other sections extend) -----------

#: identifier kind -> group in which values must be unique ("trunk" and "extension" share "line").
IDENT_GROUPS: dict[str, str] = {}
#: identifier kind -> function(config) giving names that exist without an `ident` field
#: (built-in tone plans, pass-through desk phones).
NAME_PROVIDERS: dict[str, Callable[[Any], Iterable[str]]] = {}


def register_names(kind: str, provider: Callable[[Any], Iterable[str]]) -> None:
    """Let references of `kind` also match the names `provider(config)` returns."""
    NAME_PROVIDERS[kind] = provider


# -- the build context -----------------------------------------------------------------


@dataclass
class _PendingRef:
    kinds: tuple[str, ...]
    value: str
    path: KeyPath
    meta: Meta


@dataclass
class Context:
    """State of one validation run: where problems go and what has been named so far."""

    file: str
    locator: LineLocator
    base_dir: Path | None
    problems: list[Problem] = field(default_factory=list)
    origins: dict[int, tuple[Any, KeyPath]] = field(default_factory=dict)
    names: dict[str, dict[str, KeyPath]] = field(default_factory=dict)  # kind -> name -> path
    groups: dict[str, dict[str, KeyPath]] = field(default_factory=dict)  # group -> name -> path
    refs: list[_PendingRef] = field(default_factory=list)

    def report(self, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, self.locator.line_of(path), format_path(path), message))

    def path_of(self, obj: Any) -> KeyPath:
        """Where a built section object came from (its table's key path)."""
        return self.origins[id(obj)][1]

    def report_at(self, obj: Any, key: str | int | None, message: str) -> None:
        """Report a problem about `obj` (a built section) or one of its keys."""
        path = self.path_of(obj)
        self.report(path if key is None else (*path, key), message)

    def where(self, path: KeyPath) -> str:
        line = self.locator.line_of(path)
        return format_path(path) + (f" on line {line}" if line is not None else "")

    def resolve_refs(self, config: Any) -> None:
        """Check every reference recorded during the build against the names now known."""
        provided: dict[str, set[str]] = {}
        for ref in self.refs:
            known: set[str] = set()
            for kind in ref.kinds:
                known.update(self.names.get(kind, {}))
                if kind in NAME_PROVIDERS:
                    if kind not in provided:
                        provided[kind] = set(NAME_PROVIDERS[kind](config))
                    known.update(provided[kind])
            if ref.value in known:
                continue
            label = ref.meta.what or ref.kinds[0].replace("_", " ")
            if known:
                hint = did_you_mean(ref.value, sorted(known))
                if not hint and len(known) <= 8:
                    hint = f" (known {label}s: {', '.join(sorted(known))})"
            else:
                hint = f" (no {label}s are configured)"
            self.report(ref.path, f"unknown {label} '{ref.value}'{hint}")


# -- converting values -----------------------------------------------------------------


def describe(value: Any) -> str:
    """How a TOML value is named in messages: ``string "x"``, ``integer 5``, ``table``."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return "string " + json.dumps(text, ensure_ascii=False)
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dt.datetime):
        return f"date-time {value.isoformat()}"
    if isinstance(value, dt.date):
        return f"date {value.isoformat()}"
    if isinstance(value, dt.time):
        return f"time {value.isoformat()}"
    return type(value).__name__


def type_name(tp: Any) -> str:
    """The TOML name of a Python annotation, for `expected X` messages."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return type_name(inner[0]) if len(inner) == 1 else " or ".join(type_name(a) for a in inner)
    if origin is tuple:
        return "array"
    if origin in (dict, Mapping) or dataclasses.is_dataclass(tp):
        return "table"
    return {str: "string", int: "integer", float: "number", bool: "boolean", Path: "string"}.get(tp, "value")


def _hints(cls: type) -> dict[str, Any]:
    cached = _HINTS.get(cls)
    if cached is None:
        cached = _HINTS[cls] = get_type_hints(cls)
    return cached


_HINTS: dict[type, dict[str, Any]] = {}


def convert(ctx: Context, tp: Any, value: Any, path: KeyPath, meta: Meta) -> Any:
    """Check `value` against annotation `tp` and `meta`; return it converted, or INVALID."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp!r} in config schema")
        return convert(ctx, inner[0], value, path, meta)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            return _wrong_type(ctx, tp, value, path)
        return build(ctx, tp, value, path)  # type: ignore[arg-type]
    if origin is tuple:
        return _convert_tuple(ctx, tp, value, path, meta)
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            return _wrong_type(ctx, tp, value, path)
        _, value_tp = get_args(tp)
        out = {}
        for key, item in value.items():
            converted = convert(ctx, value_tp, item, (*path, key), meta)
            if converted is not INVALID:
                out[key] = converted
        return out
    return _convert_scalar(ctx, tp, value, path, meta)


def _wrong_type(ctx: Context, tp: Any, value: Any, path: KeyPath, meta: Meta | None = None) -> Any:
    message = f"expected {type_name(tp)}, got {describe(value)}"
    if get_origin(tp) is tuple and not isinstance(value, dict | list):
        message += f" (write it as a list: [{_toml_scalar(value)}])"
    if tp in (str, Path) and isinstance(value, int | float) and not isinstance(value, bool):
        message += f' (write it in quotes: "{value}")'
        if meta is not None and meta.ident:
            # the user plainly meant this name: keep references to it from piling up more errors
            ctx.names.setdefault(meta.ident, {}).setdefault(str(value), path)
    ctx.report(path, message)
    return INVALID


def _convert_tuple(ctx: Context, tp: Any, value: Any, path: KeyPath, meta: Meta) -> Any:
    args = get_args(tp)
    if not isinstance(value, list):
        if isinstance(value, dict) and args and dataclasses.is_dataclass(args[0]):
            name = next((p for p in reversed(path) if isinstance(p, str)), "...")
            ctx.report(path, f"expected an array of tables (write [[{name}]]), got a table")
            return INVALID
        return _wrong_type(ctx, tp, value, path)
    if len(args) == 2 and args[1] is Ellipsis:
        items = [convert(ctx, args[0], item, (*path, n), meta) for n, item in enumerate(value)]
        return tuple(item for item in items if item is not INVALID)
    if len(value) != len(args):
        ctx.report(path, f"expected an array of {len(args)} values, got {len(value)}")
        return INVALID
    items = [
        convert(ctx, a, item, (*path, n), meta) for n, (a, item) in enumerate(zip(args, value, strict=True))
    ]
    return INVALID if any(item is INVALID for item in items) else tuple(items)


def _convert_scalar(ctx: Context, tp: Any, value: Any, path: KeyPath, meta: Meta) -> Any:
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            value = float(value)
    elif tp in (str, Path):
        ok = isinstance(value, str)
    else:
        raise TypeError(f"unsupported type {tp!r} in config schema")
    if not ok:
        return _wrong_type(ctx, tp, value, path, meta)

    message = _scalar_problem(value, meta)
    if not message and value == "" and (tp is Path or meta.ident):
        message = "must not be empty"
    if message:
        ctx.report(path, message)
        return INVALID
    if tp is Path:
        return _resolve_path(value, ctx.base_dir)
    if meta.ident and isinstance(value, str):
        _register_ident(ctx, meta, value, path)
    elif meta.ref and isinstance(value, str) and not (meta.wildcard and value == "*"):
        ctx.refs.append(_PendingRef(meta.ref, value, path, meta))
    return value


def _scalar_problem(value: Any, meta: Meta) -> str | None:
    allowed = meta.allowed()
    if allowed is not None and value not in allowed:
        what = meta.what or "value"
        hint = did_you_mean(str(value), allowed) or f" (expected one of: {', '.join(allowed)})"
        return f"unknown {what} {_quote(value)}{hint}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if meta.gt is not None and not value > meta.gt:
            return f"must be greater than {_num(meta.gt)}, got {_num(value)}"
        if meta.min is not None and value < meta.min:
            if meta.max is not None:
                return f"must be between {_num(meta.min)} and {_num(meta.max)}, got {_num(value)}"
            return f"must be at least {_num(meta.min)}, got {_num(value)}"
        if meta.max is not None and value > meta.max:
            if meta.min is not None:
                return f"must be between {_num(meta.min)} and {_num(meta.max)}, got {_num(value)}"
            return f"must be at most {_num(meta.max)}, got {_num(value)}"
    if meta.pattern is not None and isinstance(value, str) and not re.fullmatch(meta.pattern, value):
        return f"{meta.pattern_doc or 'must match ' + meta.pattern}, got {describe(value)}"
    return None


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _quote(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else describe(value)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _resolve_path(text: str, base_dir: Path | None) -> Path:
    """``~`` expands; a relative path is taken from the config file's folder, not the cwd."""
    path = Path(text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def _register_ident(ctx: Context, meta: Meta, value: str, path: KeyPath) -> None:
    kind = meta.ident or ""
    group = IDENT_GROUPS.get(kind, kind)
    ctx.names.setdefault(kind, {}).setdefault(value, path)
    seen = ctx.groups.setdefault(group, {})
    if value in seen:
        first, again = seen[value], path
        if (ctx.locator.line_of(again) or 0) < (ctx.locator.line_of(first) or 0):
            # sections are built in schema order, but "already used" should read in file order
            first, again = again, first
            seen[value] = first
        what = meta.what or f"{kind} name"
        ctx.report(again, f"duplicate {what} '{value}' (already used by {ctx.where(first)})")
        return
    seen[value] = path


# -- building sections -----------------------------------------------------------------


def build(
    ctx: Context,
    cls: type,
    raw: Mapping[str, Any],
    path: KeyPath,
    *,
    noun: str = "key",
    also_known: Iterable[str] = (),
) -> Any:
    """Build section `cls` from table `raw` at `path`; INVALID if a required key is missing or bad."""
    hints = _hints(cls)
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]  # type: ignore[arg-type]
    variant = next((f for f in fields if meta_of(f).tag), None)
    own = [f for f in fields if f is not variant]
    own_names = {f.name for f in own}
    before = len(ctx.problems)
    values: dict[str, Any] = {}
    complete = True

    for f in own:
        if f.name not in raw:
            if is_required(f):
                ctx.report(path, f"missing required key '{f.name}'")
                complete = False
            elif hints[f.name] is Path and isinstance(f.default, Path):
                values[f.name] = _resolve_path(str(f.default), ctx.base_dir)  # defaults are relative too
            elif dataclasses.is_dataclass(hints[f.name]):
                values[f.name] = build(ctx, hints[f.name], {}, (*path, f.name))  # resolve its defaults
            continue
        fmeta = meta_of(f)
        converted = convert(ctx, hints[f.name], raw[f.name], (*path, f.name), fmeta)
        if converted is not INVALID and fmeta.check is not None:
            message = fmeta.check(converted)
            if message:
                ctx.report((*path, f.name), message)
                converted = INVALID
        if converted is INVALID:
            complete = complete and not is_required(f)
        else:
            values[f.name] = converted

    leftover = {k: v for k, v in raw.items() if k not in own_names}
    if variant is not None:
        vmeta = meta_of(variant)
        table = (vmeta.variants or dict)()
        chosen = table.get(values.get(vmeta.tag or "", INVALID))
        if chosen is None:
            leftover = {}  # kind unknown or bad (already reported): its options cannot be judged
            values[variant.name] = None
        else:
            options = build(ctx, chosen, leftover, path, also_known=own_names)
            leftover = {}
            if options is INVALID:
                complete = False
            else:
                values[variant.name] = options

    known = sorted(own_names | set(also_known))
    for key in leftover:
        ctx.report((*path, key), f"unknown {noun} '{key}'{did_you_mean(key, known)}")

    if not complete:
        return INVALID
    obj = cls(**values)
    ctx.origins[id(obj)] = (obj, path)
    if len(ctx.problems) == before and hasattr(obj, "check_item"):
        for key, message in obj.check_item():
            ctx.report(path if key is None else (*path, key), message)
    return obj


def walk_sections(obj: Any) -> Iterator[Any]:
    """Every section object inside `obj`, depth first (for cross-section checks)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        yield obj
        for f in dataclasses.fields(obj):
            yield from walk_sections(getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        for item in obj:
            yield from walk_sections(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from walk_sections(item)
