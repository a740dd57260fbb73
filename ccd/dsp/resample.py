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


@lru_cache(maxsize=32)
def _polyphase(up: int, down: int) -> tuple[np.ndarray, int]:
    """Filter bank, shape (up, taps): row p is the filter for output phase p, and the half-length."""
    cutoff = _ROLLOFF / max(up, down)  # in cycles per sample at the upsampled rate, times 2
    half = int(np.ceil(_ZERO_CROSSINGS * max(up, down) / up))  # half-length in input samples
    taps = 2 * half
    # tap k of phase p sits at input offset (k - half + 1) relative to floor(t), t the exact input time
    k = np.arange(taps) - half + 1
    p = np.arange(up)[:, None]
    # distance (in upsampled samples) between the output instant and input sample
    dist = (k[None, :] * up - p).astype(np.float64)
    h = cutoff * np.sinc(cutoff * dist)
    w = np.kaiser(2 * half * up + 1, _KAISER_BETA)
    h *= np.interp(dist, np.arange(-half * up, half * up + 1), w)
    h /= h.sum(axis=1, keepdims=True)  # exact unity DC gain for every phase
    return h, half


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """`x` (1-D, or 2-D with time on axis 0) converted from `src_rate` to `dst_rate`.

    Integer input comes back as the same integer type (rounded and clipped); float input as
    float64. Output length is ceil(len(x) * dst_rate / src_rate). The signal is treated as zero
    outside its ends, so the first and last few milliseconds carry the filter's edge.
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
    g = gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    if up > 4096:
        raise ValueError(f"rate ratio {dst_rate}/{src_rate} is too awkward to convert (up-factor {up})")
    n_out = -(-a.size * up // down)
    xf = a.astype(np.float64)
    if a.dtype.kind == "f" and not np.all(np.isfinite(xf)):
        raise ValueError("resample input contains NaN or infinity")
    h, half = _polyphase(up, down)
    taps = h.shape[1]
    padded = np.concatenate([np.zeros(half), xf, np.zeros(half + 1)])
    y = np.empty(n_out, dtype=np.float64)
    offs = np.arange(taps)
    for start in range(0, n_out, _CHUNK):
        n = np.arange(start, min(n_out, start + _CHUNK))
        pos = n * down
        base = pos // up  # input sample at or before the output instant
        phase = pos - base * up
        idx = base[:, None] + offs[None, :] + 1  # +half padding, -half+1 offset of tap 0
        y[n] = np.einsum("ij,ij->i", padded[idx], h[phase])
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        return np.clip(np.rint(y), info.min, info.max).astype(a.dtype)
    return y
