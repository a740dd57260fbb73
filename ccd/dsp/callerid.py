"""Caller-ID codec: SDMF/MDMF frames, DTMF caller ID, and a streaming receiver for line audio.

Formats (DSP-SPECS.md §3-§4): Bellcore/ETSI FSK messages are ``type, length, body, checksum``
with type 0x04 (SDMF: ``MMDDHHMM`` + number), 0x80 (MDMF: type-length-value parameters), 0x06 and
0x82 (message waiting).  China (YD/T 1277.1) sends MDMF over Bell 202 between the first and second
ring, with names as GB 2312/GBK bytes, or DTMF caller ID (``A13800138000C``) before the first ring.

A valid checksum is not proof of a frame: at low SNR noise produces one now and then, so decoding
also checks the message type, the lengths and the parameter structure, and the receiver only
reports frames that pass all of it (plus damaged frames that were clearly a real FSK burst).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ccd.dsp.fsk import FSK_STANDARDS, MAX_PIECE, FskChar, FskDemodulator, as_audio, fsk_modulate
from ccd.dsp.levels import SAMPLE_RATE

log = logging.getLogger(__name__)

MSG_SDMF = 0x04
MSG_MDMF = 0x80
MSG_MWI_SDMF = 0x06
MSG_MWI_MDMF = 0x82

P_DATETIME = 0x01
P_NUMBER = 0x02
P_NUMBER_ABSENT = 0x04
P_NAME = 0x07
P_NAME_ABSENT = 0x08
P_VISUAL_INDICATOR = 0x0B

#: Longest number or name we keep (Asterisk keeps 32 bytes; a GBK name of 32 characters is 64).
MAX_FIELD_CHARS = 64
ABSENCE_CODES = ("P", "O")  # P = private/withheld, O = unavailable/out of area
NUMBER_CHARS = frozenset("0123456789*#+-() ")
DTMF_CHARS = frozenset("0123456789*#ABCD")
#: Errors with this prefix are remarks about a readable frame, not signs of damage.
SOFT = "note: "

#: message type -> (shortest, longest) plausible length byte; SDMF is 8 date digits + 1..32 chars
_LENGTHS = {MSG_SDMF: (9, 40), MSG_MDMF: (3, 255), MSG_MWI_SDMF: (1, 16), MSG_MWI_MDMF: (3, 255)}
_FORMATS = {MSG_SDMF: "sdmf", MSG_MDMF: "mdmf", MSG_MWI_SDMF: "mwi", MSG_MWI_MDMF: "mwi"}


@dataclass
class CallerId:
    """One caller-ID delivery as decoded (or to be encoded).

    `valid` is the receiver's test: checksum good and no structural error.  Errors that start
    with ``"note: "`` (a name that was not GBK, a truncated field) do not make a frame invalid.
    """

    format: str  # "sdmf" | "mdmf" | "dtmf" | "mwi"
    number: str | None = None
    name: str | None = None
    datetime: str | None = None  # "MMDDHHMM" as sent
    number_absent: str | None = None  # "P" private/withheld, "O" unavailable/out of area
    name_absent: str | None = None
    extra: dict[int, bytes] = field(default_factory=dict)  # unknown MDMF params kept raw
    checksum_ok: bool = True
    raw: bytes = b""  # message type + length + params, without checksum
    errors: list[str] = field(default_factory=list)
    message_waiting: bool | None = None  # for "mwi" messages: lamp on / off

    @property
    def valid(self) -> bool:
        return self.checksum_ok and not any(not e.startswith(SOFT) for e in self.errors)


@dataclass(frozen=True)
class CallerIdEvent:
    """A caller ID heard on the line, with its sample span (first start bit .. last stop bit)."""

    cid: CallerId
    start: int
    end: int


# ====================================================================== FSK message codec


def checksum(body: bytes) -> int:
    """Two's complement of the modulo-256 sum: the whole message then sums to zero."""
    return (-sum(body)) & 0xFF


def _check_number(number: str) -> bytes:
    if not number or len(number) > MAX_FIELD_CHARS or not set(number) <= NUMBER_CHARS:
        raise ValueError(
            f"number {number!r} must be 1..{MAX_FIELD_CHARS} characters of digits, '*', '#', '+', '-', '(', ')', ' '"
        )
    return number.encode("ascii")


def _check_absent(what: str, code: str | None) -> None:
    if code is not None and code not in ABSENCE_CODES:
        raise ValueError(f"{what} {code!r} must be 'P' (private) or 'O' (unavailable)")


