"""Notes with categories and statuses, follow-up reminders, orders, and the customer timeline."""

from __future__ import annotations

from datetime import date

import pytest

from ccd.clock import VirtualClock
from ccd.crm.timeline import timeline
from ccd.store import InvalidValueError, NotFoundError, Store

DAY = 86400.0


async def test_notes_newest_first_with_category_and_status(store: Store, store_clock: VirtualClock) -> None:
    await store.notes.add_category("咨询")
    await store.notes.add_category("投诉")
    c = await store.customers.add("张三", numbers=["13800138000"])
    n1 = await store.notes.add(c.id, "1001", "询问滤芯更换周期", category="咨询")
    store_clock.advance(60)
    n2 = await store.notes.add(c.id, "1002", "送水延迟", category="投诉", status="follow_up")
    assert [n.id for n in await store.notes.list_for_customer(c.id)] == [n2.id, n1.id]
    assert (n2.category, n2.status, n2.author) == ("投诉", "follow_up", "1002")
    assert [n.id for n in await store.notes.open_follow_ups(c.id)] == [n2.id]
    closed = await store.notes.update_status(n2.id, "closed")
    assert closed.status == "closed" and closed.updated > closed.created - 1
    assert await store.notes.open_follow_ups(c.id) == []
    assert [c.name for c in await store.notes.categories()] == ["咨询", "投诉"]


async def test_note_follow_up_becomes_a_reminder_and_closing_ticks_it(store: Store) -> None:
    today = date(2026, 1, 5)  # the store clock's day in Beijing
    c = await store.customers.add("张三")
    t0, _ = store.reminders.day_bounds(today)
    note = await store.notes.add(
        c.id, "1001", "周一回电确认安装时间", status="follow_up", follow_up_at=t0 + 20 * 3600
    )
    memo = await store.reminders.add("1001", "memo", t0 + 3 * DAY, "下周的事")
    due = await store.reminders.due("1001", today)
    assert [(r.kind, r.note_id, r.customer_id) for r in due] == [("follow_up", note.id, c.id)]
    assert memo.id not in [r.id for r in due]
    assert await store.reminders.due("1002", today) == []
    await store.notes.update_status(note.id, "closed")
    assert await store.reminders.due("1001", today) == []


async def test_birthdays_show_for_the_customers_owner(store: Store) -> None:
    c = await store.customers.add("生日客户", birthday="1990-01-05", owner="1001")
    await store.customers.add("别人的客户", birthday="1991-01-05", owner="1002")
    (r,) = await store.reminders.due("1001", date(2026, 1, 5))
    assert (r.kind, r.customer_id, r.id) == ("birthday", c.id, None)
    assert "生日客户" in r.text
    assert await store.reminders.due("1001", date(2026, 1, 6)) == []


async def test_bad_notes_are_refused(store: Store) -> None:
    c = await store.customers.add("张三")
    with pytest.raises(InvalidValueError, match="unknown note category"):
        await store.notes.add(c.id, "1001", "x", category="不存在")
    with pytest.raises(InvalidValueError, match="status"):
        await store.notes.add(c.id, "1001", "x", status="pending")
    with pytest.raises(InvalidValueError, match="text"):
        await store.notes.add(c.id, "1001", "   ")
    with pytest.raises(InvalidValueError, match="at most"):
        await store.notes.add(c.id, "1001", "字" * 10_001)
    with pytest.raises(NotFoundError):
        await store.notes.add(999, "1001", "x")
    with pytest.raises(NotFoundError):
        await store.notes.update_status(999, "closed")


async def test_orders_freeze_prices_and_total(store: Store, store_clock: VirtualClock) -> None:
    c = await store.customers.add("张三")
    water = await store.products.add("WB-189", "桶装水 18.9L", 2000)
    await store.products.add("WP-A1", "净水器 A1", 129900)
    o1 = await store.orders.create(c.id, [(water.id, 10), ("WP-A1", 1)], author="1001")
    assert o1.total == 10 * 2000 + 129900
    assert o1.no == f"SO20260105-{o1.id:05d}"
    assert [(ln.sku, ln.qty, ln.price, ln.amount) for ln in o1.lines] == [
        ("WB-189", 10, 2000, 20000),
        ("WP-A1", 1, 129900, 129900),
    ]
    store_clock.advance(3600)
    o2 = await store.orders.create(c.id, [{"product": "WB-189", "qty": 5, "price": 1800}], status="paid")
    assert (o2.total, o2.status) == (9000, "paid")
    assert [o.id for o in await store.orders.recent(c.id, 5)] == [o2.id, o1.id]
    assert [o.id for o in await store.orders.recent(c.id, 1)] == [o2.id]
    assert (await store.orders.set_status(o1.id, "shipped")).status == "shipped"


async def test_bad_orders_change_nothing(store: Store) -> None:
    c = await store.customers.add("张三")
    await store.products.add("WB-189", "桶装水", 2000)
    with pytest.raises(NotFoundError, match="product"):
        await store.orders.create(c.id, [("WB-189", 1), ("NOPE", 1)])
    with pytest.raises(InvalidValueError, match="quantity"):
        await store.orders.create(c.id, [("WB-189", 0)])
    with pytest.raises(InvalidValueError, match="at least one"):
        await store.orders.create(c.id, [])
    with pytest.raises(NotFoundError, match="customer"):
        await store.orders.create(999, [("WB-189", 1)])
    with pytest.raises(InvalidValueError, match="price"):
        await store.products.add("X", "X", -1)
    assert await store.orders.recent(c.id, 10) == []  # the half-made order was rolled back


async def test_timeline_merges_everything_in_time_order(store: Store, store_clock: VirtualClock) -> None:
    t = store_clock.wall()
    c = await store.customers.add("张三", numbers=["13800138000"])
    other = await store.customers.add("李四", numbers=["13900000000"])
    await store.products.add("WB-189", "桶装水", 2000)
    # a call from one of the customer's numbers, not linked explicitly
    await store.calls.begin(
        {"uniqueid": "a", "direction": "in", "start": t - 3 * DAY, "src": "+8613800138000"}
    )
    await store.calls.finish("a", t - 3 * DAY + 30, "NO ANSWER")
    await store.notes.add(c.id, "1001", "第一次来电咨询", at=t - 2 * DAY)
    await store.orders.create(c.id, [("WB-189", 2)], at=t - DAY)
    await store.calls.begin(
        {"uniqueid": "b", "direction": "out", "start": t - 3600, "dst": "01099999999", "customer_id": c.id}
    )
    await store.calls.answer("b", t - 3590)
    await store.recordings.add("b.wav", call_uniqueid="b", start=t - 3590)
    await store.calls.finish("b", t - 3500, "ANSWERED")
    await store.notes.add(other.id, "1001", "别人的备注")
    items = await timeline(store, c.id)
    assert [(i.kind, i.ref) for i in items] == [
        ("call", "a"), ("note", "1"), ("order", items[2].ref), ("call", "b"), ("recording", "1"),
    ]  # fmt: skip
    assert [i.ts for i in items] == sorted(i.ts for i in items)
    assert items[2].summary.startswith("订单 SO")
    with pytest.raises(NotFoundError):
        await timeline(store, 999)
