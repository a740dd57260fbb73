"""In a real terminal: tmux runs `ccd demo --no-traffic` and `ccd wallboard --user 9000`, the
supervisor types the password, a simulated call from 张三 rings trunk 4 and the board shows his
number on that line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(
        shutil.which("tmux") is None or shutil.which("ccd") is None, reason="needs tmux and ccd"
    ),
]
ROOT = Path(__file__).resolve().parents[2]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _wait(what: str, cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)  # polling a real terminal: there is no event to wait on
    raise AssertionError(f"timed out waiting for {what}")


def test_wallboard_in_tmux_shows_a_ringing_caller() -> None:
    work = Path(tempfile.mkdtemp(prefix="ccdw-", dir="/tmp"))
    cfg = work / "ccd.toml"
    shutil.copy(ROOT / "ccd.toml", cfg)
    shutil.copytree(ROOT / "ivr", work / "ivr")  # `ccd config validate` wants the demo's IVR flow
    session = f"ccd-wallboard-test-{work.name}"
    sock = work / ".ccd" / "ccd.sock"
    pane = f"{session}:1"
    try:
        _tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "60",
              f"cd {work} && ccd demo --no-traffic --plain -c {cfg}")  # fmt: skip
        _wait("the demo daemon's socket", sock.exists, 90.0)
        _tmux("new-window", "-t", f"{session}:1",
              f"cd {work} && TERM=xterm-256color ccd wallboard -c {cfg} --user 9000")  # fmt: skip

        def screen() -> str:
            return _tmux("capture-pane", "-p", "-t", pane)

        _wait("the password prompt", lambda: "password for 9000" in screen(), 60.0)
        _tmux("send-keys", "-t", pane, "-l", "9000")
        _tmux("send-keys", "-t", pane, "Enter")
        try:
            _wait(
                "the board", lambda: "Queue" in screen() and "Agent" in screen() and "Line" in screen(), 60.0
            )
        except AssertionError:
            raise AssertionError(screen()) from None
        subprocess.run(
            [sys.executable, "-m", "cli.main", "sim", "call", "-c", str(cfg), "--trunk", "4",
             "--from", "13800138000", "--name", "张三"],
            check=True, capture_output=True, cwd=ROOT, timeout=60,
        )  # fmt: skip
        try:
            _wait("the caller's number on the board", lambda: "13800138000" in screen(), 60.0)
        except AssertionError:
            raise AssertionError(screen() + _tmux("capture-pane", "-p", "-t", f"{session}:0")) from None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if sock.exists():  # the demo got SIGHUP with its pane; give it a moment to clean up
            try:
                _wait("shutdown", lambda: not sock.exists(), 5.0)
            except AssertionError:
                pass
        shutil.rmtree(work, ignore_errors=True)
