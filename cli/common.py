"""What the admin commands share: finding the config, talking to the daemon, printing errors.

Errors are one line on stderr and exit code 1 (click.ClickException); daemon error codes
are turned into the human text from `ccd.ipc.errors.DESCRIPTIONS`.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_CONFIG = "ccd.toml"


def find_config(path: str | None) -> Path:
    """The config file: --config, $CCD_CONFIG, ./ccd.toml, or the demo office next to the package."""
    candidates = [path, os.environ.get("CCD_CONFIG"), DEFAULT_CONFIG]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    if path:
        raise click.ClickException(f"config file not found: {path}")
    bundled = Path(__file__).resolve().parent.parent / DEFAULT_CONFIG
    if bundled.is_file():
        return bundled
    raise click.ClickException("no ccd.toml here: pass --config PATH or set CCD_CONFIG")


def load(path: str | None) -> Any:
    from ccd.config import ConfigError, load_config

    cfg_path = find_config(path)
    try:
        return load_config(cfg_path)
    except ConfigError as exc:
        raise click.ClickException(f"invalid configuration:\n{exc}") from None


def config_option(fn: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        default=None,
        metavar="PATH",
        help="ccd.toml to use (env CCD_CONFIG).",
    )(fn)


def socket_option(fn: F) -> F:
    return click.option(
        "--socket",
        "socket_path",
        default=None,
        envvar="CCD_SOCKET",
        metavar="PATH",
        help="Daemon socket (default: from the config; env CCD_SOCKET).",
    )(fn)


def resolve_socket(socket_path: str | None, config_path: str | None) -> Path:
    if socket_path:
        return Path(socket_path)
    return Path(load(config_path).daemon.socket)


def daemon_call(socket: Path, cmd: str, args: dict[str, Any] | None = None) -> Any:
    """One request to the running daemon as the local admin (peer credentials)."""
    from ccd.ipc.errors import RpcError
    from tui.client import call_daemon

    try:
        return call_daemon(socket, cmd, args or {}, peer=True)
    except RpcError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except (ConnectionError, FileNotFoundError, OSError, TimeoutError) as exc:
        raise click.ClickException(str(exc) or f"ccd daemon not running at {socket}") from None


def output_options(fn: F) -> F:
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
