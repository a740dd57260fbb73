"""`ccd config validate|show|reference` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

FULL = Path(__file__).parent / "fixtures" / "full.toml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_ok_prints_a_summary(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "validate", "-c", str(FULL)])
    assert result.exit_code == 0
    assert result.stdout == "ok: 6 drivers, 5 trunks, 3 extensions\n"
    assert result.stderr == ""


def test_validate_reads_ccd_config_from_the_environment(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "validate"], env={"CCD_CONFIG": str(FULL)})
    assert result.exit_code == 0, result.output


def test_validate_defaults_to_ccd_toml_in_the_current_folder(runner: CliRunner) -> None:
    with runner.isolated_filesystem():
        Path("ccd.toml").write_text('[[drivers]]\nname = "office"\nkind = "sim"\n', encoding="utf-8")
        result = runner.invoke(cli, ["config", "validate"], env={"CCD_CONFIG": None})
    assert result.exit_code == 0
    assert result.stdout == "ok: 1 driver, 0 trunks, 0 extensions\n"


def test_validate_lists_every_problem_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "ccd.toml"
    path.write_text('[daemon]\nlog_level = "loud"\n[[trunks]]\nid = "1"\ndriver = "ofice"\nchannel = 0\n')
    result = runner.invoke(cli, ["config", "validate", "-c", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:2: daemon.log_level: unknown log level 'loud' (expected one of: debug, info, warning, error)",
        f"{path}:5: trunks[0].driver: unknown driver 'ofice' (no drivers are configured)",
    ]


@pytest.mark.parametrize(
    "content",
    [
        b"[[",
        b"\xff\xfe garbage",
        b"drivers = 5",
        b"[daemon]\nsocket = []",
        b"[[inbound]]\n[[inbound]]\nname = 1",
    ],
)
def test_malformed_configs_are_one_line_each_never_a_traceback(
    runner: CliRunner, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "ccd.toml"
    path.write_bytes(content)
    for command in ("validate", "show"):
        result = runner.invoke(cli, ["config", command, "-c", str(path)])
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert all(line.startswith(f"{path}") for line in result.stderr.splitlines())


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["config", "validate", "-c", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'none.toml'}: cannot read: No such file or directory\n"


def test_show_prints_the_resolved_config_as_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "show", "-c", str(FULL)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["daemon"]["database"] == str(FULL.parent.resolve() / "ccd.db")
    assert data["drivers"][0]["options"]["traffic"]["talk"] == [30.0, 180.0]
    assert data["users"][1]["name"] == "王小明"
    assert data["source_path"] == str(FULL.resolve())


def test_reference_documents_every_section_and_driver_kind(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["config", "reference"])
    assert result.exit_code == 0
    for heading in ("## [daemon]", "## [[drivers]]", '### kind = "modem"', "## [[inbound]]", "## [keys]"):
        assert heading in result.stdout
    assert "| `answer_timeout` | number | `45.0` |" in result.stdout


def test_every_config_command_has_help(runner: CliRunner) -> None:
    for command in ("validate", "show", "reference"):
        result = runner.invoke(cli, ["config", command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 50
