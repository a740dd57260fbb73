"""Call-progress tones (dial, busy, ringback, congestion…), fax CNG/CED, silence and voice activity.

Plans: the cadences of a country are data (`TonePlan`), built in for China (`cn`, 450 Hz) and the
US (`us`), or read from `ccd.toml` with `plan_from_dict`. Both generating (for the simulator) and
detecting use the same plan.

How the detector decides, and why:

* Every 20 ms frame, a 40 ms Hann window is measured at each frequency the plan uses (plus the fax
  tones), one matrix product for all channels. A frequency set (e.g. 450 Hz, or 480+620 Hz) is
  *on* in a frame when each of its frequencies is above the level floor, holds its frequency
  (phase advance between frames within ±2 % / 20 Hz — speech pitch glides, tones do not), and the
  set carries at least half the frame's energy. The phase test is what keeps vowels off busy tone,
  and the energy share test still passes with white noise 10 dB below the tone.
* On/off is debounced over two frames, and the lengths of the on and off segments are matched
  against each tone's cadence (±25 %, at least ±60 ms). A cadenced tone is recognised when one full
  cycle plus the start of the next match (busy: on, off, and 80 % of the next on — about 1 s for
  China's 0.35/0.35 s busy, within two cadence cycles even when joining mid-tone). Continuous tones
  need `min_duration` seconds (dial: 2 s, longer than China's 1 s ringback).
* Recognition gives `ToneEvent(tone, start, None)`; when the tone stops or breaks cadence, a second
  event with the same `start` and the `end` sample follows. "voice" and "silence" work the same
  way: voice after 60 ms of frames well above the tracked noise floor (and not a plan tone), ending
  after 0.5 s of hangover; silence after `silence_seconds` with neither voice nor tone.

Sample indices count from detector creation or reset. Input as in `ccd.dsp.dtmf`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from ccd.dsp.goertzel import Framer, as_samples, dft_basis, hann
from ccd.dsp.levels import SAMPLE_RATE, dbm0_to_peak, dbm0_to_rms

log = logging.getLogger(__name__)

FRAME = 160  # analysis hop: 20 ms
WIN = 320  # analysis window: 40 ms (25 Hz bins: 440 and 480 Hz stay apart)
TONE_FLOOR_DBM0 = -42.0  # per frequency
SHARE_ON = 0.5  # share of frame energy in the tone's frequencies
FREQ_TOL = 0.02
FREQ_TOL_MIN_HZ = 8.0
FREQ_TOL_MAX_HZ = 20.0  # the 160-sample hop measures +-25 Hz unambiguously
DEBOUNCE = 2  # frames a new on/off state must last
CADENCE_TOL = 0.25
CADENCE_TOL_MIN_S = 0.06
VOICE_ABS_DBM0 = -50.0
VOICE_OVER_FLOOR_DB = 9.0
VOICE_START_FRAMES = 3
VOICE_HANGOVER_FRAMES = 25
FLOOR_RISE_DB_PER_S = 5.0
_FAR = 2**62
_FPS = SAMPLE_RATE / FRAME
_HISTORY = 12  # completed segments kept per frequency set (the longest built-in cadence has 8)


@dataclass(frozen=True)
class ToneSpec:
    """One tone of a plan: frequencies (Hz) and cadence (seconds on, off, on, off…; () = continuous).

    `min_duration`: for a continuous tone, seconds of steady tone before it is reported.
    `match_segments`: for a cadenced tone, how many consecutive on/off segments must match before it
    is reported (0 = one whole cycle plus the start of the next).
    """

    name: str
    freqs: tuple[float, ...]
    cadence: tuple[float, ...] = ()
    min_duration: float = 2.0
    match_segments: int = 0

    @property
    def segments_needed(self) -> int:
        return self.match_segments or len(self.cadence) + 1


@dataclass(frozen=True)
class TonePlan:
    """A country's (or a PBX's) set of call-progress tones, by name."""

    name: str
    tones: dict[str, ToneSpec] = field(default_factory=dict)


FAX_TONES = {
    "fax_cng": ToneSpec("fax_cng", (1100.0,), (0.5, 3.0), match_segments=2),
    "fax_ced": ToneSpec("fax_ced", (2100.0,), (), min_duration=0.5),
}


def _plan(name: str, tones: list[ToneSpec]) -> TonePlan:
    return TonePlan(name, {t.name: t for t in tones})


BUILTIN_PLANS: dict[str, TonePlan] = {
    "cn": _plan(
        "cn",
        [
            ToneSpec("dial", (450.0,), ()),
            ToneSpec("busy", (450.0,), (0.35, 0.35)),
            ToneSpec("ringback", (450.0,), (1.0, 4.0)),
            ToneSpec("congestion", (450.0,), (0.7, 0.7)),
            ToneSpec("vacant", (450.0,), (0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.4, 0.4)),
            ToneSpec("call_waiting", (450.0,), (0.4, 4.0)),
        ],
    ),
    "us": _plan(
        "us",
        [
            ToneSpec("dial", (350.0, 440.0), ()),
            ToneSpec("busy", (480.0, 620.0), (0.5, 0.5)),
            ToneSpec("ringback", (440.0, 480.0), (2.0, 4.0)),
            ToneSpec("reorder", (480.0, 620.0), (0.25, 0.25)),
        ],
    ),
}

_SPEC_KEYS = {"freqs", "cadence", "min_duration", "match_segments"}


def plan_from_dict(name: str, d: dict) -> TonePlan:
    """Build a plan from configuration, e.g. `{"busy": {"freqs": [425], "cadence": [0.5, 0.5]}}`.

    Raises ValueError naming the tone and field at fault, so `ccd config validate` can show it.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("tone plan name must be a non-empty string")
    if not isinstance(d, dict) or not d:
        raise ValueError(f"tone plan {name!r}: expected a table of tones, e.g. busy = {{freqs = [425]}}")
    tones: list[ToneSpec] = []
    for tname, spec in d.items():
        where = f"tone plan {name!r}, tone {tname!r}"
        if not isinstance(tname, str) or not tname:
            raise ValueError(f"tone plan {name!r}: tone names must be non-empty strings")
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected a table with freqs and cadence")
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} (expected {sorted(_SPEC_KEYS)})")
        freqs = spec.get("freqs")
        if not isinstance(freqs, (list, tuple)) or not freqs or len(freqs) > 3:
            raise ValueError(f"{where}: freqs must be a list of 1 to 3 frequencies in Hz")
        for f in freqs:
            if not _is_number(f) or not 100.0 <= float(f) <= 3800.0:
                raise ValueError(f"{where}: frequency {f!r} must be a number from 100 to 3800 Hz")
        cadence = spec.get("cadence", [])
        if not isinstance(cadence, (list, tuple)):
            raise ValueError(f"{where}: cadence must be a list of seconds on, off, on, off…")
        if len(cadence) % 2:
            raise ValueError(f"{where}: cadence needs on/off pairs, got {len(cadence)} values")
        for c in cadence:
            if not _is_number(c) or not 0.04 <= float(c) <= 30.0:
                raise ValueError(f"{where}: cadence value {c!r} must be seconds from 0.04 to 30")
        min_duration = spec.get("min_duration", 2.0)
        if not _is_number(min_duration) or not 0.1 <= float(min_duration) <= 60.0:
            raise ValueError(f"{where}: min_duration must be seconds from 0.1 to 60")
        match_segments = spec.get("match_segments", 0)
        if not isinstance(match_segments, int) or isinstance(match_segments, bool) or match_segments < 0:
            raise ValueError(f"{where}: match_segments must be a whole number >= 0")
        tones.append(
            ToneSpec(
                tname,
                tuple(float(f) for f in freqs),
                tuple(float(c) for c in cadence),
                float(min_duration),
                match_segments,
            )
        )
    return _plan(name, tones)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def get_plan(name: str) -> TonePlan:
    """A built-in plan by name ("cn", "us")."""
    try:
        return BUILTIN_PLANS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown tone plan {name!r} (built in: {', '.join(sorted(BUILTIN_PLANS))})"
        ) from None


