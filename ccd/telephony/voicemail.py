"""Voicemail: leaving a message, and listening to one's mailbox by phone (sans-IO).

`VoicemailApp` ("voicemail", target = mailbox): greeting, beep, then the caller's audio is
captured until `#`, a stretch of silence, the maximum length, or the caller hanging up (a
message is kept in every case if it has a second of sound). The audio comes from the
daemon's tap into a `Capture` the app owns; saving it is a `vm_save` request, after which
the runtime publishes ``voicemail.new`` to agent and supervisor clients.

`MailboxApp` ("mailbox"): the caller enters a mailbox number and PIN, hears how many
messages there are, and works them with the keys the prompt names: 1 play, 2 next,
3 delete, 4 save.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ccd.telephony import say
from ccd.telephony.apps import CallApp, CallControl
from ccd.telephony.services import Request, Result, Submit

if TYPE_CHECKING:
    from ccd.telephony.engine import Call

log = logging.getLogger(__name__)

FRAME = 160
RATE = 8000
SILENCE_RMS = 150.0  # about -45 dBm0: line noise, not a voice
MIN_MESSAGE = 1.0


@dataclass
class Mailbox:
    id: str
    pin: str = ""
    owner: str = ""
    greeting: str = "voicemail_greeting"
    max_seconds: float = 120.0
    silence_seconds: float = 5.0


@dataclass
class Capture:
    """Audio of one line collected frame by frame (fed by the daemon's tap)."""

    row: int
    frames: list[np.ndarray] = field(default_factory=list)
    silent_frames: int = 0  # trailing
    voiced: int = 0

    def feed(self, frame: np.ndarray) -> None:
        self.frames.append(np.array(frame, dtype=np.int16, copy=True))
        rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64))))) if frame.size else 0.0
        if rms < SILENCE_RMS:
            self.silent_frames += 1
        else:
            self.silent_frames = 0
            self.voiced += 1

    @property
    def seconds(self) -> float:
        return len(self.frames) * FRAME / RATE

    @property
    def trailing_silence(self) -> float:
        return self.silent_frames * FRAME / RATE

    def audio(self, trim_silence: bool = True) -> np.ndarray:
        frames = self.frames[: len(self.frames) - self.silent_frames] if trim_silence else self.frames
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)


class VoicemailApp(CallApp):
    """Leave a message in `mailbox`. `captures` is the runtime's row -> Capture table."""

    kind = "voicemail"

    def __init__(self, mailbox: Mailbox, submit: Submit, captures: dict[int, Capture]) -> None:
        self.box = mailbox
        self.submit = submit
        self.captures = captures
        self.capture: Capture | None = None
        self.state = "greeting"

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind, "mailbox": self.box.id, "state": self.state}

    def start(self, ctl: CallControl, call: Call) -> None:
        ctl.answer(call)
        call.vars["voicemail"] = self.box.id
        ctl.play_prompts(call, [self.box.greeting, "beep"], "greeting")

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "greeting" and self.state == "greeting":
            self._record(ctl, call)
        elif tag == "bye":
            ctl.hangup(call)

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        if digit == "#" and self.state == "greeting":
            ctl.stop_play(call)  # skip the greeting
            self._record(ctl, call)
        elif digit == "#" and self.state == "recording":
            self._finish(ctl, call, "hash", goodbye=True)

    def _record(self, ctl: CallControl, call: Call) -> None:
        line = ctl.line(call.trunk or call.channel)
        if line is None:
            ctl.hangup(call)
            return
        self.state = "recording"
        self.capture = Capture(line.row)
        self.captures[line.row] = self.capture
        ctl.set_timer(call, 0.5, "vm")

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "bye":
            ctl.hangup(call)
            return
        if tag != "vm" or self.state != "recording" or self.capture is None:
            return
        cap = self.capture
        if cap.seconds >= self.box.max_seconds:
            self._finish(ctl, call, "max", goodbye=True)
        elif cap.trailing_silence >= self.box.silence_seconds and cap.voiced:
            self._finish(ctl, call, "silence", goodbye=True)
        elif cap.trailing_silence >= self.box.silence_seconds * 2:
            self._finish(ctl, call, "silence", goodbye=True)  # nobody spoke at all
        else:
            ctl.set_timer(call, 0.5, "vm")

    def on_caller_gone(self, ctl: CallControl, call: Call) -> None:
        if self.state == "recording":
            self._finish(ctl, call, "hangup", goodbye=False)

    def stop(self, ctl: CallControl, call: Call) -> None:
        if self.state == "recording":
            self._finish(ctl, call, "stopped", goodbye=False)

    def _finish(self, ctl: CallControl, call: Call, why: str, *, goodbye: bool) -> None:
        cap = self.capture
        self.state = "done"
        if cap is not None:
            self.captures.pop(cap.row, None)
            audio = cap.audio()
            if audio.size >= MIN_MESSAGE * RATE and cap.voiced:
                self.submit(
                    Request(
                        "vm_save",
                        {
                            "mailbox": self.box.id,
                            "owner": self.box.owner,
                            "audio": audio,
                            "caller": call.src or None,
                            "caller_name": call.caller_name,
                            "uniqueid": call.uniqueid,
                            "why": why,
                        },
                        call.uniqueid,
                    )
                )
            else:
                log.info("voicemail %s: nothing said (%s), no message kept", self.box.id, why)
        if goodbye:
            ctl.play_prompts(call, ["goodbye"], "bye")
            ctl.set_timer(call, 6.0, "bye")


