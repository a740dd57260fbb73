"""DTMF generator and receiver (ITU-T Q.23/Q.24, AT&T column of DSP-SPECS.md §1).

How the receiver decides, and why:

* Every 10 ms a 20 ms Hann window is measured at the eight DTMF frequencies and DC. One matrix
  product of all channels' 20 ms frames against a fixed (160, 51) basis gives each frame's share
  of the three windows it touches; one add of the last frame's share completes the window that
  straddles the two. 20 ms gives bins narrow enough to keep adjacent DTMF frequencies 14 dB apart.
  Second harmonics (for the strict test only) are computed from the kept samples of the few
  channels where that test can change what happens (a digit starting or giving way).
* Layout, for speed in numpy: in the batched engine channels are rows (the few channels that need
  a decision are gathered as whole rows), a DTMF group's four bins are read as the bytes of one
  uint32 (counts and positions in a few integer operations), and the per-frame work on all
  channels runs on contiguous rows. Window spectra are float32, as the products give them.
* Screen first: per frame, a dozen array operations over all channels measure the two new windows'
  group peaks and energy share; only channels where a window could start a digit, or a digit is
  running, go on to the full decision. The single-line engine also skips the spectra of a frame
  whose energy is too low to hold two tones at the level floor (a bound, not a guess).
* A window is a *hit* for a digit when: the strongest bin of each group stands 4 dB (strict: 6 dB)
  above the other bins of its group; both tones are above the level floor; the two tones carry most
  of the window's energy (signal-to-total ratio, DC removed — this is what rejects speech, music and
  noise); the twist is within limits; and the frequency, measured from the phase advance of each
  bin over 10 ms, is within ±2.2 % of nominal (tested as re >= cos(tol)·|z|: no arctangent) —
  towards the previous window, or (to continue a digit) towards the next one, so a tone that
  resumes with a new phase after a drop-out is not lost. A *strict* hit, the only kind that starts a digit, also needs the backward phase, a higher
  level and share, tighter twist, and no second harmonic (a sung or played note has one).
* Hits feed a state machine per channel: a run starts on a strict hit and continues on hits of the
  same digit; three windows (30 ms) without one end it — a 40 ms pause always gives three, a
  10 ms drop-out at most two. A run is a digit when its length, measured as the sum of its window
  amplitudes over the largest one (Hann windows at half overlap add up to the tone's length in
  hops), reaches `CONFIRM_SPAN` hops: a 40 ms tone gives 3 to 4, a 23 ms burst at most 2.3.
* Decisions are made one window late (the forward phase needs the next window); the decision
  itself is a few vectorised steps over channels, and Python runs per channel only when a digit
  ends. The batched engine takes up to MAX_FRAMES frames per pass (the daemon hands it 40 ms):
  their windows are screened and decided together, so the fixed cost of its numpy calls is paid
  once per pass; the state machine still steps window by window, so the events are the same. `DtmfDetector` (one line) runs the same rules on plain Python floats, since numpy's
  per-call overhead is what a single line pays for; a test checks both give the same events.

Events are reported when the digit ends (the end sample is then known); `current` gives the digit
sounding right now, for barge-in. Sample indices count from detector creation or `reset()`.
Float input is taken on the int16 scale; NaN/inf, wrong shape or dtype raise ValueError.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ccd.dsp.goertzel import Framer, as_samples, dft_basis, hann, place_rows
from ccd.dsp.levels import SAMPLE_RATE, dbm0_to_peak

log = logging.getLogger(__name__)

LOW_FREQS: tuple[float, ...] = (697.0, 770.0, 852.0, 941.0)
HIGH_FREQS: tuple[float, ...] = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")
DIGITS = "".join(_KEYPAD)
_DIGIT_OF = [_KEYPAD[lo][hi] for lo in range(4) for hi in range(4)]  # index lo*4+hi -> digit
_FREQS_OF = {_KEYPAD[lo][hi]: (LOW_FREQS[lo], HIGH_FREQS[hi]) for lo in range(4) for hi in range(4)}

WIN = 160  # analysis window, 20 ms
HOP = 80  # window spacing, 10 ms
FRAME = 160  # one matrix product per 20 ms frame: two new windows

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
MISSES_TO_END = 3  # windows (30 ms) without a hit that end a digit
CONFIRM_SPAN = 2.6  # run length in hops (sum of amplitudes / peak) that makes a digit
MAX_HELD_GAP = 800  # fillin() gaps longer than this (samples, 100 ms) end a digit in progress


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


# ---------------------------------------------------------------------------------------------
# Receiver engine. Shared constants: one 20 ms frame times a fixed (160, 51) basis gives its share
# of the three windows it touches — the end of window 2b (the frame's first half), window 2b+1 (the
# whole frame) and the start of window 2b+2 (its second half) — each as the eight DTMF bins
# (re, im) and the DC term. One add of the last frame's share then completes window 2b. Second
# harmonics are only needed for a digit's strict test, so they are computed from the kept samples
# of the few channels that get that far.
# ---------------------------------------------------------------------------------------------
_NW = 17  # per window: re(8), im(8), DC
_HARMONICS = tuple(2.0 * f for f in LOW_FREQS + HIGH_FREQS)


def _bases() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = hann(WIN)
    win = dft_basis(LOW_FREQS + HIGH_FREQS, w, SAMPLE_RATE)  # (160, 17)
    # A frame's share of windows 2b (its second half), 2b+1 (all of it), 2b+2 (its first half).
    frame = np.concatenate([place_rows(FRAME, 0, win[HOP:]), win, place_rows(FRAME, HOP, win[:HOP])], axis=1)
    # Energy pieces of a frame: the end of window 2b (its second half is the frame's first half),
    # window 2b+1 (the frame), the start of window 2b+2 (its first half is the frame's second half).
    w2 = (w * w)[:, None]
    energy = np.concatenate([place_rows(FRAME, 0, w2[HOP:]), w2, place_rows(FRAME, HOP, w2[:HOP])], axis=1)
    harm = dft_basis(_HARMONICS, w, SAMPLE_RATE)[:, :16]  # (160, 16): re(8), im(8)
    return (
        win.astype(np.float32),
        frame.astype(np.float32),
        energy.astype(np.float32),
        harm.astype(np.float32),
    )


_WBASIS, _FBASIS, _EBASIS, _HBASIS = _bases()  # (160, 17), (160, 51), (160, 3), (160, 16)
# Harmonics of the windows decided with F new frames, from the samples of frames b-1 .. b+F-1:
# window 2b-1 is frame b-1, the next ones start 80 samples apart. F = 1: (320, 32); F = 2: (480, 64).


def _line_bases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One line's products: windows 2b and 2b+1 and their energies from the 240 samples
    [frame b-1's last 80 | frame b]; and the 0/1 matrix that sums squared re and im into bin
    powers (and passes DC^2), so a frame's screen is three small products."""
    win = _WBASIS.astype(np.float64)  # (160, 17)
    b240 = np.concatenate([place_rows(WIN + HOP, 0, win), place_rows(WIN + HOP, HOP, win)], axis=1)
    w2 = (hann(WIN) ** 2)[:, None]
    e240 = np.concatenate([place_rows(WIN + HOP, 0, w2), place_rows(WIN + HOP, HOP, w2)], axis=1)
    sqsum = np.zeros((2 * _NW, 18))
    for j in range(2):
        for i in range(8):
            sqsum[j * _NW + i, j * 9 + i] = sqsum[j * _NW + 8 + i, j * 9 + i] = 1.0
        sqsum[j * _NW + 16, j * 9 + 8] = 1.0
    return b240.astype(np.float32), e240.astype(np.float32), sqsum.astype(np.float32)


