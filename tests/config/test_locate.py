"""The line locator finds where hand-written TOML put each key."""

from __future__ import annotations

from ccd.config.locate import LineLocator

TEXT = '''\
# comment with [brackets] and key = "value"
top = 1

[daemon]
socket = "a # not a comment"   # trailing comment
"quoted.key" = 2
dotted.inner = 3

[[trunks]]
id = "1"

[[trunks]]
id = "2"
opts = { a = 1, b = { c = [1, 2] } }
multi = [
  "x",
  { y = 1 },  # comment inside an array
]
text = """
line one
"""
after = true

[trunks.extra]
k = 1

[[trunks]]
id = "3"

[tone_plans.cn]
busy = { freqs = [450.0], cadence = [0.35, 0.35] }

[[a.b]]
x = 1
[[a.b]]
x = 2
'''


def test_lines_of_tables_keys_and_array_entries() -> None:
    loc = LineLocator(TEXT)
    assert loc.line_of(("top",)) == 2
    assert loc.line_of(("daemon",)) == 4
    assert loc.line_of(("daemon", "socket")) == 5
    assert loc.line_of(("daemon", "quoted.key")) == 6
    assert loc.line_of(("daemon", "dotted", "inner")) == 7
    assert loc.line_of(("trunks",)) == 9
    assert loc.line_of(("trunks", 0)) == 9
    assert loc.line_of(("trunks", 0, "id")) == 10
    assert loc.line_of(("trunks", 1, "id")) == 13
    assert loc.line_of(("trunks", 1, "opts", "b", "c", 1)) == 14
    assert loc.line_of(("trunks", 1, "multi", 0)) == 16
    assert loc.line_of(("trunks", 1, "multi", 1, "y")) == 17
    assert loc.line_of(("trunks", 1, "after")) == 22
    assert loc.line_of(("trunks", 1, "extra", "k")) == 25
    assert loc.line_of(("trunks", 2, "id")) == 28
    assert loc.line_of(("tone_plans", "cn", "busy", "cadence")) == 31
    assert loc.line_of(("a", "b", 1, "x")) == 36


def test_unknown_paths_fall_back_to_the_nearest_ancestor() -> None:
    loc = LineLocator(TEXT)
    assert loc.line_of(("trunks", 2, "missing")) == 27
    assert loc.line_of(("nothing",)) is None


def test_garbage_never_raises() -> None:
    loc = LineLocator("[[[ = = {")
    assert loc.line_of(("x",)) is None
