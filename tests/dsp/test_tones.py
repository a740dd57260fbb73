"""Call-progress tones: plans, generator, recognition in noise and in time, fax, voice, silence."""

from __future__ import annotations

import numpy as np
import pytest

from ccd.dsp.noise import add_noise
from ccd.dsp.tones import (
    BUILTIN_PLANS,
    BatchToneDetector,
    ToneDetector,
    ToneEvent,
    ToneGenerator,
    TonePlan,
    ToneSpec,
    get_plan,
    plan_from_dict,
    tone_generate,
)
from tests.dsp.conftest import g711_roundtrip

RATE = 8000


def _recognised(plan: TonePlan, x: np.ndarray, block: int = 160) -> list[tuple[str, float, int]]:
    """(tone, seconds into the audio when it was reported, start sample) for each recognition."""
    det = ToneDetector(plan)
    out = []
    for i in range(0, len(x), block):
        for e in det.process(x[i : i + block]):
            if e.end is None:
                out.append((e.tone, (i + block) / RATE, e.start))
    return out


def _line(
    plan: TonePlan, tone: str, seconds: float, level: float, noise: float, seed: int, skip: float = 0.0
):
    rng = np.random.default_rng(seed)
    gen = ToneGenerator(plan, tone, level)
    gen.read(int(skip * RATE))  # join the tone mid-cadence
    x = np.concatenate([np.zeros(int(rng.integers(2000, 6000)), np.int16), gen.read(int(seconds * RATE))])
    return g711_roundtrip(add_noise(x, noise, rng)), (len(x) - int(seconds * RATE)) / RATE


def test_builtin_plans_match_the_issue() -> None:
    cn, us = get_plan("cn"), get_plan("us")
    assert cn.tones["dial"] == ToneSpec("dial", (450.0,), ())
    assert cn.tones["busy"].cadence == (0.35, 0.35) and cn.tones["ringback"].cadence == (1.0, 4.0)
    assert cn.tones["congestion"].cadence == (0.7, 0.7)
    assert us.tones["dial"].freqs == (350.0, 440.0) and us.tones["busy"].freqs == (480.0, 620.0)
    assert us.tones["ringback"].cadence == (2.0, 4.0) and us.tones["reorder"].cadence == (0.25, 0.25)
    assert set(BUILTIN_PLANS) >= {"cn", "us"}
    with pytest.raises(ValueError, match="unknown tone plan 'xx'"):
        get_plan("xx")


def test_plan_from_dict_builds_and_explains_errors() -> None:
    p = plan_from_dict("eu", {"busy": {"freqs": [425], "cadence": [0.5, 0.5]}, "dial": {"freqs": [425]}})
    assert p.tones["busy"] == ToneSpec("busy", (425.0,), (0.5, 0.5))
    assert p.tones["dial"].cadence == ()
    bad = [
        ({}, "table of tones"),
        ({"busy": {"freqs": []}}, "freqs"),
        ({"busy": {"freqs": [42]}}, "100 to 3800"),
        ({"busy": {"freqs": ["x"]}}, "100 to 3800"),
        ({"busy": {"freqs": [425], "cadence": [0.5]}}, "on/off pairs"),
        ({"busy": {"freqs": [425], "cadence": [0.5, -1]}}, "seconds"),
        ({"busy": {"freqs": [425], "cadance": [0.5, 0.5]}}, "unknown key"),
        ({"busy": [425]}, "expected a table"),
    ]
    for d, msg in bad:
        with pytest.raises(ValueError, match=msg):
            plan_from_dict("eu", d)


def test_generator_cadence_and_phase_continuity() -> None:
    plan = get_plan("cn")
    x = tone_generate(plan, "busy", 1.4)
    on = np.abs(x.astype(float)).reshape(-1, 80).max(axis=1) > 0  # 10 ms cells
    assert on[:35].all() and not on[35:70].any() and on[70:105].all() and not on[105:].any()
    gen = ToneGenerator(plan, "dial")
    pieces = np.concatenate([gen.read(n) for n in (1, 159, 77, 3000)])
    assert np.array_equal(pieces, tone_generate(plan, "dial", len(pieces) / RATE))
    with pytest.raises(ValueError, match="no tone 'howl'"):
        tone_generate(plan, "howl", 1.0)


CASES = [(p, t) for p in ("cn", "us") for t in BUILTIN_PLANS[p].tones]


@pytest.mark.parametrize(("level", "noise"), [(-20.0, -40.0), (-30.0, -40.0)])
@pytest.mark.parametrize(("plan_name", "tone"), CASES)
def test_each_tone_is_recognised_in_noise(plan_name: str, tone: str, level: float, noise: float) -> None:
    plan = get_plan(plan_name)
    for seed, skip in ((1, 0.0), (2, 0.2)):
        x, _lead = _line(plan, tone, 12.0, level, noise, seed, skip)
        heard = _recognised(plan, x)
        assert [h[0] for h in heard] == [tone], (seed, heard)


