"""The shared client: errors people can read, one-shot calls, reconnect with a fresh snapshot."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccd.bus import EventBus
from ccd.ipc import errors as E
from ccd.ipc.errors import RpcError
from ccd.server.registry import RequestContext
from ccd.server.server import SocketServer
from tui.client import DaemonClient, DaemonConnectionError, ReconnectingClient, call_daemon

from .conftest import TIMEOUT, authenticate, make_registry


async def test_connect_to_absent_daemon_says_so(tmp_path: Path) -> None:
    path = tmp_path / "ccd.sock"
    client = DaemonClient(path)
    with pytest.raises(DaemonConnectionError, match=f"ccd daemon not running at {path}"):
        await client.connect()


async def test_request_subscribe_and_events(make_server, bus: EventBus) -> None:
    async def lines(ctx: RequestContext) -> list[dict[str, Any]]:
        return [{"line": "1"}, {"line": "2"}]

    server = await make_server(snapshots={"line": lines})
    async with DaemonClient(server.path) as client:
        assert (await client.hello())["protocol"] == 1
        assert (await client.login("alice", "alice-pw"))["role"] == "agent"
        assert await client.request("echo", x=1) == {"args": {"x": 1}, "user": "alice"}
        with pytest.raises(RpcError) as info:
            await client.request("sup.only")
        assert info.value.code == E.E_FORBIDDEN
        snapshot = await client.subscribe(["line"])
        assert [m["data"] for m in snapshot] == [{"line": "1"}, {"line": "2"}]
        bus.emit("line.changed", {"line": "1", "state": "ringing"})
        seen = []
        async for event in client.events():
            seen.append(event["event"])
            if event["event"] == "line.changed":
                break
        assert seen == ["line.snapshot", "line.snapshot", "line.changed"]
        assert client.connected
    assert not client.connected


async def test_pending_requests_fail_when_the_daemon_goes(server: SocketServer) -> None:
    client = DaemonClient(server.path)
    await client.connect()
    await client.login("alice", "alice-pw")
    pending = asyncio.ensure_future(client.request("wait"))
    await asyncio.sleep(0)
    await server.stop()
    with pytest.raises(DaemonConnectionError, match="lost"):
        await asyncio.wait_for(pending, TIMEOUT)
    assert not client.connected
    with pytest.raises(DaemonConnectionError):
        await client.request("ping")
    await client.close()


@pytest.fixture
def threaded_server(tmp_path: Path) -> Iterator[Path]:
    """A server on its own loop in a thread, for testing the synchronous call_daemon()."""
    path = tmp_path / "ccd.sock"
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        server = SocketServer(path, make_registry(), EventBus(), authenticate, group=None, close_grace=0.2)
        await server.start()
        holder["server"], holder["stop"] = server, asyncio.Event()
        ready.set()
        await holder["stop"].wait()
        await server.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(TIMEOUT)
    yield path
    loop.call_soon_threadsafe(holder["stop"].set)
    thread.join(TIMEOUT)
    loop.close()


def test_call_daemon_as_peer_admin(threaded_server: Path) -> None:
    assert call_daemon(threaded_server, "admin.only") == "ok"
    assert call_daemon(threaded_server, "echo", {"a": [1, "二"]})["args"] == {"a": [1, "二"]}


def test_call_daemon_with_password_and_typed_errors(threaded_server: Path) -> None:
    assert call_daemon(threaded_server, "echo", user="alice", password="alice-pw")["user"] == "alice"
    with pytest.raises(RpcError) as info:
        call_daemon(threaded_server, "admin.only", user="alice", password="alice-pw")
    assert info.value.code == E.E_FORBIDDEN
    with pytest.raises(RpcError) as info:
        call_daemon(threaded_server, "echo", user="alice", password="nope")
    assert info.value.code == E.E_AUTH_FAILED


def test_call_daemon_without_daemon(tmp_path: Path) -> None:
    with pytest.raises(DaemonConnectionError, match="ccd daemon not running at"):
        call_daemon(tmp_path / "none.sock", "ping")


async def test_reconnect_after_server_restart_gets_a_fresh_snapshot(sock_path: Path, bus: EventBus) -> None:
    generation = {"n": 1}

    async def lines(ctx: RequestContext) -> list[dict[str, Any]]:
        return [{"line": "1", "generation": generation["n"]}]

    def new_server() -> SocketServer:
        return SocketServer(
            sock_path,
            make_registry(),
            bus,
            authenticate,
            snapshots={"line": lines},
            group=None,
            close_grace=0.2,
        )

    states: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    events: list[dict[str, Any]] = []
    client = ReconnectingClient(
        sock_path,
        auth=("alice", "alice-pw"),
        topics=["line"],
        on_event=events.append,
        on_state=lambda s, info: states.put_nowait((s, info)),
        min_backoff=0.02,
        max_backoff=0.1,
    )

    async def next_state(wanted: str) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            while True:
                state, info = await states.get()
                if state == wanted:
                    return info

    server = new_server()
    await server.start()
    runner = asyncio.create_task(client.run())
    try:
        first = await next_state("connected")
        assert [m["data"] for m in first["snapshot"]] == [{"line": "1", "generation": 1}]
        assert first["user"]["user"] == "alice"
        assert await client.request("echo", n=1) == {"args": {"n": 1}, "user": "alice"}

        await server.stop()
        lost = await next_state("lost")
        assert "retry_in" in lost
        with pytest.raises(DaemonConnectionError):
            await client.request("echo")

        generation["n"] = 2
        server = new_server()
        await server.start()
        await next_state("syncing")
        second = await next_state("connected")
        assert [m["data"] for m in second["snapshot"]] == [{"line": "1", "generation": 2}]
        assert events[-1] == {"event": "line.snapshot", "data": {"line": "1", "generation": 2}}
        bus.emit("line.changed", {"line": "1", "state": "ringing"})
        async with asyncio.timeout(TIMEOUT):
            while events[-1]["event"] != "line.changed":
                await asyncio.sleep(0.005)
    finally:
        client.stop()
        await asyncio.wait_for(runner, TIMEOUT)
        await server.stop()
    assert client.state == "stopped"


async def test_reconnecting_client_stops_on_wrong_password(server: SocketServer) -> None:
    states: list[str] = []
    client = ReconnectingClient(server.path, auth=("alice", "bad"), on_state=lambda s, i: states.append(s))
    with pytest.raises(RpcError) as info:
        await asyncio.wait_for(client.run(), TIMEOUT)
    assert info.value.code == E.E_AUTH_FAILED
    assert states == ["connecting", "failed"]


def test_client_module_does_not_import_textual() -> None:
    code = "import sys, tui.client, ccd.server.server; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
