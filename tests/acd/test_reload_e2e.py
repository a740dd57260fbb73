"""`ccd reload` of queues and agents through the socket, on the simulated office and the virtual
clock, while one caller talks to an agent and others wait: nothing is dropped, a broken
configuration is refused with its file and line and changes nothing, and the new strategy,
skills and queues take effect at the next decision. Also: disposition codes in wrap-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import load_config
from ccd.daemon import Daemon
from ccd.ipc.errors import RpcError
from tests.spine.conftest import short_dir  # noqa: F401  (fixture)
from tui.client import DaemonClient

AGENTS = {"1001": "801", "1002": "802", "1003": "803"}

BASE = """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"

[[drivers]]
name = "office"
kind = "sim"
seed = 5
snr_db = 35.0

[[trunks]]
id = "1"
driver = "office"
channel = 0
number = "62345601"

[[trunks]]
id = "2"
driver = "office"
channel = 1
number = "62345602"

[[trunks]]
id = "3"
driver = "office"
channel = 2
number = "62345603"

[[extensions]]
id = "801"
driver = "office"
channel = 3

[[extensions]]
id = "802"
driver = "office"
channel = 4

[[extensions]]
id = "803"
driver = "office"
channel = 5

[[inbound]]
name = "hotline"
trunks = ["1", "2"]
queue = "sales"

[[outbound]]
name = "out"
extensions = ["*"]
trunks = ["*"]

[[agents]]
login = "1001"
skills = { sales = 2 }
"""

SALES = """
[[queues]]
name = "sales"
strategy = "{strategy}"
members = ["1001", "1002", "1003"]
skills = {{ sales = 1 }}
wrap_up = 5.0
announce_frequency = 30.0
"""

SUPPORT = """
[[inbound]]
name = "help"
trunks = ["3"]
queue = "support"

[[queues]]
name = "support"
members = ["1009"]
max_wait = 40.0
overflow = "queue"
overflow_target = "sales"
"""

V2_EXTRA = """
[[agents]]
login = "1002"
skills = {{ sales = 1 }}

[[agents]]
login = "1003"
skills = {{ sales = 1 }}

[[queues]]
name = "vip"
strategy = "ring_all"
overflow = "queue"
overflow_target = "{vip_overflow}"

