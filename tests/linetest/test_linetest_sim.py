"""`line.test` through the real daemon and socket on the simulated office: it must recover
the simulator's own settings exactly (ring cadence, caller-ID standard and start, the tone
plan's busy and dial tones, busy tone as the only hang-up signal)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.dsp.tones import get_plan
from ccd.ipc.errors import RpcError
from tui.client import DaemonClient

OFFICE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"
tone_plan = "{plan}"

[[drivers]]
name = "office"
kind = "sim"
seed = 5
cid = "{cid}"
ring_cadence = [{ring}]

[[trunks]]
id = "1"
driver = "office"
channel = 0

[[trunks]]
id = "2"
driver = "office"
channel = 1

[[extensions]]
id = "801"
driver = "office"
channel = 2

[[inbound]]
name = "all"
trunks = ["*"]
ring = ["801"]
"""


async def start(folder: Path, plan: str = "cn", cid: str = "fsk-bell202", ring: str = "1.0, 4.0") -> Daemon:
    text = OFFICE.format(plan=plan, cid=cid, ring=ring)
    daemon = Daemon(config_from_text(text, base_dir=folder), VirtualClock())
    await daemon.start()
    daemon.events = []  # type: ignore[attr-defined]
    daemon.bus.subscribe(daemon.events.append)  # type: ignore[attr-defined]
    return daemon


async def client_for(daemon: Daemon) -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket, request_timeout=None)
    await client.connect()
    await client.hello()
    await client.login_peer()
    return client


async def run_test(daemon: Daemon, client: DaemonClient, line: str, *, talk: float = 2.0, **call) -> dict:
    task = asyncio.create_task(client.request("line.test", line=line, seconds=60))
    await daemon.run_for(0.5)
    daemon.sim.place_call(line, talk=talk, hangup_after=60.0, **call)
    for _ in range(100):
        await daemon.run_for(1.0)
        if task.done():
            break
    return await task


@pytest.mark.parametrize(
    ("plan", "cid", "ring"),
    [("cn", "fsk-bell202", (1.0, 4.0)), ("us", "fsk-v23", (2.0, 4.0)), ("cn", "dtmf", (0.8, 3.2))],
)
async def test_line_test_recovers_the_simulator(short_dir: Path, plan: str, cid: str, ring: tuple) -> None:
    daemon = await start(short_dir, plan, cid, ", ".join(str(r) for r in ring))
    client = await client_for(daemon)
    try:
        result = await run_test(daemon, client, "1")
        profile = result["profile"]
        tones = get_plan(plan).tones
        assert profile["ring_cadence"] == list(ring)
        assert profile["cid"] == cid
        assert profile["cid_start"] == ("before_ring" if cid == "dtmf" else "ring")
        assert profile["hangup"] == "busy_tone"
        assert profile["busy"] == {"freqs": list(tones["busy"].freqs), "cadence": list(tones["busy"].cadence)}
        assert profile["dial"] == {"freqs": list(tones["dial"].freqs), "cadence": list(tones["dial"].cadence)}
        assert result["caller"] == "13800138000"
        assert result["complete"]
        names = [e.name for e in daemon.events if e.data.get("line") == "1"]
        assert "alert.line_down" in names and names.index("alert.line_restored") > names.index(
            "alert.line_down"
        )
        assert daemon.lines["1"].state.value == "idle"
        assert not daemon.engine.calls  # the engine never saw the test call
    finally:
        await client.close()
        await daemon.stop()


async def test_bad_requests_are_refused_clearly(short_dir: Path) -> None:
    daemon = await start(short_dir)
    client = await client_for(daemon)
    try:
        for args, text in [
            ({"line": "9"}, "no line '9' (trunks: 1, 2)"),
            ({"line": "801"}, "line 801 is an extension"),
            ({"line": "1", "seconds": 5}, "argument 'seconds' must be from 20 to 600"),
            ({"line": "1", "second": 60}, "unknown argument 'second' (did you mean 'seconds'?)"),
        ]:
            with pytest.raises(RpcError) as err:
                await client.request("line.test", **args)
            assert text in err.value.message
        daemon.sim.place_call("2", talk=30.0)
        await daemon.run_for(1.0)
        with pytest.raises(RpcError) as err:
            await client.request("line.test", line="2")
        assert "line 2 is busy (ringing)" in err.value.message
    finally:
        await client.close()
        await daemon.stop()


