"""Caller-ID records from a modem's report lines: pure, the time is passed in.

A modem reports caller ID between the first and second ring as separate lines
(`DATE = 1122`, `TIME = 1530`, `NMBR = 13800138000`, `NAME = ...`, or the raw packet as
hex in `MESG = 80...`). Telcos omit fields, so a record is complete when the next RING
comes or when no field has arrived for `timeout` seconds (callattendant's rule), and it is
emitted even when partial. A garbled record still gives an event, with `ok=False` and the
raw text, because the call must ring anyway (FEATURES.md §3 pain point 9).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from ccd.drivers.modem.parser import CidLine

log = logging.getLogger(__name__)

_NUMBER_RE = re.compile(r"^\+?[0-9*#\- ]{1,32}$")
_FOUR_DIGITS = re.compile(r"^\d{4}$")


@dataclass(slots=True)
class CidRecord:
    number: str | None = None
    name: str | None = None
    datetime: str | None = None  # MMDDHHMM, as SDMF/MDMF carry it
    number_absent: str | None = None  # P private, O out of area
    raw: str = ""
    ok: bool = True
    errors: list[str] = field(default_factory=list)


def _decode_packet(hextext: str, rec: CidRecord) -> bool:
    """A raw SDMF/MDMF packet (hex) -> fields of `rec`. False when it is not a whole packet."""
    try:
        data = bytes.fromhex(hextext)
    except ValueError:
        rec.errors.append(f"bad hex {hextext!r}")
        return True
    if len(data) < 3 or data[0] not in (0x04, 0x80):
        return False  # an unknown MDMF parameter reported on its own, not a packet
    try:
        from ccd.dsp.callerid import decode_message
    except ImportError:  # pragma: no cover - the DSP module ships with ccd
        rec.errors.append("raw caller-ID decoder unavailable")
        return True
    cid = decode_message(data)
    if cid is None:
        rec.errors.append("undecodable caller-ID packet")
        return True
    rec.number = cid.number or rec.number
    rec.name = cid.name or rec.name
    rec.datetime = cid.datetime or rec.datetime
    rec.number_absent = cid.number_absent or rec.number_absent
    if not cid.checksum_ok:
        rec.errors.append("checksum mismatch")
    rec.errors.extend(e for e in cid.errors if not e.startswith("note: "))
    return True


def build_record(lines: list[CidLine]) -> CidRecord:
    """The fields of one call's caller-ID report -> one record."""
    rec = CidRecord(raw=" | ".join(line.raw or f"{line.key}={line.value}" for line in lines))
    date = time = None
    for line in lines:
        v = line.value.strip()
        if line.garbled:
            rec.errors.append(f"garbled {line.key} line")
        if line.key == "DATE":
            if _FOUR_DIGITS.match(v):
                date = v
            else:
                rec.errors.append(f"bad DATE {v!r}")
        elif line.key == "TIME":
            if _FOUR_DIGITS.match(v):
                time = v
            else:
                rec.errors.append(f"bad TIME {v!r}")
        elif line.key == "NMBR":
            if v.upper() in ("P", "O"):
                rec.number_absent = v.upper()
            elif _NUMBER_RE.match(v) and not line.garbled:
                rec.number = v.replace(" ", "").replace("-", "")
            else:
                rec.errors.append(f"bad NMBR {v!r}")
        elif line.key == "NAME":
            if v.upper() not in ("P", "O") and v and not line.garbled:
                rec.name = v
        elif line.key in ("MESG", "RAW"):
            _decode_packet(v.replace(" ", ""), rec)
    if date and time:
        rec.datetime = date + time
    elif date or time:
        rec.datetime = (date or "0000") + (time or "0000")
    rec.ok = not rec.errors
    return rec


class CidAssembler:
    """Collects caller-ID lines of one call and says when the record is complete."""

    def __init__(self, timeout: float = 1.0) -> None:
        self.timeout = timeout
        self._lines: list[CidLine] = []
        self._last = 0.0

    @property
    def pending(self) -> bool:
        return bool(self._lines)

    def add(self, line: CidLine, now: float) -> None:
        self._lines.append(line)
        self._last = now

    def flush(self) -> CidRecord | None:
        """Complete now (the next RING came, the call was answered): the record, if any field came."""
        if not self._lines:
            return None
        rec = build_record(self._lines)
        self._lines = []
        return rec

    def poll(self, now: float) -> CidRecord | None:
        """Complete on timeout."""
        if self._lines and now - self._last >= self.timeout:
            return self.flush()
        return None

    def clear(self) -> None:
        self._lines = []
