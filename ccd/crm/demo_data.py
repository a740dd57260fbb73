"""Demo workspace data: a small Chinese office's customers, plus the people who log in.

Deterministic for a given seed and clock, so `ccd demo`, screenshots and tests all see the
same office. Demo logins (password = login, except admin):

    ==========  ==========  ==========  =========  ========
    login       password    role        extension  agent_no
    ==========  ==========  ==========  =========  ========
    admin       admin       admin       -          -
    9000        9000        supervisor  -          9000
    1001        1001        agent       801        1001
    1002        1002        agent       802        1002
    1003        1003        agent       803        1003
    1004        1004        agent       804        1004
    ==========  ==========  ==========  =========  ========

张三 with mobile 13800138000 always exists (a VIP with orders, notes and an open follow-up
due today), so `ccd sim call --from 13800138000 --name 张三` pops a full card.

`load_bulk` makes a large synthetic customer base (1,000,000 for the lookup benchmark)
through the store's executemany path, without parsing each number.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccd.store import Store

log = logging.getLogger(__name__)

DEMO_USERS: tuple[tuple[str, str, str, str, str | None, str | None], ...] = (
    # login, name, role, password, extension, agent_no
    ("admin", "管理员", "admin", "admin", None, None),
    ("9000", "赵班长", "supervisor", "9000", None, "9000"),
    ("1001", "王小丽", "agent", "1001", "801", "1001"),
    ("1002", "李明", "agent", "1002", "802", "1002"),
    ("1003", "陈静", "agent", "1003", "803", "1003"),
    ("1004", "刘洋", "agent", "1004", "804", "1004"),
)
AGENTS = ("1001", "1002", "1003", "1004")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "玉兰",
    "文",
    "斌",
    "宇",
    "浩",
    "凯",
    "鹏",
    "婷",
    "雪",
    "慧",
    "建国",
    "春梅",
    "子涵",
    "欣怡",
    "梓萱",
    "宇轩",
    "浩然",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
CITIES = (("010", "北京"), ("021", "上海"), ("0755", "深圳"))
COMPANIES = (
    ("北京华信科技有限公司", "010", "北京市海淀区中关村大街27号"),
    ("上海东方贸易有限公司", "021", "上海市浦东新区世纪大道100号"),
    ("深圳市创新电子有限公司", "0755", "深圳市南山区科技园南区"),
    ("北京安居物业管理有限公司", "010", "北京市朝阳区建国路88号"),
    ("上海申城餐饮管理有限公司", "021", "上海市黄浦区南京东路300号"),
    ("深圳鹏程物流有限公司", "0755", "深圳市宝安区福永街道"),
    ("北京博雅培训学校", "010", "北京市西城区西单北大街120号"),
    ("上海仁和医院", "021", "上海市徐汇区肇嘉浜路500号"),
)
TAGS = ("老客户", "新客户", "经销商", "大客户", "需回访", "投诉较多", "学校", "医院", "团购")
CATEGORIES = (("咨询", "咨询"), ("投诉", "投诉"), ("报修", "报修"), ("建议", "建议"), ("订购", "订购"))
PRODUCTS = (
    ("WP-A1", "净水器 A1", 129900),
    ("WP-F3", "滤芯套装 F3", 19900),
    ("WB-189", "桶装水 18.9L", 2000),
    ("SV-INST", "上门安装服务", 10000),
    ("SV-EXT1", "延保一年", 29900),
    ("WD-H2", "饮水机 H2 冷热型", 59900),
)
NOTE_TEXTS = {
    "咨询": ("询问净水器滤芯多久更换一次,已告知六个月", "咨询团购价格,需要报价单", "问送水时间能否改到下午"),
    "投诉": ("送水延迟两天,客户不满意,已道歉并安排加急", "安装师傅迟到一小时", "账单金额有误,需核对"),
    "报修": ("饮水机不制热,预约周四上门", "净水器漏水,已派工程师", "滤芯指示灯常亮"),
    "建议": ("希望增加微信下单", "建议送水前电话通知"),
    "订购": ("订购桶装水十桶,每周一送", "加购滤芯两套", "续签年度供水合同"),
}


@dataclass(frozen=True, slots=True)
class DemoSummary:
    users: int = 0
    customers: int = 0
    contacts: int = 0
    numbers: int = 0
    notes: int = 0
    orders: int = 0
    products: int = 0
    reminders: int = 0
    calls: int = 0


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        n = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if n not in taken:
            taken.add(n)
            return n


def _fixed(rng: random.Random, area: str, taken: set[str]) -> str:
    while True:
        n = f"{area}{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
        if n not in taken:
            taken.add(n)
            return n


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


async def load_demo(store: Store, rng_seed: int = 7, customers: int = 60) -> DemoSummary:
    """Fill an empty store with the demo office; a store that already has it is left as it is."""
    done = await store.settings.get("demo.summary")
    if done is not None:
        return DemoSummary(**done)
    rng = random.Random(rng_seed)
    clock_now = store.clock.wall()  # the store's clock: deterministic under VirtualClock
    tz = store.tz
    today = datetime.fromtimestamp(clock_now, tz).date()
    t0 = datetime.combine(today, datetime.min.time(), tz).timestamp()
    day = 86400.0
    counts = dict.fromkeys(DemoSummary.__dataclass_fields__, 0)

    await asyncio.gather(
        *(
            store.users.add(login, name, role, pw, extension=ext, agent_no=no)
            for login, name, role, pw, ext, no in DEMO_USERS
        )
    )
    counts["users"] = len(DEMO_USERS)
    for name, label in CATEGORIES:
        await store.notes.add_category(name, label)
    await store.customers.define_field(
        "source", "客户来源", "choice", choices=("电话", "网站", "转介绍", "展会")
    )
    await store.customers.define_field("contract_no", "合同编号", "text")
    products = [await store.products.add(sku, name, price) for sku, name, price in PRODUCTS]
    counts["products"] = len(products)

    taken = {"13800138000"}
    made = []
    zhang = await store.customers.add(
        "张三",
        numbers=[("13800138000", "手机"), ("010" + "62345678", "办公室")],
        level="vip",
        tags=["老客户", "大客户"],
        gender="m",
        birthday=date(1980, 5, 20),
        address="北京市东城区东直门南大街5号",
        email="zhangsan@example.com",
        owner="1001",
        custom={"source": "电话", "contract_no": "HT-2025-0088"},
    )
    taken.add("01062345678")
    made.append(zhang)
    counts["numbers"] += 2

    n_companies = min(len(COMPANIES), max(0, customers // 8))
    for i in range(max(0, customers - 1)):
        owner = AGENTS[i % len(AGENTS)]
        if i < n_companies:
            company, area, address = COMPANIES[i]
            c = await store.customers.add(
                company,
                company=company,
                numbers=[(_fixed(rng, area, taken), "总机")],
                level=rng.choice(("silver", "gold", "vip")),
                tags=rng.sample(TAGS, 2),
                address=address,
                owner=owner,
                custom={"source": rng.choice(("网站", "转介绍", "展会"))},
            )
            counts["numbers"] += 1
            for _ in range(rng.randint(1, 3)):
                await store.customers.add_contact(
                    c.id,
                    _person(rng),
                    title=rng.choice(("采购经理", "行政主管", "总经理", "财务")),
                    numbers=[_mobile(rng, taken)],
                )
                counts["contacts"] += 1
                counts["numbers"] += 1
            made.append(c)
            continue
        nums: list[tuple[str, str | None]] = [(_mobile(rng, taken), "手机")]
        if rng.random() < 0.35:
            area, _ = rng.choice(CITIES)
            nums.append((_fixed(rng, area, taken), "家庭" if rng.random() < 0.5 else "办公室"))
        level = rng.choices(("normal", "silver", "gold", "vip"), weights=(60, 20, 12, 8))[0]
        birthday = None
        if i - n_companies < 2:
            birthday = today.replace(year=1984 + 4 * (i - n_companies))  # today (leap-safe), for reminders
        elif rng.random() < 0.5:
            birthday = date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
        c = await store.customers.add(
            _person(rng),
            numbers=nums,
            level=level,
            tags=rng.sample(TAGS, rng.randint(0, 2)),
            gender=rng.choice(("m", "f")),
            birthday=birthday,
            owner=owner,
            custom={"source": rng.choice(("电话", "网站", "转介绍"))} if rng.random() < 0.7 else {},
        )
        counts["numbers"] += len(nums)
        made.append(c)
    counts["customers"] = len(made)

    # History: past calls (with legs and queue_log rows), notes and orders over the last 60 days.
    call_no = 0
    for idx, c in enumerate(made):
        number = c.numbers[0].raw if c.numbers else None
        for _ in range(3 if idx == 0 else rng.randint(0, 2)):
            if number is None:
                break
            call_no += 1
            start = clock_now - rng.uniform(1, 60) * day
            agent = rng.choice(AGENTS)
            uid = f"{int(start)}.{call_no}"
            answered = rng.random() < 0.85
            await store.calls.begin(
                {"uniqueid": uid, "direction": "in", "start": start, "src": number, "dst": "88886666",
                 "clid": f'"{c.name}" <{number}>', "caller_name": c.name, "channel": "SIM/trunk-1",
                 "trunk": "1", "queue": "support", "customer_id": c.id}
            )  # fmt: skip
            wait = rng.uniform(2, 25)
            await store.journal.append(start, uid, "support", None, "ENTERQUEUE", "", number, 1)
            if answered:
                ans = start + wait
                seq = await store.calls.add_leg(
                    uid, f"SIM/{800 + int(agent[-1])}", peer=agent, start=start + 1
                )
                await store.calls.update_leg(uid, seq, answer=ans, agent=agent)
                await store.calls.answer(uid, ans)
                talk = rng.uniform(30, 400)
                await store.journal.append(
                    ans, uid, "support", agent, "CONNECT", int(wait), uid, int(wait - 1)
                )
                await store.journal.append(
                    ans + talk, uid, "support", agent, "COMPLETECALLER", int(wait), int(talk), 1
                )
                await store.calls.finish(
                    uid, ans + talk, "ANSWERED", agent=agent, dstchannel=f"SIM/{800 + int(agent[-1])}",
                    wait_time=wait, survey_score=rng.choice((None, 3, 4, 5, 5)),
                )  # fmt: skip
            else:
                await store.journal.append(start + wait, uid, "support", None, "ABANDON", 1, 1, int(wait))
                await store.calls.finish(uid, start + wait, "NO ANSWER", wait_time=wait)
            counts["calls"] += 1
        n_notes = 3 if idx == 0 else rng.choice((0, 0, 1, 1, 2, 3))
        for k in range(n_notes):
            cat = rng.choice([name for name, _ in CATEGORIES])
            status = rng.choice(("new", "follow_up", "closed", "closed"))
            follow = None
            author = c.owner or rng.choice(AGENTS)
            if (idx == 0 and k == 0) or (status == "follow_up" and rng.random() < 0.4):
                status, follow = "follow_up", t0 + rng.uniform(9, 18) * 3600  # due today
            elif status == "follow_up":
                follow = clock_now + rng.uniform(1, 10) * day
            await store.notes.add(
                c.id, author, rng.choice(NOTE_TEXTS[cat]), category=cat, status=status,
                follow_up_at=follow, at=clock_now - rng.uniform(0.1, 50) * day,
            )  # fmt: skip
            counts["notes"] += 1
            counts["reminders"] += follow is not None
        for _ in range(2 if idx == 0 else rng.choice((0, 0, 0, 1, 2))):
            lines = [(p.id, rng.randint(1, 5)) for p in rng.sample(products, rng.randint(1, 3))]
            await store.orders.create(
                c.id, lines, author=c.owner, status=rng.choice(("new", "paid", "shipped", "done")),
                at=clock_now - rng.uniform(1, 90) * day,
            )  # fmt: skip
            counts["orders"] += 1

    for user, hour, text in (
        ("1001", 10, "上午十点部门例会"),
        ("1001", 16, "给华信科技发送季度报价"),
        ("1002", 14, "整理本周投诉记录"),
        ("9000", 17, "检查今日服务水平报表"),
    ):
        await store.reminders.add(user, "memo", t0 + hour * 3600, text)
        counts["reminders"] += 1
    await store.reminders.add(
        "1001", "follow_up", t0 + 11 * 3600, "回访张三: 滤芯更换满意度", customer_id=zhang.id
    )
    counts["reminders"] += 1

    summary = DemoSummary(**counts)
    await store.settings.set("demo.summary", asdict(summary))
    log.info("demo data loaded: %s", summary)
    return summary


async def load_bulk(store: Store, n: int, seed: int = 1, *, batch: int = 50_000) -> int:
    """Add `n` synthetic customers quickly (benchmarks); return the number added.

    Numbers are unique by construction (a bijection per mobile prefix), one mobile each and a
    Beijing fixed line for one in five, stored pre-normalised so no number is parsed.
    """
    if n <= 0:
        return 0
    rng = random.Random(seed)
    first = await store.customers.max_id() + 1
    created = store.clock.wall()
    levels = ("normal",) * 12 + ("silver",) * 4 + ("gold",) * 3 + ("vip",)
    p = len(MOBILE_PREFIXES)
    for lo in range(0, n, batch):
        custs, nums = [], []
        for i in range(lo, min(n, lo + batch)):
            cid = first + i
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            company = COMPANIES[i % len(COMPANIES)][0] if i % 10 == 0 else None
            tags = [TAGS[i % len(TAGS)]] if i % 5 == 0 else []
            custs.append((cid, name, company, levels[i % len(levels)], tags, created))
            j = i // p
            mobile = MOBILE_PREFIXES[i % p] + f"{(j * 7_654_321 + 1_234_567 + seed) % 10**8:08d}"
            nums.append((cid, mobile, "+86" + mobile, mobile, mobile))
            if i % 5 == 0:
                sub = f"{20_000_000 + (i * 4_835_701 + seed) % 80_000_000}"
                nums.append((cid, "010" + sub, "+8610" + sub, "010" + sub, sub))
        await store.customers.bulk_add(custs, nums)
    return n


def bulk_mobile(i: int, seed: int = 1) -> str:
    """The mobile number `load_bulk` gives its i-th customer (for benchmarks to look up)."""
    p = len(MOBILE_PREFIXES)
    return MOBILE_PREFIXES[i % p] + f"{((i // p) * 7_654_321 + 1_234_567 + seed) % 10**8:08d}"


__all__ = ["AGENTS", "DEMO_USERS", "DemoSummary", "bulk_mobile", "load_bulk", "load_demo"]