@pytest.mark.parametrize(
    ("plan_name", "tone"), [("cn", "busy"), ("cn", "congestion"), ("us", "busy"), ("us", "reorder")]
)
def test_busy_and_congestion_reported_within_two_cadence_cycles(plan_name: str, tone: str) -> None:
    plan = get_plan(plan_name)
    cycle = sum(plan.tones[tone].cadence)
    for seed, skip in enumerate((0.0, 0.1, 0.2, 0.3, 0.45, 0.6)):
        x, lead = _line(plan, tone, 4 * cycle, -30.0, -40.0, seed, skip * cycle)
        (heard,) = _recognised(plan, x)
        assert heard[0] == tone
        assert heard[1] - lead <= 2 * cycle + 0.05, (skip, heard[1] - lead)


def test_dial_tone_needs_two_seconds_so_ringback_is_not_dial() -> None:
    plan = get_plan("cn")
    x, lead = _line(plan, "dial", 3.0, -20.0, -50.0, 4)
    ((tone, when, _),) = _recognised(plan, x)
    assert tone == "dial" and 2.0 <= when - lead <= 2.2
    x, _ = _line(plan, "ringback", 6.0, -20.0, -50.0, 4)
    assert [h[0] for h in _recognised(plan, x)] == ["ringback"]


def test_tone_end_is_reported_with_the_same_start() -> None:
    plan = get_plan("cn")
    x = np.concatenate([tone_generate(plan, "busy", 2.1), np.zeros(8000 * 2, np.int16)])
    det = ToneDetector(plan)
    events = [e for e in det.process(x) + det.flush() if e.tone == "busy"]
    assert len(events) == 2 and events[0].end is None
    assert events[1].start == events[0].start and events[1].end == pytest.approx(1.75 * RATE, abs=400)


def test_fax_cng_and_ced() -> None:
    plan = get_plan("cn")
    x = np.concatenate([tone_generate(plan, "fax_cng", 7.5, -20), tone_generate(plan, "fax_ced", 3.0, -15)])
    x = add_noise(x, -45, np.random.default_rng(1))
    tones = [t for t, _, _ in _recognised(plan, x)]
    assert tones == ["fax_cng", "fax_ced"]


def test_silence_after_configurable_quiet_time_and_voice_ends_it() -> None:
    rng = np.random.default_rng(2)
    quiet = add_noise(np.zeros(8000 * 4, np.int16), -60, rng)
    det = ToneDetector(get_plan("cn"), silence_seconds=3.0)
    events = det.process(quiet)
    assert [(e.tone, e.end) for e in events] == [("silence", None)]
    assert events[0].start < 400
    talk = (
        np.sin(np.arange(8000) * 2 * np.pi * 180 / RATE) * 3000 * np.sin(np.arange(8000) / 300) ** 2
    ).astype(np.int16)
    later = det.process(talk)
    assert [e.tone for e in later][:2] == ["silence", "voice"] and later[0].end is not None


def test_default_silence_is_five_seconds() -> None:
    det = ToneDetector(get_plan("us"))
    assert det.process(np.zeros(8000 * 4, np.int16)) == []
    assert [e.tone for e in det.process(np.zeros(8000 * 2, np.int16))] == ["silence"]


def test_bad_input_and_arguments() -> None:
    det = ToneDetector(get_plan("cn"))
    assert det.process(np.zeros(0, np.int16)) == []
    with pytest.raises(ValueError, match="NaN"):
        det.process(np.array([np.nan]))
    with pytest.raises(ValueError, match="1-D"):
        det.process(np.zeros((1, 160)))
    with pytest.raises(ValueError, match="TonePlan"):
        ToneDetector("cn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="8000"):
        ToneDetector(get_plan("cn"), rate=16000)


def test_batch_matches_single_detectors() -> None:
    plan = get_plan("cn")
    rng = np.random.default_rng(8)
    tones = ["busy", "ringback", "congestion", "dial", "vacant", "fax_cng"]
    lines = []
    for k, t in enumerate(tones):
        x = np.concatenate([np.zeros(800 * (k + 1), np.int16), tone_generate(plan, t, 9.0, -25)])[: 8000 * 9]
        lines.append(add_noise(x, -45, rng))
    lines.append(np.zeros(8000 * 9, np.int16))
    block = np.stack(lines)
    single: list[list[ToneEvent]] = []
    for x in lines:
        det = ToneDetector(plan)
        evs = []
        for i in range(0, len(x), 333):
            evs += det.process(x[i : i + 333])
        single.append(evs + det.flush())
    b = BatchToneDetector(plan, len(lines))
    got: list[list[ToneEvent]] = [[] for _ in lines]
    for i in range(0, block.shape[1], 160):
        for ch, evs in enumerate(b.process(block[:, i : i + 160])):
            got[ch] += evs
    for ch, evs in enumerate(b.flush()):
        got[ch] += evs
    assert got == single
    assert [next(e.tone for e in evs if e.end is None) for evs in got[:6]] == tones
