"""A fake engine for driving the ACD without audio: lines, calls and the call-control API.

It keeps the engine's rules that matter to the ACD (a phone rings only when idle, a call's
end releases ringing phones and leaves lifted ones hearing busy tone until they hang up,
an application's hooks are called in the same order) and lets a test inject the events a
real office produces: answers, hang-ups, keys, unanswered phones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccd.drivers.base import LineKind
from ccd.telephony.acd_queue import Acd, AcdApp, QueueSpec
from ccd.telephony.line import LineState

S = LineState


@dataclass
class _Caps:
    switching: bool = True
    play: bool = True


@dataclass
class _Spec:
    passthrough: bool = False


@dataclass
class FakeLine:
    id: str
    state: LineState = S.IDLE
    call_id: str | None = None
    since: float = 0.0
    kind: LineKind = LineKind.EXTENSION
    spec: _Spec = field(default_factory=_Spec)
    caps: _Caps = field(default_factory=_Caps)


@dataclass
class FakeCall:
    uniqueid: str
    src: str = ""
    direction: str = "in"
    lang: str = "zh"
    trunk: str | None = "T"
    channel: str = "T"
    dstchannel: str = ""
    vars: dict[str, Any] = field(default_factory=dict)
    lines: set[str] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)
    app: Any = None
    end: float | None = None
    answer: float | None = None
    queue: str | None = None
    agent: str | None = None


class FakeCtl:
    """Implements what `Acd` calls on the engine."""

    def __init__(self, extensions: list[str]) -> None:
        self.now = 0.0
        self.calls: dict[str, FakeCall] = {}
        self.apps: dict[str, Any] = {}
        self.prompts = None
        self.exts = {e: FakeLine(e) for e in extensions}
        self.rows: list[tuple[str, str, str, str, tuple[str, ...]]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.played: dict[str, list[tuple[list[str], str | None]]] = {}
        self.pending_play: dict[str, str] = {}
        self._n = 0
        self.acd: Acd | None = None

    # --------------------------------------------------------------- CallControl
    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    def answer(self, call: FakeCall) -> None:
        if call.answer is None:
            call.answer = self.now

    def play_prompts(
        self, call: FakeCall, names: Any, tag: str | None = None, *, replace: bool = True
    ) -> None:
        self.played.setdefault(call.uniqueid, []).append((list(names), tag))
        if tag:
            self.pending_play[call.uniqueid] = tag

    def play(self, call: FakeCall, audio: Any, tag: str | None = None, *, replace: bool = True) -> None:
        if tag:
            self.pending_play[call.uniqueid] = tag

    def play_loop(self, call: FakeCall, audio: Any, tag: str | None = None) -> None:
        self.pending_play.pop(call.uniqueid, None)

    def stop_play(self, call: FakeCall) -> None:
        self.pending_play.pop(call.uniqueid, None)

    def set_timer(self, call: FakeCall, delay: float, tag: str) -> None:
        pass

    def cancel_timer(self, call: FakeCall, tag: str) -> None:
        pass

    def ring(self, call: FakeCall, extension: str, *, agent: str | None = None) -> bool:
        line = self.exts.get(extension)
        if line is None or line.state is not S.IDLE:
            return False
        line.state, line.call_id, line.since = S.RINGING, call.uniqueid, self.now
        call.offered.add(extension)
        call.lines.add(extension)
        return True

    def stop_ring(self, call: FakeCall, extension: str) -> None:
        line = self.exts.get(extension)
        if line is None or extension not in call.offered:
            return
        call.offered.discard(extension)
        call.lines.discard(extension)
        if line.state is S.RINGING:
            line.state, line.call_id = S.IDLE, None

    def connect(self, call: FakeCall, extension: str) -> None:
        call.lines.add(extension)
        self.pending_play.pop(call.uniqueid, None)

    def disconnect(self, call: FakeCall, extension: str) -> None:
        line = self.exts.get(extension)
        call.lines.discard(extension)
        if line is not None and line.call_id == call.uniqueid:
            if line.state is S.CONNECTED:
                line.state = S.WAIT_HANGUP
            line.call_id = None

    def hangup(self, call: FakeCall, disposition: str | None = None) -> None:
        self.finish(call)

    def route(self, call: FakeCall, kind: str, target: str | None = None) -> None:
        if call.app is not None:
            old, call.app = call.app, None
            old.stop(self, call)
        if kind == "queue" and self.acd is not None and target in self.acd.queues:
            call.app = AcdApp(self.acd, target)
            call.app.start(self, call)
        else:
            self.finish(call)

    def journal(self, call: Any, queue: str, agent: str, event: str, *data: Any) -> None:
        self.rows.append(
            (call.uniqueid if call else "NONE", queue, agent, event, tuple(str(d) for d in data))
        )

    def publish(
        self, name: str, data: dict[str, Any], key: str | None = None, coalesce: bool = False
    ) -> None:
        self.events.append((name, data))
        del self.events[:-200]

    def line(self, line_id: str) -> FakeLine | None:
        return self.exts.get(line_id)

    def ext(self, extension: str) -> FakeLine | None:
        return self.exts.get(extension)

    def originate(self, ext_id: str, number: str) -> FakeCall:
        line = self.exts.get(ext_id)
        if line is None:
            raise LookupError(ext_id)
        if line.state is not S.IDLE:
            raise RuntimeError(f"extension {ext_id} is busy")
        call = self._new(number, direction="out")
        call.trunk, call.channel = None, ext_id
        line.state, line.call_id, line.since = S.RINGING, call.uniqueid, self.now
        call.lines.add(ext_id)
        return call

    def hold(self, call: FakeCall, extension: str, music: Any) -> None:
        pass

    def retrieve(self, call: FakeCall, extension: str) -> None:
        pass

    def talk(self, a: str, b: str) -> None:
        pass

    def conference(self, call: FakeCall, extensions: Any) -> None:
        pass

    def listen(self, call: FakeCall, supervisor: str, agent_ext: str, mode: str) -> None:
        pass

    def send_dtmf(self, call: FakeCall, digits: str) -> None:
        pass

    # --------------------------------------------------------------- the office
    def _new(self, number: str, direction: str = "in") -> FakeCall:
        self._n += 1
        call = FakeCall(f"c{self._n}", src=number, direction=direction)
        self.calls[call.uniqueid] = call
        return call

    def arrive(self, queue: str, number: str = "13800000000", priority: int = 0) -> FakeCall:
        """A caller reaches the queue (after the IVR or straight from the inbound rule)."""
        call = self._new(number)
        call.vars["priority"] = priority
        assert self.acd is not None
        call.app = AcdApp(self.acd, queue)
        call.app.start(self, call)
        return call

    def finish(self, call: FakeCall) -> None:
        if call.end is not None:
            return
        if call.app is not None:
            app, call.app = call.app, None
            app.stop(self, call)
        call.end = self.now
        for ext in sorted(call.lines | call.offered):
            line = self.exts.get(ext)
            if line is None or line.call_id != call.uniqueid:
                continue
            if line.state is S.RINGING:
                line.state, line.call_id = S.IDLE, None
            elif line.state is S.CONNECTED:
                line.state = S.WAIT_HANGUP
        call.lines.clear()
        call.offered.clear()
        self.pending_play.pop(call.uniqueid, None)
        self.calls.pop(call.uniqueid, None)

    def lift(self, extension: str) -> bool:
        """The phone at `extension` is lifted while it rings."""
        line = self.exts[extension]
        call = self.calls.get(line.call_id or "")
        if line.state is not S.RINGING or call is None:
            return False
        line.state, line.since = S.CONNECTED, self.now
        if call.direction == "out" and call.channel == extension and call.trunk is None:
            call.trunk = "T2"
            if call.app is not None:
                call.app.on_answered(self, call, line)
            return True
        call.offered.discard(extension)
        if call.app is not None:
            call.app.on_answered(self, call, line)
        return True

    def put_down(self, extension: str) -> None:
        """The phone at `extension` is hung up."""
        line = self.exts[extension]
        if line.state is S.WAIT_HANGUP or line.state is S.IDLE:
            line.state, line.call_id = S.IDLE, None
            return
        if line.state is not S.CONNECTED:
            return
        call = self.calls.get(line.call_id or "")
        line.state, line.call_id = S.IDLE, None
        if call is None:
            return
        call.lines.discard(extension)
        if call.app is not None and call.app.on_party_left(self, call, line):
            return
        self.finish(call)

    def caller_hangs_up(self, call: FakeCall) -> None:
        if call.end is not None:
            return
        if call.app is not None:
            call.app.on_caller_gone(self, call)
        self.finish(call)

    def press(self, call: FakeCall, digit: str) -> None:
        if call.end is None and call.app is not None:
            call.app.on_digit(self, call, digit)

    def play_finished(self, call: FakeCall) -> None:
        tag = self.pending_play.pop(call.uniqueid, None)
        if tag and call.app is not None and call.end is None:
            call.app.on_play_done(self, call, tag)

    def answer_timeouts(self, limit: float = 45.0) -> None:
        for line in self.exts.values():
            if line.state is S.RINGING and self.now - line.since >= limit:
                call = self.calls.get(line.call_id or "")
                line.state, line.call_id = S.IDLE, None
                if call is not None:
                    call.offered.discard(line.id)
                    call.lines.discard(line.id)
                    if call.app is not None:
                        call.app.on_ring_timeout(self, call, line)
                    elif call.direction == "out":
                        self.finish(call)

    def step(self, dt: float) -> None:
        self.now += dt
        self.answer_timeouts()
        assert self.acd is not None
        self.acd.tick(self.now)


def office(queues: list[QueueSpec], agents: dict[str, str], **kw: Any) -> tuple[FakeCtl, Acd]:
    """A fake office: `agents` maps login -> extension; everyone is logged in and ready."""
    ctl = FakeCtl([*list(agents.values()), "899"])
    acd = Acd(ctl, queues, **kw)  # type: ignore[arg-type]
    ctl.acd = acd
    for login, ext in agents.items():
        acd.login(login, name=f"agent {login}", extension=ext, agent_no=login)
    return ctl, acd


def events(ctl: FakeCtl, name: str) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    return [r for r in ctl.rows if r[3] == name]
