"""The satisfaction survey: after the agent hangs up (or when the agent sends the caller
here), the caller hears the survey and presses 1–5 (sans-IO).

The score is stored with the call (`calls.survey_score`) and journaled as a ``SURVEY`` row
with the queue and agent, so reports can average it per agent and per queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccd.telephony.apps import CallApp, CallControl
from ccd.telephony.services import Request, Submit

if TYPE_CHECKING:
    from ccd.telephony.engine import Call

SCORES = "12345"


class SurveyApp(CallApp):
    kind = "survey"

    def __init__(self, queue: str | None, submit: Submit, *, timeout: float = 8.0, tries: int = 2) -> None:
        self.queue = queue
        self.submit = submit
        self.timeout = timeout
        self.tries_left = tries
        self.score: int | None = None
        self.waiting = False

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind, "queue": self.queue, "score": self.score}

    def start(self, ctl: CallControl, call: Call) -> None:
        ctl.answer(call)
        # the agent leaves: the survey is between the caller and ccd
        for line_id in sorted(call.lines - {call.trunk}):
            line = ctl.line(line_id)
            if line is not None and line.kind.value == "extension":
                ctl.disconnect(call, line_id)
        self._ask(ctl, call, [])

    def _ask(self, ctl: CallControl, call: Call, before: list[str]) -> None:
        self.waiting = True
        ctl.play_prompts(call, [*before, "survey_intro"], "ask")

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "ask" and self.waiting:
            ctl.set_timer(call, self.timeout, "survey")
        elif tag == "bye":
            ctl.hangup(call)

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        if not self.waiting:
            return
        ctl.cancel_timer(call, "survey")
        if digit in SCORES:
            self.waiting = False
            ctl.stop_play(call)
            self.score = int(digit)
            self._store(ctl, call)
            ctl.play_prompts(call, ["survey_thanks"], "bye")
            ctl.set_timer(call, 6.0, "bye")
            return
        self._again(ctl, call, ["invalid"])

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "bye":
            ctl.hangup(call)
        elif tag == "survey" and self.waiting:
            self._again(ctl, call, ["timeout"])

    def _again(self, ctl: CallControl, call: Call, before: list[str]) -> None:
        self.tries_left -= 1
        if self.tries_left <= 0:
            self.waiting = False
            ctl.play_prompts(call, ["goodbye"], "bye")
            ctl.set_timer(call, 6.0, "bye")
            return
        self._ask(ctl, call, before)

    def _store(self, ctl: CallControl, call: Call) -> None:
        queue = self.queue or call.queue or ""
        agent = call.agent or ""
        call.vars["survey_score"] = self.score
        ctl.journal(call, queue, agent, "SURVEY", self.score)
        self.submit(
            Request(
                "survey",
                {"uniqueid": call.uniqueid, "score": self.score, "queue": queue, "agent": agent},
                call.uniqueid,
            )
        )
        ctl.publish(
            "survey.score", {"call": call.uniqueid, "score": self.score, "queue": queue, "agent": agent}
        )
