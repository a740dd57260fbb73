"""The `line.test` socket command: run a `ccd.telephony.linetest.LineTest` on a live line.

While the test runs the line belongs to the test, not to the call engine: the engine sees
it out of service ("line test in progress": an `alert.line_down` the wallboard shows, and
`alert.line_restored` after), the line's device events go to the test (`daemon.line_tests`),
and an audio tap (`daemon.taps`) feeds it the line's received frames and its clock. The
test's hook commands go to the driver like the engine's. The request returns when the
test is over (its own deadlines end it even if nobody calls), with the measured profile;
with ``apply`` the daemon starts using that profile on the line at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ccd.drivers.base import LineAlarm, LineKind, OffHook, OnHook
from ccd.ipc.errors import E_INVALID_ARGS, E_NOT_FOUND, E_UNAVAILABLE, RpcError
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.daemon import Daemon

log = logging.getLogger(__name__)

MIN_SECONDS, MAX_SECONDS = 20, 600
REASON = "line test in progress"


async def run_line_test(
    daemon: Daemon, line_id: str, seconds: float, *, apply: bool = False
) -> dict[str, Any]:
    """Run one line test; raise RpcError when the line cannot be tested now."""
    from ccd.telephony.engine import DriverCommand
    from ccd.telephony.line import LineState
    from ccd.telephony.linetest import INSTRUCTIONS, LineTest

    engine = daemon.engine
    line = daemon.lines.get(line_id)
    if line is None or engine is None:
        known = ", ".join(i for i, ln in daemon.lines.items() if ln.kind is LineKind.TRUNK) or "none"
        raise RpcError(E_NOT_FOUND, f"no line {line_id!r} (trunks: {known})")
    if line.kind is not LineKind.TRUNK:
        raise RpcError(
            E_INVALID_ARGS,
            f"line {line_id} is an extension: only trunks (lines to the exchange) can be tested",
        )
    if not line.caps.hook_control:
        raise RpcError(
            E_UNAVAILABLE, f"line {line_id} cannot go off-hook by itself, so ccd cannot answer the test call"
        )
    slot = next((s for s in daemon.slots if s.driver.name == line.driver), None)
    if slot is None or not slot.ok:
        why = slot.error if slot is not None else "no driver"
        raise RpcError(E_UNAVAILABLE, f"line {line_id} is out of service ({why})")
    if line_id in daemon.line_tests:
        raise RpcError(E_UNAVAILABLE, f"line {line_id} is already being tested")
    if line.state is not LineState.IDLE:
        raise RpcError(
            E_UNAVAILABLE, f"line {line_id} is busy ({line.state.value}): wait for the call to end"
        )
    driver = slot.driver
    audio = _gives_audio(driver, line_id)
    test = LineTest(line_id, seconds, daemon.clock.now(), daemon.clock.wall(), audio=audio)
    finished = asyncio.Event()
    offhook = False

    def send(commands: list[str]) -> None:
        nonlocal offhook
        for c in commands:
            offhook = c == "offhook"
            cmd = OffHook(line_id) if offhook else OnHook(line_id)
            daemon._apply([DriverCommand(line.driver, cmd)])
        if test.done:
            finished.set()

    def on_event(event: Any, now: float) -> None:
        send(test.feed_event(event, now))

    def tap(rx_all: Any, tx_all: Any, now: float) -> None:
        if test.done:
            return
        send(test.feed_audio(rx_all[line.row], now))
        send(test.tick(now))

    log.info(INSTRUCTIONS.format(line=line_id, seconds=seconds).replace("\n", " "))
    engine.handle_device(LineAlarm(line_id, ok=False, reason=REASON), daemon.clock.now())
    daemon._apply(engine.drain())
    daemon.line_tests[line_id] = on_event
    daemon.taps.append(tap)
    try:
        if daemon.virtual:
            await finished.wait()  # the test's deadlines are on the daemon's clock
        else:
            await asyncio.wait_for(finished.wait(), seconds + 120.0)
    except TimeoutError:
        test.profile.notes.append("the test did not finish in time")
    finally:
        with contextlib.suppress(ValueError):
            daemon.taps.remove(tap)
        daemon.line_tests.pop(line_id, None)
        if offhook:
            daemon._apply([DriverCommand(line.driver, OnHook(line_id))])
        if slot.ok and line.state is LineState.OUT_OF_SERVICE and line.oos_reason == REASON:
            engine.handle_device(LineAlarm(line_id, ok=True, reason="line test over"), daemon.clock.now())
            daemon._apply(engine.drain())
    result = test.profile.as_dict()
    result["line"] = line_id
    result["audio"] = audio
    if apply and test.profile.complete:
        daemon.apply_line_profile(profile_config(result["profile"]))
        result["applied"] = True
    daemon.bus.emit("line.tested", {"line": line_id, **result}, key=line_id)
    return result


def _gives_audio(driver: Any, line_id: str) -> bool:
    """Whether the line gives received audio once off-hook (a modem only in voice mode)."""
    kind = getattr(driver, "KIND", "")
    if kind == "modem":
        return getattr(driver, "codec", None) is not None
    try:
        return bool(driver.capabilities(line_id).audio)
    except Exception:
        return False


def profile_config(table: dict[str, Any]) -> Any:
    """A `[[line_profiles]]` table as the checked config object (via the config loader)."""
    from ccd.config.sections_lines import LineProfileConfig, MeasuredTone

    def tone(d: dict[str, Any] | None) -> MeasuredTone | None:
        if d is None:
            return None
        return MeasuredTone(freqs=tuple(d["freqs"]), cadence=tuple(d.get("cadence", ())))

    return LineProfileConfig(
        line=table["line"],
        measured=table.get("measured", ""),
        ring_cadence=tuple(table.get("ring_cadence", ())),
        cid=table.get("cid"),
        cid_start=table.get("cid_start"),
        hangup=table.get("hangup"),
        busy=tone(table.get("busy")),
        dial=tone(table.get("dial")),
    )


def build_registry(daemon: Daemon) -> CommandRegistry:
    reg = CommandRegistry()

    @reg.command(
        "line.test",
        role="admin",
        doc=(
            "Measure a trunk with one test call (ring cadence, caller-ID standard, busy and dial "
            "tones, hang-up signal); returns the [[line_profiles]] entry. The line is out of "
            "service while the test runs."
        ),
        example={"line": "1", "seconds": 60, "apply": False},
    )
    async def line_test(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "line", "seconds", "apply")
        line_id = str(require(args, "line", (str, int)))
        seconds = optional(args, "seconds", (int, float), 60)
        if isinstance(seconds, bool) or not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise RpcError(
                E_INVALID_ARGS,
                f"argument 'seconds' must be from {MIN_SECONDS} to {MAX_SECONDS} (the time to call in)",
            )
        apply = optional(args, "apply", bool, False)
        return await run_line_test(daemon, line_id, float(seconds), apply=apply)

    return reg
