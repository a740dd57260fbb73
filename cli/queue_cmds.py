"""`ccd queue list` (live, through the daemon) and `ccd queuelog export` (offline, from the database).

The export writes Asterisk's pipe-delimited queue_log (``ts|callid|queue|agent|EVENT|data...``),
the file QueueMetrics, Asternic and QPanel already read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import Any

import click

from cli.common import config_option, daemon_call, load, print_json, resolve_socket, socket_option


def _when(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (2025-01-31, 2025-01-31T08:00) or Unix time"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed.timestamp()


@click.group()
def queue() -> None:
    """Queues and the callers waiting in them."""


@queue.command("list")
@config_option
@socket_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def queue_list(config_path: str | None, socket_path: str | None, as_json: bool) -> None:
    """Every queue: callers waiting, longest wait, agents, service level."""
    rows = daemon_call(resolve_socket(socket_path, config_path), "queue.list", {})
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("queue", "strategy", "waiting", "longest", "callbacks", "ready", "busy", "wrap-up", "SL"):
        table.add_column(col)
    for q in rows:
        table.add_row(
            q["queue"],
            q["strategy"],
            str(q["waiting"]),
            f"{q['longest_wait']:.0f}s",
            str(q["callbacks_pending"]),
            str(q["agents_ready"]),
            str(q["agents_busy"]),
            str(q.get("agents_wrap_up", 0)),
            f"{q['service_level']:.1f}% in {q['service_level_seconds']:.0f}s",
        )
    Console().print(table)


@click.group()
def queuelog() -> None:
    """The queue event journal in Asterisk queue_log format."""


@queuelog.command("export")
@config_option
@click.option("--from", "since", metavar="WHEN", help="Start (date, ISO time or Unix time; default: all).")
@click.option("--to", "until", metavar="WHEN", help="End, exclusive (default: now).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
def queuelog_export(
    config_path: str | None, since: str | None, until: str | None, output: str | None
) -> None:
    """Write the journal as pipe-delimited queue_log lines."""
    cfg = load(config_path)
    t0 = _when(since, 0.0)
    t1 = _when(until, dt.datetime.now().timestamp() + 1)
    if t1 <= t0:
        raise click.ClickException("--to must be after --from")
    if not cfg.daemon.database.exists():
        raise click.ClickException(f"no database at {cfg.daemon.database}")

    async def run() -> int:
        from ccd.clock import RealClock
        from ccd.store.db import Store

        store = await Store.open(cfg.daemon.database, RealClock())
        try:
            if output:
                with open(output, "w", encoding="utf-8") as fp:
                    return await store.journal.export_queue_log(fp, t0, t1)
            return await store.journal.export_queue_log(sys.stdout, t0, t1)
        finally:
            await store.close()

    count = asyncio.run(run())
    if output:
        click.echo(f"{count} rows written to {output}", err=True)


__all__: list[Any] = ["queue", "queuelog"]
