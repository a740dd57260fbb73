"""SMS PDUs (3GPP TS 23.040) and the GSM 7-bit alphabet (TS 23.038): pure functions, no I/O.

PDU mode (`AT+CMGF=0`) is the only mode that carries Chinese reliably: text mode with
`AT+CSCS="UCS2"` differs between modules. So ccd builds and parses the PDUs itself:

* `encode_submit(to, text)` -> the SMS-SUBMIT PDUs to send (one per part): GSM 7-bit when
  every character is in the default alphabet or its extension table, else UCS2 (70
  characters, 67 per part when concatenated; 160 / 153 in 7-bit). Parts carry a
  concatenation header (IE 0x00, 8-bit reference) and never split an escape sequence or a
  UTF-16 surrogate pair;
* `decode(pdu_hex)` -> `Deliver` or `StatusReport` (or `Submit`, for what we sent), with
  concatenation info from IE 0x00 or IE 0x08 (16-bit reference);
* `Reassembler` puts the parts of a long message back together in any arrival order.

Numbers are semi-octets (swapped nibbles, F-padded) with a type-of-address octet: 0x91
international ("+86..."), 0x81 unknown/national, 0xD0 alphanumeric (sender names such as
"10086" operators use). Timestamps (SCTS) are seven semi-octets with the time zone in
quarter hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(GSM7_BASIC) == 128
GSM7_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~", 0x3E: "]",
            0x40: "|", 0x65: "€"}  # fmt: skip
_ENC_BASIC = {c: i for i, c in enumerate(GSM7_BASIC) if i != 0x1B}
_ENC_EXT = {c: i for i, c in GSM7_EXT.items()}
ESC = 0x1B

TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TOA_ALPHANUMERIC = 0xD0

DCS_GSM7 = 0x00
DCS_8BIT = 0x04
DCS_UCS2 = 0x08

# single-part / per-part limits, in characters of the alphabet (septets or UCS2 code units)
LIMITS = {"gsm7": (160, 153), "ucs2": (70, 67)}


class PduError(ValueError):
    """A PDU that cannot be parsed, or text/number that cannot be encoded; says which field."""


# ---------------------------------------------------------------- alphabets


def is_gsm7(text: str) -> bool:
    return all(c in _ENC_BASIC or c in _ENC_EXT for c in text)


def gsm7_septets(text: str) -> list[int]:
    """Text -> septet values (extension characters become ESC + code)."""
    out: list[int] = []
    for c in text:
        if c in _ENC_BASIC:
            out.append(_ENC_BASIC[c])
        elif c in _ENC_EXT:
            out += [ESC, _ENC_EXT[c]]
        else:
            raise PduError(f"character {c!r} is not in the GSM 7-bit alphabet")
    return out


def septets_to_text(septets: list[int]) -> str:
    out: list[str] = []
    esc = False
    for s in septets:
        if esc:
            # an unknown extension code shows as its basic character (TS 23.038 6.2.1.1)
            out.append(GSM7_EXT.get(s, GSM7_BASIC[s] if s != ESC else " "))
            esc = False
        elif s == ESC:
            esc = True
        else:
            out.append(GSM7_BASIC[s])
    return "".join(out)


def pack7(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after `fill_bits` zero bits (to align after a user-data header)."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits > 0:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack7(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """`count` septets from packed `data`, skipping `fill_bits` leading bits."""
    value = int.from_bytes(data, "little")
    out = []
    for i in range(count):
        pos = fill_bits + 7 * i
        if pos + 7 > len(data) * 8:
            raise PduError(f"7-bit user data is {len(data)} octets, too short for {count} septets")
        out.append((value >> pos) & 0x7F)
    return out


# ---------------------------------------------------------------- numbers and times


def _swap_digits(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def _unswap_digits(data: bytes, ndigits: int | None = None) -> str:
    table = "0123456789*#abc"
    out = []
    for b in data:
        for nib in (b & 0x0F, b >> 4):
            if nib == 0x0F:
                continue
            out.append(table[nib] if nib < 15 else "")
    s = "".join(out)
    return s[:ndigits] if ndigits is not None else s


def encode_number(number: str) -> tuple[int, bytes]:
    """Digits (with an optional leading '+') -> (type of address, semi-octets)."""
    n = number.strip().replace(" ", "").replace("-", "")
    toa = TOA_UNKNOWN
    if n.startswith("+"):
        toa, n = TOA_INTERNATIONAL, n[1:]
    elif n.startswith("00") and len(n) > 4:
        toa, n = TOA_INTERNATIONAL, n[2:]
    if not n or not all(c in "0123456789*#" for c in n):
        raise PduError(f"{number!r} is not a phone number (digits, optionally with a leading +)")
    if len(n) > 20:
        raise PduError(f"{number!r} is too long for an SMS address (20 digits at most)")
    return toa, _swap_digits(n.replace("*", "A").replace("#", "B"))


def encode_address(number: str) -> bytes:
    """TP-DA / TP-OA: digit count, type, semi-octets."""
    toa, body = encode_number(number)
    ndigits = len(_unswap_digits(body))
    return bytes((ndigits, toa)) + body


def encode_smsc(number: str | None) -> bytes:
    """The SMSC field: '00' means "use the one stored on the SIM"."""
    if not number:
        return b"\x00"
    toa, body = encode_number(number)
    return bytes((len(body) + 1, toa)) + body


def _decode_addr_value(toa: int, body: bytes, ndigits: int) -> str:
    if (toa & 0x70) == 0x50:  # alphanumeric: GSM 7-bit packed
        return septets_to_text(unpack7(body, (ndigits * 4) // 7))
    digits = _unswap_digits(body, ndigits)
    return ("+" if (toa & 0x70) == 0x10 else "") + digits


@dataclass(frozen=True, slots=True)
class Timestamp:
    """An SCTS: local date and time as the network sent it, with its offset from UTC."""

    when: dt.datetime  # timezone-aware

    def unix(self) -> float:
        return self.when.timestamp()

    def __str__(self) -> str:
        return self.when.isoformat()


def decode_scts(data: bytes) -> Timestamp:
    if len(data) != 7:
        raise PduError("a timestamp is 7 octets")
    vals = []
    for b in data[:6]:
        lo, hi = b & 0x0F, b >> 4
        if lo > 9 or hi > 9:
            raise PduError(f"bad timestamp digit in {data.hex().upper()}")
        vals.append(lo * 10 + hi)
    tzb = data[6]
    quarters = (tzb & 0x07) * 10 + (tzb >> 4)
    sign = -1 if tzb & 0x08 else 1
    yy, mo, dd, hh, mi, ss = vals
    try:
        year = (1900 if yy >= 80 else 2000) + yy  # two year digits; no SMS predates 1980
        tz = dt.timezone(dt.timedelta(minutes=15 * quarters * sign))
        when = dt.datetime(year, mo, dd, hh, mi, ss, tzinfo=tz)
    except ValueError as e:
        raise PduError(f"bad timestamp {data.hex().upper()}: {e}") from None
    return Timestamp(when)


def encode_scts(when: dt.datetime) -> bytes:
    offset = when.utcoffset() or dt.timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    digits = f"{when.year % 100:02d}{when.month:02d}{when.day:02d}{when.hour:02d}{when.minute:02d}{when.second:02d}"
    body = _swap_digits(digits)
    tz = _swap_digits(f"{quarters:02d}")[0] | (0x08 if offset < dt.timedelta(0) else 0)
    return body + bytes((tz,))


# ---------------------------------------------------------------- user data


@dataclass(frozen=True, slots=True)
class Concat:
    ref: int
    total: int
    seq: int  # 1-based
    bits: int = 8  # reference size: IE 0x00 (8) or 0x08 (16)


def parse_udh(udh: bytes) -> tuple[Concat | None, dict[int, bytes]]:
    """Information elements of a user-data header (without its length octet)."""
    ies: dict[int, bytes] = {}
    concat = None
    i = 0
    while i + 2 <= len(udh):
        iei, ln = udh[i], udh[i + 1]
        val = udh[i + 2 : i + 2 + ln]
        if len(val) != ln:
            raise PduError("user-data header element runs past the header")
        ies[iei] = val
        if iei == 0x00 and ln == 3:
            concat = Concat(val[0], val[1], val[2], 8)
        elif iei == 0x08 and ln == 4:
            concat = Concat(int.from_bytes(val[:2], "big"), val[2], val[3], 16)
        i += 2 + ln
    if concat is not None and (concat.total == 0 or concat.seq == 0 or concat.seq > concat.total):
        concat = None  # TS 23.040: ignore a malformed concatenation element
    return concat, ies


def concat_udh(ref: int, total: int, seq: int, bits: int = 8) -> bytes:
    """The whole header, length octet included."""
    if bits == 16:
        return bytes((6, 0x08, 4)) + (ref & 0xFFFF).to_bytes(2, "big") + bytes((total, seq))
    return bytes((5, 0x00, 3, ref & 0xFF, total, seq))


def alphabet_of(dcs: int) -> str:
    """'gsm7' | '8bit' | 'ucs2' from a data coding scheme octet."""
    group = dcs & 0xF0
    if dcs & 0xC0 == 0x00 or dcs & 0xC0 == 0x40:  # general data coding (0x40: auto-deletion)
        return {0x00: "gsm7", 0x04: "8bit", 0x08: "ucs2"}.get(dcs & 0x0C, "gsm7")
    if group in (0xC0, 0xD0):
        return "gsm7"
    if group == 0xE0:
        return "ucs2"
    if group == 0xF0:
        return "8bit" if dcs & 0x04 else "gsm7"
    return "gsm7"


def _decode_ud(data: bytes, pos: int, udhi: bool, dcs: int) -> tuple[str, Concat | None, bytes]:
    if pos >= len(data):
        raise PduError("the PDU ends before its user-data length")
    udl = data[pos]
    ud = data[pos + 1 :]
    alphabet = alphabet_of(dcs)
    udh = b""
    concat = None
    udh_octets = 0
    if udhi:
        if not ud:
            raise PduError("header flag set but no user data")
        udhl = ud[0]
        udh = ud[1 : 1 + udhl]
        if len(udh) != udhl:
            raise PduError("user-data header is cut short")
        udh_octets = udhl + 1
        concat, _ = parse_udh(udh)
    if alphabet == "gsm7":
        header_bits = udh_octets * 8
        header_septets = (header_bits + 6) // 7
        fill = header_septets * 7 - header_bits
        count = udl - header_septets
        if count < 0:
            raise PduError("user-data length shorter than its header")
        septets = unpack7(ud[udh_octets:], count, fill)
        return septets_to_text(septets), concat, udh
    body = ud[udh_octets:udl]
    if len(ud) < udl:
        raise PduError(f"user data is {len(ud)} octets, length says {udl}")
    if alphabet == "ucs2":
        if len(body) % 2:
            body = body[:-1]  # an odd octet cannot be UCS2; keep what can be read
        return body.decode("utf-16-be", errors="replace"), concat, udh
    return body.decode("latin-1"), concat, udh


# ---------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class Deliver:
    """An incoming message (or one part of it)."""

    sender: str
    text: str
    timestamp: Timestamp
    smsc: str = ""
    dcs: int = 0
    pid: int = 0
    concat: Concat | None = None
    status_report_indicated: bool = False
    udh: bytes = b""


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A delivery report for a message we sent, matched by its message reference."""

    reference: int
    recipient: str
    timestamp: Timestamp  # when the SMSC took the message
    discharge: Timestamp  # when it was delivered (or failed)
    status: int
    smsc: str = ""

    @property
    def state(self) -> str:
        """delivered | pending (the SMSC still tries) | failed."""
        if self.status < 0x20:  # transaction completed (0x00 received, 0x01 forwarded, 0x02 replaced)
            return "delivered"
        if self.status < 0x40:
            return "pending"
        return "failed"


