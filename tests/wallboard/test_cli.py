"""`ccd wallboard` has help and refuses to run without a terminal password."""

from __future__ import annotations

from click.testing import CliRunner

from cli.main import cli


def test_help() -> None:
    result = CliRunner().invoke(cli, ["wallboard", "--help"])
    assert result.exit_code == 0 and "--tv" in result.output and "supervisor" in result.output


def test_user_without_terminal_or_password_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["wallboard", "--socket", "/tmp/x.sock", "--user", "9000"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: no terminal to ask for the password on (set CCD_PASSWORD)"
