"""`ccd line test LINE`: measure a trunk with one test call and write its `[[line_profiles]]` entry.

The daemon does the measuring (it owns the device); this command asks it over the socket
(`line.test`), prints what it found, and with `--write` puts the profile into `ccd.toml`
with tomlkit so comments and layout survive. The rewritten file is checked with the same
loader as `ccd config validate` before it replaces the old one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.common import config_option, find_config, print_json, resolve_socket, socket_option


@click.group()
def line() -> None:
    """Trunk lines: measure what a line gives (`ccd line test`)."""


@line.command("test")
@config_option
@socket_option
@click.argument("line_id", metavar="LINE")
@click.option(
    "--seconds", type=click.IntRange(20, 600), default=60, show_default=True, help="Time to call in."
)
@click.option(
    "--write", is_flag=True, help="Write the profile into ccd.toml ([[line_profiles]]) and use it now."
)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def line_test(
    config_path: str | None, socket_path: str | None, line_id: str, seconds: int, write: bool, as_json: bool
) -> None:
    """Measure LINE with a test call: ring cadence, caller ID, busy and dial tones, hang-up.

    The daemon must be running. Call the line from another phone when asked; ccd answers
    after a few rings; then hang up and leave the line alone until the result appears.
    """
    from ccd.ipc.errors import RpcError
    from ccd.telephony.linetest import INSTRUCTIONS
    from tui.client import call_daemon

    socket = resolve_socket(socket_path, config_path)
    if not as_json:
        click.echo(INSTRUCTIONS.format(line=line_id, seconds=seconds))
        click.echo("Waiting for the test call...")
    try:
        result = call_daemon(
            socket,
            "line.test",
            {"line": line_id, "seconds": seconds, "apply": write},
            timeout=seconds + 150.0,
        )
    except RpcError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except (ConnectionError, FileNotFoundError, OSError, TimeoutError) as exc:
        raise click.ClickException(str(exc) or f"ccd daemon not running at {socket}") from None
    if as_json:
        print_json(result)
    else:
        click.echo(render(result))
    if write:
        if not result.get("complete"):
            raise click.ClickException(
                "the test is incomplete (see the notes): ccd.toml not changed; run it again"
            )
        path = find_config(config_path)
        write_profile(path, result["profile"])
        if not as_json:
            click.echo(f"Written to {path} as [[line_profiles]] line = {line_id!r}; the daemon uses it now.")


def render(result: dict[str, Any]) -> str:
    """The measured profile as lines a person reads."""
    p = result["profile"]

    def tone(t: dict[str, Any] | None) -> str:
        if not t:
            return "not measured"
        freqs = " + ".join(f"{f:g} Hz" for f in t["freqs"])
        cad = ", ".join(f"{c:g}" for c in t["cadence"])
        return f"{freqs}, " + (f"cadence {cad} s" if cad else "continuous")

    ring = ", ".join(f"{c:g}" for c in p.get("ring_cadence", [])) or "not measured"
    rows = [
        f"line {result['line']}: {'complete' if result.get('complete') else 'INCOMPLETE'}",
        f"  ring cadence   {ring} s",
        f"  caller ID      {p.get('cid') or 'not observed'}"
        + (f" ({p['cid_start'].replace('_', ' ')})" if p.get("cid_start") else "")
        + (f", number {result['caller']}" if result.get("caller") else ""),
        f"  busy tone      {tone(p.get('busy'))}",
        f"  dial tone      {tone(p.get('dial'))}",
        f"  far hang-up    {(p.get('hangup') or 'not seen').replace('_', ' ')}",
    ]
    rows += [f"  note: {n}" for n in result.get("notes", [])]
    return "\n".join(rows)


def write_profile(path: Path, profile: dict[str, Any]) -> None:
    """Replace (or add) the `[[line_profiles]]` entry of the profile's line in `path`, checked first."""
    import tomlkit

    from ccd.config import ConfigError, config_from_text

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = tomlkit.table()
    for key, value in profile.items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            table[key] = inline
        else:
            table[key] = value
    existing = doc.get("line_profiles")
    if existing is None:
        aot = tomlkit.aot()
        aot.append(table)
        doc["line_profiles"] = aot
    else:
        kept = [t for t in existing if t.get("line") != profile["line"]]
        existing.clear()
        for t in kept:
            existing.append(t)
        existing.append(table)
    text = tomlkit.dumps(doc)
    try:
        config_from_text(text, base_dir=path.parent)
    except ConfigError as exc:
        raise click.ClickException(f"the profile would make {path} invalid, not written:\n{exc}") from None
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