@dataclass(frozen=True, slots=True)
class Submit:
    """An outgoing message part as a PDU: what AT+CMGS needs."""

    pdu: bytes  # SMSC field included
    tpdu_len: int  # octets after the SMSC field: the number AT+CMGS=<n> takes
    to: str = ""
    text: str = ""
    concat: Concat | None = None
    dcs: int = 0
    reference: int = 0

    @property
    def hex(self) -> str:
        return self.pdu.hex().upper()


def _read_smsc(data: bytes) -> tuple[str, int]:
    n = data[0]
    if n == 0:
        return "", 1
    if 1 + n > len(data):
        raise PduError("SMSC field runs past the PDU")
    return _decode_addr_value(data[1], data[2 : 1 + n], (n - 1) * 2), 1 + n


def _read_address(data: bytes, pos: int) -> tuple[str, int]:
    if pos + 2 > len(data):
        raise PduError("the PDU ends in an address")
    ndigits, toa = data[pos], data[pos + 1]
    nbytes = (ndigits + 1) // 2
    body = data[pos + 2 : pos + 2 + nbytes]
    if len(body) != nbytes:
        raise PduError("address runs past the PDU")
    return _decode_addr_value(toa, body, ndigits), pos + 2 + nbytes


def decode(pdu: str | bytes, *, has_smsc: bool = True) -> Deliver | StatusReport | Submit:
    """Parse a PDU as `AT+CMGR`/`+CMGL`/`+CDS` give it (hex, SMSC field first)."""
    if isinstance(pdu, str):
        text = pdu.strip()
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise PduError(f"not a hex PDU: {text[:40]!r}") from None
    else:
        data = bytes(pdu)
    if not data:
        raise PduError("empty PDU")
    try:
        return _decode(data, has_smsc)
    except IndexError:
        raise PduError(f"PDU cut short: {data.hex().upper()[:80]}") from None


