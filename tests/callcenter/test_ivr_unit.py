"""The IVR flow engine and checker, and the firewall's matching, without a daemon."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ccd.telephony.engine import Call
from ccd.telephony.firewall import CallFirewall, Entry
from ccd.telephony.ivr import IvrApp, check_flow
from ccd.telephony.services import RequestLog, Result
from tests.callcenter.conftest import FLOW


class FakeCtl:
    """Records what the app asked for; `now`/`wall` are fixed."""

    now = 0.0

    def __init__(self) -> None:
        self.played: list[tuple[list[str], str | None]] = []
        self.timers: dict[str, float] = {}
        self.routed: list[tuple[str, str | None]] = []
        self.hung_up = False
        self.answered = False

    def wall(self) -> float:
        return dt.datetime(2026, 1, 5, 9, 30, 15, tzinfo=dt.UTC).timestamp()

    def answer(self, call: Call) -> None:
        self.answered = True

    def play_prompts(self, call: Call, names: Any, tag: str | None = None, *, replace: bool = True) -> None:
        self.played.append((list(names), tag))

    def stop_play(self, call: Call) -> None:
        pass

    def set_timer(self, call: Call, delay: float, tag: str) -> None:
        self.timers[tag] = delay

    def cancel_timer(self, call: Call, tag: str) -> None:
        self.timers.pop(tag, None)

    def route(self, call: Call, kind: str, target: str | None = None) -> None:
        self.routed.append((kind, target))

    def hangup(self, call: Call, disposition: str | None = None) -> None:
        self.hung_up = True

    def journal(self, *args: Any) -> None:
        pass

    def publish(self, *args: Any, **kw: Any) -> None:
        pass

    def line(self, line_id: str) -> None:
        return None


def start(flow_text: str = FLOW) -> tuple[IvrApp, FakeCtl, Call, RequestLog]:
    flow, problems = check_flow(flow_text, "t.toml")
    assert not problems and flow is not None
    log = RequestLog()
    app, ctl = IvrApp(flow, log), FakeCtl()
    call = Call("c1", "c1", "in", 0.0, 0.0, src="13800138000", dst="62345678", trunk="1")
    call.app = app
    app.start(ctl, call)
    return app, ctl, call, log


def finish_prompt(app: IvrApp, ctl: FakeCtl, call: Call) -> None:
    app.on_play_done(ctl, call, ctl.played[-1][1] or "")


def test_menu_walk_with_lookup_reply() -> None:
    app, ctl, call, log = start()
    assert ctl.answered and ctl.played[-1][0] == ["welcome"]
    finish_prompt(app, ctl, call)
    assert ctl.played[-1][0] == ["menu_main"]
    app.on_digit(ctl, call, "1")  # barge-in
    for d in "123#":
        app.on_digit(ctl, call, d)
    lookup = log.pop("lookup")
    assert lookup.args == {"query": "order_status", "args": {"number": "123", "ani": "13800138000"}}
    lookup.reply(ctl, Result({"order_status": "shipped"}))
    assert ctl.played[-1][0] == ["order_status_shipped"]
    assert call.vars["ivr_path"] == ["menu=1", "ask_order=123"]


def test_lookup_not_found_and_errors_take_their_branches() -> None:
    app, ctl, call, log = start()
    finish_prompt(app, ctl, call)
    app.on_digit(ctl, call, "1")
    app.on_digit(ctl, call, "9")
    app.on_timer(ctl, call, "ivr")  # digits then silence: accepted
    log.pop("lookup").reply(ctl, Result(None, "database is locked"))
    assert ctl.played[-1][0] == ["order_not_found"]
    assert call.vars["ivr_path"][-1] == "find!error"


def test_stale_lookup_reply_after_hangup_is_ignored() -> None:
    app, ctl, call, log = start()
    finish_prompt(app, ctl, call)
    app.on_digit(ctl, call, "1")
    app.on_digit(ctl, call, "#")  # min 1 digit: invalid, asked again
    assert ctl.played[-1][0] == ["invalid"]
    app.on_digit(ctl, call, "5")  # ignored while the invalid message plays
    finish_prompt(app, ctl, call)
    app.on_digit(ctl, call, "5")
    app.on_digit(ctl, call, "#")
    req = log.pop("lookup")
    app.on_caller_gone(ctl, call)  # USER STOP FLOW
    played = len(ctl.played)
    req.reply(ctl, Result({"order_status": "shipped"}))
    assert len(ctl.played) == played and not ctl.routed
    assert call.vars["ivr_path"][-1] == "hangup"
    assert log.pop("ivr_path").args["path"].endswith("hangup")


def test_macros_set_and_compare() -> None:
    flow = """
