"""Phone numbers as they arrive on Chinese analog lines, made comparable and placed on the map.

Caller ID on a Beijing line may say "13800138000", "62345678" (a local call: no area code),
"01062345678", "+861062345678" or "P" (withheld). A customer's number was typed by a person
in any of those forms. Both sides are reduced to one key — E.164 when the number is valid —
with the office's own area code supplied to local numbers, so they meet in one index.

Location and carrier come offline from `phonenumbers` (its geocoder and carrier data, in
Chinese), so a screen pop for an unknown caller can still say "广东省深圳市 · 中国移动".
Pure logic: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType, carrier, geocoder, shortnumberinfo

# Caller-ID "reason for absence" codes (MDMF parameter 0x04 / SDMF) and the words PBXes use.
_WITHHELD = {"P", "PRIVATE", "ANONYMOUS", "WITHHELD", "RESTRICTED", "匿名", "隐藏"}
_UNAVAILABLE = {"", "O", "UNAVAILABLE", "UNKNOWN", "OUT OF AREA", "未知"}
_SEPARATORS = re.compile(r"[\s\-().·/]")
_MAX_DIGITS = 20

KINDS = (
    "mobile",
    "fixed",
    "toll_free",
    "shared_cost",
    "premium",
    "service",
    "unknown",
    "withheld",
    "unavailable",
)

_TYPE_KIND = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed",
    PhoneNumberType.TOLL_FREE: "toll_free",  # 800
    PhoneNumberType.SHARED_COST: "shared_cost",  # 400: the caller pays a local rate
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.VOIP: "fixed",
    PhoneNumberType.UAN: "shared_cost",
}


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What one raw number means.

    `e164` is None for numbers that are not valid phone numbers (short service numbers such
    as 10086, garbage, withheld). `national` is the number as dialled inside the country
    (with trunk prefix 0 for fixed lines), or the bare digits when invalid. `local_forms`
    lists other ways people write it (e.g. "62345678" for a Beijing fixed line).
    """

    raw: str
    e164: str | None
    national: str
    local_forms: tuple[str, ...] = ()
    kind: str = "unknown"
    location: str = ""
    carrier: str = ""
    valid: bool = False
    subscriber: str = ""

    @property
    def key(self) -> str:
        """The lookup key stored and searched: E.164, else the bare digits ("" when absent)."""
        return self.e164 or self.national

    def _replace_raw(self, raw: str) -> NumberInfo:
        return NumberInfo(
            raw, self.e164, self.national, self.local_forms, self.kind, self.location, self.carrier, self.valid,
            self.subscriber,
        )  # fmt: skip

    @property
    def present(self) -> bool:
        """False for withheld and unavailable numbers: nothing to look up or call back."""
        return self.kind not in ("withheld", "unavailable")


def _clean(raw: str) -> str | None:
    """Digits with an optional leading '+', or None if `raw` has anything else in it."""
    s = _SEPARATORS.sub("", raw.strip())
    if s.startswith("00"):
        s = "+" + s[2:]
    body = s[1:] if s.startswith("+") else s
    if not body.isdigit() or not body.isascii() or len(body) > _MAX_DIGITS:
        return None
    return s


def _apply_local_rules(s: str, country: str, area_code: str) -> str:
    """China's habits: bare 7–8 digit local numbers, and mobiles dialled with a stray trunk 0."""
    if country != "CN" or s.startswith("+"):
        return s
    if re.fullmatch(r"0(1[3-9]\d{9})", s):
        return s[1:]
    if re.fullmatch(r"[2-9]\d{6,7}", s) and area_code:
        return area_code + s
    return s


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_CN_MOBILE = re.compile(_CN.mobile.national_number_pattern) if _CN and _CN.mobile else None
_CN_MOBILE_LENGTHS = set(_CN.mobile.possible_length) if _CN and _CN.mobile else set()


def _cn_mobile(s: str) -> NumberInfo | None:
    """Chinese mobiles (most caller IDs) without a full parse: one regex from phonenumbers' own
    metadata instead of ~150 µs of parse + type detection. None when not a valid CN mobile, and
    the general path decides (tests check both paths agree)."""
    nsn = s[3:] if s.startswith("+86") else s
    if _CN_MOBILE is None or len(nsn) not in _CN_MOBILE_LENGTHS or not _CN_MOBILE.fullmatch(nsn):
        return None
    return NumberInfo("", "+86" + nsn, nsn, (nsn,), "mobile", valid=True, subscriber=nsn)


