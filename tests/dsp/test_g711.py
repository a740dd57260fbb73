"""G.711: bit-exact tables against the stdlib reference, pinned bytes, and round-trip bounds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ccd.dsp.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)


def test_silence_bytes_are_the_ones_every_phone_system_sends() -> None:
    assert ulaw_encode(np.zeros(160, np.int16)).tobytes() == b"\xff" * 160
    assert alaw_encode(np.zeros(160, np.int16)).tobytes() == b"\xd5" * 160


def test_alaw_encoder_matches_reference_for_every_sample() -> None:
    ref = np.frombuffer(audioop.lin2alaw(ALL_SAMPLES.tobytes(), 2), np.uint8)
    assert np.array_equal(alaw_encode(ALL_SAMPLES), ref)


def test_ulaw_encoder_matches_reference_except_g191_decision_points() -> None:
    """audioop negates negative samples; G.191 takes the one's complement (DSP-SPECS §6).

    They may differ only at negative inputs sitting on a decision level, by one code step,
    at 127 levels of 4 int16 values each.
    """
    ref = np.frombuffer(audioop.lin2ulaw(ALL_SAMPLES.tobytes(), 2), np.uint8)
    ours = ulaw_encode(ALL_SAMPLES)
    diff = ours != ref
    assert diff.sum() == 508
    assert (ALL_SAMPLES[diff] < 0).all()
    assert np.all(np.abs(ours[diff].astype(int) - ref[diff].astype(int)) == 1)
    assert len(np.unique(ALL_SAMPLES[diff] >> 2)) == 127


@pytest.mark.parametrize(
    ("decode", "ref"),
    [(alaw_decode, audioop.alaw2lin), (ulaw_decode, audioop.ulaw2lin)],
    ids=["alaw", "ulaw"],
)
def test_decoders_match_reference_for_all_256_codes(decode, ref) -> None:
    assert np.array_equal(decode(ALL_CODES), np.frombuffer(ref(ALL_CODES.tobytes(), 2), np.int16))
    assert np.array_equal(decode(ALL_CODES.tobytes()), decode(ALL_CODES))


def test_encode_of_decode_is_identity_for_every_code() -> None:
    assert np.array_equal(alaw_encode(alaw_decode(ALL_CODES)), ALL_CODES)
    back = ulaw_encode(ulaw_decode(ALL_CODES))
    # 0x7f is µ-law's "negative zero": it decodes to 0, which encodes as 0xff
    assert np.array_equal(np.delete(back, 0x7F), np.delete(ALL_CODES, 0x7F))
    assert back[0x7F] == 0xFF


def _max_error(x: np.ndarray, law: str) -> np.ndarray:
    """Half a quantisation step: 1/32 of the magnitude for both laws (16 segments' mantissa), with
    A-law's linear first segments (step 32) and µ-law's bias of 132 near zero."""
    a = np.abs(x.astype(np.float64))
    return np.maximum(16.0, a / 32.0) if law == "alaw" else (a + 132.0) / 32.0


@given(hnp.arrays(np.int16, st.integers(0, 400)))
def test_round_trip_error_is_within_half_a_step(x: np.ndarray) -> None:
    for law, enc, dec in (("alaw", alaw_encode, alaw_decode), ("ulaw", ulaw_encode, ulaw_decode)):
        err = np.abs(dec(enc(x)).astype(np.int64) - x)
        assert (err <= _max_error(x, law)).all(), law


@given(hnp.arrays(np.int16, st.integers(1, 200)))
def test_round_trip_keeps_sign_and_is_idempotent(x: np.ndarray) -> None:
    for enc, dec in ((alaw_encode, alaw_decode), (ulaw_encode, ulaw_decode)):
        y = dec(enc(x))
        assert np.array_equal(dec(enc(y)), y)
        assert (np.sign(y[np.abs(x) > 64]) == np.sign(x[np.abs(x) > 64])).all()


def test_shapes_and_wider_types_are_handled() -> None:
    x = np.array([[0, 40000], [-40000, 5]], dtype=np.int32)
    codes = alaw_encode(x)
    assert codes.shape == (2, 2) and codes.dtype == np.uint8
    assert codes[0, 1] == alaw_encode(np.array([32767], np.int16))[0]


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="NaN"):
        ulaw_encode(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        alaw_decode(np.array([300]))
