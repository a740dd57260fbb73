"""Socket commands for SMS: `sms.send` and `sms.list`, backed by the daemon's SMS driver(s).

The daemon merges this registry with `include(build_registry(daemon))`. Drivers are found
through `daemon.slots` (each a `DriverSlot(driver, offset, ok, error)`), so the commands
work with any number of GSM modems; `driver` picks one by name when there are several.
`sms.send` waits for the module's answer, so the user sees at once why the network refused
a message (`+CMS ERROR: 500 unknown error`, a SIM without credit...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import E_INVALID_ARGS, E_NOT_FOUND, E_UNAVAILABLE, RpcError
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.daemon import Daemon

MAX_TEXT = 255 * 67  # the most a concatenated UCS2 message can carry


def build_registry(daemon: Daemon) -> CommandRegistry:
    reg = CommandRegistry()

    def sms_slots() -> list[Any]:
        from ccd.drivers.sms.driver import SmsDriver

        return [s for s in daemon.slots if isinstance(s.driver, SmsDriver)]

    def pick(name: str | None) -> Any:
        slots = sms_slots()
        if name is not None:
            slots = [s for s in slots if s.driver.name == name]
            if not slots:
                known = ", ".join(s.driver.name for s in sms_slots()) or "none"
                raise RpcError(E_NOT_FOUND, f"no SMS modem named {name!r} (SMS modems: {known})")
        if not slots:
            raise RpcError(E_UNAVAILABLE, 'no SMS modem is configured (add a [[drivers]] with kind = "sms")')
        usable = [s for s in slots if s.ok and s.driver.state == "ready"]
        if not usable:
            why = slots[0].error or "the module is not answering"
            raise RpcError(E_UNAVAILABLE, f"SMS modem {slots[0].driver.name} is out of service: {why}")
        return usable[0]

    @reg.command(
        "sms.send",
        role="agent",
        doc="Send an SMS (Chinese and long texts are fine); waits for the network to take it.",
        example={"to": "13912345678", "text": "您好，您的工单已受理。"},
    )
    async def sms_send(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.drivers.sms.driver import SmsError

        reject_unknown(args, "to", "text", "driver")
        to = require(args, "to", str).strip()
        text = require(args, "text", str)
        if not to or not all(c.isdigit() for c in to.lstrip("+")):
            raise RpcError(E_INVALID_ARGS, "argument 'to' must be a phone number (digits, optionally with +)")
        if not text:
            raise RpcError(E_INVALID_ARGS, "argument 'text' is empty")
        if len(text) > MAX_TEXT:
            raise RpcError(
                E_INVALID_ARGS, f"argument 'text' is too long ({len(text)} characters, {MAX_TEXT} at most)"
            )
        slot = pick(optional(args, "driver", str))
        try:
            return await slot.driver.send(to, text)
        except SmsError as exc:
            raise RpcError(E_UNAVAILABLE, f"SMS to {to} not sent: {exc}") from None

    @reg.command(
        "sms.list",
        role="agent",
        doc="Recent SMS in and out (kept in memory), newest first, with delivery status.",
        example={"limit": 20},
    )
    async def sms_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args, "limit", "driver")
        limit = optional(args, "limit", int, 50)
        if not 1 <= limit <= 1000:
            raise RpcError(E_INVALID_ARGS, "argument 'limit' must be between 1 and 1000")
        name = optional(args, "driver", str)
        slots = sms_slots() if name is None else [s for s in sms_slots() if s.driver.name == name]
        if name is not None and not slots:
            raise RpcError(E_NOT_FOUND, f"no SMS modem named {name!r}")
        items = [dict(m, driver=s.driver.name) for s in slots for m in s.driver.recent(limit)]
        items.sort(key=lambda m: m.get("at") or 0, reverse=True)
        return items[:limit]

    return reg
