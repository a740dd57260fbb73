"""G.711 A-law and µ-law, bit-exact with the ITU-T G.191 reference (`g711.c`).

Both directions are table lookups: the encoders index a 65 536-entry table with the
int16 sample reinterpreted as uint16, the decoders a 256-entry table. The tables are built
once at import from the reference algorithm (DSP-SPECS.md §6), so the arithmetic below is
the specification and the lookups are the speed.

A-law agrees with every other implementation (audioop, spandsp). For µ-law the G.191
encoder takes the one's complement of negative samples (`~x`), while audioop and spandsp
negate them (two's complement); the two differ at the 508 negative inputs that lie exactly
on a decision level (127 levels x 4 int16 values), by one code step. We follow G.191.
"""

from __future__ import annotations

import numpy as np

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]


def _alaw_encode_table() -> np.ndarray:
    x = np.arange(-32768, 32768, dtype=np.int64)
    ix = np.where(x < 0, (~x) >> 4, x >> 4)  # 12-bit magnitude, one's complement for negatives
    exp = np.zeros_like(ix)
    mant = ix.copy()
    big = ix > 15
    exp[big] = 1
    while True:
        shift = big & (mant > 31)
        if not shift.any():
            break
        mant[shift] >>= 1
        exp[shift] += 1
    code = np.where(big, (mant - 16) + (exp << 4), ix)
    code = np.where(x >= 0, code | 0x80, code) ^ 0x55  # sign bit, then even bits toggled
    # reorder so that index = sample viewed as uint16
    return np.roll(code.astype(np.uint8), 32768)


def _alaw_decode_table() -> np.ndarray:
    c = np.arange(256, dtype=np.int64) ^ 0x55
    exp = (c & 0x7F) >> 4
    mant = c & 0x0F
    mant = np.where(exp > 0, mant + 16, mant)
    mant = (mant << 4) + 0x08  # half a step: the reconstruction point is mid-interval
    mant = np.where(exp > 1, mant << np.maximum(exp - 1, 0), mant)
    return np.where(c > 127, mant, -mant).astype(np.int16)


def _ulaw_encode_table() -> np.ndarray:
    x = np.arange(-32768, 32768, dtype=np.int64)
    absno = np.where(x < 0, ((~x) >> 2) + 33, (x >> 2) + 33)  # 14-bit magnitude plus bias
    absno = np.minimum(absno, 0x1FFF)
    seg = np.ones_like(absno)
    i = absno >> 6
    while (i != 0).any():
        seg += i != 0
        i >>= 1
    high = 8 - seg
    low = 15 - ((absno >> seg) & 0x0F)
    code = (high << 4) | low
    code = np.where(x >= 0, code | 0x80, code)
    return np.roll(code.astype(np.uint8), 32768)


def _ulaw_decode_table() -> np.ndarray:
    c = np.arange(256, dtype=np.int64)
    sign = np.where(c < 0x80, -1, 1)
    m = ~c
    exp = (m >> 4) & 0x07
    seg = exp + 1
    mant = m & 0x0F
    step = 4 << seg
    return (sign * ((0x80 << exp) + step * mant + step // 2 - 4 * 33)).astype(np.int16)


_ALAW_ENC = _alaw_encode_table()
_ALAW_DEC = _alaw_decode_table()
_ULAW_ENC = _ulaw_encode_table()
_ULAW_DEC = _ulaw_decode_table()
for _t in (_ALAW_ENC, _ALAW_DEC, _ULAW_ENC, _ULAW_DEC):
    _t.flags.writeable = False


def _as_int16(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype == np.int16:
        return a
    if a.dtype.kind in "iu":
        return np.clip(a, -32768, 32767).astype(np.int16)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ValueError("G.711 encoder input contains NaN or infinity")
        return np.clip(np.rint(a), -32768, 32767).astype(np.int16)
    raise TypeError(f"G.711 encoder needs integer samples, got {a.dtype}")


def _as_codes(b: np.ndarray | bytes | bytearray | memoryview) -> np.ndarray:
    if isinstance(b, bytes | bytearray | memoryview):
        return np.frombuffer(b, dtype=np.uint8)
    a = np.asarray(b)
    if a.dtype != np.uint8:
        if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() > 255)):
            raise ValueError("G.711 codes must be bytes or integers in 0..255")
        a = a.astype(np.uint8)
    return a


def alaw_encode(x: np.ndarray) -> np.ndarray:
    """int16 samples (any shape) -> A-law codes (uint8, same shape). Wider ints are clipped."""
    return _ALAW_ENC[_as_int16(x).view(np.uint16)]


def alaw_decode(b: np.ndarray | bytes) -> np.ndarray:
    """A-law codes (bytes or uint8 array) -> int16 samples."""
    return _ALAW_DEC[_as_codes(b)]


def ulaw_encode(x: np.ndarray) -> np.ndarray:
    """int16 samples (any shape) -> µ-law codes (uint8, same shape). Wider ints are clipped."""
    return _ULAW_ENC[_as_int16(x).view(np.uint16)]


def ulaw_decode(b: np.ndarray | bytes) -> np.ndarray:
    """µ-law codes (bytes or uint8 array) -> int16 samples."""
    return _ULAW_DEC[_as_codes(b)]
