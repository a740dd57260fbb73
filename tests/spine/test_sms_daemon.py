"""An SMS modem through the real daemon: an incoming message reaches subscribed clients and
the customer's notes; `sms.send` over the socket goes out as PDUs to the module."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from ccd.config import config_from_text
from ccd.daemon import Daemon
from ccd.drivers.sms import pdu
from tests.fakes.fake_gsm import FakeGsm
from tests.spine.conftest import OFFICE
from tui.client import DaemonClient

WHEN = dt.datetime(2026, 1, 5, 10, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


async def wait_for(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_sms_in_and_out_through_the_daemon(short_dir: Path) -> None:
    gsm = FakeGsm(short_dir / "ttyGSM").start()
    text = (
        OFFICE
        + f"""
[[drivers]]
name = "gsm"
kind = "sms"
port = "{gsm.path}"
"""
    )
    daemon = Daemon(config_from_text(text, base_dir=short_dir))  # real clock: the module is real-time
    await daemon.start()
    client = DaemonClient(daemon.config.daemon.socket)
    try:
        zhang = await daemon.store.customers.add("张三", numbers=["13800138000"])
        events: list = []
        daemon.bus.subscribe(events.append, "sms")
        await wait_for(lambda: any(s.ok for s in daemon.slots if s.driver.name == "gsm"))
        await asyncio.sleep(0.5)  # the module's set-up commands
        gsm.deliver(pdu.encode_deliver("+8613800138000", "我的订单到哪了？", WHEN))
        await wait_for(lambda: any(e.name == "sms.received" for e in events))
        received = next(e for e in events if e.name == "sms.received")
        assert received.data["text"] == "我的订单到哪了？"
        await daemon.flush()
        notes = await daemon.store.notes.list_for_customer(zhang.id)
        assert any("我的订单到哪了" in n.text for n in notes)

        await client.connect()
        await client.hello()
        await client.login_peer()
        result = await client.request("sms.send", to="13800138000", text="您的订单已发货")
        assert result
        await wait_for(lambda: len(gsm.sent) >= 1)
        assert gsm.sent[0].text == "您的订单已发货" and gsm.sent[0].to == "13800138000"
    finally:
        await client.close()
        await daemon.stop()
        gsm.stop()
