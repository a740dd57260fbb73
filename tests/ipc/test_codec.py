"""NDJSON framing without sockets: every bad line is an item, never an exception."""

from __future__ import annotations

import dataclasses
import enum
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccd.ipc.codec import NdjsonDecoder, ProtocolError, encode
from ccd.ipc.errors import E_BAD_JSON, E_TOO_LARGE

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    scalars | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
messages = st.dictionaries(st.text(max_size=6), json_values, max_size=4)


@settings(max_examples=30, deadline=None)
@given(st.lists(messages, min_size=1, max_size=4), st.integers(1, 50))
def test_round_trip_whatever_the_chunking(msgs: list[dict], chunk: int) -> None:
    data = b"".join(encode(m) for m in msgs)
    decoder = NdjsonDecoder()
    out: list = []
    for i in range(0, len(data), chunk):
        out += decoder.feed(data[i : i + chunk])
    assert out == msgs
    assert decoder.pending == 0


def test_several_messages_in_one_chunk_and_a_partial_tail() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'{"a":1}\n{"b":2}\n{"c"') == [{"a": 1}, {"b": 2}]
    assert decoder.pending == 4
    assert decoder.feed(b":3}\n") == [{"c": 3}]


def test_blank_lines_and_crlf_are_tolerated() -> None:
    assert NdjsonDecoder().feed(b'\n  \n{"a":1}\r\n\n') == [{"a": 1}]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (b"hello", "not valid JSON"),
        (b'{"a":', "not valid JSON"),
        (b"[1,2]", "not an array"),
        (b'"str"', "not a string"),
        (b"42", "not a number"),
        (b"null", "not null"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
    ids=["text", "truncated", "array", "string", "number", "null", "nan", "utf8", "deep"],
)
def test_bad_line_is_an_error_item_and_decoding_continues(line: bytes, fragment: str) -> None:
    out = NdjsonDecoder().feed(line + b'\n{"ok":true}\n')
    assert len(out) == 2
    assert isinstance(out[0], ProtocolError) and out[0].code == E_BAD_JSON
    assert fragment in out[0].message
    assert out[1] == {"ok": True}


def test_oversized_complete_line_is_one_error() -> None:
    decoder = NdjsonDecoder(max_line=100)
    out = decoder.feed(b'{"x":"' + b"a" * 200 + b'"}\n{"y":1}\n')
    assert [type(i) for i in out] == [ProtocolError, dict]
    assert out[0].code == E_TOO_LARGE and "limit is 100 bytes" in out[0].message
    assert out[1] == {"y": 1}


def test_oversized_unfinished_line_is_skipped_without_buffering() -> None:
    decoder = NdjsonDecoder(max_line=100)
    errors = []
    for _ in range(1000):  # 64 kB with no newline, fed in small pieces
        errors += decoder.feed(b"z" * 64)
        assert decoder.pending <= 101
    assert len(errors) == 1 and errors[0].code == E_TOO_LARGE
    assert decoder.feed(b'zzz\n{"after":1}\n') == [{"after": 1}]
    assert decoder.discarded >= 64_000


def test_a_line_exactly_at_the_limit_is_accepted() -> None:
    body = b'{"p":"' + b"q" * 92 + b'"}'
    assert len(body) == 100
    assert NdjsonDecoder(max_line=100).feed(body + b"\n") == [{"p": "q" * 92}]


def test_encode_is_compact_utf8_and_newline_terminated() -> None:
    data = encode({"name": "张三", "n": 1.5, "ok": True})
    assert data == '{"name":"张三","n":1.5,"ok":true}\n'.encode()
    assert data.count(b"\n") == 1


def test_encode_escapes_newlines_inside_strings() -> None:
    data = encode({"note": "line one\nline two"})
    assert data.count(b"\n") == 1
    assert NdjsonDecoder().feed(data) == [{"note": "line one\nline two"}]


def test_encode_survives_lone_surrogates() -> None:
    data = encode({"bad": "\ud800"})
    assert json.loads(data) == {"bad": "\ud800"}


def test_encode_refuses_nan_and_objects() -> None:
    with pytest.raises(ValueError):
        encode({"x": float("nan")})
    with pytest.raises(TypeError):
        encode({"x": object()})


def test_encode_handles_dataclasses_enums_and_tuples() -> None:
    class Color(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class Point:
        x: int
        c: Color

    assert json.loads(encode({"p": Point(1, Color.RED), "t": (1, 2)})) == {
        "p": {"x": 1, "c": "red"},
        "t": [1, 2],
    }
