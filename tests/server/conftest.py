"""Real servers on real Unix sockets in tmp_path, and small clients to poke them.

No sleeps: tests wait for replies, for events, or for a condition (`eventually`) with a
timeout, so a slow machine makes them slower, never flaky.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ccd.bus import EventBus
from ccd.ipc.errors import E_NOT_FOUND, RpcError
from ccd.server.registry import CommandRegistry, RequestContext
from ccd.server.server import SocketServer

TIMEOUT = 5.0


@dataclass
class FakeUser:
    login: str
    role: str
    name: str
    extension: str | None = None
    agent_no: str | None = None


USERS = {
    "alice": ("alice-pw", FakeUser("alice", "agent", "Alice 王", "801", "1001")),
    "sam": ("sam-pw", FakeUser("sam", "supervisor", "Sam")),
    "ada": ("ada-pw", FakeUser("ada", "admin", "Ada")),
}


async def authenticate(login: str, password: str) -> FakeUser | None:
    entry = USERS.get(login)
    if entry is None or entry[0] != password:
        return None
    return entry[1]


def make_registry() -> CommandRegistry:
    reg = CommandRegistry()

    @reg.command("echo", doc="Return the arguments.", example={"x": 1})
    async def echo(ctx: RequestContext, args: dict[str, Any]) -> Any:
        return {"args": args, "user": ctx.user.login if ctx.user else None}

    @reg.command("sup.only", role="supervisor", doc="Supervisors only.")
    async def sup_only(ctx: RequestContext, args: dict[str, Any]) -> Any:
        return "ok"

    @reg.command("admin.only", role="admin", doc="Admins only.")
    async def admin_only(ctx: RequestContext, args: dict[str, Any]) -> Any:
        return "ok"

    @reg.command("boom", doc="A handler bug.")
    async def boom(ctx: RequestContext, args: dict[str, Any]) -> Any:
        raise ValueError("handler bug")

    @reg.command("missing", doc="A typed refusal.")
    async def missing(ctx: RequestContext, args: dict[str, Any]) -> Any:
        raise RpcError(E_NOT_FOUND, "no such call 42", {"call": 42})

    @reg.command("not.json", doc="Returns something JSON cannot carry.")
    async def not_json(ctx: RequestContext, args: dict[str, Any]) -> Any:
        return {"value": object()}

    @reg.command("wait", doc="Block until the test releases the gate.")
    async def wait(ctx: RequestContext, args: dict[str, Any]) -> Any:
        await ctx.server.test_gate.wait()
        return "released"

    @reg.command("stash", doc="Keep a value in the session.")
    async def stash(ctx: RequestContext, args: dict[str, Any]) -> Any:
        old = ctx.session.state.get("v")
        ctx.session.state["v"] = args.get("v")
        return old

    return reg


class RawConn:
    """A bare NDJSON connection for sending exactly the bytes a test wants."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._id = 0

    @classmethod
    async def open(cls, path: Path, limit: int = 1 << 20) -> RawConn:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=limit)
        return cls(reader, writer)

    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, obj: dict[str, Any]) -> None:
        await self.send_bytes(json.dumps(obj, ensure_ascii=False).encode() + b"\n")

    async def recv(self) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), TIMEOUT)
        if not line:
            raise EOFError("server closed the connection")
        return json.loads(line)

    async def call(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its reply message (skipping pushed events)."""
        self._id += 1
        rid = self._id
        await self.send({"id": rid, "cmd": cmd, "args": args or {}})
        while True:
            msg = await self.recv()
            if msg.get("id") == rid:
                return msg

    async def login(self, user: str) -> dict[str, Any]:
        reply = await self.call("login", {"user": user, "password": USERS[user][0]})
        assert reply["ok"], reply
        return reply

    async def closed(self) -> bool:
        """True once the server has hung up (reads and discards anything still pending)."""
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(1 << 16), TIMEOUT)
                if not data:
                    return True
        except (ConnectionError, OSError):
            return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def eventually(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until `predicate()` holds, checking on every loop turn; fail after `timeout`."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "run" / "ccd.sock"


@pytest.fixture
async def make_server(bus: EventBus, sock_path: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[SocketServer] = []

    async def factory(**kw: Any) -> SocketServer:
        kw.setdefault("group", None)
        kw.setdefault("close_grace", 0.5)
        server = SocketServer(
            kw.pop("path", sock_path), kw.pop("registry", make_registry()), bus, authenticate, **kw
        )
        server.test_gate = asyncio.Event()  # type: ignore[attr-defined]
        await server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        await server.stop()


@pytest.fixture
async def server(make_server: Callable[..., Any]) -> SocketServer:
    return await make_server()


@pytest.fixture
async def conn(server: SocketServer) -> AsyncIterator[RawConn]:
    c = await RawConn.open(server.path)
    yield c
    await c.close()
