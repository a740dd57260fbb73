"""The DAHDI driver: analog boards (Digium/Sangoma TDM/A-series, OpenVox A400/A1200, X100P clones).

Each configured line is one DAHDI channel, opened through `/dev/dahdi/channel` +
`DAHDI_SPECIFY` (see `channel.py`). FXO ports are trunks (a line to the exchange), FXS
ports are extensions (a phone on the port); `ccd.toml` lists the DAHDI channel numbers in
line-channel order (`channels = [1, 2, 3, 4]`: line channel 0 is DAHDI channel 1).

The kernel only moves audio and hook bits; caller ID, DTMF and call-progress tones are
decoded by the daemon's soft DSP on the audio this driver returns. So the driver:

* reads 20 ms frames without blocking (from `loop.add_reader` on real fds, and in every
  `tick()`), keeps a short jitter buffer per channel, and writes the daemon's frame back;
* turns the events the kernel queues (a read fails with `ELAST`, then `DAHDI_GETEVENT`) into
  line events. Trunks: ring (`RINGBEGIN`/`RINGOFFHOOK`; `Ring(on=False)` `ring_on` seconds
  later, since FXS signalling reports no ring end), far-end loop drop (`ONHOOK` while
  seized -> `Loop(current=False)`), polarity reversal. Extensions: phone lifted/put down
  (`RINGOFFHOOK`/`ONHOOK` -> `Hook`), rotary digits (`PULSEDIGIT`). Both: `ALARM`/`NOALARM`
  -> `LineAlarm`; `REMOVED` or a failing read -> `LineAlarm(ok=False)`, then a reopen every
  `reopen_interval` seconds and `LineAlarm(ok=True)` when the channel answers again;
* controls the hook: `OffHook`/`OnHook`/`Flash` on trunks, `RingPhone` on extensions (with
  the caller ID sent as FSK in the first silence between rings, as a phone expects).

Time comes from `options["clock"]`; tests replace the kernel with `options["backend"]`
(an `os`-like object, `tests/fakes/fake_dahdi.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ccd.clock import Clock, RealClock
from ccd.drivers.base import (
    FRAME,
    Capabilities,
    DeviceCommand,
    DeviceEvent,
    Driver,
    DriverTick,
    DriverUnavailable,
    Flash,
    Hook,
    HwDtmf,
    LineKind,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    Polarity,
    Ring,
    RingPhone,
    UnsupportedCommand,
)
from ccd.drivers.common import AlarmLatch, options_from_dict
from ccd.drivers.dahdi import ioctl as dio
from ccd.drivers.dahdi.channel import LAWS, Backend, ChannelGone, DahdiChannel, OsBackend

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DahdiOptions:
    """`[[drivers]]` options of a DAHDI board (the config schema has device, channels, law)."""

    device: str = "/dev/dahdi/channel"
    channels: tuple[int, ...] = ()
    law: str = "alaw"  # alaw (China, Europe) | ulaw | linear
    reopen_interval: float = 2.0
    ring_on: float = 1.0  # Ring(on=False) this long after a ring starts (China: 1 s on, 4 s off)
    jitter_frames: int = 6  # audio kept per channel beyond this is dropped (the card runs fast)
    cid_signal: str = "fsk-bell202"  # caller ID sent to phones on FXS ports: fsk-bell202 | fsk-v23 | dtmf
    clock: Any = None
    backend: Any = None  # tests: an os-like object instead of the kernel
    tone_plan: Any = None  # given to every driver by the daemon; the DSP runs there

    @classmethod
    def from_dict(cls, name: str, options: dict[str, Any]) -> DahdiOptions:
        opts = options_from_dict(cls, "dahdi", name, options)
        opts.channels = tuple(int(c) for c in opts.channels)
        if not opts.channels:
            raise DriverUnavailable(
                f"dahdi {name}: no channels (list the DAHDI channel numbers, e.g. [1, 2])"
            )
        if any(c < 1 for c in opts.channels) or len(set(opts.channels)) != len(opts.channels):
            raise DriverUnavailable(
                f"dahdi {name}: channels must be distinct numbers from 1, not {opts.channels}"
            )
        if opts.law not in LAWS:
            raise DriverUnavailable(f"dahdi {name}: law must be one of {', '.join(LAWS)}, not {opts.law!r}")
        return opts


@dataclass(slots=True)
class _Line:
    spec: LineSpec
    chan: DahdiChannel
    up: bool = False
    retry_at: float = 0.0
    rx: deque[np.ndarray] = field(default_factory=deque)
    seized: bool = False  # trunk: we are off-hook
    ringing: bool = False  # trunk: ring voltage seen, Ring(on) sent
    ring_off_at: float | None = None
    phone_offhook: bool = False  # extension
    ringing_phone: bool = False
    cid_audio: np.ndarray | None = None  # extension: caller ID waiting for the first ring pause
    cid_pos: int = -1  # >= 0: sending caller ID, sample position
    alarm: AlarmLatch = field(init=False)

    def __post_init__(self) -> None:
        self.alarm = AlarmLatch(self.spec.id)


class DahdiDriver(Driver):
    """A DAHDI board: FXO ports as trunks, FXS ports as extensions."""

    KIND: ClassVar[str] = "dahdi"

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        self.opts = DahdiOptions.from_dict(name, self.options)
        self.clock: Clock = self.opts.clock or RealClock()
        self.backend: Backend = self.opts.backend or OsBackend()
        self.stats = {"rx_underruns": 0, "rx_dropped": 0, "tx_dropped": 0, "reopens": 0, "events": 0}
        self._lines: dict[str, _Line] = {}
        for spec in self.lines:
            if spec.channel >= len(self.opts.channels):
                raise DriverUnavailable(
                    f"dahdi {name}: line {spec.id} is on channel {spec.channel}, but only "
                    f"{len(self.opts.channels)} DAHDI channel(s) are listed"
                )
            chan = DahdiChannel(
                self.backend, self.opts.device, self.opts.channels[spec.channel], self.opts.law
            )
            self._lines[spec.id] = _Line(spec, chan)
        self.channels = max(self.channels, 0)
        self._events: list[DeviceEvent] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers: set[int] = set()

    # ================================================================ Driver API

    async def open(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        failures: list[str] = []
        for ln in self._lines.values():
            try:
                self._open_line(ln)
            except OSError as e:
                failures.append(f"channel {ln.chan.channo}: {e.strerror or e}")
                if isinstance(e, FileNotFoundError) or len(failures) == len(self._lines):
                    continue
                self._down(ln, f"cannot open channel {ln.chan.channo}: {e.strerror or e}")
        if failures and len(failures) == len(self._lines):
            self._close_all()
            hint = " (is the DAHDI kernel module loaded and dahdi_cfg run?)" if any(
                "No such file" in f or "No such device" in f for f in failures
            ) else ""  # fmt: skip
            raise DriverUnavailable(f"dahdi {self.name}: {'; '.join(failures)}{hint}")
        for ln in self._lines.values():
            self._check_kind(ln)

    async def close(self) -> None:
        self._close_all()

    def capabilities(self, line: str) -> Capabilities:
        ln = self._line(line)
        trunk = ln.spec.kind is LineKind.TRUNK
        return Capabilities(
            audio=True,
            play=True,
            record=True,
            full_duplex=True,
            hook_control=trunk,
            switching=True,
            ring_phone=not trunk,
            polarity=trunk,
        )

    def command(self, cmd: DeviceCommand) -> None:
        ln = self._line(cmd.line)
        trunk = ln.spec.kind is LineKind.TRUNK
        if isinstance(cmd, OffHook | OnHook | Flash) and not trunk:
            raise UnsupportedCommand(
                f"dahdi {self.name}: {cmd.line} is an FXS port (a phone); it has no hook to control"
            )
        if isinstance(cmd, RingPhone) and trunk:
            raise UnsupportedCommand(f"dahdi {self.name}: {cmd.line} is a trunk; only FXS ports ring phones")
        if not isinstance(cmd, OffHook | OnHook | Flash | RingPhone):
            raise UnsupportedCommand(
                f"dahdi {self.name}: cannot do {type(cmd).__name__} (DTMF and dialling go in the audio)"
            )
        if not ln.up:
            log.warning("dahdi %s: %s on %s ignored: the channel is out of service", self.name, type(cmd).__name__,
                        cmd.line)  # fmt: skip
            return
        try:
            if isinstance(cmd, OffHook):
                self._hook(ln, dio.DAHDI_OFFHOOK)
                if not ln.seized:
                    ln.seized = True
                    self._ring_stopped(ln)
                    self._events.append(Loop(ln.spec.id, current=True))
            elif isinstance(cmd, OnHook):
                self._hook(ln, dio.DAHDI_ONHOOK)
                ln.seized = False
            elif isinstance(cmd, Flash):
                if not ln.seized:
                    log.warning("dahdi %s: flash on %s ignored: the line is not seized", self.name, cmd.line)
                    return
                self._hook(ln, dio.DAHDI_FLASH)
            else:
                self._ring_phone(ln, cmd)
        except ChannelGone as e:
            self._down(ln, str(e))
        except OSError as e:
            log.warning(
                "dahdi %s: %s on %s failed: %s", self.name, type(cmd).__name__, cmd.line, e.strerror or e
            )

    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        now = self.clock.now()
        rx = np.zeros((self.channels, FRAME), np.int16)
        for ln in self._lines.values():
            row = ln.spec.channel
            if not ln.up:
                if now >= ln.retry_at:
                    self._reopen(ln, now)
                continue
            self._pump(ln)
            if not ln.up:
                continue
            if ln.ring_off_at is not None and now >= ln.ring_off_at:
                self._ring_stopped(ln)
            rx[row] = self._take_rx(ln)
            frame = tx[row] if tx is not None and tx.shape[0] > row else np.zeros(FRAME, np.int16)
            self._write(ln, self._with_cid(ln, frame))
        events, self._events = self._events, []
        return DriverTick(events, rx)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(
            device=self.opts.device,
            law=self.opts.law,
            channels={
                ln.spec.id: {
                    "dahdi_channel": ln.chan.channo,
                    "port": ln.chan.port,
                    "name": ln.chan.params.name if ln.chan.params else "",
                    "up": ln.up,
                }
                for ln in self._lines.values()
            },
            stats=dict(self.stats),
        )
        return d

    # ================================================================ channels

    def _line(self, line: str) -> _Line:
        try:
            return self._lines[line]
        except KeyError:
            raise UnsupportedCommand(f"dahdi {self.name} has no line {line!r}") from None

    def _open_line(self, ln: _Line) -> None:
        ln.chan.open()
        ln.up = True
        ln.rx.clear()
        if self._loop is not None and getattr(self.backend, "selectable", False) and ln.chan.fd is not None:
            fd = ln.chan.fd
            self._loop.add_reader(fd, self._pump, ln)
            self._readers.add(fd)
        params = ln.chan.params
        if params is not None and params.chan_alarms:
            self._alarm(ln, False, f"alarm: {dio.alarm_text(params.chan_alarms)}")

    def _check_kind(self, ln: _Line) -> None:
        port = ln.chan.port
        want = "fxo" if ln.spec.kind is LineKind.TRUNK else "fxs"
        if ln.chan.params is None or port == want:
            return
        if port == "other":
            log.warning("dahdi %s: channel %d (%s) has signalling %#x, neither FXO nor FXS; treating it as %s",
                        self.name, ln.chan.channo, ln.spec.id, ln.chan.params.sigtype, want.upper())  # fmt: skip
            return
        what = "a line to the exchange (trunk)" if port == "fxo" else "a phone port (extension)"
        self._close_all()
        raise DriverUnavailable(
            f"dahdi {self.name}: DAHDI channel {ln.chan.channo} is an {port.upper()} port, {what}, but ccd.toml "
            f"makes {ln.spec.id} a{'n extension' if ln.spec.kind is LineKind.EXTENSION else ' trunk'}"
        )

    def _close_line(self, ln: _Line) -> None:
        fd = ln.chan.fd
        if fd is not None and fd in self._readers and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(fd)
            self._readers.discard(fd)
        ln.chan.close()

    def _close_all(self) -> None:
        for ln in self._lines.values():
            if ln.up and ln.seized:
                with contextlib.suppress(OSError):
                    ln.chan.hook(dio.DAHDI_ONHOOK)  # leave the line free for the next call
            self._close_line(ln)
            ln.up = False

    def _down(self, ln: _Line, why: str) -> None:
        """The channel is gone: end its call, raise the alarm, retry later."""
        was_up = ln.up
        self._close_line(ln)
        ln.up = False
        ln.retry_at = self.clock.now() + self.opts.reopen_interval
        if ln.seized:
            self._events.append(Loop(ln.spec.id, current=False))
        if ln.phone_offhook:
            self._events.append(Hook(ln.spec.id, offhook=False))
        self._ring_stopped(ln)
        ln.seized = ln.phone_offhook = ln.ringing_phone = False
        ln.cid_audio, ln.cid_pos = None, -1
        if was_up:
            log.warning("dahdi %s: %s (channel %d) out of service: %s; retrying every %.1f s", self.name, ln.spec.id,
                        ln.chan.channo, why, self.opts.reopen_interval)  # fmt: skip
        self._alarm(ln, False, why)

    def _reopen(self, ln: _Line, now: float) -> None:
        try:
            self._open_line(ln)
        except OSError as e:
            ln.retry_at = now + self.opts.reopen_interval
            log.debug("dahdi %s: channel %d still unavailable: %s", self.name, ln.chan.channo, e)
            return
        self.stats["reopens"] += 1
        log.warning("dahdi %s: %s (channel %d) back in service", self.name, ln.spec.id, ln.chan.channo)
        if not (ln.chan.params and ln.chan.params.chan_alarms):
            self._alarm(ln, True, "channel reopened")

    def _alarm(self, ln: _Line, ok: bool, reason: str) -> None:
        ev = ln.alarm.update(ok, reason)
        if ev is not None:
            self._events.append(ev)

    def _hook(self, ln: _Line, value: int) -> None:
        ln.chan.hook(value)

    # ================================================================ audio

    def _pump(self, ln: _Line) -> None:
        """Read what the channel has (never blocks); also the add_reader callback."""
        if not ln.up:
            return
        try:
            got = ln.chan.read_frames()
        except ChannelGone as e:
            self._down(ln, e.strerror or str(e))
            return
        ln.rx.extend(got.frames)
        for code in got.events:
            self.stats["events"] += 1
            try:
                self._on_event(ln, code)
            except Exception:  # one odd event must not stop the line
                log.exception(
                    "dahdi %s: error handling %s on %s", self.name, dio.describe_event(code), ln.spec.id
                )
            if not ln.up:
                return

    def _take_rx(self, ln: _Line) -> np.ndarray:
        extra = len(ln.rx) - self.opts.jitter_frames
        if extra > 0:
            self.stats["rx_dropped"] += extra
            for _ in range(extra):
                ln.rx.popleft()
        if ln.rx:
            return ln.rx.popleft()
        self.stats["rx_underruns"] += 1
        return np.zeros(FRAME, np.int16)

    def _write(self, ln: _Line, frame: np.ndarray) -> None:
        try:
            if not ln.chan.write_frame(frame):
                self.stats["tx_dropped"] += 1
        except ChannelGone as e:
            self._down(ln, e.strerror or str(e))

    # ================================================================ events

    def _on_event(self, ln: _Line, code: int) -> None:
        line = ln.spec.id
        log.debug("dahdi %s: %s: %s", self.name, line, dio.describe_event(code))
        if code in (dio.DAHDI_EVENT_ALARM, dio.DAHDI_EVENT_NOALARM):
            ok = code == dio.DAHDI_EVENT_NOALARM
            self._alarm(ln, ok, "alarm cleared" if ok else "alarm on the line or span")
            return
        if code == dio.DAHDI_EVENT_REMOVED:
            self._down(ln, "channel removed (card unplugged or driver unloaded)")
            return
        if code & dio.DAHDI_EVENT_PULSEDIGIT:
            self._events.append(HwDtmf(line, chr(code & 0xFF)))
            return
        if code & (dio.DAHDI_EVENT_DTMFDOWN | dio.DAHDI_EVENT_DTMFUP):
            return  # ccd's own DTMF detector hears the digits in the audio
        if ln.spec.kind is LineKind.TRUNK:
            self._trunk_event(ln, code)
        else:
            self._extension_event(ln, code)

    def _trunk_event(self, ln: _Line, code: int) -> None:
        line = ln.spec.id
        if code in (dio.DAHDI_EVENT_RINGBEGIN, dio.DAHDI_EVENT_RINGOFFHOOK):
            if ln.seized:
                return  # RINGOFFHOOK also confirms our own off-hook on some cards
            if not ln.ringing:
                ln.ringing = True
                self._events.append(Ring(line, on=True))
            ln.ring_off_at = self.clock.now() + self.opts.ring_on
        elif code == dio.DAHDI_EVENT_RINGEROFF:
            self._ring_stopped(ln)
        elif code == dio.DAHDI_EVENT_ONHOOK:
            if ln.seized:
                log.info("dahdi %s: %s: far end dropped the loop", self.name, line)
                self._events.append(Loop(line, current=False))
            else:
                self._ring_stopped(ln)
        elif code == dio.DAHDI_EVENT_POLARITY:
            self._events.append(Polarity(line))
        else:
            log.debug("dahdi %s: %s: %s ignored", self.name, line, dio.describe_event(code))

    def _extension_event(self, ln: _Line, code: int) -> None:
        line = ln.spec.id
        if code == dio.DAHDI_EVENT_RINGOFFHOOK:
            if not ln.phone_offhook:
                ln.phone_offhook = True
                ln.ringing_phone = False  # the kernel stops the ringer when the phone is lifted
                ln.cid_audio, ln.cid_pos = None, -1
                self._events.append(Hook(line, offhook=True))
        elif code == dio.DAHDI_EVENT_ONHOOK:
            if ln.phone_offhook:
                ln.phone_offhook = False
                self._events.append(Hook(line, offhook=False))
        elif code == dio.DAHDI_EVENT_RINGEROFF:
            if ln.cid_audio is not None and ln.cid_pos < 0 and ln.ringing_phone:
                ln.cid_pos = 0  # first pause after the first ring: send caller ID now
        elif code == dio.DAHDI_EVENT_WINKFLASH:
            # TODO(base.py): no event type for a hook flash yet; log it so a supervisor can see it happened
            log.info("dahdi %s: %s: hook flash", self.name, line)
        else:
            log.debug("dahdi %s: %s: %s ignored", self.name, line, dio.describe_event(code))

    def _ring_stopped(self, ln: _Line) -> None:
        ln.ring_off_at = None
        if ln.ringing:
            ln.ringing = False
            self._events.append(Ring(ln.spec.id, on=False))

    # ================================================================ ringing phones (FXS)

    def _ring_phone(self, ln: _Line, cmd: RingPhone) -> None:
        if cmd.on:
            if ln.phone_offhook:
                return
            ln.cid_audio, ln.cid_pos = self._cid_samples(cmd.number, cmd.name), -1
            self._hook(ln, dio.DAHDI_RING)
            ln.ringing_phone = True
        else:
            ln.ringing_phone = False
            ln.cid_audio, ln.cid_pos = None, -1
            if not ln.phone_offhook:
                self._hook(ln, dio.DAHDI_RINGOFF)

    def _cid_samples(self, number: str | None, name: str | None) -> np.ndarray | None:
        if not number and not name:
            return None
        try:
            import time

            from ccd.dsp.callerid import CallerId, cid_audio

            # the phone shows the date and time sent with the number: the office's local time
            stamp = time.strftime("%m%d%H%M", time.localtime(self.clock.wall()))
            cid = CallerId("mdmf", number=number or None, name=name or None, datetime=stamp,
                           number_absent=None if number else "P")  # fmt: skip
            return np.asarray(cid_audio(cid, self.opts.cid_signal, "mdmf"), dtype=np.int16)
        except Exception as e:  # a name the encoder refuses must not stop the phone ringing
            log.warning("dahdi %s: no caller ID for the phone (%s)", self.name, e)
            return None

    def _with_cid(self, ln: _Line, frame: np.ndarray) -> np.ndarray:
        if ln.cid_pos < 0 or ln.cid_audio is None:
            return frame
        chunk = ln.cid_audio[ln.cid_pos : ln.cid_pos + FRAME]
        ln.cid_pos += FRAME
        if ln.cid_pos >= len(ln.cid_audio):
            ln.cid_audio, ln.cid_pos = None, -1
        out = np.zeros(FRAME, np.int16)
        out[: len(chunk)] = chunk
        return out
