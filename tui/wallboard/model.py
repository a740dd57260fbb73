"""The wallboard's state, fed by daemon events and `wallboard.stats`; pure, no Textual.

Live objects (lines, calls, agents, queues) come from the event stream and its snapshots;
today's figures come from `wallboard.stats`, which the daemon computes from the journal,
so a restart of either side shows the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccd.metrics.alerts import Alert, compute_alerts
from ccd.metrics.definitions import Thresholds

NO_CID_KEEP = 60.0  # seconds an `alert.no_cid` stays on the board


@dataclass
class WallboardState:
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    recording: set[str] = field(default_factory=set)  # calls being recorded
    no_cid: dict[str, float] = field(default_factory=dict)  # line -> wall time of the last no-CID ring
    mono_offset: float = 0.0  # daemon wall − daemon clock: turns a line's `since` into wall time

    def reset(self) -> None:
        """Forget everything live (a fresh snapshot follows a reconnect)."""
        self.lines.clear()
        self.calls.clear()
        self.agents.clear()
        self.queues.clear()
        self.recording.clear()

    def apply(self, name: str, data: dict[str, Any], now: float) -> set[str]:
        """Apply one event; return the panels it changes."""
        topic, _, what = name.partition(".")
        if topic == "line" and data.get("line") is not None:
            self.lines[str(data["line"])] = data
            return {"channels", "alerts"}
        if topic == "call" and data.get("call") is not None:
            if what == "ended" or data.get("state") == "ended":
                self.calls.pop(data["call"], None)
                self.recording.discard(data["call"])
            else:
                self.calls[data["call"]] = {**self.calls.get(data["call"], {}), **data}
            return {"channels"}
        if topic == "agent" and data.get("agent") is not None:
            self.agents[str(data["agent"])] = data
            return {"agents"}
        if topic == "queue" and data.get("queue") is not None:
            self.queues[str(data["queue"])] = {**self.queues.get(data["queue"], {}), **data}
            return {"queues", "alerts"}
        if topic == "recording" and data.get("call"):
            if what in ("started", "resumed"):
                self.recording.add(data["call"])
            else:
                self.recording.discard(data["call"])
            return {"channels"}
        if name == "alert.no_cid" and data.get("line") is not None:
            self.no_cid[str(data["line"])] = now
            return {"alerts"}
        if name in ("alert.line_down", "alert.line_restored") and data.get("line") is not None:
            line = self.lines.setdefault(str(data["line"]), {"line": str(data["line"])})
            if name == "alert.line_down":
                line.update(state="out_of_service", reason=data.get("reason"))
            return {"channels", "alerts"}
        return set()

    def set_stats(self, stats: dict[str, Any]) -> None:
        self.stats = stats
        if "now" in stats and "clock" in stats:
            self.mono_offset = float(stats["now"]) - float(stats["clock"])

    def thresholds(self, queue: str) -> Thresholds:
        t = (self.stats.get("thresholds") or {}).get(queue) or self.stats.get("default_thresholds")
        return Thresholds(**t) if t else Thresholds()

    def alerts(self, now: float) -> list[Alert]:
        for line, at in list(self.no_cid.items()):
            if now - at > NO_CID_KEEP:
                del self.no_cid[line]
        return compute_alerts(
            queues_live=self.queues,
            queue_stats=self.stats.get("queues") or {},
            lines=self.lines,
            thresholds=self.thresholds,
            disk=self.stats.get("disk"),
            disk_alert=float(self.stats.get("disk_alert", 90.0)),
            no_cid=self.no_cid,
        )

    def line_since(self, line: dict[str, Any]) -> float | None:
        since = line.get("since")
        return None if since is None else float(since) + self.mono_offset

    def call_for_line(self, line_id: str) -> dict[str, Any] | None:
        line = self.lines.get(line_id) or {}
        call = self.calls.get(line.get("call") or "")
        if call is not None:
            return call
        for c in self.calls.values():
            if line_id in (c.get("lines") or ()):
                return c
        return None

    def agent_at(self, extension: str) -> dict[str, Any] | None:
        for a in self.agents.values():
            if a.get("extension") == extension and a.get("state") != "logged_out":
                return a
        return None
