"""The SMS driver against the pty GSM emulator: what an office sees when texts come and go.

Every wait is on a condition with a deadline; the emulator answers at once, so each test
takes a fraction of a second.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ccd.clock import RealClock
from ccd.drivers.base import (
    DriverUnavailable,
    HwCallerId,
    LineAlarm,
    LineKind,
    LineSpec,
    OffHook,
    Ring,
    SendSms,
    SmsReceived,
    UnsupportedCommand,
    load_driver_class,
)
from ccd.drivers.sms import pdu
from ccd.drivers.sms.driver import SmsError
from tests.fakes.fake_gsm import FakeGsm
from tests.fakes.fake_modem import MediaLoop

FAST: dict[str, Any] = {
    "command_timeout": 0.5,
    "send_timeout": 1.0,
    "reopen_interval": 0.05,
    "sim_busy_wait": 0.02,
}
WHEN = dt.datetime(2026, 1, 5, 10, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
LONG_CN = "您好，您的工单已受理，我们的工程师将在两个工作日内与您联系。" * 4  # 132 characters: 2 parts of 67


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path, lines: list[LineSpec] | None = None, gsm: FakeGsm | None = None, **options: Any
) -> AsyncIterator[tuple[FakeGsm, Any, MediaLoop]]:
    gsm = gsm or FakeGsm(tmp_path / "ttyGSM")
    gsm.start()
    drv = load_driver_class("sms")(
        "sms1", lines or [], {"port": gsm.path, "clock": RealClock(), **FAST, **options}
    )
    try:
        await drv.open()
        yield gsm, drv, MediaLoop(drv)
    finally:
        await drv.close()
        gsm.stop()


def parts_of(text: str, sender: str = "+8613912345678", ref: int = 42) -> list[str]:
    """The DELIVER PDUs a network would hand over for a long text."""
    _, chunks = pdu.split_text(text)
    return [
        pdu.encode_deliver(sender, chunk, WHEN, concat=pdu.Concat(ref, len(chunks), i))
        for i, chunk in enumerate(chunks, 1)
    ]


async def test_open_sets_up_pdu_mode_and_indications(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        for cmd in ("ATE0", "AT+CMEE=1", "AT+CPIN?", "AT+CMGF=0", "AT+CNMI=2,1,0,1,0", "AT+CLIP=1"):
            assert cmd in gsm.commands
        assert gsm.commands.index("AT+CMGF=0") < gsm.commands.index("AT+CNMI=2,1,0,1,0")
        assert drv.describe()["identity"] == {"manufacturer": "Quectel", "model": "EC25"}


async def test_send_chinese_single(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        record = await drv.send("+8613912345678", "您好，您的工单已受理。")
        (sent,) = gsm.sent
        assert (sent.to, sent.text, sent.dcs) == ("+8613912345678", "您好，您的工单已受理。", pdu.DCS_UCS2)
        assert record["status"] == "sent" and record["references"] == [gsm.sent_mr[0]]


async def test_send_multipart_chinese(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        record = await drv.send("13912345678", LONG_CN)
        assert len(gsm.sent) == 2 and record["parts"] == 2
        assert "".join(p.text for p in gsm.sent) == LONG_CN
        concats = [p.concat for p in gsm.sent]
        assert [c.seq for c in concats] == [1, 2] and len({c.ref for c in concats}) == 1
        assert all(c.total == 2 for c in concats)
        assert record["references"] == gsm.sent_mr


async def test_cms_error_is_a_clear_error(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        gsm.cms_error = [500]
        with pytest.raises(SmsError, match=r"\+CMS ERROR: 500 unknown error"):
            await drv.send("13912345678", "hello")
        assert drv.recent()[0]["status"] == "failed"
        # the module is still usable afterwards
        await drv.send("13912345678", "hello again")
        assert gsm.sent[-1].text == "hello again"


async def test_no_prompt_is_a_timeout_not_a_hang(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        gsm.silent_to_cmgs = True
        with pytest.raises(SmsError, match="no answer"):
            await drv.send("13912345678", "hello")


async def test_bad_number_refused_before_the_module(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, _media):
        with pytest.raises(SmsError, match="not a phone number"):
            await drv.send("call me", "hello")
        assert not any(c.startswith("AT+CMGS") for c in gsm.commands)


async def test_fire_and_forget_command(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        drv.command(SendSms("sms1", to="13912345678", text="ticket 1024 closed", ref="t1024"))
        assert await media.wait_for(lambda: gsm.sent)
        assert gsm.sent[0].text == "ticket 1024 closed"
        assert await media.wait_for(lambda: drv.recent()[0]["status"] == "sent")
        assert drv.recent()[0]["id"] == "t1024"
        with pytest.raises(UnsupportedCommand):
            drv.command(OffHook("sms1"))


async def test_receive_single_and_delete(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        index = gsm.deliver(pdu.encode_deliver("+8613912345678", "请尽快回电", WHEN))
        assert await media.wait_for(lambda: media.of(SmsReceived))
        (ev,) = media.of(SmsReceived)
        assert (ev.line, ev.sender, ev.text) == ("sms1", "+8613912345678", "请尽快回电")
        assert ev.at == WHEN.timestamp()
        assert await media.wait_for(lambda: index in gsm.deleted)
        assert drv.recent()[0]["from"] == "+8613912345678"


async def test_receive_multipart_out_of_order(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, _drv, media):
        p1, p2 = parts_of(LONG_CN)
        gsm.deliver(p2)
        assert await media.wait_for(lambda: len(gsm.deleted) == 1)
        assert not media.of(SmsReceived)  # half a message is not a message
        gsm.deliver(p1)
        assert await media.wait_for(lambda: media.of(SmsReceived))
        (ev,) = media.of(SmsReceived)
        assert ev.text == LONG_CN and ev.extra["parts"] == 2 and ev.extra["complete"]


async def test_messages_stored_while_away_are_read_at_start(tmp_path: Path) -> None:
    gsm = FakeGsm(tmp_path / "ttyGSM")
    gsm.deliver(pdu.encode_deliver("10086", "Your balance is low", WHEN), announce=False)
    async with rig(tmp_path, gsm=gsm) as (gsm, _drv, media):
        assert await media.wait_for(lambda: media.of(SmsReceived))
        assert media.of(SmsReceived)[0].sender == "10086"
        assert await media.wait_for(lambda: not gsm.store)


async def test_delivery_report_matched_to_its_message(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        first = await drv.send("13912345678", "first")
        second = await drv.send("13912345678", "second")
        gsm.status_report(second["references"][0], status=0x00)
        assert await media.wait_for(lambda: drv.recent()[0]["status"] == "delivered")
        by_id = {m["id"]: m for m in drv.recent()}
        assert by_id[first["id"]]["status"] == "sent"
        gsm.status_report(first["references"][0], status=0x41)  # permanent error: incompatible destination
        assert await media.wait_for(
            lambda: {m["id"]: m for m in drv.recent()}[first["id"]]["status"] == "failed"
        )


async def test_multipart_delivered_only_when_every_part_is(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        record = await drv.send("13912345678", LONG_CN)
        mr1, mr2 = record["references"]
        gsm.status_report(mr1)
        assert await media.wait_for(lambda: drv.describe()["stats"]["sent"] == 1)
        for _ in range(5):
            await media.step()
        assert drv.recent()[0]["status"] == "sent"
        gsm.status_report(mr2)
        assert await media.wait_for(lambda: drv.recent()[0]["status"] == "delivered")


async def test_sim_busy_after_power_up_is_waited_out(tmp_path: Path) -> None:
    gsm = FakeGsm(tmp_path / "ttyGSM", sim_busy=3)
    async with rig(tmp_path, gsm=gsm) as (gsm, drv, _media):
        assert gsm.commands.count("AT+CPIN?") == 4
        assert drv.state == "ready"


async def test_pin_entered_when_the_sim_asks(tmp_path: Path) -> None:
    gsm = FakeGsm(tmp_path / "ttyGSM", pin="1234")
    async with rig(tmp_path, gsm=gsm, pin="1234") as (gsm, _drv, _media):
        assert 'AT+CPIN="1234"' in gsm.commands and gsm.unlocked


async def test_missing_pin_is_a_clear_error(tmp_path: Path) -> None:
    with FakeGsm(tmp_path / "ttyGSM", pin="1234") as gsm:
        drv = load_driver_class("sms")("sms1", [], {"port": gsm.path, **FAST})
        with pytest.raises(DriverUnavailable, match="SIM needs its PIN"):
            await drv.open()
        await drv.close()


async def test_absent_port_is_unavailable(tmp_path: Path) -> None:
    drv = load_driver_class("sms")("sms1", [], {"port": str(tmp_path / "nothing"), **FAST})
    with pytest.raises(DriverUnavailable, match="cannot open"):
        await drv.open()


def test_unknown_option_is_refused() -> None:
    with pytest.raises(DriverUnavailable, match=r"unknown option.*bauds"):
        load_driver_class("sms")("sms1", [], {"port": "/dev/ttyUSB2", "bauds": 9600})


async def test_garbage_on_the_wire_is_ignored(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        gsm.garbage()
        gsm.deliver(pdu.encode_deliver("+8613912345678", "still here", WHEN))
        assert await media.wait_for(lambda: media.of(SmsReceived))
        assert media.of(SmsReceived)[0].text == "still here"
        assert drv.describe()["stats"]["garbage_bytes"] > 0
        await drv.send("13912345678", "and sending works")


async def test_unreadable_pdu_is_logged_and_deleted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with rig(tmp_path) as (gsm, _drv, media):
        with caplog.at_level(logging.WARNING):
            index = gsm.deliver("0791")  # cut short
            assert await media.wait_for(lambda: index in gsm.deleted)
        assert "unreadable PDU" in caplog.text
        assert not media.of(SmsReceived)


async def test_unplug_and_replug(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, _drv, media):
        gsm.unplug()
        assert await media.wait_for(lambda: media.of(LineAlarm))
        assert media.of(LineAlarm)[0].ok is False and media.of(LineAlarm)[0].line == "sms1"
        gsm.deliver(pdu.encode_deliver("+8613912345678", "sent while unplugged", WHEN), announce=False)
        gsm.replug()
        assert await media.wait_for(lambda: len(media.of(LineAlarm)) == 2)
        assert media.of(LineAlarm)[1].ok is True
        assert await media.wait_for(lambda: media.of(SmsReceived))
        assert media.of(SmsReceived)[0].text == "sent while unplugged"


async def test_send_while_unplugged_fails_clearly(tmp_path: Path) -> None:
    async with rig(tmp_path) as (gsm, drv, media):
        gsm.unplug()
        assert await media.wait_for(lambda: media.of(LineAlarm))
        with pytest.raises(SmsError, match="out of service"):
            await drv.send("13912345678", "hello")


async def test_voice_call_caller_id_on_a_configured_line(tmp_path: Path) -> None:
    line = LineSpec("gsm1", LineKind.TRUNK, 0)
    async with rig(tmp_path, lines=[line], ring_on=0.05) as (gsm, drv, media):
        assert drv.capabilities("gsm1").hw_caller_id and drv.capabilities("gsm1").sms
        gsm.ring("13800138000")
        gsm.ring("13800138000")
        assert await media.wait_for(lambda: len([r for r in media.of(Ring) if not r.on]) == 2)
        (cid,) = media.of(HwCallerId)
        assert (cid.line, cid.number, cid.number_absent) == ("gsm1", "13800138000", None)


async def test_withheld_caller(tmp_path: Path) -> None:
    async with rig(tmp_path, lines=[LineSpec("gsm1", LineKind.TRUNK, 0)]) as (gsm, _drv, media):
        gsm.ring("", validity=1)
        assert await media.wait_for(lambda: media.of(HwCallerId))
        assert media.of(HwCallerId)[0].number_absent == "P"
