"""`ccd sim ...`: drive the simulated office of a running daemon (virtual callers and phones)."""

from __future__ import annotations

import click

from cli.common import config_option, daemon_call, print_json, resolve_socket, socket_option

CID_CHOICES = ["fsk-bell202", "fsk-v23", "dtmf", "none"]


@click.group()
def sim() -> None:
    """The simulated office: place calls, work the phones, generate traffic."""


@sim.command("call")
@config_option
@socket_option
@click.option("--trunk", default=None, help="Trunk id (default: the first idle one).")
@click.option("--from", "number", default="13800138000", show_default=True, help="Caller's number.")
@click.option("--name", default=None, help="Caller's name sent in the caller ID (MDMF).")
@click.option("--cid", type=click.Choice(CID_CHOICES), default=None, help="Caller-ID signalling.")
@click.option("--cid-format", type=click.Choice(["mdmf", "sdmf"]), default=None)
@click.option("--press", default="", help="Digits the caller presses after answer.")
@click.option(
    "--talk", type=float, default=60.0, show_default=True, help="Seconds the caller talks once answered."
)
@click.option(
    "--hangup-after", type=float, default=60.0, show_default=True, help="Seconds the caller lets it ring."
)
def sim_call(
    config_path: str | None,
    socket_path: str | None,
    trunk: str | None,
    number: str,
    name: str | None,
    cid: str | None,
    cid_format: str | None,
    press: str,
    talk: float,
    hangup_after: float,
) -> None:
    """A virtual caller rings a trunk."""
    args = {
        "trunk": trunk,
        "number": None if cid == "none" else number,
        "name": name,
        "cid": cid,
        "cid_format": cid_format,
        "press": press,
        "talk": talk,
        "hangup_after": hangup_after,
    }
    result = daemon_call(
        resolve_socket(socket_path, config_path), "sim.call", {k: v for k, v in args.items() if v is not None}
    )
    click.echo(f"calling trunk {result['trunk']} from {result.get('number') or 'withheld'} ({result['ref']})")


@sim.command("phone")
@config_option
@socket_option
@click.argument("line")
@click.argument("action", type=click.Choice(["offhook", "onhook", "press"]))
@click.argument("digits", required=False, default="")
def sim_phone(config_path: str | None, socket_path: str | None, line: str, action: str, digits: str) -> None:
    """Lift, hang up, or press DIGITS on a virtual phone (an extension or a pass-through line)."""
    if action == "press" and not digits:
        raise click.ClickException("press needs DIGITS, e.g. `ccd sim phone 801 press 123`")
    result = daemon_call(
        resolve_socket(socket_path, config_path),
        "sim.phone",
        {"line": line, "action": action, "digits": digits},
    )
    click.echo(f"phone {result['line']}: {'off-hook' if result['offhook'] else 'on-hook'}")


@sim.command("traffic")
@config_option
@socket_option
@click.option("--rate", type=float, required=True, help="Calls per hour (0 stops).")
@click.option("--minutes", type=float, default=None, help="For how long (default: until stopped).")
def sim_traffic(config_path: str | None, socket_path: str | None, rate: float, minutes: float | None) -> None:
    """Generate Poisson call traffic."""
    if rate < 0:
        raise click.ClickException("--rate must be >= 0")
    args = {"rate": rate} | ({"minutes": minutes} if minutes is not None else {})
    result = daemon_call(resolve_socket(socket_path, config_path), "sim.traffic", args)
    click.echo("traffic stopped" if result["traffic"] is None else f"traffic: {rate:g} calls/hour")


@sim.command("status")
@config_option
@socket_option
def sim_status(config_path: str | None, socket_path: str | None) -> None:
    """Callers and phones of the simulated office (JSON)."""
    print_json(daemon_call(resolve_socket(socket_path, config_path), "sim.status"))
