"""LineBankDsp: what the daemon calls every 20 ms for all audio lines."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from ccd.dsp.dtmf import DtmfEvent, dtmf_generate
from ccd.dsp.linebank import LineBankDsp
from ccd.dsp.noise import add_noise
from ccd.dsp.tones import ToneEvent, get_plan, tone_generate


def _run(bank: LineBankDsp, block: np.ndarray) -> list[tuple[int, DtmfEvent | ToneEvent]]:
    out = []
    for i in range(0, block.shape[1], 160):
        out += bank.process(block[:, i : i + 160])
    return out


def _mixed_lines(seconds: float = 4.0) -> np.ndarray:
    n = int(seconds * 8000)
    plan = get_plan("cn")
    rng = np.random.default_rng(4)
    digits = np.concatenate([np.zeros(1600, np.int16), dtmf_generate("147", 80, 80)])
    lines = [
        np.pad(digits, (0, n - len(digits))),
        tone_generate(plan, "busy", seconds, -25),
        np.zeros(n, np.int16),
        np.pad(np.concatenate([tone_generate(plan, "busy", 1.5, -25), dtmf_generate("9", 100, 100)]), (0, n))[
            :n
        ],
    ]
    return np.stack([add_noise(x, -50, rng) for x in lines])


def test_events_are_tagged_with_their_channel_in_time_order() -> None:
    bank = LineBankDsp(4, get_plan("cn"))
    events = _run(bank, _mixed_lines())
    by_ch: dict[int, list] = {}
    for ch, e in events:
        by_ch.setdefault(ch, []).append(e)
    assert [e.digit for e in by_ch[0] if isinstance(e, DtmfEvent)] == list("147")
    assert [(e.tone, e.end) for e in by_ch[1] if isinstance(e, ToneEvent)] == [("busy", None)]
    assert 2 not in by_ch
    kinds = [e.digit if isinstance(e, DtmfEvent) else e.tone for e in by_ch[3]]
    kinds = [k for k in kinds if k != "voice"]  # the digit is also voice activity
    assert kinds[:3] == ["busy", "busy", "9"]  # busy recognised, busy ended, then the digit


def test_disabled_lines_report_nothing_and_can_be_switched_back() -> None:
    bank = LineBankDsp(4, get_plan("cn"))
    for ch in range(4):
        bank.set_enabled(ch, dtmf=False, tones=False)
    block = _mixed_lines()
    assert _run(bank, block) == []
    bank.set_enabled(0, dtmf=True, tones=False)
    bank.reset(0)
    assert [e.digit for ch, e in _run(bank, block) if ch == 0] == list("147")


def test_reset_restarts_a_channels_clock() -> None:
    bank = LineBankDsp(2, get_plan("us"))
    block = np.stack([dtmf_generate("5", 80, 80)] * 2)
    first = _run(bank, block)
    bank.reset(1)
    second = _run(bank, block)
    starts = {ch: e.start for ch, e in second}
    assert starts[1] == first[1][1].start and starts[0] > starts[1]


def test_bad_block_is_a_clear_error() -> None:
    bank = LineBankDsp(2, get_plan("cn"))
    with pytest.raises(ValueError, match="made for 2"):
        bank.process(np.zeros((3, 160), np.int16))
    with pytest.raises(ValueError, match="NaN"):
        bank.process(np.full((2, 160), np.nan))
    assert bank.process(np.zeros((2, 0), np.int16)) == []


def _busy_line(plan_name: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A busy line's audio: digits at two levels, busy, speech-like talk, ringback, over noise."""
    from ccd.dsp.noise import speech_like

    plan = get_plan(plan_name)
    x = np.concatenate(
        [
            np.zeros(4000, np.int16),
            dtmf_generate("13800138000#", level_dbm0=-12.0),
            tone_generate(plan, "busy", 3.0),
            speech_like(4.0, rng, level_dbm0=-18.0),
            dtmf_generate("2*9", level_dbm0=-20.0),
            tone_generate(plan, "ringback", 5.5),
        ]
    )
    return add_noise(np.resize(x, int(seconds * 8000)), -55.0, rng)


