"""FSK modem for caller ID: Bell 202 (1200/2200 Hz) and ITU-T V.23 (1300/2100 Hz) at 1200 baud.

Caller ID rides on a 1200-baud asynchronous FSK burst (DSP-SPECS.md §2-§3): a channel seizure of
alternating bits, a run of mark bits, then 8N1 characters sent LSB first, then a short mark
post-amble.  Both ends here are pure numpy with no I/O.

The receiver is a non-coherent correlation discriminator: the band-passed line signal is mixed
with the mark and the space tone and each product is integrated over one bit time (a matched
filter), so the sign of ``|mark|^2 - |space|^2`` is the bit.  That is the optimum detector for
FSK in white noise and, unlike a zero-crossing or delay-line discriminator, it degrades gently at
low SNR.  A UART then finds each start bit's falling edge (to a fraction of a sample) and samples
the discriminator at the middle of every bit, re-synchronising on each start bit so ±1 % baud
error and extra mark bits between characters do not accumulate timing error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ccd.dsp.levels import SAMPLE_RATE, dbm0_to_peak

log = logging.getLogger(__name__)

#: standard name -> (mark "1" Hz, space "0" Hz)
FSK_STANDARDS: dict[str, tuple[float, float]] = {
    "bell202": (1200.0, 2200.0),
    "v23": (1300.0, 2100.0),
}

_BITS_PER_CHAR = 10  # start + 8 data + stop
_PREFILTER_TAPS = 31
#: In-band energy below this (dBm0 of a sine) is treated as no carrier: the UART does not hunt.
_CARRIER_FLOOR_DBM0 = -48.0
#: How much discriminator history a demodulator keeps so a caller can re-read a frame (a long
#: MDMF frame is about 1 s on the line; memory is ~5 bytes a sample, so ~170 kB per demodulator).
_HISTORY_SECONDS = 4.0
_SLACK_SECONDS = 1.0  # room appended past the history before the buffer is copied down
MAX_PIECE = 4000  # longest stretch analysed in one step (callers may pass any block size)


def _standard(standard: str) -> tuple[float, float]:
    try:
        return FSK_STANDARDS[standard]
    except KeyError:
        raise ValueError(
            f"unknown FSK standard {standard!r}; choose one of {sorted(FSK_STANDARDS)}"
        ) from None


def as_audio(block: object) -> np.ndarray:
    """Validate one block of line audio and return it as float64 in int16 units.

    Float input is taken in int16 units (a full-scale sine has peak 32767), the same scale as
    `ccd.dsp.levels`.  NaN or infinity would silently poison every filter state downstream, so
    it is refused here with a clear message instead.
    """
    arr = np.asarray(block)
    if arr.ndim != 1:
        raise ValueError(f"audio block must be one-dimensional (got shape {arr.shape})")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"audio block must hold integer or float samples (got dtype {arr.dtype})")
    out = arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(out)):
        raise ValueError("audio block contains NaN or infinite samples")
    return out


def _bits_for(
    data: bytes, seizure_bits: int, mark_bits: int, extra_mark_bits: int, postamble_bits: int
) -> np.ndarray:
    """The line bit sequence of one caller-ID burst (1 = mark, 0 = space)."""
    bits: list[int] = [i & 1 for i in range(seizure_bits)]  # 0, 1, 0, 1, ... first 0, last 1 if even
    bits += [1] * mark_bits
    for i, byte in enumerate(data):
        if i:
            bits += [1] * extra_mark_bits
        bits.append(0)
        bits += [(byte >> k) & 1 for k in range(8)]
        bits.append(1)
    bits += [1] * postamble_bits
    return np.asarray(bits, dtype=np.int8)


def fsk_modulate(
    data: bytes,
    standard: str = "bell202",
    *,
    seizure_bits: int = 300,
    mark_bits: int = 180,
    extra_mark_bits: int = 0,
    postamble_bits: int = 5,
    baud: float = 1200.0,
    baud_error_pct: float = 0.0,
    carrier_error_pct: float = 0.0,
    level_dbm0: float = -13.5,
    rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Modulate `data` as a caller-ID FSK burst and return int16 samples.

    Phase-continuous (the specs forbid phase jumps inside a message), 8N1 LSB first.  The error
    arguments stretch the bit clock and shift both tones, so tests can exercise the tolerance
    the standards demand of a receiver (±1 % baud, ±1.5 % carrier).
    """
    mark, space = _standard(standard)
    for name, value in (
        ("seizure_bits", seizure_bits),
        ("mark_bits", mark_bits),
        ("extra_mark_bits", extra_mark_bits),
        ("postamble_bits", postamble_bits),
    ):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer (got {value!r})")
    if not (np.isfinite(baud) and baud > 0 and rate > 0 and baud * 2 <= rate):
        raise ValueError(f"baud {baud!r} must be positive and at most half the sample rate {rate!r}")
    if not np.isfinite(level_dbm0) or level_dbm0 > 3.14:
        raise ValueError(f"level_dbm0 {level_dbm0!r} must be finite and at most +3.14 dBm0 (full scale)")
    data = bytes(data)
    bits = _bits_for(data, int(seizure_bits), int(mark_bits), int(extra_mark_bits), int(postamble_bits))
    if bits.size == 0:
        return np.zeros(0, dtype=np.int16)
    eff_baud = baud * (1.0 + baud_error_pct / 100.0)
    scale = 1.0 + carrier_error_pct / 100.0
    n_samples = int(np.ceil(bits.size * rate / eff_baud))
    bit_index = np.minimum((np.arange(n_samples) * eff_baud / rate).astype(np.int64), bits.size - 1)
    freq = np.where(bits[bit_index] == 1, mark, space) * scale
    phase = np.cumsum(2.0 * np.pi * freq / rate) - 2.0 * np.pi * freq[0] / rate  # start at phase 0
    amp = dbm0_to_peak(level_dbm0)
    return np.round(amp * np.sin(phase)).astype(np.int16)


