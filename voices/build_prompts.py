#!/usr/bin/env python3
"""Generate every voice prompt in `voices/` reproducibly, and write `voices/manifest.toml`.

    python voices/build_prompts.py [--lang zh|en|all] [--check] [--out DIR]

Why a script and not recordings: a small office needs working prompts on day one, in both
languages, and the IVR composes numbers from dozens of one-word clips that must share one level
and one voice. espeak-ng (Debian) is deterministic for a given version, so the committed WAVs can
be re-made bit for bit and `--check` proves the repository matches this table. An office that
records its own voice replaces files of the same name; the loader reads A-law or PCM16 WAVs.

Pipeline per prompt: espeak-ng → SoX (high-pass, resample to 8 kHz, float out, no dither) →
trim leading/trailing silence → normalise the *active* speech level to -18 dBm0 with a soft
peak limiter → 8 kHz mono A-law WAV (format 6), 8 kB per second, to keep the repository small.
Music on hold and the record beep are synthesised with numpy.

Mandarin uses the `cmn-latn-pinyin` voice: with espeak-ng 1.51 the plain `cmn` voice turns
汉字 into tone-numbered pinyin and then reads that as English ("nin2" → "nin two").
"""

from __future__ import annotations

import argparse
import filecmp
import json
import logging
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VOICES_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(VOICES_DIR.parent))  # run as a plain script from a checkout

from ccd.dsp.levels import dbm0_to_rms, power_dbm0  # noqa: E402
from ccd.dsp.wav import read_wav, wav_bytes  # noqa: E402
from ccd.telephony.prompts import active_level_dbm0  # noqa: E402

log = logging.getLogger("build_prompts")

RATE = 8000
LANGS = ("zh", "en")
ESPEAK_VOICE = {"zh": "cmn-latn-pinyin", "en": "en-us"}
ESPEAK_SPEED = {"zh": 160, "en": 160}  # words per minute: a little slower than default for phones
TARGET_DBM0 = -18.0
MIN_SECONDS = 0.25  # the shortest clips ("E.") get trailing silence so no prompt is a mere blip
SEGMENT_GAP_S = 0.25  # between the parts of a multi-voice prompt (select_language)
PEAK_KNEE = 0.70 * 32767  # above this the soft limiter bends peaks towards full scale
PEAK_MAX = 0.97 * 32767

Segments = tuple[tuple[str, str], ...]  # ((espeak language key, text), ...)

# Pronunciation fixes inside a text: "{重新|chong2 xin1}" shows 重新 in the manifest and sends the
# pinyin to espeak-ng, whose dictionary picks the wrong reading of some polyphones (重, 处, 假).
_SAY_AS = re.compile(r"\{([^|{}]+)\|([^|{}]+)\}")


def shown(text: str) -> str:
    """The text as people read it (manifest, logs)."""
    return _SAY_AS.sub(r"\1", text)


def spoken(text: str) -> str:
    """The text as espeak-ng gets it."""
    return _SAY_AS.sub(r" \2 ", text)


@dataclass(frozen=True, slots=True)
class Prompt:
    """One spoken prompt: its name, why it exists, and its text per language."""

    name: str
    description: str
    zh: str | Segments
    en: str | Segments

    def segments(self, lang: str) -> Segments:
        text = self.zh if lang == "zh" else self.en
        return ((lang, text),) if isinstance(text, str) else text

    def text(self, lang: str) -> str:
        return " ".join(shown(t) for _, t in self.segments(lang))


@dataclass(frozen=True, slots=True)
class Synth:
    """A prompt made by numpy rather than speech (music on hold, tones)."""

    name: str
    description: str
    kind: str
    level_dbm0: float
    make: Callable[[], np.ndarray]


def _p(name: str, zh: str | Segments, en: str | Segments, description: str) -> Prompt:
    return Prompt(name, description, zh, en)


