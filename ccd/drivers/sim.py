"""The simulated office: a driver that sounds like real phone lines.

It exposes the same interface a voice board does and produces the same *audio* a real
line does, so the daemon's soft DSP does the work:

- an incoming call rings with the China cadence (1 s on / 4 s off) as ring signals, and
  carries caller ID as FSK (Bell 202 or V.23, MDMF or SDMF) between the first and the
  second ring, as DTMF before the first ring, or none (withheld);
- the caller's keypresses are DTMF tones mixed with line noise and speech-like audio at
  a configurable SNR;
- the far end hanging up is *busy tone only*, with no line signal at all;
- an outgoing call hears dial tone; the digits ccd sends as DTMF are decoded here by the
  real DTMF detector; then ringback, busy or an answering voice.

Two office topologies: board (FXO trunks + FXS extension ports whose phones ccd rings)
and pass-through box lines (one desk phone behind the box on the trunk itself).

Virtual callers are scripted (`place_call`) or generated as Poisson traffic; virtual
phones ring, go off-hook, press keys and hang up, by command or by an auto-answer policy.
All timing comes from `now` passed to `tick()`, and all randomness from one seeded
generator, so a run on the virtual clock is reproducible.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccd.drivers.base import (
    Capabilities,
    DeviceCommand,
    DeviceEvent,
    Driver,
    DriverTick,
    Flash,
    Hook,
    LineKind,
    LineSpec,
    OffHook,
    OnHook,
    Ring,
    RingPhone,
    UnsupportedCommand,
)
from ccd.dsp.levels import FRAME, SAMPLE_RATE, dbm0_to_rms

log = logging.getLogger(__name__)

SPEECH_DBM0 = -20.0  # nominal talker level on the line
CID_MODES = ("fsk-bell202", "fsk-v23", "dtmf", "none")
HEARD_SECONDS = 120  # how much received audio a virtual caller keeps (for tests)


def _speech_bank(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Speech-like audio: voiced syllables (a wandering pitch with formant-ish harmonics)
    separated by pauses. Not intelligible, but it has speech's spectrum and rhythm, which
    is what matters to the DTMF and tone detectors (they must stay silent on it)."""
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n, dtype=np.float64)
    t = 0
    while t < n:
        syl = int(rng.uniform(0.08, 0.3) * SAMPLE_RATE)
        gap = int(rng.uniform(0.03, 0.25) * SAMPLE_RATE)
        seg = min(syl, n - t)
        tt = np.arange(seg) / SAMPLE_RATE
        f0 = rng.uniform(90, 260) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * tt))
        phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
        formants = rng.uniform([300, 900, 2200], [900, 2000, 3200])
        sig = np.zeros(seg)
        for k in range(1, 30):
            fk = f0 * k
            weight = sum(np.exp(-(((fk - f) / 180.0) ** 2)) for f in formants) / k**0.3
            sig += weight * np.sin(k * phase)
        env = np.sin(np.pi * np.arange(seg) / max(seg, 1)) ** 0.6
        out[t : t + seg] = sig * env
        t += syl + gap
    # add a little breath noise, then set the level
    out += 0.05 * rng.standard_normal(n) * np.abs(out).mean()
    rms = np.sqrt(np.mean(out**2)) or 1.0
    return (out / rms * dbm0_to_rms(SPEECH_DBM0)).astype(np.float32)


@dataclass
class CallerScript:
    """What a virtual caller does. Times are seconds."""

    number: str | None
    name: str | None = None
    cid: str = "fsk-bell202"  # fsk-bell202 | fsk-v23 | dtmf | none
    cid_format: str = "mdmf"
    press: str = ""  # digits pressed after the call is answered
    press_after: float = 3.0  # seconds after answer before the first digit
    talk: float | None = 60.0  # hang up this long after answer (None: never by itself)
    hangup_after: float | None = 60.0  # give up ringing after this long (None: ring forever)
    speech: bool = True
    dnis: str | None = None


