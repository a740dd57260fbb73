"""DLE shielding both ways: doubled 0x10 out, un-shielded in, a DLE split across reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccd.drivers.modem.dle import DleCode, Unshielder, shield


def _collect(chunks: list[bytes]) -> tuple[bytes, list[str], list[object]]:
    u = Unshielder()
    audio = bytearray()
    codes: list[str] = []
    order: list[object] = []
    for c in chunks:
        for piece in u.feed(c):
            order.append(piece)
            if isinstance(piece, DleCode):
                codes.append(piece.code)
            else:
                audio += piece
    return bytes(audio), codes, order


@pytest.mark.parametrize(
    ("raw", "shielded"),
    [
        (b"", b""),
        (b"\x80\x81\x7f", b"\x80\x81\x7f"),
        (b"\x10", b"\x10\x10"),
        (b"\x10\x10", b"\x10\x10\x10\x10"),
        (b"\x80\x10\x03", b"\x80\x10\x10\x03"),  # audio that looks like <DLE><ETX> must not end playback
    ],
)
def test_shield_doubles_every_dle(raw: bytes, shielded: bytes) -> None:
    assert shield(raw) == shielded


@pytest.mark.parametrize(
    ("stream", "audio", "codes"),
    [
        (b"\x80\x81\x10\x10\x7f", b"\x80\x81\x10\x7f", []),
        (b"\x80\x10\x1a\x80", b"\x80\x10\x10\x80", []),  # <DLE><SUB> = two 0x10 samples
        (b"\x80\x105\x80", b"\x80\x80", ["5"]),
        (b"\x10/\x105\x10~", b"", ["/", "5", "~"]),
        (b"\x80\x80\x10b\x10\x03", b"\x80\x80", ["b", "\x03"]),
    ],
)
def test_unshield_splits_audio_and_events(stream: bytes, audio: bytes, codes: list[str]) -> None:
    got_audio, got_codes, _ = _collect([stream])
    assert got_audio == audio
    assert got_codes == codes


def test_events_stay_in_stream_order() -> None:
    _, _, order = _collect([b"\x01\x02\x105\x03\x04"])
    assert order == [b"\x01\x02", DleCode("5"), b"\x03\x04"]


@pytest.mark.parametrize("cut", range(1, 9))
def test_dle_split_across_reads_is_carried_over(cut: int) -> None:
    stream = b"\x80\x10\x10\x81\x10d\x82\x10\x1a"
    audio, codes, _ = _collect([stream[:cut], stream[cut:]])
    assert audio == b"\x80\x10\x81\x82\x10\x10"
    assert codes == ["d"]


def test_trailing_dle_waits_for_its_partner() -> None:
    u = Unshielder()
    assert u.feed(b"\x80\x10") == [b"\x80"]
    assert u.pending
    assert u.feed(b"\x10") == [b"\x10"]  # a shielded sample, not an event
    assert not u.pending


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_shield_then_unshield_is_identity_for_any_cutting(data: bytes, cuts: list[int]) -> None:
    wire = shield(data)
    points = sorted({min(c, len(wire)) for c in cuts})
    chunks = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
    audio, codes, _ = _collect(chunks)
    assert audio == data
    assert codes == []
