"""The `external` application: send an answered caller out on another trunk (an IVR exit
to a mobile on duty, a forward after hours). The caller hears "please hold" while a free
trunk is seized and dialled; the two lines are bridged once the digits are out, so the
caller hears the far end's ringback and answer themselves, as on a real PBX forward."""

from __future__ import annotations

from ccd.telephony.apps import CallApp, CallControl


class ExternalApp(CallApp):
    kind = "external"

    def __init__(self, number: str | None) -> None:
        if not number or not all(c in "0123456789*#" for c in number):
            raise ValueError(f"external destination needs a number to dial, not {number!r}")
        self.number = number

    def start(self, ctl: CallControl, call) -> None:  # type: ignore[no-untyped-def]
        ctl.answer(call)
        if ctl.dial_external(call, self.number):  # type: ignore[attr-defined]
            ctl.play_prompts(call, ["transfer_wait"])
        else:
            ctl.journal(call, call.queue or "NONE", "NONE", "EXTERNALFAILED", self.number, "no free trunk")
            ctl.play_prompts(call, ["all_busy", "goodbye"], tag="no_trunk")

    def on_play_done(self, ctl: CallControl, call, tag: str) -> None:  # type: ignore[no-untyped-def]
        if tag == "no_trunk":
            ctl.hangup(call, "CONGESTION")

    def snapshot(self) -> dict[str, object]:
        return {"app": self.kind, "number": self.number}
