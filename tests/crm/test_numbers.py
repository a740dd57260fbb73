"""Number normalisation as caller ID and people write numbers in China (office in Beijing, 010)."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from ccd.crm.numbers import NumberPlan, index_forms, lookup_keys, normalise

CASES = [
    # raw, e164, national, kind, location contains, valid
    ("13800138000", "+8613800138000", "13800138000", "mobile", "北京", True),
    ("+86 138 0013 8000", "+8613800138000", "13800138000", "mobile", "北京", True),
    ("013800138000", "+8613800138000", "13800138000", "mobile", "北京", True),  # stray trunk 0 on a mobile
    ("62345678", "+861062345678", "01062345678", "fixed", "北京", True),  # local: office area code added
    ("010-6234-5678", "+861062345678", "01062345678", "fixed", "北京", True),
    ("01062345678", "+861062345678", "01062345678", "fixed", "北京", True),
    ("+861062345678", "+861062345678", "01062345678", "fixed", "北京", True),
    ("0086 10 6234 5678", "+861062345678", "01062345678", "fixed", "北京", True),
    ("075583765432", "+8675583765432", "075583765432", "fixed", "深圳", True),
    ("(021) 6234-5678", "+862162345678", "02162345678", "fixed", "上海", True),
    ("4008123456", "+864008123456", "4008123456", "shared_cost", "", True),
    ("8008101234", "+868008101234", "8008101234", "toll_free", "", True),
    ("10086", None, "10086", "service", "", False),
    ("P", None, "", "withheld", "", False),
    ("O", None, "", "unavailable", "", False),
    ("", None, "", "unavailable", "", False),
    ("  ", None, "", "unavailable", "", False),
    ("anonymous", None, "", "withheld", "", False),
    ("12ab34", None, "", "unknown", "", False),
    ("1" * 40, None, "", "unknown", "", False),
]


@pytest.mark.parametrize(("raw", "e164", "national", "kind", "place", "valid"), CASES)
def test_normalise(raw: str, e164: str | None, national: str, kind: str, place: str, valid: bool) -> None:
    info = normalise(raw, "CN", "010")
    assert (info.e164, info.national, info.kind, info.valid) == (e164, national, kind, valid)
    assert place in info.location
    assert info.raw == raw


def test_location_and_carrier_are_in_chinese() -> None:
    info = normalise("13800138000")
    assert info.location == "北京市"
    assert info.carrier == "中国移动"
    assert normalise("075583765432").location == "广东省深圳市"


def test_local_number_takes_the_configured_area_code() -> None:
    assert normalise("62345678", area_code="021").e164 == "+862162345678"
    assert normalise("62345678", area_code="21").e164 == "+862162345678"  # leading 0 optional
    assert NumberPlan("CN", "0755").normalise("83765432").location == "广东省深圳市"


def test_subscriber_and_local_forms() -> None:
    info = normalise("01062345678")
    assert info.subscriber == "62345678"
    assert set(info.local_forms) == {"01062345678", "62345678"}
    assert normalise("13800138000").subscriber == "13800138000"


def test_lookup_keys_put_the_canonical_key_first() -> None:
    assert lookup_keys("62345678")[0] == lookup_keys("+861062345678")[0] == "+861062345678"
    assert lookup_keys("10086") == ["10086"]
    assert lookup_keys("P") == []
    assert lookup_keys("") == []


def test_foreign_number() -> None:
    info = normalise("+1 415 555 2671")
    assert info.e164 == "+14155552671" and info.valid


def test_mobile_fast_path_agrees_with_phonenumbers() -> None:
    """Mobiles skip the full parse; on random 11-digit numbers both ways must say the same."""
    rng = random.Random(11)
    for _ in range(3000):
        raw = f"1{rng.randrange(10**10):010d}"
        try:
            p = phonenumbers.parse(raw, "CN")
            is_mobile = phonenumbers.number_type(p) == phonenumbers.PhoneNumberType.MOBILE
            e164 = phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            is_mobile, e164 = False, None
        info = index_forms(raw)
        assert (info.kind == "mobile") == is_mobile, raw
        if is_mobile:
            assert info.e164 == e164 and info.national == raw, raw