start = "s"
[nodes.s]
type = "set"
vars = { when = "${DATE}-${TIME}", who = "${ANI}", priority = "3" }
next = "c"
[nodes.c]
type = "compare"
left = "${who}"
op = "startswith"
right = "138"
then = "q"
else = "h"
[nodes.q]
type = "queue"
queue = "vip-${DNIS}"
[nodes.h]
type = "hangup"
"""
    _, ctl, call, _ = start(flow)
    assert call.vars["ivr_vars"]["when"] == "20260105-093015"
    assert call.vars["priority"] == 3
    assert ctl.routed == [("queue", "vip-62345678")]


def test_play_number_uses_the_say_rules() -> None:
    flow = """
start = "n"
[nodes.n]
type = "play_number"
value = "128.50"
as = "amount"
next = "h"
[nodes.h]
type = "hangup"
"""
    app, ctl, call, _ = start(flow)
    assert ctl.played[-1][0][-1] in ("jiao", "fen", "yuan")
    finish_prompt(app, ctl, call)
    assert ctl.routed == [("hangup", None)]


def test_checker_reports_every_problem_with_its_line() -> None:
    text = FLOW.replace('next = "find"', 'next = "fnd"').replace(
        'type = "hangup"', 'type = "hangup"\ncolour = "red"'
    )
    _, problems = check_flow(
        text, "f.toml", prompt_exists=lambda n: n != "goodbye", known={"extension": {"802"}}
    )
    messages = [f"{p.line}:{p.message}" for p in problems]
    joined = "\n".join(messages)
    assert "undefined node 'fnd'" in joined and "did you mean 'find'" in joined
    assert "unknown key 'colour'" in joined
    assert "prompt 'goodbye' is not in the voices" in joined
    assert "unknown extension '801'" in joined
    assert "cannot be reached" in joined  # 'find' and what follows it are orphaned now
    assert all(p.line for p in problems)


def test_firewall_whitelist_specificity_and_withheld() -> None:
    hits: list[str] = []
    fw = CallFirewall(
        [
            Entry(1, "prefix", "138", "reject"),
            Entry(2, "number", "13800138000", "allow"),
            Entry(3, "regex", r"^400\d+$", "message"),
            Entry(4, "withheld", "", "screen"),
            Entry(5, "prefix", "139", "vip", "8"),
        ],
        on_hit=lambda entry, call: hits.append(entry.action),
    )

    def call(src: str, name: str | None = None) -> Call:
        return Call("x", "x", "in", 0.0, 0.0, src=src, caller_name=name)

    assert fw.screen(call("13800138000")) is None  # whitelisted despite the prefix
    assert fw.screen(call("13812345678")) == ("firewall", "reject")
    assert fw.screen(call("4001234567")) == ("firewall", "message")
    assert fw.screen(call("", "withheld")) == ("firewall", "screen")
    vip = call("13912345678")
    assert fw.screen(vip) is None and vip.vars["priority"] == 8
    assert hits == ["reject", "message", "screen"]
    assert np.array_equal(np.array(sorted(fw.counters.values())), np.array([1, 1, 1]))
