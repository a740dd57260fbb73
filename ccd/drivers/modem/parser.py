"""What a V.253 voice modem says, as events: pure, no I/O, no clock.

One `ModemParser` reads the whole DCE -> DTE byte stream of a modem:

* in command state, text lines ended by CR/LF: result codes (`OK`, `CONNECT`, `BUSY`...),
  `RING`, caller-ID fields (`DATE = 1122`, `NMBR=13800138000`, `MESG = 8020...`) and
  anything else (answers to `ATI`, `+VSM=?`) as `InfoLine`;
* DLE codes anywhere (in `+FCLASS=8` the modem reports DTMF, busy, handset... as
  `<DLE><x>` even between commands);
* in a receive data state (after `CONNECT` to `+VRX`/`+VTR`, armed by the driver with
  `arm_audio()`), audio bytes with DLE shielding removed, up to `<DLE><ETX>`.

The parser never guesses which command was sent; the driver arms it before `+VRX`.
A DLE split across reads is carried over. Non-printable bytes in a text line are split
off as `Garbage` so that `\\xff\\xfeOK` still yields `OK`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccd.drivers.modem.dle import DLE, ETX, SUB

# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class ResultCode:
    """A final result code: ends the command in flight."""

    code: str  # OK | ERROR | CONNECT | VCON | BUSY | NO ANSWER | NO CARRIER | NO DIALTONE


@dataclass(frozen=True, slots=True)
class RingLine:
    """`RING` in command state (`tag` is the distinctive-ring suffix, e.g. `A` or `1`)."""

    tag: str = ""


@dataclass(frozen=True, slots=True)
class CidLine:
    """One caller-ID field: key DATE | TIME | NMBR | NAME | MESG | RAW (a bare hex packet)."""

    key: str
    value: str
    garbled: bool = False  # the line carried bytes that do not belong in it
    raw: str = ""


@dataclass(frozen=True, slots=True)
class InfoLine:
    """Any other text line (information text of a command, unknown unsolicited line)."""

    text: str


@dataclass(frozen=True, slots=True)
class DleDtmf:
    """A DTMF digit the modem detected (bare `<DLE>5` or shielded `<DLE>/<DLE>5<DLE>~`)."""

    digit: str


@dataclass(frozen=True, slots=True)
class DleEvent:
    """Any other `<DLE><code>`; `name` from `DLE_NAMES` ("unknown" when not listed)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class AudioData:
    """Un-shielded audio bytes in the modem's codec."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EndOfData:
    """`<DLE><ETX>`: the modem left the receive data state."""


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that fit nowhere (line noise, a confused device)."""

    raw: bytes


ModemEvent = ResultCode | RingLine | CidLine | InfoLine | DleDtmf | DleEvent | AudioData | EndOfData | Garbage

# Union of mgetty IS_101_handle_dle, callattendant and Asterisk bestdata (HARDWARE.md §1.4).
DLE_NAMES: dict[str, str] = {
    "b": "busy",
    "K": "busy",
    "d": "dial_tone",
    "i": "dial_tone",
    "s": "silence",
    "q": "quiet",
    "l": "loop_drop",
    "L": "polarity",
    "h": "handset_on",
    "H": "handset_off",
    "p": "extension_on",
    "P": "extension_off",
    "R": "ring",
    "r": "ringback",
    "a": "answer_tone",
    "c": "fax_cng",
    "e": "data_calling",
    "f": "data_answer",
    "J": "sit",
    "$": "bong",
    "v": "voice",
    "V": "voice",
    "o": "rx_overrun",
    "u": "tx_underrun",
    "Y": "lost_data",
    "T": "timing_mark",
    "Q": "xon",
    "S": "xoff",
    "E": "bad_format",
    "w": "call_waiting",
    "t": "tdd",
    "X": "cid_start",
    ".": "cid_end",
    "!": "end_rx",
    "^": "end_duplex",
}

DTMF_DIGITS = frozenset("0123456789*#ABCD")
SHIELD_START = "/"
SHIELD_END = "~"

_RESULT_CODES = {
    "OK": "OK",
    "ERROR": "ERROR",
    "CONNECT": "CONNECT",
    "VCON": "VCON",
    "BUSY": "BUSY",
    "NO ANSWER": "NO ANSWER",
    "NO CARRIER": "NO CARRIER",
    "NO DIALTONE": "NO DIALTONE",
    "NO DIAL TONE": "NO DIALTONE",
    "DELAYED": "ERROR",
    "BLACKLISTED": "ERROR",
}
_CID_KEYS = {
    "DATE": "DATE",
    "TIME": "TIME",
    "NMBR": "NMBR",
    "NAME": "NAME",
    "MESG": "MESG",
    "DDN_NMBR": "NMBR",
}
_CID_RE = re.compile(r"^\s*(DATE|TIME|NMBR|NAME|MESG|DDN_NMBR)\s*[=:]\s*(.*?)\s*$")
_RING_RE = re.compile(r"^RING(?:\s*([A-Z0-9]))?$")
_HEX_RE = re.compile(r"^[0-9A-Fa-f]+$")


def looks_like_raw_cid(text: str) -> bool:
    """A bare hex SDMF (04) / MDMF (80) packet whose length byte matches (`+VCID=2` output)."""
    if len(text) < 10 or len(text) % 2 or not _HEX_RE.match(text):
        return False
    data = bytes.fromhex(text)
    return data[0] in (0x04, 0x80) and data[1] == len(data) - 3


def _printable(b: int) -> bool:
    return 0x20 <= b < 0x7F or b == 0x09


