"""One DAHDI channel at the file-descriptor level, over an injectable `os`-like backend.

`DahdiChannel.open()` does what Asterisk's `dahdi_open()` does: open `/dev/dahdi/channel`
non-blocking, `DAHDI_SPECIFY` the channel number, `DAHDI_SET_BLOCKSIZE` 160 (20 ms), then
`DAHDI_SETLINEAR 1` (signed 16-bit) or `DAHDI_SETLAW` (µ-law / A-law, converted here), and
reads `DAHDI_GET_PARAMS` to learn whether the port is FXO or FXS.

`read_frames()` returns whatever audio is waiting, never blocking. When the kernel has a
signalling event queued, `read()` fails with errno `ELAST` (500); the channel then drains
the events with `DAHDI_GETEVENT` and hands them back with the audio. Any other error means
the channel is gone (card removed, driver unloaded): `ChannelGone`.

The backend has `open(path, flags)`, `close(fd)`, `read(fd, n)`, `write(fd, data)` and
`ioctl(fd, request, arg: bytes) -> bytes` (the `fcntl.ioctl` convention with an immutable
buffer: the result is the argument as the kernel left it). `OsBackend` is the real one;
tests use `tests/fakes/fake_dahdi.py`, since the kernel side cannot run without the card.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ccd.drivers.dahdi import ioctl as dio

log = logging.getLogger(__name__)

FRAME = 160  # samples per 20 ms
LAWS = ("linear", "ulaw", "alaw")


class Backend(Protocol):
    def open(self, path: str, flags: int) -> int: ...
    def close(self, fd: int) -> None: ...
    def read(self, fd: int, n: int) -> bytes: ...
    def write(self, fd: int, data: bytes) -> int: ...
    def ioctl(self, fd: int, request: int, arg: bytes) -> bytes: ...


class OsBackend:
    """The real kernel: os + fcntl."""

    selectable = True  # its fds work with loop.add_reader

    def open(self, path: str, flags: int) -> int:
        return os.open(path, flags)

    def close(self, fd: int) -> None:
        os.close(fd)

    def read(self, fd: int, n: int) -> bytes:
        return os.read(fd, n)

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def ioctl(self, fd: int, request: int, arg: bytes) -> bytes:
        import fcntl

        return fcntl.ioctl(fd, request, arg)


class ChannelGone(OSError):
    """The channel cannot be used any more (removed, unplugged, driver unloaded)."""


@dataclass(slots=True)
class ReadResult:
    frames: list[np.ndarray]  # int16 frames of 160 samples, oldest first
    events: list[int]  # DAHDI_EVENT_* codes, in kernel order


class DahdiChannel:
    """An open DAHDI channel: audio in and out as int16 frames, hook control, events."""

    def __init__(self, backend: Backend, device: str, channo: int, law: str = "alaw") -> None:
        if law not in LAWS:
            raise ValueError(f"unknown audio law {law!r}; choose one of {', '.join(LAWS)}")
        self.backend = backend
        self.device = device
        self.channo = channo
        self.law = law
        self.fd: int | None = None
        self.params: dio.Params | None = None
        self._partial = bytearray()

    @property
    def bytes_per_frame(self) -> int:
        return FRAME * (2 if self.law == "linear" else 1)

    @property
    def port(self) -> str:
        return self.params.port if self.params else "other"

    # ---------------------------------------------------------------- life cycle

    def open(self) -> None:
        """Open and set up the channel; raises OSError with the step that failed."""
        fd = self.backend.open(self.device, os.O_RDWR | os.O_NONBLOCK)
        try:
            self._set(fd, dio.DAHDI_SPECIFY, self.channo, "DAHDI_SPECIFY")
            # the block size is in bytes: 160 samples are 320 bytes once the channel is linear
            self._set(fd, dio.DAHDI_SET_BLOCKSIZE, self.bytes_per_frame, "DAHDI_SET_BLOCKSIZE")
            if self.law == "linear":
                self._set(fd, dio.DAHDI_SETLINEAR, 1, "DAHDI_SETLINEAR")
            else:
                law = dio.DAHDI_LAW_MULAW if self.law == "ulaw" else dio.DAHDI_LAW_ALAW
                self._set(fd, dio.DAHDI_SETLAW, law, "DAHDI_SETLAW")
            raw = self.backend.ioctl(fd, dio.DAHDI_GET_PARAMS, dio.pack_params(channo=self.channo))
            self.params = dio.Params.unpack(raw)
        except OSError:
            self.backend.close(fd)
            raise
        self.fd = fd
        self._partial.clear()

    def _set(self, fd: int, request: int, value: int, what: str) -> None:
        try:
            self.backend.ioctl(fd, request, dio.pack_int(value))
        except OSError as e:
            raise OSError(e.errno, f"{what}({value}) on channel {self.channo}: {e.strerror or e}") from None

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                self.backend.close(fd)
            except OSError as e:
                log.debug("dahdi channel %d: close: %s", self.channo, e)

    # ---------------------------------------------------------------- I/O

    def read_frames(self, max_frames: int = 50) -> ReadResult:
        """Everything waiting, without blocking. Raises ChannelGone."""
        out = ReadResult([], [])
        if self.fd is None:
            raise ChannelGone(errno.EBADF, "channel not open")
        for _ in range(max_frames * 2):
            try:
                data = self.backend.read(self.fd, self.bytes_per_frame)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == dio.ELAST:
                    out.events += self.drain_events()
                    continue
                if e.errno in (errno.EINTR, errno.EAGAIN):
                    break
                raise ChannelGone(e.errno or errno.EIO, f"channel {self.channo}: {e.strerror or e}") from None
            if not data:
                raise ChannelGone(errno.ENODEV, f"channel {self.channo}: end of file")
            self._partial += data
            while len(self._partial) >= self.bytes_per_frame:
                chunk = bytes(self._partial[: self.bytes_per_frame])
                del self._partial[: self.bytes_per_frame]
                out.frames.append(self.decode(chunk))
            if len(out.frames) >= max_frames:
                break
        return out

    def drain_events(self) -> list[int]:
        events = []
        for _ in range(dio_max_events()):
            assert self.fd is not None
            code = dio.unpack_int(self.backend.ioctl(self.fd, dio.DAHDI_GETEVENT, dio.pack_int(0)))
            if code == dio.DAHDI_EVENT_NONE:
                break
            events.append(code)
        return events

    def write_frame(self, samples: np.ndarray) -> bool:
        """Queue 20 ms for the line; False when the kernel buffer is full (the frame is dropped)."""
        if self.fd is None:
            raise ChannelGone(errno.EBADF, "channel not open")
        data = self.encode(samples)
        try:
            self.backend.write(self.fd, data)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno == dio.ELAST:  # an event is waiting; it is read with the next frames
                return False
            raise ChannelGone(e.errno or errno.EIO, f"channel {self.channo}: {e.strerror or e}") from None
        return True

    def hook(self, value: int) -> None:
        """DAHDI_HOOK: ONHOOK/OFFHOOK/FLASH on an FXO port, RING/RINGOFF on an FXS port."""
        if self.fd is None:
            raise ChannelGone(errno.EBADF, "channel not open")
        self.backend.ioctl(self.fd, dio.DAHDI_HOOK, dio.pack_int(value))

    def flush(self, what: int = dio.DAHDI_FLUSH_BOTH) -> None:
        if self.fd is not None:
            self.backend.ioctl(self.fd, dio.DAHDI_FLUSH, dio.pack_int(what))

    # ---------------------------------------------------------------- codecs

    def decode(self, data: bytes) -> np.ndarray:
        if self.law == "linear":
            return np.frombuffer(data, "<i2").astype(np.int16)
        from ccd.dsp import g711

        fn = g711.ulaw_decode if self.law == "ulaw" else g711.alaw_decode
        return np.asarray(fn(data), dtype=np.int16)

    def encode(self, samples: np.ndarray) -> bytes:
        x = np.asarray(samples, dtype=np.int16)
        if self.law == "linear":
            return x.astype("<i2").tobytes()
        from ccd.dsp import g711

        fn = g711.ulaw_encode if self.law == "ulaw" else g711.alaw_encode
        return np.asarray(fn(x), dtype=np.uint8).tobytes()


def dio_max_events() -> int:
    return 64  # DAHDI_MAX_EVENTSIZE: the kernel queue holds no more
