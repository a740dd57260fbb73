"""Socket commands of the supervisor wallboard and reports: `wallboard.stats`, `report.run`, `report.list`.

Every figure is computed from the persisted journal and CDRs at the moment it is asked
for, so a restart of the daemon changes nothing on the board (FEATURES §3, pain point 1).
Supervisors and admins only: agents see their own figures in the agent terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import E_INVALID_ARGS, E_NOT_FOUND, RpcError
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.daemon import Daemon

log = logging.getLogger(__name__)


def office_tz(daemon: Any) -> dt.tzinfo:
    """The office's time zone ([callcenter] timezone), which decides what "today" means."""
    name = getattr(getattr(daemon.config, "callcenter", None), "timezone", None)
    if name:
        try:
            from ccd.telephony.router import parse_tz

            return parse_tz(name)
        except ValueError:
            log.warning("[callcenter] timezone %r not understood; using the store's", name)
    return daemon.store.tz


def disk_usage(folder: Any) -> dict[str, Any] | None:
    """How full the recordings' disk is (None when the folder cannot be read)."""
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return {
        "used_pct": round(100.0 * usage.used / usage.total, 1) if usage.total else None,
        "free_bytes": usage.free,
        "total_bytes": usage.total,
    }


def build_registry(daemon: Daemon | None) -> CommandRegistry:
    reg = CommandRegistry()

    @reg.command(
        "wallboard.stats",
        role="supervisor",
        doc="Today's figures per queue and agent and calls per 15 minutes (today, yesterday), from the journal.",
        example={},
    )
    async def wallboard_stats(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.metrics.live import today_stats

        reject_unknown(args)
        assert daemon is not None
        now = daemon.clock.wall()
        stats = await today_stats(daemon.store, daemon.config, now=now, tz=office_tz(daemon))
        stats["clock"] = daemon.clock.now()  # the scale of lines' `since`
        stats["disk"] = disk_usage(daemon.config.daemon.recordings)
        metrics = getattr(daemon.config, "metrics", None)
        stats["disk_alert"] = getattr(metrics, "disk_alert", 90.0)
        stats["occupancy_target"] = getattr(metrics, "occupancy_target", 85.0)
        return stats

    @reg.command(
        "report.run",
        role="supervisor",
        doc="Run a report (traffic, queue, agent, signin, trunk, customer, survey, sales) over a period.",
        example={"name": "queue", "from": "2026-01-05", "to": "2026-01-05", "interval": "1h"},
    )
    async def report_run(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.metrics.reports import ReportError, run_report

        reject_unknown(args, "name", "from", "to", "queue", "agent", "interval")
        assert daemon is not None
        name = require(args, "name", str)
        start = optional(args, "from", (str, int, float))
        end = optional(args, "to", (str, int, float))
        try:
            rep = await run_report(
                daemon.store,
                daemon.config,
                name,
                start,
                end,
                now=daemon.clock.wall(),
                tz=office_tz(daemon),
                queue=optional(args, "queue", str),
                agent=optional(args, "agent", str),
                interval=optional(args, "interval", str),
            )
        except ReportError as exc:
            code = E_NOT_FOUND if exc.code in ("unknown_queue", "unknown_report") else E_INVALID_ARGS
            raise RpcError(code, str(exc), {"reason": exc.code}) from None
        return rep.as_dict()

    @reg.command(
        "report.list", role="supervisor", doc="The reports and every metric's definition.", example={}
    )
    async def report_list(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.metrics.definitions import DEFINITIONS
        from ccd.metrics.reports import REPORTS

        reject_unknown(args)
        return {
            "reports": [{"name": n, "title": t} for n, (t, _) in REPORTS.items()],
            "definitions": [
                {"key": d.key, "label": d.label, "formula": d.formula, "config": d.config}
                for d in DEFINITIONS
            ],
        }

    return reg
