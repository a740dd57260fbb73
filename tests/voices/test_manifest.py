"""The committed prompts: complete in both languages, phone-ready, consistent with the manifest."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tomllib
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from ccd.dsp.wav import read_wav
from ccd.telephony.prompts import PromptLibrary, active_level_dbm0
from ccd.telephony.say import prompt_names_used

VOICES = Path(__file__).resolve().parents[2] / "voices"
LANGS = ("zh", "en")
MAX_TOTAL_BYTES = 4_000_000


@cache
def manifest() -> dict:
    with (VOICES / "manifest.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def build_script():
    spec = importlib.util.spec_from_file_location("build_prompts", VOICES / "build_prompts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_prompts"] = module
    spec.loader.exec_module(module)
    return module


def files() -> list[tuple[str, str, dict, dict]]:
    """(name, language or 'common', prompt entry, file entry) for every file in the manifest."""
    out = []
    for name, entry in manifest()["prompts"].items():
        for where in (*LANGS, "common"):
            if where in entry:
                out.append((name, where, entry, entry[where]))
    return out


def test_library_validates_clean() -> None:
    assert PromptLibrary(VOICES).validate() == []


def test_every_speech_prompt_exists_in_both_languages() -> None:
    lib = PromptLibrary(VOICES)
    speech = [n for n, e in manifest()["prompts"].items() if e["kind"] == "speech"]
    assert len(speech) > 150
    for lang in LANGS:
        missing = [n for n in speech if not lib.exists(n, lang)]
        assert missing == [], f"{lang}: {missing}"
        assert {p.stem for p in (VOICES / lang).glob("*.wav")} == set(speech)


def test_everything_the_sayers_need_is_recorded() -> None:
    missing = set(prompt_names_used()) - set(manifest()["prompts"])
    assert missing == set()


def test_brief_prompts_are_present() -> None:
    wanted = {
        "welcome", "menu_main", "press", "for", "please_hold", "queue_position_1", "queue_position_2",
        "wait_estimate_1", "wait_estimate_2", "agent_announce_1", "agent_announce_2", "all_busy",
        "closed", "holiday", "callback_offer", "callback_confirm", "voicemail_greeting",
        "voicemail_beep_prompt", "voicemail_enter_mailbox", "voicemail_enter_pin",
        "voicemail_no_messages", "voicemail_you_have", "voicemail_messages", "voicemail_menu",
        "voicemail_deleted", "voicemail_saved", "survey_intro", "survey_thanks", "invalid", "timeout",
        "goodbye", "transfer_wait", "blocked", "press_hash_to_talk", "order_status_shipped",
        "order_status_pending", "order_not_found", "select_language", "enter_order_number",
        "moh", "beep", "yuan", "jiao", "fen", "nian", "yue", "ri", "hao", "dian_zhong", "fen_zhong",
        "seconds", "minutes", "dollars", "cents", "hundred", "thousand", "million", "point", "minus",
    }  # fmt: skip
    assert wanted - set(manifest()["prompts"]) == set()
    texts = manifest()["prompts"]
    assert "话务员为您服务" in texts["agent_announce_2"]["zh"]["text"]
    assert "前面还有" in texts["queue_position_1"]["zh"]["text"]
    assert "English" in texts["select_language"]["zh"]["text"]


def test_manifest_matches_the_generator_table() -> None:
    script = build_script()
    speech = {p.name for p in script.PROMPTS}
    common = {s.name for s in script.COMMON}
    assert speech | common == set(manifest()["prompts"])
    assert len(speech) == len(script.PROMPTS), "duplicate prompt names in build_prompts.py"


@pytest.mark.parametrize(
    ("name", "where", "entry", "item"), files(), ids=[f"{w}/{n}" for n, w, _, _ in files()]
)
def test_file_is_phone_ready(name: str, where: str, entry: dict, item: dict) -> None:
    samples, info = read_wav(VOICES / item["file"], target_rate=None)
    assert (info.rate, info.channels, info.format) == (8000, 1, "alaw")
    seconds = samples.size / info.rate
    if entry["kind"] == "music":
        assert 15.0 <= seconds <= 30.0
    else:
        assert 0.2 < seconds < 15.0
    level = active_level_dbm0(samples)
    assert abs(level - entry["level_dbm0"]) < 2.0, f"{level:.1f} dBm0"
    assert np.abs(samples.astype(np.int32)).max() < 32000  # the limiter left headroom: no clipping


def test_voices_fit_in_the_repository_budget() -> None:
    total = sum(p.stat().st_size for p in VOICES.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < MAX_TOTAL_BYTES, f"voices/ holds {total / 1e6:.2f} MB"


def test_music_on_hold_loops_without_a_click() -> None:
    samples, _ = read_wav(VOICES / "common" / "moh.wav", target_rate=None)
    x = samples.astype(np.float64)
    step = np.abs(np.diff(x))
    seam = abs(x[0] - x[-1])
    assert seam <= np.percentile(step, 99)


def test_languages_sound_different() -> None:
    """Guards against a voice mix-up: the zh and en welcomes are different recordings."""
    zh, _ = read_wav(VOICES / "zh" / "welcome.wav", target_rate=None)
    en, _ = read_wav(VOICES / "en" / "welcome.wav", target_rate=None)
    assert zh.size != en.size or not np.array_equal(zh, en)


def _have_tools() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


@pytest.mark.skipif(not _have_tools(), reason="espeak-ng and sox are needed to regenerate prompts")
@pytest.mark.parametrize(("name", "lang"), [("digit_5", "zh"), ("agent_announce_2", "zh"), ("welcome", "en")])
def test_generator_reproduces_committed_prompt(tmp_path: Path, name: str, lang: str) -> None:
    script = build_script()
    prompt = next(p for p in script.PROMPTS if p.name == name)
    out = tmp_path / f"{name}.wav"
    script.write_alaw_wav(out, script.render_prompt(prompt, lang))
    assert out.read_bytes() == (VOICES / lang / f"{name}.wav").read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(not _have_tools(), reason="espeak-ng and sox are needed to regenerate prompts")
def test_generator_check_finds_no_difference() -> None:
    assert build_script().main(["--check", "--jobs", "2"]) == 0
