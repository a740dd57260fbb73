"""`ccd line test`: one test call on one line, measured, as a sans-IO state machine.

A person calls the line under test from another phone. The session watches the rings and
the caller ID, answers, waits for the person to hang up, listens to what the exchange
sends then (busy tone, a polarity reversal, a loop drop), goes on-hook, seizes the line
again and listens to the dial tone. What it heard becomes a `LineProfile`: ring cadence,
caller-ID modulation and where it sits (after the first ring, after a polarity reversal,
before any ring), the busy and dial tones (frequencies and cadence), and how the far
end's hang-up shows.

    WAITING --ring/CID--> RINGING --2 ring cycles--> ANSWERED --busy tone heard--> RELEASED
        --1 s--> SEIZED --3.5 s of dial tone--> DONE          (any phase --timeout--> DONE)

The session never touches a device: `feed_event()`, `feed_audio()` and `tick()` take what
the daemon saw (device events, the line's received 20 ms frames, the time) and return the
hook commands to send ("offhook" / "onhook"). The daemon's glue is
`ccd.server.linetest_commands`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ccd.drivers import base as dev
from ccd.dsp.lineprofile import ToneMeasure, find_tone, fsk_standard, measure_tone, ring_cadence

log = logging.getLogger(__name__)

RATE = 8000
FRAME = 160
ANSWER_AFTER_PAIRS = 2  # ring on/off cycles measured before answering
MAX_RINGS = 6  # answer by then whatever the cadence looks like
RING_GONE_AFTER = 8.0  # no ring for this long while ringing: the caller gave up
BUSY_SECONDS = 3.0  # steady tone this long after the hang-up: measured, release the line
AFTER_SIGNAL_WAIT = 6.0  # after a loop drop / reversal, wait this long for a tone
ANSWERED_MAX = 45.0  # the person never hung up: stop listening
CHECK_EVERY = 0.5  # how often the answered audio is searched for a tone
RELEASE_PAUSE = 1.0  # on-hook this long before seizing the line for dial tone
DIAL_LISTEN = 3.5
DIAL_SKIP = 0.3  # the seizure click and the exchange's reaction time
MAX_BUFFER_S = 120.0

INSTRUCTIONS = (
    "Line test on line {line}: from another phone, call this line now ({seconds:g} s).\n"
    "Let it ring; ccd answers after two or three rings. When you hear the beep (or silence),\n"
    "hang up your phone and leave the line alone: ccd listens to the busy tone, then takes\n"
    "the line itself to listen to the dial tone. Do not pick up a phone on this line."
)


@dataclass
class LineProfile:
    """What a line test measured; `as_config()` is the `[[line_profiles]]` entry."""

    line: str
    ring_cadence: tuple[float, ...] | None = None
    cid: str | None = None  # fsk-bell202 | fsk-v23 | dtmf | none; None: not observed
    cid_start: str | None = None  # ring | polarity | before_ring
    hangup: str | None = None  # polarity | loop_drop | busy_tone | none
    busy: ToneMeasure | None = None
    dial: ToneMeasure | None = None
    caller: str | None = None  # the number the caller ID carried
    measured_at: float | None = None  # wall time
    notes: list[str] = field(default_factory=list)
    complete: bool = False

    def as_config(self) -> dict[str, Any]:
        """The `[[line_profiles]]` table (only what was measured)."""
        out: dict[str, Any] = {"line": self.line}
        if self.measured_at is not None:
            out["measured"] = dt.datetime.fromtimestamp(self.measured_at, dt.UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        if self.ring_cadence:
            out["ring_cadence"] = list(self.ring_cadence)
        if self.cid:
            out["cid"] = self.cid
        if self.cid_start:
            out["cid_start"] = self.cid_start
        if self.hangup:
            out["hangup"] = self.hangup
        if self.busy is not None:
            out["busy"] = self.busy.as_dict()
        if self.dial is not None:
            out["dial"] = self.dial.as_dict()
        return out

    def as_dict(self) -> dict[str, Any]:
        """For the socket reply: the config entry plus what a person wants to read."""
        return {
            "profile": self.as_config(),
            "caller": self.caller,
            "busy_level_dbm0": round(self.busy.level_dbm0, 1) if self.busy else None,
            "dial_level_dbm0": round(self.dial.level_dbm0, 1) if self.dial else None,
            "notes": list(self.notes),
            "complete": self.complete,
        }


class LineTest:
    """One test call on `line`, fed by the daemon tick by tick."""

    def __init__(self, line: str, seconds: float, now: float, wall: float, *, audio: bool = True) -> None:
        self.line = line
        self.deadline = now + seconds
        self.audio = audio  # the line gives received audio (else: rings and device CID only)
        self.phase = "waiting"
        self.since = now
        self.profile = LineProfile(line, measured_at=wall)
        self.rings: list[tuple[float, bool]] = []
        self.polarity: list[float] = []
        self.loop_drop: float | None = None
        self.first_ring: float | None = None
        self._pre: list[np.ndarray] = []  # audio before the answer
        self._pre_times: list[float] = []  # time of each pre-answer frame
        self._post: list[np.ndarray] = []  # audio of the current listening phase
        self._post_start = 0.0
        self._last_check = 0.0
        self._cid_rx: list[tuple[str, Any]] = []
        self._dtmf: Any = None
        self._dtmf_cid: Any = None
        self._cid_found: tuple[str, float, Any] | None = None  # (standard, time, CallerId)
        self._hw_cid: dev.HwCallerId | None = None
        if audio:
            from ccd.dsp.callerid import CallerIdReceiver, DtmfCidAssembler
            from ccd.dsp.dtmf import DtmfDetector

            self._cid_rx = [("bell202", CallerIdReceiver("bell202")), ("v23", CallerIdReceiver("v23"))]
            self._dtmf = DtmfDetector()
            self._dtmf_cid = DtmfCidAssembler()

    @property
    def done(self) -> bool:
        return self.phase == "done"

    # ---------------------------------------------------------------- inputs

    def feed_event(self, event: dev.DeviceEvent, now: float) -> list[str]:
        """A device event of the line under test; returns hook commands."""
        if isinstance(event, dev.Ring):
            if self.phase in ("waiting", "ringing"):
                self.rings.append((now, event.on))
                if event.on and self.first_ring is None:
                    self.first_ring = now
                if self.phase == "waiting":
                    self._to("ringing", now)
                if event.on:
                    return self._maybe_answer(now)
        elif isinstance(event, dev.Polarity):
            self.polarity.append(now)
            if self.phase == "answered" and self.profile.hangup is None:
                self.profile.hangup = "polarity"
                self.loop_drop = self.loop_drop or now
        elif isinstance(event, dev.Loop) and not event.current:
            if self.phase == "answered" and self.loop_drop is None:
                self.loop_drop = now
                self.profile.hangup = self.profile.hangup or "loop_drop"
        elif isinstance(event, dev.HwCallerId):
            if self._hw_cid is None and self.phase in ("waiting", "ringing"):
                self._hw_cid = event
                if self.phase == "waiting":
                    self._to("ringing", now)
        elif isinstance(event, dev.HwTone) and event.tone in ("busy", "congestion"):
            if self.phase == "answered" and self.loop_drop is None:
                self.loop_drop = now
                self.profile.hangup = self.profile.hangup or "busy_tone"
        return []

    def feed_audio(self, frame: np.ndarray, now: float) -> list[str]:
        """The line's received 20 ms frame."""
        if not self.audio:
            return []
        x = np.asarray(frame, dtype=np.int16)
        if self.phase in ("waiting", "ringing"):
            if len(self._pre) * FRAME < MAX_BUFFER_S * RATE:
                self._pre.append(x.copy())
                self._pre_times.append(now)
                self._listen_for_cid(x, now)
        elif self.phase in ("answered", "seized"):
            self._post.append(x.copy())
        return []

    def tick(self, now: float) -> list[str]:
        """Timers and the periodic search for tones."""
        phase = self.phase
        if phase == "done":
            return []
        if now >= self.deadline and phase in ("waiting", "ringing"):
            self._note("no call came in" if phase == "waiting" else "the call was not answered in time")
            return self._finish(now, [])
        if phase == "ringing":
            last = max((t for t, on in self.rings), default=self.since)
            if now - last > RING_GONE_AFTER:
                self._note("the caller hung up before ccd answered: call again and let it ring")
                return self._finish(now, [])
        elif phase == "answered":
            return self._answered_tick(now)
        elif phase == "released" and now - self.since >= RELEASE_PAUSE:
            self._to("seized", now)
            self._post = []
            return ["offhook"]
        elif phase == "seized" and now - self.since >= DIAL_LISTEN:
            self._measure_dial()
            return self._finish(now, ["onhook"])
        return []

    # ---------------------------------------------------------------- phases

    def _to(self, phase: str, now: float) -> None:
        log.debug("line test %s: %s -> %s", self.line, self.phase, phase)
        self.phase = phase
        self.since = now

    def _note(self, text: str) -> None:
        self.profile.notes.append(text)
        log.info("line test %s: %s", self.line, text)

    def _maybe_answer(self, now: float) -> list[str]:
        ons = sum(1 for _, on in self.rings if on)
        pairs = ons - 1  # complete on/off cycles before this ring
        if pairs >= ANSWER_AFTER_PAIRS:
            cadence = ring_cadence(self.rings)
            if cadence is not None and (len(cadence) // 2 == 1 or pairs >= 4 or ons >= MAX_RINGS):
                return self._answer(now)
        if ons >= MAX_RINGS:
            return self._answer(now)
        return []

    def _answer(self, now: float) -> list[str]:
        self.profile.ring_cadence = ring_cadence(self.rings)
        self._classify_cid()
        self._to("answered", now)
        self._post = []
        self._post_start = now
        self._last_check = now
        return ["offhook"]

    def _answered_tick(self, now: float) -> list[str]:
        if now - self.since >= ANSWERED_MAX:
            self._note(f"the far end did not hang up within {ANSWERED_MAX:g} s")
            return self._release(now)
        if self.loop_drop is not None and not self.audio:
            return self._release(now)
        if self.loop_drop is not None and now - self.loop_drop >= AFTER_SIGNAL_WAIT:
            self._measure_busy(final=True)
            return self._release(now)
        if not self.audio or now - self._last_check < CHECK_EVERY:
            return []
        self._last_check = now
        x = np.concatenate(self._post[-int(12 * RATE / FRAME) :]) if self._post else np.zeros(0)
        span = find_tone(x, RATE, min_seconds=BUSY_SECONDS)
        if span is None:
            return []
        self.profile.busy = measure_tone(x[span[0] : span[1]], RATE)
        if self.profile.hangup is None:
            self.profile.hangup = "busy_tone"
        return self._release(now)

    def _measure_busy(self, final: bool) -> None:
        if not self._post or self.profile.busy is not None:
            return
        x = np.concatenate(self._post)
        span = find_tone(x, RATE, min_seconds=1.5)
        if span is not None:
            self.profile.busy = measure_tone(x[span[0] : span[1]], RATE)
        elif final:
            self._note("no busy tone after the hang-up")

    def _release(self, now: float) -> list[str]:
        if self.profile.busy is None and self.audio:
            self._measure_busy(final=False)
        if self.profile.hangup is None:
            self.profile.hangup = "none"
        self._to("released", now)
        return ["onhook"]

    def _measure_dial(self) -> None:
        if not self.audio:
            self._note("this line gives no audio: dial and busy tones cannot be measured")
            return
        x = np.concatenate(self._post) if self._post else np.zeros(0, np.int16)
        x = x[int(DIAL_SKIP * RATE) :]
        span = find_tone(x, RATE, min_seconds=min(2.0, max(0.5, x.size / RATE - 0.5)))
        self.profile.dial = measure_tone(x[span[0] : span[1]], RATE) if span else None
        if self.profile.dial is None:
            self._note("no dial tone when the line was seized")

    def _finish(self, now: float, commands: list[str]) -> list[str]:
        p = self.profile
        p.complete = bool(p.ring_cadence and p.hangup and (not self.audio or (p.busy and p.dial)))
        self._to("done", now)
        return commands

    # ---------------------------------------------------------------- caller ID

    def _listen_for_cid(self, x: np.ndarray, now: float) -> None:
        if self._cid_found is not None:
            return
        for name, rx in self._cid_rx:
            for ev in rx.process(x):
                if ev.cid.valid and self._cid_found is None:
                    self._cid_found = ("fsk", self._time_of(ev.start), (ev, name))
        for d in self._dtmf.process(x):
            cid = self._dtmf_cid.feed(d.digit, d.start)
            if cid is not None and self._cid_found is None:
                start = self._dtmf_cid.last_span[0] if self._dtmf_cid.last_span else d.start
                self._cid_found = ("dtmf", self._time_of(start), cid)

    def _time_of(self, sample: int) -> float:
        i = min(max(sample // FRAME, 0), len(self._pre_times) - 1)
        return self._pre_times[i] + (sample % FRAME) / RATE

    def _classify_cid(self) -> None:
        p = self.profile
        found = self._cid_found
        if found is None:
            if self._hw_cid is not None:
                hw = self._hw_cid
                p.caller = hw.number or ({"P": "withheld", "O": "unavailable"}.get(hw.number_absent or ""))
                self._note("caller ID decoded by the device itself: its modulation cannot be measured here")
                at = None
            else:
                p.cid = "none" if self.audio else None
                self._note("no caller ID heard (withheld, not subscribed, or not sent on this line)")
                return
        else:
            kind, at, what = found
            if kind == "dtmf":
                p.cid = "dtmf"
                p.caller = what.number
            else:
                ev, _ = what
                audio = np.concatenate(self._pre).astype(np.float64)
                p.cid = fsk_standard(audio, ev.start)
                p.caller = ev.cid.number or {"P": "withheld", "O": "unavailable"}.get(
                    ev.cid.number_absent or ""
                )
        if found is None:
            return
        first = self.first_ring
        reversal = [t for t in self.polarity if at is not None and t <= at and at - t <= 3.0]
        if first is not None and at is not None and at > first:
            p.cid_start = "ring"
        elif reversal:
            p.cid_start = "polarity"
        else:
            p.cid_start = "before_ring"
