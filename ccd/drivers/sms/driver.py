"""The SMS driver: a GSM/4G module (Quectel, SIMCom, Huawei sticks...) over AT commands in PDU mode.

The async shell around the pure `pdu` and `at` modules:

* the port is a path or a USB `vid:pid`, read with `loop.add_reader`, written without
  blocking; one worker task owns the AT conversation, one command in flight at a time
  (both from `ccd.drivers.serialport`, shared with the voice modem);
* set-up: `AT`, `ATE0`, `AT+CMEE=1`, `AT+CPIN?` (entering the configured PIN; "SIM busy"
  right after power-up is waited out), `AT+CMGF=0`, `AT+CNMI=2,1,0,1,0` (new messages are
  stored and announced with `+CMTI`; delivery reports come as `+CDS`), `AT+CLIP=1`; then
  the messages that arrived while ccd was away are read (`AT+CMGL=4`) and deleted;
* sending: `AT+CMGS=<octets>`, wait for `> `, the PDU in hex and Ctrl-Z, `+CMGS: <mr>`;
  long texts go as concatenated parts; each part's message reference is kept so the
  delivery report (`+CDS`, or a stored one announced by `+CDSI`) marks it delivered;
* receiving: `+CMTI` -> `AT+CMGR` -> decode -> reassemble parts in any order ->
  `SmsReceived`; then `AT+CMGD`, so the SIM never fills up;
* voice calls on the module, if any: `RING` -> `Ring`, `+CLIP` -> `HwCallerId` (only on a
  configured line; an SMS-only driver just logs who called);
* a vanished device (read error, EOF) is `LineAlarm(ok=False)`, reopened every
  `reopen_interval`, set up again, then `LineAlarm(ok=True)`.

The daemon's `tick()` collects events; `send()` is the awaitable way to send (the socket's
`sms.send` uses it to tell the user at once when the network refuses); `command(SendSms)`
is the fire-and-forget way. `recent()` is the in-memory list behind `sms.list`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ccd.clock import Clock, RealClock
from ccd.drivers.base import (
    Capabilities,
    DeviceCommand,
    DriverError,
    DriverTick,
    DriverUnavailable,
    HwCallerId,
    LineSpec,
    Ring,
    SendSms,
    SmsReceived,
    UnsupportedCommand,
)
from ccd.drivers.common import AlarmLatch, options_from_dict
from ccd.drivers.serialport import PortVanished, SerialDriver
from ccd.drivers.sms import pdu
from ccd.drivers.sms.at import (
    SIM_BUSY,
    AtEvent,
    AtParser,
    Clip,
    Final,
    Garbage,
    Info,
    NewMessage,
    NoCarrier,
    PduRecord,
    Prompt,
    RingIndication,
)

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"


class SmsError(DriverError):
    """The module or the network refused a message; the text says why (e.g. `+CMS ERROR: 500`)."""


class _Timeout(Exception):
    pass


@dataclass(slots=True)
class SmsOptions:
    """`[[drivers]]` options of an SMS modem; the config schema has port/baud/pin, the rest are tuning."""

    port: str = ""
    baud: int = 115200
    pin: str = ""
    smsc: str = ""  # service centre number; empty: the one stored on the SIM
    cnmi: str = "AT+CNMI=2,1,0,1,0"  # some modules want 2,1,0,2,0 (reports stored, +CDSI)
    status_report: bool = True  # ask the network for delivery reports
    clip: bool = True  # AT+CLIP=1: caller ID of voice calls on the module
    command_timeout: float = 3.0
    send_timeout: float = 30.0  # AT+CMGS can take this long on a slow network
    sim_busy_wait: float = 1.0  # after "SIM busy", try again this much later
    sim_busy_tries: int = 15
    reopen_interval: float = 2.0
    reassembly_timeout: float = 600.0  # give up on missing parts of a long message after this
    keep: int = 200  # messages kept in memory for sms.list
    ring_on: float = 1.0
    clock: Any = None
    tone_plan: Any = None  # passed to every driver by the daemon; unused here

    @classmethod
    def from_dict(cls, name: str, options: dict[str, Any]) -> SmsOptions:
        opts = options_from_dict(cls, "sms", name, options)
        if not opts.port:
            raise DriverUnavailable(f"sms {name}: no port (a device path such as /dev/ttyUSB2, or vid:pid)")
        if opts.pin and not opts.pin.isdigit():
            raise DriverUnavailable(f"sms {name}: pin must be digits only")
        return opts


@dataclass
class Outgoing:
    """One message we sent (maybe in several parts), and what became of it."""

    id: str
    to: str
    text: str
    at: float
    parts: int = 1
    references: list[int] = field(default_factory=list)  # +CMGS message reference per part
    status: str = "queued"  # queued | sent | delivered | failed | pending
    error: str = ""
    delivered_parts: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": "out",
            "id": self.id,
            "to": self.to,
            "text": self.text,
            "at": self.at,
            "parts": self.parts,
            "references": list(self.references),
            "status": self.status,
            "error": self.error,
        }


class SmsDriver(SerialDriver):
    """One GSM/4G module: SMS in and out, caller ID of voice calls if a line is configured."""

    KIND: ClassVar[str] = "sms"
    _NOT_READY: ClassVar[tuple[type[BaseException], ...]] = (_Timeout, PortVanished, SmsError)

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        if len(self.lines) > 1:
            raise DriverUnavailable(f"sms {name}: a module carries one line at most, {len(self.lines)} given")
        self.opts = SmsOptions.from_dict(name, self.options)
        self.clock: Clock = self.opts.clock or RealClock()
        self.line_id = self.lines[0].id if self.lines else name
        self.identity: dict[str, str] = {}
        self.state = "closed"  # closed | ready | down
        self.stats = {"garbage_bytes": 0, "received": 0, "sent": 0, "failed": 0, "reopens": 0, "bad_pdus": 0}
        self._parser = AtParser()
        self._latch = AlarmLatch(self.line_id)
        self._reply: list[AtEvent] | None = None
        self._reply_done: asyncio.Event | None = None
        self._prompt: asyncio.Event | None = None
        self._reasm = pdu.Reassembler(self.opts.reassembly_timeout)
        self._recent: deque[dict[str, Any]] = deque(maxlen=max(1, self.opts.keep))
        self._outgoing: dict[str, Outgoing] = {}
        self._by_mr: dict[int, tuple[Outgoing, int]] = {}
        self._ids = itertools.count(1)
        self._concat_ref = 0
        self._ring_off_at: float | None = None
        self._last_ring = -1e9
        self._clip_done = False
        self._waiting: set[asyncio.Future[None]] = set()

    # ================================================================ Driver API

    async def close(self) -> None:
        await self._stop_worker()
        for fut in self._waiting:
            if not fut.done():
                fut.set_exception(SmsError("not sent: the SMS driver was stopped"))
        self._close_port()
        self.state = "closed"

    def capabilities(self, line: str) -> Capabilities:
        if line != self.line_id:
            raise UnsupportedCommand(f"sms {self.name} has no line {line!r}")
        return Capabilities(
            audio=False,
            play=False,
            record=False,
            full_duplex=False,
            hook_control=False,
            switching=False,
            hw_caller_id=True,
            sms=True,
        )

    def command(self, cmd: DeviceCommand) -> None:
        if not isinstance(cmd, SendSms):
            raise UnsupportedCommand(
                f"sms {self.name}: cannot do {type(cmd).__name__} (SMS and caller ID only)"
            )
        msg = self._new_outgoing(cmd.to, cmd.text, cmd.ref)

        async def job() -> None:
            with contextlib.suppress(SmsError):
                await self._send(msg)

        self._queue(job)

    async def send(self, to: str, text: str, ref: str = "") -> dict[str, Any]:
        """Send now and wait: returns the message record, raises SmsError with the module's reason."""
        msg = self._new_outgoing(to, text, ref)
        if self.state != "ready":
            self._failed(msg, "the SMS modem is out of service")
            raise SmsError(f"not sent: {msg.error}")
        assert self._loop is not None
        fut: asyncio.Future[None] = self._loop.create_future()
        self._waiting.add(fut)

        async def job() -> None:
            try:
                await self._send(msg)
            except SmsError as e:
                if not fut.done():
                    fut.set_exception(e)
                return
            except BaseException as e:
                if not fut.done():
                    fut.set_exception(SmsError(f"not sent: {e or type(e).__name__}"))
                raise
            if not fut.done():
                fut.set_result(None)

        self._queue(job)
        try:
            await fut
        finally:
            self._waiting.discard(fut)
        return msg.as_dict()

    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        now = self.clock.now()
        if self._ring_off_at is not None and now >= self._ring_off_at:
            self._ring_off_at = None
            self._events.append(Ring(self.line_id, on=False))
        if now - self._last_ring > 8.0:
            self._clip_done = False
        for msg in self._reasm.expire(now):
            log.warning("sms %s: message from %s incomplete after %.0f s; delivering what came", self.name,
                        msg.sender, self.opts.reassembly_timeout)  # fmt: skip
            self._deliver(msg)
        events, self._events = self._events, []
        return DriverTick(events, None)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first: incoming and outgoing messages kept in memory."""
        items = [m.as_dict() if isinstance(m, Outgoing) else dict(m) for m in reversed(self._recent)]
        return items[:limit]

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(
            port=self.opts.port,
            device=self.device_path,
            identity=dict(self.identity),
            state=self.state,
            stats=dict(self.stats),
            pending_parts=self._reasm.pending,
        )
        return d

    # ================================================================ port faults

    def _device_lost(self, why: str) -> str:
        for waiting in (self._reply_done, self._prompt):
            if waiting is not None:
                waiting.set()  # the command in flight sees the port gone at once
        return f"SMS modem vanished ({why})"

    # ================================================================ what the module says

    def _handle(self, ev: AtEvent) -> None:
        if isinstance(ev, Garbage):
            self.stats["garbage_bytes"] += len(ev.raw)
            log.debug("sms %s: garbage on the wire %r", self.name, ev.raw[:64])
        elif isinstance(ev, Prompt):
            if self._prompt is not None:
                self._prompt.set()
        elif isinstance(ev, NewMessage):
            self._queue(lambda: self._read_one(ev.index, ev.storage))
        elif isinstance(ev, PduRecord) and ev.kind == "cds":
            self._on_pdu(ev.pdu, None)
        elif isinstance(ev, RingIndication):
            self._on_ring()
        elif isinstance(ev, Clip):
            self._on_clip(ev)
        elif isinstance(ev, NoCarrier) and self._reply is None:
            self._clip_done = False
        elif self._reply is not None:
            self._reply.append(ev)
            if isinstance(ev, Final) and self._reply_done is not None:
                self._reply_done.set()
        elif isinstance(ev, Info):
            log.debug("sms %s: unsolicited %r", self.name, ev.line)

    def _on_ring(self) -> None:
        now = self.clock.now()
        self._last_ring = now
        if not self.lines:
            return
        if self._ring_off_at is not None:
            self._events.append(Ring(self.line_id, on=False))
        self._events.append(Ring(self.line_id, on=True))
        self._ring_off_at = now + self.opts.ring_on

    def _on_clip(self, clip: Clip) -> None:
        self._last_ring = self.clock.now()
        if self._clip_done:
            return  # +CLIP repeats after every RING
        self._clip_done = True
        absent = {1: "P", 2: "O"}.get(clip.validity or 0)
        number = clip.number or None
        if not self.lines:
            log.info("sms %s: voice call from %s (no line configured on this module)", self.name,
                     number or absent or "unknown")  # fmt: skip
            return
        self._events.append(
            HwCallerId(
                self.line_id,
                number=number if not absent else None,
                name=clip.name or None,
                number_absent=absent if absent or number else "O",
                raw=clip.raw,
            )
        )

    # ================================================================ commands (worker only)

    async def _cmd(self, command: str, timeout: float | None = None) -> tuple[Final, list[AtEvent]]:
        if not self._port.is_open:
            raise PortVanished("port closed")
        self._reply = []
        self._reply_done = asyncio.Event()
        self._send_bytes(command.encode("ascii") + b"\r")
        try:
            await self._wait(self._reply_done, timeout or self.opts.command_timeout, command)
        finally:
            reply, self._reply = self._reply, None
        if self._port.vanished:
            raise PortVanished(command)
        final = next(e for e in reply if isinstance(e, Final))
        log.debug("sms %s: %s -> %s", self.name, command, final.describe())
        return final, [e for e in reply if not isinstance(e, Final)]

    async def _wait(self, event: asyncio.Event, timeout: float, what: str) -> None:
        """Wait for `event` until `timeout` seconds of the injected clock have passed."""
        deadline = self.clock.now() + timeout
        while not event.is_set():
            if self._port.vanished:
                raise PortVanished(what)
            if self.clock.now() >= deadline:
                raise _Timeout(f"no answer to {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 0.02)

    async def _must(self, command: str) -> list[AtEvent]:
        """A set-up command that has to work; "SIM busy" (right after power-up) is waited out."""
        for _ in range(max(1, self.opts.sim_busy_tries)):
            final, lines = await self._cmd(command)
            if final.ok:
                return lines
            if (final.result, final.code) in SIM_BUSY:
                log.info("sms %s: SIM busy on %s; waiting", self.name, command)
                await self._sleep(self.opts.sim_busy_wait)
                continue
            raise SmsError(f"{command} refused: {final.describe()}")
        raise SmsError(f"{command}: SIM still busy after {self.opts.sim_busy_tries} tries")

    async def _initialize(self) -> None:
        self._send_bytes(ESC)  # cancel a half-typed AT+CMGS left by a crash
        for attempt in range(3):
            try:
                final, _ = await self._cmd("AT")
                if final.ok:
                    break
            except _Timeout:
                if attempt == 2:
                    raise
        await self._cmd("ATE0")
        await self._cmd("AT+CMEE=1")
        await self._unlock_sim()
        await self._must("AT+CMGF=0")
        final, _ = await self._cmd(self.opts.cnmi)
        if not final.ok:
            log.warning("sms %s: %s refused (%s); trying AT+CNMI=2,1,0,2,0", self.name, self.opts.cnmi,
                        final.describe())  # fmt: skip
            final, _ = await self._cmd("AT+CNMI=2,1,0,2,0")
            if not final.ok:
                raise SmsError(f"module refuses new-message indications ({final.describe()})")
        if self.opts.clip:
            await self._cmd("AT+CLIP=1")
        if not self.identity:
            for key, command in (("manufacturer", "AT+CGMI"), ("model", "AT+CGMM")):
                final, lines = await self._cmd(command)
                if final.ok:
                    self.identity[key] = " ".join(e.line for e in lines if isinstance(e, Info))
        self.state = "ready"
        log.info("sms %s ready on %s (%s)", self.name, self.device_path,
                 " ".join(self.identity.values()) or "unknown module")  # fmt: skip

    async def _unlock_sim(self) -> None:
        lines = await self._must("AT+CPIN?")
        status = next((e.line.split(":", 1)[1].strip() for e in lines if isinstance(e, Info)
                       and e.line.startswith("+CPIN:")), "READY")  # fmt: skip
        if status == "READY":
            return
        if status == "SIM PIN":
            if not self.opts.pin:
                raise SmsError('the SIM needs its PIN: set pin = "...." in ccd.toml')
            final, _ = await self._cmd(f'AT+CPIN="{self.opts.pin}"')
            if not final.ok:
                raise SmsError(f"the SIM refused the PIN ({final.describe()}); check pin in ccd.toml "
                               "before the SIM locks itself")  # fmt: skip
            await self._must("AT+CPIN?")
            return
        raise SmsError(f"the SIM is locked ({status}): unlock it in a phone first")

    # ---------------------------------------------------------------- sending

    def _new_outgoing(self, to: str, text: str, ref: str) -> Outgoing:
        try:
            pdu.encode_address(to)
        except pdu.PduError as e:
            raise SmsError(str(e)) from None
        if not text:
            raise SmsError("an SMS needs some text")
        msg = Outgoing(ref or f"{self.name}-{next(self._ids)}", to, text, self.clock.wall())
        self._outgoing[msg.id] = msg
        self._recent.append(msg)  # type: ignore[arg-type]
        return msg

    async def _send(self, msg: Outgoing) -> None:
        self._concat_ref = (self._concat_ref + 1) % 256
        try:
            parts = pdu.encode_submit(msg.to, msg.text, ref=self._concat_ref, smsc=self.opts.smsc or None,
                                      status_report=self.opts.status_report)  # fmt: skip
        except pdu.PduError as e:
            self._failed(msg, str(e))
            raise SmsError(str(e)) from None
        msg.parts = len(parts)
        if self.state != "ready" or not self._port.is_open:
            self._failed(msg, "the SMS modem is out of service")
            raise SmsError(msg.error)
        for i, part in enumerate(parts, 1):
            try:
                mr = await self._send_part(part)
            except SmsError as e:
                self._failed(msg, f"part {i}/{len(parts)}: {e}" if len(parts) > 1 else str(e))
                raise SmsError(msg.error) from None
            except (_Timeout, PortVanished) as e:
                self._failed(msg, f"no answer from the module ({e})")
                raise SmsError(msg.error) from None
            msg.references.append(mr)
            if mr >= 0:
                self._by_mr[mr] = (msg, i)
        msg.status = "sent"
        self.stats["sent"] += 1
        log.info("sms %s: sent %s to %s in %d part(s), references %s", self.name, msg.id, msg.to, msg.parts,
                 msg.references)  # fmt: skip

    def _failed(self, msg: Outgoing, why: str) -> None:
        msg.status, msg.error = "failed", why
        self.stats["failed"] += 1
        log.warning("sms %s: message %s to %s not sent: %s", self.name, msg.id, msg.to, why)

    async def _send_part(self, part: pdu.Submit) -> int:
        self._prompt = asyncio.Event()
        self._reply = []
        self._reply_done = asyncio.Event()
        try:
            self._send_bytes(f"AT+CMGS={part.tpdu_len}\r".encode())
            waiter = asyncio.ensure_future(self._first_of(self._prompt, self._reply_done))
            try:
                await self._wait_future(waiter, self.opts.command_timeout, "AT+CMGS")
            except _Timeout:
                self._send_bytes(ESC)  # leave the prompt, or the next command becomes the PDU
                raise
            if self._reply_done.is_set():  # refused before the prompt
                final = next(e for e in self._reply if isinstance(e, Final))
                raise SmsError(final.describe())
            self._send_bytes(part.hex.encode() + CTRL_Z)
            await self._wait(self._reply_done, self.opts.send_timeout, "the PDU")
            final = next(e for e in self._reply if isinstance(e, Final))
            if not final.ok:
                raise SmsError(final.describe())
            for e in self._reply:
                if isinstance(e, Info) and e.line.startswith("+CMGS:"):
                    with contextlib.suppress(ValueError):
                        return int(e.line.split(":", 1)[1].split(",")[0])
            return -1
        finally:
            self._reply = None
            self._prompt = None

    @staticmethod
    async def _first_of(a: asyncio.Event, b: asyncio.Event) -> None:
        while not (a.is_set() or b.is_set()):
            await asyncio.sleep(0.005)

    async def _wait_future(self, fut: asyncio.Future[None], timeout: float, what: str) -> None:
        deadline = self.clock.now() + timeout
        try:
            while not fut.done():
                if self._port.vanished:
                    raise PortVanished(what)
                if self.clock.now() >= deadline:
                    raise _Timeout(f"no answer to {what}")
                await asyncio.sleep(0.005)
        finally:
            fut.cancel()

    # ---------------------------------------------------------------- receiving

    async def _read_stored(self) -> None:
        """Messages that arrived while ccd was not listening: read all, then delete them."""
        final, lines = await self._cmd("AT+CMGL=4", self.opts.send_timeout)
        if not final.ok:
            log.debug("sms %s: AT+CMGL=4 -> %s", self.name, final.describe())
            return
        for rec in lines:
            if isinstance(rec, PduRecord):
                self._on_pdu(rec.pdu, rec.index)
                if rec.index is not None:
                    await self._cmd(f"AT+CMGD={rec.index}")

    async def _read_one(self, index: int, storage: str) -> None:
        final, lines = await self._cmd(f"AT+CMGR={index}")
        if not final.ok:
            log.warning(
                "sms %s: cannot read message %d in %s: %s", self.name, index, storage, final.describe()
            )
            return
        for rec in lines:
            if isinstance(rec, PduRecord):
                self._on_pdu(rec.pdu, index)
        final, _ = await self._cmd(f"AT+CMGD={index}")
        if not final.ok:
            log.warning("sms %s: cannot delete message %d: %s", self.name, index, final.describe())

    def _on_pdu(self, hexpdu: str, index: int | None) -> None:
        try:
            msg = pdu.decode(hexpdu)
        except pdu.PduError as e:
            self.stats["bad_pdus"] += 1
            log.warning("sms %s: unreadable PDU at index %s (%s): %s", self.name, index, e, hexpdu)
            return
        if isinstance(msg, pdu.Deliver):
            whole = self._reasm.add(msg, self.clock.now())
            if whole is not None:
                self._deliver(whole)
        elif isinstance(msg, pdu.StatusReport):
            self._on_report(msg)
        else:
            log.debug("sms %s: ignoring a stored outgoing message at index %s", self.name, index)

    def _deliver(self, msg: pdu.Message) -> None:
        self.stats["received"] += 1
        record = {
            "direction": "in",
            "id": f"{self.name}-in-{next(self._ids)}",
            "from": msg.sender,
            "text": msg.text,
            "at": self.clock.wall(),
            "sent_at": msg.timestamp.unix(),
            "parts": msg.parts,
            "complete": msg.complete,
        }
        self._recent.append(record)
        log.info("sms %s: message from %s (%d part(s))", self.name, msg.sender, msg.parts)
        self._events.append(
            SmsReceived(
                self.line_id,
                sender=msg.sender,
                text=msg.text,
                at=msg.timestamp.unix(),
                extra={"driver": self.name, "id": record["id"], "parts": msg.parts, "complete": msg.complete},
            )
        )

    def _on_report(self, rep: pdu.StatusReport) -> None:
        found = self._by_mr.get(rep.reference)
        if found is None:
            log.info(
                "sms %s: delivery report for unknown reference %d (%s)", self.name, rep.reference, rep.state
            )
            return
        msg, part = found
        if rep.state == "delivered":
            msg.delivered_parts.add(part)
            del self._by_mr[rep.reference]
            if len(msg.delivered_parts) == msg.parts:
                msg.status = "delivered"
        elif rep.state == "failed":
            del self._by_mr[rep.reference]
            msg.status, msg.error = "failed", f"network reports status 0x{rep.status:02X} for part {part}"
        else:
            msg.status = "pending" if msg.status != "delivered" else msg.status
        log.info(
            "sms %s: message %s part %d: %s (status 0x%02X)", self.name, msg.id, part, rep.state, rep.status
        )

    # ================================================================ worker

    def _in_service(self) -> None:
        self._queue(self._read_stored)  # what came while ccd was away (or the module was)

    async def _worker_error(self, e: Exception) -> bool:
        if isinstance(e, _Timeout):
            log.warning("sms %s: %s; checking the module", self.name, e)
            await self._check_alive()
            return True
        if isinstance(e, PortVanished | SmsError):
            log.debug("sms %s: %s", self.name, e)
            return True
        return False

    async def _check_alive(self) -> None:
        self._send_bytes(ESC)
        try:
            final, _ = await self._cmd("AT")
            if final.ok:
                return
        except (_Timeout, PortVanished):
            pass
        self._close_port()
        self.state = "down"
        self._alarm(False, "SMS modem not answering")