async def test_nobody_calls(short_dir: Path) -> None:
    daemon = await start(short_dir)
    client = await client_for(daemon)
    try:
        task = asyncio.create_task(client.request("line.test", line="1", seconds=20))
        for _ in range(30):
            await daemon.run_for(1.0)
            if task.done():
                break
        result = await task
        assert not result["complete"] and result["notes"] == ["no call came in"]
        assert daemon.lines["1"].state.value == "idle"
    finally:
        await client.close()
        await daemon.stop()


async def test_cli_writes_the_profile_and_the_line_uses_it(short_dir: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    text = OFFICE.format(plan="cn", cid="fsk-v23", ring="1.0, 4.0")
    path = short_dir / "ccd.toml"
    path.write_text("# the office\n" + text, encoding="utf-8")
    daemon = Daemon(config_from_text(text, base_dir=short_dir), VirtualClock())
    await daemon.start()
    try:
        runner = CliRunner()
        args = ["line", "test", "1", "-c", str(path), "--seconds", "60", "--write"]
        job = asyncio.ensure_future(asyncio.to_thread(runner.invoke, cli, args))
        while "1" not in daemon.line_tests:
            await daemon.run_for(0.1)
        daemon.sim.place_call("1", talk=2.0)
        for _ in range(100):
            await daemon.run_for(1.0)
            if job.done():
                break
        result = await job
        assert result.exit_code == 0, result.output
        assert "ring cadence   1, 4 s" in result.output
        assert "caller ID      fsk-v23 (ring), number 13800138000" in result.output
        assert "busy tone      450 Hz, cadence 0.35, 0.35 s" in result.output
        assert "dial tone      450 Hz, continuous" in result.output
        written = path.read_text(encoding="utf-8")
        assert written.startswith("# the office")
        from ccd.config import load_config

        profile = load_config(path).line_profiles[0]
        assert (profile.line, profile.cid, profile.busy.freqs) == ("1", "fsk-v23", (450.0,))
        # applied at once: the line now listens with its own plan and its caller-ID standard
        assert daemon.lines["1"].spec.cid == "fsk-v23" and "1" in daemon._line_dsp
    finally:
        await daemon.stop()


async def test_a_line_listens_with_its_profile(short_dir: Path) -> None:
    """The office's plan is US; line 1 was measured as a Chinese line: only line 2 hears the
    US busy tone as busy, line 1 listens for 450 Hz 0.35/0.35."""
    text = OFFICE.format(plan="us", cid="fsk-bell202", ring="1.0, 4.0").replace(
        'trunks = ["*"]', 'trunks = ["1"]'
    )
    text += """
[[extensions]]
id = "802"
driver = "office"
channel = 3

[[inbound]]
name = "two"
trunks = ["2"]
ring = ["802"]

[[line_profiles]]
line = "1"
cid = "fsk-bell202"
busy = { freqs = [450.0], cadence = [0.35, 0.35] }
"""
    daemon = Daemon(config_from_text(text, base_dir=short_dir), VirtualClock(), server=False)
    await daemon.start()
    heard: list[tuple[str, str]] = []
    handle_tone = daemon.engine.handle_tone

    def spy(line_id: str, tone: str, now: float) -> None:
        heard.append((line_id, tone))
        handle_tone(line_id, tone, now)

    daemon.engine.handle_tone = spy  # type: ignore[method-assign]
    try:
        for trunk in ("1", "2"):
            daemon.sim.place_call(trunk, talk=1.0)
            daemon.sim.set_auto_answer(None, (0.5, 0.5))
        await daemon.run_for(16.0)
        assert ("2", "busy") in heard
        assert ("1", "busy") not in heard
    finally:
        await daemon.stop()


def test_line_profiles_are_checked() -> None:
    from ccd.config import ConfigError

    text = (
        OFFICE.format(plan="cn", cid="fsk-bell202", ring="1.0, 4.0")
        + """
[[line_profiles]]
line = "1"
busy = { freqs = [50.0], cadence = [0.35] }

[[line_profiles]]
line = "1"
cid = "fsk-v22"

[[line_profiles]]
line = "801"
"""
    )
    with pytest.raises(ConfigError) as err:
        config_from_text(text)
    message = str(err.value)
    assert "line_profiles[0].busy.freqs[0]: must be between 100 and 3800, got 50" in message
    assert "line_profiles[0].busy.cadence: cadence needs on/off pairs" in message
    assert "line_profiles[1].cid: unknown caller-ID mode 'fsk-v22'" in message
    assert "line_profiles[1].line: line '1' already has a profile: keep one" in message
    assert "line_profiles[2].line" in message
