"""The USB voice-box driver: a box's HID control interface over pyusb, as its profile describes it.

What it does:

* finds the box by the profile's VID:PID (`vid_pid` in ccd.toml picks among several), and
  claims **only the HID interface** (detaching the kernel's usbhid from that interface
  alone). It never calls `set_configuration()`: on a composite audio device that resets the
  USB Audio Class interfaces, which `snd-usb-audio` owns (reference/HARDWARE.md §2);
* reads interrupt reports in a thread (pyusb blocks) and hands them to `tick()` through a
  queue; `reports.ReportDecoder` turns them into ring / hook / loop / polarity / caller-ID
  events;
* sends the profile's output reports for `OffHook`/`OnHook` when the box can seize the line;
* a box that vanishes (unplugged: `ENODEV` on a read) is `LineAlarm(ok=False)` on every
  line, looked for again every `reopen_interval`, and `LineAlarm(ok=True)` when it is back.

Audio: the box's voice goes through its USB Audio Class interfaces, which stay with Linux's
`snd-usb-audio`; `audio.AlsaAudio` reads and writes that sound card with `arecord`/`aplay`
children, so a box line gets the same soft DSP (caller ID from the audio, DTMF, busy tone),
prompts and recordings as any other line. The card is the one the profile or ccd.toml names
(`alsa_device`), or found by the box's USB id in /proc/asound. A line has audio (`audio`,
`play`, `record`, `full_duplex` in its capabilities) when that is configured; with
`alsa_device = "none"` it gives ring, caller ID and hook state only (screen pop and call
record, no IVR). Audio failing on its own is logged, retried and shown in `describe()`, and
raises no `LineAlarm` (see audio.py for why). See docs/usbbox.md.

Test-only options (not in ccd.toml's schema): `usb_backend` (a pyusb backend), `alsa_command`
(a prefix before arecord/aplay: tests/fakes/fake_alsa.py), `asound_root` (a /proc/asound
stand-in), `reopen_interval`, `read_timeout_ms`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import queue
import threading
from typing import Any, ClassVar

import numpy as np

from ccd.clock import Clock, RealClock
from ccd.drivers.base import (
    Capabilities,
    DeviceCommand,
    DeviceEvent,
    Driver,
    DriverTick,
    DriverUnavailable,
    LineAlarm,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    UnsupportedCommand,
)
from ccd.drivers.usbbox.audio import AlsaAudio, audio_setting
from ccd.drivers.usbbox.profile import Profile, ProfileError, load_profile
from ccd.drivers.usbbox.reports import ReportDecoder

log = logging.getLogger(__name__)


def parse_vid_pid(text: str) -> tuple[int, int]:
    try:
        vid, pid = text.strip().split(":")
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise DriverUnavailable(f'vid_pid must look like "335e:8a01", not {text!r}') from None


class UsbBoxDriver(Driver):
    """One USB voice box (one or more lines), driven through its profile."""

    KIND: ClassVar[str] = "usbbox"
    OPTIONS = (
        "profile",
        "vid_pid",
        "clock",
        "tone_plan",
        "usb_backend",
        "reopen_interval",
        "read_timeout_ms",
        "alsa_device",
        "alsa_command",
        "asound_root",
    )

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        unknown = sorted(set(self.options) - set(self.OPTIONS))
        if unknown:
            raise DriverUnavailable(
                f"usbbox {name}: unknown option(s) {', '.join(unknown)}; known: {', '.join(self.OPTIONS)}"
            )
        if not self.options.get("profile"):
            raise DriverUnavailable(
                f"usbbox {name}: no profile (a TOML file, or a shipped one such as maple-v3)"
            )
        try:
            self.profile: Profile = load_profile(self.options["profile"])
        except ProfileError as e:
            raise DriverUnavailable(f"usbbox {name}: {e}") from None
        self.vid, self.pid = self.profile.vid, self.profile.pid
        if self.options.get("vid_pid"):
            self.vid, self.pid = parse_vid_pid(str(self.options["vid_pid"]))
        for spec in self.lines:
            if spec.channel >= self.profile.lines:
                raise DriverUnavailable(
                    f"usbbox {name}: line {spec.id} is on channel {spec.channel}, but a "
                    f"{self.profile.name} has {self.profile.lines} line(s)"
                )
        self.clock: Clock = self.options.get("clock") or RealClock()
        self.backend = self.options.get("usb_backend")
        self.reopen_interval = float(self.options.get("reopen_interval", 2.0))
        self.read_timeout_ms = int(self.options.get("read_timeout_ms", 100))
        self.decoder = ReportDecoder(self.profile, {spec.channel: spec.id for spec in self.lines})
        self.stats = {"reports": 0, "ignored": 0, "reopens": 0}
        self._dev: Any = None
        self._detached = False
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._outbox: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._up = False
        self._seized: set[str] = set()
        self._cmd_events: list[DeviceEvent] = []
        setting = audio_setting(self.options.get("alsa_device"), self.profile.alsa_device)
        self.audio: AlsaAudio | None = None
        if setting != "none":
            self.audio = AlsaAudio(
                name,
                setting,
                f"{self.vid:04x}:{self.pid:04x}",
                self.profile.alsa_name,
                self.profile.lines,
                command=self.options.get("alsa_command") or (),
                asound_root=self.options.get("asound_root") or "/proc/asound",
                reopen_interval=self.reopen_interval,
            )

    # ================================================================ Driver API

    async def open(self) -> None:
        try:
            self._attach()
        except DriverUnavailable:
            raise
        except Exception as e:  # pyusb raises several kinds; each one means "not usable now"
            raise DriverUnavailable(f"usbbox {self.name}: {self._explain(e)}") from None
        self._up = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"usbbox-{self.name}", daemon=True)
        self._thread.start()
        if self.audio is not None:
            self.audio.start(asyncio.get_running_loop(), self.clock.now())

    async def close(self) -> None:
        self._stop.set()
        if self.audio is not None:
            self.audio.close()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self._detach()

    def capabilities(self, line: str) -> Capabilities:
        if line not in self.by_id:
            raise UnsupportedCommand(f"usbbox {self.name} has no line {line!r}")
        hook = self.profile.hook_control
        voice = self.audio is not None  # the box's sound card is configured (see audio.py)
        return Capabilities(
            audio=voice,
            play=voice,
            record=voice,
            full_duplex=voice,
            hook_control=hook,
            switching=False,
            hw_caller_id=self.profile.has_cid,
            polarity=any("polarity" in r.bits for r in self.profile.reports),
        )

    def command(self, cmd: DeviceCommand) -> None:
        if cmd.line not in self.by_id:
            raise UnsupportedCommand(f"usbbox {self.name} has no line {cmd.line!r}")
        if not isinstance(cmd, OffHook | OnHook):
            raise UnsupportedCommand(
                f"usbbox {self.name}: a {self.profile.name} cannot do {type(cmd).__name__}"
            )
        if not self.profile.hook_control:
            raise UnsupportedCommand(
                f"usbbox {self.name}: the profile of {self.profile.name} has no [output] reports to seize the line"
            )
        if isinstance(cmd, OffHook):
            self._outbox.put(self.profile.output["offhook"])
            self._seized.add(cmd.line)
            self._cmd_events.append(Loop(cmd.line, current=True))
        else:
            self._outbox.put(self.profile.output["onhook"])
            self._seized.discard(cmd.line)

    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        events, self._cmd_events = self._cmd_events, []
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "report":
                self.stats["reports"] += 1
                events += self.decoder.feed(payload)
                self.stats["ignored"] = self.decoder.ignored
            elif kind == "down":
                self._up = False
                for spec in self.lines:
                    if spec.id in self._seized:
                        events.append(Loop(spec.id, current=False))
                    events.append(LineAlarm(spec.id, ok=False, reason=payload))
                self._seized.clear()
                self.decoder = ReportDecoder(self.profile, {spec.channel: spec.id for spec in self.lines})
            elif kind == "up":
                self._up = True
                self.stats["reopens"] += 1
                events += [LineAlarm(spec.id, ok=True, reason="box plugged back in") for spec in self.lines]
        if self.audio is None:
            return DriverTick(events, None)
        self.audio.poll(self.clock.now())  # the injected clock: some callers tick with a fixed `now`
        rx = self.audio.read()[: self.channels]
        self.audio.write(tx)
        return DriverTick(events, rx)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(
            profile=self.profile.name,
            profile_file=self.profile.path,
            usb_id=f"{self.vid:04x}:{self.pid:04x}",
            up=self._up,
            stats=dict(self.stats),
            audio=self.audio.describe() if self.audio is not None else None,
        )
        return d

    # ================================================================ USB (thread or open())

    def _attach(self) -> None:
        import usb.core
        import usb.util

        try:
            dev = usb.core.find(idVendor=self.vid, idProduct=self.pid, backend=self.backend)
        except usb.core.NoBackendError:
            raise DriverUnavailable(
                f"usbbox {self.name}: libusb is not installed (Debian: apt install libusb-1.0-0)"
            ) from None
        if dev is None:
            raise DriverUnavailable(
                f"usbbox {self.name}: no {self.profile.name} ({self.vid:04x}:{self.pid:04x}) on USB"
            )
        iface = self.profile.interface
        self._detached = False
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            if dev.is_kernel_driver_active(iface):
                dev.detach_kernel_driver(iface)  # this interface only: the audio stays with ALSA
                self._detached = True
        usb.util.claim_interface(dev, iface)
        self._dev = dev
        init = self.profile.output.get("init")
        if init and self.profile.endpoint_out is not None:
            dev.write(self.profile.endpoint_out, init, self.read_timeout_ms)
        log.info("usbbox %s: %s attached (HID interface %d)", self.name, self.profile.name, iface)

    def _detach(self) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        import usb.util

        with contextlib.suppress(Exception):
            usb.util.release_interface(dev, self.profile.interface)
        if self._detached:
            with contextlib.suppress(Exception):
                dev.attach_kernel_driver(self.profile.interface)
        with contextlib.suppress(Exception):
            usb.util.dispose_resources(dev)

    @staticmethod
    def _explain(e: BaseException) -> str:
        code = getattr(e, "errno", None)
        if code == errno.EACCES:
            return f"permission denied ({e}): add a udev rule for the box (docs/usbbox.md)"
        if code == errno.EBUSY:
            return f"the HID interface is busy ({e}): another program has it"
        return str(e) or type(e).__name__

    def _gone(self, e: BaseException) -> bool:
        code = getattr(e, "errno", None)
        return code in (errno.ENODEV, errno.EIO, errno.EPIPE, errno.ESHUTDOWN) or "No such device" in str(e)

    def _run(self) -> None:
        import usb.core

        while not self._stop.is_set():
            if self._dev is None:
                if self._stop.wait(self.reopen_interval):
                    return
                try:
                    self._attach()
                except Exception as e:
                    log.debug("usbbox %s: still absent: %s", self.name, e)
                    continue
                log.warning("usbbox %s: %s is back", self.name, self.profile.name)
                self._inbox.put(("up", None))
                continue
            try:
                while not self._outbox.empty() and self.profile.endpoint_out is not None:
                    self._dev.write(
                        self.profile.endpoint_out, self._outbox.get_nowait(), self.read_timeout_ms
                    )
                data = self._dev.read(
                    self.profile.endpoint_in, self.profile.report_size, self.read_timeout_ms
                )
            except usb.core.USBTimeoutError:
                continue
            except Exception as e:
                if self._gone(e) or isinstance(e, usb.core.USBError):
                    log.warning("usbbox %s: %s gone (%s); looking for it every %.1f s", self.name, self.profile.name,
                                e, self.reopen_interval)  # fmt: skip
                    self._detach()
                    self._inbox.put(("down", "USB box unplugged"))
                    continue
                log.exception("usbbox %s: unexpected error reading the box", self.name)
                continue
            self._inbox.put(("report", bytes(data)))
