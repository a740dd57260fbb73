"""USB voice-box profiles: what a box's USB interfaces and HID reports mean, read from a TOML file.

No maker of these boxes publishes its USB protocol (reference/HARDWARE.md §2), so ccd does
not hard-code any: a profile says where the box's control interface is and how to read its
reports, and `docs/usbbox.md` explains how to write one from a usbmon capture. Layout:

    [device]
    name = "..."              # shown in logs and `ccd devices`
    vid = 0x335e              # TOML takes hex integers
    pid = 0x8a01
    lines = 1                 # how many phone lines the box has
    source = "..."            # where the layout comes from (a capture, a public document)

    [hid]                     # the control interface: the only one ccd claims
    interface = 2
    endpoint_in = 0x81
    endpoint_out = 0x01       # optional: boxes that can seize the line take output reports
    report_size = 8           # bytes per interrupt read

    [audio]                   # the USB Audio Class interfaces: left to snd-usb-audio (ALSA)
    uac_interfaces = [0, 1]
    alsa_name = "..."         # the card name ALSA shows (/proc/asound/cards), to find the card
    alsa_device = "auto"      # optional: "auto" (find the card by the box's USB id, then by
                              #   alsa_name), an ALSA PCM such as "plughw:CARD=Maple,DEV=0",
                              #   or "none" (no voice path). Default: "auto" when alsa_name is
                              #   given, else "none". ccd.toml's alsa_device overrides it.

    [[reports]]               # one table per kind of input report; the first that matches wins
    match = { byte = 0, value = 0x01 }        # optional: a report-type byte
    line = { byte = 1 }                       # optional: which line (0-based); default 0
    ring = { byte = 2, bit = 0 }              # any of ring / offhook / loop / polarity / absent
    offhook = { byte = 2, bit = 1 }           #   is a bit; `invert = true` for active-low bits
    cid = { start = 3, length_byte = 2, encoding = "ascii" }   # caller-ID digits: ascii | bcd

    [output]                  # optional: reports that seize and release the line (hex strings)
    init = "000001"
    offhook = "000003"
    onhook = "000001"

`load_profile(path)` checks all of it and raises `ProfileError` naming the file, the key
and what is wrong, so a typo never becomes a box that silently reports nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BITS = ("ring", "offhook", "loop", "polarity", "absent")
PROFILE_DIR = Path(__file__).with_name("profiles")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Bit:
    byte: int
    bit: int
    invert: bool = False

    def read(self, report: bytes) -> bool:
        value = bool(report[self.byte] >> self.bit & 1)
        return value != self.invert


@dataclass(frozen=True, slots=True)
class CidField:
    start: int
    length_byte: int | None = None  # the byte holding the digit count (or byte count for bcd)
    length: int | None = None  # a fixed length instead
    encoding: str = "ascii"  # ascii | bcd (two digits a byte, low nibble first, 0xF pads)


@dataclass(frozen=True, slots=True)
class ReportLayout:
    match_byte: int | None = None
    match_value: int | None = None
    line_byte: int | None = None
    bits: dict[str, Bit] = field(default_factory=dict)
    cid: CidField | None = None

    @property
    def min_size(self) -> int:
        used = [b.byte for b in self.bits.values()]
        used += [x for x in (self.match_byte, self.line_byte) if x is not None]
        if self.cid is not None:
            used += [self.cid.start] + ([self.cid.length_byte] if self.cid.length_byte is not None else [])
        return max(used, default=-1) + 1

    def matches(self, report: bytes) -> bool:
        if self.match_byte is None:
            return True
        return len(report) > self.match_byte and report[self.match_byte] == self.match_value


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    vid: int
    pid: int
    lines: int
    source: str
    interface: int
    endpoint_in: int
    endpoint_out: int | None
    report_size: int
    reports: tuple[ReportLayout, ...]
    uac_interfaces: tuple[int, ...] = ()
    alsa_name: str = ""
    alsa_device: str = "none"  # "auto" | "none" | an ALSA PCM (see the module doc)
    output: dict[str, bytes] = field(default_factory=dict)
    path: str = ""

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"

    @property
    def has_cid(self) -> bool:
        return any(r.cid is not None for r in self.reports)

    @property
    def has_audio(self) -> bool:
        """Whether the profile gives the box a voice path (ccd.toml's alsa_device may still say)."""
        return self.alsa_device != "none"

    @property
    def hook_control(self) -> bool:
        return self.endpoint_out is not None and "offhook" in self.output and "onhook" in self.output


def _get(
    table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...], default: Any = ...
) -> Any:
    if key not in table:
        if default is ...:
            raise ProfileError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if not isinstance(value, kind) or (
        isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ProfileError(f"{where}.{key}: must be {want}, not {value!r}")
    return value


def _byte_index(table: dict[str, Any], key: str, where: str, size: int) -> int:
    value = _get(table, key, where, int)
    if not 0 <= value < size:
        raise ProfileError(f"{where}.{key}: byte {value} is outside a {size}-byte report")
    return value


def _unknown(table: dict[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(table) - known)
    if extra:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(known))}")


