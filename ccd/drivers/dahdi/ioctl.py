"""DAHDI's user-space ABI from `include/dahdi/user.h`: ioctl numbers, events, hook values, structs.

Pure data and arithmetic, no I/O. The ioctl numbers are computed with the Linux `_IOC`
encoding exactly as the header's `_IO/_IOR/_IOW/_IOWR(DAHDI_CODE, nr, type)` macros do
(asm-generic layout: nr in bits 0-7, type 8-15, size 16-29, direction 30-31; x86, ARM and
RISC-V use it; mips, powerpc and sparc do not, and ccd refuses to guess for them). The
values were checked against gcc on x86_64 (reference/HARDWARE.md §3.1), and the tests pin
them.

Do not copy ioctl numbers from Python projects that wrap DAHDI: at least one (dahdiapi)
invents its own with magic 'H', which the kernel rejects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# ---------------------------------------------------------------- the _IOC encoding

_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS = 8, 8, 14
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
_IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
_IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS
IOC_NONE, IOC_WRITE, IOC_READ = 0, 1, 2

INT_SIZE = 4


def _IOC(direction: int, type_: int, nr: int, size: int) -> int:
    if size >= 1 << _IOC_SIZEBITS:
        raise ValueError(f"ioctl argument of {size} bytes does not fit the size field")
    return (
        (direction << _IOC_DIRSHIFT)
        | (type_ << _IOC_TYPESHIFT)
        | (nr << _IOC_NRSHIFT)
        | (size << _IOC_SIZESHIFT)
    )


def _IO(type_: int, nr: int) -> int:
    return _IOC(IOC_NONE, type_, nr, 0)


def _IOR(type_: int, nr: int, size: int) -> int:
    return _IOC(IOC_READ, type_, nr, size)


def _IOW(type_: int, nr: int, size: int) -> int:
    return _IOC(IOC_WRITE, type_, nr, size)


def _IOWR(type_: int, nr: int, size: int) -> int:
    return _IOC(IOC_READ | IOC_WRITE, type_, nr, size)


# ---------------------------------------------------------------- structs used here

# struct dahdi_params: 12 ints, char name[40], 11 ints, __u32 chan_alarms = 136 bytes
PARAMS_FORMAT = "=12i40s11iI"
PARAMS_SIZE = struct.calcsize(PARAMS_FORMAT)
assert PARAMS_SIZE == 136
# struct dahdi_bufferinfo: 6 ints
BUFINFO_FORMAT = "=6i"
BUFINFO_SIZE = struct.calcsize(BUFINFO_FORMAT)
# struct dahdi_dialoperation: int op; char dialstr[DAHDI_MAX_DTMF_BUF = 256]
DIALOP_SIZE = 4 + 256

# ---------------------------------------------------------------- ioctl numbers

DAHDI_CODE = 0xDA

DAHDI_GET_BLOCKSIZE = _IOR(DAHDI_CODE, 1, INT_SIZE)
DAHDI_SET_BLOCKSIZE = _IOW(DAHDI_CODE, 1, INT_SIZE)
DAHDI_FLUSH = _IOW(DAHDI_CODE, 3, INT_SIZE)
DAHDI_SYNC = _IO(DAHDI_CODE, 4)
DAHDI_GET_PARAMS = _IOWR(DAHDI_CODE, 5, PARAMS_SIZE)
DAHDI_SET_PARAMS = _IOW(DAHDI_CODE, 5, PARAMS_SIZE)
DAHDI_HOOK = _IOW(DAHDI_CODE, 7, INT_SIZE)
DAHDI_GETEVENT = _IOR(DAHDI_CODE, 8, INT_SIZE)
DAHDI_IOMUX = _IOWR(DAHDI_CODE, 9, INT_SIZE)
DAHDI_SENDTONE = _IOW(DAHDI_CODE, 21, INT_SIZE)
DAHDI_GET_BUFINFO = _IOR(DAHDI_CODE, 27, BUFINFO_SIZE)
DAHDI_SET_BUFINFO = _IOW(DAHDI_CODE, 27, BUFINFO_SIZE)
DAHDI_DIAL = _IOW(DAHDI_CODE, 31, DIALOP_SIZE)
DAHDI_ECHOCANCEL = _IOW(DAHDI_CODE, 33, INT_SIZE)
DAHDI_CHANNO = _IOR(DAHDI_CODE, 34, INT_SIZE)
DAHDI_SPECIFY = _IOW(DAHDI_CODE, 38, INT_SIZE)
DAHDI_SETLAW = _IOW(DAHDI_CODE, 39, INT_SIZE)
DAHDI_SETLINEAR = _IOW(DAHDI_CODE, 40, INT_SIZE)
DAHDI_ONHOOKTRANSFER = _IOW(DAHDI_CODE, 51, INT_SIZE)
DAHDI_TONEDETECT = _IOW(DAHDI_CODE, 91, INT_SIZE)
DAHDI_SETPOLARITY = _IOW(DAHDI_CODE, 92, INT_SIZE)

IOCTL_NAMES = {
    v: k for k, v in globals().items() if k.startswith("DAHDI_") and isinstance(v, int) and v > 0xFFFF
}

# ---------------------------------------------------------------- values

ELAST = 500  # read()/write() fail with this errno when an event is waiting: call DAHDI_GETEVENT

# DAHDI_HOOK arguments
DAHDI_ONHOOK = 0
DAHDI_OFFHOOK = 1
DAHDI_WINK = 2
DAHDI_FLASH = 3
DAHDI_START = 4
DAHDI_RING = 5
DAHDI_RINGOFF = 6

# DAHDI_SETLAW arguments
DAHDI_LAW_DEFAULT = 0
DAHDI_LAW_MULAW = 1
DAHDI_LAW_ALAW = 2

# DAHDI_FLUSH arguments
DAHDI_FLUSH_READ = 1
DAHDI_FLUSH_WRITE = 2
DAHDI_FLUSH_BOTH = 3
DAHDI_FLUSH_EVENT = 4
DAHDI_FLUSH_ALL = 7

# DAHDI_GETEVENT results
DAHDI_EVENT_NONE = 0
DAHDI_EVENT_ONHOOK = 1
DAHDI_EVENT_RINGOFFHOOK = 2  # "went off-hook or got ring"
DAHDI_EVENT_WINKFLASH = 3
DAHDI_EVENT_ALARM = 4
DAHDI_EVENT_NOALARM = 5
DAHDI_EVENT_ABORT = 6
DAHDI_EVENT_OVERRUN = 7
DAHDI_EVENT_BADFCS = 8
DAHDI_EVENT_DIALCOMPLETE = 9
DAHDI_EVENT_RINGERON = 10
DAHDI_EVENT_RINGEROFF = 11
DAHDI_EVENT_HOOKCOMPLETE = 12
DAHDI_EVENT_BITSCHANGED = 13
DAHDI_EVENT_PULSE_START = 14
DAHDI_EVENT_TIMER_EXPIRED = 15
DAHDI_EVENT_TIMER_PING = 16
DAHDI_EVENT_POLARITY = 17
DAHDI_EVENT_RINGBEGIN = 18
DAHDI_EVENT_EC_DISABLED = 19
DAHDI_EVENT_REMOVED = 20
DAHDI_EVENT_NEONMWI_ACTIVE = 21
DAHDI_EVENT_NEONMWI_INACTIVE = 22
DAHDI_EVENT_TX_CED_DETECTED = 23
DAHDI_EVENT_RX_CED_DETECTED = 24
DAHDI_EVENT_TX_CNG_DETECTED = 25
DAHDI_EVENT_RX_CNG_DETECTED = 26
DAHDI_EVENT_EC_NLP_DISABLED = 27
DAHDI_EVENT_EC_NLP_ENABLED = 28
DAHDI_EVENT_READ_OVERRUN = 29
DAHDI_EVENT_WRITE_UNDERRUN = 30
DAHDI_EVENT_PULSEDIGIT = 1 << 16  # OR'd with the digit
DAHDI_EVENT_DTMFDOWN = 1 << 17
DAHDI_EVENT_DTMFUP = 1 << 18

EVENT_NAMES = {
    v: k[len("DAHDI_EVENT_") :].lower()
    for k, v in globals().items()
    if k.startswith("DAHDI_EVENT_") and isinstance(v, int) and v < (1 << 16)
}

# signalling types (struct dahdi_params.sigtype)
_SIG_FXO = 1 << 12  # the channel *signals* FXO: it is an FXS port, with a phone on it
_SIG_FXS = 1 << 13  # the channel signals FXS: it is an FXO port, on a line to the exchange
DAHDI_SIG_FXSLS = (1 << 0) | _SIG_FXS
DAHDI_SIG_FXSGS = (1 << 1) | _SIG_FXS
DAHDI_SIG_FXSKS = (1 << 2) | _SIG_FXS
DAHDI_SIG_FXOLS = (1 << 3) | _SIG_FXO
DAHDI_SIG_FXOGS = (1 << 4) | _SIG_FXO
DAHDI_SIG_FXOKS = (1 << 5) | _SIG_FXO

# alarm bits (struct dahdi_params.chan_alarms, spans)
ALARM_BITS = {1 << 0: "recovering", 1 << 1: "loopback", 1 << 2: "yellow", 1 << 3: "red", 1 << 4: "blue",
              1 << 5: "not open"}  # fmt: skip


def describe_event(code: int) -> str:
    """A readable name for a DAHDI_GETEVENT value, for logs."""
    for flag, name in ((DAHDI_EVENT_PULSEDIGIT, "pulsedigit"), (DAHDI_EVENT_DTMFDOWN, "dtmfdown"),
                       (DAHDI_EVENT_DTMFUP, "dtmfup")):  # fmt: skip
        if code & flag:
            return f"{name} {chr(code & 0xFF)!r}"
    return EVENT_NAMES.get(code, f"event {code}")


def port_kind(sigtype: int) -> str:
    """'fxo' (a line to the exchange), 'fxs' (a phone port) or 'other', from the signalling type.

    DAHDI names signalling from the far end's point of view: an FXO *port* uses FXS signalling.
    """
    if sigtype & _SIG_FXS:
        return "fxo"
    if sigtype & _SIG_FXO:
        return "fxs"
    return "other"


def alarm_text(bits: int) -> str:
    return " ".join(name for bit, name in ALARM_BITS.items() if bits & bit) or "none"


# ---------------------------------------------------------------- argument packing


def pack_int(value: int) -> bytes:
    return struct.pack("=i", value)


def unpack_int(data: bytes) -> int:
    return struct.unpack("=i", bytes(data[:4]))[0]


@dataclass(frozen=True, slots=True)
class Params:
    """The fields of struct dahdi_params that a driver looks at."""

    channo: int
    spanno: int
    chanpos: int
    sigtype: int
    sigcap: int
    rxisoffhook: int
    curlaw: int
    name: str
    chan_alarms: int

    @property
    def port(self) -> str:
        return port_kind(self.sigtype)

    @classmethod
    def unpack(cls, data: bytes) -> Params:
        if len(data) < PARAMS_SIZE:
            raise ValueError(f"dahdi_params is {PARAMS_SIZE} bytes, got {len(data)}")
        f = struct.unpack(PARAMS_FORMAT, bytes(data[:PARAMS_SIZE]))
        name = f[12].split(b"\0", 1)[0].decode("latin-1")
        return cls(f[0], f[1], f[2], f[3], f[4], f[5], f[10], name, f[-1])


def pack_params(
    channo: int = 0,
    spanno: int = 0,
    chanpos: int = 0,
    sigtype: int = 0,
    rxisoffhook: int = 0,
    curlaw: int = DAHDI_LAW_ALAW,
    name: str = "",
    chan_alarms: int = 0,
) -> bytes:
    """A struct dahdi_params as the kernel fills it (for emulators and tests)."""
    ints = [channo, spanno, chanpos, sigtype, sigtype, rxisoffhook, 0, 0, 0, 0, curlaw, 0]
    return struct.pack(PARAMS_FORMAT, *ints, name.encode("latin-1")[:39], *([0] * 11), chan_alarms)
