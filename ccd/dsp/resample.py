"""Band-limited sample-rate conversion by a rational factor (polyphase windowed sinc), numpy only.

Files arrive at 44.1, 48 or 16 kHz and everything in ccd runs at 8 kHz. Dropping samples
would fold everything above 4 kHz back into the band where DTMF and caller ID live, so the
converter low-passes at 0.47 x the lower rate (94 % of its Nyquist) with a Kaiser-windowed
sinc before decimating. The filter for a rate pair is built once and cached.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

__all__ = ["resample"]

_ZERO_CROSSINGS = 32  # filter half-width in periods of the lower rate
_KAISER_BETA = 8.0
_ROLLOFF = 0.94
_CHUNK = 32768  # output samples computed per matrix product, bounds memory


_MAX_PHASES = 1024  # beyond this, output instants are rounded to 1/1024 of an input sample


@lru_cache(maxsize=32)
def _bank(phases: int, src_rate: int, dst_rate: int) -> tuple[np.ndarray, int]:
    """Filter bank, shape (phases, taps), and its half-length in input samples.

    Row p interpolates at p/phases of the way from input sample `base` to `base + 1`;
    tap k weights input sample `base + k - half + 1`.
    """
    scale = min(1.0, dst_rate / src_rate)  # low-pass at the lower of the two Nyquist rates
    fc = _ROLLOFF * scale
    half = int(np.ceil(_ZERO_CROSSINGS / scale))
    k = np.arange(2 * half) - half + 1
    dist = k[None, :] - np.arange(phases)[:, None] / phases  # input samples from the output instant
    h = fc * np.sinc(fc * dist)
    h *= np.i0(_KAISER_BETA * np.sqrt(np.clip(1.0 - (dist / half) ** 2, 0.0, 1.0))) / np.i0(_KAISER_BETA)
    h /= h.sum(axis=1, keepdims=True)  # exact unity DC gain for every phase
    return h, half


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """`x` (1-D, or 2-D with time on axis 0) converted from `src_rate` to `dst_rate`.

    Integer input comes back as the same integer type (rounded and clipped); float input as
    float64. Output length is ceil(len(x) * dst_rate / src_rate). The signal is treated as zero
    outside its ends, so the first and last few milliseconds carry the filter's edge. Simple
    ratios (44100 -> 8000 is 80/441) are exact; odd ones round each output instant to 1/1024
    of an input sample, which is far below audibility.
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    a = np.asarray(x)
    if a.ndim == 2:
        cols = [resample(a[:, c], src_rate, dst_rate) for c in range(a.shape[1])]
        return np.stack(cols, axis=1) if cols else a.copy()
    if a.ndim != 1:
        raise ValueError(f"resample takes 1-D or 2-D arrays, got {a.ndim}-D")
    if src_rate == dst_rate:
        return a.copy()
    xf = a.astype(np.float64)
    if a.dtype.kind == "f" and not np.all(np.isfinite(xf)):
        raise ValueError("resample input contains NaN or infinity")
    g = gcd(src_rate, dst_rate)
    phases = min(dst_rate // g, _MAX_PHASES)
    n_out = -(-a.size * dst_rate // src_rate)
    h, half = _bank(phases, src_rate // g, dst_rate // g)
    taps = h.shape[1]
    padded = np.concatenate([np.zeros(half), xf, np.zeros(half + 2)])
    y = np.empty(n_out, dtype=np.float64)
    offs = np.arange(taps)
    for start in range(0, n_out, _CHUNK):
        n = np.arange(start, min(n_out, start + _CHUNK), dtype=np.int64)
        num = n * src_rate
        base = num // dst_rate  # input sample at or before the output instant
        phase = ((num - base * dst_rate) * phases + dst_rate // 2) // dst_rate
        wrap = phase == phases
        base[wrap] += 1
        phase[wrap] = 0
        idx = base[:, None] + offs[None, :] + 1  # +half padding, -half+1 offset of tap 0
        y[n] = np.einsum("ij,ij->i", padded[idx], h[phase])
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        return np.clip(np.rint(y), info.min, info.max).astype(a.dtype)
    return y