_B240, _E240, _SQSUM = _line_bases()  # (240, 34), (240, 2), (34, 18)
_SQ9_T = np.ascontiguousarray(_SQSUM[:_NW, :9].T)  # (9, 17): a window's squares -> bin powers, DC^2
# A bin's power is at most 160 times the window's energy (Cauchy-Schwarz over the 160 samples), so a
# window under this energy cannot have both tones at the level floor (1 % margin for rounding).
_EN_MIN = 0.99 * ((dbm0_to_peak(FLOOR_DBM0) * float(hann(WIN).sum()) / 2.0) ** 2) / WIN
_W = hann(WIN)
_SW, _SW2 = float(_W.sum()), float((_W * _W).sum())
# |X|^2 of a sine of peak A is (A*sum(w)/2)^2; its windowed energy is A^2/2*sum(w^2).
_NORM = 2.0 * _SW2 / (_SW * _SW)
_P_FLOOR = (dbm0_to_peak(FLOOR_DBM0) * _SW / 2.0) ** 2
_P_LOOSE = (dbm0_to_peak(LOOSE_FLOOR_DBM0) * _SW / 2.0) ** 2
_F = np.asarray(LOW_FREQS + HIGH_FREQS)
_ROT = np.exp(-2j * np.pi * _F * HOP / SAMPLE_RATE)  # expected phase advance per hop, conjugated
_TOL = 2.0 * np.pi * FREQ_TOL * _F * HOP / SAMPLE_RATE  # radians of phase error per hop
# |phase error| <= tol is re >= cos(tol) |z| for the advance z: a hypot, no arctangent.
_COS = np.cos(_TOL)
_TW_S = tuple(10 ** (v / 10.0) for v in TWIST_STRICT_DB)
_TW_L = tuple(10 ** (v / 10.0) for v in TWIST_LOOSE_DB)
_CLEAR = [bool(_LOW_HARMONIC_CLEAR[d // 4, d % 4]) for d in range(16)]
_CLEAR_LUT = np.zeros(32, dtype=bool)
_CLEAR_LUT[:16] = _CLEAR
_ROT_L = [complex(r) for r in _ROT]
_COS_L = [float(t) for t in _COS]
_NO_RUN = -2


def _start_sample(j0: int, a0: float, mx: float) -> int:
    """Tone start from the first window of a run: its centre, moved back by how full the window was.

    A Hann window half filled with tone has its centre on the tone's edge; a full one starts on it.
    The start is reported half a hop after that edge estimate (the middle of the tone's first
    10 ms), so noise on the estimate never puts it before the tone.
    """
    fill = min(a0 / mx, 1.0) if mx > 0 else 1.0
    return j0 * HOP - round((fill - 0.5) * WIN) + HOP // 2


def _screen(w: np.ndarray, en: np.ndarray) -> tuple[np.ndarray, ...]:
    """Screen of W windows per channel, `w` (n, W, 17) or (n, W/2, 2, 17), energies `en` (n, W): bin powers and DC^2
    as rows (9, W n), then the low and high group peaks, band, ratio, weaker tone and 'could start
    a digit' (each (n, W)).

    Channels are rows of `w`: a gather of the few channels that need a decision is a copy of
    whole rows. The bin powers come out of one small product of the squared windows with a 0/1
    matrix (re^2 + im^2 per bin, and DC^2), as rows, so what follows runs along contiguous rows.
    """
    n, nw = en.shape
    q = _SQ9_T @ np.square(w).reshape(nw * n, _NW).T
    lo = np.maximum(np.maximum(q[0], q[1]), np.maximum(q[2], q[3]))
    hi = np.maximum(np.maximum(q[4], q[5]), np.maximum(q[6], q[7]))
    band = lo + hi
    e_ac = np.maximum(en.reshape(nw * n) - q[8] / _SW2, 1e-9)
    ratio = band * _NORM / e_ac
    pmin = np.minimum(lo, hi)
    strictish = (ratio >= RATIO_STRICT) & (pmin >= _P_FLOOR)
    r = (n, nw)
    return (
        q,
        lo.reshape(r),
        hi.reshape(r),
        band.reshape(r),
        ratio.reshape(r),
        pmin.reshape(r),
        strictish.reshape(r),
    )


def _over(p4: np.ndarray, lo: np.ndarray, hi: np.ndarray, share: float) -> np.ndarray:
    """(n, 2, 2, 4) bool, contiguous (its groups are read as uint32): bins above `share` of their
    group's peak, written group by group without stacking the peaks."""
    out = np.empty(p4.shape, dtype=bool)
    np.greater(p4[:, :, 0], (share * lo)[..., None], out=out[:, :, 0])
    np.greater(p4[:, :, 1], (share * hi)[..., None], out=out[:, :, 1])
    return out


class _DtmfBank:
    """The receiver for `channels` lines sharing one time base (vectorised over channels).

    Per frame the common case is a screen: the two new windows' band powers and energy share, a
    dozen array operations over all channels. Only channels where a window could start a digit,
    or a digit is running, go on to the full decision. Run state per channel is a handful of
    arrays (digit, -2: none; confirmed; window of its last hit; first window and amplitude;
    running sum and peak of its window amplitudes); Python runs per channel only when a digit ends.
    """

    def __init__(self, channels: int, rate: int = SAMPLE_RATE) -> None:
        if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if rate != SAMPLE_RATE:
            raise ValueError(f"DTMF receiver runs at {SAMPLE_RATE} Hz; resample {rate} Hz audio first")
        self.channels = channels
        self._framer = Framer(channels, FRAME)
        self._enabled = np.ones(channels, dtype=bool)
        self._all_enabled = True
        self.reset_all()

    # -- state -----------------------------------------------------------------------------
    def reset_all(self) -> None:
        c = self.channels
        self._framer.clear()
        self._clear_spectra()
        self._b = 0  # frames analysed
        self._origin = np.zeros(c, dtype=np.int64)
        # The run state of every channel as one matrix (columns: digit, window of the last hit,
        # first window, its amplitude, sum and peak of the amplitudes), so the channels that need
        # a decision are gathered and written back in one operation each; the names below are
        # views of its columns. Window counts are exact in float64 for millennia of audio.
        self._st = np.zeros((c, 6))
        self._run, self._lh, self._j0, self._a0, self._sum, self._mx = self._st.T
        self._run[:] = _NO_RUN
        self._mx[:] = np.inf
        self._conf = np.zeros(c, dtype=bool)
        self._nrun = 0
        self._neutral_until = -(2**62)  # windows <= this are ignored (fillin)

    def _clear_spectra(self) -> None:
        c = self.channels
        self._w = np.zeros(
            (c, 2, _NW), dtype=np.float32
        )  # the last frame's windows 2b-2, 2b-1 (as seen from frame b)
        self._en = np.zeros((c, 2), dtype=np.float32)
        self._carry = np.zeros((c, _NW), dtype=np.float32)  # first half of window 2b
        self._ecarry = np.zeros(c, dtype=np.float32)
        self._x = np.zeros((c, FRAME), dtype=np.float32)  # the last frame's samples (harmonics)
        self._ss = np.zeros(c, dtype=bool)  # window 2b-1 could start a digit
        self._ss_any = False

    def reset(self, ch: int) -> None:
        self._check_channel(ch)
        self._framer.clear(ch)
        # Copies: these may be views of the last frame's products and samples.
        self._w = self._w.copy()
        self._en = self._en.copy()
        self._carry = self._carry.copy()
        self._ecarry = self._ecarry.copy()
        self._x = self._x.copy()
        self._ss = self._ss.copy()
        self._w[ch] = 0.0
        self._en[ch] = 0.0
        self._carry[ch] = 0.0
        self._ecarry[ch] = 0.0
        self._x[ch] = 0.0
        self._ss[ch] = False
        self._origin[ch] = self._samples_seen()
        if self._run[ch] >= 0:
            self._nrun -= 1
        self._clear_run(ch)

    def set_enabled(self, ch: int, enabled: bool) -> None:
        self._check_channel(ch)
        self._enabled[ch] = bool(enabled)
        self._all_enabled = bool(self._enabled.all())

    def _clear_run(self, ch: object) -> None:
        self._run[ch] = _NO_RUN
        self._conf[ch] = False
        self._sum[ch] = 0.0
        self._mx[ch] = np.inf

    def _check_channel(self, ch: int) -> None:
        if not isinstance(ch, (int, np.integer)) or not 0 <= ch < self.channels:
            raise ValueError(f"channel must be 0..{self.channels - 1}, got {ch!r}")

    def _samples_seen(self) -> int:
        return self._b * FRAME + self._framer.pending

    def current(self, ch: int) -> str | None:
        d = int(self._run[ch])
        return _DIGIT_OF[d] if d >= 0 and self._conf[ch] else None

    # -- processing ------------------------------------------------------------------------
    def feed(self, block: np.ndarray) -> list[tuple[int, DtmfEvent]]:
        """Process a float32 (channels, n) block; return the digits that ended as (channel, event)."""
        out: list[tuple[int, DtmfEvent]] = []
        c = self.channels
        for xs, rows in self._framer.passes(block):
            y = (rows @ _FBASIS).reshape(c, len(xs), -1)
            self.analyse_frames(xs, y, (np.square(rows) @ _EBASIS).reshape(c, len(xs), -1), out)
        return out

    def analyse_frames(
        self, xs: list[np.ndarray], y: np.ndarray, e: np.ndarray, out: list[tuple[int, DtmfEvent]]
    ) -> None:
        """F consecutive frames `xs` (each (C, 160), channels as rows; 1 <= F <= MAX_FRAMES) from
        their products, channels first: `y` (C, F, >= 51) is each frame @ `_FBASIS` (its share of
        windows 2b, 2b+1, 2b+2; extra columns are ignored; window 2b's part is completed in place)
        and `e` (C, F, >= 3) each frame squared @ `_EBASIS`. The frames are kept (not copied) for
        the next call's harmonics.

        Several frames per call give the same events as one at a time: their 2F new windows are
        screened together and decided in one pass over the channels that need it in any of them,
        so the fixed cost of the per-call numpy work is paid once per F frames.
        """
        c, f = self.channels, len(xs)
        carry = self._carry
        for j in range(f):  # window 2b+2j: its first half came with the frame before
            np.add(y[:, j, :_NW], carry, out=y[:, j, :_NW])
            carry = y[:, j, 2 * _NW : 3 * _NW]
        self._carry = carry
        w = y[:, :, : 2 * _NW].reshape(c, f, 2, _NW)  # windows 2b .. 2b+2F-1 (a view)
        en = np.empty((c, f, 2), dtype=np.float32)
        np.add(e[:, 0, 0], self._ecarry, out=en[:, 0, 0])
        np.add(e[:, 1:, 0], e[:, :-1, 2], out=en[:, 1:, 0])
        en[:, :, 1] = e[:, :, 1]
        self._ecarry = e[:, -1, 2]
        self._decide_windows(w, en.reshape(c, 2 * f), tuple(xs), out)

    def _decide_windows(
        self, w: np.ndarray, en: np.ndarray, xs: tuple[np.ndarray, ...], out: list[tuple[int, DtmfEvent]]
    ) -> None:
        """The new windows `w` (C, F, 2, 17) of frames `xs` and their energies `en` (C, W), W = 2F:
        screen them, then decide windows 2b-1 .. 2b+W-2 (each needs the next one's phase) for
        the channels where something can happen."""
        nw = en.shape[1]
        ss = _screen(w, en)[-1]
        if not self._all_enabled:
            ss &= self._enabled[:, None]  # a disabled line starts no digit: skip its decisions
        a0 = bool(ss[:, : nw - 1].any())
        a1 = bool(ss[:, nw - 1].any())
        ss_prev, any_prev = self._ss, self._ss_any
        w_prev, en_prev, x_prev = self._w, self._en, self._x
        self._w, self._en, self._x, self._ss, self._ss_any = (
            w[:, -1],
            en[:, nw - 2 :],
            xs[-1],
            ss[:, nw - 1],
            a1,
        )
        k0 = 2 * self._b - 1  # first window decided now: the last frame's 2b+1
        self._b += len(xs)
        if not self._nrun and not (any_prev or a0):
            return  # no digit running and none can start: nothing else to look at
        keep = ss_prev | ss[:, 0]
        for j in range(1, nw - 1):
            keep |= ss[:, j]
        if self._nrun:
            keep |= self._run >= 0
        idx = np.flatnonzero(keep)
        s = np.concatenate((w_prev[idx], w[idx].reshape(idx.size, nw, _NW)), axis=1)  # windows k0-1 .. k0+W
        en2 = np.empty((idx.size, nw), dtype=np.float32)
        en2[:, 0] = en_prev[idx, 1]
        en2[:, 1:] = en[idx, : nw - 1]
        d, strict, amp = _decide_bank(s, en2, (x_prev, *xs), idx, self._enabled[idx], self._run[idx])
        self._advance(idx, k0, d, strict, amp, out)

    def _advance(
        self, idx: np.ndarray, k0: int, d: np.ndarray, strict: np.ndarray, amp: np.ndarray, out: list
    ) -> None:
        """Windows k0, k0+1 (.. k0+3 for a pair of frames) of the state machine for channels `idx` (the only ones where
        anything can happen: every running digit and every possible start) — the rules of
        `_DtmfLine._step`, on the channels' state gathered into small arrays."""
        st = self._st[idx]  # (n, 6) copy; the names are views of its columns
        run, lh, j0, a0, sm, mx = st.T
        conf = self._conf[idx]
        moved = False
        for j in range(d.shape[1]):
            k = k0 + j
            if k <= self._neutral_until:
                continue
            dj, sj, aj = d[:, j], strict[:, j], amp[:, j]
            cont = dj == run
            has = run >= 0
            ac = aj * cont
            sm += ac
            np.maximum(mx, ac, out=mx)
            np.copyto(lh, k, where=cont)
            if not (~cont & (sj | has)).any():
                continue  # every running digit goes on and none starts: the common case
            moved = True
            miss = has & ~cont
            ended = miss & (k - lh >= MISSES_TO_END)
            give = miss & ~ended & ~conf & sj
            start = sj & (~has | ended | give)
            if ended.any():
                e = np.flatnonzero(ended)
                self._report(idx[e], run[e], conf[e], sm[e], mx[e], j0[e], a0[e], lh[e], out)
            clear = ended | give
            run[clear] = _NO_RUN
            conf[clear] = False
            sm[clear] = 0.0
            mx[clear] = np.inf
            np.copyto(run, dj, where=start)
            np.copyto(sm, aj, where=start)
            np.copyto(mx, aj, where=start)
            np.copyto(a0, aj, where=start)
            np.copyto(j0, k, where=start)
            np.copyto(lh, k, where=start)
            conf[start] = False
        conf |= sm >= CONFIRM_SPAN * mx
        self._st[idx] = st
        self._conf[idx] = conf
        if moved:
            self._nrun = int(np.count_nonzero(self._run >= 0))

    def _report(
        self,
        chs: np.ndarray,
        digit: np.ndarray,
        conf: np.ndarray,
        s: np.ndarray,
        mx: np.ndarray,
        j0: np.ndarray,
        a0: np.ndarray,
        lh: np.ndarray,
        out: list,
    ) -> None:
        """Runs on channels `chs` ended: report those that lasted long enough to be digits.

        The arithmetic of `_start_sample`, on arrays: the ended runs of a frame are reported
        together, so a busy board does not pay Python per digit for it.
        """
        ok = conf | (s >= CONFIRM_SPAN * mx)
        if not ok.all():
            chs, digit, mx, j0, a0, lh = chs[ok], digit[ok], mx[ok], j0[ok], a0[ok], lh[ok]
        if not chs.size:
            return
        fill = np.ones(chs.size)
        np.divide(a0, mx, out=fill, where=mx > 0)  # (no np.errstate: its context costs more)
        np.minimum(fill, 1.0, out=fill)
        origin = self._origin[chs]
        j0 = j0.astype(np.int64)
        start = np.maximum(0, j0 * HOP - np.round((fill - 0.5) * WIN).astype(np.int64) + HOP // 2 - origin)
        end = np.maximum(start, lh.astype(np.int64) * HOP - origin)
        digits = digit.astype(np.int64).tolist()
        for ch, dg, st, en in zip(chs.tolist(), digits, start.tolist(), end.tolist(), strict=True):
            out.append((ch, DtmfEvent(_DIGIT_OF[dg], st, en)))

    def flush(self) -> list[tuple[int, DtmfEvent]]:
        out: list[tuple[int, DtmfEvent]] = []
        chs = np.flatnonzero(self._run >= 0)
        if chs.size:
            run, lh, j0, a0, sm, mx = self._st[chs].T
            self._report(chs, run, self._conf[chs], sm, mx, j0, a0, lh, out)
        self._clear_run(slice(None))
        self._nrun = 0
        return out

    def fillin(self, n: int) -> list[tuple[int, DtmfEvent]]:
        """`n` samples were lost: hold the state across the gap instead of calling it silence."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"fillin needs a sample count >= 0, got {n!r}")
        n = int(n)
        if n == 0:
            return []
        if n > MAX_HELD_GAP:
            out = self.flush()
            total = self._framer.pending + n
            self._b += total // FRAME
            self._framer.pending = total % FRAME
            self._framer.clear(slice(None))
            self._clear_spectra()
            self._neutral_until = 2 * self._b + 1
            return out
        # Windows touching the lost samples, and the one after (its phase reference does), are
        # neutral: no hit, no miss. Misses are counted from the last hit, so move that on.
        start = self._samples_seen()
        last = (start + n + WIN) // HOP + 1
        self._neutral_until = max(self._neutral_until, last)
        np.copyto(self._lh, last, where=self._run >= 0)
        return self.feed(np.zeros((self.channels, n), dtype=np.float32))


_BYTE_POS = np.uint32(0x00010203)  # (v * this) >> 24 is i when v is 1 << 8i, i = 0..3


def _one_each(g32: np.ndarray) -> np.ndarray:
    """(..., 2) uint32, each the four 0/1 bytes of a group's bins -> at most one bin set in both
    groups (v & (v - 1) clears the lowest set bit; each byte holds one bit at most)."""
    one = (g32 & (g32 - np.uint32(1))) == 0
    return one[..., 0] & one[..., 1]


def _both_groups(m: np.ndarray) -> np.ndarray:
    """(n, 2, 8) bool -> (n, 2): some bin set in the low group and in the high group."""
    g = m.view(np.uint32)  # (n, 2, 2): a group's four bools as one integer
    return (g[..., 0] != 0) & (g[..., 1] != 0)


def _decide_bank(
    s: np.ndarray,
    en: np.ndarray,
    frames: tuple[np.ndarray, ...],
    idx: np.ndarray,
    enabled: np.ndarray,
    run: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digit or -1, strict, amplitude) per window, each (n, W): the rules of `_decide` below,
    vectorised over the channels `idx` and the W windows decided (2 per frame).

    `s` (n, W+2, 17): windows k0-1 .. k0+W; `en` (n, W): energies of windows k0 .. k0+W-1;
    `frames`: the last frame's and this call's frames' samples of every channel (windows k0, k0+1,
    ... start 80 samples apart from the first of them); `run`: each channel's running digit.
    The strict test only matters where a window does not continue the running digit (a digit
    starts, or an unconfirmed one gives way), so second harmonics are computed only for those
    channels — a few per frame — and `strict` of a window that continues its digit is left
    without the harmonic test (the state machine does not read it there).
    """
    n, nw = en.shape
    q, lo, hi, band, ratio, pmin, strictish = _screen(s[:, 1 : nw + 1], en)
    p4 = q[:8].T.reshape(n, nw, 2, 4)  # bin powers by window, group, bin
    gt = _over(p4, lo, hi, PEAK_LOOSE)
    # A group's four bins as the bytes of one uint32 (see _one_each): counts and positions in a
    # few integer operations instead of reductions over an axis of four.
    g32 = gt.view(np.uint32)[..., 0]  # (n, 2 windows, 2 groups)
    peak_l = _one_each(g32)
    sel = gt.reshape(n, nw, 8)
    pos = (g32 * _BYTE_POS) >> 24  # index of the set byte when there is one
    digit = (pos[..., 0] * 4 + pos[..., 1]).astype(np.int64)  # row * 4 + column
    tw = hi / np.maximum(lo, 1e-30)
    # Phase advance of each bin from window to window: back (k-1 -> k) and forward (k -> k+1).
    z = np.empty((n, nw + 2, 8), dtype=np.complex64)
    z.real = s[:, :, 0:8]
    z.imag = s[:, :, 8:16]
    adv = z[:, 1:] * z[:, :-1].conj()
    adv *= _ROT
    okb = adv.real >= _COS * np.abs(adv)  # (n, W+1, 8): window j's back is j, its forward j+1
    f_loose = _both_groups((okb[:, :nw] | okb[:, 1:]) & sel)
    loose = (ratio >= RATIO_LOOSE) & (pmin >= _P_LOOSE) & peak_l & f_loose
    loose &= (tw >= _TW_L[0]) & (tw <= _TW_L[1])
    loose &= enabled[:, None]
    strict = loose & strictish & (tw >= _TW_S[0]) & (tw <= _TW_S[1])
    if strict.any():
        peak_s = _one_each(_over(p4, lo, hi, PEAK_STRICT).view(np.uint32)[..., 0])
        strict &= peak_s & _both_groups(okb[:, :nw] & sel)
        dd = np.where(loose, digit, -1)
        # Rows where the strict test may be read: some window is strict and some window does not
        # continue the digit running now (a run can only change at such a window, and a later
        # strict window may then start one). A superset is harmless: where it is not read,
        # strict may carry the harmonic test or not.
        rows = np.flatnonzero(strict.any(axis=1) & (dd != run[:, None]).any(axis=1))
        if rows.size:
            ch = idx[rows]
            raw = np.concatenate([x[ch] for x in frames], axis=1)  # (m, 160 (F+1)): frames b-1 ..
            halves = raw.reshape(rows.size, -1, HOP)  # window j of a row is its halves j and j+1
            wins = np.concatenate((halves[:, :nw], halves[:, 1 : nw + 1]), axis=2)
            harm = (wins.reshape(rows.size * nw, WIN) @ _HBASIS).astype(np.float64).reshape(rows.size, nw, 16)
            hp = (np.square(harm[:, :, 0:8]) + np.square(harm[:, :, 8:16])) * sel[rows]
            h = hp.reshape(rows.size, nw, 2, 4).sum(axis=3)
            dr = digit[rows]
            h_ok = (h[..., 1] <= HARMONIC_MAX * hi[rows]) & (
                (h[..., 0] <= HARMONIC_MAX * lo[rows]) | ~_CLEAR_LUT[dr & 31]
            )
            strict[rows] &= h_ok
        return dd, strict, np.sqrt(band)
    return np.where(loose, digit, -1), strict, np.sqrt(band)


class _DtmfLine:
    """The same receiver for one line in plain Python floats: numpy call overhead dominates there.

    Every rule and every floating-point operation is the one `_DtmfBank` applies, in the same order,
    so one line gives the events the bank gives for it (tests/dsp/test_dtmf.py checks). Per frame:
    two small products, then Python on lists; a quiet frame stops after the screen.
    """

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        if rate != SAMPLE_RATE:
            raise ValueError(f"DTMF receiver runs at {SAMPLE_RATE} Hz; resample {rate} Hz audio first")
        self._framer = Framer(1, FRAME)
        self.reset_all()

    def reset_all(self) -> None:
        self._framer.clear()
        self._clear_spectra()
        self._b = 0
        self._run = _NO_RUN
        self._conf = False
        self._lh = 0
        self._j0 = 0
        self._a0 = 0.0
        self._sum = 0.0
        self._mx = math.inf
        self._neutral_until = -(2**62)

    def _clear_spectra(self) -> None:
        # Two sample buffers used in turn: [last 80 samples of the frame before | the frame], so
        # both windows a frame completes come out of one product with no carries to add.
        self._bufs = (np.zeros(WIN + HOP, dtype=np.float32), np.zeros(WIN + HOP, dtype=np.float32))
        self._cur = 0
        self._wl: list[float] | None = [0.0] * (2 * _NW)  # the last frame's windows (as floats)
        self._wa: np.ndarray | None = np.zeros(2 * _NW, dtype=np.float32)  # the same, as computed
        self._m: tuple | None = _ZERO_M  # screen of the last frame's window 2b+1
        self._en1 = 0.0  # energy of the last frame's window 2b+1

    def _samples_seen(self) -> int:
        return self._b * FRAME + self._framer.pending

    def current(self) -> str | None:
        return _DIGIT_OF[self._run] if self._run >= 0 and self._conf else None

    def feed(self, block: np.ndarray) -> list[DtmfEvent]:
        out: list[DtmfEvent] = []
        for x in self._framer.frames(block):
            self.analyse(x[0], out)
        return out

    def analyse(self, x: np.ndarray, out: list[DtmfEvent]) -> None:
        """One frame (160 samples, any real dtype on the int16 scale).

        A window whose energy is below `_EN_MIN` cannot hold two tones at the level floor, so
        when no digit runs and neither window decided now can start one, the frame stops after
        the energy product; its spectra are computed later only if the next frame needs them.
        """
        prev = self._bufs[self._cur]
        self._cur ^= 1
        buf = self._bufs[self._cur]
        buf[:HOP] = prev[FRAME:]
        buf[HOP:] = x
        en0, en1 = np.dot(buf * buf, _E240).tolist()
        k0 = 2 * self._b - 1
        self._b += 1
        m_prev = self._m
        if self._run < 0 and en0 < _EN_MIN:
            if (self._en1 < _EN_MIN) if m_prev is None else not m_prev[4]:
                self._wa, self._wl, self._m, self._en1 = None, None, None, en1
                return
        w_prev = self._wa
        if w_prev is None:  # the last frame stopped early: its windows now
            w_prev = np.dot(prev, _B240)
            m_prev = _measure(np.dot(w_prev * w_prev, _SQSUM).tolist()[9:18], self._en1)
        w = np.dot(buf, _B240)  # windows 2b, 2b+1: re(8), im(8), DC each
        q = np.dot(w * w, _SQSUM).tolist()  # bin powers and DC^2 of both windows
        m0 = _measure(q[0:9], en0)
        m1 = _measure(q[9:18], en1)
        wl_prev = self._wl
        self._m, self._wa, self._wl, self._en1 = m1, w, None, en1
        if self._run < 0 and not (m_prev[4] or m0[4]):
            return
        if wl_prev is None:
            wl_prev = w_prev.tolist()
        self._wl = wl = w.tolist()
        wins = (wl_prev[:_NW], wl_prev[_NW:], wl[:_NW], wl[_NW:])
        ms = (m_prev, m0)
        for j in (0, 1):
            k = k0 + j
            if k > self._neutral_until:
                d, strict, amp = _decide(wins[j], wins[j + 1], wins[j + 2], ms[j], prev, buf, j)
                self._step(k, d, strict, amp, out)
        if self._run >= 0 and self._sum >= CONFIRM_SPAN * self._mx:
            self._conf = True

    def _step(self, k: int, d: int, strict: bool, amp: float, out: list[DtmfEvent]) -> None:
        """One window: a hit of the running digit extends it; misses end it; a strict hit starts one."""
        if self._run >= 0:
            if d == self._run:
                self._sum += amp
                if amp > self._mx:
                    self._mx = amp
                self._lh = k
                return
            if k - self._lh >= MISSES_TO_END:
                self._finish(out)
                self._run = _NO_RUN
            elif not self._conf and strict:
                self._run = _NO_RUN  # an unconfirmed run gives way to a different strict digit
            else:
                return
            self._conf = False
            self._sum = 0.0
            self._mx = math.inf
        if strict:
            self._run = d
            self._sum = self._mx = self._a0 = amp
            self._j0 = self._lh = k
            self._conf = False

    def _finish(self, out: list[DtmfEvent]) -> None:
        if self._conf or self._sum >= CONFIRM_SPAN * self._mx:
            start = max(0, _start_sample(self._j0, self._a0, self._mx))
            out.append(DtmfEvent(_DIGIT_OF[self._run], start, max(start, self._lh * HOP)))

    def flush(self) -> list[DtmfEvent]:
        out: list[DtmfEvent] = []
        if self._run >= 0:
            self._finish(out)
        self._run = _NO_RUN
        self._conf = False
        self._sum = 0.0
        self._mx = math.inf
        return out

    def fillin(self, n: int) -> list[DtmfEvent]:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"fillin needs a sample count >= 0, got {n!r}")
        n = int(n)
        if n == 0:
            return []
        if n > MAX_HELD_GAP:
            out = self.flush()
            total = self._framer.pending + n
            self._b += total // FRAME
            self._framer.pending = total % FRAME
            self._framer.clear(0)
            self._clear_spectra()
            self._neutral_until = 2 * self._b + 1
            return out
        start = self._samples_seen()
        last = (start + n + WIN) // HOP + 1
        self._neutral_until = max(self._neutral_until, last)
        if self._run >= 0:
            self._lh = last
        return self.feed(np.zeros((1, n), dtype=np.float32))


def _measure(q: list[float], en: float) -> tuple[list[float], float, float, float, bool]:
    """Bin powers, band, ratio and weaker tone of one window from its bin powers and DC^2 (`q`, 9
    floats) and energy; last item: could it start a digit?"""
    p_lo = max(q[0:4])
    p_hi = max(q[4:8])
    band = p_lo + p_hi
    e_ac = max(en - q[8] / _SW2, 1e-9)
    ratio = band * _NORM / e_ac
    pmin = p_lo if p_lo < p_hi else p_hi
    return q, band, ratio, pmin, ratio >= RATIO_STRICT and pmin >= _P_FLOOR


_ZERO_M = _measure([0.0] * 9, 0.0)


def _phase_ok(cur: list[float], prev: list[float], i: int) -> bool:
    z = complex(cur[i], cur[i + 8]) * complex(prev[i], -prev[i + 8]) * _ROT_L[i]
    return z.real >= _COS_L[i] * abs(z)


def _decide(
    prev: list[float],
    win: list[float],
    nxt: list[float],
    m: tuple[list[float], float, float, float, bool],
    buf_prev: np.ndarray,
    buf: np.ndarray,
    which: int,
) -> tuple[int, bool, float]:
    """(digit or -1, strict, amplitude) of one window: the per-window rules of the module docstring.

    `which` 0 is window 2b-1 (the previous frame, `buf_prev[80:]`), 1 is window 2b (`buf[:160]`);
    their samples give the second harmonics when the strict test needs them.
    """
    p, band, ratio, pmin, strictish = m
    if ratio < RATIO_LOOSE or pmin < _P_LOOSE:
        return -1, False, 0.0
    p_lo = max(p[0:4])
    p_hi = max(p[4:8])
    tl, th = PEAK_LOOSE * p_lo, PEAK_LOOSE * p_hi
    over_lo = [i for i in range(4) if p[i] > tl]
    over_hi = [i for i in range(4, 8) if p[i] > th]
    if len(over_lo) > 1 or len(over_hi) > 1:
        return -1, False, 0.0
    il, ih = over_lo[0], over_hi[0]
    tw = p_hi / max(p_lo, 1e-30)
    if not _TW_L[0] <= tw <= _TW_L[1]:
        return -1, False, 0.0
    back_lo, back_hi = _phase_ok(win, prev, il), _phase_ok(win, prev, ih)
    if not ((back_lo or _phase_ok(nxt, win, il)) and (back_hi or _phase_ok(nxt, win, ih))):
        return -1, False, 0.0
    d = il * 4 + ih - 4
    amp = math.sqrt(band)
    if not (strictish and back_lo and back_hi and _TW_S[0] <= tw <= _TW_S[1]):
        return d, False, amp
    sl, sh = PEAK_STRICT * p_lo, PEAK_STRICT * p_hi
    if sum(1 for i in range(4) if p[i] > sl) > 1 or sum(1 for i in range(4, 8) if p[i] > sh) > 1:
        return d, False, amp
    h = np.dot(buf_prev[HOP:] if which == 0 else buf[:WIN], _HBASIS).tolist()
    h_lo = h[il] * h[il] + h[il + 8] * h[il + 8]
    h_hi = h[ih] * h[ih] + h[ih + 8] * h[ih + 8]
    h_ok = h_hi <= HARMONIC_MAX * p_hi and (h_lo <= HARMONIC_MAX * p_lo or not _CLEAR[d])
    return d, h_ok, amp


def _per_channel(events: list[tuple[int, DtmfEvent]], channels: int) -> list[list[DtmfEvent]]:
    out: list[list[DtmfEvent]] = [[] for _ in range(channels)]
    for ch, ev in events:
        out[ch].append(ev)
    return out


class DtmfDetector:
    """Streaming DTMF receiver for one line: feed blocks of any length; state carries over."""

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self._line = _DtmfLine(rate)

    def process(self, block: np.ndarray) -> list[DtmfEvent]:
        """Feed samples (1-D int16, or float on the int16 scale); return digits that ended."""
        line = self._line
        if type(block) is np.ndarray and block.dtype == np.int16 and block.shape == (FRAME,):
            if not line._framer.pending:  # one aligned 20 ms frame: the usual case, no copies
                out: list[DtmfEvent] = []
                line.analyse(block, out)
                return out
        x = as_samples(block, 1)
        return line.feed(x[None, :])

    def fillin(self, n: int) -> list[DtmfEvent]:
        """`n` samples were lost (packet loss): a digit sounding across the gap stays one digit.

        Gaps longer than 100 ms end a digit in progress (it is reported) — beyond that nobody can
        say the tone went on.
        """
        return self._line.fillin(n)

    def flush(self) -> list[DtmfEvent]:
        """End of stream: report the digit in progress if it was long enough to be one."""
        return self._line.flush()

    @property
    def current(self) -> str | None:
        """The digit sounding now (already long enough to count), for barge-in; else None."""
        return self._line.current()

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self._line.reset_all()


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
        self._bank.set_enabled(channel, enabled)
