"""The prompt library: what a caller hears when a prompt is there, elsewhere, or missing."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from ccd.dsp.levels import dbm0_to_peak
from ccd.dsp.wav import wav_bytes
from ccd.telephony.prompts import PromptLibrary, PromptManifestError, active_level_dbm0

RATE = 8000


def tone(freq: float, seconds: float, rate: int = RATE, dbm0: float = -18.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.rint(dbm0_to_peak(dbm0) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def put(
    root: Path, rel: str, samples: np.ndarray, fmt: str = "alaw", rate: int = RATE, channels: int = 1
) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(samples, fmt, rate, channels))
    return path


MANIFEST = """\
[meta]
rate = 8000
languages = ["zh", "en"]

[prompts.hello]
description = "greeting"
kind = "speech"
zh = { text = "你好", file = "zh/hello.wav", duration = 0.5 }
en = { text = "hello", file = "en/hello.wav", duration = 0.5 }

[prompts.bye]
description = "only in English on disk"
kind = "speech"
zh = { text = "再见", file = "zh/bye.wav", duration = 0.3 }
en = { text = "bye", file = "en/bye.wav", duration = 0.3 }

[prompts.moh]
description = "music"
kind = "music"
common = { file = "common/moh.wav", duration = 1.0 }
"""


@pytest.fixture
def voices(tmp_path: Path) -> Path:
    (tmp_path / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    put(tmp_path, "zh/hello.wav", tone(440, 0.5))
    put(tmp_path, "en/hello.wav", tone(660, 0.5), fmt="pcm16")
    put(tmp_path, "en/bye.wav", tone(880, 0.3))
    put(tmp_path, "common/moh.wav", tone(330, 1.0, dbm0=-20))
    return tmp_path


def dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / x.size)


def test_get_returns_the_prompt_in_the_callers_language(voices: Path) -> None:
    lib = PromptLibrary(voices)
    zh, en = lib.get("hello", "zh"), lib.get("hello", "en")
    assert zh.dtype == np.int16 and zh.size == 4000
    assert dominant_hz(zh) == pytest.approx(440, abs=3)
    assert dominant_hz(en) == pytest.approx(660, abs=3)  # PCM16 files are read as well as A-law


def test_prompt_missing_in_one_language_falls_back_to_the_other(voices: Path, caplog) -> None:
    lib = PromptLibrary(voices)
    with caplog.at_level(logging.WARNING, logger="ccd.telephony.prompts"):
        x = lib.get("bye", "zh")
        lib.get("bye", "zh")
    assert dominant_hz(x) == pytest.approx(880, abs=3)
    assert sum("bye" in r.getMessage() for r in caplog.records) == 1  # logged once, not per call
    assert not lib.exists("bye", "zh") and lib.exists("bye", "en")


def test_shared_sounds_play_in_every_language(voices: Path) -> None:
    lib = PromptLibrary(voices)
    for lang in ("zh", "en", "fr"):
        assert lib.get("moh", lang).size == RATE
        assert lib.exists("moh", lang)


def test_missing_prompt_is_short_silence_and_one_warning(voices: Path, caplog) -> None:
    lib = PromptLibrary(voices, missing_s=0.2)
    with caplog.at_level(logging.WARNING, logger="ccd.telephony.prompts"):
        first = lib.get("no_such_prompt", "zh")
        second = lib.get("no_such_prompt", "zh")
    assert first.size == int(0.2 * RATE) and not first.any()
    assert second is first
    warnings = [r for r in caplog.records if "no_such_prompt" in r.getMessage()]
    assert len(warnings) == 1 and "silence" in warnings[0].getMessage()


@pytest.mark.parametrize("name", ["../manifest", "Hello", "a/b", "", "x.wav"])
def test_names_that_are_not_prompt_names_play_silence(voices: Path, name: str) -> None:
    lib = PromptLibrary(voices)
    assert not lib.get(name, "zh").any()
    assert not lib.exists(name, "zh")


def test_unreadable_file_falls_back_then_silence(voices: Path, caplog) -> None:
    (voices / "zh" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    put(voices, "en/broken.wav", tone(550, 0.4))
    (voices / "zh" / "garbage.wav").write_bytes(b"not a wav at all")
    lib = PromptLibrary(voices)
    with caplog.at_level(logging.WARNING, logger="ccd.telephony.prompts"):
        assert dominant_hz(lib.get("broken", "zh")) == pytest.approx(550, abs=3)
        assert not lib.get("garbage", "zh").any()
    assert any("garbage" in r.getMessage() for r in caplog.records)


def test_audio_is_cached_and_read_only(voices: Path) -> None:
    lib = PromptLibrary(voices)
    a = lib.get("hello", "zh")
    (voices / "zh" / "hello.wav").unlink()  # the daemon preloaded: later disk trouble is invisible
    assert lib.get("hello", "zh") is a
    with pytest.raises(ValueError):
        a[0] = 1
    lib.clear()
    assert dominant_hz(lib.get("hello", "zh")) == pytest.approx(660, abs=3)  # now the English file


def test_sequence_joins_prompts_with_short_gaps(voices: Path) -> None:
    lib = PromptLibrary(voices, gap_s=0.05)
    x = lib.sequence(["hello", "bye", "hello"], "en")
    assert x.size == 4000 + 400 + 2400 + 400 + 4000
    assert not x[4000:4400].any()
    assert lib.sequence([], "en").size == 0
    assert lib.sequence(["hello", "bye"], "en", gap_s=0).size == 6400


def test_other_rates_and_stereo_are_converted(tmp_path: Path) -> None:
    put(tmp_path, "zh/wide.wav", tone(1000, 1.0, rate=16000), fmt="pcm16", rate=16000)
    stereo = np.repeat(tone(700, 0.5)[:, None], 2, axis=1)
    put(tmp_path, "zh/stereo.wav", stereo, fmt="pcm16", channels=2)
    lib = PromptLibrary(tmp_path)
    wide = lib.get("wide", "zh")
    assert wide.size == pytest.approx(RATE, abs=2)
    assert dominant_hz(wide) == pytest.approx(1000, abs=3)
    assert lib.get("stereo", "zh").size == 4000
    assert lib.validate() == [f"{tmp_path / 'manifest.toml'}: missing"]


def test_names_and_preload(voices: Path) -> None:
    lib = PromptLibrary(voices)
    assert lib.names("zh") == ["hello", "moh"]
    assert lib.names("en") == ["bye", "hello", "moh"]
    assert lib.preload() == 5  # zh: hello, moh; en: bye, hello, moh


def test_validate_reports_each_mismatch(voices: Path) -> None:
    lib = PromptLibrary(voices)
    assert lib.validate() == ["bye.zh: file zh/bye.wav is missing"]
    put(voices, "zh/bye.wav", tone(880, 0.8))  # wrong duration
    put(voices, "zh/extra.wav", tone(880, 0.3))  # not listed
    put(voices, "en/hello.wav", tone(660, 0.5, rate=16000), fmt="pcm16", rate=16000)
    problems = PromptLibrary(voices).validate()
    assert "bye.zh: manifest says 0.300 s, zh/bye.wav has 0.800 s" in problems
    assert "zh/extra.wav: on disk but not in the manifest" in problems
    assert "hello.en: en/hello.wav is 16000 Hz, expected 8000 Hz" in problems
    assert len(problems) == 3


def test_validate_wants_every_speech_prompt_in_every_language(voices: Path) -> None:
    text = MANIFEST.replace('zh = { text = "你好", file = "zh/hello.wav", duration = 0.5 }\n', "")
    (voices / "manifest.toml").write_text(text, encoding="utf-8")
    problems = PromptLibrary(voices).validate()
    assert "hello: no zh entry in the manifest" in problems


def test_broken_manifest_is_refused_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "manifest.toml").write_text("[prompts\nx = 1\n", encoding="utf-8")
    with pytest.raises(PromptManifestError, match=r"manifest\.toml"):
        PromptLibrary(tmp_path)


def test_active_level_ignores_pauses() -> None:
    burst = tone(1000, 0.5)
    with_pause = np.concatenate([burst, np.zeros(8000, np.int16), burst])
    assert active_level_dbm0(burst) == pytest.approx(-18.0, abs=0.1)
    assert active_level_dbm0(with_pause) == pytest.approx(-18.0, abs=0.1)
    assert active_level_dbm0(np.zeros(800, np.int16)) == float("-inf")
