"""`ccd rec list|export|purge`: call recordings (through the running daemon)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from cli.common import config_option, daemon_call, output_options, print_json, resolve_socket, socket_option


@click.group()
def rec() -> None:
    """Call recordings."""


@rec.command("list")
@config_option
@socket_option
@output_options
@click.option("--call", "call_id", default=None, help="Only the recordings of this call (uniqueid).")
@click.option("--limit", type=int, default=50, show_default=True)
def rec_list(
    config_path: str | None, socket_path: str | None, as_json: bool, call_id: str | None, limit: int
) -> None:
    """Recordings, newest first."""
    rows = daemon_call(
        resolve_socket(socket_path, config_path), "rec.list", {"call": call_id, "limit": limit}
    )
    if as_json:
        print_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>6}  {r['call'] or '-':<20} {r['duration']:>7.1f}s {r['bytes'] // 1024:>6} KB  {r['path']}"
        )


@rec.command("export")
@config_option
@socket_option
@click.argument("call_id")
@click.argument("dest", type=click.Path(file_okay=False))
def rec_export(config_path: str | None, socket_path: str | None, call_id: str, dest: str) -> None:
    """Copy the recordings of call CALL_ID into folder DEST."""
    rows = daemon_call(resolve_socket(socket_path, config_path), "rec.list", {"call": call_id})
    if not rows:
        raise click.ClickException(f"call {call_id} has no recordings")
    Path(dest).mkdir(parents=True, exist_ok=True)
    for r in rows:
        src = Path(r["path"])
        if not src.is_file():
            raise click.ClickException(f"recording {r['id']}: file {src} is missing")
        target = Path(dest) / src.name
        shutil.copyfile(src, target)
        click.echo(str(target))


@rec.command("purge")
@config_option
@socket_option
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.confirmation_option(prompt="Delete the recordings past their retention?")
def rec_purge(config_path: str | None, socket_path: str | None, dry_run: bool) -> None:
    """Delete recordings older than their queue's retention (the index keeps a trace)."""
    result = daemon_call(resolve_socket(socket_path, config_path), "rec.purge", {"dry_run": dry_run})
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {result['deleted']} recording(s), {result['bytes'] // 1024} KB")
