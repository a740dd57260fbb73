"""The sections of `ccd.toml`, declared as frozen dataclasses.

Adding a section takes a few lines:

1. declare a frozen, keyword-only dataclass whose fields use `setting()` (type from the
   annotation; docs, allowed values, ranges, identifiers and references in the metadata);
2. add one field for it to `Config` (``queues: tuple[QueueConfig, ...] = setting((), doc=...)``
   for ``[[queues]]``, or a plain section type for ``[queues]``);
3. if other sections refer to it, give its name field ``ident="queue"`` and the referring
   fields ``ref="queue"``; rules that span sections go in a function decorated with
   `@cross_check`; rules about one entry go in its ``check_item()`` method.

A new driver kind is one options dataclass and one `register_driver_kind()` call.

Key paths in messages use 0-based indices: ``trunks[0]`` is the first ``[[trunks]]``.
"""

# `setting()` is a dataclass field specifier (it returns `dataclasses.field`), which RUF009 cannot know.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccd.config.fields import IDENT_GROUPS, Context, register_names, setting
from ccd.config.problems import did_you_mean
from ccd.config.sections_acd import AcdConfig, AgentConfig, QueueConfig
from ccd.config.sections_callcenter import (
    CallCenterConfig,
    IvrFlowConfig,
    MailboxConfig,
    RecordingConfig,
    RewriteConfig,
    ScheduleConfig,
)
from ccd.config.sections_lines import LineProfileConfig
from ccd.config.sections_metrics import MetricsConfig

log = logging.getLogger(__name__)

LOG_LEVELS = ("debug", "info", "warning", "error")
CID_MODES = ("fsk-bell202", "fsk-v23", "dtmf", "none")
LINE_CID_MODES = ("auto", *CID_MODES)
CID_FORMATS = ("mdmf", "sdmf")
HUNT_STRATEGIES = ("sequential", "round_robin", "random")
ROLES = ("agent", "supervisor", "admin")
FALLBACK_TONE_PLANS = ("cn", "us")

_DIGITS = r"[0-9]*"
_PHONE_NUMBER = r"\+?[0-9]*"
_DIAL_STRING = r"[0-9*#A-Da-d]*"


def _country(value: str) -> str | None:
    import phonenumbers  # lazy: only needed when a config is checked

    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    if value in regions:
        return None
    return f"unknown country '{value}'{did_you_mean(value, regions) or ' (use an ISO code such as CN)'}"


def _even_cadence(value: tuple[float, ...]) -> str | None:
    if len(value) % 2:
        return f"cadence needs on/off pairs (an even number of values), got {len(value)}"
    return None


def _hex_pair(value: str) -> str | None:
    try:
        int(value, 16)
    except ValueError:
        return f'must be a T.35 country code in hex such as "26" (China) or "B5" (USA), got "{value}"'
    return None if len(value) == 2 else f'must be two hex digits such as "26", got "{value}"'


def _gci(value: str) -> str | None:
    return None if value.lower() == "none" else _hex_pair(value)


def _vid_pid(value: str) -> str | None:
    parts = value.split(":")
    if len(parts) == 2 and all(len(p) == 4 for p in parts):
        try:
            [int(p, 16) for p in parts]
            return None
        except ValueError:
            pass
    return f'must be a USB id as "vid:pid" in hex, such as "1234:5678", got "{value}"'


def _range_pair(value: tuple[float, float]) -> str | None:
    low, high = value
    return (
        None if low <= high else f"the first value (minimum) must not exceed the second, got [{low}, {high}]"
    )