@lru_cache(maxsize=8192)
def _core(raw: str, country: str, area_code: str) -> tuple[phonenumbers.PhoneNumber | None, NumberInfo]:
    text = raw.strip()
    if text.upper() in _WITHHELD:
        return None, NumberInfo(raw, None, "", (), "withheld")
    if text.upper() in _UNAVAILABLE:
        return None, NumberInfo(raw, None, "", (), "unavailable")
    s = _clean(text)
    if s is None:
        return None, NumberInfo(raw, None, "", (), "unknown")
    s = _apply_local_rules(s, country, area_code)
    digits = s.lstrip("+")
    fast = _cn_mobile(s) if country == "CN" else None
    if fast is not None:
        return None, fast._replace_raw(raw)
    try:
        p = phonenumbers.parse(s, country)
    except phonenumbers.NumberParseException:
        return None, NumberInfo(raw, None, digits, (), "unknown", subscriber=digits)
    # number_type() does the pattern matching is_valid_number() would repeat, so call it once;
    # China is one region per country code, so "has a type" is exactly "is valid" there.
    ptype = phonenumbers.number_type(p)
    valid = ptype != PhoneNumberType.UNKNOWN if p.country_code == 86 else phonenumbers.is_valid_number(p)
    if not valid:
        kind = "service" if shortnumberinfo.is_valid_short_number_for_region(p, country) else "unknown"
        return p, NumberInfo(raw, None, digits, (), kind, subscriber=digits)
    nsn = phonenumbers.national_significant_number(p)
    e164 = f"+{p.country_code}{nsn}"
    kind = _TYPE_KIND.get(ptype, "unknown")
    subscriber = nsn
    if p.country_code == 86:
        # Cheaper than the generic formatters: trunk prefix 0 only on fixed lines; area codes
        # 10 and 2x have two digits, every other one three.
        national = "0" + nsn if kind == "fixed" else nsn
        if kind == "fixed":
            subscriber = nsn[2:] if nsn[0] in "12" else nsn[3:]
    else:
        national = re.sub(r"\D", "", phonenumbers.format_number(p, phonenumbers.PhoneNumberFormat.NATIONAL))
        if kind == "fixed":
            ac_len = phonenumbers.length_of_geographical_area_code(p)
            if ac_len:
                subscriber = nsn[ac_len:]
    forms = tuple(f for f in dict.fromkeys([national, subscriber]) if f)
    return p, NumberInfo(raw, e164, national, forms, kind, valid=True, subscriber=subscriber)


def _normalise_area_code(area_code: str) -> str:
    ac = re.sub(r"\D", "", area_code or "")
    if ac and not ac.startswith("0"):
        ac = "0" + ac
    return ac


def index_forms(raw: str, country: str = "CN", area_code: str = "010") -> NumberInfo:
    """Like `normalise` but without location and carrier: the cheap path for storing numbers."""
    return _core(raw, country, _normalise_area_code(area_code))[1]


@lru_cache(maxsize=4096)
def normalise(raw: str, country: str = "CN", area_code: str = "010") -> NumberInfo:
    """Parse `raw` as a caller would have sent it; see `NumberInfo`.

    A 7–8 digit number with no area code is taken as local and gets `area_code`.
    Never raises: unusable input comes back with `valid=False` and kind "unknown".
    """
    p, info = _core(raw, country, _normalise_area_code(area_code))
    if not info.valid or info.e164 is None:
        return info
    if p is None:
        p = phonenumbers.parse(info.e164)
    location = geocoder.description_for_number(p, "zh") or ""
    if location == "中国" and info.kind != "fixed":
        location = ""  # 400/800 numbers: "China" says nothing
    name = carrier.name_for_number(p, "zh") or ""
    return NumberInfo(
        info.raw, info.e164, info.national, info.local_forms, info.kind, location, name, True, info.subscriber
    )


def lookup_keys(raw: str, country: str = "CN", area_code: str = "010") -> list[str]:
    """The forms a number can be found under: the key first, then local forms. Empty when absent."""
    info = index_forms(raw, country, area_code)
    if not info.present or not info.key:
        return []
    return list(dict.fromkeys([info.key, *info.local_forms]))


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """The office's numbering context (country and own area code), bound once from ccd.toml."""

    country: str = "CN"
    area_code: str = "010"

    def normalise(self, raw: str) -> NumberInfo:
        return normalise(raw, self.country, self.area_code)

    def index_forms(self, raw: str) -> NumberInfo:
        return index_forms(raw, self.country, self.area_code)

    def lookup_keys(self, raw: str) -> list[str]:
        return lookup_keys(raw, self.country, self.area_code)

    def search_prefixes(self, digits: str) -> tuple[list[str], str]:
        """For a partly typed number: (prefixes of the stored key to try, prefix of the local form).

        "1380013" → keys starting "+861380013" (a mobile) or "1380013" (a stored short number);
        "010623" → "+8610623"; "+8610" → "+8610"; and the subscriber form "1380013"/"010623".
        """
        if digits.startswith("+"):
            return [digits], digits[1:]
        cc = str(phonenumbers.country_code_for_region(self.country) or "")
        keys = [digits]
        if digits.startswith("00"):
            keys = ["+" + digits[2:]]
        elif digits.startswith("0") and cc:
            keys.append(f"+{cc}{digits[1:]}")
        elif cc:
            keys.append(f"+{cc}{digits}")
        return keys, digits
