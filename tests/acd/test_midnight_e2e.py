"""Today's counters start again at the office's midnight ([callcenter] timezone), on the
simulated office and the virtual clock, while the journal keeps yesterday."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon
from tests.acd.test_reload_e2e import BASE, SALES
from tests.spine.conftest import short_dir  # noqa: F401  (fixture)

# 00:00 on 2026-01-06 in the office (Asia/Shanghai) is 16:00 UTC on the 5th; UTC midnight is
# 8 hours later, so a reset at the wrong zone's midnight would not show in this test.
MIDNIGHT = dt.datetime(2026, 1, 6, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


async def test_calls_today_resets_at_the_offices_midnight(short_dir: Path) -> None:  # noqa: F811
    text = BASE + SALES.format(strategy="linear") + '\n[callcenter]\ntimezone = "Asia/Shanghai"\n'
    cfg = config_from_text(text, base_dir=short_dir)
    daemon = Daemon(cfg, VirtualClock(start_wall=MIDNIGHT - 60.0), server=False)
    await daemon.start()
    try:
        acd, sim = daemon.acd, daemon.sim
        published: list = []
        daemon.bus.subscribe(published.append)
        acd.login("1001", extension="801")
        sim.set_auto_answer("801", (1.0, 1.0))
        sim.place_call("1", "13900000001", talk=10.0, hangup_after=None)  # the caller hangs up
        await daemon.run_for(40.0)
        agent = acd.book.agents["1001"]
        assert agent.calls_today == 1 and agent.talk_today > 5
        assert acd.queue_snapshot("sales")["answered"] == 1
        assert daemon.clock.wall() < MIDNIGHT
        await daemon.run_for(25.0)  # past midnight in Shanghai
        assert agent.calls_today == 0 and agent.talk_today == 0.0
        assert acd.queue_snapshot("sales")["answered"] == 0
        fresh = [e for e in published if e.name == "agent.changed" and e.data.get("event") == "new_day"]
        assert fresh and fresh[-1].data["calls_today"] == 0  # wallboards see the new day
        sim.place_call("2", "13900000002", talk=5.0, hangup_after=None)
        await daemon.run_for(30.0)
        assert agent.calls_today == 1
        rows = await daemon.store.journal.between(0, daemon.clock.wall() + 1)
        assert sum(r.event == "CONNECT" for r in rows) == 2  # the journal keeps both days
    finally:
        await daemon.stop()
