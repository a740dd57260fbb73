"""`ccd report NAME`: supervisor reports as a rich table, CSV, xlsx or JSON.

The report is computed by the running daemon (`report.run`) when there is one, else
straight from the database file named in ccd.toml (WAL lets this run beside a daemon),
with the same code either way. Every output carries the T and S the figures used: as
columns in the queue report, and in the JSON ``params`` and the xlsx "parameters" sheet.

A period with nothing in it, an empty range or an unknown queue is one line on stderr and
exit code 1, so scripts notice.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from cli.common import config_option, load, socket_option

REPORT_NAMES = ("traffic", "queue", "agent", "signin", "trunk", "customer", "survey", "sales")
FORMATS = ("table", "csv", "xlsx", "json")


def _fetch_from_daemon(socket: Path, args: dict[str, Any]) -> dict[str, Any] | None:
    """The report from the daemon; None when no daemon runs there. RpcError propagates."""
    from tui.client import DaemonConnectionError, call_daemon

    try:
        return call_daemon(socket, "report.run", args, peer=True, timeout=60.0)
    except (DaemonConnectionError, FileNotFoundError):
        return None


async def _fetch_offline(cfg: Any, args: dict[str, Any]) -> dict[str, Any]:
    import time

    from ccd.clock import RealClock
    from ccd.metrics.reports import run_report
    from ccd.server.report_commands import office_tz
    from ccd.store.db import Store

    db = Path(cfg.daemon.database)
    if not db.is_file():
        raise click.ClickException(f"no database at {db}: start the daemon once (ccd serve) or run ccd init")
    store = await Store.open(db, RealClock())
    try:

        class _D:  # what office_tz() needs of a daemon
            config = cfg

        _D.store = store  # type: ignore[attr-defined]
        rep = await run_report(
            store,
            cfg,
            args["name"],
            args.get("from"),
            args.get("to"),
            now=time.time(),
            tz=office_tz(_D),
            queue=args.get("queue"),
            agent=args.get("agent"),
            interval=args.get("interval"),
        )
    finally:
        await store.close()
    return rep.as_dict()


def _cell(value: Any, kind: str, *, for_table: bool) -> Any:
    if value is None:
        return "—" if for_table else ""
    if not for_table:
        return value
    if kind == "secs" and isinstance(value, int | float):
        s = round(value)
        return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if kind == "pct" and isinstance(value, int | float):
        return f"{value:.1f}"
    if kind == "money" and isinstance(value, int | float):
        return f"{value:,.2f}"
    return str(value)


def _period(data: dict[str, Any]) -> str:
    """The period in the office's time zone, as the daemon wrote it."""
    period = (data.get("params") or {}).get("period")
    if period:
        return str(period)
    a = dt.datetime.fromtimestamp(data["from"]).strftime("%Y-%m-%d %H:%M")
    b = dt.datetime.fromtimestamp(data["to"]).strftime("%Y-%m-%d %H:%M")
    return f"{a} → {b}"


def _params_line(data: dict[str, Any]) -> str:
    p = data.get("params") or {}
    parts = []
    th = p.get("thresholds") or {}
    for name, t in th.items():
        if name == "default":  # reports that do not depend on T and S
            continue
        if isinstance(t, dict) and "T" in t:
            parts.append(f"{name}: T={t['T']:g}s S={t['S']:g}s")
    if p.get("interval"):
        parts.append(f"interval {p['interval']}")
    return "; ".join(parts)


