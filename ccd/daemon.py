"""The composition root: reads the configuration, builds drivers, lines, soft DSP, engine,
store and socket server, and runs them on one asyncio loop.

The media loop is the heartbeat: every 20 ms it exchanges audio with every driver, runs
the soft DSP over all audio lines at once (one batched numpy call), lets the engine decide,
mixes the audio to send, and applies the engine's actions (driver commands, bus events,
store writes). Store writes go through one ordered writer task so the loop never waits on
the disk; a slow or failing disk delays records, never calls.

On the real clock the loop paces itself to wall time; on a `VirtualClock` nothing runs by
itself and tests call `await daemon.run_for(seconds)`, which advances time tick by tick and
lets the socket server and the store writer run in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccd.bus import EventBus
from ccd.clock import Clock, RealClock, VirtualClock
from ccd.drivers.base import (
    Capabilities,
    Driver,
    DriverError,
    DriverUnavailable,
    LineAlarm,
    LineKind,
    LineSpec,
    SmsReceived,
    UnsupportedCommand,
    load_driver_class,
)
from ccd.dsp.linebank import DAEMON_FRAMES
from ccd.telephony.engine import DriverCommand, Engine, Persist, Publish
from ccd.telephony.line import Line, LineState
from ccd.telephony.media import Media
from ccd.telephony.router import InboundRule, OutboundRule, Router

log = logging.getLogger(__name__)
TICK = 0.02
# socket commands beyond the engine's: each module has build_registry(daemon)
EXTRA_REGISTRIES: list[str] = [
    "ccd.server.sms_commands",
    "ccd.server.crm_commands",
    "ccd.server.acd_commands",
    "ccd.server.report_commands",
    "ccd.server.callcenter_commands",
    "ccd.server.linetest_commands",
]
FRAME = 160


@dataclass
class DriverSlot:
    driver: Driver
    offset: int  # first global audio row
    ok: bool = True
    error: str = ""


@dataclass
class Stats:
    ticks: int = 0
    late_ticks: int = 0
    tick_cpu: float = 0.0  # process time spent in ticks
    cid_to_ringing: list[float] = field(default_factory=list)


class Daemon:
    def __init__(self, config: Any, clock: Clock | None = None, *, server: bool = True) -> None:
        self.config = config
        self.clock: Clock = clock or RealClock()
        self.virtual = isinstance(self.clock, VirtualClock)
        self.bus = EventBus()
        self.with_server = server
        self.slots: list[DriverSlot] = []
        self.lines: dict[str, Line] = {}
        self.rows = 0
        self.store: Any = None
        self.server: Any = None
        self.engine: Engine | None = None
        self.media: Media | None = None
        self.stats = Stats()
        self._store_q: asyncio.Queue[Persist | None] = asyncio.Queue()
        self._store_task: asyncio.Task[None] | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._tx: np.ndarray | None = None
        self._cid_rx: dict[str, Any] = {}
        self._dtmf_cid: dict[str, Any] = {}
        self._leg_seq: dict[tuple[str, int], int] = {}
        # callables (rx_all, tx_all, now) run every tick after mixing; rows are Line.row
        self.taps: list[Any] = []
        # callables (now) run every tick right after the engine's timers (the ACD's clock)
        self.tickers: list[Any] = []
        # callables (config) run by `ccd reload` with a checked configuration
        self.reload_hooks: list[Any] = []
        # line id -> callable (event, now): that line's device events go there, not to the engine
        # (a `ccd line test` holds the line); alarms still reach the engine
        self.line_tests: dict[str, Any] = {}
        self._line_dsp: dict[str, tuple[Any, int]] = {}  # line id -> (its own DSP bank, row)
        self.started_wall = 0.0

    # ------------------------------------------------------------------ build
    @property
    def sim(self) -> Any:
        """The first simulated-office driver, if any (for `ccd sim` commands and tests)."""
        from ccd.drivers.sim import SimDriver

        return next((s.driver for s in self.slots if isinstance(s.driver, SimDriver)), None)

    def _tone_plan(self) -> Any:
        from ccd.dsp.tones import get_plan, plan_from_dict

        name = self.config.daemon.tone_plan
        custom = self.config.custom_tone_plan(name)
        if custom is not None:
            return plan_from_dict(name, custom)
        return get_plan(name)

    def _build_lines(self) -> None:
        cfg = self.config
        offset = 0
        for drv_cfg in cfg.drivers:
            specs: list[LineSpec] = []
            for trunk in cfg.trunks:
                if trunk.driver == drv_cfg.name:
                    profile = self.line_profile(trunk.id)
                    cid = (
                        profile.cid
                        if profile is not None and profile.cid and trunk.cid == "auto"
                        else trunk.cid
                    )
                    specs.append(
                        LineSpec(
                            trunk.id,
                            LineKind.TRUNK,
                            trunk.channel,
                            trunk.label,
                            trunk.number,
                            trunk.passthrough,
                            trunk.phone,
                            cid,
                        )
                    )
            for ext in cfg.extensions:
                if ext.driver == drv_cfg.name:
                    specs.append(LineSpec(ext.id, LineKind.EXTENSION, ext.channel, ext.label, ext.id))
            options = drv_cfg.options_dict()
            options.update(clock=self.clock, tone_plan=cfg.daemon.tone_plan)
            if drv_cfg.kind in _OWN_BUSY_DETECTOR and specs:
                # a modem runs its own busy detector on its audio: give it the line's real plan
                options["tone_plan"] = self._line_plan(specs[0].id)
            try:
                cls = load_driver_class(drv_cfg.kind)
                driver = cls(drv_cfg.name, specs, options)
            except (DriverError, ImportError, ValueError, TypeError) as exc:
                log.error("driver %s (%s) cannot be built: %s", drv_cfg.name, drv_cfg.kind, exc)
                driver = _DeadDriver(drv_cfg.name, specs, {"error": str(exc)})
            slot = DriverSlot(driver, offset)
            self.slots.append(slot)
            for spec in specs:
                try:
                    caps = driver.capabilities(spec.id)
                except Exception:
                    caps = Capabilities(audio=False)
                self.lines[spec.id] = Line(spec, caps, drv_cfg.name, offset + spec.channel)
            offset += max(driver.channels, 0)
        self.rows = offset

    def _build_engine(self) -> None:
        from ccd.dsp.dtmf import dtmf_generate
        from ccd.dsp.linebank import LineBankDsp
        from ccd.dsp.tones import tone_generate

        cfg = self.config
        plan = self._tone_plan()
        self.plan = plan
        self.media = Media(self.rows)
        self.dsp = LineBankDsp(max(self.rows, 1), plan)
        audio_rows = {line.row for line in self.lines.values() if line.caps.audio}
        for row in range(max(self.rows, 1)):
            self.dsp.set_enabled(row, dtmf=row in audio_rows, tones=row in audio_rows)
        self._row_line = {line.row: line for line in self.lines.values()}
        tone_cache: dict[str, np.ndarray] = {}

        def tones(name: str) -> np.ndarray:
            if name not in tone_cache:
                spec = plan.tones.get(name)
                cycle = (sum(spec.cadence) if spec and spec.cadence else 1.0) if spec else 1.0
                tone_cache[name] = tone_generate(plan, name if spec else "busy", cycle, level_dbm0=-15.0)
            return tone_cache[name]

        def dtmf(digits: str) -> np.ndarray:
            return dtmf_generate(digits, on_ms=90, off_ms=90, level_dbm0=-8.0)

        locate = _locator(cfg.daemon.country, cfg.daemon.area_code)
        router = Router(
            [
                InboundRule(
                    r.name,
                    tuple(r.trunks),
                    tuple(r.ring),
                    r.queue,
                    r.ivr,
                    r.voicemail,
                    r.hangup,
                )
                for r in cfg.inbound
            ],
            [
                OutboundRule(
                    r.name,
                    tuple(r.extensions),
                    tuple(t.id for t in cfg.trunks) if "*" in r.trunks else tuple(r.trunks),
                    r.hunt,
                    r.prefix,
                )
                for r in cfg.outbound
            ],
        )
        self.engine = Engine(
            self.lines,
            self.media,
            router,
            wall=self.clock.wall,
            tones=tones,
            dtmf=dtmf,
            locate=locate,
            answer_timeout=cfg.daemon.answer_timeout,
        )
        self._tx = np.zeros((max(self.rows, 1), FRAME), dtype=np.int16)
        self._dsp_rx = np.zeros((max(self.rows, 1), DAEMON_FRAMES * FRAME), dtype=np.int16)
        self._dsp_fill = 0  # ticks of audio waiting in _dsp_rx (caller-ID FSK still runs every tick)
        self.engine.prompts = self._prompt_library()
        for profile in cfg.line_profiles:
            self.apply_line_profile(profile)
        self._setup_callcenter()

    def _setup_callcenter(self) -> None:
        """IVR, voicemail, survey, call firewall, recorder and schedules (see ccd.callcenter)."""
        from ccd.callcenter import CallCenter

        self.callcenter = CallCenter(self)
        self.callcenter.setup()
        from ccd.server.acd_commands import build_acd

        build_acd(self)  # queues and agents: the "queue" application and its clock
        from ccd.telephony.external import ExternalApp

        self.engine.register_app("external", ExternalApp)

    # ------------------------------------------------------------------ line profiles
    def line_profile(self, line_id: str) -> Any:
        """The `[[line_profiles]]` entry of a line (what `ccd line test` measured), or None."""
        return next((p for p in getattr(self.config, "line_profiles", ()) if p.line == line_id), None)

    def _line_plan(self, line_id: str, profile: Any = None) -> Any:
        """The tone plan a line listens with: the daemon's, with its profile's busy and dial tones."""
        from ccd.config.sections_lines import profile_plan

        base = self._tone_plan()
        return profile_plan(base, profile or self.line_profile(line_id)) or base

    def apply_line_profile(self, profile: Any) -> None:
        """Make a line use a measured profile: its caller-ID hint and its own busy/dial tones.

        Called for every `[[line_profiles]]` entry at start, and by `line.test` with ``apply``.
        """
        from dataclasses import replace

        from ccd.dsp.linebank import LineBankDsp

        line = self.lines.get(profile.line)
        if line is None or self.engine is None:
            return
        configured = next((t.cid for t in self.config.trunks if t.id == line.id), "auto")
        if profile.cid and configured == "auto" and line.spec.cid != profile.cid:
            line.spec = replace(line.spec, cid=profile.cid)
            self._cid_rx.pop(line.id, None)
        plan = self._line_plan(line.id, profile)
        if not profile.tones():
            return
        if line.caps.audio:
            self._line_dsp[line.id] = (LineBankDsp(1, plan), line.row)
            self.dsp.set_enabled(line.row, dtmf=True, tones=False)
        slot = next((s for s in self.slots if s.driver.name == line.driver), None)
        opts = getattr(slot.driver, "opts", None) if slot is not None else None
        if opts is not None and hasattr(opts, "tone_plan") and slot.driver.KIND in _OWN_BUSY_DETECTOR:
            opts.tone_plan = plan
            if hasattr(slot.driver, "_busy"):
                slot.driver._busy = None  # rebuilt with the new plan on the next audio
        log.info(
            "line %s uses its measured profile (%s)", line.id, ", ".join(sorted(profile.tones())) or "cid"
        )

    def _prompt_library(self) -> Any:
        """The voice prompts: [daemon] voices, or the prompts shipped next to the package."""
        from ccd.telephony.prompts import PromptLibrary

        folder = (
            getattr(self.config.daemon, "voices", None) or Path(__file__).resolve().parent.parent / "voices"
        )
        library = PromptLibrary(Path(folder))
        try:
            count = library.preload()
            log.info("%d voice prompts loaded from %s", count, folder)
        except Exception as exc:  # a broken prompt folder must not stop the calls
            log.error(
                "voice prompts in %s could not be loaded: %s (calls continue with silence)", folder, exc
            )
        return library

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        from ccd.store.db import Store

        cfg = self.config
        self.started_wall = self.clock.wall()
        for folder in (cfg.daemon.database.parent, cfg.daemon.recordings):
            Path(folder).mkdir(parents=True, exist_ok=True)
        self.store = await Store.open(
            cfg.daemon.database, self.clock, country=cfg.daemon.country, area_code=cfg.daemon.area_code
        )
        closed = await self.store.calls.close_orphans(self.clock.wall())
        if closed:
            log.warning("closed %d call(s) left open by an unclean stop (disposition FAILED)", closed)
        self._build_lines()
        self._build_engine()
        for slot in self.slots:
            try:
                await slot.driver.open()
            except (DriverUnavailable, DriverError, OSError) as exc:
                slot.ok, slot.error = False, str(exc)
                log.error(
                    "driver %s failed to open: %s — its lines are out of service", slot.driver.name, exc
                )
                for spec in slot.driver.lines:
                    self.engine.handle_device(_alarm(spec.id, str(exc)), self.clock.now())
        self._store_task = asyncio.create_task(self._store_writer(), name="ccd-store-writer")
        if self.with_server:
            await self._start_server()
        self._apply(self.engine.drain())
        if not self.virtual:
            self._loop_task = asyncio.create_task(self._media_loop(), name="ccd-media-loop")
            self._reopen_task = asyncio.create_task(self._reopen_failed_drivers(), name="ccd-driver-reopen")
        log.info(
            "ccd running: %d driver(s), %d line(s), socket %s",
            len(self.slots),
            len(self.lines),
            cfg.daemon.socket if self.with_server else "-",
        )

    async def _start_server(self) -> None:
        from ccd.server.engine_commands import build_registry
        from ccd.server.server import SocketServer

        registry = build_registry(self)
        for module_name in EXTRA_REGISTRIES:
            module = importlib.import_module(module_name)
            registry.include(module.build_registry(self))

        async def authenticate(login: str, password: str) -> Any:
            return await self.store.users.verify(login, password)

        async def snap_lines(ctx: Any) -> list[dict[str, Any]]:
            return self.engine.snapshot_lines() if self.engine else []

        async def snap_calls(ctx: Any) -> list[dict[str, Any]]:
            return self.engine.snapshot_calls() if self.engine else []

        self.server = SocketServer(
            Path(self.config.daemon.socket),
            registry,
            self.bus,
            authenticate,
            snapshots={"line": snap_lines, "call": snap_calls},
            group=self.config.daemon.group,
            clock=self.clock,
        )
        await self.server.start()

    async def _reopen_failed_drivers(self, interval: float = 30.0) -> None:
        """A device that was absent at start (unplugged, busy) is tried again every `interval`
        seconds; when it opens, its lines come back into service. Logged once each way."""
        while not self._stopping.is_set():
            await asyncio.sleep(interval)
            for slot in self.slots:
                if slot.ok or isinstance(slot.driver, _DeadDriver):
                    continue
                try:
                    await slot.driver.open()
                except (DriverUnavailable, DriverError, OSError):
                    continue
                slot.ok, slot.error = True, ""
                log.warning("driver %s opened after all: its lines are back in service", slot.driver.name)
                assert self.engine is not None
                for spec in slot.driver.lines:
                    from ccd.drivers.base import LineAlarm

                    self.engine.handle_device(
                        LineAlarm(spec.id, ok=True, reason="device opened"), self.clock.now()
                    )
                self._apply(self.engine.drain())

    async def stop(self) -> None:
        self._stopping.set()
        reopen = getattr(self, "_reopen_task", None)
        if reopen is not None:
            reopen.cancel()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self.server is not None:
            await self.server.stop()
        callcenter = getattr(self, "callcenter", None)
        if callcenter is not None and getattr(callcenter, "recorder", None) is not None:
            callcenter.recorder.close_all()  # the last second of audio goes to disk too
        for slot in self.slots:
            with contextlib.suppress(Exception):
                await slot.driver.close()
        if self._store_task is not None:
            await self._store_q.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._store_task
        if self.store is not None:
            await self.store.close()
        log.info("ccd stopped")

    async def serve_forever(self) -> None:
        """Run until SIGTERM/SIGINT, then stop cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._stopping.set)
        await self._stopping.wait()
        await self.stop()

    # ------------------------------------------------------------------ the media loop
    async def _media_loop(self) -> None:
        deadline = self.clock.now()
        while not self._stopping.is_set():
            self.step()
            deadline += TICK
            now = self.clock.now()
            if now - deadline > 1.0:
                log.warning("media loop %.1f s behind real time: skipping ahead", now - deadline)
                deadline = now
            await self.clock.sleep_until(deadline)

    async def run_for(self, seconds: float, *, yield_every: int = 1) -> None:
        """Virtual clock only: run `seconds` of line time, tick by tick."""
        if not isinstance(self.clock, VirtualClock):
            raise RuntimeError("run_for() needs a VirtualClock")
        ticks = round(seconds / TICK)
        for i in range(ticks):
            self.clock.advance(TICK)
            self.step()
            if i % yield_every == 0:
                await asyncio.sleep(0)
        await self.flush()

    async def flush(self) -> None:
        """Wait until every record so far is in the database."""
        await self._store_q.join()

    def step(self) -> None:
        """One 20 ms tick of every line."""
        t0 = time.process_time()
        engine = self.engine
        assert engine is not None and self.media is not None and self._tx is not None
        now = self.clock.now()
        rx_all = np.zeros_like(self._tx)
        events = []
        for slot in self.slots:
            drv = slot.driver
            n = max(drv.channels, 0)
            if not slot.ok and n == 0:
                continue
            try:
                # drivers without lines (an SMS modem) still tick: that is how their events arrive
                tx = self._tx[slot.offset : slot.offset + n] if n else _NO_AUDIO
                result = drv.tick(now, tx)
            except Exception:
                log.exception("driver %s failed in tick", drv.name)
                continue
            events.extend(result.events)
            if result.rx is not None:
                rx_all[slot.offset : slot.offset + n] = result.rx
        for event in events:
            if isinstance(event, SmsReceived):
                self._sms_received(event)
            elif event.line in self.line_tests and not isinstance(event, LineAlarm):
                self.line_tests[event.line](event, now)
            else:
                engine.handle_device(event, now)
        self._run_dsp(rx_all, now)
        engine.tick(now)
        for ticker in self.tickers:
            try:
                ticker(now)
            except Exception:
                log.exception("ticker %r failed", ticker)
        self._tx, finished = self.media.mix(rx_all)
        for tap in self.taps:  # recorders, monitors: they see what each line heard and said
            try:
                tap(rx_all, self._tx, now)
            except Exception:
                log.exception("audio tap %r failed", tap)
        for row, tag in finished:
            engine.handle_play_done(row, tag, now)
        self._apply(engine.drain())
        self.stats.ticks += 1
        self.stats.tick_cpu += time.process_time() - t0

    def _run_dsp(self, rx_all: np.ndarray, now: float) -> None:
        engine = self.engine
        assert engine is not None
        k = self._dsp_fill
        self._dsp_rx[:, k * FRAME : (k + 1) * FRAME] = rx_all
        self._dsp_fill = k = k + 1
        if k == DAEMON_FRAMES:
            self._dsp_fill = 0
            block = self._dsp_rx
            for row, event in self.dsp.process(block):
                self._dsp_event(row, event, now)
            for bank, row in self._line_dsp.values():  # lines with a measured tone plan of their own
                for _, event in bank.process(block[row : row + 1]):
                    if not hasattr(event, "digit"):
                        self._dsp_event(row, event, now)
        # FSK caller ID: only trunks that are ringing and still waiting for it
        for line in self.lines.values():
            if line.kind is not LineKind.TRUNK or not line.caps.audio or line.caps.hw_caller_id:
                continue
            if line.state is LineState.RINGING:
                rx = self._cid_rx.get(line.id)
                if rx is None:
                    from ccd.dsp.callerid import CallerIdReceiver

                    standard = {"fsk-bell202": "bell202", "fsk-v23": "v23"}.get(line.spec.cid, "auto")
                    rx = self._cid_rx[line.id] = CallerIdReceiver(standard)
                for cid_event in rx.process(rx_all[line.row]):
                    self._cid_heard(line, cid_event.cid, now)
            elif line.id in self._cid_rx:
                del self._cid_rx[line.id]

    def _dsp_event(self, row: int, event: Any, now: float) -> None:
        engine = self.engine
        assert engine is not None
        line = self._row_line.get(row)
        if line is None:
            return
        if hasattr(event, "digit"):
            if line.kind is LineKind.TRUNK and line.state in (LineState.IDLE, LineState.RINGING):
                self._feed_dtmf_cid(line, event, now)
                return
            engine.handle_digit(line.id, event.digit, now)
        elif event.end is None:  # a tone recognised (its end is reported separately)
            engine.handle_tone(line.id, event.tone, now)

    def _feed_dtmf_cid(self, line: Line, event: Any, now: float) -> None:
        from ccd.dsp.callerid import DtmfCidAssembler

        assembler = self._dtmf_cid.setdefault(line.id, DtmfCidAssembler())
        cid = assembler.feed(event.digit, event.start)
        if cid is not None:
            assembler.reset()
            self._cid_heard(line, cid, now)

    def _cid_heard(self, line: Line, cid: Any, now: float) -> None:
        assert self.engine is not None
        self._cid_at = time.perf_counter()
        self.engine.handle_caller_id(line.id, cid, now)

    def _sms_received(self, event: SmsReceived) -> None:
        """An incoming SMS: to the clients at once, and onto the customer's timeline."""
        data = {"line": event.line, "from": event.sender, "text": event.text, "at": event.at, **event.extra}
        self.bus.emit("sms.received", data, key=None)
        self._store_q.put_nowait(Persist("sms_note", data))

    # ------------------------------------------------------------------ actions
    def _apply(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Publish):
                if action.name == "call.ringing" and getattr(self, "_cid_at", None) is not None:
                    self.stats.cid_to_ringing.append(time.perf_counter() - self._cid_at)
                    self._cid_at = None
                self.bus.emit(action.name, action.data, key=action.key, coalesce=action.coalesce)
            elif isinstance(action, DriverCommand):
                slot = next((s for s in self.slots if s.driver.name == action.driver), None)
                if slot is None or not slot.ok:
                    continue
                try:
                    slot.driver.command(action.command)
                except UnsupportedCommand as exc:
                    log.warning("driver %s: %s", action.driver, exc)
                except Exception:
                    log.exception("driver %s failed on %r", action.driver, action.command)
            elif isinstance(action, Persist):
                self._store_q.put_nowait(action)

    async def _store_writer(self) -> None:
        """Apply store writes in order; a failing write is logged and the rest go on."""
        calls = self.store.calls
        while True:
            action = await self._store_q.get()
            try:
                if action is None:
                    return
                await self._persist(calls, action)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("store write %s failed", action.op if action else None)
            finally:
                self._store_q.task_done()

    async def _persist(self, calls: Any, action: Persist) -> None:
        a = dict(action.args)
        op = action.op
        if op == "call_begin":
            fields = {k: a[k] for k in _BEGIN_FIELDS if a.get(k) not in (None, "")}
            await calls.begin(fields)
        elif op == "call_update":
            fields = {k: v for k, v in a.items() if k != "uniqueid" and v not in (None, "")}
            await calls.update(a["uniqueid"], **fields)
        elif op == "call_answer":
            await calls.answer(a["uniqueid"], a["answer"])
        elif op == "call_finish":
            extra = {k: a[k] for k in _FINISH_FIELDS if a.get(k) not in (None, "")}
            customer = await self._customer_for(a)
            if customer is not None:
                extra["customer_id"] = customer
            await calls.finish(a["uniqueid"], a["end"], a["disposition"], **extra)
        elif op == "leg_add":
            seq = await calls.add_leg(
                a["uniqueid"], a["channel"], kind=a["kind"], peer=a.get("role"), start=a["start"]
            )
            self._leg_seq[(a["uniqueid"], a["seq"])] = seq
        elif op == "leg_update":
            seq = self._leg_seq.get((a["uniqueid"], a["seq"]), a["seq"])
            fields = {k: a[k] for k in ("answer", "end", "disposition") if a.get(k) is not None}
            await calls.update_leg(a["uniqueid"], seq, **fields)
        elif op == "sms_note":
            found = await self.store.customers.find_by_number(a["from"]) if a.get("from") else []
            if found:
                await self.store.notes.add(
                    found[0].id, "sms", f"SMS from {a['from']}: {a['text']}", status="new"
                )
            await self.store.journal.append(
                self.clock.wall(), "NONE", "NONE", "NONE", "SMS", a.get("from"), a["text"][:200]
            )
        elif op == "journal":
            await self.store.journal.append(
                a["ts"], a["callid"], a["queue"], a["agent"], a["event"], *a["data"]
            )

    async def _customer_for(self, cdr: dict[str, Any]) -> int | None:
        number = cdr.get("src") if cdr.get("direction") == "in" else cdr.get("dst")
        if not number:
            return None
        try:
            found = await self.store.customers.find_by_number(number)
        except Exception:
            log.debug("customer lookup failed for %s", number, exc_info=True)
            return None
        return found[0].id if found else None

    # ------------------------------------------------------------------ views
    def status(self) -> dict[str, Any]:
        assert self.engine is not None
        return {
            "started": self.started_wall,
            "now": self.clock.wall(),
            "clock": self.clock.now(),  # the scale of each line's `since`
            "pid": os.getpid(),
            "drivers": [
                {**slot.driver.describe(), "ok": slot.ok, "error": slot.error} for slot in self.slots
            ],
            "lines": self.engine.snapshot_lines(),
            "calls": self.engine.snapshot_calls(),
        }


