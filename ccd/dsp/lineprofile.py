"""Measuring what a phone line gives, for `ccd line test`: tones, cadences, caller-ID modulation.

The tone detector in `ccd.dsp.tones` recognises tones it already knows; this module finds
tones it does *not* know — an unfamiliar exchange or PBX — and measures them well enough
to write a tone plan:

* `find_tone(x)` locates the last stretch of a steady call-progress tone in received audio
  (for busy tone after the far end hung up, the stretch that follows speech): frames whose
  energy sits in one or two narrow spectral peaks at the same frequencies, with only quiet
  frames between them. Speech has many harmonics whose pitch glides, so it never qualifies.
* `measure_tone(x)` gives the frequencies to 1 Hz (long zero-padded FFTs over each on-burst,
  averaged, with parabolic interpolation) and the on/off cadence from a 10 ms envelope at
  those frequencies (edges at the -6 dB point, which a symmetric ramp puts exactly on the
  true edge). Cadences are reduced to their repeating pattern and snapped to 5 ms, and to
  50 ms when within 15 ms of it: exchanges use round numbers, measurement adds jitter.
* `ring_cadence()` does the same for ring signals from their on/off event times.
* `fsk_standard()` tells Bell 202 (1200/2200 Hz) from V.23 (1300/2100 Hz) on a decoded
  caller-ID burst, since both demodulators may decode the same frame.

Pure numpy, no I/O, no clock: every input is samples or timestamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ccd.dsp.levels import SAMPLE_RATE, rms_to_dbm0

HOP = 160  # 20 ms
WIN = 320  # 40 ms analysis window
NFFT = 2048  # ~3.9 Hz bins for the frame screen
FINE_NFFT = 1 << 16  # ~0.12 Hz bins for the frequency measurement
BAND = (150.0, 2500.0)  # where call-progress tones live
TONAL_SHARE = 0.8  # share of a frame's energy in its (at most two) peaks
MIN_LEVEL_DBM0 = -45.0
QUIET_BELOW_DB = 15.0  # a gap frame must be this far below the tone to belong to the stretch
KEY_TOL_HZ = 20.0
MAX_GAP_S = 4.5  # longest off period inside one tone (ringback: 4 s)
ENV_AVG = 80  # 10 ms envelope smoothing
ENV_STEP = 8  # envelope decimated to 1 ms
MATCH_TOL_S = 0.06  # two segments of a cadence are "the same" within this


@dataclass(frozen=True, slots=True)
class ToneMeasure:
    """A measured tone: frequencies (Hz), cadence (s on, off, ...; () = continuous), level."""

    freqs: tuple[float, ...]
    cadence: tuple[float, ...]
    level_dbm0: float

    def as_dict(self) -> dict[str, list[float]]:
        """The `[tone_plans]`/`[[line_profiles]]` form: ``{freqs = [...], cadence = [...]}``."""
        return {"freqs": list(self.freqs), "cadence": list(self.cadence)}


def snap_seconds(value: float) -> float:
    """Round a measured duration: to 5 ms, and to 50 ms when within 15 ms of a multiple of it."""
    coarse = round(value / 0.05) * 0.05
    if abs(value - coarse) <= 0.015:
        return round(coarse, 3)
    return round(round(value / 0.005) * 0.005, 3)


def _as_float(x: object) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"expected 1-D audio, got shape {arr.shape}")
    return arr


# ---------------------------------------------------------------- frame screen


@dataclass(frozen=True, slots=True)
class FrameScreen:
    """Per 20 ms hop: tonal or not, the frequency key of its peaks, and its level (dBm0)."""

    tonal: np.ndarray  # bool
    key: np.ndarray  # float Hz: lowest significant peak (0 where not tonal)
    level: np.ndarray  # float dBm0


def screen_frames(x: object, rate: int = SAMPLE_RATE) -> FrameScreen:
    """Which 20 ms hops carry a steady tone (energy in one or two narrow peaks)."""
    a = _as_float(x)
    n = max(0, (a.size - WIN) // HOP + 1)
    if n == 0:
        empty = np.zeros(0)
        return FrameScreen(empty.astype(bool), empty, empty)
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    frames = a[idx]
    level = np.array([rms_to_dbm0(float(np.sqrt(np.mean(f * f)) + 1e-9)) for f in frames])
    spec = np.abs(np.fft.rfft(frames * np.hanning(WIN)[None, :], NFFT, axis=1)) ** 2
    freqs = np.fft.rfftfreq(NFFT, 1.0 / rate)
    band = (freqs >= 100.0) & (freqs <= 3600.0)
    spec[:, ~band] = 0.0
    total = spec.sum(axis=1) + 1e-12
    lobe = math.ceil(2.2 * rate / WIN / (rate / NFFT))  # Hann main lobe half-width in bins
    tonal = np.zeros(n, dtype=bool)
    key = np.zeros(n)
    work = spec.copy()
    peak1 = np.argmax(work, axis=1)
    p1 = work[np.arange(n), peak1]
    lo = np.clip(peak1 - lobe, 0, None)
    hi = peak1 + lobe + 1
    cols = np.arange(work.shape[1])[None, :]
    mask1 = (cols >= lo[:, None]) & (cols < hi[:, None])
    share = np.where(mask1, work, 0.0).sum(axis=1)
    work[mask1] = 0.0
    peak2 = np.argmax(work, axis=1)
    p2 = work[np.arange(n), peak2]
    second = p2 >= 0.1 * p1
    lo2 = np.clip(peak2 - lobe, 0, None)
    hi2 = peak2 + lobe + 1
    mask2 = (cols >= lo2[:, None]) & (cols < hi2[:, None]) & second[:, None]
    share = share + np.where(mask2, work, 0.0).sum(axis=1)
    share /= total
    f1 = freqs[peak1]
    f2 = np.where(second, freqs[peak2], np.inf)
    key = np.minimum(f1, f2)
    tonal = (share >= TONAL_SHARE) & (level >= MIN_LEVEL_DBM0) & (f1 >= BAND[0]) & (f1 <= BAND[1])
    key = np.where(tonal, key, 0.0)
    return FrameScreen(tonal, key, level)


def find_tone(
    x: object, rate: int = SAMPLE_RATE, *, min_seconds: float = 2.0, to_end: bool = True
) -> tuple[int, int] | None:
    """The sample span of the last steady tone stretch in `x`, or None.

    A stretch is tonal frames with the same frequency key, joined by quiet gaps (no speech);
    it must last `min_seconds` (from its first tonal frame to its end). With `to_end`, the
    tone must still be sounding (or in an off period) at the end of `x`.
    """
    scr = screen_frames(x, rate)
    n = scr.tonal.size
    if n == 0 or not scr.tonal.any():
        return None
    last = int(np.flatnonzero(scr.tonal)[-1])
    if to_end and (n - 1 - last) * HOP > MAX_GAP_S * rate:
        return None
    ref = scr.key[last]
    tone_level = float(np.median(scr.level[scr.tonal & (np.abs(scr.key - ref) <= KEY_TOL_HZ)]))
    # tail after the last tonal frame must be quiet too (an off period), else the tone has ended
    if to_end and np.any(scr.level[last + 2 :] > tone_level - QUIET_BELOW_DB):
        return None  # (the frame right after the last tonal one may hold the tone's edge)
    start = last
    gap = 0
    i = last
    same = scr.tonal & (np.abs(scr.key - ref) <= KEY_TOL_HZ)
    while i >= 0:
        if same[i]:
            start = i
            gap = 0
        elif scr.level[i] <= tone_level - QUIET_BELOW_DB or _edge(same, i):
            gap += 1
            if gap * HOP > MAX_GAP_S * rate:
                break
        else:
            break  # speech, or another tone: the stretch began after this
        i -= 1
    begin = start * HOP
    end = n * HOP + (WIN - HOP) if to_end else (last + 1) * HOP + (WIN - HOP)
    if (end - begin) < min_seconds * rate:
        return None
    return begin, min(end, np.asarray(x).size)


def _edge(same: np.ndarray, i: int) -> bool:
    """A frame next to a tonal one: it holds the tone's start or end (neither tone nor quiet)."""
    return bool((i > 0 and same[i - 1]) or (i + 1 < same.size and same[i + 1]))


