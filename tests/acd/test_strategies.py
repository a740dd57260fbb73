"""The strategy table and the documented tie-break (skill tier, tried tier, metric, agent id)."""

from __future__ import annotations

import random

import pytest

from ccd.telephony.acd import STRATEGIES, Agent, RankContext, rank


def agents() -> list[Agent]:
    a = Agent("a", idle_since=50.0, talk_today=300.0, skills={"sales": 1})
    b = Agent("b", idle_since=10.0, talk_today=100.0, skills={"sales": 3})
    c = Agent("c", idle_since=30.0, talk_today=200.0, skills={"sales": 1, "en": 2})
    return [c, a, b]  # deliberately not in id order


def ctx(last: int = -1, calls: dict[str, int] | None = None, seed: int = 7) -> RankContext:
    return RankContext(100.0, ["a", "b", "c"], last, calls or {"a": 5, "b": 2, "c": 9}, random.Random(seed))


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("ring_all", ["a", "b", "c"]),  # all at once; listed by id
        ("longest_idle", ["b", "c", "a"]),  # b idle since t=10
        ("round_robin", ["a", "b", "c"]),  # nobody served yet: from the top
        ("fewest_calls", ["b", "a", "c"]),
        ("least_talk_time", ["b", "c", "a"]),
        ("linear", ["a", "b", "c"]),
    ],
)
def test_each_strategy_orders_agents_by_its_metric(strategy: str, expected: list[str]) -> None:
    assert [x.id for x in rank(strategy, agents(), ctx(), skill_first=False)] == expected


def test_round_robin_continues_after_the_agent_served_last() -> None:
    order = [x.id for x in rank("round_robin", agents(), ctx(last=0), skill_first=False)]
    assert order == ["b", "c", "a"]
    order = [x.id for x in rank("round_robin", agents(), ctx(last=2), skill_first=False)]
    assert order == ["a", "b", "c"]


def test_random_is_reproducible_with_a_seed_and_uses_everyone() -> None:
    first = [x.id for x in rank("random", agents(), ctx(seed=3), skill_first=False)]
    again = [x.id for x in rank("random", agents(), ctx(seed=3), skill_first=False)]
    assert first == again and sorted(first) == ["a", "b", "c"]
    seen = {tuple(x.id for x in rank("random", agents(), ctx(seed=s), skill_first=False)) for s in range(30)}
    assert len(seen) > 2


def test_every_strategy_in_the_table_is_tested() -> None:
    assert set(STRATEGIES) == {
        "ring_all",
        "longest_idle",
        "round_robin",
        "fewest_calls",
        "least_talk_time",
        "linear",
        "random",
    }


def test_higher_skill_rings_before_the_strategy_decides() -> None:
    order = [x.id for x in rank("longest_idle", agents(), ctx(), required={"sales": 1})]
    assert order[0] == "b"  # sales 3 beats longer idle agents with sales 1
    assert order[1:] == ["c", "a"]  # equal skill: longest idle first


def test_agents_without_a_required_skill_are_not_offered() -> None:
    order = [x.id for x in rank("linear", agents(), ctx(), required={"en": 1})]
    assert order == ["c"]
    assert rank("linear", agents(), ctx(), required={"sales": 2}) == [agents()[2]] or [
        x.id for x in rank("linear", agents(), ctx(), required={"sales": 2})
    ] == ["b"]


def test_equal_metrics_are_broken_by_agent_id_not_by_input_order() -> None:
    twins = [Agent("z", idle_since=5.0), Agent("m", idle_since=5.0), Agent("q", idle_since=5.0)]
    assert [x.id for x in rank("longest_idle", twins, ctx())] == ["m", "q", "z"]
    assert [x.id for x in rank("longest_idle", twins[::-1], ctx())] == ["m", "q", "z"]


def test_agents_already_tried_for_this_caller_go_last() -> None:
    order = [x.id for x in rank("linear", agents(), ctx(), skill_first=False, tried=["a"])]
    assert order == ["b", "c", "a"]
