"""In a real terminal: tmux runs `ccd demo --no-traffic` and `ccd agent --user 1001`, the agent
logs in, a simulated call from 张三 arrives, and the captured pane shows his name.

The call comes in on trunk 4, which rings desk 801 directly: the hotline trunks go through the
IVR and the ACD, whose choice of agent is not this test's business."""

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


def test_agent_in_tmux_shows_the_caller() -> None:
    work = Path(tempfile.mkdtemp(prefix="ccdt-", dir="/tmp"))
    cfg = work / "ccd.toml"
    shutil.copy(ROOT / "ccd.toml", cfg)
    shutil.copytree(ROOT / "ivr", work / "ivr")  # the demo's IVR flow, next to its config
    session = f"ccd-agent-test-{work.name}"
    sock = work / ".ccd" / "ccd.sock"
    pane_agent = f"{session}:1"
    try:
        _tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48",
              f"cd {work} && ccd demo --no-traffic --plain -c {cfg}")  # fmt: skip
        _wait("the demo daemon's socket", sock.exists, 60.0)
        _tmux("new-window", "-t", f"{session}:1",
              f"cd {work} && TERM=xterm-256color ccd agent -c {cfg} --user 1001")  # fmt: skip

        def screen() -> str:
            return _tmux("capture-pane", "-p", "-t", pane_agent)

        _wait("the login screen", lambda: "Agent login" in screen())

        def on_main_screen() -> bool:
            text = screen()
            return "分机" in text or "ext 801" in text

        # `--user 1001` fills in the agent ID and puts the cursor in the password field, so the
        # agent types the password and Enter. A person looks before typing, and so does the test:
        # keys sent before the form has focus are lost on a loaded machine, so it types a probe
        # until its dot shows, clears it, types the password, sees four dots, then presses Enter.
        def password_field() -> str:
            rows = [ln for ln in screen().splitlines() if "▊" in ln and "▔" not in ln and "▁" not in ln]
            return [*rows, "", ""][1]

        for _attempt in range(3):
            for _probe in range(30):
                _tmux("send-keys", "-t", pane_agent, "-l", "Z")
                try:
                    _wait("the password field to take keys", lambda: "•" in password_field(), 3.0)
                    break
                except AssertionError:
                    continue
            else:
                raise AssertionError(screen())
            _tmux("send-keys", "-t", pane_agent, "C-u")
            _wait("the password field to clear", lambda: "•" not in password_field(), 10.0)
            _tmux("send-keys", "-t", pane_agent, "-l", "1001")
            _wait(
                "the password's four dots",
                lambda: "••••" in password_field() and "•••••" not in password_field(),
                10.0,
            )
            assert "1001" in screen(), "the agent ID from --user is in its field"
            _tmux("send-keys", "-t", pane_agent, "Enter")
            try:
                _wait("the main screen", on_main_screen, 30.0)
                break
            except AssertionError:
                if "Agent login" not in screen():
                    raise AssertionError(screen()) from None
        else:
            raise AssertionError(screen())
        subprocess.run(
            [sys.executable, "-m", "cli.main", "sim", "call", "-c", str(cfg), "--trunk", "4",
             "--from", "13800138000", "--name", "张三"],
            check=True, capture_output=True, cwd=ROOT, timeout=30,
        )  # fmt: skip
        # the pop names the caller next to his number (his name is also in a reminder, so both)
        try:
            _wait("张三 in the screen pop", lambda: "13800138000" in screen() and "张三" in screen(), 30.0)
        except AssertionError:
            raise AssertionError(screen() + _tmux("capture-pane", "-p", "-t", f"{session}:0")) from None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        if sock.exists():  # the demo got SIGHUP with its pane; give it a moment to clean up
            _wait_quietly(lambda: not sock.exists(), 5.0)
        shutil.rmtree(work, ignore_errors=True)


def _wait_quietly(cond: Callable[[], bool], timeout: float) -> None:
    try:
        _wait("shutdown", cond, timeout)
    except AssertionError:
        pass
