"""A fake serial device on a pty: the plumbing the modem and GSM emulators share.

The emulator runs in a thread on the master side of `os.openpty()`; the driver opens the
slave through a stable symlink (`path`), like `/dev/ttyACM0` or `/dev/ttyUSB2`, so it is
tested through the very code that opens real hardware. `unplug()` takes the tty away (the
driver's reads fail, as when a USB cable is pulled) and `replug()` puts a fresh one behind
the same path, in factory state.

A subclass implements `_received(data)` (bytes from the driver) and may override
`_reset()` (factory state, at every plug), `_service()` (called every turn of the thread,
for timers and paced audio) and `_driver_closed()` (the driver closed its end).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import time
import tty
from typing import Self


class PtyDevice:
    """Use as `with Sub(..., link) as dev:` and open `dev.path`."""

    POLL = 0.004  # seconds the thread waits for input before servicing timers

    def __init__(self, link: str | os.PathLike[str] | None, thread_name: str) -> None:
        self._link = str(link) if link else None
        self._thread_name = thread_name
        self.unplugged = False
        self.lost_bytes = 0  # output the driver never read (pty buffer full for 0.5 s, or nobody there)
        self._master: int | None = None
        self._slave_name = ""
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._running = False

    # ---------------------------------------------------------------- to provide

    def _received(self, data: bytes) -> None:
        """Bytes the driver wrote."""
        raise NotImplementedError

    def _reset(self) -> None:
        """Back to factory state (called with the lock held, at every plug)."""

    def _service(self) -> None:
        """Every turn of the thread: due timers, paced output."""

    def _driver_closed(self) -> None:
        """The driver closed its end of the tty."""

    # ---------------------------------------------------------------- life cycle

    @property
    def path(self) -> str:
        return self._link or self._slave_name

    def start(self) -> Self:
        self._plug()
        self._running = True
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        if self._thread:
            self._thread.join(2)
        self._close_master()
        self._unlink()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """The USB cable is pulled: the tty disappears (the driver's reads fail)."""
        self.unplugged = True
        self._unlink()
        self._close_master()

    def replug(self) -> None:
        """Plugged back: a new tty behind the same path, in factory state."""
        self._plug()
        self.unplugged = False

    def send_raw(self, data: bytes) -> None:
        self._write(data)

    # ---------------------------------------------------------------- the pty

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self._slave_name = os.ttyname(slave)
        os.close(slave)  # so that the master sees EIO when the driver closes its end
        os.set_blocking(master, False)
        with self._lock:
            self._master = master
            self._reset()
        if self._link:
            self._unlink()
            os.symlink(self._slave_name, self._link)

    def _unlink(self) -> None:
        if self._link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._link)

    def _close_master(self) -> None:
        with self._lock:
            if self._master is not None:
                os.close(self._master)
                self._master = None

    def _write(self, data: bytes) -> None:
        """To the driver; waits up to 0.5 s for a full pty buffer, then counts the rest as lost."""
        with self._lock:
            if self._master is None or self.unplugged:
                return
            view = memoryview(data)
            deadline = time.monotonic() + 0.5
            while view and time.monotonic() < deadline:
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    n = 0
                except OSError:
                    self.lost_bytes += len(view)
                    return  # nobody there (slave closed): the bytes are gone, as on a real line
                view = view[n:]
                if view:
                    select.select([], [self._master], [], 0.01)
            self.lost_bytes += len(view)  # the driver stopped reading for half a second

    def _run(self) -> None:
        while self._running:
            master = self._master
            if master is None:
                time.sleep(0.005)
                continue
            try:
                r, _, _ = select.select([master], [], [], self.POLL)
            except (OSError, ValueError):
                time.sleep(0.005)
                continue
            if r:
                try:
                    data = os.read(master, 4096)
                except (BlockingIOError, InterruptedError):
                    data = b""
                except OSError as e:
                    if e.errno == errno.EIO:  # no slave open: the driver closed the port
                        self._driver_closed()
                        time.sleep(0.005)
                        continue
                    data = b""
                if data:
                    self._received(data)
            self._service()
