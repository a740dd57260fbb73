"""AT responses of a GSM/4G module (3GPP TS 27.005 / 27.007): a sans-IO parser, no I/O.

`AtParser.feed(bytes)` returns what the module said, line by line:

* final result codes: `Final("OK")`, `Final("ERROR")`, `Final("+CMS ERROR", code=500, text=...)`,
  `Final("+CME ERROR", code=14, ...)`, with the error explained from the tables below;
* the `> ` prompt of `AT+CMGS` (it ends no line, so it is recognised in the open buffer);
* PDU records: `+CMGR: <stat>,[<alpha>],<len>` / `+CMGL: <idx>,<stat>,[<alpha>],<len>` /
  `+CDS: <len>`, each with the hex PDU from the following line;
* unsolicited reports: `+CMTI: "SM",3` (a message stored), `+CDSI:` (a report stored),
  `RING` / `+CRING: VOICE`, `+CLIP: "138...",129,...`, `NO CARRIER`;
* anything else as `Info` (the answer lines of the command in flight), and bytes that are
  not text (noise on a USB plug, a baud mismatch) as `Garbage`, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CMS_ERRORS = {
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    312: "PH-SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    315: "SIM wrong",
    316: "SIM PUK required",
    317: "SIM PIN2 required",
    318: "SIM PUK2 required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}
CME_ERRORS = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    20: "memory full",
    21: "invalid index",
    30: "no network service",
    31: "network timeout",
    100: "unknown",
}
SIM_BUSY = {("+CME ERROR", 14), ("+CMS ERROR", 314)}


@dataclass(frozen=True, slots=True)
class AtEvent:
    pass


@dataclass(frozen=True, slots=True)
class Final(AtEvent):
    result: str  # OK | ERROR | +CMS ERROR | +CME ERROR
    code: int | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.result == "OK"

    def describe(self) -> str:
        if self.result in ("OK", "ERROR"):
            return self.result
        return f"{self.result}: {self.code if self.code is not None else ''} {self.text}".replace(
            "  ", " "
        ).strip()


@dataclass(frozen=True, slots=True)
class Prompt(AtEvent):
    """`> `: the module waits for the PDU of AT+CMGS."""


@dataclass(frozen=True, slots=True)
class Info(AtEvent):
    line: str


@dataclass(frozen=True, slots=True)
class PduRecord(AtEvent):
    kind: str  # cmgr | cmgl | cds
    pdu: str
    index: int | None = None  # +CMGL only
    stat: int | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class NewMessage(AtEvent):
    storage: str
    index: int
    report: bool = False  # +CDSI: a status report stored


@dataclass(frozen=True, slots=True)
class RingIndication(AtEvent):
    kind: str = "VOICE"


@dataclass(frozen=True, slots=True)
class Clip(AtEvent):
    number: str
    toa: int | None = None
    name: str = ""
    validity: int | None = None  # 0 ok, 1 withheld, 2 not available
    raw: str = ""


@dataclass(frozen=True, slots=True)
class NoCarrier(AtEvent):
    pass


@dataclass(frozen=True, slots=True)
class Garbage(AtEvent):
    raw: bytes


_ERR = re.compile(r"^\+(CMS|CME) ERROR:\s*(.*)$")
_CMTI = re.compile(r'^\+(CMTI|CDSI):\s*"?([A-Z]{2})"?\s*,\s*(\d+)')
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


def _fields(s: str) -> list[str]:
    """Split a +XXX: a,"b,c",d answer on commas outside quotes; quotes removed."""
    out, cur, quoted = [], [], False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _int(s: str) -> int | None:
    try:
        return int(s)
    except ValueError:
        return None


def parse_error(kind: str, rest: str) -> Final:
    table = CMS_ERRORS if kind == "+CMS ERROR" else CME_ERRORS
    code = _int(rest.strip())
    if code is not None:
        return Final(kind, code, table.get(code, "unknown error code"))
    text = rest.strip()
    rev = {v.lower(): k for k, v in table.items()}
    return Final(kind, rev.get(text.lower()), text)  # AT+CMEE=2 gives the text instead of the number


def parse_clip(rest: str, raw: str) -> Clip:
    f = _fields(rest)
    number = f[0] if f else ""
    toa = _int(f[1]) if len(f) > 1 else None
    name = f[4] if len(f) > 4 else ""
    validity = _int(f[5]) if len(f) > 5 else None
    return Clip(number, toa, name, validity, raw)


class AtParser:
    """Bytes in, `AtEvent`s out; keeps partial lines and a pending PDU header between feeds."""

    MAX_LINE = 4096

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pdu_header: tuple[str, int | None, int | None, int | None] | None = None

    def reset(self) -> None:
        self._buf.clear()
        self._pdu_header = None

    def feed(self, data: bytes) -> list[AtEvent]:
        self._buf += data
        out: list[AtEvent] = []
        while True:
            # skip line ends between lines
            i = 0
            while i < len(self._buf) and self._buf[i] in (0x0D, 0x0A):
                i += 1
            if i:
                del self._buf[:i]
            if not self._buf:
                break
            if self._buf[:1] == b">" and self._pdu_header is None:
                # the prompt: "> " with no line end; what follows it (if anything) is a new line
                n = 2 if self._buf[1:2] == b" " else 1
                del self._buf[:n]
                out.append(Prompt())
                continue
            ends = [p for p in (self._buf.find(b"\r"), self._buf.find(b"\n")) if p >= 0]
            if not ends:
                if len(self._buf) > self.MAX_LINE:  # no line end for this long: noise
                    out.append(Garbage(bytes(self._buf)))
                    self._buf.clear()
                break
            end = min(ends)
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            out += self._line(raw)
        return out

    def _line(self, raw: bytes) -> list[AtEvent]:
        if any(b < 0x20 or b > 0x7E for b in raw if b != 0x09):
            return [Garbage(raw)]
        line = raw.decode("ascii").strip()
        if not line:
            return []
        if self._pdu_header is not None:
            kind, index, stat, length = self._pdu_header
            self._pdu_header = None
            if _HEX.match(line):
                return [PduRecord(kind, line.upper(), index, stat, length)]
            if not line.startswith(("OK", "ERROR", "+")):
                return [Garbage(raw)]
            # the PDU line never came (an empty slot, a module quirk): read this line as itself
        if line in ("OK", "ERROR"):
            return [Final(line)]
        m = _ERR.match(line)
        if m:
            return [parse_error(f"+{m.group(1)} ERROR", m.group(2))]
        m = _CMTI.match(line)
        if m:
            return [NewMessage(m.group(2), int(m.group(3)), m.group(1) == "CDSI")]
        if line == "RING":
            return [RingIndication()]
        if line.startswith("+CRING:"):
            return [RingIndication(line.split(":", 1)[1].strip())]
        if line.startswith("+CLIP:"):
            return [parse_clip(line.split(":", 1)[1], line)]
        if line in ("NO CARRIER", "BUSY", "NO ANSWER"):
            return [NoCarrier()]
        for tag, kind in (("+CMGR:", "cmgr"), ("+CMGL:", "cmgl"), ("+CDS:", "cds")):
            if line.startswith(tag):
                f = _fields(line[len(tag) :])
                if kind == "cmgl":
                    self._pdu_header = (kind, _int(f[0]), _int(f[1]) if len(f) > 1 else None, _int(f[-1]))
                elif kind == "cmgr":
                    self._pdu_header = (kind, None, _int(f[0]), _int(f[-1]))
                else:
                    self._pdu_header = (kind, None, None, _int(f[-1]))
                return []
        return [Info(line)]