def _spec(plan: TonePlan, tone: str) -> ToneSpec:
    if not isinstance(plan, TonePlan):
        raise ValueError(f"expected a TonePlan, got {type(plan).__name__}")
    spec = plan.tones.get(tone) or FAX_TONES.get(tone)
    if spec is None:
        names = ", ".join(sorted(set(plan.tones) | set(FAX_TONES)))
        raise ValueError(f"plan {plan.name!r} has no tone {tone!r} (has: {names})")
    return spec


class ToneGenerator:
    """Streaming source of a cadenced tone for the simulator: `read(n)` gives the next n samples.

    Phase-continuous across reads and cadence breaks (the oscillators keep running while silent),
    like an exchange's tone generator.
    """

    def __init__(self, plan: TonePlan, tone: str, level_dbm0: float = -13.0, rate: int = SAMPLE_RATE) -> None:
        self.spec = _spec(plan, tone)
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._amp = dbm0_to_peak(level_dbm0)  # per frequency
        self._pos = 0
        self._period = round(sum(self.spec.cadence) * rate)
        edges = np.cumsum([0, *(round(c * rate) for c in self.spec.cadence)])
        self._on_ranges = [(int(edges[i]), int(edges[i + 1])) for i in range(0, len(edges) - 1, 2)]

    def read(self, n: int) -> np.ndarray:
        """The next `n` samples (int16)."""
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"read needs a sample count >= 0, got {n!r}")
        k = np.arange(self._pos, self._pos + n, dtype=np.int64)
        self._pos += n
        x = np.zeros(n)
        for f in self.spec.freqs:
            # Reduce the phase index modulo the sample count of a whole number of cycles when possible.
            x += np.sin(2 * np.pi * f * (k % (self.rate * 100)) / self.rate)
        x *= self._amp
        if self._period:
            ph = k % self._period
            on = np.zeros(n, dtype=bool)
            for a, b in self._on_ranges:
                on |= (ph >= a) & (ph < b)
            x[~on] = 0.0
        return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def tone_generate(
    plan: TonePlan, tone: str, seconds: float, level_dbm0: float = -13.0, rate: int = SAMPLE_RATE
) -> np.ndarray:
    """`seconds` of `tone` from `plan` with its cadence, each frequency at `level_dbm0` (int16)."""
    if not _is_number(seconds) or seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds!r}")
    return ToneGenerator(plan, tone, level_dbm0, rate).read(round(seconds * rate))


