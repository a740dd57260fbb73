"""DTMF generator and receiver (ITU-T Q.23/Q.24, AT&T column of DSP-SPECS.md §1).

How the receiver decides, and why:

* Every 5 ms (hop of 40 samples) a 20 ms Hann window is measured at the eight DTMF frequencies
  as one matrix product over all windows and all channels (`goertzel.dft_basis`). 20 ms gives
  bins narrow enough to keep adjacent DTMF frequencies 14 dB apart; the 5 ms hop gives the time
  resolution that separates a 20 ms burst (must be rejected) from a 40 ms tone (must be accepted).
* A window is a *hit* for a digit when: the strongest bin of each group is at least 6 dB above the
  other bins of its group; both tones are above the level floor; the two tones carry most of the
  window's energy (signal-to-total ratio, DC removed — this is what rejects speech, music and
  noise); the twist is within limits; and the frequency, measured from the phase advance of each
  bin between successive windows, is within ±2.2 % of nominal; and neither tone has a second
  harmonic (music does). The phase measurement is what
  gives a sharp accept-±1.5 % / reject-±3.5 % edge that a magnitude test alone cannot give.
* Hits feed a per-channel state machine: a run starts on a strict hit, continues on relaxed hits
  of the same digit (so a 10 ms drop-out or a noisy window does not split a digit), and ends after
  four windows (20 ms) without one — a 40 ms pause always gives at least four. A run becomes a
  digit once it holds six *strong* windows (band energy at least 35 % of the run's peak, i.e. the
  window is mostly inside the tone): a 40 ms tone gives 7 or 8, a 20-23 ms burst at most 5.
* The single-line `DtmfDetector` is the batched engine with one channel, so the batched form gives
  the same events as one detector per line by construction (and a test checks it).

Events are reported when the digit ends (the end sample is then known); `current` gives the digit
sounding right now, for barge-in. Sample indices count from detector creation or `reset()`.
Float input is taken on the int16 scale; NaN/inf, wrong shape or dtype raise ValueError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ccd.dsp.goertzel import as_samples, dft_basis, frame_windows, hann
from ccd.dsp.levels import SAMPLE_RATE, dbm0_to_peak

log = logging.getLogger(__name__)

LOW_FREQS: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
HIGH_FREQS: tuple[float, ...] = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(_KEYPAD)
_DIGIT_OF = [_KEYPAD[lo][hi] for lo in range(4) for hi in range(4)]  # index lo*4+hi -> digit
_FREQS_OF = {_KEYPAD[lo][hi]: (LOW_FREQS[lo], HIGH_FREQS[hi]) for lo in range(4) for hi in range(4)}

WIN = 160  # analysis window, 20 ms
HOP = 40  # window spacing, 5 ms
_KEEP = WIN - HOP

# Decision thresholds (see module docstring). Levels per tone in dBm0.
FLOOR_DBM0 = -31.0  # strict: both tones at least this (spec: accept -26, reject -35 and below)
LOOSE_FLOOR_DBM0 = -40.0  # continuing a digit already started
RATIO_STRICT = 0.70  # share of the window energy in the two tones
RATIO_LOOSE = 0.45
TWIST_STRICT_DB = (-10.0, 6.0)  # high minus low: normal twist to 8 dB, reverse to 4 dB, plus margin
TWIST_LOOSE_DB = (-14.0, 10.0)
PEAK_STRICT = 0.25  # other bins of a group at most -6 dB from the strongest
PEAK_LOOSE = 0.40
FREQ_TOL = 0.022  # fraction of nominal frequency (accept 1.5 %, reject 3.5 %; G#5 = 2.5 % under 852 Hz)
HARMONIC_MAX = 0.05  # second harmonic at most -13 dB under its tone to start a digit
# [low, high]: is 2 x low far (> 150 Hz) from the high tone, so its bin measures the harmonic alone?
_LOW_HARMONIC_CLEAR = np.abs(2 * np.array(LOW_FREQS)[:, None] - np.array(HIGH_FREQS)[None, :]) > 150.0
MISSES_TO_END = 4  # windows (20 ms) without a hit that end a digit
STRONG_TO_CONFIRM = 6  # strong windows needed to report a digit (40 ms gives 7-8, 23 ms at most 5)
STRONG_SHARE = 0.35  # a window is strong when its band energy is >= this share of the run peak
_TOEPLITZ_MAX = 8  # up to this many windows per call, one Toeplitz product; beyond, strided windows
MAX_HELD_GAP = 800  # fillin() gaps longer than this (samples, 100 ms) end a digit in progress
_ONE = np.zeros(1, dtype=np.intp)  # the channel list of a one-line bank


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One received digit: `start`/`end` are sample indices since detector creation or reset."""

    digit: str
    start: int
    end: int