@pytest.mark.parametrize(
    ("plan_name", "block"),
    [("cn", 160), ("us", 160), ("cn", 320), ("us", 320), ("cn", 800), ("cn", 333)],
    ids=["cn-20ms", "us-20ms", "cn-40ms", "us-40ms", "cn-100ms", "cn-odd"],
)
def test_bank_gives_each_line_what_its_own_detectors_give(plan_name: str, block: int) -> None:
    """Many lines at once (an odd count, each at its own point of a busy line's audio, one reset
    mid-stream) hear exactly what one DtmfDetector + ToneDetector per line hear, fed 20 ms at a
    time: the shared product, the column slices and carries, the gathers of the lines that need
    a decision, deciding several frames in one pass (the daemon hands 40 ms; 100 ms is more
    than one pass takes; 333 samples cut frames anywhere) and the merge of the two detectors'
    events must not change a single event or sample index."""
    from ccd.dsp.dtmf import DtmfDetector
    from ccd.dsp.tones import ToneDetector

    rng = np.random.default_rng(23)
    channels, seconds, reset_ch, reset_at = 37, 12.0, 5, 8000 * 4
    signal = _busy_line(plan_name, 20.0, rng)
    n = int(seconds * 8000)
    audio = np.stack([np.roll(signal, -977 * c)[:n] for c in range(channels)])
    step = block

    bank = LineBankDsp(channels, get_plan(plan_name))
    got: list[list[DtmfEvent | ToneEvent]] = [[] for _ in range(channels)]
    cuts = sorted({*range(0, reset_at, step), reset_at, *range(reset_at, n, step), n})  # reset at a cut
    split = 0
    for i, j in pairwise(cuts):
        if i == reset_at:
            bank.reset(reset_ch)
            split = len(got[reset_ch])  # what came before was heard on the old call
        for ch, ev in bank.process(audio[:, i:j]):
            got[ch].append(ev)

    for ch in range(channels):
        x = audio[ch, reset_at:] if ch == reset_ch else audio[ch]
        dtmf, tones = DtmfDetector(), ToneDetector(get_plan(plan_name))
        want_d: list[DtmfEvent] = []
        want_t: list[ToneEvent] = []
        for i in range(0, len(x), 160):
            want_d += dtmf.process(x[i : i + 160])
            want_t += tones.process(x[i : i + 160])
        mine = got[ch][split:] if ch == reset_ch else got[ch]
        assert [e for e in mine if isinstance(e, DtmfEvent)] == want_d, f"line {ch}"
        assert [e for e in mine if isinstance(e, ToneEvent)] == want_t, f"line {ch}"
    digits = sum(isinstance(e, DtmfEvent) for evs in got for e in evs)
    busy = sum(isinstance(e, ToneEvent) and e.tone == "busy" for evs in got for e in evs)
    assert digits > 37 * 5 and busy > 37  # the comparison is about something


def test_a_note_with_harmonics_does_not_take_over_a_short_burst() -> None:
    """A 15-35 ms keypress burst running straight into a played note on another digit's two
    frequencies, with second harmonics 10 dB down (enough energy share to pass, but a note, not a
    keypress): on every alignment against the 10 ms windows the note is never a digit (a burst
    long enough may count as a "1"), and the bank hears what the single-line detector hears.
    The bank skips the harmonic test where a window only continues the running digit; a digit
    giving way to another in one frame is where it must not skip it."""
    from ccd.dsp.dtmf import DtmfDetector
    from ccd.dsp.levels import dbm0_to_peak

    t = np.arange(960) / 8000.0
    a = dbm0_to_peak(-12.0)
    note = sum(
        a * np.sin(2 * np.pi * f * t) + 0.3 * a * np.sin(2 * np.pi * 2 * f * t) for f in (770.0, 1336.0)
    )
    lines = []
    for burst_ms in (15, 20, 25, 30, 35):
        burst = dtmf_generate("1", on_ms=burst_ms, off_ms=0, level_dbm0=-12.0).astype(np.float64)
        for offset in range(0, 80, 8):
            x = np.concatenate([np.zeros(800 + offset), burst, note, np.zeros(3200 - offset)])
            lines.append(np.clip(np.round(x), -32768, 32767).astype(np.int16))
    n = min(len(x) for x in lines)
    block = np.stack([x[:n] for x in lines])
    bank = LineBankDsp(len(lines), get_plan("cn"))
    heard: list[list[DtmfEvent]] = [[] for _ in lines]
    for ch, ev in _run(bank, block):
        if isinstance(ev, DtmfEvent):
            heard[ch].append(ev)
    assert heard == [DtmfDetector().process(x) for x in block]
    assert all(e.digit == "1" for evs in heard for e in evs)  # a longer burst is a "1"; the note never a "5"