@dataclass(frozen=True, slots=True)
class ToneEvent:
    """A tone (plan name, "fax_cng", "fax_ced", "voice" or "silence") recognised (end None) or ended."""

    tone: str
    start: int
    end: int | None


class _Group:
    """Cadence tracking for one frequency set on one channel (runs only at transitions/deadlines)."""

    __slots__ = ("born", "durs", "history", "rec", "rec_start", "seg_start", "state")

    def __init__(self, frame: int) -> None:
        self.born = frame  # a segment starting here began before we listened: its length is unknown
        self.state = False
        self.seg_start = frame
        self.history: list[tuple[bool, int, int]] = []  # completed (on, start, end) frames
        self.durs: list[float] = []  # their lengths in seconds (cadence checks read them often)
        self.rec: ToneSpec | None = None
        self.rec_start = 0

    def flip(self, t: int) -> None:
        """The set turned on or off at frame `t`: close the current segment, start the next."""
        self.history.append((self.state, self.seg_start, t))
        self.durs.append((t - self.seg_start) / _FPS)
        if len(self.history) > _HISTORY:
            del self.history[0], self.durs[0]
        self.state = not self.state
        self.seg_start = t


class _ToneBank:
    """The detector for many channels sharing one time base; engine of both public classes."""

    def __init__(self, plan: TonePlan, channels: int, rate: int, silence_seconds: float) -> None:
        if not isinstance(plan, TonePlan):
            raise ValueError(f"expected a TonePlan, got {type(plan).__name__}")
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if rate != SAMPLE_RATE:
            raise ValueError(f"tone detector runs at {SAMPLE_RATE} Hz; resample {rate} Hz audio first")
        if not _is_number(silence_seconds) or silence_seconds <= 0:
            raise ValueError("silence_seconds must be > 0")
        self.plan = plan
        self.channels = channels
        specs = {**FAX_TONES, **plan.tones}
        self._sets: list[tuple[float, ...]] = sorted({tuple(sorted(s.freqs)) for s in specs.values()})
        self._specs_of = [[s for s in specs.values() if tuple(sorted(s.freqs)) == fs] for fs in self._sets]
        self.freqs = sorted({f for fs in self._sets for f in fs})
        nf = len(self.freqs)
        self._nf = nf
        w = hann(WIN)
        piece = dft_basis(tuple(self.freqs), w, rate)
        # One product per 20 ms frame: the second half of this frame's window and the first half
        # of the next one's (added to it next frame), for every plan frequency and DC.
        self.basis_t = np.ascontiguousarray(np.concatenate([piece[FRAME:], piece[:FRAME]], axis=1).T)
        self.basis_t = self.basis_t.astype(np.float32)
        w2 = (w * w)[:, None]
        self.ebasis_t = np.ascontiguousarray(np.concatenate([w2[FRAME:], w2[:FRAME]], axis=1).T)
        self.ebasis_t = self.ebasis_t.astype(np.float32)
        self._basis = self.basis_t.T
        self._ebasis = self.ebasis_t.T
        self._basis_c = np.ascontiguousarray(self._basis)
        self._ebasis_c = np.ascontiguousarray(self._ebasis)
        self._k = 2 * nf + 1
        sw, sw2 = float(w.sum()), float((w * w).sum())
        self._sw2 = sw2
        self._ratio_norm = 2.0 * sw2 / (sw * sw)
        self._p_floor = (dbm0_to_peak(TONE_FLOOR_DBM0) * sw / 2.0) ** 2
        f = np.asarray(self.freqs)
        self._rot = np.exp(-2j * np.pi * f * FRAME / rate)
        self._hz_per_rad = rate / (2.0 * np.pi * FRAME)
        self._tol = np.clip(FREQ_TOL * f, FREQ_TOL_MIN_HZ, FREQ_TOL_MAX_HZ)
        self._tol_rad = (self._tol / self._hz_per_rad)[:, None]  # phase error allowed per frame
        # |phase error| <= tol is re >= cos(tol) |z| for the advance z: a hypot, no arctangent.
        self._cos = np.cos(self._tol_rad[:, 0])
        self._rot_c = self._rot[:, None]
        self._cos_c = self._cos[:, None]
        self._rot_l = [complex(r) for r in self._rot]
        self._cos_l = [float(t) for t in self._cos]
        member = np.zeros((nf, len(self._sets)), dtype=np.float64)
        for g, fs in enumerate(self._sets):
            for fr in fs:
                member[self.freqs.index(fr), g] = 1.0
        self._member_t = np.ascontiguousarray(member.T)
        self._set_size_c = member.sum(axis=0)[:, None]
        self._set_idx = [[self.freqs.index(fr) for fr in fs] for fs in self._sets]
        # Cadence bounds per tone, computed once: the cadence checks run for every transition on
        # every channel, and recomputing tolerances there was a good part of their cost.
        fps = rate / FRAME
        self._cad: dict[str, _Cadence] = {sp.name: _Cadence(sp, fps) for sp in specs.values()}
        # Per frequency set, what recognising each of its tones needs, looked up once here rather
        # than on every transition: (spec, cadence bounds or None, segments, continuous frames).
        self._trials = [
            [
                (
                    sp,
                    self._cad[sp.name].bounds if sp.cadence else None,
                    sp.segments_needed,
                    round(sp.min_duration * fps),
                )
                for sp in sps
            ]
            for sps in self._specs_of
        ]
        # Mean square (int16^2) thresholds for voice activity.
        self._voice_abs = dbm0_to_rms(VOICE_ABS_DBM0) ** 2
        self._voice_over = 10 ** (VOICE_OVER_FLOOR_DB / 10)
        self._rise = 10 ** (FLOOR_RISE_DB_PER_S * FRAME / rate / 10)
        self._silence_frames = max(1, round(silence_seconds * rate / FRAME))
        self._enabled = np.ones(channels, dtype=bool)
        self._framer = Framer(channels, FRAME)
        self.reset_all()

    def reset_all(self) -> None:
        c, g = self.channels, len(self._sets)
        self._framer.clear()
        self._carry = np.zeros((self._k, c))  # first half of the next frame's window
        self._ecarry = np.zeros(c)
        self._prev = np.zeros((self._nf, c), dtype=np.complex128)
        self._i = 0  # global index of the next frame
        self._origin = np.zeros(c, dtype=np.int64)
        self._state = np.zeros((g, c), dtype=bool)
        self._state_any = np.zeros(c, dtype=bool)  # state.any(axis=1), kept up to date at flips
        self._pend = np.zeros((g, c), dtype=np.int32)
        self._pending_flips = False  # some _pend is non-zero
        self._deadline = np.full((g, c), _FAR, dtype=np.int64)
        self._next_deadline = _FAR  # self._deadline.min()
        self._groups = [[_Group(0) for _ in range(g)] for _ in range(c)]
        self._floor = np.full(c, np.inf)
        # The last three voice/non-voice frames as bits (7 = three voice frames in a row): one
        # integer op per frame instead of run counters.
        self._vbits = np.zeros(c, dtype=np.int8)
        self._voice = np.zeros(c, dtype=bool)
        self._vstart = np.zeros(c, dtype=np.int64)
        self._vlast = np.zeros(c, dtype=np.int64)
        self._qstart = np.zeros(c, dtype=np.int64)  # first frame of the current quiet stretch
        self._sstart = np.zeros(c, dtype=np.int64)
        self._silent = np.zeros(c, dtype=bool)
        self._tone_on = np.zeros(c, dtype=bool)  # a recognised tone is running

    def reset(self, ch: int) -> None:
        self._check_channel(ch)
        self._framer.clear(ch)
        self._carry = self._carry.copy()  # may be a view of the last frame's product
        self._ecarry = self._ecarry.copy()
        self._carry[:, ch] = 0.0
        self._ecarry[ch] = 0.0
        self._prev[:, ch] = 0.0
        self._origin[ch] = self._i * FRAME + self._framer.pending
        self._state[:, ch] = False
        self._state_any[ch] = False
        self._pend[:, ch] = 0
        self._deadline[:, ch] = _FAR
        self._groups[ch] = [_Group(self._i) for _ in self._sets]
        self._floor[ch] = np.inf
        self._vbits[ch] = 0
        self._voice[ch] = self._silent[ch] = self._tone_on[ch] = False
        self._qstart[ch] = self._i

    def _check_channel(self, ch: int) -> None:
        if not isinstance(ch, (int, np.integer)) or not 0 <= ch < self.channels:
            raise ValueError(f"channel must be 0..{self.channels - 1}, got {ch!r}")

    # -- processing ------------------------------------------------------------------------
    def feed(self, block: np.ndarray) -> list[tuple[int, ToneEvent]]:
        """Process a float32 (channels, n) block; return events as (channel, event) in time order."""
        out: list[tuple[int, ToneEvent]] = []
        c = self.channels
        for xs, rows in self._framer.passes(block):
            y = (rows @ self._basis_c).reshape(c, len(xs), -1)
            self.analyse_frames(y, (np.square(rows) @ self._ebasis_c).reshape(c, len(xs), -1), out)
        return out

    def analyse_frames(self, y: np.ndarray, e: np.ndarray, out: list[tuple[int, ToneEvent]]) -> None:
        """F consecutive frames from their products with `basis_t.T` (y: (C, F, 2K)) and
        `ebasis_t.T` (e: (C, F, >= 2)), channels first; the same events for any F.

        The detector's arrays are few frequencies by many channels, so they are worked on as
        (frequency, frame, channel) rows: one transposing copy here (which also widens to float64,
        as the sums below need) makes every later operation run along contiguous rows. The
        spectral tests of all F frames are one set of array operations, so their fixed cost is
        paid once per call; the debounce and cadence steps then run frame by frame.
        """
        k, nf, c = self._k, self._nf, self.channels
        f = y.shape[1]
        yt = np.array(y.transpose(2, 1, 0), dtype=np.float64, order="C")  # (2K, F, C)
        cur = np.empty((k, f, c))
        np.add(yt[:k, 0], self._carry, out=cur[:, 0])  # window i: last frame's share + this one's
        np.add(yt[:k, 1:], yt[k:, :-1], out=cur[:, 1:])
        self._carry = yt[k:, -1]
        en = np.empty((f, c))
        np.add(e[:, 0, 0], self._ecarry, out=en[0], dtype=np.float64)
        np.add(e[:, 1:, 0].T, e[:, :-1, 1].T, out=en[1:], dtype=np.float64)
        self._ecarry = e[:, -1, 1]
        sq = cur * cur
        p = sq[:nf] + sq[nf : 2 * nf]
        e_ac = np.maximum(en - sq[2 * nf] / self._sw2, 1e-9)
        zz = np.empty((nf, f + 1, c), dtype=np.complex128)  # the last frame's bins, then these
        zz[:, 0] = self._prev
        zz[:, 1:].real = cur[:nf]
        zz[:, 1:].imag = cur[nf : 2 * nf]
        self._prev = zz[:, f]
        loud = p >= self._p_floor
        if loud.any():
            adv = zz[:, 1:] * zz[:, :-1].conj()
            adv *= self._rot_c[:, :, None]
            ok = loud & (adv.real >= self._cos_c[:, :, None] * np.abs(adv))
            nok = self._member_t @ ok.reshape(nf, f * c).astype(np.float64)
            share = (self._member_t @ p.reshape(nf, f * c)) * self._ratio_norm / e_ac.reshape(f * c)
            raw = ((nok >= self._set_size_c) & (share >= SHARE_ON)).reshape(-1, f, c) & self._enabled
        else:  # no tone anywhere near the level floor (a quiet office): nothing to test
            raw = np.zeros((len(self._sets), f, c), dtype=bool)
        power = e_ac / self._sw2
        for j in range(f):
            self._frame(raw[:, j], power[j], out)

    def _frame(self, raw: np.ndarray, power: np.ndarray, out: list[tuple[int, ToneEvent]]) -> None:
        i = self._i
        self._i += 1
        # Debounced on/off per frequency set. Most frames nothing differs from the current state
        # and no cadence deadline falls due: then this is two cheap checks.
        diff = raw != self._state
        if diff.any():
            self._pend = np.where(diff, self._pend + 1, 0)
            self._pending_flips = True
            flip = self._pend >= DEBOUNCE
            any_flip = flip.any()
        else:
            if self._pending_flips:
                self._pend[:] = 0
                self._pending_flips = False
            any_flip = False
        if any_flip or self._next_deadline <= i:
            # Flips are applied to the arrays in one go; only the cadence bookkeeping is per item,
            # on plain Python ints (numpy scalar indexing costs more than the work itself).
            sel = (flip | (self._deadline <= i)) if any_flip else (self._deadline <= i)
            gs, chs = np.nonzero(sel)  # set by set; each channel's sets in order, as the line's
            if any_flip:
                fl = flip[gs, chs].tolist()
                self._state ^= flip
                self._pend[flip] = 0
                self._state_any = _any_set(self._state)
            else:
                fl = [False] * chs.size
            t = i - DEBOUNCE + 1  # first frame of a new state
            groups, tone_on, dls = self._groups, self._tone_on, []
            for ch, g, f in zip(chs.tolist(), gs.tolist(), fl, strict=True):
                grps = groups[ch]
                grp = grps[g]
                if f:
                    grp.flip(t)
                rec = grp.rec
                dls.append(self._evaluate(ch, g, grp, i, out))
                if grp.rec is not rec:
                    tone_on[ch] = any(gr.rec is not None for gr in grps)
            self._deadline[gs, chs] = dls
            self._next_deadline = int(self._deadline.min())
        # Voice activity and silence.
        state_any = self._state_any
        self._floor = np.where(power < self._floor, power, self._floor * self._rise)
        # power >= both thresholds is power >= the larger one (no NaN here: input is checked).
        vf = power >= np.maximum(self._floor * self._voice_over, self._voice_abs)
        vf &= self._enabled
        vf &= ~(_any_set(raw) | state_any)
        self._vbits = ((self._vbits << 1) | vf) & 7
        np.putmask(self._vlast, vf, i)
        voice = self._voice
        start_v = (self._vbits == 7) & ~voice
        end_v = voice & (self._vlast <= i - VOICE_HANGOVER_FRAMES)
        busy = voice | start_v | self._tone_on | state_any
        quiet = self._enabled & ~busy
        np.putmask(self._qstart, ~quiet, i + 1)
        start_s = quiet & ~self._silent & (self._qstart <= i + 1 - self._silence_frames)
        end_s = self._silent & ~quiet
        if (start_v | end_v | start_s | end_s).any():
            for ch in np.flatnonzero(end_s).tolist():
                out.append((ch, ToneEvent("silence", self._s(ch, int(self._sstart[ch])), self._s(ch, i))))
            for ch in np.flatnonzero(end_v).tolist():
                st, last = int(self._vstart[ch]), int(self._vlast[ch]) + 1
                out.append((ch, ToneEvent("voice", self._s(ch, st), self._s(ch, last))))
            for ch in np.flatnonzero(start_v).tolist():
                self._vstart[ch] = i - VOICE_START_FRAMES + 1
                out.append((ch, ToneEvent("voice", self._s(ch, int(self._vstart[ch])), None)))
            for ch in np.flatnonzero(start_s).tolist():
                self._sstart[ch] = int(self._qstart[ch])
                out.append((ch, ToneEvent("silence", self._s(ch, int(self._sstart[ch])), None)))
            self._voice = (voice | start_v) & ~end_v
            self._silent = (self._silent | start_s) & ~end_s

    def _s(self, ch: int, frame: int) -> int:
        """Sample index (since the channel's reset) of the centre of `frame`."""
        return max(0, frame * FRAME - int(self._origin[ch]))

    # -- cadence ---------------------------------------------------------------------------
    def _evaluate(self, ch: int, g: int, grp: _Group, now: int, out: list[tuple[int, ToneEvent]]) -> int:
        """Update recognition for one frequency set; return the next frame that needs a look."""
        fps = SAMPLE_RATE / FRAME
        ongoing = now + 1 - grp.seg_start  # frames in the current segment, this one included
        if grp.rec is not None:
            spec = grp.rec
            if not spec.cadence:
                if grp.state:
                    return _FAR
                end_frame = grp.seg_start
            else:
                cad = self._cad[spec.name]
                end_frame = -1
                if grp.history and grp.history[-1][2] == grp.seg_start:  # segment that just completed
                    on, a, b = grp.history[-1]
                    m = (b - a) / fps
                    if not any(lo <= m <= hi for lo, hi in cad.bounds[0 if on else 1 :: 2]):
                        end_frame = a
                if end_frame < 0 and ongoing / fps > cad.hi[grp.state]:
                    end_frame = grp.seg_start
                if end_frame < 0:
                    return grp.seg_start + cad.max_frames[grp.state] + 1
            out.append(
                (
                    ch,
                    ToneEvent(
                        spec.name, self._s(ch, grp.rec_start), self._s(ch, max(end_frame, grp.rec_start))
                    ),
                )
            )
            grp.rec = None
        # Not (or no longer) recognised: try each tone of this frequency set.
        best = _FAR
        hist = grp.history
        # The completed segments count only when the last one ends where the current one starts.
        joined = not hist or hist[-1][2] == grp.seg_start
        now_s = ongoing / fps
        for spec, bounds, k, need in self._trials[g]:
            if bounds is None:
                if grp.state:
                    if ongoing >= need:
                        return self._recognise(ch, grp, spec, grp.seg_start, out)
                    best = min(best, grp.seg_start + need - 1)
                continue
            if k > 1 and (len(hist) < k - 1 or not joined):
                continue
            first = hist[1 - k] if k > 1 else None
            if (first[1] if first else grp.seg_start) == grp.born:
                continue
            nc = len(bounds)
            segs = grp.durs[1 - k :] if k > 1 else []
            for r in range(0 if (first[0] if first else grp.state) else 1, nc, 2):
                # cadence phases that start in the state the first segment had
                fit = True
                for q, d in enumerate(segs):
                    blo, bhi = bounds[(r + q) % nc]
                    if not blo <= d <= bhi:
                        fit = False
                        break
                if not fit:
                    continue
                lo, hi = bounds[(r + len(segs)) % nc]
                if now_s > hi:
                    continue
                if now_s >= lo:
                    first_on = (
                        next((a for on, a, _ in hist[1 - k :] if on), grp.seg_start)
                        if k > 1
                        else grp.seg_start
                    )
                    return self._recognise(ch, grp, spec, first_on, out)
                best = min(best, grp.seg_start + math.ceil(lo * fps) - 1)
        return best

    def _recognise(
        self, ch: int, grp: _Group, spec: ToneSpec, start: int, out: list[tuple[int, ToneEvent]]
    ) -> int:
        grp.rec = spec
        grp.rec_start = start
        out.append((ch, ToneEvent(spec.name, self._s(ch, start), None)))
        if not spec.cadence:
            return _FAR
        return grp.seg_start + self._cad[spec.name].max_frames[grp.state] + 1

    def flush(self) -> list[tuple[int, ToneEvent]]:
        """End of stream: close every tone, voice or silence still open."""
        out: list[tuple[int, ToneEvent]] = []
        end = self._i
        for ch in range(self.channels):
            for grp in self._groups[ch]:
                if grp.rec is not None:
                    out.append((ch, ToneEvent(grp.rec.name, self._s(ch, grp.rec_start), self._s(ch, end))))
                    grp.rec = None
            if self._voice[ch]:
                out.append((ch, ToneEvent("voice", self._s(ch, int(self._vstart[ch])), self._s(ch, end))))
                self._voice[ch] = False
            if self._silent[ch]:
                out.append((ch, ToneEvent("silence", self._s(ch, int(self._sstart[ch])), self._s(ch, end))))
                self._silent[ch] = False
        self._tone_on[:] = False
        return out


