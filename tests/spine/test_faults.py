"""Faults the spine must survive: a device that will not open, a daemon killed with -9,
a malformed configuration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.telephony.line import LineState
from tests.spine.conftest import OFFICE, named

CCD = [sys.executable, "-m", "cli.main"]
ROOT = Path(__file__).resolve().parents[2]


async def test_a_driver_that_fails_to_open_leaves_the_others_serving(short_dir: Path) -> None:
    text = (
        OFFICE
        + """
[[drivers]]
name = "usbmodem"
kind = "modem"
port = "/dev/ttyCCD-absent"

[[trunks]]
id = "9"
driver = "usbmodem"
channel = 0
"""
    )
    daemon = Daemon(config_from_text(text, base_dir=short_dir), VirtualClock(), server=False)
    await daemon.start()
    events: list = []
    daemon.bus.subscribe(events.append)
    try:
        assert daemon.lines["9"].state is LineState.OUT_OF_SERVICE
        assert daemon.lines["9"].oos_reason
        daemon.sim.place_call("1", "13800138000", talk=3.0)
        await daemon.run_for(7.0)
        assert named(events, "call.ringing")
        assert daemon.lines["801"].state is LineState.RINGING
    finally:
        await daemon.stop()


def _run(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(CCD + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, **kw)


def _wait(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_kill_9_during_calls_loses_no_completed_cdr(short_dir: Path) -> None:
    cfg = short_dir / "ccd.toml"
    cfg.write_text(OFFICE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen(
        [*CCD, "serve", "-c", str(cfg)],
        cwd=short_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(lambda: (short_dir / "ccd.sock").exists(), what="the daemon's socket")

        def status(line: str) -> str:
            out = _run(["status", "--json", "-c", str(cfg)], short_dir)
            import json

            data = json.loads(out.stdout)
            return next(x["state"] for x in data["lines"] if x["line"] == line)

        # one complete call...
        assert (
            _run(
                ["sim", "call", "--trunk", "1", "--from", "13800138000", "--talk", "1", "-c", str(cfg)],
                short_dir,
            ).returncode
            == 0
        )
        _wait(lambda: status("801") == "ringing", what="801 ringing")
        _run(["sim", "phone", "801", "offhook", "-c", str(cfg)], short_dir)
        _wait(lambda: status("801") == "wait_hangup", what="the caller to hang up")
        _run(["sim", "phone", "801", "onhook", "-c", str(cfg)], short_dir)
        _wait(lambda: status("801") == "idle", what="801 idle")
        # ...and one in flight when the daemon dies
        _run(
            ["sim", "call", "--trunk", "2", "--from", "13900001111", "--talk", "60", "-c", str(cfg)],
            short_dir,
        )
        _wait(lambda: status("802") == "ringing", what="802 ringing")
        _run(["sim", "phone", "802", "offhook", "-c", str(cfg)], short_dir)
        _wait(lambda: status("2") == "connected", what="the second call connected")
        time.sleep(0.5)  # let the store writer catch up, as a real crash would find it
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)

    restarted = Daemon(config_from_text(OFFICE, base_dir=short_dir), VirtualClock(), server=False)
    await restarted.start()
    try:
        calls = await restarted.store.calls.last(10)
        assert [c.disposition for c in calls] == ["FAILED", "ANSWERED"]
        failed, done = calls
        assert failed.end is not None and failed.src == "13900001111"
        assert done.src == "13800138000" and done.billsec >= 1
        assert await restarted.store.integrity_check() == "ok"
    finally:
        await restarted.stop()


def test_malformed_config_names_file_line_and_key_and_does_not_start(short_dir: Path) -> None:
    bad = short_dir / "ccd.toml"
    bad.write_text(OFFICE.replace('driver = "office"\nchannel = 1', 'driver = "ofice"\nchannel = 1'))
    result = _run(["serve", "-c", str(bad)], short_dir)
    assert result.returncode == 1
    assert "ccd.toml:" in result.stderr and "trunks[1].driver" in result.stderr
    assert "did you mean 'office'" in result.stderr
    assert not (short_dir / "ccd.sock").exists()
