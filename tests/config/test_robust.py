"""Whatever is in the file, checking it gives problems, never a traceback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccd.config import DRIVER_KINDS, check_text
from ccd.config.locate import LineLocator
from ccd.config.schema import Config

FULL_TEXT = (Path(__file__).parent / "fixtures" / "full.toml").read_text(encoding="utf-8")


def _vocabulary() -> list[str]:
    """Real key names (so documents get deep into the schema) plus a few near misses."""
    names = {f.name for f in dataclasses.fields(Config)}
    for spec in DRIVER_KINDS.values():
        names |= {f.name for f in dataclasses.fields(spec.options)}
    names |= {"id", "name", "kind", "driver", "channel", "trunks", "ring", "login", "freqs", "cadence"}
    names |= {"sim", "office", "1", "801", "*", "busy", "stratgy", ""}
    return sorted(names)


KEYS = st.sampled_from(_vocabulary())
SCALARS = st.one_of(
    st.integers(-3, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.sampled_from(["sim", "modem", "office", "1", "801", "*", "info", "cn", "", "我"]),
    st.text(max_size=5),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
TABLES = st.dictionaries(KEYS, VALUES, max_size=4)
DOCUMENTS = st.dictionaries(KEYS, TABLES | st.lists(TABLES, min_size=1, max_size=3), max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_random_documents_give_problems_not_exceptions(doc: dict) -> None:
    text = tomlkit.dumps(doc)
    config, problems = check_text(text)
    assert config is not None or problems
    for problem in problems:
        assert problem.file == "ccd.toml"
        assert problem.message
    _assert_locator_finds_every_key(doc, text)


def _assert_locator_finds_every_key(doc: dict, text: str) -> None:
    """Every key path maps to a line that mentions its last key (for documents tomlkit writes)."""
    lines = text.split("\n")  # TOML breaks lines on \n only (str.splitlines also splits on \x85)
    locator = LineLocator(text)

    def walk(value: object, path: tuple) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                line = locator.line_of((*path, key))
                assert line is not None
                if key and key.isidentifier():
                    assert key in lines[line - 1]
                walk(item, (*path, key))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                assert locator.line_of((*path, n)) is not None
                walk(item, (*path, n))

    walk(doc, ())


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mangled_lines_of_the_full_example_never_raise(data: st.DataObject) -> None:
    lines = FULL_TEXT.split("\n")
    for _ in range(data.draw(st.integers(1, 4))):
        n = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "truncate", "duplicate", "garble"]))
        if action == "delete":
            del lines[n]
        elif action == "truncate":
            lines[n] = lines[n][: data.draw(st.integers(0, max(0, len(lines[n]) - 1)))]
        elif action == "duplicate":
            lines.insert(n, lines[n])
        else:
            lines[n] = lines[n] + data.draw(st.text(max_size=4))
    check_text("\n".join(lines) + "\n")
