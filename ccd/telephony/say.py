"""Say numbers, amounts, dates and times as sequences of prompt names.

The IVR's `play_number` node and the queue's announcements speak values by concatenating
short recorded prompts (`voices/<lang>/<name>.wav`), the way every voice-board IVR did it
("PLAY NUMBER" in the seeds). This module only decides *which* prompts, in which order: it is
pure (no I/O, no clock), so every rule of the spoken language is a table-driven test.

Mandarin rules followed (the ones callers notice when they are wrong):

* 10–19 at the start of a number is 十, 十二 — not 一十二; inside a number it is 一十
  (一百一十, 一千零一十).
* Zeros: a run of zeros inside a 4-digit group, or at the start of a lower group (including a
  whole empty group), is read as one 零; zeros at the end of a group are silent
  (一百零五, 一万零五, 一亿零五, 一百万一千, 一亿零一千).
* 2 is 两 before 千, before 万/亿 when the group is just 2 (两万, 两亿), before 百 when it opens
  the number (两百, but 两千二百), and before a measure word when the whole number is 2
  (`classifier=True`: 两位, 两分钟, 两点). Otherwise 二 (十二, 二十二).
* Digit strings (phone numbers, agent numbers for 报工号) may read 1 as 幺 (`yao=True`).

English follows American usage without "and": 105 → "one hundred five".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "LANGS",
    "agent_id_prompts",
    "estimated_wait_prompts",
    "queue_position_prompts",
    "say_amount",
    "say_date",
    "say_decimal",
    "say_digits",
    "say_duration_minutes",
    "say_number",
    "say_time",
    "voicemail_count_prompts",
]

LANGS: tuple[str, ...] = ("zh", "en")

# Largest magnitudes we have words for: 万亿 groups in Mandarin, billions in English.
_ZH_LIMIT = 10**16
_EN_LIMIT = 10**12

# Unit prompts for each 4-digit group, lowest first: ones, 万, 亿, 万亿.
_ZH_GROUP_UNITS: tuple[tuple[str, ...], ...] = (
    (),
    ("num_10000",),
    ("num_100000000",),
    ("num_10000", "num_100000000"),
)
_ZH_PLACE_UNITS: tuple[str | None, ...] = ("num_1000", "num_100", "num_10", None)

_EN_SCALES: tuple[tuple[int, str], ...] = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

# Separators a user may type in a digit string; they are not spoken.
_DIGIT_SEPARATORS = frozenset(" -")


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(LANGS)}")
    return lang


def _check_int(n: object, what: str) -> int:
    # bool is an int subclass; saying True as "one" would hide a caller's bug.
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"{what} must be an integer, got {n!r}")
    return n


# --- Mandarin -----------------------------------------------------------------------------------


def _zh_group(value: int, *, opens_number: bool, alone_before_unit: bool) -> list[str]:
    """Read one 4-digit group (1..9999) without its 万/亿 unit."""
    digits = (value // 1000, value // 100 % 10, value // 10 % 10, value % 10)
    out: list[str] = []
    started = False
    pending_zero = False
    for place, d in enumerate(digits):
        unit = _ZH_PLACE_UNITS[place]
        if d == 0:
            if started:
                pending_zero = True
            continue
        if pending_zero:
            out.append("digit_0")
            pending_zero = False
        first_of_number = opens_number and not started
        if unit == "num_10" and d == 1 and first_of_number:
            out.append("num_10")  # 十二, not 一十二
        else:
            use_liang = d == 2 and (
                unit == "num_1000"
                or (unit == "num_100" and first_of_number)
                or (unit is None and alone_before_unit and value == 2)
            )
            out.append("liang" if use_liang else f"digit_{d}")
            if unit is not None:
                out.append(unit)
        started = True
    return out


def _zh_number(n: int, *, classifier: bool) -> list[str]:
    if n == 0:
        return ["digit_0"]
    if n == 2 and classifier:
        return ["liang"]
    groups: list[int] = []
    rest = n
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    out: list[str] = []
    pending_zero = False
    first = True
    for index in range(len(groups) - 1, -1, -1):
        g = groups[index]
        if g == 0:
            if not first:
                pending_zero = True
            continue
        if not first and g < 1000:
            pending_zero = True
        if pending_zero:
            out.append("digit_0")
            pending_zero = False
        out += _zh_group(g, opens_number=first, alone_before_unit=index > 0)
        units = _ZH_GROUP_UNITS[index]
        if index == 3 and groups[2]:
            units = ("num_10000",)  # 一千万…亿: the 亿 follows the next group
        out += units
        first = False
    return out


# --- English ------------------------------------------------------------------------------------


def _en_below_100(v: int) -> list[str]:
    if v < 10:
        return [f"digit_{v}"]
    if v < 20:
        return [f"num_{v}"]
    tens, ones = divmod(v, 10)
    return [f"num_{tens * 10}"] + ([f"digit_{ones}"] if ones else [])


def _en_below_1000(v: int) -> list[str]:
    hundreds, rest = divmod(v, 100)
    out = [f"digit_{hundreds}", "hundred"] if hundreds else []
    if rest or not hundreds:
        out += _en_below_100(rest)
    return out


def _en_number(n: int) -> list[str]:
    if n == 0:
        return ["digit_0"]
    out: list[str] = []
    rest = n
    for scale, word in _EN_SCALES:
        if rest >= scale:
            out += [*_en_below_1000(rest // scale), word]
            rest %= scale
    if rest:
        out += _en_below_1000(rest)
    return out


# --- public API ---------------------------------------------------------------------------------


def say_number(n: int, lang: str, *, classifier: bool = False) -> list[str]:
    """Prompt names that speak the integer `n` as a cardinal number.

    `classifier=True` marks a number spoken before a measure word (位, 分钟, 条, 元): in
    Mandarin a lone 2 then becomes 两. English ignores it.
    """
    n = _check_int(n, "number")
    _check_lang(lang)
    limit = _ZH_LIMIT if lang == "zh" else _EN_LIMIT
    if abs(n) >= limit:
        raise ValueError(f"number {n} is too large to say in {lang} (limit {limit:,})")
    sign = ["fu" if lang == "zh" else "minus"] if n < 0 else []
    body = _zh_number(abs(n), classifier=classifier) if lang == "zh" else _en_number(abs(n))
    return sign + body


def say_digits(s: str | int, lang: str, *, yao: bool = False) -> list[str]:
    """Read a digit string one symbol at a time (phone numbers, order numbers, 工号).

    Accepts 0-9, `*`, `#` and Latin letters (agent IDs such as "A012"); spaces and dashes are
    skipped. `yao=True` reads Mandarin 1 as 幺, as operators do to keep 1 and 7 apart.
    """
    _check_lang(lang)
    if isinstance(s, bool) or not isinstance(s, str | int):
        raise ValueError(f"digit string must be text or an integer, got {s!r}")
    if isinstance(s, int):
        if s < 0:
            raise ValueError(f"digit string cannot be negative: {s}")
        s = str(s)
    out: list[str] = []
    for ch in s:
        if ch in _DIGIT_SEPARATORS:
            continue
        if ch.isascii() and ch.isdigit():
            out.append("yao" if (ch == "1" and yao and lang == "zh") else f"digit_{ch}")
        elif ch == "*":
            out.append("star")
        elif ch == "#":
            out.append("hash")
        elif ch.isascii() and ch.isalpha():
            out.append(f"letter_{ch.lower()}")
        else:
            raise ValueError(f"cannot say {ch!r} in digit string {s!r}: use 0-9, *, #, A-Z")
    return out


def _to_decimal(value: Decimal | str | int, what: str) -> Decimal:
    if isinstance(value, float):
        # Floats carry binary noise (0.1 + 0.2); money must arrive as text or Decimal.
        raise ValueError(f"{what} must be a Decimal, string or integer, not float {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        d = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return d


def say_decimal(value: Decimal | str | int, lang: str) -> list[str]:
    """A decimal number: the integer part as a number, then 点/point and each digit."""
    _check_lang(lang)
    d = _to_decimal(value, "value")
    text = format(abs(d), "f")
    whole, _, frac = text.partition(".")
    out = ["fu" if lang == "zh" else "minus"] if d < 0 else []
    out += say_number(int(whole), lang)
    if frac:
        out.append("dian" if lang == "zh" else "point")
        out += say_digits(frac, lang)
    return out


def say_amount(value: Decimal | str | int, lang: str) -> list[str]:
    """A money amount, rounded half-up to cents: 元角分 in Mandarin, dollars and cents in English.

    Mandarin: 12.30 → 十二元三角, 12.05 → 十二元零五分, 0.50 → 五角, 2 → 两元.
    English: 12.30 → twelve dollars and thirty cents, 1.01 → one dollar and one cent.
    """
    _check_lang(lang)
    d = _to_decimal(value, "amount").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    cents_total = int(abs(d) * 100)
    sign = ["fu" if lang == "zh" else "minus"] if d < 0 and cents_total else []
    whole, cents = divmod(cents_total, 100)
    if lang == "zh":
        jiao, fen = divmod(cents, 10)
        if whole == 0 and cents == 0:
            return ["digit_0", "yuan"]
        out: list[str] = []
        if whole:
            out += [*say_number(whole, "zh", classifier=True), "yuan"]
        if jiao:
            out += [*say_number(jiao, "zh", classifier=True), "jiao"]
        if fen:
            if whole and not jiao:
                out.append("digit_0")
            out += [*say_number(fen, "zh", classifier=True), "fen"]
        return sign + out
    if whole == 0 and cents == 0:
        return ["digit_0", "dollars"]
    out = []
    if whole:
        out += [*say_number(whole, "en"), "dollar" if whole == 1 else "dollars"]
    if cents:
        if whole:
            out.append("and")
        out += [*say_number(cents, "en"), "cent" if cents == 1 else "cents"]
    return sign + out


def _en_ordinal(n: int) -> list[str]:
    if n < 20 or n % 10 == 0:
        return [f"ord_{n}"]
    return [f"num_{n // 10 * 10}", f"ord_{n % 10}"]


def _en_year(y: int) -> list[str]:
    if y < 1000 or y % 1000 < 10:
        # "two thousand five", "one thousand"; below 1000 a plain number.
        return say_number(y, "en")
    hi, lo = divmod(y, 100)
    if lo == 0:
        return [*_en_below_100(hi), "hundred"]
    return _en_below_100(hi) + (["oh", f"digit_{lo}"] if lo < 10 else _en_below_100(lo))


def say_date(d: date, lang: str) -> list[str]:
    """A calendar date: 二零二四年三月五日 / March fifth, twenty twenty-four."""
    _check_lang(lang)
    if not isinstance(d, date):
        raise ValueError(f"date must be a datetime.date, got {d!r}")
    if lang == "zh":
        return [
            *say_digits(f"{d.year:04d}", "zh"),
            "nian",
            f"month_{d.month}",
            *say_number(d.day, "zh"),
            "ri",
        ]
    return [f"month_{d.month}", *_en_ordinal(d.day), *_en_year(d.year)]


def say_time(t: time | datetime, lang: str) -> list[str]:
    """A clock time to the minute: 十四点零五分 (24-hour) / two oh five p m (12-hour)."""
    _check_lang(lang)
    if isinstance(t, datetime):
        t = t.time()
    if not isinstance(t, time):
        raise ValueError(f"time must be a datetime.time, got {t!r}")
    h, m = t.hour, t.minute
    if lang == "zh":
        out = [*say_number(h, "zh", classifier=True), "dian_zhong"]
        if m == 0:
            return [*out, "oclock"]
        if m < 10:
            out.append("digit_0")
        return out + say_number(m, "zh") + ["fen_zhong"]
    h12 = h % 12 or 12
    out = say_number(h12, "en")
    if m == 0:
        out.append("oclock")
    elif m < 10:
        out += ["oh", f"digit_{m}"]
    else:
        out += say_number(m, "en")
    return [*out, "am" if h < 12 else "pm"]


def say_duration_minutes(n: int, lang: str) -> list[str]:
    """A whole number of minutes: 两分钟 / one minute, five minutes."""
    n = _check_int(n, "minutes")
    if n < 0:
        raise ValueError(f"a duration cannot be negative: {n} minutes")
    _check_lang(lang)
    if lang == "zh":
        return [*say_number(n, "zh", classifier=True), "minutes"]
    return [*say_number(n, "en"), "minute" if n == 1 else "minutes"]


def queue_position_prompts(position: int, lang: str) -> list[str]:
    """The caller's place in line, 1 = next to be served.

    Mandarin says how many callers are *ahead* (您前面还有两位客户在等待), English the
    position itself (You are number three in the queue); both say "you are next" at 1.
    """
    position = _check_int(position, "queue position")
    if position < 1:
        raise ValueError(f"queue position starts at 1, got {position}")
    _check_lang(lang)
    if position == 1:
        return ["queue_next"]
    count = position - 1 if lang == "zh" else position
    return ["queue_position_1", *say_number(count, lang, classifier=True), "queue_position_2"]


def estimated_wait_prompts(seconds: float, lang: str) -> list[str]:
    """Estimated wait, rounded up to whole minutes; under a minute has its own prompt.

    Rounding up keeps the promise: a caller told "about two minutes" who waits 90 s is pleased,
    one told "one minute" is not.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or math.isnan(seconds):
        raise ValueError(f"wait must be a number of seconds, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"wait cannot be negative: {seconds} s")
    if math.isinf(seconds):
        raise ValueError("wait cannot be infinite")
    _check_lang(lang)
    if seconds < 60:
        return ["wait_less_than_minute"]
    minutes = math.ceil(seconds / 60)
    if lang == "zh":
        return ["wait_estimate_1", *say_number(minutes, "zh", classifier=True), "wait_estimate_2"]
    return ["wait_estimate_1", *say_number(minutes, "en"), "minute" if minutes == 1 else "wait_estimate_2"]


def agent_id_prompts(agent_no: str | int, lang: str) -> list[str]:
    """报工号: "工号 幺零八六 号话务员为您服务" — the agent number read digit by digit."""
    _check_lang(lang)
    spoken = say_digits(agent_no, lang, yao=True)
    if not spoken:
        raise ValueError(f"agent number {agent_no!r} has nothing to say")
    return ["agent_announce_1", *spoken, "agent_announce_2"]


def voicemail_count_prompts(count: int, lang: str) -> list[str]:
    """您有三条留言 / You have three messages; none has its own prompt."""
    count = _check_int(count, "message count")
    if count < 0:
        raise ValueError(f"message count cannot be negative: {count}")
    _check_lang(lang)
    if count == 0:
        return ["voicemail_no_messages"]
    tail = "voicemail_message" if (lang == "en" and count == 1) else "voicemail_messages"
    return ["voicemail_you_have", *say_number(count, lang, classifier=True), tail]


def prompt_names_used() -> Iterable[str]:
    """Every prompt name this module can emit: the manifest must provide them all."""
    names: set[str] = {"fu", "minus", "liang", "yao", "star", "hash", "dian", "point", "and"}
    names |= {f"digit_{d}" for d in range(10)}
    names |= {f"letter_{chr(c)}" for c in range(ord("a"), ord("z") + 1)}
    names |= {"num_10", "num_100", "num_1000", "num_10000", "num_100000000"}
    names |= {f"num_{v}" for v in range(11, 20)} | {f"num_{v}" for v in range(20, 100, 10)}
    names |= {"hundred", "thousand", "million", "billion", "oh", "oclock", "am", "pm"}
    names |= {"yuan", "jiao", "fen", "dollar", "dollars", "cent", "cents"}
    names |= {"nian", "ri", "dian_zhong", "fen_zhong", "minute", "minutes"}
    names |= {f"month_{m}" for m in range(1, 13)}
    names |= {f"ord_{v}" for v in range(1, 21)} | {"ord_30"}
    names |= {"queue_next", "queue_position_1", "queue_position_2"}
    names |= {"wait_less_than_minute", "wait_estimate_1", "wait_estimate_2"}
    names |= {"agent_announce_1", "agent_announce_2"}
    names |= {"voicemail_no_messages", "voicemail_you_have", "voicemail_message", "voicemail_messages"}
    return sorted(names)
