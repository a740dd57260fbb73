"""Rooms stay apart: the daemon never drags in the TUI, the CLI starts light, every command
has help."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from cli.main import COMMANDS, cli


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_ccd_does_not_import_textual() -> None:
    modules = _imported_after("import ccd, ccd.daemon, ccd.telephony.engine, ccd.server.server")
    assert not {m for m in modules if m.split(".")[0] == "textual"}


def test_import_ccd_dsp_imports_numpy_and_nothing_of_ours_above_it() -> None:
    modules = _imported_after("import ccd.dsp.dtmf, ccd.dsp.tones, ccd.dsp.callerid, ccd.dsp.wav")
    ours = {m for m in modules if m.startswith("ccd.") and not m.startswith("ccd.dsp")}
    assert ours == set()


def test_import_cli_is_light() -> None:
    modules = _imported_after("import cli.main")
    assert not {m for m in modules if m.split(".")[0] in ("numpy", "textual", "aiosqlite")}


def _all_commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        found.append((name, command))
        if isinstance(command, click.Group):
            for sub_name, sub in command.commands.items():
                found.append((f"{name} {sub_name}", sub))
    return found


@pytest.mark.parametrize(("name", "command"), _all_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help(name: str, command: click.Command) -> None:
    assert command.help, f"`ccd {name}` has no help text"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
