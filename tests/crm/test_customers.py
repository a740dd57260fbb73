"""Customers: lookup by caller number in any form, search, custom fields, contacts."""

from __future__ import annotations

from datetime import date

import pytest

from ccd.store import InvalidValueError, NotFoundError, Store


async def test_find_by_number_across_forms(store: Store) -> None:
    c = await store.customers.add("张三", numbers=["13800138000", ("62345678", "办公室")])
    for form in [
        "13800138000", "+8613800138000", "008613800138000", "013800138000", "138-0013-8000",
        "62345678", "01062345678", "010 6234 5678", "+861062345678",
    ]:  # fmt: skip
        assert [x.id for x in await store.customers.find_by_number(form)] == [c.id], form
    assert await store.customers.find_by_number("13800138001") == []
    assert await store.customers.find_by_number("02162345678") == []  # same digits, Shanghai: someone else
    assert await store.customers.find_by_number("P") == []
    assert await store.customers.find_by_number("") == []


async def test_card_has_numbers_labels_and_fields(store: Store) -> None:
    c = await store.customers.add(
        "李四", numbers=[("13912345678", "手机")], company="华信科技", level="vip", tags=["老客户", "老客户", "团购"],
        gender="男", birthday="1980-05-20", address="北京市", email="li@example.com", owner="1001",
    )  # fmt: skip
    assert (c.level, c.vip, c.tags, c.gender, c.birthday, c.owner) == (
        "vip", True, ("老客户", "团购"), "m", "1980-05-20", "1001",
    )  # fmt: skip
    (n,) = c.numbers
    assert (n.raw, n.e164, n.national, n.local, n.label) == (
        "13912345678",
        "+8613912345678",
        "13912345678",
        "13912345678",
        "手机",
    )


async def test_shared_number_returns_every_customer(store: Store) -> None:
    a = await store.customers.add("王五", numbers=["01088886666"])
    b = await store.customers.add("赵六", numbers=["88886666"])
    assert {x.id for x in await store.customers.find_by_number("88886666")} == {a.id, b.id}


async def test_a_contacts_number_finds_the_company(store: Store) -> None:
    co = await store.customers.add(
        "北京华信科技有限公司", company="北京华信科技有限公司", numbers=["01066668888"]
    )
    contact = await store.customers.add_contact(co.id, "刘经理", title="采购经理", numbers=["15011112222"])
    assert contact.numbers[0].label == "刘经理"
    (found,) = await store.customers.find_by_number("15011112222")
    assert found.id == co.id
    assert [(k.name, k.title, [n.raw for n in k.numbers]) for k in found.contacts] == [
        ("刘经理", "采购经理", ["15011112222"])
    ]


async def test_search_by_name_company_tag_and_number_prefix(store: Store) -> None:
    zs = await store.customers.add("张三", numbers=["13800138000"], tags=["VIP客户"])
    zw = await store.customers.add("张伟", numbers=["075583765432"], company="深圳鹏程物流")
    ls = await store.customers.add("Li Si", numbers=["62345678"], company="Acme Trading")
    s = store.customers.search
    assert {c.id for c in await s("张")} == {zs.id, zw.id}
    assert [c.id for c in await s("张三")] == [zs.id]
    assert [c.id for c in await s("深圳鹏")] == [zw.id]
    assert [c.id for c in await s("li")] == [ls.id]  # case-insensitive
    assert [c.id for c in await s("acme")] == [ls.id]
    assert [c.id for c in await s("vip客户")] == [zs.id]
    assert [c.id for c in await s("1380013")] == [zs.id]
    assert [c.id for c in await s("0755837")] == [zw.id]
    assert [c.id for c in await s("6234")] == [ls.id]  # subscriber number without area code
    assert [c.id for c in await s("010 6234")] == [ls.id]
    assert [c.id for c in await s("+86138")] == [zs.id]
    assert await s("") == [] and await s("   ") == []
    assert len(await s("张", limit=1)) == 1


@pytest.mark.parametrize(
    "evil",
    [
        "'; DROP TABLE customers; --",
        "张' OR '1'='1",
        "%",
        "_",
        '" OR 1=1 --',
        "1; DELETE FROM customer_numbers",
        "\x00",
    ],
)
async def test_sql_injection_in_search_is_harmless(store: Store, evil: str) -> None:
    c = await store.customers.add("张三", numbers=["13800138000"])
    assert await store.customers.search(evil) == []
    assert await store.customers.find_by_number(evil) == []
    assert [x.id for x in await store.customers.find_by_number("13800138000")] == [c.id]
    assert await store.customers.count() == 1


async def test_update_merges_custom_fields_and_replaces_tags(store: Store) -> None:
    await store.customers.define_field("source", "客户来源", "choice", choices=["电话", "网站"])
    await store.customers.define_field("visits", "到访次数", "int")
    await store.customers.define_field("signed", "签约日期", "date")
    c = await store.customers.add("张三", custom={"source": "电话"}, tags=["a"])
    c = await store.customers.update(
        c.id, custom={"visits": "3", "signed": date(2025, 3, 1)}, tags=["b", "c"]
    )
    assert c.custom == {"source": "电话", "visits": 3, "signed": "2025-03-01"}
    assert c.tags == ("b", "c")
    assert [x.id for x in await store.customers.search("c")] == [c.id]
    assert await store.customers.search("a") == []
    c = await store.customers.update(c.id, custom={"visits": None}, level="gold", name="张三丰")
    assert (c.custom, c.level, c.name) == ({"source": "电话", "signed": "2025-03-01"}, "gold", "张三丰")
    assert [f.name for f in await store.customers.fields()] == ["source", "visits", "signed"]


async def test_bad_customer_values_are_clear_errors(store: Store) -> None:
    await store.customers.define_field("source", "客户来源", "choice", choices=["电话"], required=True)
    with pytest.raises(InvalidValueError, match="required"):
        await store.customers.add("A")
    with pytest.raises(InvalidValueError, match="not one of"):
        await store.customers.add("A", custom={"source": "传真"})
    with pytest.raises(InvalidValueError, match="unknown custom field"):
        await store.customers.add("A", custom={"source": "电话", "colour": "red"})
    with pytest.raises(InvalidValueError, match="level"):
        await store.customers.add("A", level="platinum", custom={"source": "电话"})
    with pytest.raises(InvalidValueError, match="not a phone number"):
        await store.customers.add("A", numbers=["P"], custom={"source": "电话"})
    with pytest.raises(InvalidValueError, match="name"):
        await store.customers.add("  ", custom={"source": "电话"})
    with pytest.raises(InvalidValueError, match="too long"):
        await store.customers.add("x" * 201, custom={"source": "电话"})
    with pytest.raises(InvalidValueError, match="date"):
        await store.customers.add("A", birthday="20 May", custom={"source": "电话"})
    with pytest.raises(InvalidValueError, match="cannot update"):
        await store.customers.update(1, id=5)
    with pytest.raises(InvalidValueError, match="field type"):
        await store.customers.define_field("x", "X", "blob")
    with pytest.raises(NotFoundError):
        await store.customers.get(12345)
    assert await store.customers.count() == 0


async def test_numbers_can_be_added_and_removed(store: Store) -> None:
    c = await store.customers.add("张三")
    n = await store.customers.add_number(c.id, "+86 10 6234 5678", "办公室")
    assert [x.id for x in await store.customers.find_by_number("62345678")] == [c.id]
    await store.customers.remove_number(n.id)
    assert await store.customers.find_by_number("62345678") == []
    with pytest.raises(NotFoundError):
        await store.customers.add_number(999, "13800138000")
