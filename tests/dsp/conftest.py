"""Shared fixtures for the DSP tests: G.711 round trip, espeak-ng speech (cached per session).

Only add fixtures here; other test files in tests/dsp/ may rely on any of them.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Callable

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop  # stdlib up to 3.12
    except ImportError:  # pragma: no cover - Python >= 3.13 uses the audioop-lts backport
        audioop = pytest.importorskip("audioop")


def g711_roundtrip(x: np.ndarray, law: str = "ulaw") -> np.ndarray:
    """Encode int16 audio to G.711 and back (reference tables from audioop), as a phone line does."""
    raw = np.asarray(x, dtype="<i2").tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if law == "ulaw":
            back = audioop.ulaw2lin(audioop.lin2ulaw(raw, 2), 2)
        elif law == "alaw":
            back = audioop.alaw2lin(audioop.lin2alaw(raw, 2), 2)
        else:
            raise ValueError(law)
    return np.frombuffer(back, dtype="<i2").astype(np.int16)


@pytest.fixture
def g711() -> Callable[..., np.ndarray]:
    """`g711(x, law="ulaw")`: G.711 round trip of int16 audio."""
    return g711_roundtrip


# (voice, words per minute, pitch, text): English and Mandarin weighted most, as in the offices we serve.
SPEECH_SCRIPTS: list[tuple[str, int, int, str]] = [
    (
        "en-us",
        165,
        50,
        "Thank you for calling. Please hold while we connect you to the next available agent. "
        "Your call is important to us. Press one for sales, two for support, or stay on the line. "
        "I would like to check the status of my order, the number is four five seven, nine nine one.",
    ),
    (
        "en",
        190,
        70,
        "Hello, is that the accounts department? I was charged twice for the same invoice last month "
        "and I would like a refund. Could you read me the reference number again, slowly please?",
    ),
    (
        "cmn",
        160,
        50,
        "您好，欢迎致电客户服务中心。请问有什么可以帮您？我想查询一下我的订单，订单号是一三八零零一三八零零零。"
        "好的，请稍等，我帮您查一下。您的包裹明天上午就会送到，请保持电话畅通。",
    ),
    (
        "cmn",
        200,
        80,
        "喂，你好，我是张三，上次买的打印机坏了，屏幕一直显示错误代码，能不能派人来修一下？"
        "我们公司在北京市朝阳区，下午三点以后都有人。谢谢，再见。",
    ),
    (
        "de",
        170,
        40,
        "Guten Tag, ich rufe wegen meiner Rechnung an. Die Kundennummer lautet drei sieben zwei eins. "
        "Können Sie mir bitte sagen, wann die Lieferung ankommt?",
    ),
    (
        "fr",
        175,
        60,
        "Bonjour, je voudrais parler au service client. J'ai reçu un colis abîmé hier matin "
        "et je souhaite un remboursement, s'il vous plaît.",
    ),
    (
        "en-us",
        140,
        20,
        "One two three four five six seven eight nine zero. Star. Pound. Hash. Hello hello hello.",
    ),
    ("cmn", 140, 30, "一二三四五六七八九零。喂喂喂，听得到吗？好的好的，没问题。"),
]


def _espeak_to_8k(voice: str, wpm: int, pitch: int, text: str) -> np.ndarray:
    """Synthesise `text` with espeak-ng and resample to 8 kHz int16 with sox."""
    tts = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    sox = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", "-"],
        input=tts.stdout,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return np.frombuffer(sox.stdout, dtype="<i2").astype(np.int16)


@pytest.fixture(scope="session")
def espeak_speech(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """Speech clips (8 kHz int16) from SPEECH_SCRIPTS, generated once per session into a tmp cache."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed for speech talk-off tests")
    cache = tmp_path_factory.mktemp("espeak")
    clips = []
    for k, (voice, wpm, pitch, text) in enumerate(SPEECH_SCRIPTS):
        f = cache / f"clip{k}.raw"
        if not f.exists():
            f.write_bytes(_espeak_to_8k(voice, wpm, pitch, text).tobytes())
        clips.append(np.frombuffer(f.read_bytes(), dtype="<i2").astype(np.int16))
    return clips
