"""`ccd.toml` sections of the call-center logic: IVR flows, schedules, dial rewriting,
recording, mailboxes, survey.

Kept apart from `ccd.config.schema` so the people working on the call center add their
sections without touching the spine's; `schema.Config` only gains one field line each.

    [[ivr]]                       # an IVR flow; inbound rules and flows refer to it by name
    name = "main"
    file = "ivr/main.toml"

    [[schedules]]                 # opening hours gating inbound and outbound rules
    name = "office"
    inbound = ["day"]             # these rules apply only while open; closed: the next rule
    outbound = ["out"]            # calling hours: outside them dialling out is refused
    hours = ["mon-fri 09:00-18:00", "sat 09:00-12:00"]
    holidays = ["2026-10-01..2026-10-07"]

    [[rewrites]]                  # outbound number rewriting, first match wins
    match = "^\\+86"
    replace = "0"

    [recording]
    mode = "all"                  # off | all | inbound | outbound | queues | on_demand

    [[mailboxes]]
    id = "sales"
    pin = "1234"
"""

# `setting()` is a dataclass field specifier (it returns `dataclasses.field`), which RUF009 cannot know.
# ruff: noqa: RUF009

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ccd.config.fields import setting

RECORDING_MODES = ("off", "all", "inbound", "outbound", "queues", "on_demand")
RECORDING_FORMATS = ("ima_adpcm", "alaw", "ulaw", "pcm16")
DISK_FULL_POLICIES = ("stop", "purge_oldest")
OVERRIDES = ("auto", "open", "closed")


def _hours_spec(value: str) -> str | None:
    from ccd.telephony.router import parse_hours

    try:
        parse_hours(value)
    except ValueError as exc:
        return str(exc)
    return None


def _day_spec(value: str) -> str | None:
    from ccd.telephony.router import parse_days

    try:
        parse_days(value)
    except ValueError as exc:
        return str(exc)
    return None


def _each(check: Callable[[str], str | None]) -> Callable[[tuple[str, ...]], str | None]:
    """A check of every element of a list (the framework checks a list as a whole)."""

    def run(values: tuple[str, ...]) -> str | None:
        return next((msg for msg in map(check, values) if msg), None)

    return run


def _regex(value: str) -> str | None:
    try:
        re.compile(value)
    except re.error as exc:
        return f"not a valid regular expression: {exc}"
    return None


def _timezone(value: str) -> str | None:
    if not value or re.fullmatch(r"[+-]\d{2}:?\d{2}", value):
        return None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
    except Exception:
        return f'unknown time zone "{value}" (use a name such as "Asia/Shanghai" or an offset "+08:00")'
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallCenterConfig:
    """[callcenter]: settings shared by the IVR, schedules, voicemail and survey."""

    timezone: str = setting(
        "Asia/Shanghai",
        check=_timezone,
        doc='time zone of opening hours and IVR DATE/TIME ("+08:00" works too)',
    )
    survey_timeout: float = setting(8.0, gt=0, doc="seconds the survey waits for a key, per try")


@dataclass(frozen=True, kw_only=True, slots=True)
class IvrFlowConfig:
    """[[ivr]]: an IVR flow defined in its own TOML file."""

    name: str = setting(ident="ivr", what="IVR flow", doc="unique; inbound rules name it with ivr = ...")
    file: Path = setting(doc="the flow's TOML file, relative to this file")


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleConfig:
    """[[schedules]]: opening hours, holidays and a forced override."""

    name: str = setting(ident="schedule", what="schedule", doc="unique")
    inbound: tuple[str, ...] = setting(
        (), ref="inbound_rule", what="inbound rule", doc="rules that apply only while open"
    )
    outbound: tuple[str, ...] = setting(
        (), ref="outbound_rule", what="outbound rule", doc="rules whose calls are refused while closed"
    )
    hours: tuple[str, ...] = setting(
        ("mon-fri 09:00-18:00",), check=_each(_hours_spec),
        doc='open periods: "mon-fri 09:00-18:00", "sat 09:00-12:00", "daily 00:00-24:00"',
    )  # fmt: skip
    holidays: tuple[str, ...] = setting(
        (), check=_each(_day_spec),
        doc='closed days: "2026-10-01" or a range "2026-10-01..2026-10-07"',
    )  # fmt: skip
    workdays: tuple[str, ...] = setting(
        (), check=_each(_day_spec),
        doc="weekend days that are working days (调休): open with Monday's hours",
    )  # fmt: skip
    override: str = setting("auto", choices=OVERRIDES, what="override", doc="force open or closed")


@dataclass(frozen=True, kw_only=True, slots=True)
class RewriteConfig:
    """[[rewrites]]: outbound number rewriting (regular expression, first match wins)."""

    match: str = setting(check=_regex, doc="regular expression on the dialled number (after the prefix)")
    replace: str = setting("", doc=r"replacement; \1 refers to a group")
    outbound: tuple[str, ...] = setting(
        ("*",), ref="outbound_rule", wildcard=True, what="outbound rule", doc='rules it applies to, or ["*"]'
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingConfig:
    """[recording]: which calls are recorded, how, and for how long they are kept."""

    mode: str = setting("off", choices=RECORDING_MODES, what="recording mode", doc="which calls are recorded")
    queues: tuple[str, ...] = setting((), doc='mode = "queues": the queues whose calls are recorded')
    stereo: bool = setting(False, doc="caller left, agent right (else both mixed to mono)")
    format: str = setting("ima_adpcm", choices=RECORDING_FORMATS, what="format", doc="WAV encoding")
    retention_days: int = setting(90, min=0, doc="days a recording is kept (0: forever)")
    queue_retention: dict[str, int] = setting(
        default_factory=dict, doc="queue name -> days, overriding retention_days"
    )
    warn_free_mb: int = setting(500, min=0, doc="warn when the disk has less free space than this")
    min_free_mb: int = setting(100, min=0, doc="below this: apply on_disk_full")
    on_disk_full: str = setting(
        "stop", choices=DISK_FULL_POLICIES, what="policy", doc="stop recording, or purge the oldest"
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class MailboxConfig:
    """[[mailboxes]]: a voicemail box (every extension has one without being listed)."""

    id: str = setting(ident="mailbox", what="mailbox", doc="mailbox number callers enter")
    pin: str = setting("", pattern=r"[0-9]*", pattern_doc="must be digits", doc="PIN to listen remotely")
    owner: str = setting("", doc="extension, agent or queue the box belongs to (notifications)")
    greeting: str = setting("voicemail_greeting", doc="prompt played before the beep")
    max_seconds: float = setting(120.0, gt=0, doc="longest message")
    silence_seconds: float = setting(5.0, gt=0, doc="this much silence ends the message")

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if not re.fullmatch(r"[0-9A-Za-z_]+", self.id):
            yield "id", "a mailbox id is letters, digits and _"
