"""Shared spectral helpers for the tone detectors: windowed DFT bins as one matrix product.

Why a matrix and not a Goertzel loop: a Goertzel filter is a per-sample recursion, which numpy
cannot vectorise over time. A windowed DFT at a handful of frequencies is the same measurement
(one complex value per frequency per window), and written as `windows @ basis` it runs as a single
BLAS call for every window of every channel at once. That is what makes the batched detectors
cheap: a block of 1024 lines costs one matrix product, not 1024 Python loops.

Also here: input checking shared by every streaming detector, so they all refuse bad input with
the same clear message instead of a numpy traceback.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def hann(n: int) -> np.ndarray:
    """Hann window without zero end points (sin² shape).

    Why Hann: its side lobes fall fast, so the high-group tone of a DTMF pair does not leak into
    the low-group bins (and vice versa), and a strong tone does not mask the neighbouring DTMF
    frequency. Zero-free end points keep every sample in the window contributing.
    """
    k = np.arange(n, dtype=np.float64)
    return np.sin(np.pi * (k + 0.5) / n) ** 2


def dft_basis(freqs: tuple[float, ...], window: np.ndarray, rate: int) -> np.ndarray:
    """Matrix (len(window), 2F + 1) whose product with windows of samples gives DFT bins and a DC term.

    Columns: [w cos(ω_f n) for f] + [−w sin(ω_f n) for f] + [w²]. `x @ basis` therefore gives the
    real and imaginary parts of the windowed DFT at each frequency plus Σ w²·x (the window-weighted
    mean times Σw², used to remove DC from the energy measure).
    """
    n = np.arange(window.size, dtype=np.float64)
    om = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64)[None, :] / rate
    cos = window[:, None] * np.cos(om * n[:, None])
    sin = -window[:, None] * np.sin(om * n[:, None])
    return np.concatenate([cos, sin, (window * window)[:, None]], axis=1)


def frame_windows(x: np.ndarray, win: int, hop: int, count: int) -> np.ndarray:
    """View of `count` windows of `win` samples, `hop` apart, from each row of 2-D `x` (no copy)."""
    c = x.shape[0]
    s0, s1 = x.strides
    return as_strided(x, shape=(c, count, win), strides=(s0, hop * s1, s1), writeable=False)


_ALLOWED_KINDS = "iuf"


def as_samples(block: object, ndim: int, what: str = "block") -> np.ndarray:
    """Check a block of audio and return it as float32 on the int16 scale.

    Accepts int16 (or any integer type) and float arrays whose values are on the int16 scale
    (float 1000.0 means the same as int16 1000). Anything else — wrong number of dimensions,
    complex, bool, object arrays, NaN or infinity — is refused with a ValueError that says what
    was wrong: a detector silently fed garbage would report nothing and nobody would know why.
    """
    if type(block) is np.ndarray and block.dtype == np.int16 and block.ndim == ndim:
        return block.astype(np.float32)  # the usual case, checked in three attribute reads
    try:
        arr = np.asarray(block)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise ValueError(f"{what}: cannot read as an array of samples ({exc})") from None
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise ValueError(f"{what}: expected int16 or float samples, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape = "(samples,)" if ndim == 1 else "(channels, samples)"
        raise ValueError(f"{what}: expected a {ndim}-D array shaped {shape}, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}: contains NaN or infinity; pass real audio samples")
        return np.clip(arr, -32768.0, 32767.0).astype(np.float32, copy=False)
    return arr.astype(np.float32)


def place_rows(rows: int, offset: int, part: np.ndarray) -> np.ndarray:
    """`part` (n, k) placed at rows offset..offset+n of a zero (rows, k) matrix (a basis for one frame)."""
    out = np.zeros((rows, part.shape[1]), dtype=np.float64)
    out[offset : offset + part.shape[0]] = part
    return out


# Frames the batched detectors analyse in one pass: their array work is done once for all of them
# (the same events as frame by frame). The daemon hands them 2 (40 ms); bigger blocks take passes.
MAX_FRAMES = 4


class Framer:
    """Cuts a stream of (channels, n) blocks into whole frames of `frame` samples.

    Why: the detectors' analysis is one matrix product per frame; blocks of any size (1 sample,
    1000 samples, a lost packet's worth) must give exactly the frames an aligned stream gives.
    Aligned input is passed through as views (no copy); only the remainder is buffered.
    """

    def __init__(self, channels: int, frame: int) -> None:
        self.frame = frame
        self._buf = np.zeros((channels, frame), dtype=np.float32)
        self.pending = 0  # samples waiting in _buf

    def frames(self, x: np.ndarray) -> list[np.ndarray]:
        """The whole frames completed by `x` (float32, (channels, n)); each (channels, frame)."""
        f = self.frame
        n = x.shape[1]
        if n == f and not self.pending:
            return [x]  # one aligned frame: the daemon's and the benchmark's case
        out: list[np.ndarray] = []
        i = 0
        if self.pending:
            take = min(f - self.pending, n)
            self._buf[:, self.pending : self.pending + take] = x[:, :take]
            self.pending += take
            i = take
            if self.pending < f:
                return out
            out.append(self._buf.copy())
            self.pending = 0
        while n - i >= f:
            out.append(x[:, i : i + f])
            i += f
        if i < n:
            self._buf[:, : n - i] = x[:, i:]
            self.pending = n - i
        return out

    def passes(self, x: np.ndarray) -> list[tuple[list[np.ndarray], np.ndarray]]:
        """The whole frames completed by `x`, in passes of up to MAX_FRAMES: each pass is its
        frames and their samples as one (channels * frames, frame) matrix, rows ordered channel
        then frame, for one product per pass. That matrix is a view of `x` when `x` is exactly
        one pass of aligned frames (the daemon's case), otherwise a copy."""
        aligned = not self.pending and x.shape[1] % self.frame == 0 and x.flags.c_contiguous
        frames = self.frames(x)
        out = []
        for i in range(0, len(frames), MAX_FRAMES):
            xs = frames[i : i + MAX_FRAMES]
            rows = x if aligned and len(xs) == len(frames) else np.stack(xs, axis=1)
            out.append((xs, rows.reshape(-1, self.frame)))
        return out

    def clear(self, ch: int | None = None) -> None:
        """Forget buffered samples (all channels, or zero one channel's)."""
        if ch is None:
            self.pending = 0
        else:
            self._buf[ch] = 0.0
