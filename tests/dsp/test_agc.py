"""Level meter, AGC and the resampler: the recording path's level and rate handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccd.dsp.agc import Agc, LevelMeter
from ccd.dsp.levels import dbm0_to_peak, power_dbm0
from ccd.dsp.resample import resample


def sine(freq: float, dbm0: float, seconds: float, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.rint(dbm0_to_peak(dbm0) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def frames(x: np.ndarray, n: int = 160):
    return (x[i : i + n] for i in range(0, x.size, n))


def test_meter_reads_a_sine_level_in_dbm0() -> None:
    m = LevelMeter()
    for block in frames(sine(1000, -20.0, 0.5)):
        rms, peak = m.process(block)
    assert rms == pytest.approx(-20.0, abs=0.2)
    assert peak == pytest.approx(-20.0, abs=0.2)


def test_meter_rises_fast_and_falls_slowly_and_silence_is_finite() -> None:
    m = LevelMeter(attack_ms=10, release_ms=300)
    for block in frames(sine(1000, -10.0, 0.2)):
        m.process(block)
    loud = m.rms_dbm0
    m.process(np.zeros(160, np.int16))
    assert loud - 0.5 < m.rms_dbm0 < loud  # one 20 ms frame of silence barely moves it
    for _ in range(100):
        m.process(np.zeros(160, np.int16))
    assert m.rms_dbm0 < loud - 25  # two seconds of silence: well down
    for _ in range(2000):
        m.process(np.zeros(160, np.int16))
    assert m.rms_dbm0 == -90.0 and np.isfinite(m.peak_dbm0)


@pytest.mark.parametrize("level", [-45.0, -30.0, -10.0, -3.0])
def test_agc_brings_speech_level_to_target_within_its_gain_range(level: float) -> None:
    agc = Agc(target_dbm0=-18.0, max_gain_db=24.0)
    out = np.concatenate([agc.process(b) for b in frames(sine(500, level, 4.0))])
    settled = power_dbm0(out[-8000:])
    want = float(np.clip(-18.0, level - 24.0, level + 24.0))  # -45 dBm0 needs 27 dB: only 24 are allowed
    assert settled == pytest.approx(want, abs=0.5)


def test_agc_does_not_pump_up_line_noise_between_words() -> None:
    rng = np.random.default_rng(1)
    agc = Agc(target_dbm0=-18.0, max_gain_db=24.0)
    for block in frames(sine(500, -30.0, 2.0)):
        agc.process(block)
    gain = agc.gain_db
    hiss = np.rint(rng.normal(0, 3, 8000)).astype(np.int16)  # about -70 dBm0, below the gate
    for block in frames(hiss):
        agc.process(block)
    assert agc.gain_db == gain


def test_agc_gain_moves_smoothly_within_a_block() -> None:
    agc = Agc(max_step_db=0.5)
    block = np.full(160, 1000, np.int16)
    out = agc.process(block)
    assert np.all(np.diff(out.astype(int)) >= 0) and out[-1] / out[0] == pytest.approx(
        10 ** (0.5 / 20), rel=1e-3
    )


def test_agc_rejects_nan_and_empty_is_empty() -> None:
    with pytest.raises(ValueError, match="NaN"):
        Agc().process(np.array([np.nan, 0.0]))
    assert Agc().process(np.zeros(0, np.int16)).size == 0


@pytest.mark.parametrize("src", [11025, 16000, 22050, 44100, 48000, 7999])
def test_resampling_to_8k_keeps_the_telephone_band_and_removes_what_would_alias(src: int) -> None:
    for freq, want in ((1000, 1.0), (3300, 1.0), (4600, 0.0), (6100, 0.0)):
        if freq >= src / 2:
            continue
        t = np.arange(src) / src
        x = np.rint(10000 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
        y = resample(x, src, 8000)
        assert y.size == -(-src * 8000 // src)
        amp = np.sqrt(2 * np.mean(y[800:-800].astype(float) ** 2)) / 10000
        assert amp == pytest.approx(want, abs=0.01), (freq, amp)


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from([8000, 16000, 44100, 48000, 11025]),
    st.sampled_from([8000, 16000, 44100]),
    st.integers(0, 3000),
)
def test_resample_lengths_and_dc_gain(src: int, dst: int, n: int) -> None:
    x = np.full(n, 1000.0)
    y = resample(x, src, dst)
    assert y.size == -(-n * dst // src)
    if n > 400:
        mid = y[y.size // 2 - 10 : y.size // 2 + 10]
        assert np.allclose(mid, 1000.0, atol=1.0)


def test_resample_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10), 0, 8000)
    with pytest.raises(ValueError, match="NaN"):
        resample(np.array([0.0, np.inf]), 16000, 8000)
    stereo = resample(np.zeros((100, 2), np.int16), 16000, 8000)
    assert stereo.shape == (50, 2) and stereo.dtype == np.int16