class _ToneLine(_ToneBank):
    """The same detector for one line in plain Python floats: numpy call overhead dominates there.

    Same rules and arithmetic as `_ToneBank` (whose cadence logic it reuses), so one line gives
    the events the bank gives for it (tests/dsp/test_tones.py checks).
    """

    def __init__(self, plan: TonePlan, rate: int, silence_seconds: float) -> None:
        super().__init__(plan, 1, rate, silence_seconds)

    def reset_all(self) -> None:
        super().reset_all()
        g = len(self._sets)
        self._lcarry = [0.0] * self._k
        self._lecarry = 0.0
        self._lprev = [0j] * self._nf
        self._lpend = [0] * g
        self._ldead = [_FAR] * g
        self._lfloor = math.inf
        self._lvbits = 0
        self._lvoice = False
        self._lvstart = 0
        self._lvlast = 0
        self._lqstart = 0
        self._lsstart = 0
        self._lsilent = False
        self._ltone_on = False

    def feed(self, block: np.ndarray) -> list[tuple[int, ToneEvent]]:  # type: ignore[override]
        out: list[tuple[int, ToneEvent]] = []
        for x in self._framer.frames(block):
            x = x[0]
            self.analyse(np.dot(x, self._basis_c).tolist(), np.dot(x * x, self._ebasis_c).tolist(), out)
        return out

    def analyse(self, y: list[float], e: list[float], out: list[tuple[int, ToneEvent]]) -> None:  # type: ignore[override]
        k, nf = self._k, self._nf
        cur = [a + b for a, b in zip(y[:k], self._lcarry, strict=True)]
        self._lcarry = y[k:]
        en = e[0] + self._lecarry
        self._lecarry = e[1]
        p = [cur[f] * cur[f] + cur[nf + f] * cur[nf + f] for f in range(nf)]
        dc = cur[2 * nf]
        e_ac = max(en - dc * dc / self._sw2, 1e-9)
        z = [complex(cur[f], cur[nf + f]) for f in range(nf)]
        prev = self._lprev
        self._lprev = z
        floor = self._p_floor
        raw = [False] * len(self._sets)
        if max(p) >= floor:
            ok = []
            for f in range(nf):
                if p[f] >= floor:
                    adv = z[f] * prev[f].conjugate() * self._rot_l[f]
                    ok.append(adv.real >= self._cos_l[f] * abs(adv))
                else:
                    ok.append(False)
            for g, idx in enumerate(self._set_idx):
                if all(ok[f] for f in idx):
                    tot = 0.0
                    for f in idx:
                        tot += p[f]
                    raw[g] = tot * self._ratio_norm / e_ac >= SHARE_ON
        self._frame_line(raw, e_ac / self._sw2, out)

    def _frame_line(self, raw: list[bool], power: float, out: list[tuple[int, ToneEvent]]) -> None:
        """`_ToneBank._frame` for one channel."""
        i = self._i
        self._i += 1
        groups = self._groups[0]
        pend, dead = self._lpend, self._ldead
        changed = False
        for g, grp in enumerate(groups):
            if raw[g] != grp.state:
                pend[g] += 1
                flip = pend[g] >= DEBOUNCE
            else:
                pend[g] = 0
                flip = False
            if flip or dead[g] <= i:
                if flip:
                    grp.flip(i - DEBOUNCE + 1)  # first frame of the new state
                    pend[g] = 0
                dead[g] = self._evaluate(0, g, grp, i, out)
                changed = True
        state_any = False
        for grp in groups:
            state_any = state_any or grp.state
        if changed:
            self._ltone_on = any(gr.rec is not None for gr in groups)
        self._lfloor = power if power < self._lfloor else self._lfloor * self._rise
        vf = (
            power >= self._voice_abs
            and power >= self._lfloor * self._voice_over
            and not (any(raw) or state_any)
        )
        self._lvbits = ((self._lvbits << 1) | vf) & 7
        if vf:
            self._lvlast = i
        voice = self._lvoice
        start_v = self._lvbits == 7 and not voice
        end_v = voice and self._lvlast <= i - VOICE_HANGOVER_FRAMES
        quiet = not (voice or start_v or self._ltone_on or state_any)
        if not quiet:
            self._lqstart = i + 1
        start_s = quiet and not self._lsilent and self._lqstart <= i + 1 - self._silence_frames
        end_s = self._lsilent and not quiet
        if end_s:
            out.append((0, ToneEvent("silence", self._s(0, self._lsstart), self._s(0, i))))
        if end_v:
            out.append((0, ToneEvent("voice", self._s(0, self._lvstart), self._s(0, self._lvlast + 1))))
        if start_v:
            self._lvstart = i - VOICE_START_FRAMES + 1
            out.append((0, ToneEvent("voice", self._s(0, self._lvstart), None)))
        if start_s:
            self._lsstart = self._lqstart
            out.append((0, ToneEvent("silence", self._s(0, self._lsstart), None)))
        self._lvoice = (voice or start_v) and not end_v
        self._lsilent = (self._lsilent or start_s) and not end_s

    def _s(self, ch: int, frame: int) -> int:
        return max(0, frame * FRAME)

    def flush(self) -> list[tuple[int, ToneEvent]]:
        out: list[tuple[int, ToneEvent]] = []
        end = self._i
        for grp in self._groups[0]:
            if grp.rec is not None:
                out.append((0, ToneEvent(grp.rec.name, self._s(0, grp.rec_start), self._s(0, end))))
                grp.rec = None
        if self._lvoice:
            out.append((0, ToneEvent("voice", self._s(0, self._lvstart), self._s(0, end))))
            self._lvoice = False
        if self._lsilent:
            out.append((0, ToneEvent("silence", self._s(0, self._lsstart), self._s(0, end))))
            self._lsilent = False
        self._ltone_on = False
        return out


