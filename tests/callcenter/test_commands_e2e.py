"""The call-center commands through the real Unix socket, and `ccd reload`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import load_config
from ccd.daemon import Daemon
from ccd.ipc.errors import RpcError
from ccd.telephony.line import LineState
from tests.callcenter.conftest import FLOW, OFFICE
from tui.client import DaemonClient


@pytest.fixture
async def served(short_dir: Path):
    (short_dir / "main.toml").write_text(FLOW, encoding="utf-8")
    (short_dir / "ccd.toml").write_text(
        OFFICE.replace("{recording}", "on_demand").replace("{stereo}", "false")
    )
    daemon = Daemon(load_config(short_dir / "ccd.toml"), VirtualClock())
    await daemon.start()
    try:
        yield daemon
    finally:
        await daemon.callcenter.idle()
        await daemon.stop()


async def admin(daemon: Daemon) -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket)
    await client.connect()
    await client.hello()
    await client.login_peer()
    return client


async def test_firewall_and_recording_over_the_socket(served: Daemon) -> None:
    client = await admin(served)
    entry = await client.request("firewall.add", kind="prefix", value="138", action="reject", note="spam")
    assert entry["kind"] == "prefix" and entry["hits"] == 0
    with pytest.raises(RpcError) as bad:
        await client.request("firewall.add", kind="prefix", value="abc")
    assert bad.value.code == "E_INVALID_ARGS"
    served.sim.place_call("2", "13800138000", hangup_after=10.0)
    await served.run_for(16.0)
    assert served.lines["801"].state is LineState.IDLE
    await served.callcenter.idle()
    rows = await client.request("firewall.list")
    assert rows[0]["hits"] == 1
    await client.request("firewall.remove", id=entry["id"])
    assert await client.request("firewall.list") == []

    # on-demand recording: start, pause for a card number, resume
    served.sim.place_call("2", "13800138000", talk=None, hangup_after=60.0)
    await served.run_for(7.0)
    await client.request("sim.phone", line="801", action="offhook")
    await served.run_for(1.0)
    call_id = next(iter(served.engine.calls))
    status = await client.request("rec.control", call=call_id, action="start")
    await served.run_for(1.0)
    status = await client.request("rec.control", call=call_id, action="pause")
    assert status["active"][0]["paused"] is True
    await client.request("rec.control", call=call_id, action="resume")
    await served.run_for(1.0)
    await client.request("sim.phone", line="801", action="onhook")
    await served.run_for(2.0)
    await served.callcenter.idle()
    recs = await client.request("rec.list", call=call_id)
    assert len(recs) == 1 and recs[0]["duration"] > 1.5
    with pytest.raises(RpcError) as gone:
        await client.request("rec.control", call=call_id, action="pause")
    assert gone.value.code == "E_NOT_FOUND"
    await client.close()


async def test_reload_applies_a_valid_config_and_refuses_a_broken_one(
    served: Daemon, short_dir: Path
) -> None:
    client = await admin(served)
    # a call is in the IVR while the configuration changes
    served.sim.place_call("1", "13800138000", talk=None, hangup_after=60.0)
    await served.run_for(8.0)
    assert served.lines["1"].state is LineState.CONNECTED

    cfg_file = short_dir / "ccd.toml"
    good = cfg_file.read_text()
    cfg_file.write_text(good.replace('hours = ["mon-fri 09:00-18:00"]', 'hours = ["mon-fri 09:00-17:00"]'))
    result = await client.request("config.reload")
    assert result["flows"] == ["main"] and result["needs_restart"] == []
    assert served.engine.router.schedules["office"].state(served.clock.wall()) == "closed"
    assert served.lines["1"].state is LineState.CONNECTED  # the call in progress is untouched

    cfg_file.write_text(good.replace('hours = ["mon-fri 09:00-18:00"]', 'hours = ["mon-fri 09:00-25:00"]'))
    with pytest.raises(RpcError) as bad:
        await client.request("config.reload")
    assert bad.value.code == "E_INVALID_ARGS"
    assert "ccd.toml:" in bad.value.message and "24:00" in bad.value.message
    (short_dir / "main.toml").write_text(FLOW.replace('type = "menu"', 'type = "menuu"'))
    cfg_file.write_text(good)
    with pytest.raises(RpcError) as broken_flow:
        await client.request("config.reload")
    assert "main.toml:" in broken_flow.value.message and "menuu" in broken_flow.value.message
    # the running configuration stayed: still the 17:00 closing time
    assert served.engine.router.schedules["office"].state(served.clock.wall()) == "closed"
    await asyncio.sleep(0)
    await client.close()