_NO_AUDIO = np.zeros((0, FRAME), dtype=np.int16)
_OWN_BUSY_DETECTOR = {"modem"}  # driver kinds that detect busy tone on their own audio

_BEGIN_FIELDS = (
    "uniqueid",
    "linkedid",
    "direction",
    "start",
    "src",
    "dst",
    "clid",
    "caller_name",
    "location",
    "channel",
    "dstchannel",
    "trunk",
)
_FINISH_FIELDS = ("src", "dst", "clid", "caller_name", "location", "dstchannel", "trunk")


def _locator(country: str, area_code: str) -> Any:
    try:
        from ccd.crm.numbers import normalise
    except ImportError:  # pragma: no cover - crm not installed
        return lambda number: None

    def locate(number: str) -> str | None:
        try:
            info = normalise(number, country=country, area_code=area_code)
        except Exception:
            return None
        return info.location or None

    return locate


def _alarm(line: str, reason: str) -> Any:
    from ccd.drivers.base import LineAlarm

    return LineAlarm(line, ok=False, reason=reason)


class _DeadDriver(Driver):
    """Stands in for a driver that could not even be built, so its lines show out of service."""

    KIND = "unavailable"

    async def open(self) -> None:
        raise DriverUnavailable(self.options.get("error", "driver unavailable"))

    async def close(self) -> None:
        return None

    def capabilities(self, line: str) -> Capabilities:
        return Capabilities(audio=False, play=False, record=False, hook_control=False, switching=False)

    def tick(self, now: float, tx: np.ndarray) -> Any:
        from ccd.drivers.base import DriverTick

        return DriverTick([], None)

    def command(self, cmd: Any) -> None:
        raise UnsupportedCommand(f"line {cmd.line} is out of service")