def _decode(data: bytes, has_smsc: bool) -> Deliver | StatusReport | Submit:
    smsc, pos = _read_smsc(data) if has_smsc else ("", 0)
    first = data[pos]
    pos += 1
    mti = first & 0x03
    udhi = bool(first & 0x40)
    if mti == 0x00:  # SMS-DELIVER
        sender, pos = _read_address(data, pos)
        pid, dcs = data[pos], data[pos + 1]
        scts = decode_scts(data[pos + 2 : pos + 9])
        text, concat, udh = _decode_ud(data, pos + 9, udhi, dcs)
        return Deliver(sender, text, scts, smsc, dcs, pid, concat, bool(first & 0x20), udh)
    if mti == 0x02:  # SMS-STATUS-REPORT
        mr = data[pos]
        recipient, pos = _read_address(data, pos + 1)
        scts = decode_scts(data[pos : pos + 7])
        disch = decode_scts(data[pos + 7 : pos + 14])
        status = data[pos + 14]
        return StatusReport(mr, recipient, scts, disch, status, smsc)
    if mti == 0x01:  # SMS-SUBMIT (what we sent, read back from storage)
        mr = data[pos]
        to, pos = _read_address(data, pos + 1)
        pid, dcs = data[pos], data[pos + 1]
        pos += 2
        vpf = (first >> 3) & 0x03
        pos += {0: 0, 2: 1, 1: 7, 3: 7}[vpf]
        text, concat, _ = _decode_ud(data, pos, udhi, dcs)
        smsc_len = _read_smsc(data)[1] if has_smsc else 0
        return Submit(data, len(data) - smsc_len, to, text, concat, dcs, mr)
    raise PduError(f"unknown message type {mti} (first octet {first:02X})")


