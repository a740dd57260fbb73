"""`ccd agent`: the agent terminal (Textual), imported only when this command runs."""

from __future__ import annotations

import click

from cli.common import config_option, load, socket_option


@click.command()
@config_option
@socket_option
@click.option("--user", default=None, metavar="ID", help="Agent ID to put in the login form.")
def agent(config_path: str | None, socket_path: str | None, user: str | None) -> None:
    """The agent terminal: softphone bar, screen pop, customers, notes — keyboard only."""
    from pathlib import Path

    cfg = None
    try:
        cfg = load(config_path)
    except click.ClickException:
        if not socket_path:
            raise
    socket = Path(socket_path) if socket_path else Path(cfg.daemon.socket)  # type: ignore[union-attr]
    keys = dict(cfg.keys) if cfg is not None else {}
    from tui.actions import UnknownActionError
    from tui.agent.app import AgentApp

    try:
        app = AgentApp(socket, user=user, keys=keys)
    except UnknownActionError as exc:
        raise click.ClickException(str(exc)) from None
    app.run()
