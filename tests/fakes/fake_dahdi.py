"""A DAHDI kernel shim: an `os`-like backend that replays reads, events and audio (HARDWARE.md §3.1).

The kernel side of DAHDI cannot run here (no modules, no card), so the driver's backend is
replaced by this object. It behaves like `dahdi-base.c` as far as a user-space driver can
tell:

* `open("/dev/dahdi/channel")` gives an fd; nothing works on it until `DAHDI_SPECIFY`;
  a channel number that does not exist is `ENXIO`; no device file is `ENOENT`;
* `DAHDI_SET_BLOCKSIZE`, `DAHDI_SETLINEAR`, `DAHDI_SETLAW` change how reads and writes
  are framed and coded; `DAHDI_GET_PARAMS` reports the port's signalling and alarms;
* audio is paced by the injected clock, like the card's 8 kHz clock: `read()` gives one
  block for every 20 ms of clock time since the channel was opened, taken from what
  `play()` queued (silence after it ends), and `EAGAIN` when no block is due;
* `event()` queues a signalling event: the next `read()` or `write()` fails with `ELAST`
  until `DAHDI_GETEVENT` has drained it;
* `remove()` pulls the card: reads fail with `ENODEV` and reopening fails until `restore()`.

Tests check `hooks` (every `DAHDI_HOOK` value per channel), `written` (the audio the
driver sent, as int16) and `ioctls` (every call, in order).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

import numpy as np

from ccd.drivers.dahdi import ioctl as dio
from ccd.dsp import g711

FXO_PORT = dio.DAHDI_SIG_FXSKS  # a line to the exchange (kewlstart)
FXS_PORT = dio.DAHDI_SIG_FXOKS  # a phone port


@dataclass
class FakeChannel:
    channo: int
    sigtype: int
    name: str
    alarms: int = 0
    rx: list[np.ndarray] = field(default_factory=list)  # int16 audio still to be read
    events: list[int] = field(default_factory=list)
    hooks: list[int] = field(default_factory=list)
    written: list[np.ndarray] = field(default_factory=list)


@dataclass
class _Fd:
    channo: int | None = None
    blocksize: int = 1024
    law: str = "alaw"  # the channel default; SETLINEAR / SETLAW change it
    opened_at: float = 0.0
    blocks_read: int = 0


class FakeDahdi:
    """Backend for `DahdiDriver(options={"backend": FakeDahdi(clock, ...)})`."""

    selectable = False  # fake fds: the driver pumps them from tick()

    def __init__(self, clock: object, device: str = "/dev/dahdi/channel") -> None:
        self.clock = clock
        self.device = device
        self.chans: dict[int, FakeChannel] = {}
        self.ioctls: list[tuple[int, str, int | None]] = []  # (fd, name, int argument)
        self.removed = False
        self.fail_open: set[int] = set()  # channel numbers whose SPECIFY fails
        self._fds: dict[int, _Fd] = {}
        self._next_fd = 100

    # ---------------------------------------------------------------- the board

    def add(self, channo: int, port: str, name: str = "") -> FakeChannel:
        sig = FXO_PORT if port == "fxo" else FXS_PORT
        ch = FakeChannel(channo, sig, name or f"WCTDM/0/{channo - 1}")
        self.chans[channo] = ch
        return ch

    def play(self, channo: int, samples: np.ndarray) -> None:
        """Audio the line gives from now on (int16, any length)."""
        self.chans[channo].rx.append(np.asarray(samples, np.int16))

    def event(self, channo: int, code: int) -> None:
        self.chans[channo].events.append(code)

    def remove(self) -> None:
        self.removed = True

    def restore(self) -> None:
        self.removed = False

    def hooks(self, channo: int) -> list[int]:
        return self.chans[channo].hooks

    def written(self, channo: int) -> np.ndarray:
        w = self.chans[channo].written
        return np.concatenate(w) if w else np.zeros(0, np.int16)

    # ---------------------------------------------------------------- os-like backend

    def open(self, path: str, flags: int) -> int:
        if path != self.device:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if self.removed:
            raise OSError(errno.ENODEV, "No such device")
        fd = self._next_fd
        self._next_fd += 1
        self._fds[fd] = _Fd(opened_at=self.clock.now())  # type: ignore[attr-defined]
        return fd

    def close(self, fd: int) -> None:
        if self._fds.pop(fd, None) is None:
            raise OSError(errno.EBADF, "Bad file descriptor")

    def _chan(self, fd: int) -> tuple[_Fd, FakeChannel]:
        f = self._fds.get(fd)
        if f is None:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if self.removed:
            raise OSError(errno.ENODEV, "No such device")
        if f.channo is None:
            raise OSError(errno.EINVAL, "Invalid argument (no DAHDI_SPECIFY yet)")
        return f, self.chans[f.channo]

    def read(self, fd: int, n: int) -> bytes:
        f, ch = self._chan(fd)
        if ch.events:
            raise OSError(dio.ELAST, "event pending")
        due = int((self.clock.now() - f.opened_at) / 0.02 + 1e-9)  # type: ignore[attr-defined]
        if f.blocks_read >= due:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        f.blocks_read += 1
        samples_per_block = f.blocksize // (2 if f.law == "linear" else 1)
        block = self._take(ch, samples_per_block)
        return self._encode(f.law, block)[:n]

    def write(self, fd: int, data: bytes) -> int:
        f, ch = self._chan(fd)
        if ch.events:
            raise OSError(dio.ELAST, "event pending")
        ch.written.append(self._decode(f.law, data))
        return len(data)

    def ioctl(self, fd: int, request: int, arg: bytes) -> bytes:
        name = dio.IOCTL_NAMES.get(request, hex(request))
        value = dio.unpack_int(arg) if len(arg) == 4 else None
        self.ioctls.append((fd, name, value))
        if request == dio.DAHDI_SPECIFY:
            f = self._fds.get(fd)
            if f is None:
                raise OSError(errno.EBADF, "Bad file descriptor")
            if value not in self.chans or value in self.fail_open or self.removed:
                raise OSError(errno.ENXIO, "No such device or address")
            f.channo = value
            return arg
        f, ch = self._chan(fd)
        if request == dio.DAHDI_SET_BLOCKSIZE:
            if not value or value > 8192:
                raise OSError(errno.EINVAL, "Invalid argument")
            f.blocksize = value
        elif request == dio.DAHDI_SETLINEAR:
            f.law = "linear" if value else "alaw"
        elif request == dio.DAHDI_SETLAW:
            f.law = {dio.DAHDI_LAW_MULAW: "ulaw", dio.DAHDI_LAW_ALAW: "alaw"}.get(value or 0, "alaw")
        elif request == dio.DAHDI_GET_PARAMS:
            law = dio.DAHDI_LAW_MULAW if f.law == "ulaw" else dio.DAHDI_LAW_ALAW
            return dio.pack_params(ch.channo, 1, ch.channo, ch.sigtype, 0, law, ch.name, ch.alarms)
        elif request == dio.DAHDI_GETEVENT:
            return dio.pack_int(ch.events.pop(0) if ch.events else dio.DAHDI_EVENT_NONE)
        elif request == dio.DAHDI_HOOK:
            assert value is not None
            is_fxs_port = ch.sigtype == FXS_PORT
            if is_fxs_port and value in (dio.DAHDI_OFFHOOK, dio.DAHDI_FLASH):
                raise OSError(errno.EINVAL, "Invalid argument")  # a phone port has no hook to lift
            if not is_fxs_port and value in (dio.DAHDI_RING, dio.DAHDI_RINGOFF):
                raise OSError(errno.EINVAL, "Invalid argument")
            ch.hooks.append(value)
        elif request == dio.DAHDI_FLUSH:
            pass
        else:
            raise OSError(errno.ENOTTY, "Inappropriate ioctl for device")
        return arg

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _take(ch: FakeChannel, n: int) -> np.ndarray:
        out = np.zeros(n, np.int16)
        filled = 0
        while filled < n and ch.rx:
            head = ch.rx[0]
            k = min(n - filled, len(head))
            out[filled : filled + k] = head[:k]
            filled += k
            if k == len(head):
                ch.rx.pop(0)
            else:
                ch.rx[0] = head[k:]
        return out

    @staticmethod
    def _encode(law: str, x: np.ndarray) -> bytes:
        if law == "linear":
            return x.astype("<i2").tobytes()
        fn = g711.ulaw_encode if law == "ulaw" else g711.alaw_encode
        return np.asarray(fn(x), np.uint8).tobytes()

    @staticmethod
    def _decode(law: str, data: bytes) -> np.ndarray:
        if law == "linear":
            return np.frombuffer(data, "<i2").astype(np.int16)
        fn = g711.ulaw_decode if law == "ulaw" else g711.alaw_decode
        return np.asarray(fn(data), np.int16)