def _hex_bytes(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise ProfileError(f'{where}: must be a hex string such as "000103"')
    try:
        return bytes.fromhex(value.replace(" ", ""))
    except ValueError:
        raise ProfileError(f"{where}: {value!r} is not hex bytes") from None


def parse_profile(data: dict[str, Any], where: str = "profile") -> Profile:
    """A profile from a parsed TOML document; raises ProfileError."""
    _unknown(data, {"device", "hid", "audio", "reports", "output"}, where)
    dev = _get(data, "device", where, dict)
    _unknown(dev, {"name", "vid", "pid", "lines", "source"}, f"{where} [device]")
    vid = _get(dev, "vid", f"{where} [device]", int)
    pid = _get(dev, "pid", f"{where} [device]", int)
    for key, v in (("vid", vid), ("pid", pid)):
        if not 0 <= v <= 0xFFFF:
            raise ProfileError(f"{where} [device].{key}: {v:#x} is not a 16-bit USB id")
    lines = _get(dev, "lines", f"{where} [device]", int, 1)
    if not 1 <= lines <= 64:
        raise ProfileError(f"{where} [device].lines: {lines} (1 to 64)")
    hid = _get(data, "hid", where, dict)
    w = f"{where} [hid]"
    _unknown(hid, {"interface", "endpoint_in", "endpoint_out", "report_size"}, w)
    interface = _get(hid, "interface", w, int)
    ep_in = _get(hid, "endpoint_in", w, int)
    if not ep_in & 0x80:
        raise ProfileError(
            f"{w}.endpoint_in: {ep_in:#04x} is an OUT endpoint (IN endpoints have bit 7 set, e.g. 0x81)"
        )
    ep_out = _get(hid, "endpoint_out", w, int, None)
    if ep_out is not None and ep_out & 0x80:
        raise ProfileError(f"{w}.endpoint_out: {ep_out:#04x} is an IN endpoint")
    size = _get(hid, "report_size", w, int)
    if not 1 <= size <= 1024:
        raise ProfileError(f"{w}.report_size: {size} (1 to 1024 bytes)")
    audio = _get(data, "audio", where, dict, {})
    _unknown(audio, {"uac_interfaces", "alsa_name", "alsa_device"}, f"{where} [audio]")
    alsa_name = _get(audio, "alsa_name", f"{where} [audio]", str, "")
    alsa_device = _get(audio, "alsa_device", f"{where} [audio]", str, "auto" if alsa_name else "none").strip()
    if not alsa_device:
        raise ProfileError(f'{where} [audio].alsa_device: empty (give "auto", "none" or an ALSA device)')
    uac = tuple(_get(audio, "uac_interfaces", f"{where} [audio]", list, []))
    if interface in uac:
        raise ProfileError(f"{where}: interface {interface} is both the HID and an audio interface")
    layouts = []
    reports = _get(data, "reports", where, list)
    if not reports:
        raise ProfileError(f"{where}: no [[reports]]: the box would report nothing")
    for i, rep in enumerate(reports):
        layouts.append(_parse_report(rep, f"{where} [[reports]] #{i + 1}", size))
    out_tbl = _get(data, "output", where, dict, {})
    _unknown(out_tbl, {"init", "offhook", "onhook"}, f"{where} [output]")
    output = {k: _hex_bytes(v, f"{where} [output].{k}") for k, v in out_tbl.items()}
    if output and ep_out is None:
        raise ProfileError(f"{where}: [output] reports need [hid].endpoint_out")
    return Profile(
        name=_get(dev, "name", f"{where} [device]", str),
        vid=vid,
        pid=pid,
        lines=lines,
        source=_get(dev, "source", f"{where} [device]", str, ""),
        interface=interface,
        endpoint_in=ep_in,
        endpoint_out=ep_out,
        report_size=size,
        reports=tuple(layouts),
        uac_interfaces=tuple(int(x) for x in uac),
        alsa_name=alsa_name,
        alsa_device=alsa_device,
        output=output,
    )


def _parse_report(rep: Any, w: str, size: int) -> ReportLayout:
    if not isinstance(rep, dict):
        raise ProfileError(f"{w}: must be a table")
    _unknown(rep, {"match", "line", "cid", *BITS}, w)
    match_byte = match_value = line_byte = None
    if "match" in rep:
        m = _get(rep, "match", w, dict)
        _unknown(m, {"byte", "value"}, f"{w}.match")
        match_byte = _byte_index(m, "byte", f"{w}.match", size)
        match_value = _get(m, "value", f"{w}.match", int)
    if "line" in rep:
        ln = _get(rep, "line", w, dict)
        _unknown(ln, {"byte"}, f"{w}.line")
        line_byte = _byte_index(ln, "byte", f"{w}.line", size)
    bits = {}
    for name in BITS:
        if name in rep:
            b = _get(rep, name, w, dict)
            _unknown(b, {"byte", "bit", "invert"}, f"{w}.{name}")
            bit = _get(b, "bit", f"{w}.{name}", int)
            if not 0 <= bit <= 7:
                raise ProfileError(f"{w}.{name}.bit: {bit} (0 to 7)")
            bits[name] = Bit(
                _byte_index(b, "byte", f"{w}.{name}", size),
                bit,
                _get(b, "invert", f"{w}.{name}", bool, False),
            )
    cid = None
    if "cid" in rep:
        c = _get(rep, "cid", w, dict)
        _unknown(c, {"start", "length_byte", "length", "encoding"}, f"{w}.cid")
        enc = _get(c, "encoding", f"{w}.cid", str, "ascii")
        if enc not in ("ascii", "bcd"):
            raise ProfileError(f"{w}.cid.encoding: {enc!r} (ascii or bcd)")
        lb = _byte_index(c, "length_byte", f"{w}.cid", size) if "length_byte" in c else None
        fixed = _get(c, "length", f"{w}.cid", int, None)
        if (lb is None) == (fixed is None):
            raise ProfileError(f"{w}.cid: give exactly one of length_byte or length")
        cid = CidField(_byte_index(c, "start", f"{w}.cid", size), lb, fixed, enc)
    if not bits and cid is None:
        raise ProfileError(f"{w}: says nothing (give ring, offhook, loop, polarity, absent or cid)")
    return ReportLayout(match_byte, match_value, line_byte, bits, cid)


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile file; a bare name ("maple-v3") means one shipped with ccd."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = PROFILE_DIR / f"{p.name}.toml"
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        shipped = ", ".join(sorted(x.stem for x in PROFILE_DIR.glob("*.toml")))
        raise ProfileError(
            f"{path}: cannot read the profile ({e.strerror or e}); shipped profiles: {shipped}"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{p}: not valid TOML: {e}") from None
    prof = parse_profile(data, str(p))
    return Profile(**{**{f: getattr(prof, f) for f in prof.__dataclass_fields__}, "path": str(p)})


def shipped_profiles() -> list[Profile]:
    """Every profile that comes with ccd (for `ccd devices`)."""
    out = []
    for p in sorted(PROFILE_DIR.glob("*.toml")):
        try:
            out.append(load_profile(p))
        except ProfileError:
            continue
    return out
