"""`[[line_profiles]]`: what `ccd line test` measured on a trunk, and what that line then uses.

A profile lives in `ccd.toml` itself (not a side file) so that one file still describes the
whole office, `ccd config validate` checks it with everything else, and `ccd line test
--write` can rewrite it in place with comments kept (tomlkit). One entry per trunk:

    [[line_profiles]]
    line = "1"                         # the trunk it was measured on
    measured = "2026-01-05T09:12:40Z"  # when (informational)
    ring_cadence = [1.0, 4.0]          # seconds on, off, ...
    cid = "fsk-bell202"                # fsk-bell202 | fsk-v23 | dtmf | none
    cid_start = "ring"                 # ring | polarity | before_ring
    hangup = "busy_tone"               # how the far end's hang-up shows: polarity | loop_drop | busy_tone | none
    busy = { freqs = [450.0], cadence = [0.35, 0.35] }
    dial = { freqs = [450.0], cadence = [] }

What the line does with it: its caller-ID receiver is set to `cid` when the trunk's own
`cid` is "auto", and its busy-tone (far-end hang-up) and dial-tone detection use `busy` and
`dial` instead of the daemon's tone plan — for that line only, so one odd PBX line does not
change the others.
"""

# `setting()` is a dataclass field specifier (it returns `dataclasses.field`), which RUF009 cannot know.
# ruff: noqa: RUF009

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ccd.config.fields import setting

PROFILE_CID = ("fsk-bell202", "fsk-v23", "dtmf", "none")
CID_STARTS = ("ring", "polarity", "before_ring")
HANGUP_SIGNALS = ("polarity", "loop_drop", "busy_tone", "none")


def _even(value: tuple[float, ...]) -> str | None:
    if len(value) % 2:
        return f"cadence needs on/off pairs (an even number of values), got {len(value)}"
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class MeasuredTone:
    """A tone as measured: frequencies and on/off cadence in seconds (empty: continuous)."""

    freqs: tuple[float, ...] = setting(min=100, max=3800, doc="frequencies in Hz (1 to 3)")
    cadence: tuple[float, ...] = setting((), min=0.04, max=30, check=_even, doc="on, off, ... in seconds")

    def check_item(self) -> Iterator[tuple[str | None, str]]:
        if not 1 <= len(self.freqs) <= 3:
            yield "freqs", f"a tone has 1 to 3 frequencies, got {len(self.freqs)}"

    def as_dict(self) -> dict[str, Any]:
        """The form `ccd.dsp.tones.plan_from_dict` takes for one tone."""
        return {"freqs": list(self.freqs), "cadence": list(self.cadence)}


@dataclass(frozen=True, kw_only=True, slots=True)
class LineProfileConfig:
    """What `ccd line test` measured on one trunk; the line uses it (see the module doc)."""

    line: str = setting(ref="trunk", what="line id", doc="the trunk it was measured on (one profile each)")
    measured: str = setting("", doc="when it was measured (informational)")
    ring_cadence: tuple[float, ...] = setting((), gt=0, check=_even, doc="ring on/off seconds")
    cid: str | None = setting(
        None, choices=PROFILE_CID, what="caller-ID mode", doc="caller-ID modulation heard"
    )
    cid_start: str | None = setting(
        None,
        choices=CID_STARTS,
        what="caller-ID start",
        doc="caller ID after the first ring, a reversal, or before",
    )
    hangup: str | None = setting(
        None,
        choices=HANGUP_SIGNALS,
        what="hang-up signal",
        doc="how the far end's hang-up shows on this line",
    )
    busy: MeasuredTone | None = setting(
        None, doc="busy tone: {freqs, cadence}; this line's hang-up detection"
    )
    dial: MeasuredTone | None = setting(None, doc="dial tone: {freqs, cadence}")

    def tones(self) -> dict[str, dict[str, Any]]:
        """The measured tones by name, in `plan_from_dict` form."""
        out: dict[str, dict[str, Any]] = {}
        if self.busy is not None:
            out["busy"] = self.busy.as_dict()
        if self.dial is not None:
            out["dial"] = self.dial.as_dict()
        return out


def profile_plan(base: Any, profile: LineProfileConfig | None) -> Any:
    """`base` (a `ccd.dsp.tones.TonePlan`) with the profile's busy and dial tones in place of its own.

    Congestion is kept but moved aside when it would be the same as the measured busy tone, so
    the detector never has two identical tones. None when the profile measured no tone.
    """
    from ccd.dsp.tones import TonePlan, ToneSpec

    if profile is None or not profile.tones():
        return None
    tones = dict(base.tones)
    for name, spec in profile.tones().items():
        cadence = tuple(float(c) for c in spec["cadence"])
        tones[name] = ToneSpec(name, tuple(float(f) for f in spec["freqs"]), cadence)
    busy = tones.get("busy")
    for other in [n for n in tones if n not in ("busy", "dial")]:
        t = tones[other]
        if busy is not None and t.freqs == busy.freqs and t.cadence == busy.cadence:
            del tones[other]
    return TonePlan(f"{base.name}+line:{profile.line}", tones)
