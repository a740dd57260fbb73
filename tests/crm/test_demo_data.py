"""The demo office: deterministic, complete enough for a full screen pop, with working logins."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ccd.clock import VirtualClock
from ccd.crm.demo_data import DEMO_USERS, bulk_mobile, load_bulk, load_demo
from ccd.crm.timeline import timeline
from ccd.store import Store


async def _names(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    s = await Store.open(path, VirtualClock())
    try:
        await load_demo(s, rng_seed=7, customers=12)
        return [(c.name, tuple(n.raw for n in c.numbers)) for c in await s.customers.list(limit=200)]
    finally:
        await s.close()


async def test_demo_is_deterministic(tmp_path: Path) -> None:
    names = await _names(tmp_path / "a.db")
    assert len(names) == 12 and names[0] == ("张三", ("13800138000", "01062345678"))
    assert names == await _names(tmp_path / "b.db")


async def test_demo_office_has_zhang_san_with_a_full_story(store: Store) -> None:
    summary = await load_demo(store)
    assert summary.customers == 60 and summary.users == len(DEMO_USERS)
    assert summary.notes > 0 and summary.orders > 0 and summary.calls > 0 and summary.contacts > 0
    (zs,) = await store.customers.find_by_number("13800138000")
    assert (zs.name, zs.level) == ("张三", "vip")
    kinds = {i.kind for i in await timeline(store, zs.id)}
    assert {"call", "note", "order"} <= kinds
    assert await store.notes.open_follow_ups(zs.id)
    assert len(await store.orders.recent(zs.id, 3)) == 2
    levels = {c.level for c in await store.customers.list(limit=200)}
    assert "vip" in levels and "normal" in levels
    assert any(c.contacts for c in await store.customers.search("北京", limit=50))
    # today's reminders for agent 1001: a follow-up, memos, a birthday
    kinds_today = {r.kind for r in await store.reminders.due("1001", date(2026, 1, 5))}
    assert kinds_today == {"follow_up", "memo", "birthday"}
    # loading again changes nothing
    assert await load_demo(store) == summary
    assert await store.customers.count() == 60


async def test_demo_logins(store: Store) -> None:
    await load_demo(store, customers=5)
    assert (await store.users.verify("admin", "admin")).role == "admin"  # type: ignore[union-attr]
    sup = await store.users.verify("9000", "9000")
    assert sup is not None and sup.role == "supervisor"
    agent = await store.users.verify("1003", "1003")
    assert agent is not None and (agent.role, agent.extension, agent.agent_no) == ("agent", "803", "1003")
    assert await store.users.verify("1003", "1004") is None


async def test_bulk_load_numbers_are_found(store: Store) -> None:
    assert await load_bulk(store, 3000, seed=3, batch=1000) == 3000
    assert await store.customers.count() == 3000
    for i in (0, 1, 1499, 2999):
        (c,) = await store.customers.find_by_number(bulk_mobile(i, 3))
        assert c.id == i + 1
    assert await store.integrity_check() == "ok"
