"""The admin CLI as an admin uses it: users offline on the database, status / cdr / sim
against a running daemon (reached over its socket with the peer's credentials)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccd.clock import VirtualClock
from ccd.config import load_config
from ccd.daemon import Daemon
from cli.main import cli
from tests.spine.conftest import OFFICE


@pytest.fixture
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ccd-", dir="/tmp") as d:
        cfg = Path(d) / "ccd.toml"
        cfg.write_text(OFFICE)
        yield cfg


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_then_users(workspace: Path) -> None:
    code, out, _ = run("init", "-c", str(workspace), "--password", "s3cret!")
    assert code == 0 and "admin user 'admin' created" in out
    code, out, _ = run(
        "user",
        "add",
        "1005",
        "--name",
        "赵六",
        "--extension",
        "801",
        "--password",
        "pw",
        "-c",
        str(workspace),
    )
    assert code == 0, out
    code, out, _ = run("user", "list", "--json", "-c", str(workspace))
    users = {u["login"]: u for u in json.loads(out)}
    assert users["1005"]["name"] == "赵六" and users["1005"]["role"] == "agent"
    assert users["admin"]["role"] == "admin"
    assert run("user", "passwd", "1005", "--password", "new", "-c", str(workspace))[0] == 0
    assert run("user", "disable", "1005", "-c", str(workspace))[0] == 0
    code, out, _ = run("user", "list", "--json", "-c", str(workspace))
    assert {u["login"]: u for u in json.loads(out)}["1005"]["disabled"] is True
    # the password is not in the database file in clear
    assert b"s3cret!" not in (workspace.parent / "ccd.db").read_bytes()


def test_duplicate_user_is_one_clear_line(workspace: Path) -> None:
    run("user", "add", "1005", "--password", "pw", "-c", str(workspace))
    code, _, err = run("user", "add", "1005", "--password", "pw", "-c", str(workspace))
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_status_without_a_daemon_is_one_clear_line(workspace: Path) -> None:
    code, _, err = run("status", "-c", str(workspace))
    assert code == 1 and "not running" in err and "Traceback" not in err


async def test_status_sim_and_cdr_against_a_running_daemon(workspace: Path) -> None:
    daemon = Daemon(load_config(workspace), VirtualClock())
    await daemon.start()
    try:

        async def ccd(*args: str) -> tuple[int, str, str]:
            return await asyncio.to_thread(run, *args, "-c", str(workspace))

        code, out, err = await ccd(
            "sim", "call", "--trunk", "1", "--from", "13800138000", "--name", "张三", "--talk", "5"
        )
        assert code == 0, err
        await daemon.run_for(7.0)
        code, out, _ = await ccd("status", "--json")
        lines = {x["line"]: x for x in json.loads(out)["lines"]}
        assert lines["1"]["caller"] == "13800138000" and lines["1"]["caller_name"] == "张三"
        assert lines["801"]["state"] == "ringing"
        code, out, _ = await ccd("status")
        assert "张三" in out and "ringing" in out
        assert (await ccd("sim", "phone", "801", "offhook"))[0] == 0
        await daemon.run_for(8.0)
        assert (await ccd("sim", "phone", "801", "onhook"))[0] == 0
        await daemon.run_for(0.5)
        code, out, _ = await ccd("cdr", "--last", "1", "--json")
        (cdr,) = json.loads(out)
        assert cdr["src"] == "13800138000" and cdr["caller_name"] == "张三"
        assert cdr["disposition"] == "ANSWERED" and cdr["dstchannel"] == "801"
        code, out, _ = await ccd("cdr", "--last", "1", "--csv")
        assert out.splitlines()[0].startswith("uniqueid,") and "13800138000" in out
        code, _, err = await ccd("sim", "call", "--trunk", "9")
        assert code == 1 and "9" in err
    finally:
        await daemon.stop()
