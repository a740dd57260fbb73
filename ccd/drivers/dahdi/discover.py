"""Find DAHDI channels: parse `/proc/dahdi/<span>` (what `dahdi_cfg` set up). For `ccd devices`.

The kernel writes one line per span (`Span 1: WCTDM/0 "Wildcard TDM400P REV I Board 1" (MASTER)`)
and one per channel (`\t   1 WCTDM/0/0 FXSKS (In use) RED `: number, name, signalling,
flags, alarms; dahdi-base.c `dahdi_seq_show`). Signalling is named from the far end, so
FXS signalling marks an FXO port (a trunk) and FXO signalling an FXS port (an extension).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SPAN = re.compile(r'^Span (\d+): (\S+) "(.*)"')
_CHAN = re.compile(r"^\s+(\d+) (\S+)\s*(.*)$")
_SIGS = {"FXSLS": "fxo", "FXSKS": "fxo", "FXSGS": "fxo", "FXOLS": "fxs", "FXOKS": "fxs", "FXOGS": "fxs"}
_ALARMS = ("BLUE", "YELLOW", "RED", "LOOP", "RECOVERING", "NOTOPEN")


@dataclass(frozen=True, slots=True)
class DahdiChannelInfo:
    channo: int
    name: str
    span: int
    span_name: str
    span_desc: str
    signalling: str  # as dahdi_cfg set it: FXSKS, FXOLS, ... or "" (unconfigured)
    port: str  # fxo (trunk) | fxs (extension) | other
    in_use: bool
    alarms: tuple[str, ...]


def parse_proc_span(text: str) -> list[DahdiChannelInfo]:
    span_no, span_name, span_desc = 0, "", ""
    out = []
    for line in text.splitlines():
        m = _SPAN.match(line)
        if m:
            span_no, span_name, span_desc = int(m.group(1)), m.group(2), m.group(3)
            continue
        m = _CHAN.match(line)
        if not m or not line.startswith(("\t", " ")):
            continue
        words = m.group(3).split()
        first = words[0] if words else ""
        sig = "" if first.startswith("(") or first in ("Reserved", *_ALARMS) else first
        out.append(
            DahdiChannelInfo(
                channo=int(m.group(1)),
                name=m.group(2),
                span=span_no,
                span_name=span_name,
                span_desc=span_desc,
                signalling=sig,
                port=_SIGS.get(sig, "other"),
                in_use="(In use)" in m.group(3),
                alarms=tuple(w for w in words if w in _ALARMS),
            )
        )
    return out


def list_channels(proc: str | Path = "/proc/dahdi") -> list[DahdiChannelInfo]:
    """Every channel of every span; [] when DAHDI is not loaded."""
    root = Path(proc)
    if not root.is_dir():
        return []
    out: list[DahdiChannelInfo] = []
    for f in sorted(
        root.iterdir(), key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0)
    ):
        if f.name.isdigit():
            try:
                out += parse_proc_span(f.read_text(errors="replace"))
            except OSError:
                continue
    return out