[acd]
dispositions = ["SALE", "INFO", "COMPLAINT", "CALLBACK"]
"""


def v1() -> str:
    return BASE + SALES.format(strategy="linear") + SUPPORT


def v2(strategy: str = "longest_idle", vip_overflow: str = "sales") -> str:
    return BASE + SALES.format(strategy=strategy) + V2_EXTRA.format(vip_overflow=vip_overflow)


async def connect(daemon: Daemon, user: str | None = None, password: str = "") -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket)
    await client.connect()
    await client.hello()
    if user is None:
        await client.login_peer()
    else:
        await client.login(user, password)
    return client


@pytest.fixture
async def office(short_dir: Path):  # noqa: F811
    (short_dir / "ccd.toml").write_text(v1())
    daemon = Daemon(load_config(short_dir / "ccd.toml"), VirtualClock())
    await daemon.start()
    for login, ext in AGENTS.items():
        await daemon.store.users.add(login, f"agent {login}", "agent", f"pw{login}", extension=ext)
    try:
        yield daemon
    finally:
        await daemon.stop()


async def until(daemon: Daemon, check, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(limit / 0.5)):
        if check():
            return
        await daemon.run_for(0.5)
    assert check(), "condition not reached in time"


def waiting(daemon: Daemon, queue: str) -> list[str]:
    return [e.callid for e in daemon.acd._ordered(queue)]


async def test_reload_keeps_calls_refuses_broken_configs_and_serves_with_the_new_strategy(
    office: Daemon,
    short_dir: Path,  # noqa: F811
) -> None:
    sim, acd = office.sim, office.acd
    book = acd.book.agents
    admin = await connect(office)
    agents = {login: await connect(office, login, f"pw{login}") for login in AGENTS}
    # 1003 has been ready (idle) longest; 1002 and 1003 lack the sales skill for now
    await agents["1003"].request("agent.login")
    await office.run_for(5.0)
    await agents["1002"].request("agent.login")
    await agents["1001"].request("agent.login")
    for ext in AGENTS.values():
        sim.set_auto_answer(ext, (2.0, 2.0))

    sim.place_call("1", "13900000001", talk=None, hangup_after=None)  # A: talks with 1001
    await until(office, lambda: book["1001"].state.value == "on_call")
    call_a = book["1001"].call
    sim.place_call("2", "13900000002", talk=None, hangup_after=None)  # B: waits in sales
    sim.place_call("3", "13900000003", talk=None, hangup_after=None)  # C: waits in support
    await until(office, lambda: len(waiting(office, "sales")) == 1 and len(waiting(office, "support")) == 1)
    call_b, call_c = waiting(office, "sales")[0], waiting(office, "support")[0]
    calls_before = set(office.engine.calls)

    # broken configurations: refused with file and line, nothing changes
    cfg = short_dir / "ccd.toml"
    cfg.write_text(v2(strategy="roundrobin"))
    with pytest.raises(RpcError) as bad:
        await admin.request("config.reload")
    assert bad.value.code == "E_INVALID_ARGS"
    assert "ccd.toml:" in bad.value.message and "unknown strategy 'roundrobin'" in bad.value.message
    assert "did you mean 'round_robin'" in bad.value.message
    cfg.write_text(v2(vip_overflow="salez"))
    with pytest.raises(RpcError) as bad:
        await admin.request("config.reload")
    line = next(i for i, text in enumerate(v2(vip_overflow="salez").splitlines(), 1) if "salez" in text)
    assert f"ccd.toml:{line}: queues[1].overflow_target: unknown destination 'salez'" in bad.value.message
    queues = {q["queue"]: q for q in await admin.request("queue.list")}
    assert set(queues) == {"sales", "support"} and queues["sales"]["strategy"] == "linear"
    assert book["1002"].skills == {} and acd.dispositions == ()
    assert book["1002"].state.value == book["1003"].state.value == "ready"
    await office.run_for(1.0)
    assert waiting(office, "sales") == [call_b]  # still nobody with the skill is free

    # a valid one: longest idle, skills for 1002/1003, support removed, vip added
    cfg.write_text(v2())
    result = await admin.request("config.reload")
    assert result["needs_restart"] == []
    # the waiting caller is offered at once, by the new strategy: 1003 (idle longest), not 1002
    # (linear would have picked 1002, first in member order)
    assert book["1003"].state.value == "ringing" and book["1003"].call == call_b
    assert book["1002"].state.value == "ready"
    await until(office, lambda: book["1003"].state.value == "on_call")
    assert book["1001"].state.value == "on_call" and book["1001"].call == call_a
    queues = {q["queue"]: q for q in await admin.request("queue.list")}
    assert queues["sales"]["strategy"] == "longest_idle" and "vip" in queues
    assert queues["support"]["retired"] is True and queues["support"]["waiting"] == 1
    assert "retired" not in queues["sales"]

    # the removed queue takes no new callers, but its caller keeps waiting and then overflows
    with pytest.raises(RpcError) as gone:
        await agents["1001"].request("call.transfer", call=call_a, target="support")
    assert gone.value.code == "E_TARGET_UNKNOWN" and "removed" in gone.value.message
    assert book["1001"].call == call_a
    await until(office, lambda: book["1002"].state.value == "on_call", limit=45.0)
    assert book["1002"].call == call_c
    await office.run_for(1.5)
    assert "support" not in acd.queues  # drained, then forgotten

    # nothing was dropped: the three callers are all still connected, each with an agent
    assert calls_before <= set(office.engine.calls)
    assert {book[a].call for a in AGENTS} == {call_a, call_b, call_c}
    assert acd.check() == []
    await office.flush()
    rows = await office.store.journal.between(0, office.clock.wall() + 1)
    events = [r.event for r in rows]
    assert "ABANDON" not in events and events.count("CONFIGRELOAD") == 1
    exit_c = [r for r in rows if r.callid == call_c and r.event == "EXITWITHTIMEOUT"]
    assert len(exit_c) == 1 and exit_c[0].queue == "support"
    connects = {r.callid: r.agent for r in rows if r.event == "CONNECT"}
    assert connects == {call_a: "Agent/1001", call_b: "Agent/1003", call_c: "Agent/1002"}
    for client in (admin, *agents.values()):
        await client.close()


async def test_disposition_codes_in_wrap_up_reach_the_cdr_and_the_journal(
    office: Daemon,
    short_dir: Path,  # noqa: F811
) -> None:
    sim, acd = office.sim, office.acd
    book = acd.book.agents
    admin = await connect(office)
    a1 = await connect(office, "1001", "pw1001")
    a2 = await connect(office, "1002", "pw1002")
    await a1.request("agent.login")
    await a2.request("agent.login")
    state = await a1.request("agent.state")
    assert state["dispositions"] == [] and state["last_call"] is None
    sim.set_auto_answer("801", (2.0, 2.0))
    sim.place_call("1", "13900000001", talk=None, hangup_after=None)
    await until(office, lambda: book["1001"].state.value == "on_call")
    call = book["1001"].call
    with pytest.raises(RpcError) as off:
        await a1.request("call.disposition", call=call, code="SALE")
    assert off.value.code == "E_UNSUPPORTED" and "[acd] dispositions" in off.value.message

    (short_dir / "ccd.toml").write_text(v2())
    await admin.request("config.reload")
    sim.phone("801", "onhook")  # the agent finishes the call: wrap-up (5 s)
    await office.run_for(0.5)
    state = await a1.request("agent.state")
    assert state["state"] == "wrap_up" and state["last_call"] == call
    assert state["dispositions"] == ["SALE", "INFO", "COMPLAINT", "CALLBACK"]
    assert state["disposition"] is None
    with pytest.raises(RpcError) as bad:
        await a1.request("call.disposition", call=call, code="SOLD")
    assert bad.value.code == "E_INVALID_ARGS" and "SALE, INFO" in bad.value.message
    with pytest.raises(RpcError) as other:
        await a2.request("call.disposition", call=call, code="INFO")
    assert other.value.code == "E_NO_CALL"
    with pytest.raises(RpcError) as forbidden:
        await a2.request("call.disposition", call=call, code="INFO", agent="1001")
    assert forbidden.value.code == "E_FORBIDDEN"
    coded = await a1.request("call.disposition", call=call, code="sale", note="2 boxes | paid\nby card")
    assert coded["code"] == "SALE" and coded["note"] == "2 boxes / paid by card" and coded["stored"]
    assert (await a1.request("agent.state"))["disposition"] == "SALE"
    assert book["1001"].state.value == "wrap_up"  # coding does not end wrap-up
    listed = await admin.request("agent.list")
    assert "dispositions" not in listed[0]  # agent.list unchanged
    await office.flush()
    cdr = await office.store.calls.get(call)
    assert cdr.userfield == "SALE: 2 boxes / paid by card"
    rows = await office.store.journal.between(0, office.clock.wall() + 1)
    dispo = [r for r in rows if r.event == "DISPOSITION"]
    assert len(dispo) == 1 and dispo[0].callid == call and dispo[0].agent == "Agent/1001"
    assert dispo[0].queue == "sales" and list(dispo[0].data) == ["SALE", "2 boxes / paid by card"]
    for client in (admin, a1, a2):
        await client.close()