def _any_set(a: np.ndarray) -> np.ndarray:
    """`a.any(axis=0)` for a (few sets, channels) bool array: row ORs, cheaper than a reduction."""
    out = a[0].copy()
    for g in range(1, a.shape[0]):
        out |= a[g]
    return out


def _per_channel(events: list[tuple[int, ToneEvent]], channels: int) -> list[list[ToneEvent]]:
    out: list[list[ToneEvent]] = [[] for _ in range(channels)]
    for ch, ev in events:
        out[ch].append(ev)
    return out


def _bounds(d: float) -> tuple[float, float]:
    tol = max(CADENCE_TOL * d, CADENCE_TOL_MIN_S)
    return d - tol, d + tol


def _fits(d: float, measured: float) -> bool:
    lo, hi = _bounds(d)
    return lo <= measured <= hi


def _fits_any(spec: ToneSpec, on: bool, measured: float) -> bool:
    return any(_fits(d, measured) for d in spec.cadence[0 if on else 1 :: 2])


def _too_long(spec: ToneSpec, on: bool, measured: float) -> bool:
    return measured > max(_bounds(d)[1] for d in spec.cadence[0 if on else 1 :: 2])


def _max_frames(spec: ToneSpec, on: bool, fps: float) -> int:
    return math.ceil(max(_bounds(d)[1] for d in spec.cadence[0 if on else 1 :: 2]) * fps)


