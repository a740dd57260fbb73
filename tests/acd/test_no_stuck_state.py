"""10,000 calls with random arrivals, answers, hang-ups, transfers and agent requests at every
state, on a fake engine with a seeded RNG: every invariant holds after every event, and at
the end every agent is back in a legal idle state and no caller or call is left behind."""

from __future__ import annotations

import random

import pytest

from ccd.telephony.acd import IDLE_STATES, AgentState
from ccd.telephony.acd_queue import AcdError, QueueSpec
from ccd.telephony.line import LineState
from tests.acd.fakes import office

A = AgentState
CALLS = 10_000


@pytest.mark.slow
def test_ten_thousand_calls_leave_no_agent_or_caller_stuck() -> None:
    rng = random.Random(20240601)
    queues = [
        QueueSpec(
            "sales",
            strategy="ring_all",
            ring_timeout=8.0,
            wrap_up=3.0,
            callback_key="1",
            max_wait=240.0,
            callback_retry=5.0,
        ),
        QueueSpec(
            "support",
            strategy="longest_idle",
            ring_timeout=6.0,
            wrap_up=0.0,
            exit_key="0",
            exit_to="queue",
            exit_target="sales",
            skills={"support": 1},
        ),
        QueueSpec(
            "vip",
            strategy="round_robin",
            ring_timeout=5.0,
            wrap_up=2.0,
            priority=5,
            overflow="queue",
            overflow_target="sales",
            max_wait=30.0,
        ),
    ]
    agents = {f"10{i:02d}": f"8{i:02d}" for i in range(8)}
    ctl, acd = office(queues, agents, max_no_answer=4, seed=5)
    for i, login in enumerate(agents):
        acd.book.agents[login].skills = {"support": 1 + i % 3} if i % 2 else {}
    reasons = ["break", "lunch", "meeting", "training"]
    placed = 0
    steps = 0

    def check(what: str) -> None:
        problems = acd.check()
        assert not problems, f"step {steps} after {what}: {problems}"

    while placed < CALLS or ctl.calls or acd.entries:
        steps += 1
        roll = rng.random()
        live = [c for c in ctl.calls.values() if c.direction == "in"]
        if placed < CALLS and roll < 0.22:
            placed += 1
            queue = rng.choice(["sales", "sales", "support", "vip"])
            ctl.arrive(queue, f"139{placed:08d}", priority=rng.choice([0, 0, 0, 3]))
            what = "arrival"
        elif roll < 0.40:
            ringing = [x for x in ctl.exts.values() if x.state is LineState.RINGING]
            if ringing:
                ctl.lift(rng.choice(ringing).id)
            what = "lift"
        elif roll < 0.52 and live:
            ctl.caller_hangs_up(rng.choice(live))  # at any state: waiting, ringing, talking, held
            what = "caller hang-up"
        elif roll < 0.62:
            talking = [
                x for x in ctl.exts.values() if x.state in (LineState.CONNECTED, LineState.WAIT_HANGUP)
            ]
            if talking:
                ctl.put_down(rng.choice(talking).id)
            what = "agent hang-up"
        elif roll < 0.68 and live:
            call = rng.choice(live)
            if ctl.pending_play.get(call.uniqueid):
                ctl.play_finished(call)
            else:
                ctl.press(call, rng.choice("0123#"))
            what = "play/keys"
        elif roll < 0.74:
            login = rng.choice(list(agents))
            action = rng.choice(["ready", "ready", "not_ready", "logged_out", "login", "wrapup"])
            try:
                if action == "login":
                    acd.login(login, extension=agents[login], agent_no=login)
                elif action == "wrapup":
                    acd.wrapup_done(login)
                else:
                    acd.set_state(login, action, rng.choice(reasons))
            except AcdError:
                pass
            what = f"agent {action}"
        elif roll < 0.80 and (talking := [c for c in live if getattr(c.app, "ext", None)]):
            call = rng.choice(talking)
            app = call.app
            what = "control"
            if not app.done:
                if app.consult and app.consult["answered"]:
                    action = rng.choice(["complete", "complete", "cancel", "conf"])
                else:
                    action = rng.choice(["hold", "retrieve", "blind", "consult", "consult", "cancel"])
                try:
                    if action == "hold":
                        acd.hold(app, call)
                    elif action == "retrieve":
                        acd.hold_off(app, call)
                    elif action == "blind":
                        acd.transfer(app, call, rng.choice(["support", "1003", "805", "999"]), "blind")
                    elif action == "consult":
                        free = [a.id for a in acd.book.available()] or list(agents)
                        acd.transfer(app, call, rng.choice(free), "consult")
                    elif action == "complete":
                        acd.transfer_complete(app, call)
                    elif action == "cancel":
                        acd.transfer_cancel(app, call)
                    else:
                        acd.conference(app, call)
                except AcdError:
                    pass
                what = f"control {action}"
        else:
            for cb in [
                c for c in ctl.calls.values() if c.direction == "out" and c.trunk and c.answer is None
            ]:
                if rng.random() < 0.5:
                    cb.answer = ctl.now  # the customer picks up the callback
                elif rng.random() < 0.2:
                    ctl.finish(cb)  # busy / no answer
            ctl.step(rng.uniform(0.2, 4.0))
            what = "time"
        check(what)
        if placed >= CALLS and steps % 50 == 0:
            # the end of the day: everyone ready, every remaining party hangs up
            for login, ext in agents.items():
                try:
                    if acd.book.agents[login].state is A.LOGGED_OUT:
                        acd.login(login, extension=ext, agent_no=login)
                    acd.set_state(login, "ready")
                except AcdError:
                    pass
        assert steps < 400_000, "the simulation does not drain"

    for ext in list(ctl.exts):
        ctl.put_down(ext)
    ctl.step(10.0)
    ctl.step(10.0)
    check("drain")
    assert not ctl.calls and not acd.entries and not acd.apps and not acd.callbacks
    for agent in acd.book.agents.values():
        assert agent.state in IDLE_STATES - {A.WRAP_UP}, (agent.id, agent.state)
        assert agent.call is None
    assert acd.book.problems == []
    assert all(x.state is LineState.IDLE for x in ctl.exts.values())
    journal = {r[3] for r in ctl.rows}
    assert {"ENTERQUEUE", "CONNECT", "ABANDON", "RINGNOANSWER", "COMPLETEAGENT", "COMPLETECALLER"} <= journal
    assert {"BLINDTRANSFER", "ATTENDEDTRANSFER", "EXITWITHKEY", "EXITWITHTIMEOUT", "PAUSE"} <= journal
    # every caller who entered left the queue exactly one way
    enters = sum(r[3] == "ENTERQUEUE" for r in ctl.rows)
    assert enters >= CALLS