def _check_datetime(dt: str) -> bytes:
    if len(dt) != 8 or not _is_ascii_digits(dt):
        raise ValueError(f"datetime {dt!r} must be 8 digits MMDDHHMM")
    return dt.encode("ascii")


def _frame(msg_type: int, body: bytes) -> bytes:
    if len(body) > 255:
        raise ValueError(f"caller-ID message body is {len(body)} bytes; at most 255 fit")
    head = bytes((msg_type, len(body))) + body
    return head + bytes((checksum(head),))


def encode_sdmf(cid: CallerId) -> bytes:
    """SDMF message (type 0x04) with checksum: ``MMDDHHMM`` then the number, or 'P'/'O'."""
    if cid.datetime is None:
        raise ValueError("SDMF needs a datetime (MMDDHHMM); use MDMF to send without one")
    body = _check_datetime(cid.datetime)
    _check_absent("number_absent", cid.number_absent)
    if cid.number:
        body += _check_number(cid.number)
    elif cid.number_absent:
        body += cid.number_absent.encode("ascii")
    else:
        raise ValueError("SDMF needs a number or a number_absent reason ('P' or 'O')")
    return _frame(MSG_SDMF, body)


def encode_mdmf(cid: CallerId, charset: str = "gbk") -> bytes:
    """MDMF message (type 0x80) with checksum; the name is encoded in `charset` (China: GBK)."""
    params: list[tuple[int, bytes]] = []
    if cid.datetime is not None:
        params.append((P_DATETIME, _check_datetime(cid.datetime)))
    if cid.number:
        params.append((P_NUMBER, _check_number(cid.number)))
    _check_absent("number_absent", cid.number_absent)
    _check_absent("name_absent", cid.name_absent)
    if cid.number_absent:
        params.append((P_NUMBER_ABSENT, cid.number_absent.encode("ascii")))
    if cid.name:
        try:
            name = cid.name.encode(charset)
        except (UnicodeEncodeError, LookupError) as exc:
            raise ValueError(f"name {cid.name!r} cannot be encoded as {charset}: {exc}") from None
        if len(cid.name) > MAX_FIELD_CHARS:
            raise ValueError(f"name is {len(cid.name)} characters; at most {MAX_FIELD_CHARS}")
        params.append((P_NAME, name))
    if cid.name_absent:
        params.append((P_NAME_ABSENT, cid.name_absent.encode("ascii")))
    known = {P_DATETIME, P_NUMBER, P_NUMBER_ABSENT, P_NAME, P_NAME_ABSENT}
    for ptype, value in cid.extra.items():
        if ptype in known or not 0 <= ptype <= 255:
            raise ValueError(f"extra parameter type {ptype:#x} is reserved or out of range")
        params.append((ptype, bytes(value)))
    if not params:
        raise ValueError("MDMF needs at least one parameter")
    body = b""
    for ptype, value in params:
        if not 1 <= len(value) <= 255:
            raise ValueError(f"parameter {ptype:#04x} is {len(value)} bytes; must be 1..255")
        body += bytes((ptype, len(value))) + value
    return _frame(MSG_MDMF, body)


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts '²' and other Unicode digits, which int() then refuses
    return bool(text) and all("0" <= c <= "9" for c in text)


def _decode_datetime(raw: bytes, cid: CallerId) -> None:
    text = raw.decode("latin-1")
    if len(raw) != 8 or not _is_ascii_digits(text):
        cid.errors.append(f"date/time {raw!r} is not 8 digits")
        cid.datetime = text
        return
    cid.datetime = text
    mo, dd, hh, mm = (int(text[i : i + 2]) for i in range(0, 8, 2))
    if not (1 <= mo <= 12 and 1 <= dd <= 31 and hh < 24 and mm < 60):
        cid.errors.append(f"{SOFT}date/time {text} is out of range")


def _decode_number(raw: bytes, cid: CallerId) -> None:
    text = raw.decode("latin-1")
    if len(raw) == 1 and text in ABSENCE_CODES and cid.format == "sdmf":
        cid.number_absent = text
        return
    if not raw or not set(text) <= NUMBER_CHARS:
        cid.errors.append(f"number {raw!r} has characters that are not dialable")
    if len(text) > MAX_FIELD_CHARS:
        cid.errors.append(f"{SOFT}number truncated from {len(text)} characters")
        text = text[:MAX_FIELD_CHARS]
    cid.number = text


