"""`ccd config`: check, show and document `ccd.toml` without starting the daemon."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ccd.config import check_file

config_option = click.option(
    "-c",
    "--config",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="ccd.toml",
    envvar="CCD_CONFIG",
    show_default=True,
    show_envvar=True,
    help="Configuration file.",
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@click.group("config")
def config() -> None:
    """Check, show and document the configuration file."""


@config.command()
@config_option
def validate(path: Path) -> None:
    """Report every problem in the config file, one per line (exit 1), or a short summary (exit 0)."""
    cfg, problems = check_file(path)
    if problems or cfg is None:
        # diagnostics on a failing exit path belong on stderr
        for problem in problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    click.echo(
        f"ok: {_plural(len(cfg.drivers), 'driver')}, {_plural(len(cfg.trunks), 'trunk')}, "
        f"{_plural(len(cfg.extensions), 'extension')}"
    )


@config.command()
@config_option
def show(path: Path) -> None:
    """Print the resolved configuration (defaults filled in, paths absolute) as JSON."""
    cfg, problems = check_file(path)
    if problems or cfg is None:
        for problem in problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    click.echo(json.dumps(cfg.to_dict(), ensure_ascii=False, indent=2))


@config.command()
def reference() -> None:
    """Print every section and key with its type, default and meaning (Markdown)."""
    from ccd.config.reference import reference_markdown

    click.echo(reference_markdown(), nl=False)
