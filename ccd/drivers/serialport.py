"""What the AT-command drivers (voice modem, SMS module) share: the port and the worker shell.

`AsyncSerialPort` is one serial port on the event loop: opened with pyserial (exclusive,
non-blocking), read with `loop.add_reader` on its fd, written through a buffer that never
blocks the loop (`loop.add_writer` while the device is slow to take it). A read error, an
end of file or a write error means the device is gone (a USB stick pulled out): the port
reports it once through `on_vanish` and closes itself.

`SerialDriver` is the shell both drivers are built on, because the logic is the same:

* one worker task owns the AT conversation, one command in flight at a time; `command()`
  only queues work for it (`_queue`), so nothing ever blocks the daemon's tick;
* a vanished device is logged once ("vanished"), `LineAlarm(ok=False)`, then opened and set
  up again every `reopen_interval` quietly, and "recovered" is logged once with
  `LineAlarm(ok=True)` (Home Assistant's coordinator rule: log the transitions, not every
  failed try);
* waiting is done on the injected clock (`options["clock"]`), so tests drive time.

A subclass provides `_parser` (`feed(bytes) -> events`, `reset()`), `_handle(event)`,
`_initialize()`, `_NOT_READY` (the errors that mean "opened, but not answering") and the
hooks below; it keeps its own options dataclass in `opts` (with `port`, `baud` and
`reopen_interval`), `clock`, `stats` (with "reopens") and `state` ("down" when out of service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from ccd.drivers.base import DeviceEvent, Driver, DriverUnavailable, LineSpec
from ccd.drivers.common import AlarmLatch


class PortVanished(Exception):
    """The port is gone (read error, EOF, write error) or closed."""


class AsyncSerialPort:
    """A serial port read and written from the event loop without ever blocking it."""

    def __init__(
        self,
        on_data: Callable[[bytes], None],
        on_vanish: Callable[[str], None],
        *,
        max_buffer: int | None = None,
    ) -> None:
        self.on_data = on_data
        self.on_vanish = on_vanish
        self.max_buffer = max_buffer  # oldest unsent bytes are dropped beyond this (None: no limit)
        self.path: str | None = None  # the last device opened (kept after close, for describe())
        self.fd: int | None = None
        self.vanished = False
        self._serial: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wbuf = bytearray()
        self._writer_on = False

    @property
    def is_open(self) -> bool:
        return self.fd is not None

    def open(self, path: str, baud: int, loop: asyncio.AbstractEventLoop) -> None:
        """Open `path` exclusively at `baud` and start reading; raises OSError."""
        import serial

        ser = serial.Serial()
        ser.port = path
        ser.baudrate = baud
        ser.timeout = 0
        ser.exclusive = True
        try:
            ser.open()
        except (serial.SerialException, ValueError) as e:
            raise OSError(str(e)) from None
        self._serial = ser
        self._loop = loop
        self.fd = ser.fileno()
        os.set_blocking(self.fd, False)
        self.path = path
        self._wbuf.clear()
        self.vanished = False
        loop.add_reader(self.fd, self._on_readable)

    def close(self) -> None:
        """Stop reading and writing and release the device; safe to call twice."""
        if self.fd is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
            if self._writer_on:
                with contextlib.suppress(Exception):
                    self._loop.remove_writer(self.fd)
        self._writer_on = False
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
        self._serial = None
        self.fd = None
        self._wbuf.clear()

    def write(self, data: bytes) -> None:
        """Queue `data` and write what the device takes now; the rest goes when it is writable."""
        if self.fd is None:
            return
        self._wbuf += data
        if self.max_buffer is not None and len(self._wbuf) > self.max_buffer:
            # the device has stopped reading: the driver will notice; do not grow without bound
            del self._wbuf[: len(self._wbuf) - self.max_buffer]
        if not self._writer_on:
            self._flush()

    def write_now(self, data: bytes) -> None:
        """Best effort, bypassing the buffer (last words before closing); errors are ignored."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.write(self.fd, data)

    def _on_readable(self) -> None:
        if self.fd is None:
            return
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError as e:
            self._vanish(f"read error: {e.strerror or e}")
            return
        if not data:
            self._vanish("end of file")
            return
        self.on_data(data)

    def _flush(self) -> None:
        if self.fd is None:
            return
        try:
            while self._wbuf:
                n = os.write(self.fd, self._wbuf)
                del self._wbuf[:n]
        except BlockingIOError:
            pass
        except OSError as e:
            self._vanish(f"write error: {e.strerror or e}")
            return
        assert self._loop is not None
        if self._wbuf and not self._writer_on:
            self._loop.add_writer(self.fd, self._flush)
            self._writer_on = True
        elif not self._wbuf and self._writer_on:
            self._loop.remove_writer(self.fd)
            self._writer_on = False

    def _vanish(self, why: str) -> None:
        if self.vanished:
            return
        self.vanished = True
        self.close()
        self.on_vanish(why)


