"""Read `ccd.toml`: parse, check every section, resolve references, and report all problems.

Parsing is stdlib `tomllib` (a syntax error becomes one ``file:line: message`` problem,
since nothing after it can be trusted). Checking is the declarative schema in
`ccd.config.schema`; line numbers come from `LineLocator`, which maps key paths back to
the text. Content problems never raise out of `validate_config`; `load_config` raises a
single `ConfigError` listing them all.
"""

from __future__ import annotations

import ast
import logging
import re
import tomllib
from pathlib import Path

from ccd.config.fields import INVALID, Context, build
from ccd.config.locate import LineLocator
from ccd.config.problems import ConfigError, Problem, format_path
from ccd.config.schema import CROSS_CHECKS, Config

log = logging.getLogger(__name__)

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def load_config(path: str | Path) -> Config:
    """Load and check a config file. Raises ConfigError listing every problem."""
    config, problems = check_file(path)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def validate_config(path: str | Path) -> list[Problem]:
    """Every problem in a config file (empty when it is fine). Never raises for content problems."""
    return check_file(path)[1]


def config_from_text(text: str, filename: str = "ccd.toml", base_dir: Path | None = None) -> Config:
    """Check config text (tests, tools). Relative paths resolve against `base_dir` when given."""
    config, problems = check_text(text, filename, base_dir)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def check_text(
    text: str, filename: str = "ccd.toml", base_dir: Path | None = None
) -> tuple[Config | None, list[Problem]]:
    """Parse and check `text`; return the config (None after a syntax error) and the problems, by line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(filename, text, exc)]

    ctx = Context(filename, LineLocator(text), base_dir)
    config = build(ctx, Config, raw, (), noun="section")
    if config is INVALID:  # cannot happen today (no required top-level keys), but stay safe
        return None, _sorted(ctx.problems)
    ctx.resolve_refs(config)
    for check in CROSS_CHECKS:
        check(config, ctx)
    return config, _sorted(ctx.problems)


def check_file(path: str | Path) -> tuple[Config | None, list[Problem]]:
    """Check a file; return the config (None if unreadable or not TOML) and all problems."""
    name = str(path)
    file = Path(path).expanduser()
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, "", f"not UTF-8 text (byte {exc.start}): save the file as UTF-8")]
    except OSError as exc:
        return None, [Problem(name, None, "", f"cannot read: {exc.strerror or exc}")]
    config, problems = check_text(text, name, file.resolve().parent)
    if config is not None:
        config = _with_source(config, file.resolve())
    return config, problems


def _with_source(config: Config, source: Path) -> Config:
    import dataclasses

    return dataclasses.replace(config, source_path=source)


def _syntax_problem(filename: str, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """tomllib says ``Invalid value (at line 3, column 8)``; we say ``ccd.toml:3: invalid value (column 8)``."""
    message = str(exc)
    line: int | None = getattr(exc, "lineno", None)
    found = _AT_LINE.search(message)
    if found:
        line = int(found.group(1))
        message = message[: found.start()] + f" (column {found.group(2)})"
    elif _AT_END.search(message):
        line = text.count("\n") + (0 if text.endswith("\n") else 1) or 1
        message = _AT_END.sub(" (at end of file)", message)
    message = _TUPLE_REPR.sub(_as_table_name, message)
    message = message[:1].lower() + message[1:]
    if found and _char_at(text, line, int(found.group(2))) == ";":
        message += ": TOML has no ';', put each key = value on its own line"
    elif found and message.startswith("cannot overwrite a value"):
        message += ": a key or table is set twice"
    return Problem(filename, line, "", f"syntax error: {message}")


_TUPLE_REPR = re.compile(r"\((?:'[^'\\]*'(?:, )?)+,?\)")


def _as_table_name(match: re.Match[str]) -> str:
    """tomllib writes a table as a Python tuple, ``('a', 'b')``; users wrote ``[a.b]``."""
    parts = ast.literal_eval(match.group(0))
    return "[" + format_path(parts) + "]"


def _char_at(text: str, line: int | None, column: int) -> str:
    lines = text.split("\n")
    if line is None or not 1 <= line <= len(lines):
        return ""
    row = lines[line - 1]
    return row[column - 1] if 1 <= column <= len(row) else ""


def _sorted(problems: list[Problem]) -> list[Problem]:
    """By line, keeping discovery order for problems on the same line (stable sort)."""
    return sorted(problems, key=lambda p: p.line if p.line is not None else 0)
