"""`ccd firewall add|list|remove|log`: the call firewall's list (through the running daemon)."""

from __future__ import annotations

import click

from cli.common import config_option, daemon_call, output_options, print_json, resolve_socket, socket_option

KINDS = ["number", "prefix", "regex", "withheld", "out_of_area"]
ACTIONS = ["reject", "message", "busy", "voicemail", "screen", "allow", "vip"]


@click.group()
def firewall() -> None:
    """The call firewall: blocked, screened and VIP numbers."""


@firewall.command("add")
@config_option
@socket_option
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("value", required=False, default="")
@click.option("--action", type=click.Choice(ACTIONS), default="reject", show_default=True)
@click.option("--target", default=None, help="Mailbox for --action voicemail; priority for vip.")
@click.option("--note", default=None)
def firewall_add(
    config_path: str | None,
    socket_path: str | None,
    kind: str,
    value: str,
    action: str,
    target: str | None,
    note: str | None,
) -> None:
    """Add KIND VALUE: `number 13800138000`, `prefix 170`, `regex '^400'`, `withheld`."""
    args = {"kind": kind, "value": value, "action": action, "target": target, "note": note}
    rule = daemon_call(
        resolve_socket(socket_path, config_path), "firewall.add", {k: v for k, v in args.items() if v}
    )
    click.echo(f"entry {rule['id']}: {rule['kind']} {rule['value']} -> {rule['action']}")


@firewall.command("list")
@config_option
@socket_option
@output_options
def firewall_list(config_path: str | None, socket_path: str | None, as_json: bool) -> None:
    """Every entry with its hit counter."""
    rows = daemon_call(resolve_socket(socket_path, config_path), "firewall.list")
    if as_json:
        print_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>4}  {r['kind']:<11} {r['value'] or '-':<16} {r['action']:<9} hits {r['hits']:<5} {r['note'] or ''}"
        )


@firewall.command("remove")
@config_option
@socket_option
@click.argument("entry_id", type=int)
def firewall_remove(config_path: str | None, socket_path: str | None, entry_id: int) -> None:
    """Remove entry ENTRY_ID."""
    daemon_call(resolve_socket(socket_path, config_path), "firewall.remove", {"id": entry_id})
    click.echo(f"entry {entry_id} removed")


@firewall.command("log")
@config_option
@socket_option
@output_options
@click.option("--limit", type=int, default=50, show_default=True)
def firewall_log(config_path: str | None, socket_path: str | None, as_json: bool, limit: int) -> None:
    """The latest screened calls."""
    rows = daemon_call(resolve_socket(socket_path, config_path), "firewall.log", {"limit": limit})
    if as_json:
        print_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['ts']:.0f}  {r['number'] or 'withheld':<16} trunk {r['trunk'] or '-':<4} {r['action']}"
        )
