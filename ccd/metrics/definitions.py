"""What each supervisor figure means, in one table the wallboard, the reports and the docs share.

Users distrust a wallboard whose numbers they cannot recompute (FEATURES §4.9 lists five
service-level formulas in the wild). So every figure carries its formula as text, and the
thresholds it depends on are explicit values (`Thresholds`) that travel with every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_T = 30.0  # the ACD's own default service_level
DEFAULT_S = 5.0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """T, S and the targets for one queue, as used by one computation."""

    service_level: float = DEFAULT_T  # T, seconds
    short_abandon: float = DEFAULT_S  # S, seconds
    sl_target: float = 80.0  # %
    abandon_target: float = 5.0  # %
    wait_alert: float = 60.0  # seconds

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def thresholds_for(config: Any, queue: str | None) -> Thresholds:
    """The thresholds of `queue` from a `Config` (or defaults when the config has no section).

    T comes from ``[metrics.queues.NAME] service_level``, else ``[metrics] service_level``,
    else the queue's own ``[[queues]] service_level``, else 30 s.
    """
    metrics = getattr(config, "metrics", None)
    own_t = None
    for q in getattr(config, "queues", ()) or ():
        if getattr(q, "name", None) == queue:
            own_t = getattr(q, "service_level", None)
    if metrics is None:
        return Thresholds(service_level=own_t or DEFAULT_T)
    per = metrics.queues.get(queue) if queue else None

    def pick(name: str, fallback: Any) -> Any:
        value = getattr(per, name, None) if per is not None else None
        return fallback if value is None else value

    t = pick("service_level", metrics.service_level or own_t or DEFAULT_T)
    return Thresholds(
        service_level=float(t),
        short_abandon=float(pick("short_abandon", metrics.short_abandon)),
        sl_target=float(pick("sl_target", metrics.sl_target)),
        abandon_target=float(pick("abandon_target", metrics.abandon_target)),
        wait_alert=float(pick("wait_alert", metrics.wait_alert)),
    )


def wrap_times(config: Any) -> tuple[dict[str, float], dict[str, float]]:
    """(queue -> wrap-up seconds, agent -> own wrap-up seconds) from the ACD config."""
    queues = {q.name: float(q.wrap_up) for q in getattr(config, "queues", ()) or ()}
    agents = {a.login: float(a.wrap_up) for a in getattr(config, "agents", ()) or () if a.wrap_up is not None}
    return queues, agents


@dataclass(frozen=True, slots=True)
class Definition:
    key: str
    label: str
    formula: str
    config: str = ""


DEFINITIONS: tuple[Definition, ...] = (
    Definition("offered", "Offered", "ENTERQUEUE rows: callers who joined the queue"),
    Definition("answered", "Answered", "CONNECT rows: callers put through to an agent (callbacks included)"),
    Definition(
        "service_level",
        "SL %",
        "answered within T / (answered + abandoned after T) × 100; short abandons and callbacks left out",
        "metrics.service_level (T), metrics.queues.NAME.service_level, [[queues]] service_level",
    ),
    Definition(
        "short_abandoned",
        "Short abandons",
        "ABANDON rows with waittime ≤ S: neither help nor hurt any rate",
        "metrics.short_abandon (S), metrics.queues.NAME.short_abandon",
    ),
    Definition("abandoned", "Abandoned", "ABANDON rows with waittime > S"),
    Definition(
        "abandon_rate", "Abandon %", "abandoned / (answered + abandoned) × 100", "metrics.abandon_target"
    ),
    Definition("asa", "ASA", "Σ holdtime of answered calls / answered calls (callbacks left out), seconds"),
    Definition(
        "aht",
        "AHT",
        "(talk + hold + wrap-up) / handled calls, seconds; hold is inside calltime",
        "[[queues]] wrap_up, [[agents]] wrap_up",
    ),
    Definition("att", "Avg talk", "Σ calltime of COMPLETEAGENT/COMPLETECALLER/transfer rows / handled calls"),
    Definition(
        "acw",
        "Avg wrap-up",
        "Σ wrap-up / handled calls; a call's wrap-up = min(configured wrap_up, time to the agent's next row)",
    ),
    Definition(
        "occupancy",
        "Occupancy %",
        "(on call + wrap-up) / (on call + wrap-up + ready) × 100; not-ready time is left out",
        "metrics.occupancy_target",
    ),
    Definition("callbacks", "Callbacks", "CALLBACK rows: callers who kept their place and hung up"),
    Definition("timeouts", "Timeouts", "EXITWITHTIMEOUT rows: callers sent on after max_wait"),
    Definition("transferred", "Transferred", "BLINDTRANSFER and ATTENDEDTRANSFER rows"),
    Definition("longest_wait", "Longest wait", "live: the longest current wait of a caller in the queue"),
)

DEFINITION_BY_KEY = {d.key: d for d in DEFINITIONS}
