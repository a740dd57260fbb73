"""The ACD writes WRAPUPEND when wrap-up ends (by its timer or early), and the figures count the
wrap-up the agent really took, not the configured one."""

from __future__ import annotations

from typing import Any

from ccd.metrics.definitions import Thresholds
from ccd.metrics.journal import Row, agent_times, queue_counts, wrap_lookup
from ccd.telephony.acd import AgentState
from ccd.telephony.acd_queue import QueueSpec
from tests.acd.fakes import FakeCtl, events, office


def timed(ctl: FakeCtl) -> list[Row]:
    """Record the ACD's journal rows with their time (the fake keeps none)."""
    out: list[Row] = []
    keep = ctl.journal

    def journal(call: Any, queue: str, agent: str, event: str, *data: Any) -> None:
        keep(call, queue, agent, event, *data)
        cid = call.uniqueid if call else None
        out.append(Row(ctl.now, cid, queue, agent, event, tuple(str(d) for d in data)))

    ctl.journal = journal  # type: ignore[method-assign]
    return out


def handled_call(ctl: FakeCtl) -> None:
    call = ctl.arrive("sales", "13900000001")
    ctl.step(2.0)
    ctl.lift("801")
    ctl.play_finished(call)
    ctl.step(30.0)
    ctl.caller_hangs_up(call)
    ctl.put_down("801")


def test_wrap_up_ended_early_is_journalled_and_counted_as_taken() -> None:
    ctl, acd = office([QueueSpec(name="sales", strategy="linear", wrap_up=60.0)], {"1001": "801"})
    js = timed(ctl)
    handled_call(ctl)
    ctl.step(12.0)
    acd.wrapup_done("1001")  # the agent finished the notes early
    assert acd.book.agents["1001"].state is AgentState.READY
    (end,) = events(ctl, "WRAPUPEND")
    assert end[2] == "Agent/1001" and end[1] == "sales" and end[4] == ("wrapup_done",)
    ctl.step(100.0)
    counts = queue_counts(js, lambda q: Thresholds(), end=ctl.now, wrap_for=wrap_lookup({"sales": 60.0}, {}))
    assert counts[("sales", None)].wrap == 12.0  # not the configured 60 s
    times = agent_times(js, js[0].ts, ctl.now, wrap_for=wrap_lookup({"sales": 60.0}, {}))
    assert times["1001"].wrap_up == 12.0


def test_wrap_up_ended_by_its_timer_is_journalled_too() -> None:
    ctl, acd = office([QueueSpec(name="sales", strategy="linear", wrap_up=20.0)], {"1001": "801"})
    js = timed(ctl)
    handled_call(ctl)
    for _ in range(25):
        ctl.step(1.0)
    assert acd.book.agents["1001"].state is AgentState.READY
    done = next(r for r in js if r.event == "COMPLETECALLER")
    wrapped = next(r for r in js if r.event == "WRAPUPEND").ts - done.ts
    assert 20.0 <= wrapped <= 21.0
    counts = queue_counts(js, lambda q: Thresholds(), end=ctl.now, wrap_for=wrap_lookup({"sales": 20.0}, {}))
    assert counts[("sales", None)].wrap == wrapped
