"""`ccd user add|list|passwd|disable|enable`: people who may log in.

These work on the database directly (offline admin), so they also work before the daemon
has ever run; the daemon reads users from the same database on every login.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from cli.common import config_option, load, print_json


def _with_store(config_path: str | None, action: Callable[[Any], Awaitable[Any]]) -> Any:
    from ccd.clock import RealClock
    from ccd.store.db import Store
    from ccd.store.errors import StoreError

    cfg = load(config_path)

    async def run() -> Any:
        cfg.daemon.database.parent.mkdir(parents=True, exist_ok=True)
        store = await Store.open(cfg.daemon.database, RealClock())
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


def _ask_password(password: str | None, who: str) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise click.ClickException("no --password given and no terminal to ask on")
    first = getpass.getpass(f"new password for {who}: ")
    if first != getpass.getpass("again: "):
        raise click.ClickException("the two passwords differ")
    return first


@click.group()
def user() -> None:
    """Users: agents, supervisors and admins."""


@user.command("add")
@config_option
@click.argument("login")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--role", type=click.Choice(["agent", "supervisor", "admin"]), default="agent", show_default=True
)
@click.option("--extension", default=None, help="The seat (extension id) they usually sit at.")
@click.option("--agent-no", default=None, help="Agent number announced to callers (工号).")
@click.option("--password", default=None, help="Password (asked for when omitted).")
def user_add(
    config_path: str | None,
    login: str,
    name: str,
    role: str,
    extension: str | None,
    agent_no: str | None,
    password: str | None,
) -> None:
    """Create a user."""
    pw = _ask_password(password, login)
    _with_store(
        config_path,
        lambda s: s.users.add(login, name, role, pw, extension=extension, agent_no=agent_no or login),
    )
    click.echo(f"user {login} ({role}) created")


@user.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True)
def user_list(config_path: str | None, as_json: bool) -> None:
    """List users."""
    users = _with_store(config_path, lambda s: s.users.list())
    rows = [
        {
            "login": u.login,
            "name": u.name,
            "role": u.role,
            "extension": u.extension,
            "agent_no": u.agent_no,
            "disabled": bool(u.disabled),
        }
        for u in users
    ]
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold")
    columns = ("login", "name", "role", "extension", "agent_no", "disabled")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    Console().print(table)


@user.command("passwd")
@config_option
@click.argument("login")
@click.option("--password", default=None, help="New password (asked for when omitted).")
def user_passwd(config_path: str | None, login: str, password: str | None) -> None:
    """Change a user's password."""
    pw = _ask_password(password, login)
    _with_store(config_path, lambda s: s.users.set_password(login, pw))
    click.echo(f"password of {login} changed")


@user.command("disable")
@config_option
@click.argument("login")
def user_disable(config_path: str | None, login: str) -> None:
    """Stop a user from logging in (their history stays)."""
    _with_store(config_path, lambda s: s.users.disable(login))
    click.echo(f"user {login} disabled")


@user.command("enable")
@config_option
@click.argument("login")
def user_enable(config_path: str | None, login: str) -> None:
    """Let a disabled user log in again."""
    _with_store(config_path, lambda s: s.users.enable(login))
    click.echo(f"user {login} enabled")