@dataclass
class SimCall:
    """One virtual caller on a trunk (incoming) or one virtual callee (outgoing)."""

    ref: str
    trunk: str
    direction: str  # "in" | "out"
    script: CallerScript
    started: float
    phase: str = "pre"  # pre | ringing | answered | gone | ended
    answered_at: float | None = None
    gone_at: float | None = None
    ring_on: bool = False
    next_ring_change: float = 0.0
    ring_count: int = 0
    audio: deque[np.ndarray] = field(default_factory=deque)  # queued samples to put on the line
    audio_pos: int = 0
    pending_press: list[tuple[float, str]] = field(default_factory=list)
    dialled: str = ""  # outgoing: digits the exchange decoded from ccd's DTMF
    last_digit_at: float | None = None
    outcome: str = ""
    heard: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=HEARD_SECONDS * 50))

    def summary(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "trunk": self.trunk,
            "direction": self.direction,
            "number": self.script.number,
            "name": self.script.name,
            "cid": self.script.cid,
            "phase": self.phase,
            "started": self.started,
            "answered_at": self.answered_at,
            "dialled": self.dialled,
            "outcome": self.outcome,
        }


@dataclass
class SimPhone:
    """A virtual phone: on an extension port, or on the desk behind a pass-through box."""

    line: str
    offhook: bool = False
    ringing: bool = False
    ring_started: float | None = None
    auto_answer: tuple[float, float] | None = None  # seconds (min, max) before lifting
    auto_hangup_after_busy: float | None = 1.5
    answer_at: float | None = None
    talking: bool = False
    keys: deque[np.ndarray] = field(default_factory=deque)
    busy_since: float | None = None


@dataclass
class Callee:
    """How a number dialled out through the simulated exchange behaves."""

    behaviour: str = "answer"  # answer | busy | noanswer | congestion
    answer_after: float = 6.0
    talk: float | None = 30.0


