"""What callers hear when the IVR speaks a value: the prompt sequence for numbers, money, dates."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from ccd.telephony.say import (
    agent_id_prompts,
    estimated_wait_prompts,
    prompt_names_used,
    queue_position_prompts,
    say_amount,
    say_date,
    say_decimal,
    say_digits,
    say_duration_minutes,
    say_number,
    say_time,
    voicemail_count_prompts,
)

# Short aliases so the tables below read like the Chinese they stand for.
_ZH = {
    "零": "digit_0",
    "一": "digit_1",
    "二": "digit_2",
    "三": "digit_3",
    "四": "digit_4",
    "五": "digit_5",
    "六": "digit_6",
    "七": "digit_7",
    "八": "digit_8",
    "九": "digit_9",
    "十": "num_10",
    "百": "num_100",
    "千": "num_1000",
    "万": "num_10000",
    "亿": "num_100000000",
    "两": "liang",
    "幺": "yao",
    "负": "fu",
    "点": "dian",
    "元": "yuan",
    "角": "jiao",
    "分": "fen",
    "年": "nian",
    "日": "ri",
}


def zh(text: str) -> list[str]:
    """'一百零五' -> prompt names, one per character."""
    return [_ZH[ch] for ch in text]


ZH_NUMBERS = [
    (0, "零"),
    (1, "一"),
    (2, "二"),
    (7, "七"),
    (10, "十"),
    (11, "十一"),
    (12, "十二"),
    (19, "十九"),
    (20, "二十"),
    (22, "二十二"),
    (99, "九十九"),
    (100, "一百"),
    (101, "一百零一"),
    (105, "一百零五"),
    (110, "一百一十"),
    (115, "一百一十五"),
    (200, "两百"),
    (222, "两百二十二"),
    (250, "两百五十"),
    (999, "九百九十九"),
    (1000, "一千"),
    (1001, "一千零一"),
    (1010, "一千零一十"),
    (1100, "一千一百"),
    (2000, "两千"),
    (2200, "两千二百"),
    (2222, "两千二百二十二"),
    (9999, "九千九百九十九"),
    (10000, "一万"),
    (10005, "一万零五"),
    (10010, "一万零一十"),
    (10100, "一万零一百"),
    (11000, "一万一千"),
    (12000, "一万两千"),
    (20000, "两万"),
    (22000, "两万两千"),
    (100000, "十万"),
    (100010, "十万零一十"),
    (120000, "十二万"),
    (220000, "二十二万"),
    (1000100, "一百万零一百"),
    (1001000, "一百万一千"),
    (1020000, "一百零二万"),
    (2000000, "两百万"),
    (20000000, "两千万"),
    (100000000, "一亿"),
    (100000005, "一亿零五"),
    (100001000, "一亿零一千"),
    (100010000, "一亿零一万"),
    (200000000, "两亿"),
    (123456789, "一亿两千三百四十五万六千七百八十九"),
    (10**12, "一万亿"),
    (10**12 + 5, "一万亿零五"),
    (-5, "负五"),
    (-12, "负十二"),
]


@pytest.mark.parametrize(("n", "text"), ZH_NUMBERS, ids=[str(n) for n, _ in ZH_NUMBERS])
def test_mandarin_numbers(n: int, text: str) -> None:
    assert say_number(n, "zh") == zh(text)


def test_mandarin_big_number_reads_wan_before_yi_group() -> None:
    # 1234 5678 9012 3456: 一千二百三十四万五千六百七十八亿九千零一十二万三千四百五十六
    expected = zh("一千二百三十四万五千六百七十八亿九千零一十二万三千四百五十六")
    assert say_number(1234567890123456, "zh") == expected


@pytest.mark.parametrize(
    ("n", "text"),
    [(2, "两"), (12, "十二"), (22, "二十二"), (20, "二十"), (200, "两百"), (0, "零")],
)
def test_mandarin_two_before_a_measure_word_is_liang(n: int, text: str) -> None:
    assert say_number(n, "zh", classifier=True) == zh(text)


EN_NUMBERS = [
    (0, ["digit_0"]),
    (7, ["digit_7"]),
    (10, ["num_10"]),
    (13, ["num_13"]),
    (20, ["num_20"]),
    (21, ["num_20", "digit_1"]),
    (99, ["num_90", "digit_9"]),
    (100, ["digit_1", "hundred"]),
    (105, ["digit_1", "hundred", "digit_5"]),
    (110, ["digit_1", "hundred", "num_10"]),
    (342, ["digit_3", "hundred", "num_40", "digit_2"]),
    (1000, ["digit_1", "thousand"]),
    (1005, ["digit_1", "thousand", "digit_5"]),
    (20000, ["num_20", "thousand"]),
    (100000, ["digit_1", "hundred", "thousand"]),
    (1_000_001, ["digit_1", "million", "digit_1"]),
    (2_500_000_000, ["digit_2", "billion", "digit_5", "hundred", "million"]),
    (-3, ["minus", "digit_3"]),
]


@pytest.mark.parametrize(("n", "names"), EN_NUMBERS, ids=[str(n) for n, _ in EN_NUMBERS])
def test_english_numbers(n: int, names: list[str]) -> None:
    assert say_number(n, "en") == names


@pytest.mark.parametrize(
    ("s", "lang", "yao", "names"),
    [
        ("0123", "zh", False, ["digit_0", "digit_1", "digit_2", "digit_3"]),
        ("1717", "zh", True, ["yao", "digit_7", "yao", "digit_7"]),
        ("1717", "en", True, ["digit_1", "digit_7", "digit_1", "digit_7"]),
        ("138-0000 1111", "zh", False, zh("一三八零零零零一一一一")),
        ("*#", "en", False, ["star", "hash"]),
        ("A012", "zh", True, ["letter_a", "digit_0", "yao", "digit_2"]),
        (907, "en", False, ["digit_9", "digit_0", "digit_7"]),
        ("", "en", False, []),
    ],
)
def test_digit_strings(s: str | int, lang: str, yao: bool, names: list[str]) -> None:
    assert say_digits(s, lang, yao=yao) == names


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12.30", "十二元三角"),
        ("12.05", "十二元零五分"),
        ("12.35", "十二元三角五分"),
        ("12", "十二元"),
        ("0.50", "五角"),
        ("0.05", "五分"),
        ("0", "零元"),
        ("2", "两元"),
        ("2.22", "两元两角两分"),
        ("105.5", "一百零五元五角"),
        ("20000", "两万元"),
        ("0.005", "一分"),  # half-up to the cent
        ("-3.5", "负三元五角"),
        (Decimal("1234.56"), "一千二百三十四元五角六分"),
        (7, "七元"),
    ],
)
def test_mandarin_amounts(value: Decimal | str | int, text: str) -> None:
    assert say_amount(value, "zh") == zh(text)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("12.30", ["num_12", "dollars", "and", "num_30", "cents"]),
        ("1.01", ["digit_1", "dollar", "and", "digit_1", "cent"]),
        ("0.30", ["num_30", "cents"]),
        ("0", ["digit_0", "dollars"]),
        ("100", ["digit_1", "hundred", "dollars"]),
        ("-2.00", ["minus", "digit_2", "dollars"]),
        ("-0.001", ["digit_0", "dollars"]),  # rounds to zero: no "minus zero"
    ],
)
def test_english_amounts(value: str, names: list[str]) -> None:
    assert say_amount(value, "en") == names


@pytest.mark.parametrize(
    ("value", "lang", "names"),
    [
        ("3.14", "zh", zh("三点一四")),
        ("-0.5", "en", ["minus", "digit_0", "point", "digit_5"]),
        ("10", "en", ["num_10"]),
    ],
)
def test_decimals(value: str, lang: str, names: list[str]) -> None:
    assert say_decimal(value, lang) == names


@pytest.mark.parametrize(
    ("d", "lang", "names"),
    [
        (date(2024, 3, 5), "zh", [*zh("二零二四年"), "month_3", *zh("五日")]),
        (date(2025, 12, 31), "zh", [*zh("二零二五年"), "month_12", *zh("三十一日")]),
        (date(2024, 3, 5), "en", ["month_3", "ord_5", "num_20", "num_20", "digit_4"]),
        (date(2000, 1, 1), "en", ["month_1", "ord_1", "digit_2", "thousand"]),
        (date(2007, 7, 21), "en", ["month_7", "num_20", "ord_1", "digit_2", "thousand", "digit_7"]),
        (date(2010, 2, 30 - 2), "en", ["month_2", "num_20", "ord_8", "num_20", "num_10"]),
        (date(1999, 10, 30), "en", ["month_10", "ord_30", "num_19", "num_90", "digit_9"]),
        (date(1905, 6, 12), "en", ["month_6", "ord_12", "num_19", "oh", "digit_5"]),
        (date(1900, 6, 20), "en", ["month_6", "ord_20", "num_19", "hundred"]),
        (datetime(2024, 3, 5, 9, 0), "en", ["month_3", "ord_5", "num_20", "num_20", "digit_4"]),
    ],
)
def test_dates(d: date, lang: str, names: list[str]) -> None:
    assert say_date(d, lang) == names


@pytest.mark.parametrize(
    ("t", "lang", "names"),
    [
        (time(14, 5), "zh", [*zh("十四"), "dian_zhong", *zh("零五"), "fen_zhong"]),
        (time(14, 30), "zh", [*zh("十四"), "dian_zhong", *zh("三十"), "fen_zhong"]),
        (time(2, 0), "zh", ["liang", "dian_zhong", "oclock"]),
        (time(0, 12), "zh", ["digit_0", "dian_zhong", *zh("十二"), "fen_zhong"]),
        (time(14, 5), "en", ["digit_2", "oh", "digit_5", "pm"]),
        (time(14, 0), "en", ["digit_2", "oclock", "pm"]),
        (time(0, 15), "en", ["num_12", "num_15", "am"]),
        (time(12, 45), "en", ["num_12", "num_40", "digit_5", "pm"]),
        (datetime(2024, 1, 1, 9, 59, 59), "en", ["digit_9", "num_50", "digit_9", "am"]),
    ],
)
def test_times(t: time, lang: str, names: list[str]) -> None:
    assert say_time(t, lang) == names


@pytest.mark.parametrize(
    ("n", "lang", "names"),
    [
        (1, "zh", ["digit_1", "minutes"]),
        (2, "zh", ["liang", "minutes"]),
        (15, "zh", ["num_10", "digit_5", "minutes"]),
        (1, "en", ["digit_1", "minute"]),
        (0, "en", ["digit_0", "minutes"]),
        (2, "en", ["digit_2", "minutes"]),
    ],
)
def test_durations(n: int, lang: str, names: list[str]) -> None:
    assert say_duration_minutes(n, lang) == names


@pytest.mark.parametrize(
    ("position", "lang", "names"),
    [
        (1, "zh", ["queue_next"]),
        (1, "en", ["queue_next"]),
        (2, "zh", ["queue_position_1", "digit_1", "queue_position_2"]),  # 前面还有一位
        (3, "zh", ["queue_position_1", "liang", "queue_position_2"]),  # 前面还有两位
        (13, "zh", ["queue_position_1", "num_10", "digit_2", "queue_position_2"]),
        (2, "en", ["queue_position_1", "digit_2", "queue_position_2"]),
        (21, "en", ["queue_position_1", "num_20", "digit_1", "queue_position_2"]),
    ],
)
def test_queue_position(position: int, lang: str, names: list[str]) -> None:
    assert queue_position_prompts(position, lang) == names


@pytest.mark.parametrize(
    ("seconds", "lang", "names"),
    [
        (0, "zh", ["wait_less_than_minute"]),
        (59.9, "en", ["wait_less_than_minute"]),
        (60, "en", ["wait_estimate_1", "digit_1", "minute"]),
        (61, "en", ["wait_estimate_1", "digit_2", "wait_estimate_2"]),
        (61, "zh", ["wait_estimate_1", "liang", "wait_estimate_2"]),
        (300, "zh", ["wait_estimate_1", "digit_5", "wait_estimate_2"]),
        (301, "en", ["wait_estimate_1", "digit_6", "wait_estimate_2"]),
    ],
)
def test_estimated_wait_rounds_up(seconds: float, lang: str, names: list[str]) -> None:
    assert estimated_wait_prompts(seconds, lang) == names


@pytest.mark.parametrize(
    ("agent", "lang", "names"),
    [
        ("1086", "zh", ["agent_announce_1", "yao", "digit_0", "digit_8", "digit_6", "agent_announce_2"]),
        (8, "zh", ["agent_announce_1", "digit_8", "agent_announce_2"]),
        ("1086", "en", ["agent_announce_1", "digit_1", "digit_0", "digit_8", "digit_6", "agent_announce_2"]),
        ("A01", "en", ["agent_announce_1", "letter_a", "digit_0", "digit_1", "agent_announce_2"]),
    ],
)
def test_agent_id_is_read_digit_by_digit(agent: str | int, lang: str, names: list[str]) -> None:
    assert agent_id_prompts(agent, lang) == names


@pytest.mark.parametrize(
    ("count", "lang", "names"),
    [
        (0, "zh", ["voicemail_no_messages"]),
        (1, "en", ["voicemail_you_have", "digit_1", "voicemail_message"]),
        (2, "zh", ["voicemail_you_have", "liang", "voicemail_messages"]),
        (3, "en", ["voicemail_you_have", "digit_3", "voicemail_messages"]),
    ],
)
def test_voicemail_count(count: int, lang: str, names: list[str]) -> None:
    assert voicemail_count_prompts(count, lang) == names


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: say_number(5, "fr"), "unknown language 'fr'"),
        (lambda: say_number(1.5, "zh"), "must be an integer"),
        (lambda: say_number(True, "zh"), "must be an integer"),
        (lambda: say_number(10**16, "zh"), "too large"),
        (lambda: say_number(10**12, "en"), "too large"),
        (lambda: say_digits("12a!", "zh"), "cannot say '!'"),
        (lambda: say_digits(-5, "zh"), "negative"),
        (lambda: say_amount(1.5, "zh"), "not float"),
        (lambda: say_amount("abc", "zh"), "not a number"),
        (lambda: say_amount("NaN", "en"), "not a finite number"),
        (lambda: say_date("2024-03-05", "zh"), "datetime.date"),
        (lambda: say_time("14:05", "zh"), "datetime.time"),
        (lambda: say_duration_minutes(-1, "zh"), "negative"),
        (lambda: queue_position_prompts(0, "zh"), "starts at 1"),
        (lambda: estimated_wait_prompts(-1, "zh"), "negative"),
        (lambda: estimated_wait_prompts(float("nan"), "zh"), "number of seconds"),
        (lambda: estimated_wait_prompts(float("inf"), "zh"), "infinite"),
        (lambda: agent_id_prompts("", "zh"), "nothing to say"),
        (lambda: voicemail_count_prompts(-1, "en"), "negative"),
    ],
)
def test_bad_input_is_a_clear_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_every_name_the_sayers_can_emit_is_listed() -> None:
    """prompt_names_used() is what the manifest test checks against: keep it complete."""
    listed = set(prompt_names_used())
    emitted: set[str] = set()
    for lang in ("zh", "en"):
        for n in [*range(-30, 1200, 7), 10**4, 10**8 + 5, 10**9 + 1, 10**12 + 1 if lang == "zh" else 7]:
            emitted |= set(say_number(n, lang)) | set(say_number(n, lang, classifier=True))
        emitted |= set(say_digits("0123456789*#abcdefghijklmnopqrstuvwxyz", lang, yao=True))
        emitted |= set(say_amount("-1.01", lang)) | set(say_amount("2.30", lang)) | set(say_amount("0", lang))
        emitted |= set(say_decimal("-1.5", lang))
        for m in range(1, 13):
            for d in (1, 2, 3, 11, 20, 21, 30, 31):
                if (m, d) not in {(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)}:
                    emitted |= set(say_date(date(1905 + m * 7, m, d), lang))
        for h in range(24):
            for minute in (0, 5, 30):
                emitted |= set(say_time(time(h, minute), lang))
        for value in (0, 1, 2):
            emitted |= set(say_duration_minutes(value, lang)) | set(voicemail_count_prompts(value, lang))
        emitted |= set(queue_position_prompts(1, lang)) | set(queue_position_prompts(5, lang))
        emitted |= set(estimated_wait_prompts(10, lang)) | set(estimated_wait_prompts(60, lang))
        emitted |= set(estimated_wait_prompts(600, lang)) | set(agent_id_prompts("1A", lang))
    assert emitted <= listed, sorted(emitted - listed)
