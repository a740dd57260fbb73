"""Subscriptions: snapshot first, then the reply, then changes; topic permissions."""

from __future__ import annotations

import asyncio
from typing import Any

from ccd.bus import BusEvent, EventBus
from ccd.ipc import errors as E
from ccd.server.registry import RequestContext

from .conftest import RawConn


def line_snapshot(n: int):
    async def provider(ctx: RequestContext) -> list[dict[str, Any]]:
        return [{"line": i, "state": "idle"} for i in range(1, n + 1)]

    return provider


async def test_snapshot_events_come_before_the_reply_then_changes(make_server, bus: EventBus) -> None:
    server = await make_server(snapshots={"line": line_snapshot(3)})
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    await conn.send({"id": 7, "cmd": "subscribe", "args": {"topics": ["line"]}})
    received = [await conn.recv() for _ in range(4)]
    assert received[:3] == [
        {"event": "line.snapshot", "data": {"line": i, "state": "idle"}} for i in (1, 2, 3)
    ]
    assert received[3] == {"id": 7, "ok": True, "result": {"topics": ["line"], "snapshot_complete": True}}
    bus.emit("line.changed", {"line": 2, "state": "ringing"}, key="2", coalesce=True)
    assert await conn.recv() == {"event": "line.changed", "data": {"line": 2, "state": "ringing"}}
    await conn.close()


async def test_changes_during_a_slow_snapshot_arrive_after_the_reply(make_server, bus: EventBus) -> None:
    gate = asyncio.Event()
    entered = asyncio.Event()

    async def slow(ctx: RequestContext) -> list[dict[str, Any]]:
        entered.set()
        await gate.wait()
        return [{"line": 1, "state": "ringing"}]

    server = await make_server(snapshots={"line": slow})
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    await conn.send({"id": 1, "cmd": "subscribe", "args": {"topics": ["line"]}})
    await asyncio.wait_for(entered.wait(), 5)
    bus.emit("line.changed", {"line": 1, "state": "ringing"}, key="1")
    gate.set()
    order = [await conn.recv() for _ in range(3)]
    assert [m.get("event") or m.get("id") for m in order] == ["line.snapshot", 1, "line.changed"]
    await conn.close()


async def test_no_events_without_subscription_and_after_unsubscribe(make_server, bus: EventBus) -> None:
    server = await make_server()
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    bus.emit("call.ringing", {"call": "a"})
    assert (await conn.call("subscribe", {"topics": ["call", "line"]}))["result"]["topics"] == [
        "call",
        "line",
    ]
    bus.emit("call.ringing", {"call": "b"})
    bus.emit("queue.changed", {"queue": "q"})  # not subscribed
    bus.emit("call.answered", {"call": "b"})
    assert (await conn.recv())["data"] == {"call": "b"}
    assert (await conn.recv())["event"] == "call.answered"
    assert (await conn.call("unsubscribe", {"topics": ["call"]}))["result"] == {"topics": ["line"]}
    bus.emit("call.ended", {"call": "b"})
    bus.emit("line.changed", {"line": 1})
    assert (await conn.recv())["event"] == "line.changed"
    await conn.close()


async def test_topic_roles(make_server) -> None:
    server = await make_server()
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    reply = await conn.call("subscribe", {"topics": ["line", "wallboard"]})
    assert reply["error"]["code"] == E.E_FORBIDDEN and "supervisor" in reply["error"]["message"]
    assert (await conn.call("unsubscribe", {"topics": "*"}))["result"][
        "topics"
    ] == []  # nothing was half-applied
    reply = await conn.call("subscribe", {"topics": ["lines"]})
    assert reply["error"]["code"] == E.E_INVALID_ARGS and "did you mean 'line'" in reply["error"]["message"]
    everything = (await conn.call("subscribe", {"topics": ["*"]}))["result"]["topics"]
    assert "call" in everything and "wallboard" not in everything and "admin" not in everything
    await conn.call("logout")
    await conn.login("sam")
    everything = (await conn.call("subscribe", {"topics": "*"}))["result"]["topics"]
    assert "wallboard" in everything and "admin" not in everything
    await conn.close()


async def test_topic_roles_can_be_overridden_by_the_daemon(make_server) -> None:
    server = await make_server(topic_roles={"line": "supervisor", "cdr": "supervisor"})
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    assert (await conn.call("subscribe", {"topics": ["line"]}))["error"]["code"] == E.E_FORBIDDEN
    await conn.call("logout")
    await conn.login("sam")
    assert (await conn.call("subscribe", {"topics": ["cdr", "line"]}))["ok"]
    await conn.close()


async def test_subscribe_needs_login(conn: RawConn) -> None:
    assert (await conn.call("subscribe", {"topics": ["call"]}))["error"]["code"] == E.E_NOT_AUTHENTICATED


async def test_logout_drops_subscriptions(make_server, bus: EventBus) -> None:
    server = await make_server()
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    await conn.call("subscribe", {"topics": ["call"]})
    await conn.call("logout")
    bus.emit("call.ringing", {"call": "x"})
    assert (await conn.call("ping"))["ok"]  # the reply is next: no event slipped in before it
    await conn.close()


async def test_failing_snapshot_provider_is_internal_error_and_leaves_no_subscription(
    make_server, bus: EventBus
) -> None:
    async def broken(ctx: RequestContext) -> list[dict[str, Any]]:
        raise RuntimeError("db gone")

    server = await make_server(snapshots={"queue": broken})
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    assert (await conn.call("subscribe", {"topics": ["queue"]}))["error"]["code"] == E.E_INTERNAL
    bus.publish(BusEvent("queue", "queue.changed", {"q": 1}))
    assert (await conn.call("ping"))["ok"]
    await conn.close()


async def test_private_push_to_a_user(server, conn: RawConn) -> None:
    await conn.login("alice")
    assert server.push_to_user("alice", "agent.notice", {"text": "hi"}) == 1
    assert await conn.recv() == {"event": "agent.notice", "data": {"text": "hi"}}
    assert server.push_to_user("nobody", "agent.notice") == 0