class MailboxApp(CallApp):
    """Listen to a mailbox by phone: mailbox number, PIN, then 1 play 2 next 3 delete 4 save."""

    kind = "mailbox"
    DIGIT_TIMEOUT = 6.0
    MAX_TRIES = 3

    def __init__(self, submit: Submit, mailbox: str | None = None) -> None:
        self.submit = submit
        self.mailbox = mailbox
        self.pin = ""
        self.state = "mailbox" if mailbox is None else "pin"
        self.buffer = ""
        self.tries = 0
        self.messages: list[dict[str, Any]] = []
        self.index = 0
        self.gen = 0

    def snapshot(self) -> dict[str, Any]:
        return {"app": self.kind, "mailbox": self.mailbox, "state": self.state}

    def start(self, ctl: CallControl, call: Call) -> None:
        ctl.answer(call)
        self._prompt_entry(ctl, call, [])

    def _prompt_entry(self, ctl: CallControl, call: Call, before: list[str]) -> None:
        self.buffer = ""
        names = ["voicemail_enter_mailbox"] if self.state == "mailbox" else ["voicemail_enter_pin"]
        ctl.play_prompts(call, [*before, *names], "entry")
        ctl.set_timer(call, 30.0, "entry")

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "entry":
            ctl.set_timer(call, self.DIGIT_TIMEOUT * 2, "entry")
        elif tag == "bye":
            ctl.hangup(call)
        elif tag == f"msg{self.gen}" and self.state == "menu":
            ctl.set_timer(call, 20.0, "menu")

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        if tag == "bye":
            ctl.hangup(call)
        elif tag == "entry" and self.state in ("mailbox", "pin"):
            if self.buffer:
                self._entered(ctl, call)
            else:
                self._fail(ctl, call, ["timeout"])
        elif tag == "menu" and self.state == "menu":
            self._bye(ctl, call)

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        if self.state in ("mailbox", "pin"):
            ctl.stop_play(call)
            if digit == "#":
                self._entered(ctl, call)
            else:
                self.buffer += digit
                ctl.set_timer(call, self.DIGIT_TIMEOUT, "entry")
        elif self.state == "menu":
            ctl.cancel_timer(call, "menu")
            self._menu(ctl, call, digit)

    def _entered(self, ctl: CallControl, call: Call) -> None:
        ctl.cancel_timer(call, "entry")
        if self.state == "mailbox":
            self.mailbox, self.state = self.buffer, "pin"
            self._prompt_entry(ctl, call, [])
            return
        self.pin, self.state = self.buffer, "login"
        self.buffer = ""
        self.gen += 1
        gen = self.gen

        def reply(ctl2: CallControl, result: Result) -> None:
            if gen == self.gen and call.app is self and call.end is None:
                self.on_login(ctl2, call, result)

        self.submit(Request("vm_login", {"mailbox": self.mailbox, "pin": self.pin}, call.uniqueid, reply))

    def on_login(self, ctl: CallControl, call: Call, result: Result) -> None:
        if not result.ok or result.value is None:
            self.state = "mailbox"
            self._fail(ctl, call, ["voicemail_login_failed"])
            return
        self.messages = list(result.value)
        self.state, self.index = "menu", 0
        lang = call.lang if call.lang in ("zh", "en") else "zh"
        new = [m for m in self.messages if m.get("status") == "new"]
        if not self.messages:
            ctl.play_prompts(call, ["voicemail_no_messages", "goodbye"], "bye")
            return
        names = say.voicemail_count_prompts(len(new) or len(self.messages), lang)
        self.gen += 1
        ctl.play_prompts(call, [*names, "voicemail_menu"], f"msg{self.gen}")

    def _fail(self, ctl: CallControl, call: Call, before: list[str]) -> None:
        self.tries += 1
        if self.tries >= self.MAX_TRIES:
            self._bye(ctl, call, before)
            return
        if self.state == "login":
            self.state = "mailbox"
        self._prompt_entry(ctl, call, before)

    def _bye(self, ctl: CallControl, call: Call, before: list[str] | None = None) -> None:
        self.state = "done"
        ctl.play_prompts(call, [*(before or []), "goodbye"], "bye")
        ctl.set_timer(call, 8.0, "bye")

    def _menu(self, ctl: CallControl, call: Call, digit: str) -> None:
        if self.index >= len(self.messages):
            self._bye(ctl, call, ["voicemail_no_more"])
            return
        current = self.messages[self.index]
        self.gen += 1
        tag = f"msg{self.gen}"
        if digit == "1":
            ctl.stop_play(call)
            gen = self.gen

            def reply(ctl2: CallControl, result: Result) -> None:
                if gen == self.gen and call.app is self and call.end is None:
                    audio = (
                        result.value if result.ok and result.value is not None else np.zeros(1600, np.int16)
                    )
                    ctl2.play(call, np.concatenate([audio, np.zeros(4000, np.int16)]), tag)

            self.submit(Request("vm_audio", {"id": current["id"]}, call.uniqueid, reply))
            if current.get("status") == "new":
                self.submit(Request("vm_status", {"id": current["id"], "status": "saved"}, call.uniqueid))
                current["status"] = "saved"
        elif digit in ("2", "3", "4"):
            before: list[str] = []
            if digit == "3":
                self.submit(Request("vm_status", {"id": current["id"], "status": "deleted"}, call.uniqueid))
                before = ["voicemail_deleted"]
            elif digit == "4":
                self.submit(Request("vm_status", {"id": current["id"], "status": "saved"}, call.uniqueid))
                before = ["voicemail_saved"]
            self.index += 1
            if self.index >= len(self.messages):
                self._bye(ctl, call, [*before, "voicemail_no_more"])
                return
            ctl.play_prompts(call, [*before, "voicemail_menu"], tag)
        else:
            ctl.play_prompts(call, ["invalid", "voicemail_menu"], tag)
