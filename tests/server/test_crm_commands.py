"""CRM commands through the real socket of a daemon on the simulated office: screen pop, customers,
notes, categories, fields, orders, reminders, missed calls — and the role checks between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.crm.demo_data import load_demo
from ccd.daemon import Daemon
from ccd.ipc.errors import E_FORBIDDEN, E_INVALID_ARGS, E_NOT_FOUND, RpcError
from tests.spine.conftest import OFFICE, short_dir
from tui.client import DaemonClient

__all__ = ["short_dir"]  # the fixture, re-used from the spine suite


@pytest.fixture
async def crm_daemon(short_dir: Path) -> AsyncIterator[Daemon]:
    daemon = Daemon(config_from_text(OFFICE, base_dir=short_dir), VirtualClock())
    await daemon.start()
    await load_demo(daemon.store, customers=12)
    try:
        yield daemon
    finally:
        await daemon.stop()


async def _client(daemon: Daemon, user: str) -> DaemonClient:
    c = DaemonClient(daemon.config.daemon.socket)
    await c.connect()
    await c.hello()
    await c.login(user, user if user != "admin" else "admin")
    return c


async def _error(coro) -> RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(RpcError) as info:
        await coro
    return info.value


async def test_agent_works_a_customer_through_the_socket(crm_daemon: Daemon) -> None:
    agent = await _client(crm_daemon, "1001")
    try:
        pop = await agent.request("crm.pop", number="13800138000")
        assert pop["customers"][0]["name"] == "张三" and len(pop["contacts"]) == 3
        cid = pop["customer"]

        found = await agent.request("customer.search", text="张三")
        assert cid in [c["id"] for c in found]

        note = await agent.request(
            "note.add",
            customer=cid,
            category="咨询",
            status="follow_up",
            text="客户想换滤芯",
            follow_up_at=2e9,
        )
        assert note["author"] == "1001" and note["status"] == "follow_up"
        closed = await agent.request("note.update", note=note["id"], status="closed")
        assert closed["status"] == "closed"

        new = await agent.request(
            "customer.add", name="李四", numbers=[{"number": "13911112222", "label": "手机"}]
        )
        assert new["owner"] == "1001" and new["numbers"][0]["label"] == "手机"
        assert (await agent.request("crm.pop", number="13911112222"))["customer"] == new["id"]
        updated = await agent.request("customer.update", customer=new["id"], company="华信科技", level="gold")
        assert updated["company"] == "华信科技" and updated["level"] == "gold"
        with_number = await agent.request("customer.add_number", customer=new["id"], number="62345000")
        assert len(with_number["numbers"]) == 2

        products = await agent.request("product.list")
        order = await agent.request(
            "order.create", customer=new["id"], lines=[{"product": products[0]["sku"], "qty": 2}]
        )
        assert order["total"] == 2 * products[0]["price"]
        assert (await agent.request("order.list", customer=new["id"]))[0]["no"] == order["no"]

        story = await agent.request("timeline", customer=cid)
        assert {i["kind"] for i in story} >= {"call", "note", "order"}
        reminders = await agent.request("reminder.list")
        memo = next(r for r in reminders if r["kind"] == "memo")
        assert (await agent.request("reminder.done", reminder=memo["id"]))["done"]
        assert isinstance(await agent.request("missed.list"), list)
        assert [c["name"] for c in await agent.request("category.list")][:2] == ["咨询", "投诉"]
        assert {f["name"] for f in await agent.request("field.list")} == {"source", "contract_no"}
    finally:
        await agent.close()


async def test_validation_errors_name_the_field(crm_daemon: Daemon) -> None:
    agent = await _client(crm_daemon, "1001")
    try:
        err = await _error(agent.request("customer.add", name="x" * 300))
        assert err.code == E_INVALID_ARGS and err.details == {"argument": "name"}
        err = await _error(agent.request("customer.add", name="王五", birthday="next tuesday"))
        assert err.details == {"argument": "birthday"}
        err = await _error(agent.request("customer.add", name="王五", custom={"source": "广告"}))
        assert err.code == E_INVALID_ARGS and "客户来源" in err.message
        err = await _error(agent.request("note.add", customer=1, text="x" * 10_001))
        assert err.details == {"argument": "text"} and "10000" in err.message
        err = await _error(agent.request("note.add", customer=1, text="hi", status="done"))
        assert err.details == {"argument": "status"}
        err = await _error(agent.request("note.add", customer=1, text="hi", category="nope"))
        assert err.details == {"argument": "category"}
        err = await _error(agent.request("customer.get", customer=99999))
        assert err.code == E_NOT_FOUND
        err = await _error(agent.request("order.create", customer=1, lines=[{"product": "LX-01", "qty": 0}]))
        assert err.details == {"argument": "lines"}
    finally:
        await agent.close()


async def test_roles_decide_who_manages_categories_and_fields(crm_daemon: Daemon) -> None:
    agent = await _client(crm_daemon, "1001")
    sup = await _client(crm_daemon, "9000")
    admin = await _client(crm_daemon, "admin")
    try:
        before = await agent.request("category.list")
        err = await _error(agent.request("category.add", name="退货"))
        assert err.code == E_FORBIDDEN
        assert await agent.request("category.list") == before  # nothing changed
        await sup.request("category.add", name="退货")
        assert "退货" in [c["name"] for c in await agent.request("category.list")]
        await sup.request("category.remove", name="退货")
        assert "退货" not in [c["name"] for c in await agent.request("category.list")]

        for who in (agent, sup):
            assert (await _error(who.request("field.add", name="vip_no", type="int"))).code == E_FORBIDDEN
        assert len(await agent.request("field.list")) == 2
        await admin.request("field.add", name="vip_no", label="会员号", type="int")
        err = await _error(agent.request("customer.update", customer=1, custom={"vip_no": "abc"}))
        assert err.code == E_INVALID_ARGS and "会员号" in err.message
        await admin.request("field.remove", name="vip_no")
        assert len(await agent.request("field.list")) == 2
    finally:
        for c in (agent, sup, admin):
            await c.close()


async def test_missed_call_appears_after_an_unanswered_simulated_call(crm_daemon: Daemon) -> None:
    admin = await _client(crm_daemon, "admin")
    agent = await _client(crm_daemon, "1001")
    try:
        await admin.request("sim.call", trunk="1", number="13922223333", name="赵六", hangup_after=5.0)
        await crm_daemon.run_for(14.0)
        missed = await agent.request("missed.list")
        assert [m["src"] for m in missed][:1] == ["13922223333"]
    finally:
        await admin.close()
        await agent.close()
