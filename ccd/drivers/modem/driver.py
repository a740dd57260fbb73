"""The voice-modem driver: one V.253 modem (USR 5637, Conexant CX93001...) = one trunk line.

The async shell around the pure parts (`parser`, `dle`, `cid`, `profiles`, `audio`):

* the port is a path or a USB `vid:pid` (resolved again at every reopen, since a
  replugged USB modem comes back as another ttyACM); it is read with `loop.add_reader`
  on its fd and written without ever blocking (`ccd.drivers.serialport`, shared with SMS);
* one worker task owns the AT conversation, one command in flight at a time;
  `command()` only queues work for it, `tick()` only swaps buffers;
* a missing final result code is a wedged device: `LineAlarm(ok=False)`, then the
  recovery ladder `+++` (with guard times), `ATH0`, `ATZ`, reopen, and `LineAlarm(ok=True)`
  when it answers again; a vanished device (read error or EOF) is reopened periodically.
  Init strings (`+GCI`, `+VCID=1`) are re-sent after every reset and reopen, because
  Conexant sticks forget `+VCID` across `ATZ` (home-assistant/core#57765);
* a half-duplex modem records (`+VRX`) by default so hang-up tones and DTMF keep
  coming, and switches to playback (`+VTX`) while the call engine sends sound;
  full-duplex modems use `+VTR`.

Remote hang-up is normalised to exactly one `Loop(current=False)` per call, whatever the
modem said: `<DLE>b`/`d`/`l`, an unexpected `<DLE><ETX>`, `NO CARRIER`, or ccd's own
busy-tone detector on the received audio (on by default: no modem is known to recognise
the Chinese 450 Hz 350/350 busy tone). `Loop(current=True)` is emitted when the line is
seized and connected (after `OffHook`, or when a dialled call is answered).

All timers use `options["clock"]` (a `ccd.clock.Clock`, default `RealClock`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ccd.clock import Clock, RealClock
from ccd.drivers.base import (
    FRAME,
    Capabilities,
    DeviceCommand,
    Dial,
    DialResult,
    DriverError,
    DriverTick,
    DriverUnavailable,
    Flash,
    Hook,
    HwCallerId,
    HwDtmf,
    HwTone,
    LineKind,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    Polarity,
    Ring,
    SendDtmf,
    UnsupportedCommand,
)
from ccd.drivers.common import AlarmLatch, options_from_dict
from ccd.drivers.modem import dle
from ccd.drivers.modem.audio import CODEC_KINDS, Codec, choose_codec, parse_vsm_list
from ccd.drivers.modem.cid import CidAssembler, CidRecord
from ccd.drivers.modem.discover import list_serial_ports, parse_usb_id
from ccd.drivers.modem.parser import (
    AudioData,
    CidLine,
    DleDtmf,
    DleEvent,
    EndOfData,
    Garbage,
    InfoLine,
    ModemEvent,
    ModemParser,
    ResultCode,
    RingLine,
)
from ccd.drivers.modem.profiles import (
    PROFILE_ALIASES,
    PROFILES,
    ModemProfile,
    country_commands,
    profile_for_ati,
    profile_for_usb,
)
from ccd.drivers.serialport import PortVanished, SerialDriver

log = logging.getLogger(__name__)

_HANGUP_DLE = {"busy", "dial_tone", "loop_drop"}
_TONE_DLE = {
    "silence": "silence",
    "quiet": "quiet",
    "ringback": "ringback",
    "fax_cng": "fax_cng",
    "answer_tone": "fax_ced",
}
_DIAL_RESULTS = {
    "OK": "answer",
    "VCON": "answer",
    "CONNECT": "answer",
    "BUSY": "busy",
    "NO ANSWER": "no_answer",
    "NO DIALTONE": "no_dialtone",
    "NO CARRIER": "no_answer",
    "ERROR": "error",
}
_AT_COMMAND = re.compile(r"^(AT)?[+#%*\-][A-Z0-9=;+#%*\-]+$")
_DIALABLE = set("0123456789*#ABCDabcd,WwPpTt!")


class _Wedged(Exception):
    """The modem did not give a final result code in time."""


@dataclass(slots=True)
class ModemOptions:
    """`[[drivers]]` options of a modem; unknown keys are refused with the list of known ones."""

    port: str = ""
    profile: str = "auto"  # auto | usr5637 | cx93001 (alias conexant) | generic
    gci: str | None = "26"  # +GCI T.35 country code: China 26 (some modems need B5); "none" to skip
    gci_fallbacks: tuple[str, ...] = ("B5",)  # tried when the modem refuses `gci`
    cid_mode: str = "auto"  # auto (+VCID=1, else #CID=1) | raw (+VCID=2: hex SDMF/MDMF) | an AT command
    codec: str = "auto"  # auto | ulaw | alaw | u8 | s8 | s16
    full_duplex: bool | None = None  # None: the profile says
    soft_busy: bool | None = None  # None: on unless the profile trusts the modem's busy detector
    baud: int = 115200
    command_timeout: float = 2.0
    reset_timeout: float = 4.0
    dial_timeout: float = 60.0
    guard_time: float = 1.0  # silence around +++
    reopen_interval: float = 2.0
    keepalive: float = 30.0  # probe an idle modem with AT this often (a wedge shows up before a call)
    cid_timeout: float = 1.0  # a caller-ID report is complete after this much quiet
    ring_on: float = 1.0  # Ring(on=False) this long after RING (China: 1 s on, 4 s off)
    ring_gap: float = 8.0  # no RING for this long: the caller gave up
    tx_hangover: float = 0.4  # half duplex: go back to recording after this much silence to send
    extra_init: tuple[str, ...] = ()
    clock: Any = None
    tone_plan: Any = None  # the daemon's: a plan name or a TonePlan (for the soft busy detector)

    @classmethod
    def from_dict(cls, name: str, options: dict[str, Any]) -> ModemOptions:
        opts = options_from_dict(cls, "modem", name, options)
        if not opts.port:
            raise DriverUnavailable(f"modem {name}: no port (a device path such as /dev/ttyACM0, or vid:pid)")
        opts.profile = PROFILE_ALIASES.get(opts.profile, opts.profile)
        if opts.profile != "auto" and opts.profile not in PROFILES:
            raise DriverUnavailable(
                f"modem {name}: unknown profile {opts.profile!r}; known: auto, {', '.join(PROFILES)}"
            )
        if opts.codec != "auto" and opts.codec not in CODEC_KINDS:
            raise DriverUnavailable(
                f"modem {name}: unknown codec {opts.codec!r}; known: auto, {', '.join(CODEC_KINDS)}"
            )
        mode = opts.cid_mode.strip()
        if mode not in ("auto", "formatted", "raw") and not _AT_COMMAND.match(mode.upper()):
            raise DriverUnavailable(
                f"modem {name}: cid_mode must be auto, raw or an AT command such as AT#CID=1, not {mode!r}"
            )
        opts.gci_fallbacks = tuple(opts.gci_fallbacks)
        opts.extra_init = tuple(opts.extra_init)
        return opts


@dataclass(slots=True)
class _Reply:
    command: str
    code: str | None = None
    lines: list[str] = field(default_factory=list)


class ModemDriver(SerialDriver):
    """One voice modem serving one trunk line (`LineKind.TRUNK`, channel 0)."""

    KIND: ClassVar[str] = "modem"
    WRITE_BUFFER_MAX: ClassVar[int | None] = 65536  # beyond this the modem has stopped reading: wedged
    NOT_READY_TEXT: ClassVar[str] = "not answering like a modem ({})"
    _NOT_READY: ClassVar[tuple[type[BaseException], ...]] = (_Wedged, PortVanished)

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        if len(self.lines) != 1:
            raise DriverUnavailable(f"modem {name}: a modem serves exactly one line, {len(self.lines)} given")
        self.spec = self.lines[0]
        if self.spec.kind != LineKind.TRUNK:
            raise DriverUnavailable(f"modem {name}: line {self.spec.id} must be a trunk (a modem is FXO)")
        self.opts = ModemOptions.from_dict(name, self.options)
        self.clock: Clock = self.opts.clock or RealClock()
        fixed = PROFILES.get(self.opts.profile)
        self.profile: ModemProfile = fixed or PROFILES["generic"]
        self.codec: Codec | None = None
        self.identity: dict[str, str] = {}
        self.warnings: list[str] = []
        self.state = "closed"  # closed | idle | voice | rx | tx | duplex | recovering | down
        self.offhook = False
        self._usb: tuple[int | None, int | None] = (None, None)
        self._parser = ModemParser()
        self._reply: _Reply | None = None
        self._latch = AlarmLatch(self.spec.id)
        self._cid_cmd: str | None = None
        self._codec_probed = False
        # the ringing call
        self._cid = CidAssembler(self.opts.cid_timeout)
        self._ringing = False
        self._ring_count = 0
        self._last_ring = -1e9
        self._ring_off_at: float | None = None
        self._cid_done = False
        self._had_cid = False
        self._no_cid_warned = False
        # the connected call
        self._hangup_reported = False
        self._vls_at = -1e9
        self._vls = 0
        self._rxbuf = bytearray()
        self._rx_primed = False
        self._tx_pending = bytearray()
        self._tx_switch = False
        self._last_tx_active = -1e9
        self._last_rx_byte = 0.0
        self._busy: Any = None
        self._busy_failed = False
        self._last_activity = 0.0
        self.stats = {"garbage_bytes": 0, "rx_underruns": 0, "rx_dropped": 0, "recoveries": 0, "reopens": 0}

    # ================================================================ Driver API

    async def close(self) -> None:
        await self._stop_worker()
        if self.offhook:
            # best effort: leave the line on-hook, do not wait for an answer
            self._port.write_now(self.profile.end_rx + self.profile.end_tx + b"ATH0\r")
        self._close_port()
        self.state = "closed"

    def capabilities(self, line: str) -> Capabilities:
        self._check_line(line)
        return Capabilities(
            audio=self.offhook and self.state in ("voice", "rx", "tx", "duplex"),
            play=True,
            record=True,
            full_duplex=self.full_duplex,
            hook_control=True,
            switching=False,
            ring_phone=False,
            hw_caller_id=True,
            hw_dtmf=True,
            hw_tones=True,
            hw_dial=True,
            polarity=False,
        )

    @property
    def full_duplex(self) -> bool:
        return self.profile.full_duplex if self.opts.full_duplex is None else bool(self.opts.full_duplex)

    def command(self, cmd: DeviceCommand) -> None:
        self._check_line(cmd.line)
        if isinstance(cmd, OffHook):
            self._queue(self._answer)
        elif isinstance(cmd, OnHook):
            self._queue(self._hangup)
        elif isinstance(cmd, Dial):
            bad = sorted(set(cmd.digits) - _DIALABLE)
            if not cmd.digits or bad:
                raise DriverError(
                    f"modem {self.name}: cannot dial {cmd.digits!r} (bad characters {''.join(bad)!r})"
                )
            self._queue(lambda: self._dial(cmd.digits))
        elif isinstance(cmd, SendDtmf):
            bad = sorted(set(cmd.digits.upper()) - set("0123456789*#ABCD"))
            if not cmd.digits or bad:
                raise DriverError(f"modem {self.name}: cannot send DTMF {cmd.digits!r}")
            self._queue(lambda: self._send_dtmf(cmd.digits))
        elif isinstance(cmd, Flash):
            self._queue(lambda: self._flash(cmd.ms))
        else:
            raise UnsupportedCommand(f"modem {self.name}: a trunk modem cannot do {type(cmd).__name__}")

    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        now = self.clock.now()
        self._timers(now)
        rx = None
        if self.offhook and self.codec is not None:
            row = self.spec.channel
            frame = tx[row] if tx is not None and tx.shape[0] > row else np.zeros(FRAME, np.int16)
            self._take_tx(now, frame)
            rx = np.zeros((self.channels, FRAME), np.int16)
            if self.state in ("rx", "duplex"):
                rx[row] = self._take_rx(now)
        events, self._events = self._events, []
        return DriverTick(events, rx)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(
            port=self.opts.port,
            device=self.device_path,
            profile=self.profile.name,
            model=self.profile.label,
            identity=dict(self.identity),
            codec=self.codec.kind if self.codec else None,
            full_duplex=self.full_duplex,
            caller_id_command=self._cid_cmd,
            state=self.state,
            warnings=list(self.warnings),
            stats=dict(self.stats),
        )
        return d

    # ================================================================ port I/O

    def _resolve_port(self) -> str:
        path = super()._resolve_port()
        usb = parse_usb_id(self.opts.port)
        if usb:
            self._usb = (usb[0], usb[1])
        else:
            for p in list_serial_ports():
                if p.device == path:
                    self._usb = (p.vid, p.pid)
        return path

    def _open_port(self) -> None:
        super()._open_port()
        self._last_rx_byte = self.clock.now()

    def _on_data(self, data: bytes) -> None:
        self._last_rx_byte = self.clock.now()
        super()._on_data(data)

    def _device_lost(self, why: str) -> str:
        self._lost_call()
        return "device vanished"

    # ================================================================ commands (worker only)

    async def _cmd(
        self, command: str | bytes, timeout: float | None = None, arm_audio: bool = False
    ) -> _Reply:
        """Send one command (str: an AT line, CR added; bytes: raw) and wait for its final result code."""
        if not self._port.is_open:
            raise PortVanished("port closed")
        text = command if isinstance(command, str) else repr(command)
        reply = self._reply = _Reply(text)
        if arm_audio:
            self._parser.arm_audio()
        self._send_bytes(command.encode("ascii") + b"\r" if isinstance(command, str) else command)
        deadline = self.clock.now() + (timeout if timeout is not None else self.opts.command_timeout)
        while reply.code is None:
            if self._port.vanished:
                raise PortVanished(text)
            if self.clock.now() >= deadline:
                self._reply = None
                self._parser.disarm_audio()
                raise _Wedged(f"no answer to {text}")
            await asyncio.sleep(0.005)
        self._reply = None
        self._last_activity = self.clock.now()
        log.debug("modem %s: %s -> %s %s", self.name, text, reply.code, reply.lines)
        return reply

    async def _ok(self, command: str, timeout: float | None = None) -> bool:
        return (await self._cmd(command, timeout)).code == "OK"

    # ================================================================ worker

    async def _idle(self) -> None:
        if (
            self.state == "idle"
            and not self._ringing
            and self.clock.now() - self._last_activity >= self.opts.keepalive
        ):
            await self._cmd("AT")

    async def _worker_error(self, e: Exception) -> bool:
        if isinstance(e, _Wedged):
            await self._recover(str(e))
            return True
        return isinstance(e, PortVanished)  # the port already set state "down"

    async def _initialize(self) -> None:
        """Reset and set up the modem: run at open, after every recovery and reopen."""
        self.state = "idle"
        self.offhook = False
        self._vls = 0
        await self._cmd("ATZ", self.opts.reset_timeout)
        await self._cmd("ATE0")
        ati0 = (await self._cmd("ATI0")).lines
        if not self.identity:
            self._identify(" ".join(ati0))
            ati3 = await self._cmd("ATI3")
            self.identity["ati3"] = " ".join(ati3.lines) if ati3.code == "OK" else ""
        for c in self.profile.init:
            if not await self._ok(c):
                log.debug("modem %s: %s refused", self.name, c)
        gci = country_commands(self.opts.gci, self.opts.gci_fallbacks)
        for c in gci:
            if await self._ok(c):
                break
        else:
            if gci:
                self._warn(f"modem refuses every country setting ({', '.join(gci)}); caller ID may not work")
        self._cid_cmd = None
        cid_cmds = self._cid_commands()
        for c in cid_cmds:
            if await self._ok(c):
                self._cid_cmd = c
                break
        else:
            self._warn(f"modem refuses every caller-ID command ({', '.join(cid_cmds)}): no caller ID")
        if not self._codec_probed:
            await self._probe_codec()
        for c in self.opts.extra_init:
            if not await self._ok(c):
                self._warn(f"extra init command {c} refused")
        self._last_activity = self.clock.now()
        log.info("modem %s ready on %s (%s, codec %s)", self.name, self.device_path, self.profile.name,
                 self.codec.kind if self.codec else "none")  # fmt: skip

    def _cid_commands(self) -> tuple[str, ...]:
        mode = self.opts.cid_mode.strip()
        if mode == "raw":
            return self.profile.cid_raw_commands
        if mode in ("auto", "formatted"):
            return self.profile.cid_commands
        return (mode if mode.upper().startswith("AT") else "AT" + mode,)

    def _identify(self, ati0: str) -> None:
        self.identity["ati0"] = ati0
        by_ati = profile_for_ati(ati0)
        by_usb = profile_for_usb(*self._usb)
        if self.opts.profile != "auto":
            if by_ati and by_ati.name != self.profile.name:
                log.info("modem %s: ATI0 %r looks like %s, profile %s as configured", self.name, ati0, by_ati.name,
                         self.profile.name)  # fmt: skip
            return
        found = by_ati or by_usb
        if found is None:
            self.profile = PROFILES["generic"]
            self._warn(f"unknown modem (ATI0 {ati0!r}): using the generic V.253 profile; "
                       "caller ID, DTMF and hang-up detection are untested on it")  # fmt: skip
        else:
            self.profile = found

    async def _probe_codec(self) -> None:
        self._codec_probed = True
        pref = self.profile.codec_preference if self.opts.codec == "auto" else (self.opts.codec,)
        if not await self._ok("AT+FCLASS=8"):
            self._warn("modem refuses voice mode (+FCLASS=8): caller ID only, no answering or audio")
            self.codec = None
            return
        reply = await self._cmd("AT+VSM=?")
        offered = parse_vsm_list(reply.lines) if reply.code == "OK" else []
        codec = choose_codec(offered, pref)
        if codec is None:
            if self.opts.codec != "auto" and offered:
                self._warn(
                    f"modem does not offer codec {self.opts.codec}; using {self.profile.default_codec.kind}"
                )
            codec = self.profile.default_codec
        self.codec = codec
        await self._cmd("AT+FCLASS=0")

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            log.warning("modem %s: %s", self.name, text)

    # ---------------------------------------------------------------- faults

    def _lost_call(self) -> None:
        if self.offhook and not self._hangup_reported:
            self._events.append(Loop(self.spec.id, current=False))
        self.offhook = False
        self._hangup_reported = False
        self._ringing = False
        self._cid.clear()
        self._rxbuf.clear()
        self._tx_pending.clear()
        self._tx_switch = False
        self._actions.clear()

    async def _recover(self, reason: str) -> None:
        """The recovery ladder: +++, ATH0, ATZ, reopen. Ends in service or in state "down"."""
        log.warning("modem %s: wedged (%s); recovering", self.name, reason)
        self.stats["recoveries"] += 1
        self._lost_call()
        self.state = "recovering"
        self._alarm(False, f"modem not answering ({reason})")
        steps: list[tuple[str, Callable[[], Awaitable[bool]]]] = [
            ("+++", self._try_escape),
            ("ATZ", self._try_reset),
            ("reopen", self._try_reopen),
        ]
        for label, step in steps:
            try:
                if await step():
                    await self._initialize()
                    log.warning("modem %s: recovered (%s)", self.name, label)
                    self._alarm(True, "recovered")
                    return
            except _Wedged:
                continue
            except PortVanished:
                return
        log.warning(
            "modem %s: still not answering; will reopen every %.1f s", self.name, self.opts.reopen_interval
        )
        self._close_port()
        self.state = "down"

    async def _try_escape(self) -> bool:
        self._parser.reset()
        self._send_bytes(self.profile.end_rx + self.profile.end_tx)
        await self._sleep(self.opts.guard_time)
        self._send_bytes(b"+++")
        await self._sleep(self.opts.guard_time)
        return await self._ok("ATH0")

    async def _try_reset(self) -> bool:
        return await self._ok("ATZ", self.opts.reset_timeout)

    async def _try_reopen(self) -> bool:
        self._close_port()
        await self._sleep(min(self.opts.reopen_interval, 0.2))
        try:
            self._open_port()
        except OSError:
            return False
        self.stats["reopens"] += 1
        return await self._ok("AT")

    # ================================================================ call actions (worker only)

    async def _enter_voice(self, seize: bool) -> None:
        if not await self._ok("AT+FCLASS=8"):
            raise DriverError("modem refuses voice mode")
        if self.codec is not None:
            await self._ok(self.profile.vsm_command(self.codec))
        await self._ok(self.profile.vsd_off)
        if seize:
            await self._set_vls(self.profile.vls_line)

    async def _set_vls(self, n: int) -> None:
        self._vls_at = self.clock.now()  # the USR's spurious <DLE>H can come with the OK
        if not await self._ok(f"AT+VLS={n}"):
            raise DriverError(f"modem refuses AT+VLS={n}")
        self._vls = n
        self._vls_at = self.clock.now()

    def _connected(self) -> None:
        self.offhook = True
        self._hangup_reported = False
        self._ringing = False
        self._busy = None
        self._rxbuf.clear()
        self._rx_primed = False
        self._tx_pending.clear()
        self.state = "voice"
        self._events.append(Loop(self.spec.id, current=True))

    async def _answer(self) -> None:
        if self.offhook:
            return
        self._finish_cid()
        self._ring_stopped()
        try:
            await self._enter_voice(seize=True)
        except DriverError as e:
            log.error("modem %s: cannot answer: %s", self.name, e)
            await self._back_to_idle()
            self._events.append(Loop(self.spec.id, current=False))
            return
        self._connected()
        await self._start_stream()

    async def _hangup(self) -> None:
        if self.state in ("idle",) and not self.offhook:
            return
        await self._stop_stream()
        self.offhook = False
        await self._back_to_idle()

    async def _back_to_idle(self) -> None:
        self.offhook = False
        self._rxbuf.clear()
        self._tx_pending.clear()
        self._tx_switch = False
        await self._cmd("ATH0")
        await self._cmd("AT+FCLASS=0")
        if self._cid_cmd:
            await self._cmd(self._cid_cmd)  # some modems drop caller ID after a call
        self._vls = 0
        self.state = "idle"
        self._ringing = False

    async def _dial(self, digits: str) -> None:
        await self._stop_stream()
        try:
            await self._enter_voice(seize=False)
        except DriverError as e:
            log.error("modem %s: cannot dial: %s", self.name, e)
            self._events.append(DialResult(self.spec.id, "error"))
            await self._back_to_idle()
            return
        await self._cmd("AT+VRA=40")
        await self._cmd("AT+VRN=25")
        reply = await self._cmd(f"ATD{digits}", self.opts.dial_timeout)
        result = _DIAL_RESULTS.get(reply.code or "ERROR", "error")
        self._events.append(DialResult(self.spec.id, result))
        if result == "answer":
            self._vls = self.profile.vls_line
            self._vls_at = self.clock.now()
            self._connected()
            await self._start_stream()
        else:
            await self._back_to_idle()

    async def _send_dtmf(self, digits: str) -> None:
        resume = self.offhook
        await self._stop_stream()
        for c in self.profile.vts_commands(digits):
            await self._cmd(c, self.opts.command_timeout + 1.0)
        if resume and self.offhook:
            await self._start_stream()

    async def _flash(self, ms: int) -> None:
        if not self.offhook:
            raise DriverError("flash needs a seized line")
        await self._stop_stream()
        await self._set_vls(0)
        await self._sleep(ms / 1000)
        await self._set_vls(self.profile.vls_line)
        await self._start_stream()

    # ---------------------------------------------------------------- streams

    async def _start_stream(self) -> None:
        """Listen: +VTR on a full-duplex modem, else +VRX (records, and keeps the events coming)."""
        if not self.offhook or self.codec is None or self.state != "voice":
            return
        if self.full_duplex:
            if self.profile.vls_record != self._vls:
                await self._set_vls(self.profile.vls_record)
            reply = await self._cmd("AT+VTR", arm_audio=True)
            if reply.code == "CONNECT":
                self.state = "duplex"
                self._last_rx_byte = self.clock.now()
                return
            self._warn("modem refuses +VTR: falling back to half duplex")
            self.opts.full_duplex = False
        if self._tx_pending:
            await self._start_tx()
            return
        if self.profile.vls_record != self._vls:
            await self._set_vls(self.profile.vls_record)
        reply = await self._cmd("AT+VRX", arm_audio=True)
        if reply.code == "CONNECT":
            self.state = "rx"
            self._last_rx_byte = self.clock.now()
        else:
            log.error("modem %s: AT+VRX refused (%s)", self.name, reply.code)

    async def _start_tx(self) -> None:
        reply = await self._cmd("AT+VTX")
        if reply.code != "CONNECT":
            log.error("modem %s: AT+VTX refused (%s)", self.name, reply.code)
            self._tx_pending.clear()
            return
        self.state = "tx"
        if self._tx_pending:
            self._send_bytes(dle.shield(self._tx_pending))
            self._tx_pending.clear()

    async def _stop_stream(self) -> None:
        if self.state == "rx":
            self.state = "voice"
            await self._cmd(self.profile.end_rx)
        elif self.state == "tx":
            self.state = "voice"
            await self._cmd(self.profile.end_tx)
        elif self.state == "duplex":
            self.state = "voice"
            await self._cmd(dle.END_DUPLEX)
        self._parser.disarm_audio()

    async def _switch_to_tx(self) -> None:
        self._tx_switch = False
        if not self.offhook or self.state == "tx" or not self._tx_pending:
            return
        await self._stop_stream()
        await self._start_tx()

    async def _switch_to_rx(self) -> None:
        self._tx_switch = False
        if not self.offhook or self.state != "tx":
            return
        await self._stop_stream()
        await self._start_stream()

    async def _stalled(self) -> None:
        raise _Wedged("no audio from the modem")

    async def _resend_cid(self) -> None:
        if self._cid_cmd and self.state == "idle":
            await self._cmd(self._cid_cmd)

    # ================================================================ tick-side (never blocks)

    def _take_tx(self, now: float, frame: np.ndarray) -> None:
        assert self.codec is not None
        active = bool(np.any(np.abs(frame.astype(np.int32)) > 64))
        if active:
            self._last_tx_active = now
        if self.state == "duplex":
            self._send_bytes(dle.shield(self.codec.encode(frame)))
            return
        if self.state == "tx":
            if self._tx_pending:  # frames that came while the switch was on its way
                self._send_bytes(dle.shield(self._tx_pending))
                self._tx_pending.clear()
            self._send_bytes(dle.shield(self.codec.encode(frame)))
            if not self._tx_switch and now - self._last_tx_active >= self.opts.tx_hangover:
                self._tx_switch = True
                self._queue(self._switch_to_rx)
            return
        if active or self._tx_pending:
            self._tx_pending += self.codec.encode(frame)
            cap = 8000 * self.codec.bytes_per_sample * 2  # 2 s of sound waiting for +VTX at most
            if len(self._tx_pending) > cap:
                del self._tx_pending[: len(self._tx_pending) - cap]
            if not self._tx_switch and self.state in ("rx", "voice"):
                self._tx_switch = True
                self._queue(self._switch_to_tx)

    def _take_rx(self, now: float) -> np.ndarray:
        assert self.codec is not None
        need = FRAME * self.codec.bytes_per_sample
        keep = need * 15  # 300 ms: more means the modem's clock runs fast (or we stalled); drop the oldest
        if len(self._rxbuf) > keep:
            self.stats["rx_dropped"] += len(self._rxbuf) - keep
            del self._rxbuf[: len(self._rxbuf) - keep]
        if not self._rx_primed and len(self._rxbuf) >= need * 3:
            self._rx_primed = True  # 60 ms in hand: USB modems deliver in bursts
        if self._rx_primed and len(self._rxbuf) >= need:
            chunk = bytes(self._rxbuf[:need])
            del self._rxbuf[:need]
        else:
            # late: a frame of silence now, and build up the 60 ms cushion again
            if self._rx_primed:
                self.stats["rx_underruns"] += 1
            self._rx_primed = False
            chunk = self.codec.silence * FRAME
        samples = self.codec.decode(chunk)
        self._soft_busy(samples)
        if now - self._last_rx_byte > self.opts.command_timeout and not any(
            a == self._stalled for a in self._actions
        ):
            self._last_rx_byte = now
            self._queue(self._stalled)
        return samples

    def _soft_busy(self, samples: np.ndarray) -> None:
        enabled = (not self.profile.detects_cn_busy) if self.opts.soft_busy is None else self.opts.soft_busy
        if not enabled or self._busy_failed or self._hangup_reported:
            return
        if self._busy is None:
            try:
                from ccd.dsp.tones import ToneDetector, TonePlan, get_plan

                plan = self.opts.tone_plan
                if not isinstance(plan, TonePlan):
                    try:
                        plan = get_plan(plan or "cn")
                    except ValueError:  # a custom plan name: the daemon passes those as TonePlan
                        plan = get_plan("cn")
                self._busy = ToneDetector(plan)
            except Exception as e:  # the DSP module is optional for a modem
                self._busy_failed = True
                log.warning(
                    "modem %s: no software busy-tone detector (%s); relying on the modem", self.name, e
                )
                return
        for ev in self._busy.process(samples):
            if getattr(ev, "tone", None) in ("busy", "congestion"):
                self._remote_hangup("busy tone (ccd detector)")
                return

    def _timers(self, now: float) -> None:
        if self._ring_off_at is not None and now >= self._ring_off_at:
            self._ring_off_at = None
            self._events.append(Ring(self.spec.id, on=False))
        rec = self._cid.poll(now)
        if rec is not None:
            self._emit_cid(rec)
        if self._ringing and not self.offhook and now - self._last_ring > self.opts.ring_gap:
            self._ringing = False  # the caller gave up
            self._finish_cid()

    # ================================================================ parser events

    def _handle(self, ev: ModemEvent) -> None:
        if isinstance(ev, AudioData):
            if self.state in ("rx", "duplex"):
                self._rxbuf += ev.data
        elif isinstance(ev, ResultCode):
            if self._reply is not None:
                self._reply.code = ev.code
            elif ev.code == "NO CARRIER":
                self._remote_hangup("NO CARRIER")
            else:
                log.debug("modem %s: unsolicited %s", self.name, ev.code)
        elif isinstance(ev, InfoLine):
            if self._reply is not None:
                self._reply.lines.append(ev.text)
            else:
                log.debug("modem %s: unsolicited line %r", self.name, ev.text)
        elif isinstance(ev, RingLine):
            self._on_ring()
        elif isinstance(ev, CidLine):
            self._on_cid_line(ev)
        elif isinstance(ev, DleDtmf):
            self._events.append(HwDtmf(self.spec.id, ev.digit))
        elif isinstance(ev, DleEvent):
            self._on_dle(ev)
        elif isinstance(ev, EndOfData):
            if self.state in ("rx", "duplex"):
                # the modem left the data state by itself: USR and Conexant do that on hang-up
                self.state = "voice"
                self._remote_hangup("end of voice data")
        elif isinstance(ev, Garbage):
            self.stats["garbage_bytes"] += len(ev.raw)
            log.debug("modem %s: garbage on the wire %r", self.name, ev.raw[:64])

    def _on_dle(self, ev: DleEvent) -> None:
        name = ev.name
        line = self.spec.id
        if name == "ring":
            self._on_ring()
        elif name in _HANGUP_DLE:
            self._remote_hangup(f"<DLE>{ev.code} {name}")
        elif name in _TONE_DLE:
            self._events.append(HwTone(line, _TONE_DLE[name]))
        elif name in ("handset_off", "extension_off"):
            if self.profile.spurious_handset_off and self.clock.now() - self._vls_at < 1.0:
                return  # USR says H right after AT+VLS=1
            self._events.append(Hook(line, offhook=True))
        elif name in ("handset_on", "extension_on"):
            self._events.append(Hook(line, offhook=False))
        elif name == "polarity":
            self._events.append(Polarity(line))
        elif name == "unknown":
            self.stats["garbage_bytes"] += 2
        else:
            log.debug("modem %s: <DLE>%s (%s)", self.name, ev.code, name)

    def _remote_hangup(self, reason: str) -> None:
        if not self.offhook or self._hangup_reported:
            return
        self._hangup_reported = True
        log.info("modem %s: far end hung up (%s)", self.name, reason)
        self._events.append(Loop(self.spec.id, current=False))

    def _on_ring(self) -> None:
        if self.offhook:
            return
        now = self.clock.now()
        if not self._ringing:
            self._ringing = True
            self._ring_count = 0
            self._cid_done = False
            self._no_cid_warned = False
        self._ring_count += 1
        self._last_ring = now
        self._ring_stopped()  # rings closer than ring_on: still one off per on
        self._finish_cid()
        if self._ring_count >= 2 and not self._cid_done and self._had_cid and not self._no_cid_warned:
            self._no_cid_warned = True
            log.warning("modem %s: rings without caller ID on a line that had it; re-sending %s", self.name,
                        self._cid_cmd)  # fmt: skip
            self._queue(self._resend_cid)
        self._events.append(Ring(self.spec.id, on=True))
        self._ring_off_at = now + self.opts.ring_on

    def _ring_stopped(self) -> None:
        if self._ring_off_at is not None:
            self._ring_off_at = None
            self._events.append(Ring(self.spec.id, on=False))

    def _on_cid_line(self, line: CidLine) -> None:
        if self.offhook:
            return
        if not self._ringing:  # caller ID before the first ring (polarity-start lines)
            self._ringing = True
            self._ring_count = 0
            self._cid_done = False
            self._last_ring = self.clock.now()
        self._cid.add(line, self.clock.now())

    def _finish_cid(self) -> None:
        rec = self._cid.flush()
        if rec is not None:
            self._emit_cid(rec)

    def _emit_cid(self, rec: CidRecord) -> None:
        if self._cid_done:
            log.info("modem %s: second caller-ID report in one call ignored: %s", self.name, rec.raw)
            return
        self._cid_done = True
        if rec.number or rec.number_absent:
            self._had_cid = True
        if not rec.ok:
            log.warning("modem %s: garbled caller ID %r (%s)", self.name, rec.raw, "; ".join(rec.errors))
        self._events.append(
            HwCallerId(
                self.spec.id,
                number=rec.number,
                name=rec.name,
                datetime=rec.datetime,
                number_absent=rec.number_absent,
                raw=rec.raw,
                ok=rec.ok,
            )
        )

    def _check_line(self, line: str) -> None:
        if line != self.spec.id:
            raise UnsupportedCommand(f"modem {self.name} has no line {line!r} (it serves {self.spec.id!r})")
