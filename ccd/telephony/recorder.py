"""Call recording: an audio tap that writes each recorded call to a WAV file.

It sees every line's audio after mixing (`daemon.taps`), so it records what the caller
said (the trunk's receive side) and what the caller heard (the trunk's send side: the
agent, prompts, music) — mixed to mono, or as stereo with the caller left and the other
side right. That works the same for a queue call, an IVR, a transfer or a conference, and
one call is one file however many legs it has (pain point 7).

Which calls: `mode` all / inbound / outbound / queues (listed queues) / on_demand (only
calls started with `start(call)`), plus any call whose ``vars["record"]`` is true. `pause`
writes silence instead of audio (card numbers) and `resume` goes back.

A recording is a valid WAV at every moment: the writer flushes each second, and the index
row (linked to the call) is written when the file is opened, so a killed daemon leaves a
playable, findable file. Free space is checked every `check_every` seconds with an
injected function: below `warn_free_mb` an alert, below `min_free_mb` the policy — stop
*recording* (never the call) or purge the oldest recordings.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ccd.dsp.wav import WavWriter
from ccd.telephony.services import Request, Submit

if TYPE_CHECKING:
    from ccd.telephony.engine import Call, Engine

log = logging.getLogger(__name__)
MB = 1 << 20


@dataclass
class RecordingPolicy:
    mode: str = "off"  # off | all | inbound | outbound | queues | on_demand
    queues: tuple[str, ...] = ()
    stereo: bool = False
    format: str = "ima_adpcm"
    warn_free_mb: int = 500
    min_free_mb: int = 100
    on_disk_full: str = "stop"  # stop | purge_oldest
    check_every: float = 10.0

    @classmethod
    def from_config(cls, cfg: Any) -> RecordingPolicy:
        return cls(
            cfg.mode,
            tuple(cfg.queues),
            cfg.stereo,
            cfg.format,
            cfg.warn_free_mb,
            cfg.min_free_mb,
            cfg.on_disk_full,
        )


@dataclass
class Active:
    call: str
    path: Path
    writer: WavWriter
    row: int
    started: float
    queue: str | None
    paused: bool = False
    frames: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


class Recorder:
    """The tap: `recorder(rx_all, tx_all, now)` every tick."""

    def __init__(
        self,
        engine: Engine,
        folder: Path,
        policy: RecordingPolicy,
        submit: Submit,
        *,
        wall: Callable[[], float],
        free: Callable[[Path], int] = free_bytes,
        publish: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.folder = Path(folder)
        self.policy = policy
        self.submit = submit
        self.wall = wall
        self.free = free
        self.publish = publish or (lambda name, data: None)
        self.active: dict[str, Active] = {}
        self.demanded: set[str] = set()  # on-demand starts
        self.refused: set[str] = set()  # stopped by hand: not restarted by the rule
        self.disk_state = "ok"  # ok | low | full
        self._next_check = 0.0
        self.stopped_for_space = 0

    # -- decisions
    def wanted(self, call: Call) -> bool:
        if call.uniqueid in self.refused or call.answer is None or not call.trunk:
            return False
        if call.vars.get("record") or call.uniqueid in self.demanded:
            return True
        mode = self.policy.mode
        if mode == "all":
            return True
        if mode == "inbound":
            return call.direction == "in"
        if mode == "outbound":
            return call.direction == "out"
        if mode == "queues":
            return bool(call.queue) and call.queue in self.policy.queues
        return False

    # -- controls (socket commands)
    def start(self, call_id: str) -> None:
        if call_id not in self.engine.calls:
            raise LookupError(f"no call {call_id!r}")
        if self.disk_state == "full" and self.policy.on_disk_full == "stop":
            raise RuntimeError("recording is stopped: the disk is full")
        self.refused.discard(call_id)
        self.demanded.add(call_id)

    def stop(self, call_id: str) -> None:
        if call_id not in self.engine.calls:
            raise LookupError(f"no call {call_id!r}")
        self.refused.add(call_id)
        self.demanded.discard(call_id)
        rec = self.active.pop(call_id, None)
        if rec is not None:
            self._close(rec, "stopped")

    def pause(self, call_id: str, paused: bool = True) -> None:
        rec = self.active.get(call_id)
        if rec is None:
            raise LookupError(f"call {call_id!r} is not being recorded")
        rec.paused = paused
        self.publish(
            "recording.paused" if paused else "recording.resumed", {"call": call_id, "path": str(rec.path)}
        )

    # -- the tap
    def __call__(self, rx_all: np.ndarray, tx_all: np.ndarray, now: float) -> None:
        if now >= self._next_check:
            self._next_check = now + self.policy.check_every
            self._check_space()
        calls = self.engine.calls
        for call_id in [c for c in self.active if c not in calls or calls[c].end is not None]:
            self._close(self.active.pop(call_id), "ended")
        if (
            self.policy.mode == "off"
            and not self.demanded
            and not any(c.vars.get("record") for c in calls.values())
        ):
            return
        for call in calls.values():
            rec = self.active.get(call.uniqueid)
            if rec is None:
                if not self.wanted(call) or self.disk_state == "full":
                    continue
                rec = self._open(call)
                if rec is None:
                    continue
            left = rx_all[rec.row]
            right = tx_all[rec.row]
            if rec.paused:
                left = right = np.zeros_like(left)
            if self.policy.stereo:
                frame = np.stack([left, right], axis=1)
            else:
                frame = np.clip(left.astype(np.int32) + right.astype(np.int32), -32768, 32767).astype(
                    np.int16
                )
            try:
                rec.writer.write(frame)
            except OSError as exc:
                log.error(
                    "recording %s: write failed (%s): recording stopped, the call goes on", rec.path, exc
                )
                self.active.pop(call.uniqueid, None)
                self.refused.add(call.uniqueid)
                self._close(rec, "error")
                continue
            rec.frames += frame.shape[0]

    def _open(self, call: Call) -> Active | None:
        line = self.engine.lines.get(call.trunk or "")
        if line is None:
            return None
        wall = self.wall()
        day = dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%Y/%m/%d")
        folder = self.folder / day
        path = folder / f"{call.uniqueid}.wav"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writer = WavWriter(path, self.policy.format, 8000, 2 if self.policy.stereo else 1)
        except (OSError, ValueError) as exc:
            log.error("recording for call %s cannot start: %s (the call goes on)", call.uniqueid, exc)
            self.refused.add(call.uniqueid)
            return None
        rec = Active(call.uniqueid, path, writer, line.row, wall, call.queue)
        self.active[call.uniqueid] = rec
        call.vars["recording"] = str(path)
        self.submit(
            Request(
                "rec_start",
                {
                    "path": str(path),
                    "uniqueid": call.uniqueid,
                    "channels": writer.channels,
                    "format": self.policy.format,
                    "start": wall,
                    "queue": call.queue,
                },
                call.uniqueid,
            )
        )
        self.publish("recording.started", {"call": call.uniqueid, "path": str(path)})
        return rec

    def _close(self, rec: Active, why: str) -> None:
        try:
            rec.writer.close()
        except OSError as exc:
            log.error("recording %s: close failed: %s", rec.path, exc)
        size = rec.path.stat().st_size if rec.path.exists() else 0
        call = self.engine.calls.get(rec.call)
        queue = (call.queue if call else None) or rec.queue
        self.submit(
            Request(
                "rec_finish",
                {
                    "path": str(rec.path),
                    "duration": rec.frames / 8000,
                    "bytes": size,
                    "queue": queue,
                    "why": why,
                },
                rec.call,
            )
        )
        self.publish("recording.finished", {"call": rec.call, "path": str(rec.path), "why": why})

    def close_all(self) -> None:
        for call_id in list(self.active):
            self._close(self.active.pop(call_id), "shutdown")

    # -- free space
    def _check_space(self) -> None:
        try:
            free = self.free(self.folder)
        except OSError as exc:
            log.warning("cannot read free space of %s: %s", self.folder, exc)
            return
        policy = self.policy
        if free < policy.min_free_mb * MB:
            if self.disk_state != "full":
                log.error(
                    "recordings disk: %d MB free, below %d MB: %s",
                    free // MB,
                    policy.min_free_mb,
                    policy.on_disk_full,
                )
                self.publish("alert.disk_full", {"free_mb": free // MB, "policy": policy.on_disk_full})
            if policy.on_disk_full == "purge_oldest":
                self.disk_state = "low"
                self.submit(Request("rec_purge_oldest", {"count": 10}))
            else:
                self.disk_state = "full"
                for call_id in list(self.active):
                    self.stopped_for_space += 1
                    self._close(self.active.pop(call_id), "disk full")
        elif free < policy.warn_free_mb * MB:
            if self.disk_state == "ok":
                log.warning(
                    "recordings disk: %d MB free (warning below %d MB)", free // MB, policy.warn_free_mb
                )
                self.publish("alert.disk_low", {"free_mb": free // MB})
            self.disk_state = "low"
        else:
            if self.disk_state != "ok":
                log.info("recordings disk: %d MB free again: recording resumes", free // MB)
                self.publish("alert.disk_ok", {"free_mb": free // MB})
            self.disk_state = "ok"

    def snapshot(self) -> dict[str, Any]:
        return {
            "mode": self.policy.mode,
            "disk": self.disk_state,
            "active": [
                {"call": r.call, "path": str(r.path), "paused": r.paused, "seconds": r.frames / 8000}
                for r in self.active.values()
            ],
        }
