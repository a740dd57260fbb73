"""`ccd serve`, `ccd init`, `ccd demo`, `ccd status`, `ccd cdr`: running and watching the daemon."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import getpass
import logging
import sys
from pathlib import Path
from typing import Any

import click

from cli.common import config_option, daemon_call, load, print_json, resolve_socket, socket_option

log = logging.getLogger("ccd.cli")


def _setup_logging(level: str, to_file: Path | None = None) -> None:
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    if to_file is not None:
        to_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(to_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers[:] = [handler]


@click.command()
@config_option
def serve(config_path: str | None) -> None:
    """Run the daemon in the foreground until SIGTERM or Ctrl-C."""
    cfg = load(config_path)
    _setup_logging(cfg.daemon.log_level)
    from ccd.daemon import Daemon

    async def main() -> None:
        daemon = Daemon(cfg)
        try:
            await daemon.start()
        except OSError as exc:
            raise click.ClickException(str(exc)) from None
        await daemon.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


async def _init_store(cfg: Any, admin: str, password: str | None, demo: bool) -> list[str]:
    from ccd.clock import RealClock
    from ccd.store.db import Store

    done: list[str] = []
    Path(cfg.daemon.database).parent.mkdir(parents=True, exist_ok=True)
    store = await Store.open(cfg.daemon.database, RealClock())
    try:
        if demo:
            from ccd.crm.demo_data import load_demo

            summary = await load_demo(store)
            done.append(f"demo data: {summary}")
        elif password is not None and await store.users.find(admin) is None:
            await store.users.add(admin, "Administrator", "admin", password)
            done.append(f"admin user {admin!r} created")
        for user in cfg.users:
            if await store.users.find(user.login) is None:
                # seeded people get their login as first password and must change it
                await store.users.add(
                    user.login,
                    user.name,
                    user.role,
                    user.login,
                    extension=user.extension,
                    agent_no=user.agent_no,
                )
                done.append(f"user {user.login} ({user.role}) created")
    finally:
        await store.close()
    return done


@click.command()
@config_option
@click.option("--admin", default="admin", show_default=True, help="Login of the first administrator.")
@click.option("--password", default=None, help="Its password (asked for when omitted).")
def init(config_path: str | None, admin: str, password: str | None) -> None:
    """Create the database (running migrations) and the first administrator."""
    cfg = load(config_path)
    if password is None:
        if not sys.stdin.isatty():
            raise click.ClickException("no --password given and no terminal to ask on")
        password = getpass.getpass(f"password for {admin}: ")
    for line in asyncio.run(_init_store(cfg, admin, password, demo=False)):
        click.echo(line)
    click.echo(f"database ready: {cfg.daemon.database}")


@click.command()
@config_option
@click.option("--no-traffic", is_flag=True, help="Start without generated calls.")
@click.option("--plain", is_flag=True, help="A plain live status table instead of the wallboard.")
def demo(config_path: str | None, no_traffic: bool, plain: bool) -> None:
    """Run the demo office: daemon, simulated lines with traffic, demo customers, live view.

    Demo logins: admin/admin, supervisor 9000/9000, agents 1001..1004 (password = login).
    Ctrl-C stops everything."""
    cfg = load(config_path)
    workdir = Path(cfg.daemon.database).parent
    _setup_logging(cfg.daemon.log_level, to_file=workdir / "ccd.log")
    asyncio.run(_init_store(cfg, "admin", None, demo=True))
    from ccd.daemon import Daemon

    async def main() -> None:
        daemon = Daemon(cfg)
        try:
            await daemon.start()
        except OSError as exc:
            raise click.ClickException(str(exc)) from None
        sim = daemon.sim
        if sim is not None:
            if no_traffic:
                sim.stop_traffic()
                sim.set_auto_answer(None, None)
            elif sim._traffic is not None:
                # most demo callers are known customers, so screen pops have a story to show
                customers = await daemon.store.customers.list(limit=200)
                numbers = [n.national or n.e164 for c in customers for n in c.numbers][:200]
                sim.start_traffic(
                    sim._traffic["rate"],
                    talk=sim._traffic["talk"],
                    patience=sim._traffic["patience"],
                    numbers=list(numbers),
                )
            # desk 801 is yours (agent 1001): it rings, but only you lift it
            sim.set_auto_answer("801", None)
        await _seat_virtual_agents(daemon, skip=("801",))
        try:
            await _live_view(daemon, plain)
        finally:
            await daemon.stop()

    click.echo(f"ccd demo: socket {cfg.daemon.socket}, log {workdir / 'ccd.log'} — Ctrl-C to stop")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    click.echo("ccd demo stopped")


async def _seat_virtual_agents(daemon: Any, skip: tuple[str, ...]) -> None:
    """Log the demo's virtual agents in, ready, at their desks (their phones answer by
    themselves); the seats in `skip` are left for the people trying the demo."""
    acd = getattr(daemon, "acd", None)
    if acd is None:
        return
    for user in await daemon.store.users.list():
        if user.role != "agent" or not user.extension or user.extension in skip:
            continue
        if user.extension not in daemon.lines:
            continue
        try:
            acd.login(
                user.login, name=user.name, extension=user.extension, agent_no=user.agent_no, ready=True
            )
        except Exception as exc:  # already logged in from the journal, or a seat taken
            log.info("demo agent %s not seated: %s", user.login, exc)
    daemon._apply(daemon.engine.drain())


async def _live_view(daemon: Any, plain: bool) -> None:
    """The wallboard when it exists; otherwise a rich live table of lines and calls."""
    if not plain:
        try:
            from tui.wallboard.app import run_embedded  # type: ignore[attr-defined]
        except ImportError:
            run_embedded = None
        if run_embedded is not None:
            await run_embedded(daemon)
            return
    from rich.console import Console
    from rich.live import Live

    console = Console()
    stop = asyncio.Event()
    with Live(_status_table(daemon.status()), console=console, refresh_per_second=4, screen=False) as live:
        while not stop.is_set():
            await asyncio.sleep(0.5)
            live.update(_status_table(daemon.status()))


STATE_STYLE = {
    "idle": "green",
    "ringing": "bold yellow",
    "wait_answer": "bold yellow",
    "connected": "bold red",
    "calling": "yellow",
    "dialing": "yellow",
    "offhook": "cyan",
    "wait_hangup": "magenta",
    "out_of_service": "bold white on red",
}


def _fmt_time(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else ""


def _status_table(status: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.table import Table

    lines = Table(title="Lines", expand=False, header_style="bold")
    for col in ("line", "kind", "label", "state", "for", "caller", "name", "call"):
        lines.add_column(col)
    clock = status.get("clock", 0.0)
    for line in status["lines"]:
        state = line["state"]
        style = STATE_STYLE.get(state, "")
        kind = line["kind"] + (" (box)" if line.get("passthrough") else "")
        held = max(0, int(clock - line["since"])) if line.get("since") else 0
        lines.add_row(
            line["line"],
            kind,
            line.get("label") or "",
            f"[{style}]{state}[/]" if style else state,
            f"{held // 60}:{held % 60:02d}" if state != "idle" else "",
            line.get("caller") or "",
            line.get("caller_name") or "",
            line.get("call") or "",
        )
    calls = Table(title="Calls", header_style="bold")
    for col in ("call", "dir", "state", "from", "name", "location", "to", "lines"):
        calls.add_column(col)
    for call in status["calls"]:
        calls.add_row(
            call["call"],
            call["direction"],
            call["state"],
            call.get("src") or "",
            call.get("caller_name") or "",
            call.get("location") or "",
            call.get("dst") or "",
            ", ".join(call.get("lines") or []),
        )
    return Group(lines, calls)


@click.command()
@config_option
@socket_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def status(config_path: str | None, socket_path: str | None, as_json: bool) -> None:
    """Lines and calls of the running daemon."""
    data = daemon_call(resolve_socket(socket_path, config_path), "status")
    if as_json:
        print_json(data)
        return
    from rich.console import Console

    Console().print(_status_table(data))


CDR_COLUMNS = (
    "uniqueid",
    "linkedid",
    "direction",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "src",
    "caller_name",
    "location",
    "dst",
    "channel",
    "dstchannel",
    "disposition",
)


@click.command()
@config_option
@socket_option
@click.option(
    "--last", "last", default=20, show_default=True, type=click.IntRange(1, 10000), help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="JSON output (with legs).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV output (Asterisk Master.csv columns).")
def cdr(config_path: str | None, socket_path: str | None, last: int, as_json: bool, as_csv: bool) -> None:
    """Call detail records, newest first."""
    rows = daemon_call(resolve_socket(socket_path, config_path), "cdr.list", {"last": last})
    if as_json:
        print_json(rows)
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(CDR_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("start", "dir", "src", "name", "location", "dst", "duration", "billsec", "disposition"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            _fmt_time(row.get("start")),
            row.get("direction") or "",
            row.get("src") or "",
            row.get("caller_name") or "",
            row.get("location") or "",
            row.get("dst") or "",
            str(row.get("duration") or 0),
            str(row.get("billsec") or 0),
            row.get("disposition") or "",
        )
    Console().print(table)
