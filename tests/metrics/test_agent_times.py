"""Agent time breakdown (logged in, ready, on call, wrap-up, not ready per reason) and 签入签出."""

from __future__ import annotations

from ccd.metrics.formulas import agent_figures
from ccd.metrics.journal import agent_times, initial_states, wrap_lookup
from tests.metrics.scenario import BEFORE, DAY, END, ROWS, T0, r


def times():
    return agent_times(
        ROWS, DAY, END, initial=initial_states(BEFORE), wrap_for=wrap_lookup({"sales": 10.0}, {})
    )


def test_agent_1001_breakdown_by_hand() -> None:
    a = times()["1001"]
    # ready -60..10, 80..300, 935..1000; on call 10..70, 300..330; wrap 70..80, 330..335; lunch 335..935
    assert a.ready == 70 + 220 + 65
    assert a.on_call == 90
    assert a.wrap_up == 15
    assert a.not_ready == {"lunch": 600}
    assert a.logged_in == 1060
    assert a.sessions == [(T0 - 60, T0 + 1000)]
    f = agent_figures(a)
    assert f["handled"] == 2 and f["answered"] == 2
    assert f["aht"] == 52.5  # (90 talk + 15 wrap) / 2
    assert f["occupancy"] == 22.8  # 105 / (105 + 355)


def test_agent_signed_in_yesterday_carries_state_over_midnight() -> None:
    a = times()["1002"]
    # in a meeting from midnight to 09:00, then ready except for the call and its wrap-up
    assert a.not_ready == {"meeting": 9 * 3600}
    assert a.on_call == 60 and a.wrap_up == 10
    assert a.ready == 75 + (2000 - 145)
    assert a.sessions == [(DAY, None)]  # still signed in
    assert agent_figures(a)["last_logout"] is None


def test_wrap_up_shown_as_wrap_up_not_ready() -> None:
    rows = [
        r(0, "NONE", "NONE", "Agent/5", "AGENTLOGIN", "Local/805"),
        r(10, "x", "q", "Agent/5", "CONNECT", 3, "x", 1),
        r(40, "x", "q", "Agent/5", "COMPLETECALLER", 3, 30, 1),
    ]
    a = agent_times(rows, T0, T0 + 100, wrap_for=wrap_lookup({"q": 20.0}, {"5": 45.0}))["5"]
    # the agent's own 45 s wrap-up wins over the queue's 20 s
    assert (a.ready, a.on_call, a.wrap_up) == (10 + 15, 30, 45)


def test_logged_out_time_is_not_counted() -> None:
    rows = [
        r(0, "NONE", "NONE", "Agent/5", "AGENTLOGIN", "Local/805"),
        r(100, "NONE", "NONE", "Agent/5", "AGENTLOGOFF", "Local/805", ""),
        r(500, "NONE", "NONE", "Agent/5", "AGENTLOGIN", "Local/805"),
    ]
    a = agent_times(rows, T0, T0 + 600)["5"]
    assert a.logged_in == 200 and a.ready == 200
    assert a.sessions == [(T0, T0 + 100), (T0 + 500, None)]
