"""LineBankDsp: what the daemon calls every 20 ms for all audio lines."""

from __future__ import annotations

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