class SerialDriver(Driver):
    """The shell of a driver for one AT-command device on a serial port (see the module doc)."""

    WRITE_BUFFER_MAX: ClassVar[int | None] = None
    NOT_READY_TEXT: ClassVar[str] = "{}"  # DriverUnavailable text when open() finds it not answering
    _NOT_READY: ClassVar[tuple[type[BaseException], ...]] = (PortVanished,)

    opts: Any
    stats: dict[str, int]
    state: str
    _parser: Any

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        self._log = logging.getLogger(type(self).__module__)
        self._port = AsyncSerialPort(self._on_data, self._vanish, max_buffer=self.WRITE_BUFFER_MAX)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: list[DeviceEvent] = []
        self._actions: deque[Callable[[], Awaitable[None]]] = deque()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closing = False
        self._latch: AlarmLatch | None = None  # the subclass sets it once it knows its line

    @property
    def device_path(self) -> str | None:
        """The device last opened (a USB `vid:pid` port resolves to a different one after a replug)."""
        return self._port.path

    # ---------------------------------------------------------------- to provide

    async def _initialize(self) -> None:
        """Reset and set up the device: at open and after every reopen."""
        raise NotImplementedError

    def _handle(self, ev: Any) -> None:
        """One event from the parser."""
        raise NotImplementedError

    def _device_lost(self, why: str) -> str:
        """End what the device was doing when it vanished; returns the LineAlarm reason."""
        return "device vanished"

    def _in_service(self) -> None:
        """Called after a successful open and after every reopen."""

    async def _idle(self) -> None:
        """Called by the worker when it has had nothing to do for a while."""

    async def _worker_error(self, e: Exception) -> bool:
        """An action failed with `e`; True if handled, False to log it as unexpected."""
        return isinstance(e, PortVanished)

    # ---------------------------------------------------------------- open / close

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._closing = False
        try:
            self._open_port()
        except OSError as e:
            raise DriverUnavailable(f"{self.KIND} {self.name}: cannot open {self.opts.port}: {e}") from None
        try:
            await self._initialize()
        except self._NOT_READY as e:
            self._close_port()
            raise DriverUnavailable(
                f"{self.KIND} {self.name} on {self.device_path}: {self.NOT_READY_TEXT.format(e)}"
            ) from None
        self._worker = asyncio.create_task(self._run(), name=f"{self.KIND}-{self.name}")
        self._in_service()

    async def _stop_worker(self) -> None:
        self._closing = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None

    def _resolve_port(self) -> str:
        """The device path of the configured port (a path, or a USB `vid:pid` looked up now)."""
        from ccd.drivers.modem.discover import PortNotFound, resolve_port

        try:
            return resolve_port(self.opts.port)
        except (PortNotFound, ValueError) as e:
            raise OSError(str(e)) from None

    def _open_port(self) -> None:
        """Open the configured port (resolved again each time); raises OSError."""
        path = self._resolve_port()
        assert self._loop is not None
        self._port.open(path, self.opts.baud, self._loop)
        self._parser.reset()
        self._log.debug("%s %s: opened %s", self.KIND, self.name, path)

    def _close_port(self) -> None:
        self._port.close()

    def _send_bytes(self, data: bytes) -> None:
        self._port.write(data)

    def _on_data(self, data: bytes) -> None:
        for ev in self._parser.feed(data):
            try:
                self._handle(ev)
            except Exception:  # one bad event must not kill the reader
                self._log.exception("%s %s: error handling %r", self.KIND, self.name, ev)

    # ---------------------------------------------------------------- faults

    def _alarm(self, ok: bool, reason: str) -> None:
        ev = self._latch.update(ok, reason) if self._latch is not None else None
        if ev is not None:
            self._events.append(ev)

    def _vanish(self, why: str) -> None:
        self._log.warning("%s %s: device %s vanished (%s); will reopen every %.1f s", self.KIND, self.name,
                          self.device_path, why, self.opts.reopen_interval)  # fmt: skip
        reason = self._device_lost(why)
        self.state = "down"
        self._alarm(False, reason)
        self._poke()

    async def _reopen(self) -> None:
        """State "down": try to open and set up again every reopen_interval."""
        await self._sleep(self.opts.reopen_interval)
        if self._closing:
            return
        try:
            self._open_port()
        except OSError as e:
            self._log.debug("%s %s: reopen failed: %s", self.KIND, self.name, e)
            return
        try:
            await self._initialize()
        except self._NOT_READY as e:
            self._log.debug("%s %s: reopened but not ready: %s", self.KIND, self.name, e)
            self._close_port()
            self.state = "down"
            return
        self.stats["reopens"] += 1
        self._log.warning("%s %s: recovered on %s", self.KIND, self.name, self.device_path)
        self._alarm(True, "recovered")
        self._in_service()

    # ---------------------------------------------------------------- worker

    def _queue(self, action: Callable[[], Awaitable[None]]) -> None:
        self._actions.append(action)
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        """Wait on the injected clock (tests advance a virtual one); cut short by close()."""
        deadline = self.clock.now() + seconds
        while self.clock.now() < deadline and not self._closing:
            await asyncio.sleep(0.005)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._closing:
            try:
                if self.state == "down":
                    await self._reopen()
                    continue
                if not self._actions:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 0.05)
                    if not self._actions:
                        await self._idle()
                    continue
                action = self._actions.popleft()
                await action()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                if not await self._worker_error(e):
                    self._log.exception("%s %s: unexpected error", self.KIND, self.name)
