"""Talk-off: speech (espeak-ng, English/Mandarin/German/French) and music must not give digits.

About 5 minutes of audio in the normal suite: every clip at two levels with line noise, through
G.711, plus synthetic speech-like and music-like signals. The 30-minute comparison with spandsp
is `python bench/talkoff.py`.
"""

from __future__ import annotations

import numpy as np

from ccd.dsp.dtmf import BatchDtmfDetector, DtmfDetector
from ccd.dsp.levels import dbm0_to_rms
from ccd.dsp.noise import add_noise, music_like, speech_like, to_int16
from ccd.dsp.tones import ToneDetector, get_plan
from tests.dsp.conftest import g711_roundtrip


def _at_level(x: np.ndarray, level_dbm0: float) -> np.ndarray:
    xf = x.astype(np.float64)
    rms = np.sqrt(np.mean(xf[np.abs(xf) > 30] ** 2))  # level of the talk, not of the pauses
    return to_int16(xf * dbm0_to_rms(level_dbm0) / rms)


def _speech_material(clips: list[np.ndarray]) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for clip in clips:
        for level in (-8.0, -20.0):
            out.append(g711_roundtrip(add_noise(_at_level(clip, level), level - 25, rng)))
    return out


def test_speech_and_music_give_at_most_one_false_digit(espeak_speech: list[np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    material = _speech_material(espeak_speech)
    material += [
        g711_roundtrip(add_noise(to_int16(speech_like(40, rng, lvl)), -50, rng)) for lvl in (-5, -20)
    ]
    material += [g711_roundtrip(add_noise(to_int16(music_like(40, rng, lvl)), -50, rng)) for lvl in (-5, -20)]
    seconds = sum(len(x) for x in material) / 8000
    assert seconds > 180
    false_digits = []
    for x in material:
        det = DtmfDetector()
        false_digits += det.process(x) + det.flush()
    assert len(false_digits) <= 1, false_digits


def test_call_progress_tones_never_fire_on_speech(espeak_speech: list[np.ndarray]) -> None:
    material = _speech_material(espeak_speech)
    for plan in ("cn", "us"):
        for x in material:
            det = ToneDetector(get_plan(plan))
            heard = {e.tone for e in det.process(x) + det.flush()}
            assert heard <= {"voice", "silence"}, (plan, heard)


def test_speech_is_voice_not_silence(espeak_speech: list[np.ndarray]) -> None:
    x = _speech_material(espeak_speech)[0]
    det = ToneDetector(get_plan("cn"))
    events = det.process(x) + det.flush()
    assert any(e.tone == "voice" for e in events)


def test_digits_are_heard_through_speech_pauses(espeak_speech: list[np.ndarray]) -> None:
    """A caller keying digits between words: every digit, nothing else (batched form, many lines)."""
    from ccd.dsp.dtmf import dtmf_generate

    rng = np.random.default_rng(9)
    lines = []
    for clip in espeak_speech[:4]:
        talk = _at_level(clip[: 8000 * 6], -12)
        keys = dtmf_generate("2580#", 70, 80, level_dbm0=-10)
        x = np.concatenate([talk, np.zeros(800, np.int16), keys, talk[: 8000 * 2]])
        lines.append(g711_roundtrip(add_noise(x, -45, rng)))
    n = min(len(x) for x in lines)
    block = np.stack([x[:n] for x in lines])
    b = BatchDtmfDetector(len(lines))
    got: list[str] = ["" for _ in lines]
    for i in range(0, n, 160):
        for ch, evs in enumerate(b.process(block[:, i : i + 160])):
            got[ch] += "".join(e.digit for e in evs)
    for ch, evs in enumerate(b.flush()):
        got[ch] += "".join(e.digit for e in evs)
    assert got == ["2580#"] * len(lines)
