"""Find voice modems: serial ports by USB VID:PID, and who is behind a port (`ATI`).

Scanning every `/dev/tty*` with `AT` (callattendant's way) is slow and upsets other devices;
`serial.tools.list_ports` already knows the USB IDs, so a port is chosen by VID:PID and only
ports we mean to use are ever written to. A USB modem re-enumerates as a new ttyACM after a
replug, so a `vid:pid` port is resolved again on every reopen.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

from ccd.drivers.modem.profiles import ModemProfile, profile_for_ati, profile_for_usb

log = logging.getLogger(__name__)

_USB_ID = re.compile(r"^(?:usb:)?([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?:#(\d+))?$")


@dataclass(frozen=True, slots=True)
class SerialPort:
    device: str
    vid: int | None
    pid: int | None
    description: str = ""
    manufacturer: str = ""
    serial_number: str = ""
    location: str = ""

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}" if self.vid is not None and self.pid is not None else ""

    @property
    def profile(self) -> ModemProfile | None:
        return profile_for_usb(self.vid, self.pid)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["usb_id"] = self.usb_id
        d["known_modem"] = self.profile.name if self.profile else None
        return d


def parse_usb_id(spec: str) -> tuple[int, int, int] | None:
    """`0baf:0303` (or `usb:0baf:0303`, `0baf:0303#1` for the second such modem) -> (vid, pid, index)."""
    m = _USB_ID.match(spec.strip())
    if not m:
        return None
    return int(m.group(1), 16), int(m.group(2), 16), int(m.group(3) or 0)


def list_serial_ports() -> list[SerialPort]:
    """Every serial port the OS knows, USB ones with their IDs; sorted by device name."""
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return []
    ports = []
    for p in list_ports.comports():
        ports.append(
            SerialPort(
                device=p.device,
                vid=p.vid,
                pid=p.pid,
                description="" if p.description in (None, "n/a") else p.description,
                manufacturer=p.manufacturer or "",
                serial_number=p.serial_number or "",
                location=p.location or "",
            )
        )
    return sorted(ports, key=lambda p: p.device)


class PortNotFound(LookupError):
    """No serial port matches what the configuration names."""


def resolve_port(spec: str, ports: list[SerialPort] | None = None) -> str:
    """A configured port (a path, or `vid:pid[#n]`) -> a device path. Raises PortNotFound."""
    usb = parse_usb_id(spec)
    if usb is None:
        return spec
    vid, pid, index = usb
    found = [p for p in (ports if ports is not None else list_serial_ports()) if (p.vid, p.pid) == (vid, pid)]
    if len(found) <= index:
        raise PortNotFound(f"no serial port with USB ID {vid:04x}:{pid:04x} (found {len(found)})")
    return found[index].device


@dataclass(frozen=True, slots=True)
class Identity:
    ati0: str
    ati3: str
    profile: str  # usr5637 | cx93001 | generic
    known: bool


def identify_port(device: str, timeout: float = 1.0) -> Identity:
    """Ask the modem on `device` who it is (`ATI0`, `ATI3`). Blocking: for the CLI only.

    Raises OSError when the port cannot be opened (absent, busy, permission) and
    TimeoutError when nothing answers like a modem.
    """
    import serial

    with serial.Serial(device, 115200, timeout=timeout, write_timeout=timeout, exclusive=True) as ser:
        _ask(ser, "ATE0")
        ati0 = " ".join(_ask(ser, "ATI0"))
        try:
            ati3 = " ".join(_ask(ser, "ATI3"))
        except TimeoutError:
            ati3 = ""
    prof = profile_for_ati(ati0)
    return Identity(ati0, ati3, prof.name if prof else "generic", prof is not None)


def _ask(ser: object, command: str) -> list[str]:
    """Send one command, return its information lines; TimeoutError without a final code."""
    ser.reset_input_buffer()  # type: ignore[attr-defined]
    ser.write(command.encode("ascii") + b"\r")  # type: ignore[attr-defined]
    lines: list[str] = []
    for _ in range(32):
        raw = ser.readline()  # type: ignore[attr-defined]
        if not raw:
            raise TimeoutError(f"no answer to {command}")
        text = raw.decode("ascii", "replace").strip()
        if not text or text == command:
            continue
        if text == "OK":
            return lines
        if text == "ERROR":
            raise TimeoutError(f"{command}: ERROR")
        lines.append(text)
    raise TimeoutError(f"{command}: no final result code")