# -- [daemon] --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class DaemonConfig:
    """Where the daemon keeps its files, and local telephone conventions."""

    socket: Path = setting(Path("run/ccd.sock"), doc="Unix socket clients connect to (folder is made 0750)")
    group: str = setting("ccd", doc="group owning the socket (the user's own group if it does not exist)")
    database: Path = setting(Path("ccd.db"), doc="SQLite database file")
    recordings: Path = setting(Path("recordings"), doc="folder for call recordings")
    log_level: str = setting("info", choices=LOG_LEVELS, what="log level", doc="how much the daemon logs")
    tone_plan: str = setting(
        "cn",
        ref="tone_plan",
        what="tone plan",
        doc="call-progress tones: a built-in plan (cn, us) or a [tone_plans] name",
    )
    country: str = setting("CN", check=_country, doc="ISO country code for number normalisation")
    area_code: str = setting(
        "010",
        pattern=_DIGITS,
        pattern_doc="must be digits only",
        doc="local area code added to local numbers",
    )
    answer_timeout: float = setting(45.0, gt=0, doc="seconds an extension rings before the call is NO ANSWER")
    voices: Path | None = setting(None, doc="folder of voice prompts (default: the prompts shipped with ccd)")


# -- [tone_plans.NAME] -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ToneSpec:
    """One call-progress tone: its frequencies and on/off cadence in seconds (empty: continuous)."""

    freqs: tuple[float, ...] = setting(gt=0, doc="frequencies in Hz (1 to 3)")
    cadence: tuple[float, ...] = setting((), gt=0, check=_even_cadence, doc="on, off, ... in seconds")
    min_duration: float = setting(2.0, gt=0, doc="continuous tones: seconds of steady tone before it counts")
    match_segments: int = setting(0, min=0, doc="cadenced tones: on/off segments to match (0: a whole cycle)")

    def as_dict(self) -> dict[str, Any]:
        """The form `ccd.dsp.tones.plan_from_dict` takes for one tone."""
        return {
            "freqs": list(self.freqs),
            "cadence": list(self.cadence),
            "min_duration": self.min_duration,
            "match_segments": self.match_segments,
        }


# -- [[drivers]] and their per-kind options ---------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TrafficConfig:
    """Generated demo callers for a simulated driver."""

    rate: float = setting(30.0, min=0, doc="calls per hour")
    talk: tuple[float, float] = setting(
        (30.0, 180.0), min=0, check=_range_pair, doc="talk time range, seconds"
    )
    patience: tuple[float, float] = setting(
        (20.0, 90.0), min=0, check=_range_pair, doc="how long callers wait before hanging up, seconds"
    )
    keys: str = setting(
        "",
        pattern=r"[0-9*#A-Da-d]*(\|[0-9*#A-Da-d]*)*",
        pattern_doc="must be DTMF digits (0-9 * # A-D), alternatives separated by |",
        doc="keys callers press after answer; 'a|b|c' picks one at random per caller",
    )
    withheld: float = setting(0.05, min=0, max=1, doc="fraction of callers with caller ID withheld")


@dataclass(frozen=True, kw_only=True, slots=True)
class SimOptions:
    """The simulated office: lines that sound like real ones."""

    seed: int = setting(1, doc="random seed for everything the simulation invents")
    snr_db: float = setting(30.0, doc="signal-to-noise ratio of line audio, dB")
    speech: bool = setting(True, doc="speech-like audio on calls")
    cid: str = setting(
        "fsk-bell202", choices=CID_MODES, what="caller-ID mode", doc="default caller-ID signalling"
    )
    cid_format: str = setting(
        "mdmf", choices=CID_FORMATS, what="caller-ID format", doc="caller-ID message format"
    )
    ring_cadence: tuple[float, ...] = setting(
        (1.0, 4.0), gt=0, check=_even_cadence, doc="ring on/off seconds (China: 1 on, 4 off)"
    )
    traffic: TrafficConfig | None = setting(None, doc="optional generated demo traffic")
    realtime: bool = setting(True, doc="pace audio at real time (false: as fast as the daemon can)")