def dtmf_generate(
    digits: str,
    on_ms: float = 80,
    off_ms: float = 80,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    freq_offset_pct: float = 0.0,
    rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Audio (int16) for `digits`: each tone `on_ms` then `off_ms` of silence.

    `level_dbm0` is the low-group tone's level; the high-group tone is at `level_dbm0 + twist_db`
    (twist = high minus low, as spandsp's `dtmf_tx_set_level`). `freq_offset_pct` shifts both
    tones, for conformance tests. Two tones near 0 dBm0 exceed int16 and are clipped, as a real
    codec would.
    """
    if not isinstance(digits, str):
        raise ValueError("digits must be a string of 0-9, *, #, A-D")
    bad = sorted({d for d in digits.upper() if d not in _FREQS_OF})
    if bad:
        raise ValueError(f"not DTMF digits: {''.join(bad)!r} (use 0-9, *, #, A-D)")
    if on_ms < 0 or off_ms < 0 or rate <= 0:
        raise ValueError("on_ms, off_ms must be >= 0 and rate > 0")
    n_on = round(on_ms * rate / 1000.0)
    n_off = round(off_ms * rate / 1000.0)
    t = np.arange(n_on) / rate
    a_lo = dbm0_to_peak(level_dbm0)
    a_hi = dbm0_to_peak(level_dbm0 + twist_db)
    k = 1.0 + freq_offset_pct / 100.0
    out = []
    gap = np.zeros(n_off)
    for d in digits.upper():
        f_lo, f_hi = _FREQS_OF[d]
        tone = a_lo * np.sin(2 * np.pi * f_lo * k * t) + a_hi * np.sin(2 * np.pi * f_hi * k * t)
        out.append(tone)
        out.append(gap)
    if not out:
        return np.zeros(0, dtype=np.int16)
    x = np.concatenate(out)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


class _Run:
    """A candidate or confirmed digit on one channel (scalar state machine)."""

    __slots__ = ("confirmed", "digit", "first_strong", "last_strong", "max_e", "misses", "window_e")

    def __init__(self, digit: int, j: int, e: float) -> None:
        self.digit = digit
        self.misses = 0
        self.max_e = e
        self.window_e: list[tuple[int, float]] = [(j, e)]
        self.confirmed = False
        self.first_strong = j
        self.last_strong = j


class _DtmfBank:
    """The receiver for `channels` lines sharing one time base; the engine behind both APIs."""

    def __init__(self, channels: int, rate: int = SAMPLE_RATE) -> None:
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if rate != SAMPLE_RATE:
            raise ValueError(f"DTMF receiver runs at {SAMPLE_RATE} Hz; resample {rate} Hz audio first")
        self.channels = channels
        freqs = LOW_FREQS + HIGH_FREQS
        w = hann(WIN)
        self._basis = dft_basis(freqs, w, rate).astype(np.float32)
        self._w2 = (w * w).astype(np.float32)
        self._harm_basis = dft_basis(tuple(2 * f for f in freqs), w, rate)[:, :16].astype(np.float32)
        sw, sw2 = float(w.sum()), float((w * w).sum())
        self._sw2 = sw2
        # |X|^2 of a sine of peak A is (A*sum(w)/2)^2; its windowed energy is A^2/2*sum(w^2).
        self._ratio_norm = 2.0 * sw2 / (sw * sw)
        self._p_floor = (dbm0_to_peak(FLOOR_DBM0) * sw / 2.0) ** 2
        self._p_loose = (dbm0_to_peak(LOOSE_FLOOR_DBM0) * sw / 2.0) ** 2
        f = np.asarray(freqs)
        self._rot = np.exp(-2j * np.pi * f * HOP / rate)  # expected advance, conj
        self._hz_per_rad = rate / (2.0 * np.pi * HOP)
        self._tol_hz = FREQ_TOL * f
        self._tw_s = [10 ** (v / 10.0) for v in TWIST_STRICT_DB]
        self._tw_l = [10 ** (v / 10.0) for v in TWIST_LOOSE_DB]
        self._enabled = np.ones(channels, dtype=bool)
        # Screen: sum|X|^2 > k * E_ac  <=>  share of the 8 bins >= RATIO_LOOSE (never stricter than cand).
        self._screen_k = np.float32(RATIO_LOOSE / self._ratio_norm * 0.999)
        self._w2k = (self._w2 * self._screen_k).astype(np.float32)
        vec = np.ones(17, dtype=np.float32)
        vec[16] = self._screen_k / sw2
        self._screen_vec = vec
        # A digit can only *start* on a strict window: share >= RATIO_STRICT and both tones above the
        # floor, so the eight bins together hold at least 2 * p_floor. Lines without a run need that.
        self._strict_over_loose = np.float32(RATIO_STRICT / RATIO_LOOSE)
        self._a_floor = np.float32(2.0 * self._p_floor * 0.999)
        self._toeplitz_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.reset_all()

    # -- state -----------------------------------------------------------------------------
    def reset_all(self) -> None:
        c = self.channels
        self._hist = np.zeros((c, _KEEP), dtype=np.float32)
        self._pending = np.zeros((c, 0), dtype=np.float32)
        self._prev = np.zeros((c, 16), dtype=np.float32)  # last window's re(8), im(8)
        self._j = 0  # global index of the next window
        self._origin = np.zeros(c, dtype=np.int64)  # sample index where each channel was reset
        self._runs: list[_Run | None] = [None] * c
        self._has_run = np.zeros(c, dtype=bool)  # mirrors `_runs`, for the vectorised screen
        self._nruns = 0
        self._neutral_until = np.full(c, -1, dtype=np.int64)  # windows <= this are ignored

    def reset(self, ch: int) -> None:
        self._check_channel(ch)
        self._hist[ch] = 0.0
        self._pending[ch] = 0.0
        self._prev[ch] = 0.0
        self._origin[ch] = self._samples_seen()
        if self._runs[ch] is not None:
            self._nruns -= 1
        self._runs[ch] = None
        self._has_run[ch] = False
        self._neutral_until[ch] = -1

    def _check_channel(self, ch: int) -> None:
        if not isinstance(ch, (int, np.integer)) or not 0 <= ch < self.channels:
            raise ValueError(f"channel must be 0..{self.channels - 1}, got {ch!r}")

    def _samples_seen(self) -> int:
        return self._j * HOP + self._pending.shape[1]

    def current(self, ch: int) -> str | None:
        run = self._runs[ch]
        return _DIGIT_OF[run.digit] if run is not None and run.confirmed else None

    # -- processing ------------------------------------------------------------------------
    def feed(self, block: np.ndarray) -> list[tuple[int, DtmfEvent]]:
        """Process a float32 (channels, n) block; return the digits that ended as (channel, event)."""
        out: list[tuple[int, DtmfEvent]] = []
        n = block.shape[1]
        if n == 0:
            return out
        npend = self._pending.shape[1]
        m = (npend + n) // HOP
        if m == 0:
            self._pending = np.concatenate([self._pending, block], axis=1)
            return out
        x = np.empty((self.channels, _KEEP + m * HOP), dtype=np.float32)
        x[:, :_KEEP] = self._hist
        if npend == 0 and n == m * HOP:  # the usual case: whole 20 ms frames
            x[:, _KEEP:] = block
        else:
            used = m * HOP - npend
            x[:, _KEEP : _KEEP + npend] = self._pending
            x[:, _KEEP + npend :] = block[:, :used]
            self._pending = block[:, used:].astype(np.float32, copy=True)
        self._hist = x[:, -_KEEP:]  # x is private to this call: a view is safe
        self._analyse(x, m, out)
        return out

    def _toeplitz(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Bases for m consecutive windows at once: one product per block, no strided copies."""
        t = self._toeplitz_cache.get(m)
        if t is None:
            rows = _KEEP + m * HOP
            big = np.zeros((rows, m, 17), dtype=np.float32)
            big2 = np.zeros((rows, m), dtype=np.float32)
            for i in range(m):
                big[i * HOP : i * HOP + WIN, i, :] = self._basis
                big2[i * HOP : i * HOP + WIN, i] = self._w2k
            t = (big.reshape(rows, m * 17), big2)
            self._toeplitz_cache[m] = t
        return t

    def _analyse(self, x: np.ndarray, m: int, out: list[tuple[int, DtmfEvent]]) -> None:
        c = self.channels
        # z: per window re(8), im(8), sum(w^2 x); e: k * sum(w^2 x^2); a: sum |X|^2 + k/sum(w^2) * dc^2,
        # so a - e > 0 exactly when the eight bins hold more than RATIO_LOOSE of the AC energy.
        if m <= _TOEPLITZ_MAX:
            basis, basis2 = self._toeplitz(m)
            z = x @ basis
            e = (x * x) @ basis2
            zz = z * z
            a = (zz.reshape(c * m, 17) @ self._screen_vec).reshape(c, m)
        else:
            win = frame_windows(x, WIN, HOP, m).reshape(c * m, WIN)
            z = (win @ self._basis).reshape(c, m * 17)
            e = ((win * win) @ self._w2k).reshape(c, m)
            a = ((z * z).reshape(c * m, 17) @ self._screen_vec).reshape(c, m)
        j0 = self._j
        self._j += m
        prev16 = self._prev
        self._prev = z[:, -17:-1]
        # Cheap screen: most windows of most lines hold nothing tone-like. Lines with a digit
        # running always go on (their misses count).
        has_run = self._has_run
        any_run = self._nruns > 0
        if c == 1:
            if not any_run and not ((a > e * self._strict_over_loose) & (a >= self._a_floor)).any():
                return
            chans = _ONE
        else:
            keep = ((a > e * self._strict_over_loose) & (a >= self._a_floor)).any(axis=1)
            keep &= self._enabled
            if any_run:
                keep |= has_run
            chans = np.flatnonzero(keep)
            if chans.size == 0:
                return
            z, e, prev16 = z[chans], e[chans], prev16[chans]
        cc = len(chans)
        y = z.reshape(cc, m, 17).astype(np.float64)
        sq = y * y
        P = sq[:, :, :8] + sq[:, :, 8:16]
        lo, hi = P[:, :, :4], P[:, :, 4:]
        p_lo = lo.max(axis=2)
        p_hi = hi.max(axis=2)
        energy = e.reshape(cc, m).astype(np.float64) / float(self._screen_k)
        e_ac = np.maximum(energy - sq[:, :, 16] / self._sw2, 1e-9)
        ratio = (p_lo + p_hi) * self._ratio_norm / e_ac
        cand = (ratio >= RATIO_LOOSE) & (np.minimum(p_lo, p_hi) >= self._p_loose)
        cand &= self._enabled[chans][:, None]
        if not any_run and not cand.any():
            return
        il = lo.argmax(axis=2)
        ih = hi.argmax(axis=2)
        X = y[:, :, :8] + 1j * y[:, :, 8:16]
        Xp = (prev16[:, :8] + 1j * prev16[:, 8:16]).astype(np.complex128)
        prev = np.concatenate([Xp[:, None, :], X[:, :-1, :]], axis=1)
        # Full checks only where something may be happening.
        # "The second strongest bin of each group is at most PEAK x the strongest" is "at most one
        # bin of the group above PEAK x the strongest": counting is cheaper than sorting.
        pk = np.concatenate([np.repeat(p_lo[..., None], 4, 2), np.repeat(p_hi[..., None], 4, 2)], axis=2)
        over_s = np.greater(P, PEAK_STRICT * pk).reshape(cc, m, 2, 4).sum(axis=3)
        over_l = np.greater(P, PEAK_LOOSE * pk).reshape(cc, m, 2, 4).sum(axis=3)
        peak_s = over_s.max(axis=2) <= 1
        peak_l = over_l.max(axis=2) <= 1
        tw = p_hi / np.maximum(p_lo, 1e-30)
        tw_s = (tw >= self._tw_s[0]) & (tw <= self._tw_s[1])
        tw_l = (tw >= self._tw_l[0]) & (tw <= self._tw_l[1])
        rot = X * np.conj(prev) * self._rot
        ang = np.angle(rot) * self._hz_per_rad  # frequency error in Hz per bin
        err_lo = np.abs(np.take_along_axis(ang[:, :, :4], il[..., None], 2)[..., 0])
        err_hi = np.abs(np.take_along_axis(ang[:, :, 4:], ih[..., None], 2)[..., 0])
        f_ok = (err_lo <= self._tol_hz[il]) & (err_hi <= self._tol_hz[4 + ih])
        loose = cand & peak_l & tw_l & f_ok
        strict = (
            loose
            & peak_s
            & tw_s
            & (ratio >= RATIO_STRICT)
            & (p_lo >= self._p_floor)
            & (p_hi >= self._p_floor)
        )
        any_strict = strict.any(axis=1)
        if any_strict.any():
            # Second harmonics: DTMF has none, a sung or played note has. This is what keeps
            # music (equal-tempered notes sit within 1-2 % of DTMF frequencies) from dialling.
            rows = np.flatnonzero(any_strict)
            win = frame_windows(x[chans[rows]], WIN, HOP, m)
            h = win @ self._harm_basis  # (rows, m, 16)
            ph = h[:, :, :8].astype(np.float64) ** 2 + h[:, :, 8:].astype(np.float64) ** 2
            h_lo = np.take_along_axis(ph[:, :, :4], il[rows][..., None], 2)[..., 0]
            h_hi = np.take_along_axis(ph[:, :, 4:], ih[rows][..., None], 2)[..., 0]
            # The low tone's harmonic bin is only clean when the high tone is not next to it.
            lo_ok = (h_lo <= HARMONIC_MAX * p_lo[rows]) | ~_LOW_HARMONIC_CLEAR[il[rows], ih[rows]]
            strict[rows] &= lo_ok & (h_hi <= HARMONIC_MAX * p_hi[rows])
            any_strict = strict.any(axis=1)
        step = any_strict | has_run[chans] if any_run else any_strict
        ks = np.flatnonzero(step)
        if ks.size == 0:
            return
        if ks.size != cc:
            chans = chans[ks]
            il, ih, strict, loose, p_lo, p_hi = il[ks], ih[ks], strict[ks], loose[ks], p_lo[ks], p_hi[ks]
        digit = (il * 4 + ih).tolist()
        band = (p_lo + p_hi).tolist()
        strict_l = strict.tolist()
        loose_l = loose.tolist()
        runs = self._runs
        neutral_all = self._neutral_until
        for k, ch in enumerate(chans.tolist()):
            run = self._step_channel(
                ch, runs[ch], j0, int(neutral_all[ch]), digit[k], strict_l[k], loose_l[k], band[k], out
            )
            if (run is None) != (runs[ch] is None):
                has_run[ch] = run is not None
                self._nruns += 1 if run is not None else -1
            runs[ch] = run

    def _step_channel(
        self,
        ch: int,
        run: _Run | None,
        j0: int,
        neutral: int,
        digit: list[int],
        strict: list[bool],
        loose: list[bool],
        band: list[float],
        out: list[tuple[int, DtmfEvent]],
    ) -> _Run | None:
        """One channel's state machine over this block's windows; returns the run left open."""
        j = j0 - 1
        for d, s, lo, e in zip(digit, strict, loose, band, strict=True):
            j += 1
            if j <= neutral:
                continue
            if run is not None:
                if lo and d == run.digit:
                    run.misses = 0
                    if e > run.max_e:
                        run.max_e = e
                    if run.confirmed:
                        if e >= STRONG_SHARE * run.max_e:
                            run.last_strong = j
                    else:
                        run.window_e.append((j, e))
                        _try_confirm(run)
                    continue
                run.misses += 1
                if run.misses >= MISSES_TO_END:
                    self._finish(ch, run, out)
                    run = None
                elif not run.confirmed and s:
                    run = None  # an unconfirmed run gives way to a different strict digit
                else:
                    continue
            if s:
                run = _Run(d, j, e)
        return run

    def _finish(self, ch: int, run: _Run, out: list[tuple[int, DtmfEvent]]) -> None:
        if run.confirmed:
            origin = int(self._origin[ch])
            start = max(0, _centre(run.first_strong) - origin)
            end = max(start, _centre(run.last_strong) - origin)
            out.append((ch, DtmfEvent(_DIGIT_OF[run.digit], start, end)))

    def flush(self) -> list[tuple[int, DtmfEvent]]:
        out: list[tuple[int, DtmfEvent]] = []
        for ch, run in enumerate(self._runs):
            if run is not None:
                self._finish(ch, run, out)
                self._runs[ch] = None
        self._has_run[:] = False
        self._nruns = 0
        return out

    def fillin(self, n: int) -> list[tuple[int, DtmfEvent]]:
        """`n` samples were lost: hold the state across the gap instead of calling it silence."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"fillin needs a sample count >= 0, got {n!r}")
        if n == 0:
            return []
        if n > MAX_HELD_GAP:
            out = self.flush()
            total = self._pending.shape[1] + int(n)
            self._j += total // HOP
            self._pending = np.zeros((self.channels, total % HOP), dtype=np.float32)
            self._hist[:] = 0.0
            self._prev[:] = 0.0
            self._neutral_until[:] = self._j + WIN // HOP
            return out
        # Windows touching the lost samples (and the one after, whose phase reference does) are
        # neutral: no hit, no miss.
        start = self._samples_seen()
        end_window = (start + int(n) + WIN) // HOP  # first window wholly after the gap, and its successor
        self._neutral_until[:] = np.maximum(self._neutral_until, end_window)
        return self.feed(np.zeros((self.channels, int(n)), dtype=np.float32))


def _try_confirm(run: _Run) -> None:
    thr = STRONG_SHARE * run.max_e
    strong = [j for j, e in run.window_e if e >= thr]
    if len(strong) >= STRONG_TO_CONFIRM:
        run.confirmed = True
        run.first_strong = strong[0]
        run.last_strong = strong[-1]
        run.window_e = []
    elif len(run.window_e) > 64:
        run.window_e = run.window_e[-32:]


def _centre(j: int) -> int:
    """Sample index of the centre of window j (window j ends at sample (j + 1) * HOP)."""
    return (j + 1) * HOP - WIN // 2


def _per_channel(events: list[tuple[int, DtmfEvent]], channels: int) -> list[list[DtmfEvent]]:
    out: list[list[DtmfEvent]] = [[] for _ in range(channels)]
    for ch, ev in events:
        out[ch].append(ev)
    return out


class DtmfDetector:
    """Streaming DTMF receiver for one line: feed blocks of any length; state carries over."""

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self._bank = _DtmfBank(1, rate)

    def process(self, block: np.ndarray) -> list[DtmfEvent]:
        """Feed samples (1-D int16, or float on the int16 scale); return digits that ended."""
        x = as_samples(block, 1)
        return [ev for _, ev in self._bank.feed(x[None, :])]

    def fillin(self, n: int) -> list[DtmfEvent]:
        """`n` samples were lost (packet loss): a digit sounding across the gap stays one digit.

        Gaps longer than 100 ms end a digit in progress (it is reported) — beyond that nobody can
        say the tone went on.
        """
        return [ev for _, ev in self._bank.fillin(n)]

    def flush(self) -> list[DtmfEvent]:
        """End of stream: report the digit in progress if it was long enough to be one."""
        return [ev for _, ev in self._bank.flush()]

    @property
    def current(self) -> str | None:
        """The digit sounding now (already long enough to count), for barge-in; else None."""
        return self._bank.current(0)

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self._bank.reset_all()


class BatchDtmfDetector:
    """DTMF receivers for many lines in one call: `process((channels, n) int16 block)`.

    Gives the same events as one `DtmfDetector` per channel; the spectral work for all channels is
    one matrix product, and the per-channel state machine runs only on channels where a digit is
    possible.
    """

    def __init__(self, channels: int, rate: int = SAMPLE_RATE) -> None:
        self._bank = _DtmfBank(channels, rate)
        self.channels = channels

    def process(self, block: np.ndarray) -> list[list[DtmfEvent]]:
        """Feed a (channels, n) block; return the digits that ended, one list per channel."""
        x = as_samples(block, 2)
        if x.shape[0] != self.channels:
            raise ValueError(f"block has {x.shape[0]} channels, detector was made for {self.channels}")
        return _per_channel(self._bank.feed(x), self.channels)

    def flush(self) -> list[list[DtmfEvent]]:
        """End of stream on every channel: report digits in progress."""
        return _per_channel(self._bank.flush(), self.channels)

    def current(self, channel: int) -> str | None:
        """Digit sounding now on `channel`, or None."""
        self._bank._check_channel(channel)
        return self._bank.current(channel)

    def reset(self, channel: int) -> None:
        """Forget `channel`'s state (a new call); its sample indices restart at 0."""
        self._bank.reset(channel)

    def set_enabled(self, channel: int, enabled: bool) -> None:
        """Skip a channel's state machine (idle line); its spectrum is still computed with the rest."""
        self._bank._check_channel(channel)
        self._bank._enabled[channel] = bool(enabled)