def classify_line(raw: bytes) -> list[ModemEvent]:
    """One text line (without its CR/LF) -> events. Public for tests and the emulator."""
    clean = bytes(b for b in raw if _printable(b))
    junk = len(clean) != len(raw)
    text = clean.decode("ascii").strip()
    m = _CID_RE.match(text)
    if m:
        key = _CID_KEYS[m.group(1)]
        value = m.group(2)
        if key == "NAME" and junk:
            # a Chinese NAME arrives as GB2312/GBK bytes: keep it when it decodes cleanly
            try:
                name = raw.decode("gb18030").split("=", 1)[1].strip()
                return [CidLine(key, name, False, raw.decode("gb18030"))]
            except (UnicodeDecodeError, IndexError):
                pass
        return [CidLine(key, value, junk, raw.decode("latin-1"))]
    out: list[ModemEvent] = []
    if junk:
        out.append(Garbage(raw))
    if not text:
        return out
    if text in _RESULT_CODES:
        out.append(ResultCode(_RESULT_CODES[text]))
    elif (rm := _RING_RE.match(text)) is not None:
        out.append(RingLine(rm.group(1) or ""))
    elif looks_like_raw_cid(text):
        out.append(CidLine("RAW", text.upper(), junk, text))
    else:
        out.append(InfoLine(text))
    return out


class ModemParser:
    """Feed it every byte the modem sends; get events back in stream order."""

    MAX_LINE = 512  # a line longer than this is noise: drop it as Garbage

    def __init__(self) -> None:
        self._line = bytearray()
        self._audio_mode = False
        self._armed = False
        self._dle_pending = False
        self._cid_block = False  # between <DLE>X and <DLE>. inside a data state (Conexant)
        self._shield_digit: str | None = None
        self._in_shield = False
        self._skip_lf = False  # the LF of the CR LF that ended CONNECT is not audio

    # -- control from the driver

    @property
    def audio_mode(self) -> bool:
        return self._audio_mode

    def arm_audio(self) -> None:
        """The next CONNECT starts a receive data state (the driver just sent +VRX/+VTR)."""
        self._armed = True

    def disarm_audio(self) -> None:
        self._armed = False

    def reset(self) -> None:
        """Forget everything (after a reopen or a reset of the device)."""
        self.__init__()  # type: ignore[misc]

    # -- the stream

    def feed(self, data: bytes) -> list[ModemEvent]:
        out: list[ModemEvent] = []
        i = 0
        n = len(data)
        if self._dle_pending and n:
            self._dle_pending = False
            self._dle(data[0], out)
            i = 1
        while i < n:
            if self._audio_mode and not self._cid_block:
                if self._skip_lf:
                    self._skip_lf = False
                    if data[i] == 0x0A:
                        i += 1
                        continue
                j = data.find(DLE, i)
                end = n if j < 0 else j
                if end > i:
                    out.append(AudioData(bytes(data[i:end])))
                if j < 0:
                    break
                i = j
            b = data[i]
            if b == DLE:
                if i + 1 >= n:
                    self._dle_pending = True
                    break
                self._dle(data[i + 1], out)
                i += 2
                continue
            if b in (0x0D, 0x0A):
                self._end_line(out)
            else:
                self._line.append(b)
                if len(self._line) > self.MAX_LINE:
                    out.append(Garbage(bytes(self._line)))
                    self._line.clear()
            i += 1
        return _merge_audio(out)

    def _end_line(self, out: list[ModemEvent]) -> None:
        if not self._line:
            return
        raw = bytes(self._line)
        self._line.clear()
        for ev in classify_line(raw):
            out.append(ev)
            if isinstance(ev, ResultCode):
                if ev.code == "CONNECT" and self._armed:
                    self._audio_mode = True
                    self._armed = False
                    self._skip_lf = True
                elif ev.code != "CONNECT":
                    self._armed = False

    def _dle(self, byte: int, out: list[ModemEvent]) -> None:
        if byte in (DLE, SUB):
            if self._audio_mode and not self._cid_block:
                out.append(AudioData(b"\x10" if byte == DLE else b"\x10\x10"))
            else:
                out.append(Garbage(bytes((DLE, byte))))
            return
        if byte == ETX:
            if self._audio_mode:
                self._audio_mode = False
                self._cid_block = False
                self._end_line(out)
                out.append(EndOfData())
            # an <ETX> outside a data state is a late echo of one; nothing to do
            return
        code = chr(byte)
        if code in DTMF_DIGITS:
            if self._in_shield:
                if code == self._shield_digit:
                    return  # the digit repeats about every 70 ms inside its shield
                self._shield_digit = code
            out.append(DleDtmf(code))
            return
        if code == SHIELD_START:
            self._in_shield, self._shield_digit = True, None
            return
        if code == SHIELD_END:
            self._in_shield, self._shield_digit = False, None
            return
        if code == "X" and self._audio_mode:
            self._cid_block = True
        elif code == "." and self._cid_block:
            self._end_line(out)
            self._cid_block = False
        out.append(DleEvent(code, DLE_NAMES.get(code, "unknown")))


def _merge_audio(events: list[ModemEvent]) -> list[ModemEvent]:
    """Join neighbouring AudioData pieces (a 0x10 sample splits a chunk in three)."""
    merged: list[ModemEvent] = []
    for ev in events:
        if isinstance(ev, AudioData) and merged and isinstance(merged[-1], AudioData):
            merged[-1] = AudioData(merged[-1].data + ev.data)
        else:
            merged.append(ev)
    return merged
