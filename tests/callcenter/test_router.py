"""Routing rules: opening hours, holidays, make-up workdays, overrides, dial rewriting, calling hours."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ccd.telephony.router import (
    DialRefused,
    InboundRule,
    OutboundRule,
    Rewrite,
    Router,
    Schedule,
    parse_days,
    parse_hours,
    parse_tz,
)

CN = parse_tz("Asia/Shanghai")


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CN).timestamp()


def office() -> Schedule:
    return Schedule.from_specs(
        "office",
        ["mon-fri 09:00-18:00", "sat 09:00-12:00"],
        holidays=["2026-10-01..2026-10-07"],
        workdays=["2026-10-10"],
        tz=CN,
    )


@pytest.mark.parametrize(
    ("when", "state"),
    [
        ("2026-01-05 08:59", "closed"),  # Monday before opening
        ("2026-01-05 09:00", "open"),
        ("2026-01-05 17:59", "open"),
        ("2026-01-05 18:00", "closed"),
        ("2026-01-10 11:00", "open"),  # Saturday morning
        ("2026-01-10 12:30", "closed"),
        ("2026-01-11 10:00", "closed"),  # Sunday
        ("2026-10-02 10:00", "holiday"),  # National Day week
        ("2026-10-10 15:00", "open"),  # a Saturday worked in exchange: Monday's hours
    ],
)
def test_schedule_states(when: str, state: str) -> None:
    assert office().state(at(when)) == state


def test_override_wins_until_it_lapses() -> None:
    sched = office()
    sched.override, sched.override_until = "closed", at("2026-01-05 12:00")
    assert sched.state(at("2026-01-05 10:00")) == "closed"
    assert sched.state(at("2026-01-05 13:00")) == "open"


@pytest.mark.parametrize(
    "bad", ["mon-fri 9-18", "mon-fry 09:00-18:00", "mon 18:00-09:00", "daily 00:00-25:00"]
)
def test_bad_hours_are_explained(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(bad)


def test_days_and_zones() -> None:
    assert parse_days("2026-10-01..2026-10-03") == (dt.date(2026, 10, 1), dt.date(2026, 10, 3))
    with pytest.raises(ValueError):
        parse_days("2026-10-07..2026-10-01")
    assert parse_tz("+08:00").utcoffset(None) == dt.timedelta(hours=8)
    with pytest.raises(ValueError):
        parse_tz("Mars/Base")


def router() -> Router:
    r = Router(
        [InboundRule("day", ("1",), ivr="main"), InboundRule("night", ("1",), voicemail="801")],
        [OutboundRule("out", ("*",), ("2",), prefix="9")],
    )
    r.configure(
        [office()],
        inbound_gates={"day": ["office"]},
        outbound_gates={"out": ["office"]},
        rewrites=[Rewrite(re.compile(r"^\+86"), "0"), Rewrite(re.compile(r"^0?(1[3-9]\d{9})$"), r"\1")],
    )
    return r


def test_closed_falls_through_to_the_next_rule() -> None:
    r = router()
    assert r.inbound_rule("1", at("2026-01-05 10:00")).name == "day"
    assert r.inbound_rule("1", at("2026-01-05 20:00")).name == "night"
    r.set_override("office", "closed")
    assert r.inbound_rule("1", at("2026-01-05 10:00")).name == "night"


def test_dial_prefix_rewrite_and_calling_hours() -> None:
    r = router()
    assert r.dial_number("801", "9+862161234567", at("2026-01-05 10:00")) == "02161234567"
    assert r.dial_number("801", "9013800138000", at("2026-01-05 10:00")) == "13800138000"
    with pytest.raises(DialRefused, match="dial 9"):
        r.dial_number("801", "13800138000", at("2026-01-05 10:00"))
    with pytest.raises(DialRefused, match="calling hours"):
        r.dial_number("801", "913800138000", at("2026-01-05 21:00"))
    r.wall = lambda: at("2026-01-05 21:00")
    assert r.strip_prefix("801", "913800138000") is None  # what the engine sees: congestion


def test_reconfigure_keeps_a_forced_override() -> None:
    r = router()
    r.set_override("office", "closed")
    r.configure([office()], inbound_gates={"day": ["office"]})
    assert r.schedules["office"].override == "closed"
