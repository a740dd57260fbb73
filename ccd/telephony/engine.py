"""The call engine: lines, calls and their records (sans-IO).

It takes what the lines report (driver events, and what the soft DSP heard in their
audio) plus the time, and decides what happens: which phones ring, who is bridged to
whom, what is played, when a call ends and with which disposition. It performs nothing
itself: driver commands, bus events and store writes go to `outbox` as actions that the
daemon applies, and audio decisions go to the `Media` switch (pure numpy).

One `Call` per customer call, with its ordered legs (FEATURES.md pain point 7: CDRs that
nobody can read after transfers). CDR fields follow Asterisk: start, answer, end,
duration, billsec, src, dst, channel, dstchannel, disposition, uniqueid, linkedid.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccd.drivers import base as dev
from ccd.drivers.base import LineKind
from ccd.telephony.apps import AppFactory, CallApp
from ccd.telephony.line import IllegalTransition, Line, LineState
from ccd.telephony.media import BufferSource, LoopSource, Media
from ccd.telephony.router import Router

log = logging.getLogger(__name__)
S = LineState

RING_GONE_AFTER = 6.5  # no ring for this long after a ring ended: the caller gave up
CID_WAIT_RINGS = 2  # offer without caller ID when this ring starts and none was decoded
FIRST_DIGIT_TIMEOUT = 15.0
INTER_DIGIT_TIMEOUT = 4.0
DIALTONE_WAIT = 3.0  # dial blind if no dial tone is recognised within this
OUTBOUND_NO_ANSWER = 60.0

ANSWERED, NO_ANSWER, BUSY, FAILED, CONGESTION = "ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"


# ---------------------------------------------------------------- actions (the outbox)


@dataclass(frozen=True, slots=True)
class DriverCommand:
    driver: str
    command: dev.DeviceCommand


@dataclass(frozen=True, slots=True)
class Publish:
    name: str
    data: dict[str, Any]
    key: str | None = None
    coalesce: bool = False


@dataclass(frozen=True, slots=True)
class Persist:
    op: str  # call_begin | call_answer | call_finish | leg_add | leg_update | journal
    args: dict[str, Any]


Action = DriverCommand | Publish | Persist


# ---------------------------------------------------------------- calls


@dataclass
class Leg:
    seq: int
    line: str
    kind: str  # trunk | extension
    role: str  # caller | callee | offered
    start: float
    answer: float | None = None
    end: float | None = None
    disposition: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "channel": self.line,
            "kind": self.kind,
            "role": self.role,
            "start": self.start,
            "answer": self.answer,
            "end": self.end,
            "disposition": self.disposition,
        }


@dataclass
class Call:
    uniqueid: str
    linkedid: str
    direction: str  # in | out | internal
    start: float  # wall time
    started_mono: float
    src: str = ""
    dst: str = ""
    clid: str = ""
    caller_name: str | None = None
    location: str | None = None
    channel: str = ""  # the line the call came in on / started from
    dstchannel: str = ""
    trunk: str | None = None
    answer: float | None = None
    end: float | None = None
    disposition: str | None = None
    legs: list[Leg] = field(default_factory=list)
    lines: set[str] = field(default_factory=set)  # lines taking part now
    offered: set[str] = field(default_factory=set)  # extensions ringing for it
    cid_ok: bool | None = None
    cid_format: str | None = None
    outcome: str = ""  # what the far end did (busy, congestion...) before the end
    number_to_dial: str = ""
    ringback_heard: bool = False
    persisted: bool = False  # its call_begin has gone to the store
    app: CallApp | None = None  # the application deciding what happens (IVR, queue...)
    timers: dict[str, float] = field(default_factory=dict)  # tag -> due (engine clock)
    vars: dict[str, Any] = field(default_factory=dict)  # IVR variables, queue data, language...
    lang: str = "zh"
    agent: str | None = None
    queue: str | None = None

    def leg(self, line: str) -> Leg | None:
        return next((leg for leg in reversed(self.legs) if leg.line == line), None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "call": self.uniqueid,
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "direction": self.direction,
            "state": "ended" if self.end else ("up" if self.answer else "ringing"),
            "start": self.start,
            "answer": self.answer,
            "end": self.end,
            "src": self.src,
            "dst": self.dst,
            "caller_name": self.caller_name,
            "location": self.location,
            "channel": self.channel,
            "dstchannel": self.dstchannel,
            "trunk": self.trunk,
            "lines": sorted(self.lines),
            "offered": sorted(self.offered),
            "disposition": self.disposition,
            "app": self.app.snapshot() if self.app else None,
            "agent": self.agent,
            "queue": self.queue,
        }

    def cdr(self) -> dict[str, Any]:
        end = self.end or self.start
        return {
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "direction": self.direction,
            "start": self.start,
            "answer": self.answer,
            "end": self.end,
            "duration": round(end - self.start, 3),
            "billsec": round(end - self.answer, 3) if self.answer else 0.0,
            "src": self.src,
            "dst": self.dst,
            "clid": self.clid,
            "caller_name": self.caller_name,
            "location": self.location,
            "channel": self.channel,
            "dstchannel": self.dstchannel,
            "trunk": self.trunk,
            "disposition": self.disposition,
            "legs": [leg.as_dict() for leg in self.legs],
        }


# ---------------------------------------------------------------- the engine


class Engine:
    """Owns every line's state and every live call."""

    def __init__(
        self,
        lines: dict[str, Line],
        media: Media,
        router: Router,
        *,
        wall: Callable[[], float],
        tones: Callable[[str], np.ndarray] | None = None,
        dtmf: Callable[[str], np.ndarray] | None = None,
        locate: Callable[[str], str | None] | None = None,
        answer_timeout: float = 45.0,
    ) -> None:
        self.lines = lines
        self.media = media
        self.router = router
        self.wall = wall
        self.tones = tones  # tone name -> one cadence cycle of audio
        self.dtmf = dtmf  # digits -> audio
        self.locate = locate or (lambda number: None)
        self.answer_timeout = answer_timeout
        self.calls: dict[str, Call] = {}
        self.apps: dict[str, AppFactory] = {}
        # consulted when a call's caller ID is known, before any phone rings (call firewall,
        # VIP lists): return (kind, target) to route the call there instead, or None
        self.screeners: list[Callable[[Call], tuple[str, str | None] | None]] = []
        self.prompts: Any = None  # ccd.telephony.prompts.PromptLibrary, set by the daemon
        self.outbox: list[Action] = []
        self.now = 0.0
        self._seq = itertools.count(1)
        self._by_ext = {
            line.spec.number or line.id: line for line in lines.values() if line.kind is LineKind.EXTENSION
        }
        for line in lines.values():
            if line.kind is LineKind.EXTENSION:
                self._by_ext.setdefault(line.id, line)

    # ------------------------------------------------------------------ helpers
    def _emit(self, name: str, data: dict[str, Any], key: str | None = None, coalesce: bool = False) -> None:
        self.outbox.append(Publish(name, data, key, coalesce))

    def _cmd(self, line: Line, command: dev.DeviceCommand) -> None:
        self.outbox.append(DriverCommand(line.driver, command))

    def _fire(self, line: Line, trigger: str) -> bool:
        try:
            transition = line.fire(trigger, self.now)
        except IllegalTransition as exc:
            log.warning("%s", exc)
            return False
        data = line.snapshot()
        data.update(old=transition.old.value, new=transition.new.value, trigger=trigger)
        self._emit("line.changed", data, key=line.id, coalesce=True)
        return True

    def _new_call(self, direction: str, channel: Line) -> Call:
        wall = self.wall()
        uid = f"{wall:.0f}.{next(self._seq)}"
        call = Call(uid, uid, direction, wall, self.now, channel=channel.id)
        self.calls[uid] = call
        return call

    def _add_leg(self, call: Call, line: Line, role: str) -> Leg:
        leg = Leg(len(call.legs) + 1, line.id, line.kind.value, role, self.wall())
        call.legs.append(leg)
        call.lines.add(line.id)
        line.call_id = call.uniqueid
        if call.persisted:
            self.outbox.append(Persist("leg_add", {"uniqueid": call.uniqueid, **leg.as_dict()}))
        return leg

    def _begin(self, call: Call) -> None:
        """Record the call's start (and the legs it already has), and tell the clients."""
        self.outbox.append(Persist("call_begin", call.cdr()))
        call.persisted = True
        for leg in call.legs:
            self.outbox.append(Persist("leg_add", {"uniqueid": call.uniqueid, **leg.as_dict()}))
            if leg.answer is not None or leg.end is not None:
                self.outbox.append(Persist("leg_update", {"uniqueid": call.uniqueid, **leg.as_dict()}))
        self._emit("call.new", call.snapshot(), key=call.uniqueid)

    def _end_leg(self, call: Call, line: Line, disposition: str) -> None:
        leg = call.leg(line.id)
        if leg is not None and leg.end is None:
            leg.end = self.wall()
            leg.disposition = disposition
            if call.persisted:
                self.outbox.append(Persist("leg_update", {"uniqueid": call.uniqueid, **leg.as_dict()}))
        call.lines.discard(line.id)

    def _play_tone(self, line: Line, tone: str) -> None:
        if self.tones is not None and line.caps.play:
            self.media.play(line.row, LoopSource(self.tones(tone)), tag=f"tone:{tone}", replace=True)

    def _stop_audio(self, line: Line) -> None:
        self.media.stop(line.row)

    def call_of(self, line: Line) -> Call | None:
        return self.calls.get(line.call_id) if line.call_id else None

    # ------------------------------------------------------------------ device events
    def handle_device(self, event: dev.DeviceEvent, now: float) -> None:
        self.now = now
        line = self.lines.get(event.line)
        if line is None:
            log.warning("event for unknown line %s: %r", event.line, event)
            return
        if isinstance(event, dev.Ring):
            self._on_ring(line, event.on)
        elif isinstance(event, dev.Hook):
            if line.kind is LineKind.EXTENSION:
                self._on_ext_hook(line, event.offhook)
            else:
                self._on_passthrough_hook(line, event.offhook)
        elif isinstance(event, dev.HwCallerId):
            self._on_caller_id(
                line, event.number, event.name, event.number_absent, "hw", event.ok, event.raw, event.datetime
            )
        elif isinstance(event, dev.HwDtmf):
            self.handle_digit(line.id, event.digit, now)
        elif isinstance(event, dev.HwTone):
            self.handle_tone(line.id, event.tone, now)
        elif isinstance(event, dev.Loop):
            if not event.current:
                self._on_far_hangup(line, "loop drop")
        elif isinstance(event, dev.DialResult):
            self._on_dial_result(line, event.result)
        elif isinstance(event, dev.LineAlarm):
            self._on_alarm(line, event.ok, event.reason)

    # ------------------------------------------------------------------ inbound
    def _on_ring(self, line: Line, on: bool) -> None:
        if line.kind is not LineKind.TRUNK:
            return
        if not on:
            line.last_ring_at = self.now
            return
        line.last_ring_at = self.now
        if line.state is S.IDLE:
            self._fire(line, "ring")
            line.rings = 1
            call = self._new_call("in", line)
            call.trunk = line.id
            call.dst = line.spec.number or line.id
            self._add_leg(call, line, "caller")
            self._begin(call)
            if line.caller_number or line.caller_name:  # DTMF caller ID came before the ring
                self._apply_cid(call, line)
                self._offer(line, call)
            elif line.spec.cid == "none":
                self._offer(line, call)
            return
        if line.state in (S.RINGING, S.WAIT_ANSWER):
            line.rings += 1
            call = self.call_of(line)
            if call is not None and line.state is S.RINGING and line.rings >= CID_WAIT_RINGS:
                if call.cid_ok is None:
                    self._emit(
                        "alert.no_cid",
                        {
                            "line": line.id,
                            "call": call.uniqueid,
                            "message": f"line {line.id} rings without caller ID",
                        },
                        key=line.id,
                    )
                self._offer(line, call)

    def handle_caller_id(self, line_id: str, cid: Any, now: float) -> None:
        """A caller-ID message decoded by the soft DSP (ccd.dsp.callerid.CallerId)."""
        self.now = now
        line = self.lines.get(line_id)
        if line is None:
            return
        ok = bool(getattr(cid, "checksum_ok", True))
        raw = getattr(cid, "raw", b"")
        self._on_caller_id(
            line,
            cid.number,
            cid.name,
            cid.number_absent,
            cid.format,
            ok,
            raw.hex() if isinstance(raw, bytes | bytearray) else str(raw),
            cid.datetime,
        )

    def _on_caller_id(
        self,
        line: Line,
        number: str | None,
        name: str | None,
        absent: str | None,
        fmt: str,
        ok: bool,
        raw: str,
        datetime: str | None,
    ) -> None:
        data = {
            "line": line.id,
            "number": number,
            "name": name,
            "absent": absent,
            "format": fmt,
            "checksum_ok": ok,
            "raw": raw,
            "datetime": datetime,
        }
        if not ok:
            # a garbled frame is logged and the call still rings (offered at the 2nd ring)
            log.warning("line %s: garbled caller ID (%s) raw=%s", line.id, fmt, raw)
            self._emit("call.cid_error", data, key=line.id)
            call = self.call_of(line)
            if call is not None:
                call.cid_ok = False
            return
        line.caller_number = number or None
        line.caller_name = name or None
        if absent and not number:
            line.caller_number = None
            line.caller_name = {"P": "withheld", "O": "unavailable"}.get(absent, absent)
        call = self.call_of(line)
        self._emit("call.cid", data, key=line.id)
        if call is not None and line.state is S.RINGING:
            call.cid_format = fmt
            self._apply_cid(call, line)
            self._offer(line, call)
        elif call is not None:
            self._apply_cid(call, line)
            self._emit("call.updated", call.snapshot(), key=call.uniqueid, coalesce=True)

    def _apply_cid(self, call: Call, line: Line) -> None:
        call.cid_ok = True
        call.src = line.caller_number or ""
        call.caller_name = line.caller_name
        call.clid = f'"{line.caller_name or ""}" <{call.src}>'
        call.location = self.locate(call.src) if call.src else None
        if call.persisted:  # so a call cut short by a crash still shows who called
            fields = {
                "src": call.src,
                "clid": call.clid,
                "caller_name": call.caller_name,
                "location": call.location,
            }
            self.outbox.append(Persist("call_update", {"uniqueid": call.uniqueid, **fields}))

    def _offer(self, line: Line, call: Call) -> None:
        """Ring the phones the inbound rule names (ring-all), or the desk phone behind the box."""
        if not self._fire(line, "offer"):
            return
        rule = self.router.inbound_rule(line.id, self.wall())
        targets: list[Line] = []
        app_kind = self._screen(call) or self._rule_app(rule)
        if app_kind is not None and not line.spec.passthrough:
            self._emit(
                "call.ringing",
                {
                    **call.snapshot(),
                    "line": line.id,
                    "number": call.src,
                    "name": call.caller_name,
                    "targets": [],
                },
                key=call.uniqueid,
            )
            self.route(call, app_kind[0], app_kind[1])
            return
        if line.spec.passthrough:
            pass  # the desk phone rings by itself: ccd only tells the agent's screen
        elif rule is not None:
            for ext_id in rule.ring:
                ext = self._by_ext.get(ext_id)
                if ext is not None and ext.state is S.IDLE:
                    targets.append(ext)
        for ext in targets:
            self._fire(ext, "select")
            self._fire(ext, "ring")
            ext.call_id = call.uniqueid
            call.offered.add(ext.id)
            self._add_leg(call, ext, "offered")
            self._cmd(ext, dev.RingPhone(ext.id, True, call.src or None, call.caller_name))
        data = call.snapshot()
        data.update(
            line=line.id,
            number=call.src,
            name=call.caller_name,
            targets=[t.id for t in targets]
            or ([line.spec.phone or line.id] if line.spec.passthrough else []),
            rule=rule.name if rule else None,
        )
        self._emit("call.ringing", data, key=call.uniqueid)
        for target in data["targets"]:
            self._emit("call.offered", {**data, "extension": target}, key=f"{call.uniqueid}/{target}")
        if not targets and not line.spec.passthrough:
            log.warning("call %s on %s: no idle phone to ring (rule %s)", call.uniqueid, line.id, rule)

    def _on_ext_hook(self, ext: Line, offhook: bool) -> None:
        call = self.call_of(ext)
        if offhook:
            if ext.state is S.RINGING and call is not None:
                if self.extension_answered_originate(ext):
                    return
                if call.app is not None and ext.id in call.offered:
                    self._fire(ext, "offhook")  # RINGING -> CONNECTED
                    call.offered.discard(ext.id)
                    self._mark_answered(call, ext)
                    call.app.on_answered(self, call, ext)
                    return
                if call.direction == "internal":
                    self._answer_internal(call, ext)
                else:
                    self._answer_inbound(call, ext)
            elif (ext.state is S.RINGING and call is None) or ext.state is S.SELECTED:
                self._fire(ext, "offhook")
            elif ext.state is S.IDLE:
                self._fire(ext, "offhook")
                self._play_tone(ext, "dial")
            return
        # on-hook
        if ext.state is S.IDLE:
            return
        self._stop_audio(ext)
        self.media.isolate(ext.row)
        self._fire(ext, "onhook")
        if call is not None:
            if call.app is not None and call.end is None:
                self._end_leg(call, ext, self._disposition(call))
                if call.app.on_party_left(self, call, ext):
                    return
            self._party_left(call, ext)

    def _answer_inbound(self, call: Call, ext: Line) -> None:
        trunk = self.lines[call.trunk] if call.trunk else None
        self._fire(ext, "offhook")  # RINGING -> CONNECTED
        ext.call_id = call.uniqueid
        # stop the other phones ringing
        for other_id in sorted(call.offered - {ext.id}):
            other = self.lines[other_id]
            self._cmd(other, dev.RingPhone(other.id, False))
            self._fire(other, "cancel")
            self._end_leg(call, other, NO_ANSWER)  # answered at another phone
        call.offered.clear()
        if trunk is not None:
            self._cmd(trunk, dev.OffHook(trunk.id))
            self._fire(trunk, "answer")
            self.media.connect(trunk.row, ext.row)
        self._mark_answered(call, ext)

    def _answer_internal(self, call: Call, target: Line) -> None:
        self._fire(target, "offhook")  # RINGING -> CONNECTED
        caller = self.lines.get(call.channel)
        call.offered.discard(target.id)
        if caller is not None:
            self._stop_audio(caller)
            if caller.can("connect"):
                self._fire(caller, "connect")
            self.media.connect(caller.row, target.row)
        self._mark_answered(call, target)

    def _mark_answered(self, call: Call, answerer: Line) -> None:
        wall = self.wall()
        if call.answer is None:
            call.answer = wall
            self.outbox.append(Persist("call_answer", {"uniqueid": call.uniqueid, "answer": wall}))
        call.dstchannel = answerer.id
        if call.direction == "in" and answerer.kind is LineKind.EXTENSION:
            call.dst = answerer.spec.number or answerer.id
        leg = call.leg(answerer.id)
        if leg is not None and leg.answer is None:
            leg.answer = wall
            leg.role = "callee" if leg.role == "offered" else leg.role
            self.outbox.append(Persist("leg_update", {"uniqueid": call.uniqueid, **leg.as_dict()}))
        self._emit("call.answered", {**call.snapshot(), "by": answerer.id}, key=call.uniqueid)

    def _on_passthrough_hook(self, line: Line, offhook: bool) -> None:
        call = self.call_of(line)
        if offhook:
            if line.state in (S.RINGING, S.WAIT_ANSWER) and call is not None:
                self._fire(line, "phone_offhook")
                self._mark_answered(call, line)
            elif line.state is S.IDLE:
                # the desk phone is lifted to call out: a call record starts at the first digit
                self._fire(line, "phone_offhook")
            return
        if line.can("phone_onhook"):
            self._fire(line, "phone_onhook")
            if call is not None:
                self._end_leg(call, line, self._disposition(call))
                self._finish(call, self._disposition(call))

    # ------------------------------------------------------------------ DSP on the lines
    def handle_digit(self, line_id: str, digit: str, now: float) -> None:
        self.now = now
        line = self.lines.get(line_id)
        if line is None:
            return
        call = self.call_of(line)
        if line.kind is LineKind.EXTENSION or (
            line.spec.passthrough and line.state in (S.OFFHOOK, S.DIALING)
        ):
            if line.state in (S.OFFHOOK, S.DIALING):
                if line.state is S.OFFHOOK:
                    self._stop_audio(line)
                self._fire(line, "digit")
                line.digits += digit
                if line.spec.passthrough and call is None:
                    call = self._new_call("out", line)
                    call.trunk = line.id
                    call.src = line.spec.phone or line.id
                    self._add_leg(call, line, "caller")
                    self._begin(call)
                line.last_ring_at = now  # reused as the last-digit time while dialling
                if line.spec.passthrough and call is not None:
                    call.dst = line.digits
                self._emit(
                    "line.digits", {"line": line.id, "digits": line.digits}, key=line.id, coalesce=True
                )
                if digit == "#" or self._dial_complete(line):
                    self._dial_from_extension(line)
                return
        if call is not None:
            self._emit("call.dtmf", {"call": call.uniqueid, "line": line.id, "digit": digit}, key=None)
            if call.app is not None and line.id == call.trunk:
                call.app.on_digit(self, call, digit)

    def _dial_complete(self, line: Line) -> bool:
        digits = line.digits
        if line.kind is LineKind.EXTENSION and digits in self._by_ext and self._by_ext[digits] is not line:
            return True
        return False

    def handle_tone(self, line_id: str, tone: str, now: float) -> None:
        self.now = now
        line = self.lines.get(line_id)
        if line is None or line.kind is not LineKind.TRUNK:
            return
        call = self.call_of(line)
        if tone in ("busy", "congestion"):
            if line.state in (S.CONNECTED, S.CALLING, S.DIALING, S.SEIZED):
                if call is not None and call.answer is None:
                    call.outcome = BUSY if tone == "busy" else CONGESTION
                self._on_far_hangup(line, f"{tone} tone")
        elif tone == "ringback":
            if line.state is S.CALLING and call is not None:
                call.ringback_heard = True
        elif tone == "voice":
            if line.state is S.CALLING and call is not None and call.ringback_heard:
                self._far_answer(line, call)
        elif tone == "dial":
            if line.state is S.SEIZED and call is not None:
                self._send_digits(line, call)

    # ------------------------------------------------------------------ hang-ups
    def _on_far_hangup(self, line: Line, why: str) -> None:
        call = self.call_of(line)
        if line.state in (S.IDLE, S.OUT_OF_SERVICE, S.WAIT_HANGUP):
            return
        log.info("line %s: far end gone (%s)", line.id, why)
        if line.spec.passthrough:
            # the desk phone still holds the line; ccd just notes the far end has gone
            if line.can("far_hangup"):
                self._fire(line, "far_hangup")
            if call is not None:
                self._emit("call.far_hangup", {"call": call.uniqueid, "line": line.id, "why": why})
            return
        self._release_trunk(line)
        if call is not None:
            if call.app is not None and line.id == call.trunk:
                call.app.on_caller_gone(self, call)
            self._party_left(call, line)

    def _release_trunk(self, trunk: Line) -> None:
        self._stop_audio(trunk)
        self.media.isolate(trunk.row)
        if trunk.caps.hook_control and trunk.state is not S.IDLE:
            self._cmd(trunk, dev.OnHook(trunk.id))
        if trunk.can("release"):
            self._fire(trunk, "release")

    def _party_left(self, call: Call, gone: Line) -> None:
        """One side of a call has gone: end its leg, clear the others, finish the call."""
        disposition = self._disposition(call)
        self._end_leg(call, gone, disposition)
        for line_id in sorted(call.lines):
            other = self.lines[line_id]
            self.media.isolate(other.row)
            if other.kind is LineKind.TRUNK and not other.spec.passthrough:
                self._release_trunk(other)
                self._end_leg(call, other, disposition)
            elif other.kind is LineKind.EXTENSION:
                if other.state is S.RINGING or other.state is S.SELECTED:
                    self._cmd(other, dev.RingPhone(other.id, False))
                    self._fire(other, "cancel")
                    self._end_leg(call, other, disposition)
                elif other.can("far_hangup"):
                    self._fire(other, "far_hangup")
                    self._play_tone(other, "busy")
                    self._end_leg(call, other, disposition)
            elif other.spec.passthrough and other.can("far_hangup"):
                self._fire(other, "far_hangup")
                self._end_leg(call, other, disposition)
        call.offered.clear()
        self._finish(call, disposition)

    def _disposition(self, call: Call) -> str:
        if call.answer:
            return ANSWERED
        return call.outcome or NO_ANSWER

    def _finish(self, call: Call, disposition: str) -> None:
        if call.end is not None:
            return
        if call.app is not None:
            app, call.app = call.app, None
            app.stop(self, call)
        call.timers.clear()
        call.end = self.wall()
        call.disposition = disposition
        for leg in call.legs:
            if leg.end is None:
                leg.end = call.end
                leg.disposition = leg.disposition or disposition
                self.outbox.append(Persist("leg_update", {"uniqueid": call.uniqueid, **leg.as_dict()}))
        cdr = call.cdr()
        self.outbox.append(Persist("call_finish", cdr))
        self._emit("call.ended", cdr, key=call.uniqueid)
        for line_id in list(call.lines):
            line = self.lines[line_id]
            if line.call_id == call.uniqueid and line.state is S.IDLE:
                line.call_id = None
        self.calls.pop(call.uniqueid, None)

    # ------------------------------------------------------------------ outbound
    def _dial_from_extension(self, ext: Line) -> None:
        digits = ext.digits.rstrip("#")
        if ext.spec.passthrough:
            return  # the desk phone dials the exchange itself; ccd only records it
        call = self._new_call("out", ext)
        call.src = ext.spec.number or ext.id
        self._add_leg(call, ext, "caller")
        self._fire(ext, "dialed")
        target = self._by_ext.get(digits)
        if target is not None and target is not ext:
            call.direction = "internal"
            call.dst = digits
            self._begin(call)
            self._ring_internal(call, ext, target)
            return
        number = self.router.strip_prefix(ext.id, digits)
        call.dst = number or digits
        self._begin(call)
        if not number:
            call.outcome = CONGESTION
            self._fire(ext, "far_hangup")
            self._play_tone(ext, "congestion")
            self._finish(call, CONGESTION)
            return
        self._seize_and_dial(call, ext, number)

    def _ring_internal(self, call: Call, ext: Line, target: Line) -> None:
        if target.state is not S.IDLE:
            call.outcome = BUSY
            self._fire(ext, "far_hangup")
            self._play_tone(ext, "busy")
            self._finish(call, BUSY)
            return
        self._fire(target, "select")
        self._fire(target, "ring")
        target.call_id = call.uniqueid
        call.offered.add(target.id)
        self._add_leg(call, target, "offered")
        self._play_tone(ext, "ringback")
        self._cmd(target, dev.RingPhone(target.id, True, call.src, None))
        self._emit("call.ringing", {**call.snapshot(), "targets": [target.id]}, key=call.uniqueid)
        self._emit(
            "call.offered", {**call.snapshot(), "extension": target.id}, key=f"{call.uniqueid}/{target.id}"
        )

    def _trunk_free(self, trunk_id: str) -> bool:
        trunk = self.lines.get(trunk_id)
        return (
            trunk is not None
            and trunk.state is S.IDLE
            and trunk.caps.hook_control
            and not trunk.spec.passthrough
        )

    def dial_external(self, call: Call, number: str) -> bool:
        """Seize a free trunk for an answered inbound call and dial `number` on it; the caller
        is bridged to it when the digits are out (an IVR `external` exit, a forward). False when
        no trunk is free — the caller's own line stays as it is."""
        caller = self.lines.get(call.trunk) if call.trunk else None
        trunk_id = self.router.hunt(caller.id if caller else "*", self._trunk_free)
        if trunk_id is None:
            return False
        trunk = self.lines[trunk_id]
        call.number_to_dial = number
        call.dstchannel = trunk.id
        call.dst = number
        self._fire(trunk, "select")
        self._add_leg(call, trunk, "callee")
        self._cmd(trunk, dev.OffHook(trunk.id))
        self._fire(trunk, "seize")
        if trunk.caps.hw_dial:
            self._send_digits(trunk, call)
        return True

    def _seize_and_dial(self, call: Call, ext: Line, number: str) -> None:
        trunk_id = self.router.hunt(ext.id, self._trunk_free)
        if trunk_id is None:
            log.warning("call %s: no free trunk for %s", call.uniqueid, ext.id)
            call.outcome = CONGESTION
            self._fire(ext, "far_hangup")
            self._play_tone(ext, "congestion")
            self._end_leg(call, ext, CONGESTION)
            self._finish(call, CONGESTION)
            return
        trunk = self.lines[trunk_id]
        call.trunk = trunk.id
        call.dstchannel = trunk.id
        call.number_to_dial = number
        self._fire(trunk, "select")
        self._add_leg(call, trunk, "callee")
        self._cmd(trunk, dev.OffHook(trunk.id))
        self._fire(trunk, "seize")
        if trunk.caps.hw_dial:
            self._send_digits(trunk, call)

    def _send_digits(self, trunk: Line, call: Call) -> None:
        if not trunk.can("dial"):
            return
        self._fire(trunk, "dial")
        if trunk.caps.hw_dial:
            self._cmd(trunk, dev.Dial(trunk.id, call.number_to_dial))
            self._fire(trunk, "dialed")
            self._bridge_caller(call, trunk)
        elif self.dtmf is not None:
            self.media.play(trunk.row, BufferSource(self.dtmf(call.number_to_dial)), tag="dial", replace=True)
        self._emit("call.dialing", {**call.snapshot(), "number": call.number_to_dial}, key=call.uniqueid)

    def _bridge_caller(self, call: Call, trunk: Line) -> None:
        caller = self.lines.get(call.channel)
        if caller is not None and caller is not trunk:
            self._stop_audio(caller)
            self.media.connect(trunk.row, caller.row)

    def _far_answer(self, trunk: Line, call: Call) -> None:
        self._fire(trunk, "far_answer")
        caller = self.lines.get(call.channel)
        if caller is not None and caller.state is S.CALLING:
            self._fire(caller, "connect")
        self._mark_answered(call, trunk)

    def _on_dial_result(self, trunk: Line, result: str) -> None:
        call = self.call_of(trunk)
        if call is None:
            return
        if result == "answer" and trunk.state is S.CALLING:
            self._far_answer(trunk, call)
        elif result in ("busy", "no_answer", "no_dialtone", "error"):
            call.outcome = {"busy": BUSY, "no_answer": NO_ANSWER, "no_dialtone": CONGESTION}.get(
                result, FAILED
            )
            self._on_far_hangup(trunk, f"dial result {result}")

    def handle_play_done(self, row: int, tag: str, now: float) -> None:
        self.now = now
        if tag.startswith("app:"):
            call_id, _, app_tag = tag[4:].partition("|")
            call = self.calls.get(call_id)
            if call is not None and call.app is not None:
                call.app.on_play_done(self, call, app_tag)
            return
        if tag != "dial":
            return
        trunk = next((line for line in self.lines.values() if line.row == row), None)
        if trunk is None or trunk.state is not S.DIALING:
            return
        call = self.call_of(trunk)
        self._fire(trunk, "dialed")
        if call is not None:
            self._bridge_caller(call, trunk)

    # ------------------------------------------------------------------ requests from clients
    def originate(self, ext_id: str, number: str) -> Call:
        """Click-to-dial (seed 003 §2.2): ring the agent's phone, and when it is lifted,
        seize a trunk and dial `number`."""
        ext = self._by_ext.get(ext_id) or self.lines.get(ext_id)
        if ext is None or ext.kind is not LineKind.EXTENSION:
            raise LookupError(f"no extension {ext_id!r}")
        if ext.state is not S.IDLE:
            raise RuntimeError(f"extension {ext.id} is busy ({ext.state.value})")
        call = self._new_call("out", ext)
        call.src = ext.spec.number or ext.id
        call.dst = number
        call.number_to_dial = number
        self._add_leg(call, ext, "caller")
        self._fire(ext, "select")
        self._fire(ext, "ring")
        ext.call_id = call.uniqueid
        self._cmd(ext, dev.RingPhone(ext.id, True, number, None))
        self._begin(call)
        return call

    def hangup_call(self, call_id: str) -> None:
        """Force a call down (supervisor's 强拆, or an agent's hang-up on a board line)."""
        call = self.calls.get(call_id)
        if call is None:
            raise LookupError(f"no call {call_id!r}")
        self.hangup(call)

    def register_app(self, kind: str, factory: AppFactory) -> None:
        """Make `kind` (queue, ivr, voicemail...) a destination inbound rules and apps can route to."""
        self.apps[kind] = factory

    def _screen(self, call: Call) -> tuple[str, str | None] | None:
        for screener in self.screeners:
            try:
                verdict = screener(call)
            except Exception:
                log.exception("screener %r failed on call %s", screener, call.uniqueid)
                continue
            if verdict is not None:
                return verdict
        return None

    def _rule_app(self, rule: Any) -> tuple[str, str | None] | None:
        if rule is None:
            return None
        for kind in ("ivr", "queue", "voicemail"):
            target = getattr(rule, kind, None)
            if target:
                return kind, target
        if getattr(rule, "hangup", False):
            return "hangup", None
        return None

    def line(self, line_id: str) -> Line | None:
        return self.lines.get(line_id)

    def publish(
        self, name: str, data: dict[str, Any], key: str | None = None, coalesce: bool = False
    ) -> None:
        self._emit(name, data, key, coalesce)

    def journal(self, call: Call | None, queue: str, agent: str, event: str, *data: Any) -> None:
        self.outbox.append(
            Persist(
                "journal",
                {
                    "ts": self.wall(),
                    "callid": call.uniqueid if call else "NONE",
                    "queue": queue or "NONE",
                    "agent": agent or "NONE",
                    "event": event,
                    "data": [str(d) for d in data],
                },
            )
        )

    def route(self, call: Call, kind: str, target: str | None = None) -> None:
        """Hand `call` to the application of `kind` (or ring an extension, dial out, hang up)."""
        if call.app is not None:
            old, call.app = call.app, None
            old.stop(self, call)
        call.timers.clear()
        for ext_id in sorted(call.offered):  # phones still ringing for the call stop first
            self.stop_ring(call, ext_id)
        if kind == "hangup":
            self.hangup(call)
            return
        if kind == "extension" and target is not None and kind not in self.apps:
            ext = self._by_ext.get(target)
            if ext is None or ext.state is not S.IDLE:
                self.hangup(call, BUSY if ext is not None else FAILED)
                return
            from ccd.telephony.apps import CallApp

            call.app = CallApp()
            self.ring(call, ext.id)
            return
        factory = self.apps.get(kind)
        if factory is None:
            log.error("call %s: no application %r (target %r): hanging up", call.uniqueid, kind, target)
            self.hangup(call, FAILED)
            return
        try:
            call.app = factory(target)
        except (KeyError, LookupError, ValueError) as exc:
            log.error("call %s: cannot start %s %r: %s", call.uniqueid, kind, target, exc)
            self.hangup(call, FAILED)
            return
        self._emit("call.routed", {"call": call.uniqueid, "app": kind, "target": target}, key=call.uniqueid)
        call.app.start(self, call)

    def answer(self, call: Call) -> None:
        trunk = self.lines.get(call.trunk) if call.trunk else None
        if trunk is None or trunk.state is S.CONNECTED:
            return
        if trunk.can("answer"):
            self._cmd(trunk, dev.OffHook(trunk.id))
            self._fire(trunk, "answer")
            if call.answer is None:
                wall = self.wall()
                call.answer = wall
                self.outbox.append(Persist("call_answer", {"uniqueid": call.uniqueid, "answer": wall}))
                leg = call.leg(trunk.id)
                if leg is not None:
                    leg.answer = wall

    def _caller_row(self, call: Call) -> int | None:
        line = self.lines.get(call.trunk or call.channel)
        return line.row if line is not None else None

    def play(self, call: Call, audio: np.ndarray, tag: str | None = None, *, replace: bool = True) -> None:
        row = self._caller_row(call)
        if row is None:
            return
        full_tag = f"app:{call.uniqueid}|{tag}" if tag else None
        self.media.play(row, BufferSource(audio), tag=full_tag, replace=replace)

    def play_prompts(self, call: Call, names: Any, tag: str | None = None, *, replace: bool = True) -> None:
        if self.prompts is None:
            audio = np.zeros(1600, dtype=np.int16)
        else:
            audio = self.prompts.sequence(list(names), call.lang)
        self.play(call, audio, tag, replace=replace)

    def play_loop(self, call: Call, audio: np.ndarray, tag: str | None = None) -> None:
        row = self._caller_row(call)
        if row is not None:
            self.media.play(row, LoopSource(audio), tag=None, replace=True)

    def stop_play(self, call: Call) -> None:
        row = self._caller_row(call)
        if row is not None:
            self.media.stop(row)

    def set_timer(self, call: Call, delay: float, tag: str) -> None:
        call.timers[tag] = self.now + delay

    def cancel_timer(self, call: Call, tag: str) -> None:
        call.timers.pop(tag, None)

    def ring(self, call: Call, extension: str, *, agent: str | None = None) -> bool:
        ext = self._by_ext.get(extension) or self.lines.get(extension)
        if ext is None or ext.kind is not LineKind.EXTENSION or ext.state is not S.IDLE:
            return False
        self._fire(ext, "select")
        self._fire(ext, "ring")
        ext.call_id = call.uniqueid
        call.offered.add(ext.id)
        self._add_leg(call, ext, "offered")
        self._cmd(ext, dev.RingPhone(ext.id, True, call.src or None, call.caller_name))
        data = {
            **call.snapshot(),
            "line": call.trunk,
            "number": call.src,
            "name": call.caller_name,
            "extension": ext.id,
            "agent": agent,
            "queue": call.queue,
            "ivr_path": list(call.vars.get("ivr_path", [])),
            "wait": round(self.now - call.started_mono, 1),
        }
        self._emit("call.offered", data, key=f"{call.uniqueid}/{ext.id}")
        return True

    def stop_ring(self, call: Call, extension: str) -> None:
        ext = self._by_ext.get(extension) or self.lines.get(extension)
        if ext is None or ext.id not in call.offered:
            return
        call.offered.discard(ext.id)
        self._cmd(ext, dev.RingPhone(ext.id, False))
        if ext.can("cancel"):
            self._fire(ext, "cancel")
        self._end_leg(call, ext, NO_ANSWER)
        self._emit(
            "call.offer_withdrawn",
            {"call": call.uniqueid, "extension": ext.id},
            key=f"{call.uniqueid}/{ext.id}",
        )

    def connect(self, call: Call, extension: str) -> None:
        ext = self._by_ext.get(extension) or self.lines.get(extension)
        row = self._caller_row(call)
        if ext is None or row is None:
            return
        self.answer(call)
        self.media.stop(row)
        self._stop_audio(ext)
        self.media.connect(row, ext.row)
        call.dstchannel = ext.id
        ext.call_id = call.uniqueid
        call.lines.add(ext.id)

    def disconnect(self, call: Call, extension: str) -> None:
        ext = self._by_ext.get(extension) or self.lines.get(extension)
        if ext is None:
            return
        self.media.isolate(ext.row)
        if ext.can("far_hangup"):
            self._fire(ext, "far_hangup")
            self._play_tone(ext, "busy")
        self._end_leg(call, ext, self._disposition(call))
        if ext.call_id == call.uniqueid:
            # the phone has left this call: its hang-up must not end the call for the others
            ext.call_id = None

    # ------------------------------------------------------------------ agent and supervisor controls
    def ext(self, extension: str) -> Line | None:
        """The extension line with this number or id (None if there is none)."""
        line = self._by_ext.get(extension) or self.lines.get(extension)
        return line if line is not None and line.kind is LineKind.EXTENSION else None

    def hold(self, call: Call, extension: str, music: np.ndarray) -> None:
        """The caller and `extension` stop hearing each other; the caller hears `music` looped."""
        ext, row = self.ext(extension), self._caller_row(call)
        if ext is None or row is None:
            return
        self.media.disconnect(row, ext.row)
        for other in self.media.hears(row):  # a conference: the caller is held from everyone
            self.media.disconnect(row, other)
        self.media.play(row, LoopSource(music), tag=None, replace=True)

    def retrieve(self, call: Call, extension: str) -> None:
        """End a hold: the music stops and the caller and `extension` talk again."""
        ext, row = self.ext(extension), self._caller_row(call)
        if ext is None or row is None:
            return
        self.media.stop(row)
        self._stop_audio(ext)
        for other in self.media.hears(ext.row):  # leave a consultation
            self.media.disconnect(ext.row, other)
        self.media.connect(row, ext.row)

    def talk(self, a: str, b: str) -> None:
        """Two extensions hear each other (an agent consulting a colleague while the caller holds)."""
        la, lb = self.ext(a), self.ext(b)
        if la is None or lb is None:
            return
        self._stop_audio(la)
        self._stop_audio(lb)
        self.media.connect(la.row, lb.row)

    def conference(self, call: Call, extensions: Any) -> None:
        """Three-way (or more): the caller and every extension hear all the others (software mixing)."""
        rows = [line.row for line in (self.ext(e) for e in extensions) if line is not None]
        row = self._caller_row(call)
        if row is not None:
            self.media.stop(row)
            rows.insert(0, row)
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                self.media.connect(a, b)

    def listen(self, call: Call, supervisor: str, agent_ext: str, mode: str) -> None:
        """Supervisor monitoring: `listen` hears both sides; `whisper` also speaks to the agent
        only (coaching); `barge` joins as a third party."""
        sup, agent, row = self.ext(supervisor), self.ext(agent_ext), self._caller_row(call)
        if sup is None or agent is None or row is None:
            return
        self.media.isolate(sup.row)
        self._stop_audio(sup)
        self.media.link(sup.row, row)
        self.media.link(sup.row, agent.row)
        if mode in ("whisper", "barge"):
            self.media.link(agent.row, sup.row)
        if mode == "barge":
            self.media.link(row, sup.row)

    def send_dtmf(self, call: Call, digits: str) -> None:
        """Send DTMF to the far end (an agent keying an extension number into a caller's menu)."""
        row = self._caller_row(call)
        if row is not None and self.dtmf is not None:
            self.media.play(row, BufferSource(self.dtmf(digits)), tag=None, replace=False)

    def hangup(self, call: Call, disposition: str | None = None) -> None:
        """End `call` from inside ccd: release the trunk and every extension in it."""
        if call.end is not None:
            return
        if disposition:
            call.outcome = disposition
        trunk = self.lines.get(call.trunk) if call.trunk else None
        if trunk is not None and not trunk.spec.passthrough and trunk.state is not S.IDLE:
            self._release_trunk(trunk)
            self._party_left(call, trunk)
            return
        for line_id in sorted(call.lines):
            line = self.lines[line_id]
            if line.state in (S.RINGING, S.SELECTED):
                self._cmd(line, dev.RingPhone(line.id, False))
                self._fire(line, "cancel")
            elif line.kind is LineKind.EXTENSION and line.can("far_hangup"):
                self._fire(line, "far_hangup")
                self._play_tone(line, "busy")
            self._end_leg(call, line, self._disposition(call))
        self._finish(call, self._disposition(call))

    # ------------------------------------------------------------------ timers
    def tick(self, now: float) -> None:
        """Timers: callers who stopped ringing, unanswered phones, dialling timeouts."""
        self.now = now
        for call in list(self.calls.values()):
            if call.timers and call.app is not None:
                for tag, due in sorted(call.timers.items(), key=lambda kv: kv[1]):
                    if due <= now and call.timers.get(tag) == due and call.app is not None:
                        del call.timers[tag]
                        call.app.on_timer(self, call, tag)
        for line in self.lines.values():
            state = line.state
            if state is S.IDLE:
                continue
            if line.kind is LineKind.TRUNK and state in (S.RINGING, S.WAIT_ANSWER):
                if line.last_ring_at is not None and now - line.last_ring_at > RING_GONE_AFTER:
                    self._caller_gave_up(line)
            elif state is S.RINGING and line.kind is LineKind.EXTENSION:
                if now - line.since >= self.answer_timeout:
                    self._answer_timeout(line)
            elif state is S.OFFHOOK and now - line.since >= FIRST_DIGIT_TIMEOUT:
                self._fire(line, "far_hangup")
                self._play_tone(line, "busy")
            elif state is S.DIALING and line.kind is LineKind.EXTENSION:
                if line.last_ring_at is not None and now - line.last_ring_at >= INTER_DIGIT_TIMEOUT:
                    self._dial_from_extension(line)
            elif state is S.DIALING and line.spec.passthrough:
                if line.last_ring_at is not None and now - line.last_ring_at >= INTER_DIGIT_TIMEOUT:
                    call = self.call_of(line)
                    self._fire(line, "dialed")  # the desk phone has dialled: the far end rings
                    if call is not None:
                        self._emit("call.dialing", {**call.snapshot(), "number": call.dst}, key=call.uniqueid)
            elif state is S.SEIZED and now - line.since >= DIALTONE_WAIT:
                call = self.call_of(line)
                if call is not None:
                    self._send_digits(line, call)  # no dial tone recognised: dial blind
            elif state is S.CALLING and line.kind is LineKind.TRUNK:
                if now - line.since >= OUTBOUND_NO_ANSWER:
                    call = self.call_of(line)
                    if call is not None:
                        call.outcome = NO_ANSWER
                    self._on_far_hangup(line, "no answer")

    def _caller_gave_up(self, trunk: Line) -> None:
        call = self.call_of(trunk)
        log.info("line %s: rings stopped, caller gave up", trunk.id)
        self._fire(trunk, "ring_stopped")
        if call is not None:
            self._end_leg(call, trunk, NO_ANSWER)
            for ext_id in sorted(call.offered):
                ext = self.lines[ext_id]
                self._cmd(ext, dev.RingPhone(ext.id, False))
                if ext.can("cancel"):
                    self._fire(ext, "cancel")
                self._end_leg(call, ext, NO_ANSWER)
            call.offered.clear()
            self._finish(call, NO_ANSWER)

    def _answer_timeout(self, ext: Line) -> None:
        call = self.call_of(ext)
        self._cmd(ext, dev.RingPhone(ext.id, False))
        self._fire(ext, "answer_timeout")
        if call is None:
            return
        call.offered.discard(ext.id)
        self._end_leg(call, ext, NO_ANSWER)
        if call.app is not None:
            call.app.on_ring_timeout(self, call, ext)
            return
        if call.direction in ("internal", "out") and not call.offered:
            # nobody picked up the phone we rang for this call: it ends here
            for line_id in sorted(call.lines):
                caller = self.lines[line_id]
                if caller.can("far_hangup"):
                    self._fire(caller, "far_hangup")
                    self._play_tone(caller, "busy")
                self._end_leg(call, caller, NO_ANSWER)
            self._finish(call, NO_ANSWER)

    def _on_alarm(self, line: Line, ok: bool, reason: str) -> None:
        if ok:
            if line.state is S.OUT_OF_SERVICE:
                line.oos_reason = ""
                self._fire(line, "restore")
                self._emit("alert.line_restored", {"line": line.id}, key=line.id)
            return
        call = self.call_of(line)
        line.oos_reason = reason
        if call is not None:
            call.outcome = call.outcome or FAILED
            self.media.isolate(line.row)
            self._stop_audio(line)
            self._party_left(call, line)
        if line.state is not S.OUT_OF_SERVICE:
            self._fire(line, "alarm")
        self._emit("alert.line_down", {"line": line.id, "reason": reason}, key=line.id)

    # ------------------------------------------------------------------ extension answers a click-to-dial
    def extension_answered_originate(self, ext: Line) -> bool:
        """Called from the hook handler when a phone rung by `originate` is lifted."""
        call = self.call_of(ext)
        if call is None or call.direction != "out" or call.channel != ext.id or call.trunk:
            return False
        self._fire(ext, "offhook")  # RINGING -> CONNECTED (to ccd's dialer)
        self._seize_and_dial(call, ext, call.number_to_dial)
        if call.app is not None and call.end is None:
            call.app.on_answered(self, call, ext)  # e.g. a queue callback: the agent took it
        return True

    # ------------------------------------------------------------------ views
    def snapshot_lines(self) -> list[dict[str, Any]]:
        return [line.snapshot() for line in self.lines.values()]

    def snapshot_calls(self) -> list[dict[str, Any]]:
        return [call.snapshot() for call in self.calls.values()]

    def drain(self) -> list[Action]:
        out, self.outbox = self.outbox, []
        return out