@dataclass(frozen=True, kw_only=True, slots=True)
class ModemOptions:
    """A V.253 voice modem on a serial port (one line)."""

    port: str = setting(doc='serial device such as "/dev/ttyACM0", or a USB "vid:pid"')
    profile: str = setting(
        "auto", choices=("auto", "usr5637", "cx93001", "generic"), what="modem profile", doc="command dialect"
    )
    gci: str = setting(
        "26", check=_gci, doc='AT+GCI country code in hex (China 26, USA B5), or "none" to skip'
    )
    baud: int = setting(115200, gt=0, doc="serial speed")
    cid_mode: str = setting(
        "auto", doc="caller-ID command: auto (+VCID=1, else #CID=1), raw, or an AT command"
    )
    codec: str = setting(
        "auto", choices=("auto", "ulaw", "alaw", "u8", "s8", "s16"), what="codec", doc="voice codec (+VSM)"
    )
    full_duplex: bool | None = setting(None, doc="use +VTR (unset: what the modem profile says)")
    soft_busy: bool | None = setting(
        None, doc="ccd's own busy-tone detector on the audio (unset: on unless the modem detects busy)"
    )
    extra_init: tuple[str, ...] = setting((), doc="AT commands sent after the modem's own set-up")
    command_timeout: float = setting(2.0, gt=0, doc="seconds before a missing OK means a wedged modem")
    dial_timeout: float = setting(60.0, gt=0, doc="seconds an outgoing call may take to be answered")
    reopen_interval: float = setting(2.0, gt=0, doc="seconds between tries to reopen a vanished modem")
    ring_on: float = setting(1.0, gt=0, doc="seconds a RING counts as ring voltage (China: 1 s on)")
    cid_timeout: float = setting(1.0, gt=0, doc="a caller-ID report is complete after this much quiet")
    guard_time: float = setting(1.0, gt=0, doc="silence around +++ when recovering a wedged modem")
    keepalive: float = setting(30.0, gt=0, doc="seconds between AT probes of an idle modem")


@dataclass(frozen=True, kw_only=True, slots=True)
class DahdiOptions:
    """A DAHDI telephony board."""

    device: str = setting("/dev/dahdi/channel", doc="DAHDI channel device")
    channels: tuple[int, ...] = setting((), min=1, doc="DAHDI channel numbers, in line-channel order")
    law: str = setting(
        "alaw", choices=("alaw", "ulaw", "linear"), what="audio law", doc="audio encoding on the board"
    )
    ring_on: float = setting(1.0, gt=0, doc="seconds a ring counts as ring voltage (China: 1 s on, 4 s off)")
    cid_signal: str = setting(
        "fsk-bell202",
        choices=("fsk-bell202", "fsk-v23", "dtmf"),
        what="caller-ID signal",
        doc="caller ID sent to the phones on FXS ports",
    )
    reopen_interval: float = setting(2.0, gt=0, doc="seconds between tries to reopen a channel that failed")