def _bandpass(lo: float, hi: float, rate: int, taps: int = _PREFILTER_TAPS) -> np.ndarray:
    """Windowed-sinc band-pass FIR: keeps the out-of-band noise out of the correlators."""
    n = np.arange(taps) - (taps - 1) / 2.0

    def lowpass(fc: float) -> np.ndarray:
        return 2.0 * fc / rate * np.sinc(2.0 * fc / rate * n)

    h = (lowpass(hi) - lowpass(lo)) * np.hamming(taps)
    centre = (lo + hi) / 2.0
    gain = abs(np.sum(h * np.exp(-2j * np.pi * centre / rate * np.arange(taps))))
    return h / gain


@dataclass(frozen=True, slots=True)
class FskChar:
    """One asynchronous character as the UART saw it (richer than the public tuple)."""

    start: int  # input sample index of the start bit's leading edge
    value: int
    edge: float  # discriminator-domain position of the start edge (for re-reading)
    framing_ok: bool
    confidence: float  # weakest bit's normalised decision margin, 0..1


class FskDemodulator:
    """Streaming 1200-baud FSK receiver with an 8N1 UART; feed blocks of any size.

    `process()` returns ``(start_sample, byte)`` for every character with a good stop bit.  The
    object also keeps a few seconds of discriminator output so `reread()` can decode the same
    stretch of line again with another sampling phase; the caller-ID receiver uses that to
    rescue frames whose checksum fails at low SNR.
    """

    def __init__(self, standard: str = "bell202", rate: int = SAMPLE_RATE, baud: float = 1200.0) -> None:
        mark, space = _standard(standard)
        if not (isinstance(rate, int | np.integer) and rate > 2 * (max(mark, space) + 300.0)):
            raise ValueError(f"rate {rate!r} must be an integer sample rate well above twice the tones")
        if not (np.isfinite(baud) and 0 < baud * 4 <= rate):
            raise ValueError(f"baud {baud!r} must be positive and at most a quarter of the rate")
        self.standard = standard
        self.rate = int(rate)
        self.baud = float(baud)
        self.tb = self.rate / self.baud  # samples per bit
        self._freqs = (mark, space)
        self._h = _bandpass(min(mark, space) - 300.0, max(mark, space) + 300.0, self.rate)
        # Boxcar of exactly one bit time (fractional ends), the matched filter for one bit.
        nbox = int(np.ceil(self.tb))
        w = np.ones(nbox)
        w[0] = w[-1] = (self.tb - (nbox - 2)) / 2.0
        self._box = w
        self.delay = (self._h.size - 1) / 2.0 + (nbox - 1) / 2.0
        floor = (dbm0_to_peak(_CARRIER_FLOOR_DBM0) * self.tb / 2.0) ** 2
        self._energy_floor = floor
        self._history = int(_HISTORY_SECONDS * self.rate)
        self.reset()

    def reset(self) -> None:
        """Forget all state: filter memories, buffered discriminator output, UART position."""
        self._n = 0  # absolute index of the next input sample
        self._xhist = np.zeros(self._h.size - 1)
        self._mhist = np.zeros(self._box.size - 1, dtype=np.complex128)
        self._shist = np.zeros(self._box.size - 1, dtype=np.complex128)
        # discriminator history: (|M|^2-|S|^2)/(|M|^2+|S|^2) in [-1, 1] and "carrier present",
        # absolute discriminator-domain index = _d0 + i
        room = self._history + int(_SLACK_SECONDS * self.rate)
        self._qbuf = np.zeros(room, dtype=np.float32)
        self._okbuf = np.zeros(room, dtype=bool)
        self._len = 0
        self._q = self._qbuf[:0]
        self._ok = self._okbuf[:0]
        self._d0 = 0
        self._pos = float(self.delay)  # where the UART resumes hunting (discriminator domain)

    # ---------------------------------------------------------------- discriminator

    def _discriminate(self, x: np.ndarray) -> None:
        xin = np.concatenate((self._xhist, x))
        self._xhist = xin[-(self._h.size - 1) :]
        y = np.convolve(xin, self._h, mode="valid")
        idx = np.arange(self._n, self._n + x.size, dtype=np.int64)
        out = []
        for f, attr in ((self._freqs[0], "_mhist"), (self._freqs[1], "_shist")):
            ph = 2.0 * np.pi * np.mod(idx * f, self.rate) / self.rate
            z = np.concatenate((getattr(self, attr), y * np.exp(-1j * ph)))
            setattr(self, attr, z[-(self._box.size - 1) :])
            out.append(np.convolve(z, self._box, mode="valid"))
        pm = np.abs(out[0]) ** 2
        ps = np.abs(out[1]) ** 2
        e = pm + ps
        q = (pm - ps) / np.maximum(e, 1e-9)
        self._n += x.size
        self._append(q, e > self._energy_floor)

    def _append(self, q: np.ndarray, ok: np.ndarray) -> None:
        """Append to the history buffers, dropping the oldest samples beyond `_history`.

        The buffers have a second of slack past the history so the copy-down happens about once
        a second, not on every block.
        """
        n = q.size
        if self._len + n > self._qbuf.size:
            keep = min(self._len, self._history - min(n, self._history))
            drop = self._len - keep
            self._qbuf[:keep] = self._qbuf[drop : self._len]
            self._okbuf[:keep] = self._okbuf[drop : self._len]
            self._d0 += drop
            self._len = keep
            if n > self._qbuf.size - keep:  # a block longer than the history itself
                self._d0 += n - (self._qbuf.size - keep)
                q, ok = q[-(self._qbuf.size - keep) :], ok[-(self._qbuf.size - keep) :]
                n = q.size
        self._qbuf[self._len : self._len + n] = q
        self._okbuf[self._len : self._len + n] = ok
        self._len += n
        self._q = self._qbuf[: self._len]
        self._ok = self._okbuf[: self._len]

    # ---------------------------------------------------------------- UART

    def _bit_values(self, edge: float, offset: float) -> list[float] | None:
        """Normalised decisions at the middles of the 10 bits after `edge`, or None if not buffered."""
        base = edge + 0.5 * self.tb + offset - self._d0
        first = round(base)
        last = round(base + (_BITS_PER_CHAR - 1) * self.tb)
        if first - 1 < 0 or last + 1 >= self._len:
            return None
        q = self._q
        out = []
        base += 0.5  # int(x + 0.5) rounds the (positive) positions, faster than round()
        for k in range(_BITS_PER_CHAR):
            i = int(base + k * self.tb)
            # a light average over the bit's middle: the boxcar already integrated one bit, this
            # only smooths the timing error of a noisy edge estimate
            out.append(0.25 * float(q[i - 1]) + 0.5 * float(q[i]) + 0.25 * float(q[i + 1]))
        return out

    def _find_edge(self, pos: float) -> float | None:
        """Next falling zero crossing (mark -> space) at or after `pos` with carrier present.

        Returns the fractional position, None if the buffer ran out (wait for more audio).
        """
        lo = max(int(np.ceil(pos)) - self._d0, 1)
        if lo >= self._q.size:
            return None
        q = self._q
        seg = q[lo:]
        cross = np.flatnonzero((q[lo - 1 : -1] >= 0.0) & (seg < 0.0) & self._ok[lo:])
        if cross.size == 0:
            return None
        j = lo + int(cross[0])
        a, b = q[j - 1], q[j]
        return self._d0 + j - 1 + a / (a - b)

    def _char(self, edge: float, v: list[float]) -> FskChar:
        return FskChar(
            start=round(edge - self.delay),
            value=sum(1 << k for k in range(8) if v[k + 1] >= 0.0),
            edge=edge,
            framing_ok=v[0] < 0.0 and v[9] >= 0.0,
            confidence=min(abs(b) for b in v),
        )

    def _read_char(self, edge: float, offset: float = 0.0) -> FskChar | None:
        v = self._bit_values(edge, offset)
        return None if v is None else self._char(edge, v)

    def _edges(self, pos: float) -> np.ndarray:
        """All falling zero crossings with carrier at or after `pos` (fractional, absolute)."""
        lo = max(int(np.ceil(pos)) - self._d0, 1)
        if lo >= self._len:
            return np.zeros(0)
        q = self._q
        j = lo + np.flatnonzero((q[lo - 1 : -1] >= 0.0) & (q[lo:] < 0.0) & self._ok[lo:])
        a, b = q[j - 1], q[j]
        return self._d0 + j - 1 + a / (a - b)

    def _run_uart(self) -> list[FskChar]:
        """Greedy UART over the new discriminator output, vectorised over candidate start edges.

        Every falling crossing is a possible start bit; the bit decisions for all of them are
        computed in one numpy pass and a short Python walk then picks the chain a UART would
        follow (a start bit that holds to its middle, then resume hunting at the stop bit's
        middle).  In noise this matters: zero crossings are plentiful there.
        """
        edges = self._edges(self._pos)
        tb = self.tb
        # an edge can be decided once the sample after its stop bit's middle has arrived
        last = np.rint(edges - self._d0 + (_BITS_PER_CHAR - 0.5) * tb).astype(np.int64) + 1
        complete = edges[last < self._len]
        chars: list[FskChar] = []
        pos = self._pos
        if complete.size:
            idx = np.rint(complete[:, None] - self._d0 + (np.arange(_BITS_PER_CHAR) + 0.5) * tb).astype(
                np.int64
            )
            q = self._q
            v = 0.25 * q[idx - 1] + 0.5 * q[idx] + 0.25 * q[idx + 1]
            start_ok = v[:, 0] < 0.0
            values = (v[:, 1:9] >= 0.0).astype(np.int64) @ (1 << np.arange(8))
            framing = start_ok & (v[:, 9] >= 0.0)
            conf = np.min(np.abs(v), axis=1)
            i = 0
            while i < complete.size:
                if not start_ok[i]:  # start bit does not hold to its middle: a noise glitch
                    i += 1
                    continue
                e = float(complete[i])
                chars.append(
                    FskChar(round(e - self.delay), int(values[i]), e, bool(framing[i]), float(conf[i]))
                )
                # hunt for the next start bit from the middle of this stop bit
                pos = e + (_BITS_PER_CHAR - 0.5) * tb
                i = int(np.searchsorted(complete, pos, side="left"))
        k = int(np.searchsorted(edges, pos, side="left"))
        if k < edges.size:
            self._pos = float(edges[k]) - 0.5  # an edge still waiting for its bits
        else:
            self._pos = max(pos, self._d0 + self._len - 1.0)
        return chars

    def process_chars(self, block: object) -> list[FskChar]:
        """Like `process()` but returns every character with its framing flag and confidence."""
        x = as_audio(block)
        chars: list[FskChar] = []
        # in pieces, so a long block (a whole file) never outruns the history the UART reads
        for i in range(0, x.size, MAX_PIECE):
            self._discriminate(x[i : i + MAX_PIECE])
            chars += self._run_uart()
        return chars

    def process(self, block: object) -> list[tuple[int, int]]:
        """Feed audio; return ``(start sample, byte)`` for each 8N1 character with a good stop bit."""
        return [(c.start, c.value) for c in self.process_chars(block) if c.framing_ok]

    @property
    def position(self) -> float:
        """Discriminator-domain index of the newest sample (comparable with `FskChar.edge`)."""
        return float(self._d0 + self._len)

    def idle_before(self, edge: float, bits: float = 8.0) -> float:
        """Fraction of the `bits` bit times before `edge` that were steady mark with carrier.

        A real message follows the mark signal; a "message type" byte that noise or the seizure
        pattern produced does not.  1.0 = clean mark, about 0.5 = alternating bits or noise.
        """
        lo = int(edge - bits * self.tb) - self._d0
        hi = int(edge - 0.5 * self.tb) - self._d0
        if lo < 0 or hi <= lo or hi > self._len:
            return 0.0
        return float(np.mean((self._q[lo:hi] > 0.3) & self._ok[lo:hi]))

    def reread(
        self, edge: float, count: int, offset: float = 0.0, max_gap_bits: float = 40.0
    ) -> list[FskChar]:
        """Decode up to `count` characters again, starting at the start edge `edge`, with the bit
        sampling instants shifted by `offset` samples.

        Works only on the buffered history; stops early at a long mark gap or the buffer's end.
        """
        chars: list[FskChar] = []
        pos = edge
        for k in range(count):
            if k:
                nxt = self._find_edge(pos)
                if nxt is None or nxt - pos > max_gap_bits * self.tb:
                    break
                edge = nxt
            ch = self._read_char(edge, offset)
            if ch is None:
                break
            chars.append(ch)
            pos = edge + (_BITS_PER_CHAR - 0.5) * self.tb + offset
        return chars
