"""IMA ADPCM and Dialogic VOX: reference agreement, block format, and round-trip quality."""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccd.dsp.adpcm import (
    ImaAdpcmDecoder,
    ImaAdpcmEncoder,
    ImaBlockEncoder,
    VoxDecoder,
    VoxEncoder,
    ima_decode_block,
    ima_encode_block,
    ima_samples_per_block,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")


def speech_like(seed: int, n: int = 4000, level: float = 6000.0) -> np.ndarray:
    """Voiced-speech stand-in: a few harmonics of a wandering pitch plus AR(2)-coloured noise, syllable envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 8000.0
    f0 = rng.uniform(90, 260) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t))
    phase = 2 * np.pi * np.cumsum(f0) / 8000.0
    x = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase) for k in range(1, 8))
    noise = rng.normal(0, 0.3, n)
    for i in range(2, n):
        noise[i] += 1.3 * noise[i - 1] - 0.6 * noise[i - 2]
    env = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(2, 5) * t)
    y = (x + 0.2 * noise) * env
    return np.clip(y / np.abs(y).max() * level, -32768, 32767).astype(np.int16)


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    e = y.astype(np.float64) - x
    return float(10 * np.log10(np.sum(x.astype(np.float64) ** 2) / max(np.sum(e * e), 1e-9)))


def _audioop_codes(x: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    packed, state = audioop.lin2adpcm(x.tobytes(), 2, None)
    b = np.frombuffer(packed, np.uint8)
    codes = np.empty(b.size * 2, np.uint8)
    codes[0::2], codes[1::2] = b >> 4, b & 15  # audioop packs high nibble first
    return codes[: x.size], state


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 900), max_size=5))
def test_streaming_ima_matches_reference_whatever_the_block_sizes(seed: int, cuts: list[int]) -> None:
    x = speech_like(seed, 2000)
    ref_codes, ref_state = _audioop_codes(x)
    enc, dec = ImaAdpcmEncoder(), ImaAdpcmDecoder()
    bounds = sorted({0, x.size, *[min(c, x.size) for c in np.cumsum(cuts)]})
    codes = np.concatenate([enc.encode(x[a:b]) for a, b in itertools.pairwise(bounds)])
    assert np.array_equal(codes, ref_codes)
    assert (enc.predictor, enc.index) == ref_state
    out = np.concatenate([dec.decode(codes[a:b]) for a, b in itertools.pairwise(bounds)])
    packed = ((ref_codes[0::2] << 4) | ref_codes[1::2]).astype(np.uint8).tobytes()
    assert np.array_equal(out, np.frombuffer(audioop.adpcm2lin(packed, 2, None)[0], np.int16))


def test_a_mono_256_byte_block_holds_505_samples_and_starts_with_the_first_sample() -> None:
    assert ima_samples_per_block(256, 1) == 505
    assert ima_samples_per_block(512, 2) == 505
    x = speech_like(1, 505)
    block = ima_encode_block(x, 256, 1)
    assert len(block) == 256
    assert int.from_bytes(block[:2], "little", signed=True) == x[0]
    assert block[2] == 0 and block[3] == 0  # step index 0, reserved byte
    y = ima_decode_block(block)
    assert y.shape == (505,) and y[0] == x[0]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(800.0, 20_000.0))
def test_ima_round_trip_snr_on_speech_like_signals(seed: int, level: float) -> None:
    x = speech_like(seed, 505 * 6, level)
    enc = ImaBlockEncoder(256, 1)
    y = np.concatenate([ima_decode_block(enc.encode(x[i : i + 505])) for i in range(0, x.size, 505)])
    # IMA ADPCM gives ~18-25 dB on speech; loud synthetic bursts can dip just below 18
    assert snr_db(x, y) > 16.0


def test_stereo_blocks_interleave_per_channel_and_round_trip() -> None:
    left, right = speech_like(2, 505), speech_like(3, 505, 2000)
    block = ima_encode_block(np.stack([left, right], axis=1), 512, 2)
    y = ima_decode_block(block, 2)
    assert y.shape == (505, 2)
    assert snr_db(left[100:], y[100:, 0]) > 15 and snr_db(right[100:], y[100:, 1]) > 15


def test_short_block_is_padded_and_a_cut_block_decodes_as_far_as_it_goes() -> None:
    x = speech_like(4, 100)
    block = ima_encode_block(x)
    assert len(block) == 256
    full = ima_decode_block(block)
    assert snr_db(x[20:], full[20:100]) > 15
    cut = ima_decode_block(block[:40])  # header + 36 bytes = 9 whole groups of 8 codes
    assert cut.size == 1 + 72 and np.array_equal(cut, full[:73])


def test_bad_blocks_are_value_errors() -> None:
    with pytest.raises(ValueError, match="shorter than its header"):
        ima_decode_block(b"\x00\x00")
    with pytest.raises(ValueError, match="step index 200"):
        ima_decode_block(b"\x00\x00\xc8\x00" + b"\x00" * 60)
    with pytest.raises(ValueError, match="do not fit"):
        ima_encode_block(np.zeros(600, np.int16))
    with pytest.raises(ValueError, match="block_align"):
        ima_encode_block(np.zeros(10, np.int16), block_align=255)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 500), max_size=4))
def test_vox_round_trip_and_streaming_split_invariance(seed: int, cuts: list[int]) -> None:
    x = speech_like(seed, 2001)
    whole_enc = VoxEncoder()
    whole = whole_enc.encode(x) + whole_enc.flush()
    enc = VoxEncoder()
    bounds = sorted({0, x.size, *[min(c, x.size) for c in np.cumsum(cuts)]})
    parts = b"".join(enc.encode(x[a:b]) for a, b in itertools.pairwise(bounds)) + enc.flush()
    assert parts == whole and len(whole) == 1001
    y = VoxDecoder().decode(whole)[: x.size]
    assert snr_db(x, y) > 15.0


def _spandsp():
    name = ctypes.util.find_library("spandsp")
    if not name:
        pytest.skip("libspandsp not installed")
    lib = ctypes.CDLL(name)
    lib.oki_adpcm_init.restype = ctypes.c_void_p
    lib.oki_adpcm_init.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.oki_adpcm_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.oki_adpcm_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.oki_adpcm_free.argtypes = [ctypes.c_void_p]
    return lib


def test_vox_is_bit_exact_with_spandsp_oki_adpcm() -> None:
    lib = _spandsp()
    x = speech_like(7, 8000, 20000)
    state = lib.oki_adpcm_init(None, 32000)
    buf = (ctypes.c_uint8 * 4000)()
    n = lib.oki_adpcm_encode(state, buf, x.ctypes.data, x.size)
    lib.oki_adpcm_free(state)
    theirs = bytes(buf)[:n]
    enc = VoxEncoder()
    assert enc.encode(x) + enc.flush() == theirs
    out = np.zeros(8000, np.int16)
    state = lib.oki_adpcm_init(None, 32000)
    m = lib.oki_adpcm_decode(state, out.ctypes.data, buf, n)
    lib.oki_adpcm_free(state)
    assert np.array_equal(VoxDecoder().decode(theirs), out[:m])