@dataclass(frozen=True, kw_only=True, slots=True)
class UsbboxOptions:
    """A USB voice box described by a device profile."""

    profile: Path = setting(doc="device profile (TOML), relative to this file")
    vid_pid: str | None = setting(None, check=_vid_pid, doc='USB id "vid:pid" if several boxes differ')
    alsa_device: str | None = setting(
        None,
        pattern=r"\S+",
        pattern_doc='must be "auto", "none" or an ALSA device such as "plughw:CARD=Maple,DEV=0"',
        doc='the box\'s sound card: "auto" (found by its USB id), "none" (no audio: ring and caller ID '
        "only) or an ALSA device; unset: as the profile says",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class SmsOptions:
    """A GSM/4G modem used to send and receive SMS (no voice lines)."""

    port: str = setting(doc="serial device")
    baud: int = setting(115200, gt=0, doc="serial speed")
    pin: str = setting("", pattern=_DIGITS, pattern_doc="must be digits only", doc="SIM PIN, if any")
    smsc: str = setting(
        "", pattern=_PHONE_NUMBER, pattern_doc="must be a phone number", doc="SMS centre (empty: the SIM's)"
    )
    cnmi: str = setting(
        "AT+CNMI=2,1,0,1,0",
        pattern=r"AT\+CNMI=[0-9,]*",
        pattern_doc='must be an AT+CNMI command such as "AT+CNMI=2,1,0,2,0"',
        doc="how new messages and delivery reports are announced",
    )


@dataclass(frozen=True, slots=True)
class DriverKind:
    """What the config needs to know about a kind of driver."""

    options: type
    trunks: bool = True  # can carry [[trunks]] (FXO lines to the exchange)
    extensions: bool = False  # has FXS ports for [[extensions]] (phones)
    channels: Callable[[Any], int | None] = lambda options: None  # line count if the options fix it


DRIVER_KINDS: dict[str, DriverKind] = {}


def register_driver_kind(
    name: str,
    options: type,
    *,
    trunks: bool = True,
    extensions: bool = False,
    channels: Callable[[Any], int | None] = lambda options: None,
) -> None:
    """Make ``kind = name`` valid in ``[[drivers]]``, with `options` as its flat option keys."""
    DRIVER_KINDS[name] = DriverKind(options, trunks, extensions, channels)


register_driver_kind("sim", SimOptions, extensions=True)
register_driver_kind("modem", ModemOptions, channels=lambda options: 1)
register_driver_kind("dahdi", DahdiOptions, extensions=True, channels=lambda o: len(o.channels) or None)
register_driver_kind("usbbox", UsbboxOptions)
register_driver_kind("sms", SmsOptions, trunks=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DriverConfig:
    """One device (or the simulated office); its kind's options sit in the same table."""

    name: str = setting(ident="driver", what="driver name", doc="unique; lines refer to it")
    kind: str = setting(
        choices=lambda: DRIVER_KINDS, what="driver kind", doc="the kind of device; its options follow"
    )
    options: Any = setting(
        None, tag="kind", variants=lambda: {k: v.options for k, v in DRIVER_KINDS.items()}, doc="per kind"
    )

    def options_dict(self) -> dict[str, Any]:
        """The kind's options as a plain dict (nested tables too), for drivers that take ``**options``."""
        return dataclasses.asdict(self.options) if self.options is not None else {}


# -- [[trunks]], [[extensions]] ----------------------------------------------------------

IDENT_GROUPS.update(trunk="line", extension="line", phone="line")


@dataclass(frozen=True, kw_only=True, slots=True)
class TrunkConfig:
    """A line to the exchange (FXO side)."""

    id: str = setting(ident="trunk", what="line id", doc="unique among trunks, extensions and phones")
    driver: str = setting(ref="driver", doc="the [[drivers]] name it is on")
    channel: int = setting(min=0, doc="the driver's channel index (0-based)")
    number: str = setting(
        "", pattern=_PHONE_NUMBER, pattern_doc="must be a phone number (digits)", doc="the line's own number"
    )
    label: str = setting("", doc="name shown to people")
    passthrough: bool = setting(False, doc="a desk phone hangs behind the box (pass-through topology)")
    phone: str | None = setting(None, ident="phone", what="line id", doc="pass-through desk phone's seat id")
    cid: str = setting("auto", choices=LINE_CID_MODES, what="caller-ID mode", doc="caller-ID signalling hint")

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if self.phone is not None and not self.passthrough:
            yield "phone", "only pass-through lines have a desk phone (set passthrough = true)"


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtensionConfig:
    """An FXS port with a phone on it (board topology)."""

    id: str = setting(ident="extension", what="line id", doc="unique among trunks, extensions and phones")
    driver: str = setting(ref="driver", doc="the [[drivers]] name it is on")
    channel: int = setting(min=0, doc="the driver's channel index (0-based)")
    label: str = setting("", doc="name shown to people")


# -- [[inbound]], [[outbound]] -----------------------------------------------------------

INBOUND_DESTINATIONS = ("ring", "queue", "ivr", "voicemail", "hangup")
_SEATS = ("extension", "phone")  # things that ring: extensions and pass-through desk phones


@dataclass(frozen=True, kw_only=True, slots=True)
class InboundRule:
    """Where calls arriving on some trunks go; the first matching rule wins."""

    name: str = setting(ident="inbound_rule", what="rule name", doc="unique")
    trunks: tuple[str, ...] = setting(("*",), ref="trunk", wildcard=True, doc='trunk ids, or ["*"] for all')
    ring: tuple[str, ...] = setting(
        (), ref=_SEATS, what="extension", doc="extensions/phones to ring (ring-all)"
    )
    queue: str | None = setting(None, ref="queue", doc="queue name")
    ivr: str | None = setting(None, ref="ivr", what="IVR flow", doc="IVR flow name")
    voicemail: str | None = setting(
        None, ref=(*_SEATS, "mailbox"), what="mailbox", doc="mailbox (an extension id or a [[mailboxes]] id)"
    )
    hangup: bool = setting(False, doc="reject the call")

    def destinations(self) -> list[str]:
        """The destination keys this rule sets (exactly one when valid)."""
        return [
            key
            for key in INBOUND_DESTINATIONS
            if (getattr(self, key) is True if key == "hangup" else getattr(self, key) not in (None, ()))
        ]

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if not self.trunks:
            yield "trunks", 'no trunks: list trunk ids, or ["*"] for all'
        found = self.destinations()
        if not found:
            yield None, "no destination: set one of " + ", ".join(INBOUND_DESTINATIONS)
        elif len(found) > 1:
            yield None, f"more than one destination ({', '.join(found)}): keep exactly one"


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboundRule:
    """Which trunks calls from some extensions go out on, and how a trunk is picked."""

    name: str = setting(ident="outbound_rule", what="rule name", doc="unique")
    extensions: tuple[str, ...] = setting(
        ("*",), ref=_SEATS, wildcard=True, what="extension", doc='extension ids, or ["*"] for all'
    )
    trunks: tuple[str, ...] = setting(
        ("*",), ref="trunk", wildcard=True, doc='trunk ids in hunt order, or ["*"]'
    )
    hunt: str = setting(
        "sequential", choices=HUNT_STRATEGIES, what="hunt strategy", doc="how a free trunk is picked"
    )
    prefix: str = setting(
        "", pattern=r"[0-9*#]*", pattern_doc="must be digits", doc="digits dialled to get an outside line"
    )

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if not self.trunks:
            yield "trunks", 'no trunks: list trunk ids, or ["*"] for all'
        if not self.extensions:
            yield "extensions", 'no extensions: list extension ids, or ["*"] for all'


# -- [[users]] ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class UserConfig:
    """A person seeded into the database (passwords are never in the config)."""

    login: str = setting(ident="user", what="login", doc="unique login name")
    name: str = setting("", doc="display name")
    role: str = setting("agent", choices=ROLES, what="role", doc="what they may do")
    extension: str | None = setting(None, ref=_SEATS, what="extension", doc="the seat they usually sit at")
    agent_no: str | None = setting(None, ident="agent_no", what="agent number", doc="agent number")


# -- the whole file ----------------------------------------------------------------------

Line = TrunkConfig | ExtensionConfig


@dataclass(frozen=True, kw_only=True)
class Config:
    """A checked `ccd.toml`. Sequences are tuples; paths are resolved against the file's folder."""

    daemon: DaemonConfig = setting(default_factory=DaemonConfig, doc="[daemon]")
    tone_plans: dict[str, dict[str, ToneSpec]] = setting(
        default_factory=dict, doc="[tone_plans.NAME]: tone name -> {freqs, cadence}"
    )
    drivers: tuple[DriverConfig, ...] = setting((), doc="[[drivers]]")
    trunks: tuple[TrunkConfig, ...] = setting((), doc="[[trunks]]")
    extensions: tuple[ExtensionConfig, ...] = setting((), doc="[[extensions]]")
    inbound: tuple[InboundRule, ...] = setting((), doc="[[inbound]]")
    outbound: tuple[OutboundRule, ...] = setting((), doc="[[outbound]]")
    users: tuple[UserConfig, ...] = setting((), doc="[[users]]")
    acd: AcdConfig = setting(default_factory=AcdConfig, doc="[acd]: settings shared by every queue")
    queues: tuple[QueueConfig, ...] = setting((), doc="[[queues]]")
    agents: tuple[AgentConfig, ...] = setting((), doc="[[agents]]: skills and wrap-up per agent")
    keys: dict[str, str] = setting(default_factory=dict, doc="[keys]: TUI action name -> key")
    callcenter: CallCenterConfig = setting(default_factory=CallCenterConfig, doc="[callcenter]")
    ivr: tuple[IvrFlowConfig, ...] = setting((), doc="[[ivr]]: IVR flows")
    schedules: tuple[ScheduleConfig, ...] = setting((), doc="[[schedules]]: opening hours")
    rewrites: tuple[RewriteConfig, ...] = setting((), doc="[[rewrites]]: outbound number rewriting")
    recording: RecordingConfig = setting(default_factory=RecordingConfig, doc="[recording]")
    metrics: MetricsConfig = setting(default_factory=MetricsConfig, doc="[metrics]: thresholds, targets")
    mailboxes: tuple[MailboxConfig, ...] = setting((), doc="[[mailboxes]]: voicemail boxes")
    line_profiles: tuple[LineProfileConfig, ...] = setting(
        (), doc="[[line_profiles]]: what `ccd line test` measured on a trunk"
    )
    source_path: Path | None = field(default=None, metadata={"internal": True})

    @property
    def lines(self) -> tuple[Line, ...]:
        """Trunks then extensions."""
        return (*self.trunks, *self.extensions)

    def line(self, line_id: str) -> Line:
        """The trunk or extension with this id. Raises KeyError."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(f"no line '{line_id}'")

    def driver(self, name: str) -> DriverConfig:
        """The driver with this name. Raises KeyError."""
        for driver in self.drivers:
            if driver.name == name:
                return driver
        raise KeyError(f"no driver '{name}'")

    def custom_tone_plan(self, name: str) -> dict[str, dict[str, Any]] | None:
        """A ``[tone_plans.NAME]`` plan as `ccd.dsp.tones.plan_from_dict(name, ...)` takes it; None if not defined."""
        tones = self.tone_plans.get(name)
        return None if tones is None else {tone: spec.as_dict() for tone, spec in tones.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (paths as strings, tuples as lists, driver options inline)."""
        return _plain(self)


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


# -- names that exist without an ident field ---------------------------------------------


def builtin_tone_plans() -> tuple[str, ...]:
    """Tone plans built into the DSP (from `ccd.dsp.tones` when it exists)."""
    try:
        from ccd.dsp import tones  # type: ignore[attr-defined]
    except ImportError:
        return FALLBACK_TONE_PLANS
    for attr in ("BUILTIN_PLANS", "PLANS", "TONE_PLANS"):
        plans = getattr(tones, attr, None)
        if isinstance(plans, dict) and plans:
            return tuple(plans)
    return FALLBACK_TONE_PLANS


register_names("tone_plan", lambda cfg: (*builtin_tone_plans(), *cfg.tone_plans))


# -- rules across sections ---------------------------------------------------------------

CROSS_CHECKS: list[Callable[[Config, Context], None]] = []


def cross_check(fn: Callable[[Config, Context], None]) -> Callable[[Config, Context], None]:
    """Register a rule that looks at the whole (partially valid) config; it reports, never raises."""
    CROSS_CHECKS.append(fn)
    return fn


@cross_check
def _line_ports(cfg: Config, ctx: Context) -> None:
    """A line's driver must have that kind of port, and no two lines share a driver channel."""
    drivers = {d.name: d for d in cfg.drivers}
    used: dict[tuple[str, int], Line] = {}
    for line in cfg.lines:
        driver = drivers.get(line.driver)
        if driver is None:
            continue  # unknown or broken driver: already reported
        kind = DRIVER_KINDS[driver.kind]
        is_trunk = isinstance(line, TrunkConfig)
        if is_trunk and not kind.trunks:
            ctx.report_at(
                line, "driver", f"driver '{driver.name}' ({driver.kind}) has no lines to the exchange"
            )
            continue
        if not is_trunk and not kind.extensions:
            ctx.report_at(
                line, "driver", f"driver '{driver.name}' ({driver.kind}) has no phone ports for extensions"
            )
            continue
        count = kind.channels(driver.options)
        if count is not None and line.channel >= count:
            ctx.report_at(
                line,
                "channel",
                f"channel {line.channel} is out of range: driver '{driver.name}' has {count} "
                f"channel{'s' if count != 1 else ''} (0..{count - 1})",
            )
            continue
        other = used.setdefault((driver.name, line.channel), line)
        if other is not line:
            ctx.report_at(
                line,
                "channel",
                f"channel {line.channel} of driver '{driver.name}' is already used by "
                f"{ctx.where((*ctx.path_of(other), 'channel'))}",
            )


@cross_check
def _line_profiles(cfg: Config, ctx: Context) -> None:
    """One profile per trunk, and its tones must be ones the DSP can detect."""
    seen: dict[str, LineProfileConfig] = {}
    for profile in cfg.line_profiles:
        other = seen.setdefault(profile.line, profile)
        if other is not profile:
            ctx.report_at(profile, "line", f"line '{profile.line}' already has a profile: keep one")
        tones = profile.tones()
        if not tones:
            continue
        try:
            from ccd.dsp.tones import plan_from_dict

            plan_from_dict(f"line {profile.line}", tones)
        except ImportError:
            return
        except ValueError as exc:
            found = _DSP_TONE_MESSAGE.match(str(exc))
            if found and found.group(1) in tones:
                ctx.report((*ctx.path_of(profile), found.group(1)), found.group(2))
            else:
                ctx.report_at(profile, "line", str(exc))


@cross_check
def _tone_plans(cfg: Config, ctx: Context) -> None:
    """Let the DSP judge each extra tone plan (tone names, frequency limits) when it is available."""
    try:
        from ccd.dsp.tones import plan_from_dict  # type: ignore[attr-defined]
    except ImportError:
        return  # the structural checks on ToneSpec are all we can do
    for name in cfg.tone_plans:
        try:
            plan_from_dict(name, cfg.custom_tone_plan(name))
        except Exception as exc:  # the DSP's message is the useful part, whatever it raised
            log.debug("tone plan %s rejected", name, exc_info=True)
            message = str(exc) or type(exc).__name__
            # "tone plan 'x', tone 'busy': frequency 50 ..." -> point at that tone's line
            found = _DSP_TONE_MESSAGE.match(message)
            if found and found.group(1) in cfg.tone_plans[name]:
                ctx.report(("tone_plans", name, found.group(1)), found.group(2))
            else:
                ctx.report(("tone_plans", name), message)


_DSP_TONE_MESSAGE = re.compile(r"^tone plan '[^']*', tone '([^']*)': (.*)$", re.DOTALL)


def section_fields(cls: type) -> Iterable[dataclasses.Field[Any]]:
    """The user-visible keys of a section (for the reference and for tooling)."""
    return [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]  # type: ignore[arg-type]


@cross_check
def _ivr_flow_files(cfg: Config, ctx: Context) -> None:
    """A missing IVR flow file makes the configuration invalid: the daemon would otherwise
    start and answer the hotline with nothing to play."""
    for i, entry in enumerate(getattr(cfg, "ivr", ())):
        if not Path(entry.file).is_file():
            ctx.report(("ivr", i, "file"), f"no IVR flow file '{entry.file}'")
