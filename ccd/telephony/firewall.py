"""The call firewall: one list of numbers and patterns with what to do about them (sans-IO).

It runs as an engine screener, when the caller ID is known and *before any phone rings*
(FEATURES.md pain point 10: "blocking still rings the office"). An analog line cannot be
refused without answering, so `reject` does the next best thing: nobody's phone rings and
the line is left to ring out; `message` answers, says so and hangs up; `busy` answers with
busy tone; `voicemail` sends the caller to a mailbox; `screen` asks robots to prove they are
human ("press # to talk to us", callattendant#6). `allow` entries (the whitelist) win over
every block, and `vip` entries raise the caller's queue priority (``call.vars["priority"]``).

Entry kinds: `number` (exact, compared on digits), `prefix`, `regex` (on the number),
`withheld` (caller ID marked private) and `out_of_area` (unavailable). Every screened
attempt is reported to `on_hit` so it is logged and counted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ccd.telephony.apps import CallApp, CallControl

if TYPE_CHECKING:
    from ccd.telephony.engine import Call
    from ccd.telephony.line import Line
    from ccd.telephony.router import Router

log = logging.getLogger(__name__)

BLOCKING = ("reject", "message", "busy", "voicemail", "screen")
VIP_PRIORITY = 10


@dataclass(frozen=True, slots=True)
class Entry:
    id: int | None
    kind: str  # number | prefix | regex | withheld | out_of_area
    value: str = ""
    action: str = "reject"
    target: str | None = None

    def matches(self, number: str, absent: str | None) -> bool:
        digits = re.sub(r"[^0-9+]", "", number)
        if self.kind == "withheld":
            return absent == "withheld"
        if self.kind == "out_of_area":
            return absent == "unavailable"
        if not digits:
            return False
        if self.kind == "number":
            return digits.lstrip("+") == self.value.lstrip("+")
        if self.kind == "prefix":
            return digits.startswith(self.value)
        if self.kind == "regex":
            try:
                return re.search(self.value, digits) is not None
            except re.error:
                return False
        return False


_ORDER = {"number": 0, "prefix": 1, "regex": 2, "withheld": 3, "out_of_area": 3}


class CallFirewall:
    """`screen(call)` is the engine screener; `entries` can be replaced at any time."""

    def __init__(
        self, entries: Iterable[Entry] = (), on_hit: Callable[[Entry, Call], None] | None = None
    ) -> None:
        self.entries: list[Entry] = []
        self.on_hit = on_hit
        self.counters: dict[str, int] = {}
        self.set_entries(entries)

    def set_entries(self, entries: Iterable[Entry]) -> None:
        # the whitelist first, then the most specific entry: exact, longest prefix, regex, kinds
        self.entries = sorted(
            entries,
            key=lambda e: (e.action not in ("allow", "vip"), _ORDER.get(e.kind, 9), -len(e.value)),
        )

    def match(self, number: str, absent: str | None) -> Entry | None:
        return next((e for e in self.entries if e.matches(number, absent)), None)

    def screen(self, call: Call) -> tuple[str, str | None] | None:
        absent = (
            call.caller_name if not call.src and call.caller_name in ("withheld", "unavailable") else None
        )
        entry = self.match(call.src or "", absent)
        if entry is None or entry.action == "allow":
            return None
        if entry.action == "vip":
            try:
                call.vars["priority"] = int(entry.target) if entry.target else VIP_PRIORITY
            except ValueError:
                call.vars["priority"] = VIP_PRIORITY
            call.vars["vip"] = True
            return None
        self.counters[entry.action] = self.counters.get(entry.action, 0) + 1
        call.vars["firewall"] = {"entry": entry.id, "action": entry.action}
        log.info("firewall: call %s from %r: %s (entry %s)", call.uniqueid, call.src, entry.action, entry.id)
        if self.on_hit is not None:
            self.on_hit(entry, call)
        if entry.action == "voicemail":
            return "voicemail", entry.target
        return "firewall", entry.action


class FirewallApp(CallApp):
    """What a screened caller gets: nothing (reject), a message, busy tone, or screening."""

    kind = "firewall"
    SCREEN_TIMEOUT = 8.0
    SCREEN_TRIES = 2

    def __init__(self, action: str, router: Router | None = None, busy: np.ndarray | None = None) -> None:
        self.action = action
        self.router = router
        self.busy = busy
        self.tries = 0
        self.passed = False
        self.ringing: list[str] = []

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind, "action": self.action, "passed": self.passed}

    def start(self, ctl: CallControl, call: Call) -> None:
        if self.action == "reject":
            return  # no phone rings; the line rings out and the call ends NO ANSWER
        ctl.answer(call)
        if self.action == "message":
            ctl.play_prompts(call, ["blocked"], "bye")
        elif self.action == "busy":
            tone = self.busy if self.busy is not None else np.zeros(8000, np.int16)
            ctl.play_loop(call, tone)
            ctl.set_timer(call, 6.0, "bye")
        elif self.action == "screen":
            self._ask(ctl, call)
        else:
            ctl.hangup(call)

    def _ask(self, ctl: CallControl, call: Call) -> None:
        ctl.play_prompts(call, ["press_hash_to_talk"], "ask")

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "bye":
            ctl.hangup(call)
        elif tag == "ask" and not self.passed:
            ctl.set_timer(call, self.SCREEN_TIMEOUT, "screen")

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "bye":
            ctl.hangup(call)
        elif tag == "screen" and not self.passed:
            self.tries += 1
            if self.tries >= self.SCREEN_TRIES:
                ctl.play_prompts(call, ["goodbye"], "bye")
            else:
                self._ask(ctl, call)

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        if self.action != "screen" or self.passed or digit != "#":
            return
        self.passed = True
        ctl.cancel_timer(call, "screen")
        call.vars.setdefault("firewall", {})["passed"] = True
        continue_inbound(ctl, call, self.router, self)

    def on_answered(self, ctl: CallControl, call: Call, line: Line) -> None:
        for other in self.ringing:
            if other != line.id:
                ctl.stop_ring(call, other)
        self.ringing = []
        ctl.connect(call, line.id)

    def on_ring_timeout(self, ctl: CallControl, call: Call, line: Line) -> None:
        if line.id in self.ringing:
            self.ringing.remove(line.id)
        if not self.ringing and call.offered == set():
            ctl.hangup(call)


def continue_inbound(ctl: CallControl, call: Call, router: Router | None, app: FirewallApp) -> None:
    """Carry on as if the caller had not been screened: the inbound rule's destination."""
    rule = router.inbound_rule(call.trunk or "") if router is not None else None
    if rule is None:
        ctl.hangup(call)
        return
    for kind in ("ivr", "queue", "voicemail"):
        target = getattr(rule, kind, None)
        if target:
            ctl.route(call, kind, target)
            return
    if rule.hangup:
        ctl.hangup(call)
        return
    ctl.play_prompts(call, ["transfer_wait"], "wait")
    app.ringing = [ext for ext in rule.ring if ctl.ring(call, ext)]
    if not app.ringing:
        ctl.hangup(call, "BUSY")
