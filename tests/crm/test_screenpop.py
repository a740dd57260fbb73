"""What the agent sees when a call is offered: card, history, open items — or a new-customer form."""

from __future__ import annotations

from ccd.crm.screenpop import screen_pop
from ccd.store import Store


async def test_known_caller_gets_the_card_and_history(store: Store) -> None:
    c = await store.customers.add("张三", numbers=["13800138000"], level="vip")
    for i in range(5):
        await store.notes.add(
            c.id, "1001", f"第{i}次来电:询问滤芯更换周期以及上门安装的时间安排", at=1000.0 + i
        )
    await store.notes.add(c.id, "1001", "回访", status="follow_up", follow_up_at=9e9, at=999.0)
    await store.calls.begin({"uniqueid": "a", "direction": "in", "start": 500.0, "src": "13800138000"})
    pop = await screen_pop(store, "+86 138 0013 8000")
    assert pop.customer is not None and pop.customer.name == "张三"
    assert (pop.number.location, pop.number.carrier) == ("北京市", "中国移动")
    assert [p.preview for p in pop.last_notes] == [
        "第4次来电:询问滤芯更换周期以及上门安装", "第3次来电:询问滤芯更换周期以及上门安装", "第2次来电:询问滤芯更换周期以及上门安装",
    ]  # fmt: skip
    assert [n.text for n in pop.follow_ups] == ["回访"]
    assert [c.uniqueid for c in pop.calls] == ["a"]


async def test_unknown_caller_gets_location_for_the_new_customer_form(store: Store) -> None:
    pop = await screen_pop(store, "075583765432")
    assert pop.customers == () and pop.customer is None
    assert (pop.number.location, pop.number.kind, pop.number.e164) == (
        "广东省深圳市",
        "fixed",
        "+8675583765432",
    )


async def test_shared_number_gives_a_picker_and_withheld_gives_nothing(store: Store) -> None:
    await store.customers.add("王五", numbers=["01088886666"])
    await store.customers.add("赵六", numbers=["88886666"])
    pop = await screen_pop(store, "88886666")
    assert len(pop.customers) == 2 and pop.customer is None and pop.last_notes == ()
    withheld = await screen_pop(store, "P")
    assert withheld.customers == () and withheld.number.kind == "withheld"