def split_text(text: str, alphabet: str | None = None) -> tuple[str, list[str]]:
    """(alphabet, parts): one part if it fits a single SMS, else parts of the concatenated size."""
    alphabet = alphabet or ("gsm7" if is_gsm7(text) else "ucs2")
    single, multi = LIMITS[alphabet]

    def size(c: str) -> int:
        if alphabet == "gsm7":
            return 2 if c in _ENC_EXT else 1
        return 2 if ord(c) > 0xFFFF else 1

    if sum(size(c) for c in text) <= single:
        return alphabet, [text]
    parts: list[str] = []
    cur: list[str] = []
    used = 0
    for c in text:  # whole characters only: no escape sequence or surrogate pair is split
        n = size(c)
        if used + n > multi:
            parts.append("".join(cur))
            cur, used = [], 0
        cur.append(c)
        used += n
    if cur:
        parts.append("".join(cur))
    return alphabet, parts


def encode_submit(
    to: str,
    text: str,
    *,
    ref: int = 0,
    smsc: str | None = None,
    status_report: bool = True,
    validity: int | None = None,
    force_ucs2: bool = False,
) -> list[Submit]:
    """SMS-SUBMIT PDUs for `text` to `to`: one, or a concatenated series sharing `ref`.

    `validity` is the relative validity-period octet (TS 23.040 9.2.3.12.1; 0xA7 = 24 h);
    None leaves it out, as most senders do. The message reference is left 0 for the module
    to assign; it answers with it in `+CMGS: <mr>`.
    """
    if not text:
        raise PduError("an SMS needs some text")
    alphabet, parts = split_text(text, "ucs2" if force_ucs2 else None)
    if len(parts) > 255:
        raise PduError(f"text too long: {len(parts)} parts (255 at most)")
    da = encode_address(to)
    sca = encode_smsc(smsc)
    out = []
    total = len(parts)
    for i, part in enumerate(parts, 1):
        udh = concat_udh(ref, total, i) if total > 1 else b""
        first = 0x01
        if validity is not None:
            first |= 0x10
        if status_report:
            first |= 0x20
        if udh:
            first |= 0x40
        if alphabet == "gsm7":
            septets = gsm7_septets(part)
            header_bits = len(udh) * 8
            header_septets = (header_bits + 6) // 7
            fill = header_septets * 7 - header_bits
            ud = udh + pack7(septets, fill)
            udl = header_septets + len(septets)
            dcs = DCS_GSM7
        else:
            body = part.encode("utf-16-be")
            ud = udh + body
            udl = len(ud)
            dcs = DCS_UCS2
        tpdu = bytes((first, 0x00)) + da + bytes((0x00, dcs))
        if validity is not None:
            tpdu += bytes((validity & 0xFF,))
        tpdu += bytes((udl,)) + ud
        concat = Concat(ref & 0xFF, total, i) if total > 1 else None
        out.append(Submit(sca + tpdu, len(tpdu), to, part, concat, dcs))
    return out


