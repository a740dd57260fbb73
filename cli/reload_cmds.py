"""`ccd reload`: apply the edited ccd.toml (and IVR flows) to the running daemon without dropping calls."""

from __future__ import annotations

import click

from cli.common import config_option, daemon_call, resolve_socket, socket_option


@click.command("reload")
@config_option
@socket_option
@click.option("--file", "file", default=None, help="Config file to apply (default: the one the daemon read).")
def reload(config_path: str | None, socket_path: str | None, file: str | None) -> None:
    """Check the configuration and apply it; an invalid one is refused (file:line) and the running one stays."""
    args = {"path": file} if file else {}
    result = daemon_call(resolve_socket(socket_path, config_path), "config.reload", args)
    click.echo(f"applied {result['file']} ({len(result['flows'])} IVR flow(s))")
    if result.get("needs_restart"):
        click.echo(
            "changed but applied only after a restart: " + ", ".join(result["needs_restart"]), err=True
        )
