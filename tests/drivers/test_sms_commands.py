"""`sms.send` / `sms.list` handlers against a real SMS driver on the GSM emulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ccd.drivers.base import load_driver_class
from ccd.ipc.errors import E_INVALID_ARGS, E_NOT_FOUND, E_UNAVAILABLE, RpcError
from ccd.server.sms_commands import build_registry
from tests.fakes.fake_gsm import FakeGsm


@dataclass
class Slot:
    driver: Any
    offset: int = 0
    ok: bool = True
    error: str = ""


async def call(reg: Any, name: str, args: dict[str, Any]) -> Any:
    return await reg.get(name).handler(SimpleNamespace(user=None), args)


async def test_send_and_list(tmp_path: Path) -> None:
    with FakeGsm(tmp_path / "ttyGSM") as gsm:
        drv = load_driver_class("sms")("gsm", [], {"port": gsm.path, "command_timeout": 0.5})
        await drv.open()
        try:
            reg = build_registry(SimpleNamespace(slots=[Slot(drv)]))
            assert reg.get("sms.send").role == "agent"
            sent = await call(reg, "sms.send", {"to": "13912345678", "text": "您好，您的工单已受理。"})
            assert sent["status"] == "sent" and gsm.sent[0].text == "您好，您的工单已受理。"
            listed = await call(reg, "sms.list", {})
            assert listed[0]["id"] == sent["id"] and listed[0]["driver"] == "gsm"
            gsm.cms_error = [500]
            with pytest.raises(RpcError) as err:
                await call(reg, "sms.send", {"to": "13912345678", "text": "x"})
            assert err.value.code == E_UNAVAILABLE and "+CMS ERROR: 500" in str(err.value)
            with pytest.raises(RpcError) as err:
                await call(reg, "sms.send", {"to": "13912345678", "text": "x", "driver": "other"})
            assert err.value.code == E_NOT_FOUND
            with pytest.raises(RpcError) as err:
                await call(reg, "sms.send", {"to": "call me", "text": "x"})
            assert err.value.code == E_INVALID_ARGS
        finally:
            await drv.close()


async def test_no_sms_modem_configured() -> None:
    reg = build_registry(SimpleNamespace(slots=[]))
    with pytest.raises(RpcError, match="no SMS modem is configured") as err:
        await call(reg, "sms.send", {"to": "1", "text": "x"})
    assert err.value.code == E_UNAVAILABLE
    assert await call(reg, "sms.list", {}) == []
