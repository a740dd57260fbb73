"""`ccd wallboard`: the supervisor board in this terminal.

Without --user it logs in as the local admin by Unix credentials (the daemon's own user or
root); with --user it asks for that user's password. An agent's login is refused with one
clear line and exit code 1: the board shows everyone's calls and can hang them up.
"""

from __future__ import annotations

import getpass
import os
import sys

import click

from cli.common import config_option, resolve_socket, socket_option


@click.command()
@config_option
@socket_option
@click.option("--tv", is_flag=True, help="Big-number mode for a wall screen.")
@click.option("--user", "login", default=None, help="Log in as this supervisor (asks for the password).")
@click.option(
    "--extension", default=None, help="Your phone, for listen/whisper/barge (default: your user's)."
)
def wallboard(
    config_path: str | None, socket_path: str | None, tv: bool, login: str | None, extension: str | None
) -> None:
    """The live supervisor wallboard: lines, agents, queues, alerts, monitoring and reports."""
    socket = resolve_socket(socket_path, config_path)
    auth: object = "peer"
    if login is not None:
        password = os.environ.get("CCD_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise click.ClickException("no terminal to ask for the password on (set CCD_PASSWORD)")
            password = getpass.getpass(f"password for {login}: ")
        auth = (login, password)
    from tui.wallboard.app import WallboardApp

    app = WallboardApp(socket, auth=auth, tv=tv, extension=extension)
    app.run()
    if app.refusal:
        raise click.ClickException(app.refusal)