# ---------------------------------------------------------------- measuring one tone


def _peaks(power: np.ndarray, freqs: np.ndarray, max_tones: int = 3) -> list[float]:
    band = (freqs >= BAND[0] - 50) & (freqs <= BAND[1] + 50)
    p = np.where(band, power, 0.0)
    top = float(p.max())
    if top <= 0:
        return []
    found: list[float] = []
    work = p.copy()
    bin_hz = float(freqs[1] - freqs[0])
    guard = int(30.0 / bin_hz)
    for _ in range(max_tones):
        k = int(np.argmax(work))
        if work[k] < 0.1 * top:
            break
        if 0 < k < len(p) - 1 and p[k - 1] > 0 and p[k + 1] > 0:
            a, b, c = np.log(p[k - 1]), np.log(p[k]), np.log(p[k + 1])
            den = a - 2 * b + c
            delta = 0.5 * (a - c) / den if den != 0 else 0.0
        else:
            delta = 0.0
        found.append(float(freqs[k] + delta * bin_hz))
        work[max(0, k - guard) : k + guard + 1] = 0.0
    return sorted(found)


def _runs(mask: np.ndarray) -> list[tuple[bool, int, int]]:
    """(value, start, end) runs of a boolean array."""
    if mask.size == 0:
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = [0, *edges.tolist(), mask.size]
    return [(bool(mask[bounds[i]]), bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def measure_tone(x: object, rate: int = SAMPLE_RATE) -> ToneMeasure | None:
    """Frequencies and cadence of the tone that fills `x` (as `find_tone` cut it); None if no tone."""
    a = _as_float(x)
    scr = screen_frames(a, rate)
    if not scr.tonal.any():
        return None
    # frequencies: every on-burst (trimmed of its edges), power spectra summed
    freqs_axis = np.fft.rfftfreq(FINE_NFFT, 1.0 / rate)
    acc = np.zeros(freqs_axis.size)
    for on, s, e in _runs(scr.tonal):
        if not on:
            continue
        lo, hi = s * HOP + HOP // 2, e * HOP + (WIN - HOP) - HOP // 2
        seg = a[lo:hi][:FINE_NFFT]
        if seg.size < HOP:
            continue
        acc += np.abs(np.fft.rfft(seg * np.hanning(seg.size), FINE_NFFT)) ** 2
    found = _peaks(acc, freqs_axis)
    if not found:
        return None
    freqs = tuple(float(round(f)) for f in found)
    level = float(np.median(scr.level[scr.tonal]))
    # cadence: envelope at the measured frequencies
    n = np.arange(a.size)
    env = np.zeros(a.size)
    kernel = np.ones(ENV_AVG) / ENV_AVG
    for f in found:
        base = a * np.exp(-2j * np.pi * f * n / rate)
        env += np.abs(np.convolve(base, kernel, mode="same")) ** 2
    env_db = 10 * np.log10(env[::ENV_STEP] + 1e-6)
    on_level = float(np.percentile(env_db, 95))
    floor = float(np.percentile(env_db, 5))
    if on_level - floor < 10.0:
        return ToneMeasure(freqs, (), level)  # continuous
    on = env_db >= on_level - 6.0
    step = ENV_STEP / rate
    segments = [(v, (e - s) * step) for v, s, e in _runs(on)]
    if len(segments) <= 2:
        return ToneMeasure(freqs, (), level) if all(v for v, _ in segments) else None
    cadence = cadence_pattern(segments[1:-1])  # first and last are cut by the window
    if cadence is None:
        return None
    return ToneMeasure(freqs, cadence, level)


# ---------------------------------------------------------------- cadences


def cadence_pattern(segments: list[tuple[bool, float]]) -> tuple[float, ...] | None:
    """The repeating on/off pattern of complete segments ``[(on, seconds), ...]``.

    Returns ``(on, off, on, off...)`` for the shortest period that the segments repeat,
    rotated so the longest off ends the pattern (how cadences are written), each value the
    median of its repeats and snapped; None if there is not one whole on/off pair.
    """
    segs = list(segments)
    while segs and not segs[0][0]:
        segs.pop(0)
    if len(segs) < 2:
        return None
    if len(segs) % 2:
        segs = segs[:-1]
    pairs = [(segs[i][1], segs[i + 1][1]) for i in range(0, len(segs), 2)]
    period = len(pairs)
    for p in range(1, len(pairs) + 1):
        if all(
            abs(pairs[i][0] - pairs[i % p][0]) <= MATCH_TOL_S
            and abs(pairs[i][1] - pairs[i % p][1]) <= MATCH_TOL_S
            for i in range(len(pairs))
        ):
            period = p
            break
    values: list[float] = []
    for k in range(period):
        group = pairs[k::period]
        values += [float(np.median([g[0] for g in group])), float(np.median([g[1] for g in group]))]
    offs = values[1::2]
    last = int(np.argmax(offs))
    rot = 2 * (last + 1)
    values = values[rot:] + values[:rot]
    return tuple(snap_seconds(v) for v in values)


def ring_cadence(changes: list[tuple[float, bool]]) -> tuple[float, ...] | None:
    """Ring cadence from ring-signal changes ``[(time, on), ...]`` (device events in order)."""
    clean: list[tuple[float, bool]] = []
    for t, on in changes:
        if clean and clean[-1][1] == on:
            continue  # a repeated edge (a second Ring(on) while ringing) adds nothing
        clean.append((t, on))
    segments = [(clean[i][1], clean[i + 1][0] - clean[i][0]) for i in range(len(clean) - 1)]
    return cadence_pattern(segments)


# ---------------------------------------------------------------- caller-ID modulation


def _goertzel_power(x: np.ndarray, f: float, rate: int) -> float:
    n = np.arange(x.size)
    return float(np.abs(np.sum(x * np.exp(-2j * np.pi * f * n / rate))) ** 2)


def fsk_standard(x: object, start: int, rate: int = SAMPLE_RATE) -> str:
    """Tell "fsk-bell202" from "fsk-v23" for a caller-ID frame whose first start bit is at `start`.

    The data bits spread their energy between and around the two tones, so the test is made on
    the mark signal that precedes every frame (Bell 202: 1200 Hz, V.23: 1300 Hz): the 80 ms
    before the start bit, a steady tone.
    """
    a = _as_float(x)
    lo, hi = max(0, start - int(0.09 * rate)), max(0, start - int(0.01 * rate))
    seg = a[lo:hi]
    if seg.size < int(0.02 * rate):
        raise ValueError("no mark signal before the frame to classify")
    seg = seg * np.hanning(seg.size)
    bell = _goertzel_power(seg, 1200.0, rate)
    v23 = _goertzel_power(seg, 1300.0, rate)
    return "fsk-bell202" if bell >= v23 else "fsk-v23"