def _decode_name(raw: bytes, cid: CallerId) -> None:
    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        cid.errors.append(f"{SOFT}name is not GB2312/GBK; decoded as Latin-1")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        cid.errors.append(f"{SOFT}name has control characters (replaced)")
        text = "".join("\ufffd" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    if len(text) > MAX_FIELD_CHARS:
        cid.errors.append(f"{SOFT}name truncated from {len(text)} characters")
        text = text[:MAX_FIELD_CHARS]
    cid.name = text


def _decode_absent(what: str, raw: bytes, cid: CallerId) -> None:
    text = raw.decode("latin-1")
    if len(raw) != 1:
        cid.errors.append(f"{what} reason {raw!r} is not one byte")
    elif text not in ABSENCE_CODES:
        cid.errors.append(f"{SOFT}{what} reason {text!r} is neither 'P' nor 'O'")
    setattr(cid, f"{what}_absent", text)


def _decode_mdmf_params(body: bytes, cid: CallerId) -> None:
    pos = 0
    seen: set[int] = set()
    while pos < len(body):
        if pos + 2 > len(body):
            cid.errors.append(f"parameter header at byte {pos} is cut off")
            return
        ptype, plen = body[pos], body[pos + 1]
        value = body[pos + 2 : pos + 2 + plen]
        if plen == 0:
            cid.errors.append(f"parameter {ptype:#04x} has length 0")
        if pos + 2 + plen > len(body):
            cid.errors.append(f"parameter {ptype:#04x} length {plen} overruns the message")
        if ptype in seen:
            cid.errors.append(f"parameter {ptype:#04x} appears twice")
        seen.add(ptype)
        pos += 2 + plen
        if cid.format == "mwi":
            if ptype == P_VISUAL_INDICATOR and len(value) == 1:
                cid.message_waiting = value[0] == 0xFF
            else:
                cid.extra[ptype] = bytes(value)
        elif ptype == P_DATETIME:
            _decode_datetime(value, cid)
        elif ptype == P_NUMBER:
            _decode_number(value, cid)
        elif ptype == P_NUMBER_ABSENT:
            _decode_absent("number", value, cid)
        elif ptype == P_NAME:
            _decode_name(value, cid)
        elif ptype == P_NAME_ABSENT:
            _decode_absent("name", value, cid)
        else:
            cid.extra[ptype] = bytes(value)


def decode_message(data: bytes) -> CallerId | None:
    """Decode one FSK caller-ID message; see `_decode_message`.  Never raises."""
    try:
        return _decode_message(data)
    except Exception:  # a decoder bug must not take a line down; the frame is reported damaged
        log.debug("caller-ID decoder failed on %r", data, exc_info=True)
        cid = CallerId(format="mdmf", checksum_ok=False)
        cid.errors.append("frame could not be decoded")
        return cid


def _decode_message(data: bytes) -> CallerId | None:
    """Decode one FSK caller-ID message (type, length, body, checksum); never raises.

    None means "not a caller-ID message at all" (empty, or an unknown type byte).  Anything else
    comes back as a CallerId: a bad checksum gives ``checksum_ok=False`` with whatever parsed,
    and structural problems (impossible length, a parameter that overruns, a number with letters)
    are listed in `errors`, so ``cid.valid`` is False for a frame that merely checks.
    """
    try:
        data = bytes(data)
    except (TypeError, ValueError):
        return None
    if not data or data[0] not in _FORMATS:
        return None
    msg_type = data[0]
    cid = CallerId(format=_FORMATS[msg_type])
    if len(data) < 2:
        cid.checksum_ok = False
        cid.errors.append("message cut off before its length byte")
        cid.raw = data
        return cid
    length = data[1]
    lo, hi = _LENGTHS[msg_type]
    if not lo <= length <= hi:
        cid.errors.append(f"length {length} is implausible for message type {msg_type:#04x}")
    body = data[2 : 2 + length]
    cid.raw = data[: 2 + length]
    if len(data) < length + 3:
        cid.checksum_ok = False
        cid.errors.append(f"message cut off: {len(data)} of {length + 3} bytes")
    else:
        cid.checksum_ok = sum(data[: length + 3]) & 0xFF == 0
    if msg_type == MSG_SDMF:
        if len(body) < 9:
            cid.errors.append("SDMF body shorter than date/time plus number")
        _decode_datetime(body[:8], cid)
        if len(body) > 8:
            _decode_number(body[8:], cid)
    elif msg_type == MSG_MWI_SDMF:
        # Bellcore SDMF message waiting: 0x42 0x42 0x42 = lamp on, 0x6F 0x6F 0x6F = lamp off
        if body and len(set(body)) == 1 and body[0] in (0x42, 0x6F):
            cid.message_waiting = body[0] == 0x42
        else:
            cid.errors.append(f"message-waiting body {body!r} is neither on (0x42) nor off (0x6F)")
    else:
        _decode_mdmf_params(body, cid)
        if msg_type == MSG_MDMF and not (
            cid.number or cid.number_absent or cid.name or cid.name_absent or cid.extra
        ):
            cid.errors.append("MDMF carries neither number, name nor any other parameter")
    return cid


# ====================================================================== DTMF caller ID

DTMF_VARIANTS = ("china", "etsi1", "etsi2", "taiwan", "dk")


def encode_dtmf_cid(cid: CallerId, variant: str = "china") -> str:
    """DTMF caller-ID digit string, e.g. ``A13800138000C``.

    china/etsi1: ``A<number>C``, absent ``B00C`` (unavailable) / ``B10C`` (private);
    etsi2: ``A<number>#``, absent ``D1#`` (private) / ``D3#`` (unavailable);
    taiwan: ``D<number>C``, absent as etsi1; dk: ``<number>#``, absent as etsi2.
    """
    if variant not in DTMF_VARIANTS:
        raise ValueError(f"unknown DTMF caller-ID variant {variant!r}; choose one of {list(DTMF_VARIANTS)}")
    _check_absent("number_absent", cid.number_absent)
    if cid.number:
        if not _is_ascii_digits(cid.number) or len(cid.number) > MAX_FIELD_CHARS:
            raise ValueError(
                f"DTMF caller ID can only carry 1..{MAX_FIELD_CHARS} digits (got {cid.number!r})"
            )
        start, end = {"china": "AC", "etsi1": "AC", "etsi2": "A#", "taiwan": "DC", "dk": ("", "#")}[variant]
        return f"{start}{cid.number}{end}"
    if cid.number_absent is None:
        raise ValueError("DTMF caller ID needs a number or a number_absent reason ('P' or 'O')")
    if variant in ("etsi2", "dk"):
        return "D1#" if cid.number_absent == "P" else "D3#"
    return "B10C" if cid.number_absent == "P" else "B00C"


def decode_dtmf_cid(digits: str) -> CallerId | None:
    """Parse a DTMF caller-ID string of any known variant; None if it is not one."""
    if not isinstance(digits, str):
        return None
    s = "".join(digits.split()).upper()
    if not s or not set(s) <= DTMF_CHARS:
        return None
    cid = CallerId(format="dtmf", raw=s.encode("ascii"))
    # special codes: B<2 digits>[C|#], D<1 digit>#
    if len(s) in (3, 4) and s[0] == "B" and s[1:3].isdigit() and (len(s) == 3 or s[3] in "C#"):
        code = s[1:3]
        if code == "00":
            cid.number_absent = "O"
        elif code == "10":
            cid.number_absent = "P"
        else:
            cid.number_absent = "O"
            cid.errors.append(f"{SOFT}unknown special code B{code}; taken as unavailable")
        return cid
    if len(s) == 3 and s[0] == "D" and s[1] in "123" and s[2] == "#":
        cid.number_absent = "P" if s[1] == "1" else "O"
        return cid
    if s[0].isdigit() and not (s.rstrip("#").isdigit() and len(s) - len(s.rstrip("#")) <= 1):
        return None  # the bare-digit form is <number> or <number>#, nothing else
    body = s[1:] if s[0] in "ABCD*#" else s
    number = ""
    for i, ch in enumerate(body):
        if ch.isdigit():
            number += ch
            continue
        rest = body[i + 1 :]
        if ch == "D" and rest:  # ETSI variant 1: A<number>D<redirecting>B<special>C
            cid.extra[0x1A] = "".join(c for c in rest.split("B")[0] if c.isdigit()).encode("ascii")
        elif rest:
            cid.errors.append(f"{SOFT}digits after the end character ignored: {rest!r}")
        break
    if not number:
        return None
    if len(number) > MAX_FIELD_CHARS:
        cid.errors.append(f"{SOFT}number truncated from {len(number)} digits")
        number = number[:MAX_FIELD_CHARS]
    cid.number = number
    return cid


class DtmfCidAssembler:
    """Turns DTMF digits heard before the first ring into DTMF caller-ID frames.

    A frame starts at a start character (A B C D * #, or a bare digit for the Danish form) and
    ends at the first non-digit after at least one digit; a gap longer than `max_gap_ms` between
    digits abandons a half-received frame.  Digits that follow a completed frame closely (the
    ETSI redirecting-number tail) are swallowed as part of that burst.
    """

    def __init__(self, rate: int = SAMPLE_RATE, max_gap_ms: float = 500.0) -> None:
        if rate <= 0 or max_gap_ms <= 0:
            raise ValueError("rate and max_gap_ms must be positive")
        self._max_gap = max_gap_ms * rate / 1000.0
        self.reset()

    def reset(self) -> None:
        self._buf = ""
        self._last: int | None = None
        self._done_at: int | None = None  # end of the last completed frame
        self.last_span: tuple[int, int] | None = None
        self._start = 0

    def feed(self, digit: str, at_sample: int) -> CallerId | None:
        """One detected digit and the sample it started at; returns a CallerId when a frame ends."""
        if not isinstance(digit, str) or len(digit) != 1 or digit.upper() not in DTMF_CHARS:
            raise ValueError(f"not a DTMF digit: {digit!r}")
        d = digit.upper()
        if self._last is not None and at_sample - self._last > self._max_gap:
            self._buf = ""
            self._done_at = None
        prev, self._last = self._last, at_sample
        if self._done_at is not None and prev is not None:
            return None  # tail of a frame already delivered
        if not self._buf:
            self._buf = d
            self._start = at_sample
            return None
        if self._buf[0].isdigit() and not d.isdigit() and d != "#":
            # a bare-digit (Danish) frame only ends with '#': this letter starts the real frame
            self._buf, self._start = d, at_sample
            return None
        self._buf += d
        if d.isdigit():
            return None
        # a non-digit after the start character ends the frame (B00C / D1# special codes too)
        cid = decode_dtmf_cid(self._buf)
        if cid is None:
            # no number in it: the end character may itself open the real frame ("AA123C")
            self._buf, self._start = d, at_sample
            return None
        self._buf = ""
        self._done_at = at_sample
        self.last_span = (self._start, at_sample)
        return cid


# ====================================================================== FSK receiver

_MAX_GAP_BITS = 40.0  # longest mark gap inside a message (spec allows 20 extra bits)
_MAX_CANDIDATES = 12
_CHUNK = 800  # samples the receiver gathers before analysing (100 ms at 8 kHz)
_DAMAGED_MIN_CONFIDENCE = 0.35  # median char confidence of a real burst that failed its checksum
# Share of the 20 bit times before the type byte that were clean mark.  Every standard sends at
# least 55 mark bits before a message; in noise the normalised discriminator is about uniform on
# [-1, 1], so 90 % of ~20 independent looks above 0.3 is a one-in-ten-million accident.
_DAMAGED_IDLE_BITS = 20.0
_DAMAGED_MIN_IDLE = 0.9
_REREAD_MIN_CONFIDENCE = 0.2  # noise-made candidates sit near 0.05, real bursts at 6 dB SNR above 0.4
_REREAD_OFFSETS = (-1.0, 1.0, -2.0, 2.0, -0.5, 0.5)


@dataclass
class _Candidate:
    chars: list[FskChar]
    need: int | None = None  # total characters incl. type, length and checksum, once known


class _FrameHunter:
    """Cuts one demodulator's character stream into caller-ID frames."""

    def __init__(self, demod: FskDemodulator) -> None:
        self.demod = demod
        self.cands: list[_Candidate] = []
        self.last_char: FskChar | None = None

    def reset(self) -> None:
        self.demod.reset()
        self.cands = []
        self.last_char = None

    def _span(self, chars: list[FskChar]) -> tuple[int, int]:
        return chars[0].start, round(chars[-1].start + 10 * self.demod.tb)

    def _finish(self, cand: _Candidate) -> tuple[CallerIdEvent | None, bool]:
        """(event or None, valid?) for a complete candidate, rescuing it by re-reading if it fails."""
        msg = bytes(c.value for c in cand.chars)
        cid = decode_message(msg)
        if cid is not None and cid.valid and all(c.framing_ok for c in cand.chars):
            return CallerIdEvent(cid, *self._span(cand.chars)), True
        need = cand.need or len(cand.chars)
        conf = float(np.median([c.confidence for c in cand.chars]))
        # re-reading costs a decode per offset: only for what looks like a real burst, not noise
        offsets = _REREAD_OFFSETS if conf >= _REREAD_MIN_CONFIDENCE else ()
        for off in offsets:
            chars = self.demod.reread(cand.chars[0].edge, need, off, _MAX_GAP_BITS)
            if len(chars) != need or not all(c.framing_ok for c in chars):
                continue
            alt = decode_message(bytes(c.value for c in chars))
            if alt is not None and alt.valid:
                return CallerIdEvent(alt, *self._span(chars)), True
        return self._damaged(cand, cid), False

    def _damaged(self, cand: _Candidate, cid: CallerId | None) -> CallerIdEvent | None:
        """Report a damaged frame only when it was unmistakably a real burst: confident
        characters, and a type byte that followed the mark signal (not the seizure or noise)."""
        if cid is None:
            return None
        conf = float(np.median([c.confidence for c in cand.chars]))
        idle = self.demod.idle_before(cand.chars[0].edge, _DAMAGED_IDLE_BITS)
        if conf < _DAMAGED_MIN_CONFIDENCE or idle < _DAMAGED_MIN_IDLE:
            return None
        if cid.checksum_ok:
            cid.errors.append("frame damaged: checksum agrees but the structure does not")
        return CallerIdEvent(cid, *self._span(cand.chars))

    def _cut_off(self) -> list[tuple[CallerIdEvent, bool]]:
        """The carrier stopped (or paused too long) inside the candidates: report what was heard
        of a real message, drop the rest."""
        out = []
        for cand in self.cands:
            if cand.need is not None and len(cand.chars) >= 3:
                ev = self._damaged(cand, decode_message(bytes(c.value for c in cand.chars)))
                if ev is not None:
                    out.append((ev, False))
        self.cands = []
        return out

    def feed(self, block: np.ndarray) -> list[tuple[CallerIdEvent, bool]]:
        out: list[tuple[CallerIdEvent, bool]] = []
        max_gap = (10 + _MAX_GAP_BITS) * self.demod.tb
        for ch in self.demod.process_chars(block):
            if self.last_char is not None and ch.edge - self.last_char.edge > max_gap:
                out += self._cut_off()
            self.last_char = ch
            alive: list[_Candidate] = []
            for cand in self.cands:
                cand.chars.append(ch)
                if cand.need is None:
                    lo, hi = _LENGTHS[cand.chars[0].value]
                    if not (lo <= ch.value <= hi):
                        continue
                    cand.need = ch.value + 3
                if len(cand.chars) >= cand.need:
                    ev, ok = self._finish(cand)
                    if ev is not None:
                        out.append((ev, ok))
                    continue
                alive.append(cand)
            if ch.framing_ok and ch.value in _LENGTHS and len(alive) < _MAX_CANDIDATES:
                alive.append(_Candidate([ch]))
            self.cands = alive
        if self.cands and self.last_char is not None and self.demod.position - self.last_char.edge > max_gap:
            out += self._cut_off()
        return out


class CallerIdReceiver:
    """Streaming FSK caller-ID decoder for line audio between or before the rings.

    ``standard="auto"`` runs a Bell 202 and a V.23 demodulator side by side and reports a frame
    from whichever yields it valid; frames are reported once even when both hear them.  The
    receiver does not depend on the seizure or mark lengths: it keys on the message type byte,
    checks the length, the inter-character gaps, the checksum and the structure.
    """

    def __init__(self, standard: str = "auto", rate: int = SAMPLE_RATE) -> None:
        if standard == "auto":
            names = list(FSK_STANDARDS)
        elif standard in FSK_STANDARDS:
            names = [standard]
        else:
            raise ValueError(
                f"unknown standard {standard!r}; choose 'auto' or one of {sorted(FSK_STANDARDS)}"
            )
        self.rate = rate
        self._hunters = [_FrameHunter(FskDemodulator(n, rate)) for n in names]
        self.reset()

    def reset(self) -> None:
        for h in self._hunters:
            h.reset()
        self._n = 0  # samples analysed so far
        self._reported: list[tuple[int, int]] = []
        self._pending: list[CallerIdEvent] = []  # damaged frames waiting for a valid twin
        self._queued: list[np.ndarray] = []  # audio not yet analysed (fewer than _CHUNK samples)
        self._queued_len = 0

    def _overlaps(self, ev: CallerIdEvent) -> bool:
        return any(ev.start < e and s < ev.end for s, e in self._reported)

    def process(self, block: object) -> list[CallerIdEvent]:
        """Feed audio; return the caller-ID frames completed so far (valid ones, and damaged ones
        that were unmistakably FSK, with ``checksum_ok``/``errors`` telling what went wrong).

        Audio is analysed in 100 ms chunks, so a frame is reported up to 100 ms (a damaged one
        up to 300 ms) after its last bit; the event's `start`/`end` are exact sample indices.
        """
        x = as_audio(block)
        # Analyse in chunks of ~100 ms whatever the caller's block size: numpy's per-call
        # overhead dominates on 20 ms frames, and caller ID does not need 20 ms latency.
        self._queued.append(x)
        self._queued_len += x.size
        if self._queued_len < _CHUNK:
            return []
        audio = np.concatenate(self._queued)
        self._queued, self._queued_len = [], 0
        out: list[CallerIdEvent] = []
        for i in range(0, audio.size, MAX_PIECE):  # a whole file at once must not outrun the history
            out += self._analyse(audio[i : i + MAX_PIECE])
        return out

    def _analyse(self, x: np.ndarray) -> list[CallerIdEvent]:
        self._n += x.size
        found: list[tuple[CallerIdEvent, bool]] = []
        for h in self._hunters:
            found += h.feed(x)
        out: list[CallerIdEvent] = []
        for ev, ok in sorted(found, key=lambda f: (not f[1], f[0].start)):
            if self._overlaps(ev):
                continue
            if ok:
                out.append(ev)
                self._reported.append((ev.start, ev.end))
            else:
                self._pending.append(ev)
        # a damaged frame is reported once no demodulator has produced a valid frame for it
        hold = int(0.2 * self.rate)
        keep: list[CallerIdEvent] = []
        for ev in self._pending:
            if self._overlaps(ev):
                continue
            if self._n - ev.end > hold:
                out.append(ev)
                self._reported.append((ev.start, ev.end))
            else:
                keep.append(ev)
        self._pending = keep
        self._reported = [(s, e) for s, e in self._reported if self._n - e < 10 * self.rate]
        out.sort(key=lambda e: e.start)
        return out


# ====================================================================== audio for the simulator


def cid_audio(
    cid: CallerId,
    modulation: str = "fsk-bell202",
    fmt: str = "mdmf",
    level_dbm0: float = -13.5,
    rate: int = SAMPLE_RATE,
    **fsk_kwargs: object,
) -> np.ndarray:
    """Caller ID as line audio (int16): FSK (Bell 202 or V.23, SDMF or MDMF) or DTMF.

    For ``modulation="dtmf"`` the keyword ``variant`` picks the DTMF format (default "china");
    other keywords go to `fsk_modulate` or `dtmf_generate`.
    """
    if modulation == "dtmf":
        kwargs = dict(fsk_kwargs)
        variant = str(kwargs.pop("variant", "china"))
        digits = encode_dtmf_cid(cid, variant)
        from ccd.dsp.dtmf import dtmf_generate  # lazy: the FSK path must not need the DTMF module

        if rate != SAMPLE_RATE:
            kwargs["rate"] = rate
        return dtmf_generate(digits, level_dbm0=level_dbm0, **kwargs)  # type: ignore[arg-type]
    if not modulation.startswith("fsk-") or modulation[4:] not in FSK_STANDARDS:
        raise ValueError(f"unknown modulation {modulation!r}; choose fsk-bell202, fsk-v23 or dtmf")
    if fmt == "sdmf":
        msg = encode_sdmf(cid)
    elif fmt == "mdmf":
        msg = encode_mdmf(cid)
    else:
        raise ValueError(f"unknown caller-ID format {fmt!r}; choose sdmf or mdmf")
    return fsk_modulate(msg, modulation[4:], level_dbm0=level_dbm0, rate=rate, **fsk_kwargs)  # type: ignore[arg-type]


__all__ = [
    "CallerId",
    "CallerIdEvent",
    "CallerIdReceiver",
    "DtmfCidAssembler",
    "checksum",
    "cid_audio",
    "decode_dtmf_cid",
    "decode_message",
    "encode_dtmf_cid",
    "encode_mdmf",
    "encode_sdmf",
]
