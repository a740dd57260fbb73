"""The spine through the real Unix socket: a client places a simulated call, sees it ring with
its caller ID, the phone answers and hangs up, and the CDR comes back over the socket."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.ipc.errors import RpcError
from tests.spine.conftest import OFFICE
from tui.client import DaemonClient


@pytest.fixture
async def served(short_dir: Path):
    cfg = config_from_text(OFFICE, base_dir=short_dir)
    daemon = Daemon(cfg, VirtualClock())
    await daemon.start()
    await daemon.store.users.add("1001", "王小明", "agent", "pw1001", extension="801", agent_no="1001")
    try:
        yield daemon
    finally:
        await daemon.stop()


async def connect(daemon: Daemon, user: str | None = None, password: str | None = None) -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket)
    await client.connect()
    await client.hello()
    if user is None:
        await client.login_peer()
    else:
        await client.login(user, password or "")
    return client


async def test_call_through_the_socket(served: Daemon) -> None:
    admin = await connect(served)
    agent = await connect(served, "1001", "pw1001")
    snapshot = await agent.subscribe(["call", "line"])
    assert any(e["event"] == "line.snapshot" for e in snapshot)
    seen: list[dict] = []

    async def collect() -> None:
        async for event in agent.events():
            seen.append(event)

    reader = asyncio.create_task(collect())
    await admin.request("sim.call", trunk="1", number="13800138000", name="张三", talk=5.0)
    await served.run_for(7.0)
    for _ in range(50):
        await asyncio.sleep(0)
    ringing = [e for e in seen if e["event"] == "call.ringing"]
    assert ringing, [e["event"] for e in seen]
    assert ringing[0]["data"]["number"] == "13800138000" and ringing[0]["data"]["name"] == "张三"
    offered = [e for e in seen if e["event"] == "call.offered" and e["data"]["extension"] == "801"]
    assert offered

    status = await admin.request("status")
    trunk = next(line for line in status["lines"] if line["line"] == "1")
    assert trunk["state"] == "wait_answer" and trunk["caller"] == "13800138000"

    await admin.request("sim.phone", line="801", action="offhook")
    await served.run_for(8.0)
    await admin.request("sim.phone", line="801", action="onhook")
    await served.run_for(0.5)
    cdrs = await admin.request("cdr.list", last=1)
    assert cdrs[0]["disposition"] == "ANSWERED"
    assert cdrs[0]["src"] == "13800138000" and cdrs[0]["caller_name"] == "张三"
    reader.cancel()
    await agent.close()
    await admin.close()


async def test_agent_may_not_read_cdrs_or_drive_the_simulator(served: Daemon) -> None:
    agent = await connect(served, "1001", "pw1001")
    with pytest.raises(RpcError) as err:
        await agent.request("cdr.list", last=1)
    assert err.value.code == "E_FORBIDDEN"
    with pytest.raises(RpcError) as err:
        await agent.request("sim.call", trunk="1")
    assert err.value.code == "E_FORBIDDEN"
    # the connection survives a refused request
    assert (await agent.request("line.list"))[0]["line"] == "1"
    await agent.close()


async def test_wrong_password_is_refused_without_detail(served: Daemon) -> None:
    client = DaemonClient(served.config.daemon.socket)
    await client.connect()
    await client.hello()
    with pytest.raises(RpcError) as err:
        await client.login("1001", "wrong")
    assert err.value.code == "E_AUTH_FAILED"
    with pytest.raises(RpcError) as err2:
        await client.login("nobody", "wrong")
    assert err2.value.message == err.value.message
    await client.close()


async def test_garbage_on_the_socket_gets_an_error_and_the_daemon_serves_on(served: Daemon) -> None:
    reader, writer = await asyncio.open_unix_connection(str(served.config.daemon.socket))
    writer.write(b"this is not json\n")
    await writer.drain()
    reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
    assert reply["ok"] is False and reply["error"]["code"] == "E_BAD_JSON"
    writer.write(b'{"id": 1, "cmd": "hello", "args": {"protocol": 1}}\n')
    await writer.drain()
    reply = json.loads(await asyncio.wait_for(reader.readline(), 5))
    assert reply["id"] == 1 and reply["ok"] is True
    writer.close()
    other = await connect(served)
    assert await other.request("line.list")
    await other.close()


async def test_socket_is_private(served: Daemon) -> None:
    sock = Path(served.config.daemon.socket)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660


async def test_bad_arguments_name_the_argument(served: Daemon) -> None:
    admin = await connect(served)
    with pytest.raises(RpcError) as err:
        await admin.request("sim.call", trunk="9")
    assert err.value.code == "E_INVALID_ARGS" and "9" in err.value.message
    with pytest.raises(RpcError) as err:
        await admin.request("call.dial", number="12a", extension="801")
    assert err.value.code == "E_INVALID_ARGS"
    await admin.close()
