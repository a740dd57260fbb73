"""The simulated office through the socket on the virtual clock: three agents, ten callers in a
burst. Every caller hears their position (found in the audio each caller received), calls go
round-robin, wrap-up holds, one caller abandons, one takes a callback and is called back in
their place, and the exported queue_log and the service level match a hand computation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.ipc.errors import RpcError
from ccd.telephony.acd_queue import service_level
from tests.spine.conftest import short_dir  # noqa: F401  (fixture)
from tui.client import DaemonClient

TRUNKS = 10
AGENTS = {"1001": "801", "1002": "802", "1003": "803"}


def office_toml() -> str:
    parts = [
        '[daemon]\nsocket = "ccd.sock"\ndatabase = "ccd.db"\nrecordings = "rec"\n',
        '[[drivers]]\nname = "office"\nkind = "sim"\nseed = 11\nsnr_db = 35.0\n',
    ]
    for i in range(TRUNKS):
        parts.append(f'[[trunks]]\nid = "{i + 1}"\ndriver = "office"\nchannel = {i}\nnumber = "6234560{i}"\n')
    for n, ext in enumerate([*AGENTS.values(), "809"]):
        parts.append(f'[[extensions]]\nid = "{ext}"\ndriver = "office"\nchannel = {TRUNKS + n}\n')
    parts.append('[[inbound]]\nname = "hotline"\ntrunks = ["*"]\nqueue = "sales"\n')
    parts.append('[[outbound]]\nname = "out"\nextensions = ["*"]\ntrunks = ["*"]\n')
    parts.append(
        '[[queues]]\nname = "sales"\nstrategy = "round_robin"\nmembers = ["1001", "1002", "1003"]\n'
        'ring_timeout = 15.0\nwrap_up = 20.0\ncallback_key = "1"\nannounce_frequency = 25.0\n'
        "service_level = 30.0\n"
    )
    return "\n".join(parts)


async def connect(daemon: Daemon, user: str | None = None, password: str = "") -> DaemonClient:
    client = DaemonClient(daemon.config.daemon.socket)
    await client.connect()
    await client.hello()
    if user is None:
        await client.login_peer()
    else:
        await client.login(user, password)
    return client


def heard_by_caller(sim: object, trunk: str) -> np.ndarray:
    """What the incoming caller on `trunk` heard (the trunk may have carried a callback since)."""
    calls = [*sim.finished, *sim.calls.values()]  # type: ignore[attr-defined]
    mine = [c for c in calls if c.trunk == trunk and c.direction == "in"]
    return np.concatenate(list(mine[0].heard)) if mine and mine[0].heard else np.zeros(0, np.int16)


def contains(heard: np.ndarray, prompt: np.ndarray) -> bool:
    """True if the exact prompt samples (a loud 0.1 s piece of them) are in what the caller heard."""
    start = int(np.argmax(np.abs(prompt) > 2000))
    piece = prompt[start : start + 800]
    if len(piece) < 800 or len(heard) < len(piece):
        return False
    cand = np.nonzero(heard[: len(heard) - len(piece)] == piece[0])[0]
    for k in range(1, len(piece), 7):
        cand = cand[heard[cand + k] == piece[k]]
        if len(cand) == 0:
            return False
    return True


@pytest.fixture
async def served(short_dir: Path):  # noqa: F811
    cfg = config_from_text(office_toml(), base_dir=short_dir)
    daemon = Daemon(cfg, VirtualClock())
    await daemon.start()
    for login, ext in AGENTS.items():
        await daemon.store.users.add(
            login, f"agent {login}", "agent", f"pw{login}", extension=ext, agent_no=login
        )
    await daemon.store.users.add("boss", "supervisor", "supervisor", "pwboss", extension="809")
    try:
        yield daemon
    finally:
        await daemon.stop()


async def test_ten_callers_three_agents(served: Daemon) -> None:
    sim = served.sim
    admin = await connect(served)
    agents = {login: await connect(served, login, f"pw{login}") for login in AGENTS}
    for client in agents.values():
        state = await client.request("agent.login")
        assert state["state"] == "ready"
    for ext in AGENTS.values():
        sim.set_auto_answer(ext, (2.0, 2.0))
    # ten callers at once; the 9th gives up after 20 s, the 10th asks for a callback
    for i in range(1, TRUNKS + 1):
        kwargs: dict = {"talk": None, "hangup_after": None}
        if i == 9:
            kwargs["talk"] = 20.0
        if i == 10:
            kwargs.update(press="1", press_after=12.0)
        sim.place_call(str(i), f"1390000000{i - 1}", **kwargs)
    talk_started: dict[str, float] = {}
    held_wrap_up = False
    for _ in range(230):
        await served.run_for(1.0)
        now = served.clock.now()
        for login, ext in AGENTS.items():
            agent = served.acd.book.agents[login]
            if agent.state.value == "on_call":
                talk_started.setdefault(agent.call or "", now)
                if now - talk_started[agent.call or ""] >= 30.0:
                    sim.phone(ext, "onhook")  # the agent finishes the call after 30 s
            if agent.state.value == "wrap_up" and served.acd.entries:
                held_wrap_up = True
                assert not any(e.offered.get(login) for e in served.acd.entries.values())
        if not served.engine.calls and not served.acd.entries and now > 60:
            break
    await served.flush()
    assert held_wrap_up
    queues = await admin.request("queue.list")
    sales = queues[0]
    assert sales["waiting"] == 0 and sales["callbacks_pending"] == 0

    # every caller heard their place in line
    prompts = served.engine.prompts
    for i in range(1, TRUNKS + 1):
        heard = heard_by_caller(sim, str(i))
        said = [n for n in ("queue_next", "queue_position_1") if contains(heard, prompts.get(n, "zh"))]
        assert said, f"caller on trunk {i} never heard a position"
    assert contains(heard_by_caller(sim, "10"), prompts.get("callback_confirm", "zh"))

    # the queue_log, exported as Asterisk writes it
    out = io.StringIO()
    await served.store.journal.export_queue_log(out, 0, served.clock.wall() + 1)
    lines = [line.split("|") for line in out.getvalue().splitlines()]
    by_event: dict[str, list[list[str]]] = {}
    for row in lines:
        by_event.setdefault(row[4], []).append(row)
    assert len(by_event["AGENTLOGIN"]) == 3 and len(by_event["ENTERQUEUE"]) == 10
    assert len(by_event["ABANDON"]) == 1 and len(by_event["CALLBACK"]) == 1
    assert len(by_event["CONNECT"]) == 9
    assert len(by_event.get("COMPLETEAGENT", [])) + len(by_event.get("COMPLETECALLER", [])) == 9
    callback_call = by_event["CALLBACK"][0][1]
    assert [r[4] for r in lines if r[1] == callback_call][:3] == ["ENTERQUEUE", "CALLBACK", "CONNECT"]
    # round robin: each agent took three callers, in turn
    connects = [r[3] for r in by_event["CONNECT"]]
    assert sorted(connects.count(f"Agent/{a}") for a in AGENTS) == [3, 3, 3]
    assert connects[:3] == ["Agent/1001", "Agent/1002", "Agent/1003"]
    # service level by hand: answered within 30 s / (answered + abandoned after 30 s)
    holds = [int(r[5]) for r in by_event["CONNECT"]]
    abandon_wait = int(by_event["ABANDON"][0][7])
    within = sum(h <= 30 for h in holds)
    hand = round(100.0 * within / (len(holds) + (abandon_wait > 30)), 1)
    assert within == 3  # the first three callers; everyone else waited for a wrap-up to end
    rows = await served.store.journal.between(0, served.clock.wall() + 1, queue="sales")
    assert service_level(rows, 30.0)["service_level"] == hand == sales["service_level"]
    for client in agents.values():
        await client.close()
    await admin.close()


async def test_agent_controls_and_errors_through_the_socket(served: Daemon) -> None:
    sim = served.sim
    admin = await connect(served)
    a1 = await connect(served, "1001", "pw1001")
    a2 = await connect(served, "1002", "pw1002")
    boss = await connect(served, "boss", "pwboss")
    await a1.request("agent.login")
    await a2.request("agent.login", ready=False)
    with pytest.raises(RpcError) as err:
        await a1.request("agent.not_ready", reason="nap")
    assert err.value.code == "E_INVALID_ARGS"
    with pytest.raises(RpcError) as err:
        await a1.request("agent.force_logout", agent="1002")
    assert err.value.code == "E_FORBIDDEN"
    sim.place_call("1", "13900000001", talk=None, hangup_after=None)
    await served.run_for(6.0)
    call_id = served.acd.book.agents["1001"].call
    assert call_id and served.acd.book.agents["1001"].state.value == "ringing"
    await a1.request("call.answer", call=call_id)
    await served.run_for(6.0)
    assert served.acd.book.agents["1001"].state.value == "on_call"
    await a1.request("call.hold", call=call_id)
    assert (await a1.request("agent.state"))["state"] == "hold"
    await a1.request("call.retrieve", call=call_id)
    sim.phone("802", "offhook")  # the colleague is on the phone
    await served.run_for(0.2)
    with pytest.raises(RpcError) as err:
        await a1.request("call.transfer", call=call_id, target="1002", mode="consult")
    assert err.value.code == "E_TARGET_BUSY" and "stays with you" in err.value.message
    with pytest.raises(RpcError) as err:
        await a1.request("call.transfer", call=call_id, target="777")
    assert err.value.code == "E_TARGET_UNKNOWN"
    sim.phone("802", "onhook")
    await served.run_for(0.2)
    await a2.request("agent.ready")
    await a1.request("call.transfer", call=call_id, target="1002", mode="consult")
    await served.run_for(1.0)
    sim.phone("802", "offhook")
    await served.run_for(1.0)
    await a1.request("call.conference", call=call_id)
    row = {line.id: line.row for line in served.lines.values()}
    assert set(served.media.hears(row["1"])) == {row["801"], row["802"]}  # three-way mixing
    await boss.request("monitor.whisper", agent="1001", extension="809")
    await served.run_for(0.5)
    sim.phone("809", "offhook")
    await served.run_for(0.5)
    assert row["809"] in served.media.hears(row["801"]) and row["809"] not in served.media.hears(row["1"])
    await boss.request("agent.force_state", agent="1002", state="not_ready", reason="meeting")
    await boss.request("call.hangup", call=call_id)  # 强拆
    await served.run_for(3.0)
    for ext in ("801", "802", "809"):
        sim.phone(ext, "onhook")
    await served.run_for(1.0)
    states = {a["agent"]: a for a in await boss.request("agent.list")}
    assert states["1001"]["state"] == "wrap_up"
    assert states["1002"]["state"] == "wrap_up" and states["1002"]["pending"] == "not_ready"
    await served.run_for(21.0)  # the forced state applies when the after-call work ends
    state = await boss.request("agent.state", agent="1002")
    assert state["state"] == "not_ready" and state["reason"] == "meeting"
    assert served.acd.check() == []
    for client in (admin, a1, a2, boss):
        await client.close()


async def test_agents_are_logged_back_in_after_a_restart(short_dir: Path) -> None:  # noqa: F811
    cfg = config_from_text(office_toml(), base_dir=short_dir)
    daemon = Daemon(cfg, VirtualClock())
    await daemon.start()
    await daemon.store.users.add("1001", "a", "agent", "pw1001", extension="801", agent_no="1001")
    client = await connect(daemon, "1001", "pw1001")
    await client.request("agent.login")
    await client.request("agent.not_ready", reason="lunch")
    await client.close()
    await daemon.flush()
    await daemon.stop()
    again = Daemon(
        config_from_text(office_toml(), base_dir=short_dir), VirtualClock(start_wall=daemon.clock.wall() + 60)
    )
    await again.start()
    try:
        await again._acd_ready  # type: ignore[attr-defined]
        agent = again.acd.book.agents["1001"]
        assert agent.state.value == "not_ready" and agent.reason == "lunch" and agent.extension == "801"
    finally:
        await again.stop()
