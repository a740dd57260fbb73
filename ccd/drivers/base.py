"""The one interface every line device speaks: the simulated office, modems, boards, USB boxes.

A driver only moves bytes and line signals; it never decides what a call does.

The daemon's media loop calls `tick()` every 20 ms with the audio to send on each
channel and gets back what happened since the last tick: line events and the audio
received on each channel. Devices with their own I/O (a serial modem, a DAHDI fd) run
that I/O in background tasks started by `open()` and only exchange buffers in `tick()`,
which must never block.

Channels are rows: a driver with N channels takes `tx` of shape (N, 160) int16 and
returns `rx` of the same shape (or None when it gives no audio at all, e.g. a modem in
command mode). `LineSpec.channel` is the row of a line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np

FRAME = 160  # samples per tick: 20 ms at 8 kHz


class LineKind(StrEnum):
    TRUNK = "trunk"  # FXO: a line to the exchange (or a pass-through box line)
    EXTENSION = "extension"  # FXS: a port with a phone on it


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a line can do; the call engine refuses what a line cannot."""

    audio: bool = True  # gives 20 ms audio frames, so the soft DSP runs on it
    play: bool = True  # can send audio to the line (prompts, tones)
    record: bool = True
    full_duplex: bool = True
    hook_control: bool = True  # can go off-hook / on-hook by itself (answer, hang up)
    switching: bool = True  # audio can be switched to another line (transfer, conference)
    ring_phone: bool = False  # can ring the phone on this port (FXS)
    hw_caller_id: bool = False  # the device decodes caller ID itself
    hw_dtmf: bool = False  # the device decodes DTMF itself
    hw_tones: bool = False  # the device reports busy/dial tone itself
    hw_dial: bool = False  # the device dials itself (else ccd plays DTMF into the audio)
    polarity: bool = False  # reports polarity reversal
    sms: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class LineSpec:
    id: str
    kind: LineKind
    channel: int
    label: str = ""
    number: str = ""  # the line's own number (trunks) or extension number
    passthrough: bool = False  # a desk phone hangs behind the box on this trunk
    phone: str | None = None  # for pass-through lines: the seat/extension id of that phone
    cid: str = "auto"  # caller-ID standard hint: auto|fsk-bell202|fsk-v23|dtmf|none


# ---------------------------------------------------------------- events: driver -> line


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    line: str


@dataclass(frozen=True, slots=True)
class Ring(DeviceEvent):
    on: bool  # ring voltage started (True) or stopped (False)


@dataclass(frozen=True, slots=True)
class Hook(DeviceEvent):
    offhook: bool  # the phone on an extension (or behind a pass-through box) lifted / put down


@dataclass(frozen=True, slots=True)
class Loop(DeviceEvent):
    current: bool  # loop current present (False: the far end dropped the loop)


@dataclass(frozen=True, slots=True)
class Polarity(DeviceEvent):
    """Line polarity reversed (answer or disconnect supervision, or CID start in some countries)."""


@dataclass(frozen=True, slots=True)
class HwCallerId(DeviceEvent):
    number: str | None = None
    name: str | None = None
    datetime: str | None = None
    number_absent: str | None = None  # "P" private, "O" out of area
    raw: str = ""  # what the device said, for the log
    ok: bool = True


@dataclass(frozen=True, slots=True)
class HwDtmf(DeviceEvent):
    digit: str


@dataclass(frozen=True, slots=True)
class HwTone(DeviceEvent):
    tone: str  # busy | dial | ringback | congestion | silence | quiet | fax_cng | fax_ced


@dataclass(frozen=True, slots=True)
class DialResult(DeviceEvent):
    result: str  # answer | busy | no_answer | no_dialtone | error  (hardware dialers only)


@dataclass(frozen=True, slots=True)
class LineAlarm(DeviceEvent):
    ok: bool  # False: out of service; True: back in service
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SmsReceived(DeviceEvent):
    sender: str
    text: str
    at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- commands: line -> driver


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    line: str


@dataclass(frozen=True, slots=True)
class OffHook(DeviceCommand):
    """Trunk: seize the line (answer an incoming call, or start an outgoing one)."""


@dataclass(frozen=True, slots=True)
class OnHook(DeviceCommand):
    """Trunk: release the line."""


@dataclass(frozen=True, slots=True)
class Dial(DeviceCommand):
    digits: str  # only for drivers with hw_dial; others get DTMF in the audio


@dataclass(frozen=True, slots=True)
class Flash(DeviceCommand):
    ms: int = 100


@dataclass(frozen=True, slots=True)
class RingPhone(DeviceCommand):
    on: bool
    number: str | None = None  # caller ID to show on the phone's display
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SendDtmf(DeviceCommand):
    digits: str  # only for drivers with hw_dtmf send; others mix DTMF into the audio


@dataclass(frozen=True, slots=True)
class SendSms(DeviceCommand):
    to: str
    text: str
    ref: str = ""


# ---------------------------------------------------------------- errors


class DriverError(Exception):
    """Base of everything a driver raises."""


class DriverUnavailable(DriverError):
    """The device could not be opened (absent, busy, permission denied)."""


class UnsupportedCommand(DriverError):
    """The hardware cannot do this on this line (e.g. switching on a pass-through box)."""


class DeviceProtocolError(DriverError):
    """The device misbehaved (garbage on the wire, no OK to a command)."""


# ---------------------------------------------------------------- the driver


@dataclass(slots=True)
class DriverTick:
    events: list[DeviceEvent]
    rx: np.ndarray | None  # (channels, 160) int16, or None if the driver gives no audio


class Driver(ABC):
    """One device (or the simulated office) serving several lines."""

    KIND: ClassVar[str] = "abstract"

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        self.name = name
        self.lines = list(lines)
        self.options = dict(options)
        self.by_id = {spec.id: spec for spec in self.lines}
        self.channels = max((spec.channel for spec in self.lines), default=-1) + 1

    @abstractmethod
    async def open(self) -> None:
        """Open the device and start its I/O. Raises DriverUnavailable."""

    @abstractmethod
    async def close(self) -> None:
        """Stop I/O and release the device; safe to call twice."""

    @abstractmethod
    def capabilities(self, line: str) -> Capabilities:
        """What `line` can do."""

    @abstractmethod
    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        """Exchange 20 ms of audio and collect events. Never blocks."""

    @abstractmethod
    def command(self, cmd: DeviceCommand) -> None:
        """Ask the device to do something; results come back as events. Never blocks.

        Raises UnsupportedCommand when the line cannot do it."""

    def describe(self) -> dict[str, Any]:
        """For `ccd devices` and `ccd status`: what this driver is and what it has."""
        return {"name": self.name, "kind": self.KIND, "lines": [spec.id for spec in self.lines]}


# kind -> "module:Class"; loaded lazily so a missing optional dependency only breaks its own kind
DRIVER_CLASSES: dict[str, str] = {
    "sim": "ccd.drivers.sim:SimDriver",
    "modem": "ccd.drivers.modem.driver:ModemDriver",
    "dahdi": "ccd.drivers.dahdi.driver:DahdiDriver",
    "usbbox": "ccd.drivers.usbbox.driver:UsbBoxDriver",
    "sms": "ccd.drivers.sms.driver:SmsDriver",
}


def load_driver_class(kind: str) -> type[Driver]:
    import importlib

    try:
        target = DRIVER_CLASSES[kind]
    except KeyError:
        raise DriverUnavailable(f"unknown driver kind {kind!r}") from None
    module_name, cls_name = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)
