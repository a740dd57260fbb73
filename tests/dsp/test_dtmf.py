"""DTMF generator and receiver behaviour: API, streaming, gaps, batch identity, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ccd.dsp.dtmf import BatchDtmfDetector, DtmfDetector, DtmfEvent, dtmf_generate
from ccd.dsp.levels import power_dbm0
from ccd.dsp.noise import add_noise, to_int16, white_noise


def _feed(det: DtmfDetector, x: np.ndarray, sizes: list[int] | None = None) -> list[DtmfEvent]:
    events: list[DtmfEvent] = []
    i = 0
    k = 0
    while i < len(x):
        n = sizes[k % len(sizes)] if sizes else 160
        events += det.process(x[i : i + n])
        i += n
        k += 1
    return events + det.flush()


def test_generator_shape_level_and_twist() -> None:
    x = dtmf_generate("1", on_ms=100, off_ms=50, level_dbm0=-10)
    assert x.dtype == np.int16 and len(x) == 1200
    assert not x[800:].any()
    # Two tones at -10 dBm0 each: the pair is 3 dB louder.
    assert power_dbm0(x[:800]) == pytest.approx(-7.0, abs=0.1)
    spec = np.abs(np.fft.rfft(dtmf_generate("1", 1000, 0, level_dbm0=-20, twist_db=4.0).astype(float)))
    lo, hi = spec[697], spec[1209]  # 1 Hz bins
    assert 20 * np.log10(hi / lo) == pytest.approx(4.0, abs=0.1)


def test_generator_refuses_bad_digits() -> None:
    with pytest.raises(ValueError, match="not DTMF digits"):
        dtmf_generate("12x")
    assert dtmf_generate("").size == 0


def test_events_give_digit_start_and_end_samples() -> None:
    x = np.concatenate([np.zeros(800, np.int16), dtmf_generate("7", on_ms=100, off_ms=100)])
    (ev,) = _feed(DtmfDetector(), x)
    assert ev.digit == "7"
    assert abs(ev.start - 800) <= 80 and abs(ev.end - 1600) <= 80  # within 10 ms of the true edges


def test_block_size_does_not_change_the_result() -> None:
    rng = np.random.default_rng(5)
    x = add_noise(dtmf_generate("0123456789*#ABCD", 60, 60, level_dbm0=-15), -45, rng)
    ref = _feed(DtmfDetector(), x)
    assert "".join(e.digit for e in ref) == "0123456789*#ABCD"
    for sizes in ([1], [7, 33, 160, 1], [1000], [41, 39, 80]):
        assert _feed(DtmfDetector(), x, sizes) == ref


def test_current_reports_the_digit_while_it_sounds() -> None:
    det = DtmfDetector()
    x = dtmf_generate("9", on_ms=200, off_ms=0)
    assert det.process(x[:160]) == [] and det.current is None
    det.process(x[160:1200])
    assert det.current == "9"
    events = det.process(np.zeros(800, np.int16))
    assert [e.digit for e in events] == ["9"] and det.current is None


def test_flush_reports_a_digit_cut_off_at_end_of_stream() -> None:
    det = DtmfDetector()
    assert det.process(dtmf_generate("4", on_ms=100, off_ms=0)) == []
    assert [e.digit for e in det.flush()] == ["4"]
    assert det.flush() == []


def test_too_short_at_end_of_stream_is_not_a_digit() -> None:
    det = DtmfDetector()
    det.process(dtmf_generate("4", on_ms=20, off_ms=0))
    assert det.flush() == []


def test_fillin_holds_a_digit_across_lost_packets() -> None:
    tone = dtmf_generate("3", on_ms=200, off_ms=0)
    det = DtmfDetector()
    events = det.process(tone[:800])
    events += det.fillin(160)  # one 20 ms packet lost mid-digit
    events += det.process(tone[960:])
    events += det.process(np.zeros(800, np.int16))
    assert [e.digit for e in events] == ["3"]
    assert events[0].end >= 1400  # time kept counting through the gap


def test_fillin_long_gap_ends_the_digit_and_keeps_time() -> None:
    det = DtmfDetector()
    det.process(dtmf_generate("3", on_ms=100, off_ms=0))
    events = det.fillin(8000)
    assert [e.digit for e in events] == ["3"]
    late = det.process(dtmf_generate("8", 80, 80))
    assert [e.digit for e in late] == ["8"] and late[0].start >= 8800


def test_reset_restarts_sample_indices() -> None:
    det = DtmfDetector()
    det.process(dtmf_generate("1", 80, 80))
    det.process(dtmf_generate("2", 100, 0))
    det.reset()
    assert det.current is None and det.flush() == []
    (ev,) = _feed(det, dtmf_generate("5", 80, 80))
    assert ev.start < 160


def test_dc_offset_and_clipping_still_detect() -> None:
    x = dtmf_generate("159D", 80, 80, level_dbm0=-12).astype(np.int32) + 6000
    assert (
        "".join(e.digit for e in _feed(DtmfDetector(), np.clip(x, -32768, 32767).astype(np.int16))) == "159D"
    )
    loud = np.clip(dtmf_generate("26", 80, 80, level_dbm0=-12).astype(np.int32) * 3, -32768, 32767)
    assert "".join(e.digit for e in _feed(DtmfDetector(), loud.astype(np.int16))) == "26"


def test_float_input_on_int16_scale() -> None:
    x = dtmf_generate("0#", 80, 80).astype(np.float64)
    assert "".join(e.digit for e in _feed(DtmfDetector(), x)) == "0#"


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.array([0.0, np.nan, 1.0]), "NaN or infinity"),
        (np.array([np.inf]), "NaN or infinity"),
        (np.zeros((2, 160), np.int16), "1-D"),
        (np.zeros(160, complex), "dtype"),
        (np.array(["a", "b"]), "dtype"),
        (np.zeros(160, bool), "dtype"),
    ],
)
def test_bad_input_is_a_clear_error(bad: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        DtmfDetector().process(bad)


def test_empty_block_is_fine() -> None:
    det = DtmfDetector()
    assert det.process(np.zeros(0, np.int16)) == []
    assert det.fillin(0) == []
    with pytest.raises(ValueError):
        det.fillin(-1)


def test_batch_refuses_wrong_shape_and_channel() -> None:
    b = BatchDtmfDetector(4)
    with pytest.raises(ValueError, match="4"):
        b.process(np.zeros((3, 160), np.int16))
    with pytest.raises(ValueError, match="2-D"):
        b.process(np.zeros(160, np.int16))
    with pytest.raises(ValueError, match="channel"):
        b.reset(4)
    with pytest.raises(ValueError):
        BatchDtmfDetector(0)
    with pytest.raises(ValueError, match="8000"):
        DtmfDetector(rate=16000)


def _random_line(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random digits with random timing, level, twist, offset, over noise; sometimes speech-free silence."""
    parts, total = [], 0
    while total < n:
        d = "".join(rng.choice(list("0123456789*#ABCD"), size=int(rng.integers(1, 4))))
        x = dtmf_generate(
            d,
            on_ms=float(rng.integers(15, 120)),
            off_ms=float(rng.integers(20, 150)),
            level_dbm0=float(rng.uniform(-34, -2)),
            twist_db=float(rng.uniform(-10, 6)),
            freq_offset_pct=float(rng.uniform(-4, 4)),
        )
        parts.append(x)
        total += len(x)
    x = np.concatenate(parts)[:n].astype(np.float64)
    return to_int16(x + white_noise(n, float(rng.uniform(-60, -35)), rng))