# ---------------------------------------------------------------- reassembly


@dataclass
class _Pending:
    total: int
    parts: dict[int, Deliver] = field(default_factory=dict)
    first_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class Message:
    """A whole incoming message, however many parts it came in."""

    sender: str
    text: str
    timestamp: Timestamp
    parts: int = 1
    complete: bool = True  # False: some parts never came (flushed after the timeout)


class Reassembler:
    """Collects concatenated parts by (sender, reference, total); any arrival order.

    A message whose parts do not all arrive within `timeout` seconds is given up with what
    came (marked incomplete, missing parts shown as "…"), so one lost part does not hide
    the rest of a customer's text forever.
    """

    def __init__(self, timeout: float = 600.0) -> None:
        self.timeout = timeout
        self._pending: dict[tuple[str, int, int, int], _Pending] = {}

    def add(self, part: Deliver, now: float) -> Message | None:
        c = part.concat
        if c is None or c.total <= 1:
            return Message(part.sender, part.text, part.timestamp)
        key = (part.sender, c.bits, c.ref, c.total)
        pend = self._pending.setdefault(key, _Pending(c.total, first_seen=now))
        pend.parts[c.seq] = part  # a duplicate part replaces the earlier copy
        if len(pend.parts) == pend.total:
            del self._pending[key]
            return self._join(pend, True)
        return None

    def expire(self, now: float) -> list[Message]:
        done = [k for k, p in self._pending.items() if now - p.first_seen >= self.timeout]
        return [self._join(self._pending.pop(k), False) for k in done]

    def _join(self, pend: _Pending, complete: bool) -> Message:
        parts = [pend.parts.get(i) for i in range(1, pend.total + 1)]
        first = next(p for p in parts if p is not None)
        text = "".join(p.text if p is not None else "…" for p in parts)
        return Message(first.sender, text, first.timestamp, pend.total, complete)

    @property
    def pending(self) -> int:
        return len(self._pending)


# ---------------------------------------------------------------- the network's side (emulators, tests)


def encode_deliver(
    sender: str,
    text: str,
    when: dt.datetime,
    *,
    smsc: str | None = "+8613800100500",
    concat: Concat | None = None,
    force_ucs2: bool = False,
) -> str:
    """An SMS-DELIVER as a module stores it (hex, SMSC first): what a network would send us."""
    alphabet = "ucs2" if force_ucs2 or not is_gsm7(text) else "gsm7"
    udh = concat_udh(concat.ref, concat.total, concat.seq, concat.bits) if concat else b""
    first = 0x04 | (0x40 if udh else 0)  # MMS: no more messages waiting
    if sender and not sender.lstrip("+").isdigit():
        septets = gsm7_septets(sender)
        body = pack7(septets)
        oa = bytes(((len(septets) * 7 + 3) // 4, TOA_ALPHANUMERIC)) + body  # length in semi-octets
    else:
        oa = encode_address(sender)
    if alphabet == "gsm7":
        septets = gsm7_septets(text)
        header_bits = len(udh) * 8
        header_septets = (header_bits + 6) // 7
        ud = udh + pack7(septets, header_septets * 7 - header_bits)
        udl, dcs = header_septets + len(septets), DCS_GSM7
    else:
        ud = udh + text.encode("utf-16-be")
        udl, dcs = len(ud), DCS_UCS2
    tpdu = bytes((first,)) + oa + bytes((0x00, dcs)) + encode_scts(when) + bytes((udl,)) + ud
    return (encode_smsc(smsc) + tpdu).hex().upper()


def encode_status_report(
    reference: int,
    recipient: str,
    sent: dt.datetime,
    done: dt.datetime,
    status: int = 0,
    smsc: str | None = None,
) -> str:
    """An SMS-STATUS-REPORT (hex, SMSC first) for message reference `reference`."""
    tpdu = bytes((0x06, reference & 0xFF)) + encode_address(recipient) + encode_scts(sent) + encode_scts(done)
    return (encode_smsc(smsc) + tpdu + bytes((status,))).hex().upper()
