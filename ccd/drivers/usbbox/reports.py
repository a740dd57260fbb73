"""Turn a box's HID input reports into line events, as its profile says: pure, no I/O.

Boxes report *state* (ring voltage present, handset lifted, loop current...) in every
report, so `ReportDecoder.feed()` keeps the last state per line and returns events only on
changes: ring 0->1 is `Ring(on=True)`, offhook 1->0 is `Hook(offhook=False)`, a polarity bit
that flips is one `Polarity`, `absent` (no line plugged in) is `LineAlarm(ok=False)`.
Caller-ID digits become one `HwCallerId` per distinct number while the line rings.

A report that matches no layout, or is too short for the layout it matches, is counted and
logged once per distinct shape, and otherwise ignored: a box that sends something
unexpected must not stop the line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ccd.drivers.base import DeviceEvent, Hook, HwCallerId, LineAlarm, Loop, Polarity, Ring
from ccd.drivers.usbbox.profile import CidField, Profile, ReportLayout

log = logging.getLogger(__name__)


@dataclass
class _LineState:
    bits: dict[str, bool] = field(default_factory=dict)
    cid: str | None = None


def read_cid(report: bytes, f: CidField) -> str | None:
    """The caller-ID digits a report carries ("" if none), or None when they are not digits."""
    if f.length_byte is not None:
        n = report[f.length_byte]
    else:
        n = f.length or 0
    if n == 0:
        return ""
    if f.encoding == "ascii":
        raw = report[f.start : f.start + n]
        if len(raw) < n:
            return None
        text = raw.decode("ascii", "replace").strip("\0 ")
    else:
        raw = report[f.start : f.start + (n + 1) // 2]
        digits = []
        for b in raw:
            for nib in (b & 0x0F, b >> 4):
                if nib == 0x0F:
                    break
                digits.append("0123456789*#ABCD"[nib] if nib < 16 else "")
        text = "".join(digits)[:n]
    if not text:
        return ""
    if not all(c in "0123456789*#ABCDPO" for c in text):
        return None
    return text


class ReportDecoder:
    """Feed raw reports, get `DeviceEvent`s for `line_ids[line_index]`."""

    def __init__(self, profile: Profile, line_ids: dict[int, str]) -> None:
        self.profile = profile
        self.line_ids = line_ids
        self.state = {i: _LineState() for i in line_ids}
        self.ignored = 0
        self._seen_odd: set[tuple[int, int]] = set()

    def feed(self, report: bytes) -> list[DeviceEvent]:
        layout = next((r for r in self.profile.reports if r.matches(report)), None)
        if layout is None:
            return self._odd(report, "matches no [[reports]] layout")
        if len(report) < layout.min_size:
            return self._odd(report, f"is shorter than the {layout.min_size} bytes its layout reads")
        index = report[layout.line_byte] if layout.line_byte is not None else 0
        line = self.line_ids.get(index)
        if line is None:  # a line the box has but ccd.toml does not use
            return []
        return self._apply(layout, report, line, self.state[index])

    def _odd(self, report: bytes, why: str) -> list[DeviceEvent]:
        self.ignored += 1
        key = (len(report), report[0] if report else -1)
        if key not in self._seen_odd:
            self._seen_odd.add(key)
            log.warning("usbbox %s: ignoring a report that %s: %s", self.profile.name, why, report.hex(" "))
        return []

    def _apply(self, layout: ReportLayout, report: bytes, line: str, st: _LineState) -> list[DeviceEvent]:
        out: list[DeviceEvent] = []
        for name, bit in layout.bits.items():
            value = bit.read(report)
            old = st.bits.get(name)
            st.bits[name] = value
            if old is None:
                # the first report tells the state the box was in; only report what needs reporting
                if name == "absent" and value:
                    out.append(LineAlarm(line, ok=False, reason="no phone line plugged into the box"))
                elif name == "ring" and value:
                    out.append(Ring(line, on=True))
                elif name == "offhook" and value:
                    out.append(Hook(line, offhook=True))
                continue
            if value == old:
                continue
            if name == "ring":
                out.append(Ring(line, on=value))
            elif name == "offhook":
                out.append(Hook(line, offhook=value))
                if not value:
                    st.cid = None  # the call is over: the next caller ID is a new call
            elif name == "loop":
                out.append(Loop(line, current=value))
            elif name == "polarity":
                out.append(Polarity(line))
            elif name == "absent":
                out.append(LineAlarm(line, ok=not value, reason="no phone line plugged into the box" if value
                                     else "line plugged in"))  # fmt: skip
        if layout.cid is not None:
            number = read_cid(report, layout.cid)
            if number is None:
                raw = report.hex(" ")
                log.warning("usbbox %s: caller ID in %s is not digits; reported raw", self.profile.name, raw)
                out.append(HwCallerId(line, raw=raw, ok=False))
            elif number and number != st.cid:
                st.cid = number
                if number in ("P", "O"):
                    out.append(HwCallerId(line, number_absent=number, raw=report.hex(" ")))
                else:
                    out.append(HwCallerId(line, number=number, raw=report.hex(" ")))
        return out
