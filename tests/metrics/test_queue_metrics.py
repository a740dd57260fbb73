"""Queue figures against the hand-computed scenario (tests/metrics/scenario.py)."""

from __future__ import annotations

import pytest

from ccd.metrics.definitions import Thresholds
from ccd.metrics.formulas import queue_figures
from ccd.metrics.journal import QueueCounts, Row, queue_counts, wrap_lookup
from tests.metrics.scenario import END, ROWS, T0, THRESHOLDS, r


def figures(rows=ROWS, th=THRESHOLDS, wrap=10.0, end=END):
    counts = queue_counts(rows, lambda q: th, end=end, wrap_for=wrap_lookup({"sales": wrap}, {}))
    return queue_figures(counts[("sales", None)], th)


def test_scenario_figures_match_the_hand_computation() -> None:
    f = figures()
    assert f["offered"] == 6
    assert f["answered"] == 3 and f["callback_answered"] == 1
    assert f["answered_within"] == 1
    assert f["service_level"] == 33.3
    assert f["abandoned"] == 2 and f["short_abandoned"] == 1 and f["abandoned_after"] == 1
    assert f["abandon_rate"] == 40.0
    assert f["asa"] == 22.5
    assert f["handled"] == 3 and f["transferred"] == 1
    assert f["att"] == 50.0 and f["acw"] == 8.3 and f["aht"] == 58.3
    assert f["callbacks"] == 1
    assert (f["T"], f["S"]) == (20.0, 5.0)


def test_short_abandons_neither_help_nor_hurt() -> None:
    many_short = [*ROWS] + [r(500 + i, f"s{i}", "sales", "NONE", "ABANDON", 1, 1, 4) for i in range(50)]
    f = figures(many_short)
    assert f["short_abandoned"] == 51
    assert f["service_level"] == 33.3 and f["abandon_rate"] == 40.0


def test_a_bigger_S_turns_an_abandon_into_a_short_one() -> None:
    f = figures(th=Thresholds(service_level=20.0, short_abandon=15.0))
    # c4 waited exactly 15 s: now short; c3 (30 s) is still abandoned after T
    assert f["short_abandoned"] == 2 and f["abandoned"] == 1
    assert f["abandon_rate"] == 25.0 and f["service_level"] == 33.3


def test_a_bigger_T_puts_c5_within_service_level() -> None:
    f = figures(th=Thresholds(service_level=35.0, short_abandon=5.0))
    # c5 waited 35 s (within), c3's 30 s abandon is no longer "after T"
    assert f["answered_within"] == 2 and f["abandoned_after"] == 0
    assert f["service_level"] == 100.0


def test_no_calls_is_no_figure_not_a_perfect_one() -> None:
    f = queue_figures(QueueCounts(), THRESHOLDS)
    assert f["service_level"] is None and f["abandon_rate"] is None and f["asa"] is None
    assert f["aht"] is None and f["sl_ok"] is None


def test_wrap_up_is_cut_by_the_end_of_the_period() -> None:
    end = T0 + 140  # 5 s after c5's transfer; c6 not yet connected
    f = figures([x for x in ROWS if x.ts < end], end=end)
    assert f["handled"] == 2
    # c1: 10 s of wrap-up; c5: 5 s so far
    assert f["acw"] == 7.5


def test_without_wrap_up_configured_aht_is_talk() -> None:
    f = figures(wrap=0.0)
    assert f["aht"] == f["att"] == 50.0


@pytest.mark.parametrize("event", ["BLINDTRANSFER", "ATTENDEDTRANSFER"])
def test_transfers_end_the_agents_handling_with_their_calltime(event: str) -> None:
    rows = [
        r(0, "x", "q", "NONE", "ENTERQUEUE", "", "1", 1),
        r(4, "x", "q", "Agent/7", "CONNECT", 4, "x-1", 1),
        r(94, "x", "q", "Agent/7", event, "BRIDGE" if event[0] == "A" else "805", "x", 4, 90, 1),
    ]
    th = Thresholds(service_level=20.0, short_abandon=5.0)
    c = queue_counts(rows, lambda q: th, end=T0 + 1000)[("q", None)]
    assert c.handled == 1 and c.transferred == 1 and c.talk == 90.0


def test_a_call_transferred_into_another_queue_counts_in_both() -> None:
    rows = [
        r(0, "x", "sales", "NONE", "ENTERQUEUE", "", "1", 1),
        r(5, "x", "sales", "Agent/7", "CONNECT", 5, "x-1", 1),
        r(65, "x", "sales", "Agent/7", "BLINDTRANSFER", "support", "queue", 5, 60, 1),
        r(65, "x", "support", "NONE", "ENTERQUEUE", "", "1", 1),
        r(95, "x", "support", "Agent/8", "CONNECT", 30, "x-2", 1),
        r(155, "x", "support", "Agent/8", "COMPLETECALLER", 30, 60, 1),
    ]
    th = Thresholds(service_level=20.0, short_abandon=5.0)
    counts = queue_counts(rows, lambda q: th, end=T0 + 1000)
    sales, support = counts[("sales", None)], counts[("support", None)]
    assert (sales.offered, sales.answered_within, sales.transferred) == (1, 1, 1)
    assert (support.offered, support.answered_within, support.handled) == (1, 0, 1)


def test_buckets_split_by_interval() -> None:
    th = THRESHOLDS
    counts = queue_counts(ROWS, lambda q: th, end=END, bucket=lambda ts: int((ts - T0) // 60))
    assert counts[("sales", 0)].offered == 6  # every ENTERQUEUE in the first minute
    assert counts[("sales", 5)].answered == 1  # c6's CONNECT at 300 s


def test_rows_with_agent_prefixes_and_NONE_are_normalised() -> None:
    rows = [Row(T0, "NONE", "NONE", "Agent/1", "PAUSE", ("x",))]
    assert queue_counts(rows, lambda q: THRESHOLDS, end=END) == {}