class _Cadence:
    """A cadenced tone's segment bounds (seconds) and, per state (off, on), the longest segment."""

    __slots__ = ("bounds", "hi", "max_frames")

    def __init__(self, spec: ToneSpec, fps: float) -> None:
        self.bounds = [_bounds(d) for d in spec.cadence]
        his = [max((hi for _, hi in self.bounds[s::2]), default=math.inf) for s in (1, 0)]
        self.hi = (his[0], his[1])
        self.max_frames = tuple(math.ceil(h * fps) if h < math.inf else _FAR for h in his)


class ToneDetector:
    """Streaming call-progress / fax / voice / silence detector for one line."""

    def __init__(self, plan: TonePlan, rate: int = SAMPLE_RATE, *, silence_seconds: float = 5.0) -> None:
        self._bank = _ToneLine(plan, rate, silence_seconds)

    def process(self, block: np.ndarray) -> list[ToneEvent]:
        """Feed samples (1-D int16, or float on the int16 scale); return events in time order."""
        bank = self._bank
        if type(block) is np.ndarray and block.dtype == np.int16 and block.shape == (FRAME,):
            if not bank._framer.pending:  # one aligned 20 ms frame: the usual case
                x = block.astype(np.float32)
                out: list[tuple[int, ToneEvent]] = []
                bank.analyse(np.dot(x, bank._basis_c).tolist(), np.dot(x * x, bank._ebasis_c).tolist(), out)
                return [ev for _, ev in out]
        x = as_samples(block, 1)
        return [ev for _, ev in bank.feed(x[None, :])]

    def flush(self) -> list[ToneEvent]:
        """End of stream: close open tones, voice and silence."""
        return [ev for _, ev in self._bank.flush()]

    def reset(self) -> None:
        """Forget everything; sample indices restart at 0."""
        self._bank.reset_all()


class BatchToneDetector:
    """Tone detectors for many lines: `process((channels, n) block)` → events per channel."""

    def __init__(
        self, plan: TonePlan, channels: int, rate: int = SAMPLE_RATE, *, silence_seconds: float = 5.0
    ) -> None:
        self._bank = _ToneBank(plan, channels, rate, silence_seconds)
        self.channels = channels

    def process(self, block2d: np.ndarray) -> list[list[ToneEvent]]:
        """Feed a (channels, n) block; return events per channel."""
        x = as_samples(block2d, 2)
        if x.shape[0] != self.channels:
            raise ValueError(f"block has {x.shape[0]} channels, detector was made for {self.channels}")
        return _per_channel(self._bank.feed(x), self.channels)

    def flush(self) -> list[list[ToneEvent]]:
        """End of stream on every channel."""
        return _per_channel(self._bank.flush(), self.channels)

    def reset(self, ch: int) -> None:
        """Forget `ch`'s state (new call); its sample indices restart at 0."""
        self._bank.reset(ch)

    def set_enabled(self, ch: int, enabled: bool) -> None:
        """Idle lines can be skipped: no tone, voice or silence events while disabled."""
        self._bank._check_channel(ch)
        self._bank._enabled[ch] = bool(enabled)
