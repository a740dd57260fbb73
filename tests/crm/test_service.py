"""The screen-pop bundle and the CRM views above the repositories, on the demo office."""

from __future__ import annotations

from ccd.crm.demo_data import load_demo
from ccd.crm.service import CrmService, excerpt
from ccd.store import Store


async def test_pop_and_views_on_the_demo_office(store: Store) -> None:
    await load_demo(store, customers=12)
    pop = await CrmService(store).pop(
        "13800138000", call={"call": "x.1", "ivr_path": ["1", "3"], "wait": 12.5, "queue": "support"}
    )
    assert [c["name"] for c in pop["customers"]] == ["张三"]
    card = pop["customers"][0]
    assert card["vip"] and "老客户" in card["tags"] and card["custom"]["contract_no"] == "HT-2025-0088"
    assert pop["location"] and pop["carrier"]  # offline location and carrier of a mobile
    assert len(pop["contacts"]) == 3
    assert all(len(n["excerpt"]) <= 21 for c in pop["contacts"] for n in c["notes"])
    assert [c["ts"] for c in pop["contacts"]] == sorted((c["ts"] for c in pop["contacts"]), reverse=True)
    assert pop["follow_ups"] and all(n["status"] == "follow_up" for n in pop["follow_ups"])
    assert len(pop["orders"]) == 2 and pop["orders"][0]["lines"]
    assert len(pop["calls"]) == 3
    assert pop["offer"] == {
        "call": "x.1", "queue": "support", "agent": None, "ivr_path": ["1", "3"], "wait": 12.5, "caller_name": None,
    }  # fmt: skip

    # an unknown caller gets the number's location and no card
    pop = await CrmService(store).pop("075512345678")
    assert pop["customers"] == [] and pop["customer"] is None
    assert "深圳" in pop["location"]
    assert pop["contacts"] == [] and pop["orders"] == []

    # a local number dialled without 010 finds 张三's office line
    pop = await CrmService(store).pop("62345678")
    assert [c["name"] for c in pop["customers"]] == ["张三"]

    # reminders of agent 1001 today, and 张三's timeline in time order
    svc = CrmService(store)
    texts = [r["text"] for r in await svc.reminders("1001")]
    assert "上午十点部门例会" in texts
    zhang = (await store.customers.find_by_number("13800138000"))[0]
    story = await svc.timeline(zhang.id)
    kinds = {i["kind"] for i in story}
    assert {"call", "note", "order"} <= kinds
    assert [i["ts"] for i in story] == sorted(i["ts"] for i in story)


async def test_shared_number_gives_a_picker_without_a_story(store: Store) -> None:
    a = await store.customers.add("甲公司", numbers=["01088880000"])
    b = await store.customers.add("乙公司", numbers=["01088880000"])
    svc = CrmService(store)
    pop = await svc.pop("88880000")
    assert {c["name"] for c in pop["customers"]} == {"甲公司", "乙公司"} and pop["customer"] is None
    picked = await svc.pop("88880000", customer_id=b.id)
    assert picked["customer"] == b.id and picked["customers"][0]["name"] == "乙公司"
    assert a.id != b.id


async def test_withheld_number_pops_nothing(store: Store) -> None:
    pop = await CrmService(store).pop("P")
    assert pop["present"] is False and pop["customers"] == [] and pop["calls"] == []


async def test_missed_calls_drop_once_called_back(store: Store) -> None:
    now = store.clock.wall()
    for uid, direction, src, dst, start, answered in (
        ("m.1", "in", "13911112222", "62345678", now - 600, False),
        ("m.2", "in", "13911113333", "62345678", now - 500, False),
        ("m.3", "out", "801", "13911113333", now - 400, True),
        ("m.4", "in", "P", "62345678", now - 300, False),
    ):
        await store.calls.begin(
            {"uniqueid": uid, "direction": direction, "src": src, "dst": dst, "start": start}
        )
        if answered:
            await store.calls.answer(uid, start + 5)
        await store.calls.finish(uid, start + 30, "ANSWERED" if answered else "NO ANSWER")
    missed = await CrmService(store).missed()
    assert [m["src"] for m in missed] == ["13911112222"]
    assert missed[0]["attempts"] == 1


def test_excerpt_cuts_at_twenty_characters_on_one_line() -> None:
    assert excerpt("短") == "短"
    assert (
        excerpt("一二三四五六七八九十\n一二三四五六七八九十再多")
        == "一二三四五六七八九十 一二三四五六七八九…"
    )