_ZH_DIGITS = "零一二三四五六七八九"
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen")
_EN_TEENS += ("eighteen", "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September")
_EN_MONTHS += ("October", "November", "December")
_EN_ORD = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_EN_ORD += ("eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth")
_EN_ORD += ("eighteenth", "nineteenth", "twentieth")


def _zh_small(n: int) -> str:
    """Chinese numeral for 1..99, for the texts of the number prompts."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _ZH_DIGITS[tens] + "十")
    return head + (_ZH_DIGITS[ones] if ones else "")


def _number_prompts() -> list[Prompt]:
    out = [_p(f"digit_{d}", _ZH_DIGITS[d], _EN_DIGITS[d], f"Digit {d}") for d in range(10)]
    out += [_p(f"num_{v}", _zh_small(v), _EN_TEENS[v - 10], f"Number {v}") for v in range(10, 20)]
    out += [_p(f"num_{v}", _zh_small(v), _EN_TENS[v // 10], f"Number {v} (tens)") for v in range(20, 100, 10)]
    out += [
        _p("num_100", "百", "one hundred", "百: hundreds unit in Mandarin numbers"),
        _p("num_1000", "千", "one thousand", "千: thousands unit in Mandarin numbers"),
        _p("num_10000", "万", "ten thousand", "万: ten-thousands group unit"),
        _p("num_100000000", "亿", "one hundred million", "亿: hundred-millions group unit"),
        _p("hundred", "百", "hundred", "English scale word 'hundred'"),
        _p("thousand", "千", "thousand", "English scale word 'thousand'"),
        _p("million", "百万", "million", "English scale word 'million'"),
        _p("billion", "十亿", "billion", "English scale word 'billion'"),
        _p("liang", "两", "two", "两: 2 before 百/千/万 and measure words"),
        _p("yao", "幺", "one", "幺: 1 in digit strings (phone and agent numbers)"),
        _p("dian", "点", "point", "Decimal point (点)"),
        _p("point", "点", "point", "Decimal point"),
        _p("fu", "负", "minus", "Negative sign (负)"),
        _p("minus", "负", "minus", "Negative sign"),
        _p("star", "星号", "star", "The * key"),
        _p("hash", "井号", "pound", "The # key"),
        _p("and", "和", "and", "'and' between dollars and cents"),
        _p("oh", "零", "oh", "'oh' in years and times (nineteen oh five)"),
        _p("oclock", "整", "o'clock", "On the hour: 整 / o'clock"),
        _p("am", "上午", "a.m.", "Morning"),
        _p("pm", "下午", "p.m.", "Afternoon or evening"),
        _p("yuan", "元", "yuan", "Currency unit 元"),
        _p("jiao", "角", "dimes", "Currency unit 角 (0.1 元)"),
        _p("fen", "分", "cents", "Currency unit 分 (0.01 元)"),
        _p("dollar", "美元", "dollar", "Currency unit, singular"),
        _p("dollars", "美元", "dollars", "Currency unit, plural"),
        _p("cent", "美分", "cent", "Cent, singular"),
        _p("cents", "美分", "cents", "Cents, plural"),
        _p("nian", "年", "year", "年 after a year in dates"),
        _p("yue", "月", "month", "月 after a month number"),
        _p("ri", "日", "day", "日 after a day number (written style)"),
        _p("hao", "号", "number", "号 after a day number (spoken style) or an ID"),
        _p("dian_zhong", "点", "o'clock", "点 after the hour in a clock time"),
        _p("fen_zhong", "分", "minutes", "分 after the minutes in a clock time"),
        _p("second", "秒", "second", "Duration unit, singular"),
        _p("seconds", "秒", "seconds", "Duration unit"),
        _p("minute", "分钟", "minute", "Duration unit, singular"),
        _p("minutes", "分钟", "minutes", "Duration unit"),
    ]
    out += [_p(f"month_{m}", f"{_zh_small(m)}月", _EN_MONTHS[m - 1], f"Month {m}") for m in range(1, 13)]
    out += [_p(f"ord_{v}", f"第{_zh_small(v)}", _EN_ORD[v - 1], f"Ordinal {v}") for v in range(1, 21)]
    out.append(_p("ord_30", "第三十", "thirtieth", "Ordinal 30"))
    # Agent IDs like "A012" (the seed's default agent names start with A): letters are said the
    # English way in both languages, as Chinese speakers do.
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        seg: Segments = (("en", f"{c}."),)
        out.append(_p(f"letter_{c.lower()}", seg, seg, f"Letter {c}"))
    return out


_SELECT_LANGUAGE: Segments = (("zh", "中文服务请按1。"), ("en", "For English, press 2."))

SENTENCES: list[Prompt] = [
    _p(
        "welcome",
        "您好，欢迎致电客户服务中心。",
        "Hello, and welcome to our customer service center.",
        "Greeting",
    ),
    _p(
        "menu_main",
        "查询订单请按1，售后服务请按2，人工服务请按0，再听一遍请按星号键。",
        "For order status, press 1. For after-sales service, press 2. "
        "To speak to an agent, press 0. To hear these options again, press star.",
        "Example main menu",
    ),
    _p("press", "请按", "press", "Menu building block: '… press N'"),
    _p("for", "如需", "for", "Menu building block: 'For … press N'"),
    _p("select_language", _SELECT_LANGUAGE, _SELECT_LANGUAGE, "Bilingual language choice (same in both)"),
    _p("please_hold", "请稍候。", "Please hold.", "Short hold request"),
    _p(
        "transfer_wait",
        "正在为您转接，请稍候。",
        "Please wait while we transfer your call.",
        "Before a transfer",
    ),
    _p("queue_next", "您是下一位，请稍候。", "You are next in line.", "Queue position 1"),
    _p("queue_position_1", "您前面还有", "You are number", "Queue position, part before the number"),
    _p("queue_position_2", "位客户在等待。", "in the queue.", "Queue position, part after the number"),
    _p(
        "wait_estimate_1",
        "预计等待时间约",
        "Your estimated wait time is about",
        "Estimated wait, before minutes",
    ),
    _p("wait_estimate_2", "分钟。", "minutes.", "Estimated wait, after minutes"),
    _p(
        "wait_less_than_minute",
        "预计等待时间不到一分钟。",
        "Your estimated wait time is less than one minute.",
        "Estimated wait under a minute",
    ),
    _p("agent_announce_1", "工号", "Agent number", "报工号, before the agent number"),
    _p("agent_announce_2", "号话务员为您服务。", "will serve you.", "报工号, after the agent number"),
    _p(
        "all_busy",
        "对不起，坐席全忙，请您稍候。",
        "All of our agents are busy. Please stay on the line.",
        "All agents busy",
    ),
    _p(
        "closed",
        "您好，现在是非工作时间，请在工作时间内来电，或在提示音后留言。",
        "Our office is now closed. Please call again during business hours, or leave a message after the tone.",
        "Outside business hours (非工作时间)",
    ),
    _p(
        "holiday",
        "您好，节{假|jia4}日期间暂停服务，请在工作日来电。",
        "Our office is closed for the holiday. Please call again on the next business day.",
        "Holiday closure",
    ),
    _p(
        "callback_offer",
        "保持排队请继续等待，需要回拨请按1。",
        "To keep your place in line, please stay on the line. To be called back instead, press 1.",
        "Offer a callback that keeps the caller's place",
    ),
    _p(
        "callback_confirm",
        "我们已记录您的号码，将保留您的排队位置，轮到您时给您回电，请挂机。",
        "Thank you. Your place in line is kept and we will call you back when it is your turn. "
        "You may hang up now.",
        "Callback accepted",
    ),
    _p(
        "voicemail_greeting",
        "您好，我们现在无法接听您的电话，请在提示音后留言，留言完毕请按井号键或直接挂机。",
        "We cannot take your call right now. Please leave a message after the tone, "
        "and press pound or hang up when you are finished.",
        "Default mailbox greeting",
    ),
    _p(
        "voicemail_beep_prompt",
        "请在提示音后开始留言。",
        "Please leave your message after the tone.",
        "Before the beep",
    ),
    _p(
        "voicemail_enter_mailbox",
        "请输入您的信箱号码，以井号键结束。",
        "Please enter your mailbox number, followed by pound.",
        "Voicemail login: mailbox",
    ),
    _p(
        "voicemail_enter_pin",
        "请输入密码，以井号键结束。",
        "Please enter your password, followed by pound.",
        "Voicemail login: PIN",
    ),
    _p(
        "voicemail_login_failed",
        "信箱号码或密码错误。",
        "The mailbox number or password is incorrect.",
        "Voicemail login refused",
    ),
    _p("voicemail_no_messages", "您没有留言。", "You have no messages.", "Empty mailbox"),
    _p("voicemail_you_have", "您有", "You have", "Message count, before the number"),
    _p("voicemail_messages", "条留言。", "messages.", "Message count, after the number"),
    _p("voicemail_message", "条留言。", "message.", "Message count, after 1 (English singular)"),
    _p(
        "voicemail_menu",
        "收听留言请按1，下一条请按2，删除请按3，保存请按4。",
        "To play the message, press 1. For the next message, press 2. To delete it, press 3. To save it, press 4.",
        "Mailbox menu",
    ),
    _p("voicemail_no_more", "没有更多留言了。", "There are no more messages.", "End of the message list"),
    _p("voicemail_deleted", "留言已删除。", "Message deleted.", "After delete"),
    _p("voicemail_saved", "留言已保存。", "Message saved.", "After save"),
    _p(
        "survey_intro",
        "请对本次服务评分，非常满意请按5，满意请按4，一般请按3，不太满意请按2，不满意请按1。",
        "Please rate our service. Press 5 if you were very satisfied, 4 if satisfied, 3 if neutral, "
        "2 if dissatisfied, or 1 if very dissatisfied.",
        "Satisfaction survey question",
    ),
    _p("survey_thanks", "感谢您的评价，再见。", "Thank you for your feedback. Goodbye.", "After the survey"),
    _p(
        "invalid",
        "输入错误，请{重新|chong2 xin1}输入。",
        "Sorry, that is not a valid choice. Please try again.",
        "Invalid key",
    ),
    _p("timeout", "对不起，我们没有收到您的按键。", "Sorry, we did not receive your input.", "No input"),
    _p("you_entered", "您输入的是", "You entered", "Before reading back digits"),
    _p("goodbye", "感谢您的来电，再见。", "Thank you for calling. Goodbye.", "Before hang-up"),
    _p(
        "blocked",
        "对不起，您的来电无法接通，再见。",
        "Sorry, your call cannot be accepted. Goodbye.",
        "Call firewall",
    ),
    _p(
        "press_hash_to_talk",
        "与我们通话请按井号键。",
        "To speak with us, please press pound.",
        "Call firewall screening",
    ),
    _p(
        "enter_order_number",
        "请输入您的订单号码，以井号键结束。",
        "Please enter your order number, followed by pound.",
        "Order lookup: ask for the number",
    ),
    _p("order_status_shipped", "您的订单已发货。", "Your order has been shipped.", "Order lookup result"),
    _p(
        "order_status_pending",
        "您的订单正在{处理|chu3 li3}中。",
        "Your order is being processed.",
        "Order lookup result",
    ),
    _p(
        "order_not_found",
        "对不起，没有找到该订单，请核对后{重新|chong2 xin1}输入。",
        "Sorry, we could not find that order. Please check the number and try again.",
        "Order lookup: unknown number",
    ),
]

PROMPTS: list[Prompt] = _number_prompts() + SENTENCES


# --- synthesis ------------------------------------------------------------------------------------


def _midi_hz(note: int) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def synth_moh(rate: int = RATE) -> np.ndarray:
    """A calm 20 s loop: pad chords under an arpeggio, I-vi-IV-V twice at 96 bpm.

    Notes are rendered into a buffer longer than the loop and the overflow is folded back onto
    the start, so decays that cross the loop point continue seamlessly when the player wraps.
    Everything sits between 170 Hz and 2 kHz, where a phone line carries it.
    """
    bar_s = 2.5
    bars = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62), (60, 64, 67), (57, 60, 64)]
    bars += [(50, 53, 57, 60), (55, 59, 62, 65)]
    total = round(bar_s * len(bars) * rate)
    buf = np.zeros(total + 3 * rate)
    pattern = (0, 1, 2, 3, 2, 1, 2, 1)
    step = bar_s / len(pattern)

    def tone(freq: float, dur: float, attack: float, decay: float) -> np.ndarray:
        t = np.arange(int(dur * rate)) / rate
        env = np.minimum(t / attack, 1.0) * np.exp(-t / decay)
        env *= np.clip((dur - t) / 0.05, 0.0, 1.0)  # no click at the end of the note
        wave = (
            np.sin(2 * np.pi * freq * t)
            + 0.3 * np.sin(4 * np.pi * freq * t)
            + 0.08 * np.sin(6 * np.pi * freq * t)
        )
        return env * wave

    for i, chord in enumerate(bars):
        start = round(i * bar_s * rate)
        for note in chord[:3]:  # pad: slow swell across the bar
            pad = tone(_midi_hz(note), bar_s + 0.8, 0.6, 2.5) * 0.22
            buf[start : start + pad.size] += pad
        arp = [*chord, chord[0] + 12] if len(chord) == 3 else [*chord]
        for k, idx in enumerate(pattern):
            s = start + round(k * step * rate)
            note = tone(_midi_hz(arp[idx] + 12), 1.2, 0.006, 0.35) * (0.55 if k % 4 == 0 else 0.4)
            buf[s : s + note.size] += note
    loop = buf[:total].copy()
    loop[: buf.size - total] += buf[total:]
    return loop


def synth_beep(rate: int = RATE) -> np.ndarray:
    """The record tone: 1 kHz for 400 ms with 10 ms raised-cosine ramps (no clicks)."""
    n = int(0.4 * rate)
    t = np.arange(n) / rate
    ramp = int(0.01 * rate)
    env = np.ones(n)
    env[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    env[-ramp:] = env[:ramp][::-1]
    return np.sin(2 * np.pi * 1000.0 * t) * env


COMMON: list[Synth] = [
    Synth("moh", "Music on hold, loopable (20 s)", "music", -20.0, synth_moh),
    Synth("beep", "Record tone before voicemail and recording", "tone", -15.0, synth_beep),
]


# --- audio pipeline -------------------------------------------------------------------------------


def _run(cmd: Sequence[str], stdin: bytes | None = None) -> bytes:
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise SystemExit(
            f"build_prompts: {cmd[0]} is not installed (apt-get install espeak-ng sox)"
        ) from None
    if res.returncode != 0:
        raise SystemExit(f"build_prompts: {cmd[0]} failed: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


def speak(lang: str, text: str) -> np.ndarray:
    """espeak-ng → SoX → float64 samples at 8 kHz (int16 scale)."""
    wav = _run(["espeak-ng", "-v", ESPEAK_VOICE[lang], "-s", str(ESPEAK_SPEED[lang]), "--stdout", text])
    raw = _run(
        [
            "sox",
            "-V1",
            "-D",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-c",
            "1",
            "-",
            "highpass",
            "120",
            "rate",
            "-h",
            str(RATE),
        ],
        stdin=wav,
    )
    return np.frombuffer(raw, dtype="<f4").astype(np.float64) * 32768.0


def trim_silence(x: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Cut leading and trailing silence, keeping a short margin and fading the edges.

    A frame is speech when it is within 40 dB of the loudest frame and above -55 dBm0, so the
    breath-quiet tails of espeak's output go but soft consonants stay.
    """
    frame = rate // 100
    n = x.size // frame
    if n == 0:
        return x
    power = np.array([power_dbm0(x[i * frame : (i + 1) * frame]) for i in range(n)])
    active = np.flatnonzero(power > max(power.max() - 40.0, -55.0))
    if active.size == 0:
        return x[:0]
    start = max(0, (active[0] - 2) * frame)
    end = min(x.size, (active[-1] + 5) * frame)
    y = x[start:end].copy()
    fade = min(int(0.005 * rate), y.size // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    return y


def normalise(x: np.ndarray, target_dbm0: float) -> np.ndarray:
    """Scale to the target active level; a soft knee keeps peaks under full scale."""
    level = active_level_dbm0(x)
    if not np.isfinite(level):
        return x
    y = x * (dbm0_to_rms(target_dbm0) / dbm0_to_rms(level))
    mag = np.abs(y)
    over = mag > PEAK_KNEE
    span = PEAK_MAX - PEAK_KNEE
    mag[over] = PEAK_KNEE + span * np.tanh((mag[over] - PEAK_KNEE) / span)
    return np.sign(y) * mag


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def write_alaw_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    """8 kHz mono A-law WAV (format 6, with the `fact` chunk), via the project's WAV writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(samples, "alaw", rate))


def render_prompt(prompt: Prompt, lang: str) -> np.ndarray:
    parts = [trim_silence(speak(seg_lang, spoken(text))) for seg_lang, text in prompt.segments(lang)]
    gap = np.zeros(int(SEGMENT_GAP_S * RATE))
    joined = parts[0]
    for part in parts[1:]:
        joined = np.concatenate([joined, gap, part])
    if joined.size < MIN_SECONDS * RATE:
        joined = np.concatenate([joined, np.zeros(int(MIN_SECONDS * RATE) - joined.size)])
    return to_int16(normalise(joined, TARGET_DBM0))


def render_synth(synth: Synth) -> np.ndarray:
    x = synth.make()
    x = x * (16000.0 / np.max(np.abs(x)))  # to int16 scale first: the level meter ignores near-silence
    return to_int16(normalise(x, synth.level_dbm0))


# --- manifest -------------------------------------------------------------------------------------


def _tool_version(cmd: Sequence[str]) -> str:
    try:
        res = subprocess.run(cmd, capture_output=True, check=False, text=True)
    except FileNotFoundError:
        return "missing"
    return (res.stdout or res.stderr).strip().splitlines()[0] if (res.stdout or res.stderr) else "unknown"


def _q(s: str) -> str:
    """A TOML basic string (JSON escapes are valid TOML)."""
    return json.dumps(s, ensure_ascii=False)


def _duration(path: Path) -> float:
    """Seconds of audio in a prompt file; 0.0 when it is missing (validate() then reports it)."""
    if not path.is_file():
        log.warning("%s is missing: run with --lang all to regenerate it", path)
        return 0.0
    samples, info = read_wav(path, target_rate=None)
    return round(samples.size / info.rate, 3)


def write_manifest(root: Path) -> None:
    espeak = _tool_version(["espeak-ng", "--version"]).split("Data at")[0].strip()
    sox = _tool_version(["sox", "--version"]).replace("sox:", "").strip()  # "SoX v14.4.2"
    lines = [
        "# Generated by voices/build_prompts.py: edit the tables there, not this file.",
        "[meta]",
        f"rate = {RATE}",
        'encoding = "alaw"',
        f"target_dbm0 = {TARGET_DBM0}",
        f"languages = [{', '.join(_q(lang) for lang in LANGS)}]",
        f"voices = {{ zh = {_q(ESPEAK_VOICE['zh'])}, en = {_q(ESPEAK_VOICE['en'])} }}",
        f"generator = {_q(f'{espeak}; {sox}')}",
        "",
    ]
    for prompt in PROMPTS:
        lines += [
            f"[prompts.{prompt.name}]",
            f"description = {_q(prompt.description)}",
            'kind = "speech"',
            f"level_dbm0 = {TARGET_DBM0}",
        ]
        for lang in LANGS:
            rel = f"{lang}/{prompt.name}.wav"
            lines.append(
                f"{lang} = {{ text = {_q(prompt.text(lang))}, file = {_q(rel)}, duration = {_duration(root / rel)} }}"
            )
        lines.append("")
    for synth in COMMON:
        rel = f"common/{synth.name}.wav"
        lines += [
            f"[prompts.{synth.name}]",
            f"description = {_q(synth.description)}",
            f"kind = {_q(synth.kind)}",
            f"level_dbm0 = {synth.level_dbm0}",
            f"common = {{ file = {_q(rel)}, duration = {_duration(root / rel)} }}",
            "",
        ]
    (root / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


# --- driver ---------------------------------------------------------------------------------------


def build(root: Path, langs: Sequence[str], *, jobs: int = 4) -> list[Path]:
    """Render the prompts of `langs` (plus common sounds) under `root`; return the paths written."""
    tasks: list[tuple[Path, Callable[[], np.ndarray]]] = []
    for lang in langs:
        for prompt in PROMPTS:
            tasks.append((root / lang / f"{prompt.name}.wav", lambda p=prompt, lg=lang: render_prompt(p, lg)))
    for synth in COMMON:
        tasks.append((root / "common" / f"{synth.name}.wav", lambda s=synth: render_synth(s)))
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # espeak/sox run as processes: threads suffice
        rendered = list(pool.map(lambda task: task[1](), tasks))
    for (path, _), samples in zip(tasks, rendered, strict=True):
        write_alaw_wav(path, samples)
    return [path for path, _ in tasks]


def check(repo_voices: Path, langs: Sequence[str]) -> int:
    """Regenerate into a temporary directory and list committed files that differ."""
    with tempfile.TemporaryDirectory(prefix="ccd-voices-") as tmp:
        tmp_root = Path(tmp)
        written = build(tmp_root, langs)
        differ = []
        for path in written:
            rel = path.relative_to(tmp_root)
            committed = repo_voices / rel
            if not committed.exists():
                differ.append(f"missing: {rel}")
            elif not filecmp.cmp(path, committed, shallow=False):
                differ.append(f"differs: {rel}")
        if set(langs) == set(LANGS):
            write_manifest(tmp_root)
            if not filecmp.cmp(tmp_root / "manifest.toml", repo_voices / "manifest.toml", shallow=False):
                differ.append("differs: manifest.toml")
    for line in differ:
        log.warning("%s", line)
    if differ:
        log.warning(
            "%d of %d files differ (espeak-ng or SoX version changed, or the table was edited)",
            len(differ),
            len(written) + 1,
        )
        return 1
    log.info("all %d generated files match the committed ones", len(written))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="which language to generate")
    parser.add_argument(
        "--check", action="store_true", help="regenerate in a temp dir and report differences"
    )
    parser.add_argument("--out", type=Path, default=VOICES_DIR, help="output directory (default: voices/)")
    parser.add_argument("--jobs", type=int, default=4, help="parallel espeak-ng/SoX processes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    langs = list(LANGS) if args.lang == "all" else [args.lang]
    if args.check:
        return check(args.out, langs)
    written = build(args.out, langs, jobs=max(1, args.jobs))
    write_manifest(args.out)
    total = sum(p.stat().st_size for p in written)
    log.info("wrote %d prompts (%.1f kB) and %s", len(written), total / 1024, args.out / "manifest.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