def test_batch_gives_exactly_what_single_detectors_give() -> None:
    rng = np.random.default_rng(11)
    channels, n = 12, 8000 * 8
    lines = np.stack([_random_line(rng, n) for _ in range(channels)])
    lines[3] = 0  # a silent line
    single = []
    for ch in range(channels):
        sizes = [int(s) for s in rng.integers(1, 500, size=50)]
        single.append(_feed(DtmfDetector(), lines[ch], sizes))
    batch = BatchDtmfDetector(channels)
    got: list[list[DtmfEvent]] = [[] for _ in range(channels)]
    pos = 0
    for size in [160, 320, 37, 1000, 3] * 1000:
        if pos >= n:
            break
        for ch, evs in enumerate(batch.process(lines[:, pos : pos + size])):
            got[ch] += evs
        pos += size
    for ch, evs in enumerate(batch.flush()):
        got[ch] += evs
    assert sum(len(s) for s in single) > 100  # the comparison is about something
    assert got == single


def test_batch_reset_one_channel_leaves_the_others() -> None:
    x = dtmf_generate("12", 80, 80)
    b = BatchDtmfDetector(2)
    b.process(np.stack([x, x]))
    b.reset(0)
    y = dtmf_generate("3", 80, 80)
    out = b.process(np.stack([y, y]))
    assert [e.digit for e in out[0]] == ["3"] and out[0][0].start < 160
    assert [e.digit for e in out[1]] == ["3"] and out[1][0].start > len(x)
