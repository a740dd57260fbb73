"""All the soft DSP a set of audio lines needs, in one call per block: DTMF plus tones/voice/silence.

The daemon holds one `LineBankDsp` per board (or per group of lines that deliver audio together)
and hands it the latest (channels, samples) block. Why one object: the spectral work for every
line and both detectors is then one matrix product per block, its 20 ms frames as rows (the DTMF and tone bases
stacked: BLAS pads to 16 columns, so the 14 tone columns ride along almost free) plus one for the
window energies, and idle lines (on hook, nothing to listen for) are switched off so their state
machines cost nothing. The daemon hands it DAEMON_FRAMES frames (40 ms) at a time: both engines
then screen and decide all of them in one pass, with the same events as frame by frame.
`python bench/dsp.py` measures it against spandsp in the same run.
"""

from __future__ import annotations

import numpy as np

from ccd.dsp.dtmf import _EBASIS, _FBASIS, BatchDtmfDetector, DtmfEvent
from ccd.dsp.goertzel import as_samples
from ccd.dsp.levels import SAMPLE_RATE
from ccd.dsp.tones import BatchToneDetector, ToneEvent, TonePlan

# Frames (20 ms each) the daemon hands `process` at a time: its DSP runs every DAEMON_FRAMES media
# ticks. Several frames per call are decided in one pass (the same events as one at a time), which
# costs 10-20 % less CPU per line, for at most 20 ms more before a digit or tone is reported
# (a digit is only reported 30 ms after its key is released anyway).
DAEMON_FRAMES = 2


class LineBankDsp:
    """DTMF and call-progress detection for `channels` lines at once."""

    def __init__(
        self, channels: int, plan: TonePlan, rate: int = SAMPLE_RATE, *, silence_seconds: float = 5.0
    ) -> None:
        self.channels = channels
        self._dtmf = BatchDtmfDetector(channels, rate)
        self._tones = BatchToneDetector(plan, channels, rate, silence_seconds=silence_seconds)
        self._dtmf_on = np.ones(channels, dtype=bool)
        self._tones_on = np.ones(channels, dtype=bool)
        dt, tn = self._dtmf._bank, self._tones._bank
        tn._framer = dt._framer  # one framer, so both count samples alike (reset origins)
        self._framer = dt._framer
        # Channels-major products ((channels, samples) @ basis) are the faster layout for BLAS;
        # the engines read the transposed views.
        # Window energies: 3 DTMF + 2 tone columns, padded to 8: OpenBLAS runs an 8-column product
        # faster than a 5-column one (its kernels are 8 wide; the odd width takes a slow edge path).
        eb = np.concatenate([_EBASIS, tn.ebasis_t.T], axis=1)
        self._ebasis = np.zeros((eb.shape[0], 8), dtype=np.float32)
        self._ebasis[:, : eb.shape[1]] = eb
        # DTMF and tone spectra in one product: BLAS pads to 16 columns, so 51 + 14 costs about
        # what 51 alone does, and far less than two products.
        self._basis = np.ascontiguousarray(np.concatenate([_FBASIS, tn.basis_t.T], axis=1))
        self._ne = _EBASIS.shape[1]
        self._nd = _FBASIS.shape[1]

    def process(self, block: np.ndarray) -> list[tuple[int, DtmfEvent | ToneEvent]]:
        """Feed a (channels, n) block; return (channel, event) pairs, in time order per channel.

        Events are ordered per channel by the sample at which they happened (the start of a newly
        recognised tone, the end of a finished digit or tone).
        """
        x = as_samples(block, 2)
        if x.shape[0] != self.channels:
            raise ValueError(f"block has {x.shape[0]} channels, line bank was made for {self.channels}")
        # One product per frame for both engines; they return only the events there are, so a
        # quiet bank costs no per-channel Python at all.
        dt: list[tuple[int, DtmfEvent]] = []
        tn: list[tuple[int, ToneEvent]] = []
        dbank, tbank, ne, nd = self._dtmf._bank, self._tones._bank, self._ne, self._nd
        c = self.channels
        for xs, rows in self._framer.passes(x):
            # Up to MAX_FRAMES frames per pass of each engine (the daemon hands 40 ms): their
            # array work once for all of them, the same events as one frame at a time.
            y = (rows @ self._basis).reshape(c, len(xs), -1)
            e = (np.square(rows) @ self._ebasis).reshape(c, len(xs), -1)
            dbank.analyse_frames(xs, y, e, dt)
            tbank.analyse_frames(y[:, :, nd:], e[:, :, ne:], tn)
        if not dt or not tn:
            return sorted(dt or tn, key=_channel)  # stable: each channel's events stay in time order
        # Per channel, DTMF events then tone events, each already in time order; a channel with
        # both in this block has them merged by time (a stable sort, so ties keep that order).
        mixed = {ch for ch, _ in dt}.intersection([ch for ch, _ in tn])
        out: list[tuple[int, DtmfEvent | ToneEvent]] = dt + tn  # type: ignore[operator]
        if mixed:
            out.sort(key=lambda item: (item[0], _when(item[1]) if item[0] in mixed else 0))
        else:
            out.sort(key=_channel)
        return out

    def reset(self, channel: int) -> None:
        """A new call on `channel`: forget its state; its sample indices restart at 0."""
        self._dtmf.reset(channel)
        self._tones.reset(channel)

    def set_enabled(self, channel: int, dtmf: bool = True, tones: bool = True) -> None:
        """Choose what to listen for on `channel`; a line with both off costs almost nothing."""
        self._dtmf.set_enabled(channel, dtmf)
        self._tones.set_enabled(channel, tones)


def _channel(item: tuple[int, DtmfEvent | ToneEvent]) -> int:
    return item[0]


def _when(e: DtmfEvent | ToneEvent) -> int:
    if isinstance(e, DtmfEvent):
        return e.end
    return e.start if e.end is None else e.end
