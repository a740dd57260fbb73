"""The call center's side of the composition root: builds the IVR, voicemail, survey and
firewall applications, the recorder tap and the routing schedules from `ccd.toml`, and runs
the requests those sans-IO parts make against the store.

`Daemon._setup_callcenter()` creates one `CallCenter` at the end of `_build_engine`. The
apps never await; they hand `Request`s to `submit`, which one worker task applies in order
(so a recording's index row is written before its end is) and answers on the loop, then
applies whatever the engine decided in reply. `reload()` checks a new configuration and
swaps flows, schedules, rewrites, mailboxes and the recording policy without touching the
calls in progress (an IVR call keeps the flow it started with).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ccd.telephony.firewall import CallFirewall, Entry, FirewallApp
from ccd.telephony.ivr import Flow, FlowError, IvrApp, load_flow
from ccd.telephony.recorder import Recorder, RecordingPolicy, free_bytes
from ccd.telephony.router import InboundRule, OutboundRule, Rewrite, Schedule, parse_tz
from ccd.telephony.services import Request, Result
from ccd.telephony.survey import SurveyApp
from ccd.telephony.voicemail import Capture, Mailbox, MailboxApp, VoicemailApp

if TYPE_CHECKING:
    from ccd.daemon import Daemon

log = logging.getLogger(__name__)
OVERRIDE_KEY = "routing.override"


class ReloadError(ValueError):
    """A configuration that cannot be applied; the running one stays."""


class CallCenter:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.engine = daemon.engine
        assert self.engine is not None
        self.config = daemon.config
        self.flows: dict[str, Flow] = {}
        self.flow_errors: dict[str, str] = {}
        self.mailboxes: dict[str, Mailbox] = {}
        self.captures: dict[int, Capture] = {}
        self.queue: asyncio.Queue[Request] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._busy = 0
        self.firewall = CallFirewall(on_hit=self._firewall_hit)
        self.recorder = Recorder(
            self.engine,
            Path(self.config.daemon.recordings),
            RecordingPolicy.from_config(self.config.recording),
            self.submit,
            wall=daemon.clock.wall,
            free=free_bytes,
            publish=self._publish,
        )
        self._cc_store: Any = None

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        engine = self.engine
        assert engine is not None
        self._apply_config(self.config)
        engine.register_app("ivr", self._make_ivr)
        engine.register_app("voicemail", self._make_voicemail)
        engine.register_app("mailbox", lambda target: MailboxApp(self.submit, target or None))
        engine.register_app(
            "survey",
            lambda target: SurveyApp(target, self.submit, timeout=self.config.callcenter.survey_timeout),
        )
        engine.register_app("firewall", self._make_firewall)
        engine.screeners.insert(0, self.firewall.screen)
        self.daemon.taps.append(self._capture_tap)
        self.daemon.taps.append(self.recorder)
        self.submit(Request("load_state"))

    @property
    def tz(self) -> Any:
        return parse_tz(self.config.callcenter.timezone)

    def _apply_config(self, cfg: Any) -> None:
        """Build everything that depends on the configuration (raises ReloadError, changing nothing)."""
        flows, errors = self._load_flows(cfg)
        tz = parse_tz(cfg.callcenter.timezone)
        schedules = [
            Schedule.from_specs(s.name, s.hours, s.holidays, s.workdays, tz, s.override)
            for s in cfg.schedules
        ]
        import re

        rewrites = [Rewrite(re.compile(r.match), r.replace, tuple(r.outbound)) for r in cfg.rewrites]
        mailboxes = {ext.id: Mailbox(ext.id, owner=ext.id) for ext in cfg.extensions}
        for m in cfg.mailboxes:
            mailboxes[m.id] = Mailbox(m.id, m.pin, m.owner, m.greeting, m.max_seconds, m.silence_seconds)
        # nothing raised: apply
        self.flows, self.flow_errors = flows, errors
        self.mailboxes = mailboxes
        router = self.engine.router
        inbound_gates: dict[str, list[str]] = {}
        outbound_gates: dict[str, list[str]] = {}
        for s in cfg.schedules:
            for rule in s.inbound:
                inbound_gates.setdefault(rule, []).append(s.name)
            for rule in s.outbound:
                outbound_gates.setdefault(rule, []).append(s.name)
        router.configure(
            schedules,
            inbound_gates=inbound_gates,
            outbound_gates=outbound_gates,
            rewrites=rewrites,
            wall=self.daemon.clock.wall,
        )
        self.recorder.policy = RecordingPolicy.from_config(cfg.recording)
        self.config = cfg

    def _prompt_exists(self, name: str) -> bool:
        prompts = self.engine.prompts
        if prompts is None:
            return True
        return any(prompts.exists(name, lang) for lang in prompts.langs)

    def _load_flows(self, cfg: Any) -> tuple[dict[str, Flow], dict[str, str]]:
        flows: dict[str, Flow] = {}
        errors: dict[str, str] = {}
        known = known_targets(cfg)
        for entry in cfg.ivr:
            try:
                flows[entry.name] = load_flow(
                    entry.file, name=entry.name, prompt_exists=self._prompt_exists, known=known
                )
            except FlowError as exc:
                errors[entry.name] = str(exc)
                log.error("IVR flow %s cannot be used:\n%s", entry.name, exc)
        return flows, errors

    # ------------------------------------------------------------------ app factories
    def _make_ivr(self, target: str | None) -> IvrApp:
        flow = self.flows.get(target or "")
        if flow is None:
            raise LookupError(
                f"no usable IVR flow {target!r}"
                + (f": {self.flow_errors[target]}" if target in self.flow_errors else "")
            )
        return IvrApp(flow, self.submit, self.tz)

    def _make_voicemail(self, target: str | None) -> VoicemailApp | MailboxApp:
        if not target or target == "*":
            return MailboxApp(self.submit)
        box = self.mailboxes.get(target)
        if box is None:
            raise LookupError(f"no mailbox {target!r}")
        return VoicemailApp(box, self.submit, self.captures)

    def _make_firewall(self, target: str | None) -> FirewallApp:
        return FirewallApp(target or "reject", self.engine.router, self._busy_tone())

    def _busy_tone(self) -> np.ndarray | None:
        tones = getattr(self.engine, "tones", None)
        return tones("busy") if tones is not None else None

    def _capture_tap(self, rx_all: np.ndarray, tx_all: np.ndarray, now: float) -> None:
        for row, capture in list(self.captures.items()):
            capture.feed(rx_all[row])

    # ------------------------------------------------------------------ events and hits
    def _publish(self, name: str, data: dict[str, Any]) -> None:
        self.daemon.bus.emit(name, data, key=data.get("call"))

    def _firewall_hit(self, entry: Entry, call: Any) -> None:
        data = {
            "call": call.uniqueid,
            "number": call.src or None,
            "trunk": call.trunk,
            "entry": entry.id,
            "action": entry.action,
            "count": self.firewall.counters.get(entry.action, 0),
        }
        self._publish("alert.call_blocked", data)
        self.submit(Request("fw_hit", {**data, "rule": entry.id}, call.uniqueid))

    # ------------------------------------------------------------------ requests
    def submit(self, request: Request) -> None:
        self.queue.put_nowait(request)
        if self._worker is None or self._worker.done():
            try:
                self._worker = asyncio.get_running_loop().create_task(self._work(), name="ccd-callcenter")
            except RuntimeError:  # no loop (offline tools): requests wait for one
                pass

    async def idle(self) -> None:
        """Wait until every request so far has been done (tests, shutdown)."""
        while not self.queue.empty() or self._busy:
            await asyncio.sleep(0.001)

    async def _work(self) -> None:
        while not self.queue.empty():
            request = self.queue.get_nowait()
            self._busy += 1
            try:
                try:
                    value = await self._do(request)
                    result = Result(value)
                except Exception as exc:  # a failed request must not take the others down
                    log.warning("call-center request %s failed: %s", request.op, exc, exc_info=True)
                    result = Result(None, str(exc) or type(exc).__name__)
                if request.reply is not None and self.engine is not None:
                    try:
                        request.reply(self.engine, result)
                    except Exception:
                        log.exception("reply to %s failed", request.op)
                    self.daemon._apply(self.engine.drain())
            finally:
                self._busy -= 1

    @property
    def cc_store(self) -> Any:
        if self._cc_store is None:
            from ccd.store.callcenter import CallCenterStore

            self._cc_store = CallCenterStore(self.daemon.store)
        return self._cc_store

    async def _call_update(self, uniqueid: str, **fields: Any) -> None:
        from ccd.store.errors import NotFoundError

        try:
            await self.daemon.store.calls.update(uniqueid, **fields)
        except NotFoundError:
            await self.daemon.flush()  # its call_begin may still be queued
            await self.daemon.store.calls.update(uniqueid, **fields)

    async def _do(self, req: Request) -> Any:
        store = self.daemon.store
        a = req.args
        op = req.op
        if op == "lookup":
            return await self._lookup(a["query"], a.get("args", {}))
        if op == "ivr_path":
            if a.get("path"):
                await self._call_update(a["uniqueid"], ivr_path=a["path"][:1000])
            return None
        if op == "survey":
            await self._call_update(a["uniqueid"], survey_score=int(a["score"]))
            return None
        if op == "vm_save":
            return await self._vm_save(a)
        if op == "vm_login":
            box = self.mailboxes.get(str(a.get("mailbox")))
            if box is None or not box.pin or a.get("pin") != box.pin:
                return None
            return [m.as_dict() for m in await self.cc_store.voicemail.list(box.id)]
        if op == "vm_audio":
            from ccd.dsp.wav import read_wav

            msg = await self.cc_store.voicemail.get(int(a["id"]))
            samples, _ = await asyncio.to_thread(read_wav, msg.path)
            return samples
        if op == "vm_status":
            await self.cc_store.voicemail.set_status(int(a["id"]), a["status"])
            return None
        if op == "rec_start":
            return await self._rec_start(a)
        if op == "rec_finish":
            return await self._rec_finish(a)
        if op == "rec_purge_oldest":
            return await self.purge(oldest=int(a.get("count", 10)))
        if op == "fw_hit":
            await self.cc_store.firewall.hit(
                a.get("rule"), a.get("number"), a.get("trunk"), a["action"], a.get("call")
            )
            return None
        if op == "load_state":
            await self.reload_firewall()
            overrides = await store.settings.get(OVERRIDE_KEY, {}) or {}
            for name, value in overrides.items():
                if name in self.engine.router.schedules:
                    self.engine.router.set_override(name, value.get("state", "auto"), value.get("until"))
            return None
        raise ValueError(f"unknown request {op!r}")

    async def _lookup(self, query: str, args: dict[str, Any]) -> dict[str, Any] | None:
        store = self.daemon.store
        if query == "customer_by_ani":
            found = await store.customers.find_by_number(args.get("number") or args.get("ani") or "")
            if not found:
                return None
            c = found[0]
            return {"customer_id": c.id, "customer_name": c.name, "customer_level": getattr(c, "level", "")}
        if query == "order_status":
            order = await self.cc_store.order_by_number(args.get("number", ""))
            if order is None:
                return None
            import datetime as dt

            created = dt.datetime.fromtimestamp(order["created"], self.tz)
            return {
                "order_no": order["no"],
                "order_status": order["status"],
                "order_total": f"{order['total'] / 100:.2f}",
                "order_date": created.strftime("%Y%m%d"),
            }
        raise ValueError(f"unknown query {query!r}")

    async def _vm_save(self, a: dict[str, Any]) -> dict[str, Any]:
        from ccd.dsp.wav import WavWriter

        box = a["mailbox"]
        folder = Path(self.config.daemon.recordings) / "voicemail" / box
        path = folder / f"{a['uniqueid']}.wav"

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            with WavWriter(path, "ima_adpcm") as writer:
                writer.write(a["audio"])

        await asyncio.to_thread(write)
        await self.daemon.flush()
        duration = round(len(a["audio"]) / 8000, 2)
        msg = await self.cc_store.voicemail.add(
            box, str(path), caller=a.get("caller"), call_uniqueid=a.get("uniqueid"), duration=duration
        )
        data = {
            "mailbox": box,
            "owner": a.get("owner") or box,
            "id": msg.id,
            "caller": a.get("caller"),
            "caller_name": a.get("caller_name"),
            "duration": duration,
            "call": a.get("uniqueid"),
        }
        self.daemon.bus.emit("voicemail.new", data, key=box)
        return data

    async def _rec_start(self, a: dict[str, Any]) -> int:
        from ccd.store.errors import NotFoundError

        recs = self.daemon.store.recordings
        kwargs = dict(
            call_uniqueid=a["uniqueid"], format=a["format"], channels=a["channels"], start=a["start"]
        )
        try:
            rec = await recs.add(a["path"], **kwargs)
        except NotFoundError:
            await self.daemon.flush()
            rec = await recs.add(a["path"], **kwargs)
        if a.get("queue"):
            await self.cc_store.set_recording_queue(rec.id, a["queue"])
        return rec.id

    async def _rec_finish(self, a: dict[str, Any]) -> None:
        recs = self.daemon.store.recordings
        row = await self.daemon.store._db.fetchone("SELECT id FROM recordings WHERE path = ?", (a["path"],))
        if row is None:
            return
        await recs.finish(row[0], float(a["duration"]), int(a["bytes"]))
        if a.get("queue"):
            await self.cc_store.set_recording_queue(row[0], a["queue"])

    # ------------------------------------------------------------------ operations (socket commands)
    async def reload_firewall(self) -> int:
        rules = await self.cc_store.firewall.list()
        self.firewall.set_entries(Entry(r.id, r.kind, r.value, r.action, r.target) for r in rules)
        return len(rules)

    async def purge(self, *, oldest: int = 0, dry_run: bool = False) -> dict[str, Any]:
        """Delete recordings past retention (or the `oldest` N); index rows are kept, marked deleted."""
        cfg = self.config.recording
        if oldest:
            doomed = await self.cc_store.oldest_recordings(oldest)
        else:
            doomed = await self.cc_store.recordings_expired(
                self.daemon.clock.wall(), cfg.retention_days, dict(cfg.queue_retention)
            )
        active = {str(r.path) for r in self.recorder.active.values()}
        doomed = [r for r in doomed if r.path not in active]
        freed = 0
        if not dry_run:
            for rec in doomed:
                p = Path(rec.path)
                try:
                    freed += p.stat().st_size
                    p.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    log.warning("cannot delete recording %s: %s", p, exc)
                    continue
                await self.daemon.store.recordings.mark_deleted(rec.id)
        return {"deleted": len(doomed), "bytes": freed, "ids": [r.id for r in doomed], "dry_run": dry_run}

    async def set_override(self, schedule: str, state: str, until: float | None) -> dict[str, Any]:
        sched = self.engine.router.set_override(schedule, state, until)
        overrides = await self.daemon.store.settings.get(OVERRIDE_KEY, {}) or {}
        if state == "auto":
            overrides.pop(schedule, None)
        else:
            overrides[schedule] = {"state": state, "until": until}
        await self.daemon.store.settings.set(OVERRIDE_KEY, overrides)
        return sched.snapshot(self.daemon.clock.wall())

    def reload(self, path: str | Path | None = None) -> dict[str, Any]:
        """Check and apply a configuration file; raise ReloadError (with file:line) and keep the old one."""
        from ccd.config import check_file

        source = Path(path) if path else self.config.source_path
        if source is None:
            raise ReloadError("the running configuration was not read from a file: give a path")
        cfg, problems = check_file(source)
        if problems or cfg is None:
            raise ReloadError("\n".join(str(p) for p in problems) or f"{source}: cannot be read")
        flows, errors = self._load_flows(cfg)
        if errors:
            raise ReloadError("\n".join(errors.values()))
        old = self.config
        restart = [
            name
            for name in ("drivers", "trunks", "extensions", "daemon")
            if _plain(getattr(old, name)) != _plain(getattr(cfg, name))
        ]
        self._apply_config(cfg)
        router = self.engine.router
        router.inbound = [
            InboundRule(r.name, tuple(r.trunks), tuple(r.ring), r.queue, r.ivr, r.voicemail, r.hangup)
            for r in cfg.inbound
        ]
        router.outbound = [
            OutboundRule(
                r.name,
                tuple(r.extensions),
                tuple(t.id for t in cfg.trunks) if "*" in r.trunks else tuple(r.trunks),
                r.hunt,
                r.prefix,
            )
            for r in cfg.outbound
        ]
        self.daemon.config = dataclasses.replace(
            cfg, drivers=old.drivers, trunks=old.trunks, extensions=old.extensions, daemon=old.daemon
        )
        for hook in list(getattr(self.daemon, "reload_hooks", [])):
            hook(cfg)
        log.info("configuration reloaded from %s (%d flows)", source, len(flows))
        return {"file": str(source), "flows": sorted(self.flows), "needs_restart": restart}

    def status(self) -> dict[str, Any]:
        wall = self.daemon.clock.wall()
        return {
            "flows": sorted(self.flows),
            "flow_errors": self.flow_errors,
            "schedules": [s.snapshot(wall) for s in self.engine.router.schedules.values()],
            "recording": self.recorder.snapshot(),
            "firewall": {"entries": len(self.firewall.entries), "blocked": dict(self.firewall.counters)},
            "mailboxes": sorted(self.mailboxes),
        }


def known_targets(cfg: Any) -> dict[str, set[str]]:
    """What IVR exits may name: queues (when the queue section exists), extensions, mailboxes."""
    known: dict[str, set[str]] = {
        "extension": {e.id for e in cfg.extensions},
        "voicemail": {e.id for e in cfg.extensions} | {m.id for m in cfg.mailboxes},
    }
    queues = getattr(cfg, "queues", None)
    if queues is not None:
        known["queue"] = {q.name for q in queues}
    return known


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_plain(x) for x in obj]
    return obj
