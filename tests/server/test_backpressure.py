"""A slow client never stalls the daemon: coalescing for status, disconnect on overflow."""

from __future__ import annotations

import asyncio
import json

from ccd.bus import EventBus

from .conftest import RawConn, eventually

PAD = "x" * 200  # big enough that 10,000 events overrun every socket buffer on the way


async def test_stalled_client_gets_latest_state_per_key_with_bounded_queue(
    make_server, bus: EventBus
) -> None:
    server = await make_server(queue_limit=100)
    conn = await RawConn.open(server.path, limit=4096)  # small client buffer: the stall reaches the server
    await conn.login("ada")
    await conn.call("subscribe", {"topics": ["agent", "sim"]})
    session = server.sessions[0]
    keys = ["1001", "1002", "1003"]
    for n in range(10_000):
        key = keys[n % 3]
        bus.emit("agent.changed", {"agent": key, "seq": n, "pad": PAD}, key=key, coalesce=True)
        if n % 50 == 0:
            await asyncio.sleep(0)  # let the sender run, as the real loop would between ticks
    bus.emit("sim.marker", {})  # non-coalescing, published last
    assert server.clients == 1  # never disconnected
    assert session.queue.peak <= 5  # 3 keys, plus at most a reply and the marker
    assert session.queue.replaced > 0
    latest: dict[str, int] = {}
    received = 0
    while True:
        line = await asyncio.wait_for(conn.reader.readline(), 5)
        msg = json.loads(line)
        if msg.get("event") == "sim.marker":
            break
        received += 1
        agent, seq = msg["data"]["agent"], msg["data"]["seq"]
        assert seq > latest.get(agent, -1)  # never goes back in time
        latest[agent] = seq
    assert latest == {"1001": 9999, "1002": 9997, "1003": 9998}
    assert received < 10_000
    assert (await conn.call("ping"))["ok"]
    await conn.close()


async def test_overflow_of_non_coalescing_events_disconnects_only_that_client(
    make_server, bus: EventBus
) -> None:
    server = await make_server(queue_limit=50)
    stalled = await RawConn.open(server.path, limit=4096)
    await stalled.login("alice")
    await stalled.call("subscribe", {"topics": ["call"]})
    healthy = await RawConn.open(server.path)
    await healthy.login("sam")
    await healthy.call("subscribe", {"topics": ["call"]})
    got_healthy = 0
    for n in range(2_000):
        bus.emit("call.ended", {"call": n, "pad": PAD})
        if n % 20 == 19:
            # the healthy client keeps reading: it drains its 20 events each round
            for _ in range(20):
                msg = await healthy.recv()
                assert msg["data"]["call"] == got_healthy
                got_healthy += 1
            await asyncio.sleep(0)
    await eventually(lambda: server.clients == 1)
    assert got_healthy == 2_000
    assert [s.user.login for s in server.sessions] == ["sam"]
    # the stalled client: whatever it reads is in order, and then the connection ends
    last = -1
    overflow_seen = False
    while True:
        try:
            line = await asyncio.wait_for(stalled.reader.readline(), 5)
        except (ConnectionError, OSError):
            break
        if not line:
            break
        msg = json.loads(line)
        if msg.get("event") == "server.overflow":
            overflow_seen = True
            continue
        assert msg["data"]["call"] > last
        last = msg["data"]["call"]
    assert last < 1_999  # it lost the tail: it was cut off, not served forever
    assert overflow_seen or last >= 0
    assert (await healthy.call("ping"))["ok"]
    await healthy.close()
    await stalled.close()