class SimDriver(Driver):
    """The simulated office (the embedded default driver)."""

    KIND = "sim"

    def __init__(self, name: str, lines: list[LineSpec], options: dict[str, Any]) -> None:
        super().__init__(name, lines, options)
        self.seed = int(options.get("seed", 1))
        self.rng = np.random.default_rng(self.seed)
        self.snr_db = float(options.get("snr_db", 30.0))
        self.speech = bool(options.get("speech", True))
        self.default_cid = str(options.get("cid", "fsk-bell202"))
        self.default_cid_format = str(options.get("cid_format", "mdmf"))
        cadence = options.get("ring_cadence", (1.0, 4.0))
        self.ring_on_s, self.ring_off_s = float(cadence[0]), float(cadence[1])
        self.plan_name = str(options.get("tone_plan", "cn"))
        self.now = 0.0
        self._ticks = 0
        self.events: list[DeviceEvent] = []
        self.calls: dict[str, SimCall] = {}  # trunk id -> active call
        self.finished: deque[SimCall] = deque(maxlen=500)
        self.phones: dict[str, SimPhone] = {}
        self.offhook: dict[str, bool] = {}  # trunk id -> ccd holds the line off-hook
        self.callees: dict[str, Callee] = {}
        self.default_callee = Callee()
        self._refs = itertools.count(1)
        self._traffic: dict[str, Any] | None = None
        self._next_arrival: float | None = None
        self._opened = False
        for spec in self.lines:
            if spec.kind is LineKind.EXTENSION or spec.passthrough:
                self.phones[spec.id] = SimPhone(spec.id)
            if spec.kind is LineKind.TRUNK:
                self.offhook[spec.id] = False
        self._noise = self._noise_bank()
        self._speech = _speech_bank(self.rng, 20.0) if self.speech else np.zeros(SAMPLE_RATE, np.float32)
        self._tones: dict[str, np.ndarray] = {}
        self._dtmf_rx: dict[str, Any] = {}
        self._busy_basis: np.ndarray | None = None
        self._tone_on: set[str] = set()
        self._tone_starts: dict[str, deque[float]] = {}
        traffic = options.get("traffic")
        if traffic:
            self.start_traffic(**dict(traffic))

    # ------------------------------------------------------------------ driver API
    async def open(self) -> None:
        self._opened = True

    async def close(self) -> None:
        self._opened = False

    def capabilities(self, line: str) -> Capabilities:
        spec = self.by_id[line]
        if spec.kind is LineKind.EXTENSION:
            return Capabilities(ring_phone=True, hook_control=False)
        if spec.passthrough:
            # the box hears both sides and can answer itself, but cannot move the call
            return Capabilities(switching=False, full_duplex=True)
        return Capabilities()

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(seed=self.seed, snr_db=self.snr_db, traffic=self._traffic)
        return d

    def command(self, cmd: DeviceCommand) -> None:
        spec = self.by_id.get(cmd.line)
        if spec is None:
            raise UnsupportedCommand(f"no line {cmd.line!r} on driver {self.name}")
        if isinstance(cmd, OffHook | OnHook):
            if spec.kind is not LineKind.TRUNK:
                raise UnsupportedCommand(f"line {cmd.line} is an extension: it has no hook to control")
            self._trunk_hook(spec.id, isinstance(cmd, OffHook))
        elif isinstance(cmd, RingPhone):
            phone = self.phones.get(cmd.line)
            if phone is None or spec.kind is not LineKind.EXTENSION:
                raise UnsupportedCommand(f"line {cmd.line} has no phone ccd can ring")
            phone.ringing = cmd.on and not phone.offhook
            phone.ring_started = self.now if phone.ringing else None
            if phone.ringing and phone.auto_answer:
                phone.answer_at = self.now + float(self.rng.uniform(*phone.auto_answer))
            elif not phone.ringing:
                phone.answer_at = None
        elif isinstance(cmd, Flash):
            pass  # a flash on the simulated exchange does nothing yet
        else:
            raise UnsupportedCommand(f"{type(cmd).__name__} is not supported by the simulated office")

    def tick(self, now: float, tx: np.ndarray) -> DriverTick:
        # The office's own time is media time: exactly 20 ms per tick. On the real clock the
        # ticks jitter; deriving tone phases and cadences from the wall would put clicks and
        # ragged cadences on the line that no real exchange makes.
        self._ticks += 1
        now = self.now = self._ticks * (FRAME / SAMPLE_RATE)
        rx = np.zeros((self.channels, FRAME), dtype=np.float32)
        self._traffic_step(now)
        self._listen_for_busy(now, tx)
        for spec in self.lines:
            if spec.kind is LineKind.TRUNK:
                self._trunk_step(spec, now, tx[spec.channel], rx)
            else:
                self._extension_step(spec, now, tx[spec.channel], rx)
        # line noise everywhere, at the configured SNR below nominal speech
        offset = int(self.rng.integers(0, len(self._noise) - FRAME * self.channels))
        rx += self._noise[offset : offset + FRAME * self.channels].reshape(self.channels, FRAME)
        np.clip(rx, -32768, 32767, out=rx)
        events, self.events = self.events, []
        return DriverTick(events, rx.astype(np.int16))

    # ------------------------------------------------------------------ controls
    def place_call(
        self,
        trunk: str | None = None,
        number: str | None = "13800138000",
        *,
        name: str | None = None,
        cid: str | None = None,
        cid_format: str | None = None,
        press: str = "",
        press_after: float = 3.0,
        talk: float | None = 60.0,
        hangup_after: float | None = 60.0,
    ) -> dict[str, Any]:
        """Start a virtual caller ringing on `trunk` (or on the first idle trunk)."""
        cid = cid or self.default_cid
        if cid not in CID_MODES:
            raise ValueError(f"unknown caller-ID mode {cid!r} (one of {', '.join(CID_MODES)})")
        if trunk is None:
            trunk = self._idle_trunk()
            if trunk is None:
                raise ValueError("every simulated trunk is busy")
        spec = self.by_id.get(trunk)
        if spec is None or spec.kind is not LineKind.TRUNK:
            raise ValueError(f"no simulated trunk {trunk!r}")
        if trunk in self.calls or self.offhook.get(trunk):
            raise ValueError(f"trunk {trunk} is busy")
        script = CallerScript(
            number=number or None,
            name=name,
            cid=cid,
            cid_format=cid_format or self.default_cid_format,
            press=press,
            press_after=press_after,
            talk=talk,
            hangup_after=hangup_after,
            speech=self.speech,
        )
        call = SimCall(f"sim-{next(self._refs)}", trunk, "in", script, started=self.now)
        self.calls[trunk] = call
        if cid == "dtmf" and number:
            self._queue_audio(call, self._cid_audio(script))
            # the first ring follows the DTMF spill by ~300 ms
            call.next_ring_change = self.now + self._queued_seconds(call) + 0.3
        else:
            call.next_ring_change = self.now
        call.phase = "ringing"
        log.info("sim: call %s from %s on trunk %s (cid %s)", call.ref, number, trunk, cid)
        return call.summary()

    def phone(self, line: str, action: str, digits: str = "") -> dict[str, Any]:
        """Act on a virtual phone: offhook, onhook, press DIGITS."""
        phone = self.phones.get(line)
        if phone is None:
            raise ValueError(f"no simulated phone on line {line!r}")
        if action == "offhook":
            self._phone_hook(phone, True)
        elif action == "onhook":
            self._phone_hook(phone, False)
        elif action == "press":
            if not phone.offhook:
                raise ValueError(f"phone {line} is on-hook: lift it before pressing keys")
            self._phone_keys(phone, digits)
        else:
            raise ValueError(f"unknown phone action {action!r} (offhook, onhook, press)")
        return {"line": line, "offhook": phone.offhook, "ringing": phone.ringing}

    def set_auto_answer(self, line: str | None, delay: tuple[float, float] | None) -> None:
        """Make one phone (or every phone) answer by itself after a random delay."""
        for phone in self.phones.values():
            if line is None or phone.line == line:
                phone.auto_answer = delay

    def set_callee(self, number: str, behaviour: str, answer_after: float = 6.0, talk: float | None = 30.0):
        if behaviour not in ("answer", "busy", "noanswer", "congestion"):
            raise ValueError(f"unknown callee behaviour {behaviour!r}")
        self.callees[number] = Callee(behaviour, answer_after, talk)

    def start_traffic(
        self,
        rate: float,
        minutes: float | None = None,
        talk: tuple[float, float] = (30.0, 180.0),
        patience: tuple[float, float] = (20.0, 90.0),
        keys: str = "",
        withheld: float = 0.05,
        numbers: list[str] | None = None,
        auto_answer: tuple[float, float] | None = (2.0, 8.0),
    ) -> dict[str, Any]:
        """Generate Poisson call arrivals at `rate` calls per hour."""
        if rate <= 0:
            raise ValueError("traffic rate must be > 0 calls per hour")
        self._traffic = {
            "rate": float(rate),
            "until": None if minutes is None else self.now + float(minutes) * 60.0,
            "talk": tuple(talk),
            "patience": tuple(patience),
            "keys": keys,
            "withheld": float(withheld),
            "numbers": list(numbers or []),
        }
        self._next_arrival = self.now + float(self.rng.exponential(3600.0 / rate))
        if auto_answer:
            self.set_auto_answer(None, tuple(auto_answer))
        return dict(self._traffic)

    def stop_traffic(self) -> None:
        self._traffic = None
        self._next_arrival = None

    def heard(self, trunk: str, seconds: float | None = None) -> np.ndarray:
        """What the caller on `trunk` (or its last caller) heard from ccd, as int16 audio."""
        call = self.calls.get(trunk) or next((c for c in reversed(self.finished) if c.trunk == trunk), None)
        if call is None or not call.heard:
            return np.zeros(0, dtype=np.int16)
        frames = list(call.heard)
        if seconds is not None:
            frames = frames[-int(seconds * 50) :]
        return np.concatenate(frames)

    def snapshot(self) -> dict[str, Any]:
        return {
            "driver": self.name,
            "now": self.now,
            "calls": [c.summary() for c in self.calls.values()],
            "recent": [c.summary() for c in list(self.finished)[-20:]],
            "phones": {
                p.line: {"offhook": p.offhook, "ringing": p.ringing, "auto_answer": p.auto_answer}
                for p in self.phones.values()
            },
            "traffic": self._traffic,
        }

    # ------------------------------------------------------------------ internals
    def _noise_bank(self) -> np.ndarray:
        level = dbm0_to_rms(SPEECH_DBM0 - self.snr_db)
        size = FRAME * max(self.channels, 1) * 64
        return (self.rng.standard_normal(size) * level).astype(np.float32)

    def _idle_trunk(self) -> str | None:
        for spec in self.lines:
            if (
                spec.kind is LineKind.TRUNK
                and spec.id not in self.calls
                and not self.offhook.get(spec.id)
                and not (spec.passthrough and self.phones[spec.id].offhook)
            ):
                return spec.id
        return None

    def _tone(self, name: str) -> np.ndarray:
        """One seamless cycle of a call-progress tone from the tone plan, cached."""
        if name not in self._tones:
            from ccd.dsp.tones import get_plan, tone_generate

            plan = get_plan(self.plan_name)
            spec = plan.tones[name]
            cycle = sum(spec.cadence) if spec.cadence else 1.0
            self._tones[name] = tone_generate(plan, name, cycle, level_dbm0=-15.0).astype(np.float32)
        return self._tones[name]

    def _tone_frame(self, name: str, since: float, now: float) -> np.ndarray:
        cycle = self._tone(name)
        start = round((now - since) * SAMPLE_RATE) % len(cycle)
        idx = (start + np.arange(FRAME)) % len(cycle)
        return cycle[idx]

    def _speech_frame(self, seed_offset: int, now: float) -> np.ndarray:
        start = (int(now * SAMPLE_RATE) + seed_offset * 7919) % (len(self._speech) - FRAME)
        return self._speech[start : start + FRAME]

    def _cid_audio(self, script: CallerScript) -> np.ndarray:
        from ccd.dsp.callerid import CallerId, cid_audio

        fmt = "dtmf" if script.cid == "dtmf" else script.cid_format
        cid = CallerId(
            format=fmt,
            number=script.number if script.number else None,
            name=script.name if fmt != "sdmf" else None,
            datetime=self._cid_datetime(),
            number_absent=None if script.number else "P",
        )
        return cid_audio(cid, modulation=script.cid, fmt=fmt).astype(np.float32)

    def _cid_datetime(self) -> str:
        wall = self.options.get("clock")
        import datetime as _dt

        ts = wall.wall() if wall is not None else 1767603600.0 + self.now
        return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%m%d%H%M")

    def _queue_audio(self, call: SimCall, samples: np.ndarray) -> None:
        call.audio.append(np.asarray(samples, dtype=np.float32))

    @staticmethod
    def _queued_seconds(call: SimCall) -> float:
        return sum(len(a) for a in call.audio) / SAMPLE_RATE

    @staticmethod
    def _pop_audio(queue: deque[np.ndarray], out: np.ndarray) -> bool:
        """Move up to len(out) queued samples into out; True if anything was played."""
        filled = 0
        while queue and filled < len(out):
            head = queue[0]
            take = min(len(head), len(out) - filled)
            out[filled : filled + take] += head[:take]
            filled += take
            if take == len(head):
                queue.popleft()
            else:
                queue[0] = head[take:]
        return filled > 0

    def _trunk_hook(self, trunk: str, offhook: bool) -> None:
        was = self.offhook.get(trunk, False)
        self.offhook[trunk] = offhook
        call = self.calls.get(trunk)
        if offhook and not was:
            if call is not None and call.direction == "in" and call.phase == "ringing":
                self._answer(call)
            elif call is None:
                # ccd seizes an idle line for an outgoing call: the exchange gives dial tone
                out = SimCall(f"sim-{next(self._refs)}", trunk, "out", CallerScript(None), started=self.now)
                out.phase = "dialtone"
                self.calls[trunk] = out
        elif not offhook and was:
            phone = self.phones.get(trunk)
            if call is not None and not (phone and phone.offhook):
                self._end(call, "ccd hung up" if call.phase != "gone" else call.outcome)

    def _answer(self, call: SimCall) -> None:
        call.phase = "answered"
        call.answered_at = self.now
        if call.ring_on:
            call.ring_on = False
            self.events.append(Ring(call.trunk, on=False))
        script = call.script
        t = self.now + script.press_after
        for digit in script.press:
            call.pending_press.append((t, digit))
            t += 0.25

    def _far_hangup(self, call: SimCall, outcome: str) -> None:
        """The far end goes: from now on the line carries busy tone only."""
        call.phase = "gone"
        call.gone_at = self.now
        call.outcome = outcome
        call.audio.clear()
        log.info("sim: %s far end hung up on trunk %s (%s)", call.ref, call.trunk, outcome)

    def _end(self, call: SimCall, outcome: str) -> None:
        call.phase = "ended"
        call.outcome = call.outcome or outcome
        if call.ring_on:
            self.events.append(Ring(call.trunk, on=False))
            call.ring_on = False
        self.calls.pop(call.trunk, None)
        self.finished.append(call)

    def _trunk_step(self, spec: LineSpec, now: float, tx_row: np.ndarray, rx: np.ndarray) -> None:
        call = self.calls.get(spec.id)
        phone = self.phones.get(spec.id) if spec.passthrough else None
        line_rx = rx[spec.channel]
        if call is not None:
            call.heard.append(tx_row.copy())
            if call.direction == "in":
                self._incoming_step(spec, call, phone, now, line_rx)
            else:
                self._outgoing_step(spec, call, now, tx_row, line_rx)
        if phone is not None:
            self._phone_audio(phone, now, line_rx)

    def _incoming_step(
        self, spec: LineSpec, call: SimCall, phone: SimPhone | None, now: float, line_rx: np.ndarray
    ) -> None:
        script = call.script
        if call.phase == "ringing":
            self._pop_audio(call.audio, line_rx)  # DTMF caller ID before the first ring
            if script.hangup_after is not None and now - call.started >= script.hangup_after:
                log.info("sim: %s gave up after %.0f s of ringing", call.ref, now - call.started)
                self._end(call, "abandoned")
                if phone is not None:
                    phone.ringing = False
                return
            if now >= call.next_ring_change:
                call.ring_on = not call.ring_on
                self.events.append(Ring(spec.id, on=call.ring_on))
                if phone is not None:
                    phone.ringing = call.ring_on or phone.ringing
                    if call.ring_on and phone.ring_started is None:
                        phone.ring_started = now
                        if phone.auto_answer:
                            phone.answer_at = now + float(self.rng.uniform(*phone.auto_answer))
                if call.ring_on:
                    call.ring_count += 1
                    call.next_ring_change = now + self.ring_on_s
                else:
                    call.next_ring_change = now + self.ring_off_s
                    if call.ring_count == 1 and script.cid.startswith("fsk"):
                        # FSK caller ID about 0.5 s into the first silent interval
                        self._queue_audio(call, np.zeros(int(0.5 * SAMPLE_RATE), np.float32))
                        self._queue_audio(call, self._cid_audio(script))
            return
        if call.phase == "answered":
            self._pop_audio(call.audio, line_rx)
            while call.pending_press and call.pending_press[0][0] <= now:
                _, digit = call.pending_press.pop(0)
                from ccd.dsp.dtmf import dtmf_generate

                self._queue_audio(call, dtmf_generate(digit, on_ms=100, off_ms=0, level_dbm0=-8.0))
            if script.speech and not call.audio and not call.pending_press:
                # the caller talks in turns: roughly half the time
                turn = int((now - (call.answered_at or now)) / 3.0) % 2 == 0
                if turn:
                    line_rx += self._speech_frame(hash(call.ref) % 97, now)
            if script.talk is not None and now - (call.answered_at or now) >= script.talk:
                self._far_hangup(call, "caller hung up")
            return
        if call.phase == "gone":
            line_rx += self._tone_frame("busy", call.gone_at or now, now)

    def _outgoing_step(
        self, spec: LineSpec, call: SimCall, now: float, tx_row: np.ndarray, line_rx: np.ndarray
    ) -> None:
        detector = self._dtmf_rx.get(spec.id)
        if call.phase in ("dialtone", "dialing"):
            if detector is None:
                from ccd.dsp.dtmf import DtmfDetector

                detector = self._dtmf_rx[spec.id] = DtmfDetector()
            for event in detector.process(tx_row):
                call.dialled += event.digit
                call.last_digit_at = now
                call.phase = "dialing"
            if call.phase == "dialtone":
                line_rx += self._tone_frame("dial", call.started, now)
                return
            if call.last_digit_at is not None and now - call.last_digit_at >= 3.0:
                callee = self.callees.get(call.dialled, self.default_callee)
                call.script = CallerScript(call.dialled, talk=callee.talk, speech=self.speech)
                call.outcome = callee.behaviour
                call.phase = "callee_" + callee.behaviour
                call.started = now
                self._dtmf_rx.pop(spec.id, None)
                log.info("sim: exchange routes %s on trunk %s: %s", call.dialled, spec.id, callee.behaviour)
            return
        if call.phase == "callee_busy":
            line_rx += self._tone_frame("busy", call.started, now)
        elif call.phase == "callee_congestion":
            line_rx += self._tone_frame("congestion", call.started, now)
        elif call.phase in ("callee_answer", "callee_noanswer"):
            callee = self.callees.get(call.dialled, self.default_callee)
            if call.phase == "callee_answer" and now - call.started >= callee.answer_after:
                call.phase = "answered"
                call.answered_at = now
            elif call.phase == "callee_noanswer" and now - call.started >= 60.0:
                call.phase = "gone"
                call.gone_at = now
                call.outcome = "no answer"
            else:
                line_rx += self._tone_frame("ringback", call.started, now)
        elif call.phase == "answered":
            if call.script.speech:
                turn = int((now - (call.answered_at or now)) / 3.0) % 2 == 1
                if turn:
                    line_rx += self._speech_frame(hash(call.ref) % 89, now)
            if call.script.talk is not None and now - (call.answered_at or now) >= call.script.talk:
                self._far_hangup(call, "callee hung up")
        elif call.phase == "gone":
            line_rx += self._tone_frame("busy", call.gone_at or now, now)

    # ------------------------------------------------------------------ phones
    def _extension_step(self, spec: LineSpec, now: float, tx_row: np.ndarray, rx: np.ndarray) -> None:
        self._phone_audio(self.phones[spec.id], now, rx[spec.channel])

    def _listen_for_busy(self, now: float, tx: np.ndarray) -> None:
        """Auto-answering virtual agents listen like people: busy tone means the caller has
        gone, so they put the handset down. One vectorised measure for all of them: the
        share of each phone's received power at the busy-tone frequencies, and how often
        that tone has started in the last two seconds (busy and congestion start every
        0.5–1.4 s; ringback only every 5 s)."""
        listeners = [
            p
            for p in self.phones.values()
            if p.offhook
            and p.auto_answer is not None
            and p.busy_since is None
            and self.by_id[p.line].kind is LineKind.EXTENSION
        ]
        if not listeners:
            return
        rows = np.fromiter(
            (self.by_id[p.line].channel for p in listeners), dtype=np.intp, count=len(listeners)
        )
        block = tx[rows].astype(np.float32)
        total = np.einsum("ij,ij->i", block, block) + 1e3
        if self._busy_basis is None:
            from ccd.dsp.tones import get_plan

            freqs = get_plan(self.plan_name).tones["busy"].freqs
            t = np.arange(FRAME) / SAMPLE_RATE
            self._busy_basis = (
                np.concatenate(
                    [np.stack([np.cos(2 * np.pi * f * t), np.sin(2 * np.pi * f * t)]) for f in freqs]
                )
                .astype(np.float32)
                .T
            )
        proj = block @ self._busy_basis
        tonal = (2.0 / FRAME) * np.einsum("ij,ij->i", proj, proj) / total > 0.5
        for phone, on in zip(listeners, tonal, strict=True):
            was_on = phone.line in self._tone_on
            if on and not was_on:
                starts = self._tone_starts.setdefault(phone.line, deque(maxlen=4))
                starts.append(now)
                if len(starts) >= 3 and now - starts[0] <= 3.0:
                    phone.busy_since = now
                self._tone_on.add(phone.line)
            elif not on and was_on:
                self._tone_on.discard(phone.line)

    def _phone_audio(self, phone: SimPhone, now: float, line_rx: np.ndarray) -> None:
        if phone.ringing and phone.answer_at is not None and now >= phone.answer_at:
            self._phone_hook(phone, True)
        if not phone.offhook:
            return
        if self._pop_audio(phone.keys, line_rx):
            return
        spec = self.by_id[phone.line]
        if phone.talking:
            turn = int(now / 3.0) % 2 == 1
            if turn and self.speech:
                line_rx += self._speech_frame(spec.channel + 13, now) * 0.8
        if phone.auto_answer is not None:
            # an auto-answering agent hangs up a little after the far end has gone
            if phone.busy_since is None and self._line_far_gone(phone.line):
                phone.busy_since = now
            if phone.busy_since is not None and now - phone.busy_since >= (
                phone.auto_hangup_after_busy or 1.5
            ):
                self._phone_hook(phone, False)

    def _line_far_gone(self, line: str) -> bool:
        call = self.calls.get(line)  # a pass-through desk phone hears its own trunk
        return call is not None and call.phase == "gone"

    def _phone_hook(self, phone: SimPhone, offhook: bool) -> None:
        if phone.offhook == offhook:
            return
        phone.offhook = offhook
        phone.ringing = False
        phone.ring_started = None
        phone.answer_at = None
        phone.talking = offhook
        phone.busy_since = None
        phone.keys.clear()
        self._tone_on.discard(phone.line)
        self._tone_starts.pop(phone.line, None)
        self.events.append(Hook(phone.line, offhook=offhook))
        spec = self.by_id[phone.line]
        if spec.kind is LineKind.TRUNK:  # the desk phone behind a pass-through box
            call = self.calls.get(spec.id)
            if offhook and call is not None and call.direction == "in" and call.phase == "ringing":
                self._answer(call)
            elif not offhook and call is not None and not self.offhook.get(spec.id):
                self._end(call, "desk phone hung up" if call.phase != "gone" else call.outcome)

    def _phone_keys(self, phone: SimPhone, digits: str) -> None:
        from ccd.dsp.dtmf import dtmf_generate

        for digit in digits:
            phone.keys.append(dtmf_generate(digit, on_ms=90, off_ms=90, level_dbm0=-8.0).astype(np.float32))

    # ------------------------------------------------------------------ traffic
    def _traffic_step(self, now: float) -> None:
        traffic = self._traffic
        if traffic is None or self._next_arrival is None:
            return
        if traffic["until"] is not None and now >= traffic["until"]:
            self.stop_traffic()
            return
        while self._next_arrival is not None and now >= self._next_arrival:
            self._next_arrival += float(self.rng.exponential(3600.0 / traffic["rate"]))
            trunk = self._idle_trunk()
            if trunk is None:
                continue  # every line busy: the caller hears busy from the exchange
            numbers = traffic["numbers"]
            if self.rng.random() < traffic["withheld"]:
                number, cid = None, "fsk-bell202"
            else:
                if numbers and self.rng.random() < 0.7:
                    number = str(numbers[int(self.rng.integers(0, len(numbers)))])
                else:
                    number = (
                        "1"
                        + str(int(self.rng.choice([3, 5, 8])))
                        + "".join(str(d) for d in self.rng.integers(0, 10, 9))
                    )
                cid = self.default_cid
            choices = str(traffic["keys"]).split("|")
            press = choices[int(self.rng.integers(0, len(choices)))]
            self.place_call(
                trunk,
                number,
                cid=cid,
                press=press,
                talk=float(self.rng.uniform(*traffic["talk"])),
                hangup_after=float(self.rng.uniform(*traffic["patience"])),
            )