def render_table(data: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(
        title=f"{data['title']}  {_period(data)}",
        caption=_params_line(data) or None,
        header_style="bold",
        show_lines=False,
    )
    cols = data["columns"]
    for c in cols:
        table.add_column(
            c["label"],
            justify="left" if c["kind"] == "text" else "right",
            no_wrap=c["kind"] != "text",
            min_width=min(len(c["label"]), 12),
        )
    for row in data["rows"]:
        table.add_row(*(_cell(row.get(c["key"]), c["kind"], for_table=True) for c in cols))
    return table


def render_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    cols = data["columns"]
    writer = csv.writer(buf)
    writer.writerow([c["key"] for c in cols])
    for row in data["rows"]:
        writer.writerow([_cell(row.get(c["key"]), c["kind"], for_table=False) for c in cols])
    return buf.getvalue()


def write_xlsx(data: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = data["name"][:31]
    cols = data["columns"]
    ws.append([c["label"] for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in data["rows"]:
        ws.append([_xlsx_value(row.get(c["key"])) for c in cols])
    meta = wb.create_sheet("parameters")
    meta.append(["report", data["title"]])
    meta.append(["from", dt.datetime.fromtimestamp(data["from"]).strftime("%Y-%m-%d %H:%M:%S")])
    meta.append(["to", dt.datetime.fromtimestamp(data["to"]).strftime("%Y-%m-%d %H:%M:%S")])
    for key, value in (data.get("params") or {}).items():
        meta.append([key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value])
    for d in data.get("definitions") or []:
        meta.append([d["label"], d["formula"], d.get("config", "")])
    wb.save(path)


def _xlsx_value(v: Any) -> Any:
    return v if v is None or isinstance(v, int | float | str) else str(v)


@click.command()
@click.argument("name", type=click.Choice(REPORT_NAMES))
@click.option(
    "--from", "start", default="today", show_default=True, help="Start: YYYY-MM-DD[ HH:MM], today..."
)
@click.option("--to", "end", default=None, help="End (a date includes that day; default: now).")
@click.option("--queue", default=None, help="Only this queue.")
@click.option("--agent", default=None, help="Only this agent (login).")
@click.option("--interval", default=None, help="Buckets: 15m, 30m, 1h, day, week, month.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here."
)
@config_option
@socket_option
def report(
    name: str,
    start: str,
    end: str | None,
    queue: str | None,
    agent: str | None,
    interval: str | None,
    fmt: str,
    output: Path | None,
    config_path: str | None,
    socket_path: str | None,
) -> None:
    """A supervisor report: traffic, queue, agent, signin (签入签出), trunk, customer, survey, sales.

    Figures come from the persisted journal and CDRs; see docs/metrics.md for each formula.
    """
    from ccd.ipc.errors import RpcError

    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs -o FILE.xlsx")
    args: dict[str, Any] = {"name": name, "from": start}
    for key, value in (("to", end), ("queue", queue), ("agent", agent), ("interval", interval)):
        if value:
            args[key] = value
    cfg = None
    if socket_path:
        socket = Path(socket_path)
    else:
        cfg = load(config_path)
        socket = Path(cfg.daemon.socket)
    try:
        data = _fetch_from_daemon(socket, args)
        if data is None:
            cfg = cfg or load(config_path)
            data = asyncio.run(_fetch_offline(cfg, args))
    except RpcError as exc:
        raise click.ClickException(exc.message) from None
    except TimeoutError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:
        from ccd.metrics.reports import ReportError
        from ccd.store.errors import StoreError

        if isinstance(exc, ReportError | StoreError):
            raise click.ClickException(str(exc)) from None
        raise
    if not data["rows"]:
        raise click.ClickException(f"{data['title']}: nothing recorded from {_period(data)}")
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(data, output)
        click.echo(f"{len(data['rows'])} rows written to {output}", err=True)
        return
    if fmt == "table":
        from rich.console import Console

        table = render_table(data)
        target = output.open("w", encoding="utf-8") if output else sys.stdout
        console = Console(file=target)
        if output is not None or not target.isatty():  # a file or a pipe: as wide as the table needs
            wide = console.measure(table, options=console.options.update_width(1000)).maximum
            console = Console(file=target, width=max(80, wide))
        console.print(table)
        return
    text = render_csv(data) if fmt == "csv" else json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(data['rows'])} rows written to {output}", err=True)
    else:
        click.echo(text, nl=False)
