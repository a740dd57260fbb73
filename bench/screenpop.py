"""Screen-pop figures with a million customers.

    python bench/screenpop.py [--customers 1000000] [--db /tmp/ccd-bench.db] [--runs 200]

1. customer lookup by caller number (`customers.find_by_number`), p50/p99 (goal ≤ 1 ms p99);
2. from a `call.offered` event to the screen pop fully painted, headless with Pilot and the
   real CRM service behind a local stand-in for the socket, p50/p99 (goal ≤ 100 ms p99);
3. the agent app's start until its login screen is usable (goal ≤ 1 s).
The database is built once with `load_bulk` and reused on the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from ccd.clock import RealClock
from ccd.crm.demo_data import bulk_mobile, load_bulk, load_demo
from ccd.crm.service import CrmService
from ccd.ipc.errors import E_UNKNOWN_COMMAND, RpcError
from ccd.store import Store


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


class LocalBackend:
    """The app's connection shape over the CRM service in-process (JSON round trip included)."""

    def __init__(self, svc: CrmService, on_event: Any, on_state: Any) -> None:
        self.svc, self.on_event, self.on_state = svc, on_event, on_state
        self._stop = asyncio.Event()

    async def run(self) -> None:
        user = {"user": "1001", "role": "agent", "name": "bench", "extension": "801"}
        self.on_state("syncing", {"user": user})
        self.on_state("connected", {"user": user})
        await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()

    async def call(self, cmd: str, args: dict[str, Any] | None = None, **_: Any) -> Any:
        args = args or {}
        if cmd == "crm.pop":
            out = await self.svc.pop(args["number"], call={"call": args.get("call")})
        elif cmd in ("field.list", "category.list", "reminder.list", "missed.list"):
            out = []
        else:
            raise RpcError(E_UNKNOWN_COMMAND, cmd)
        return json.loads(json.dumps(out))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/ccd-bench-screenpop.db")
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    store = await Store.open(Path(a.db), RealClock())
    have = await store.customers.count()
    if have < a.customers:
        t0 = time.perf_counter()
        await load_demo(store, customers=60)
        await load_bulk(store, a.customers - await store.customers.count())
        print(f"built {a.customers:,} customers in {time.perf_counter() - t0:.0f} s")
    n = await store.customers.count()
    rng = random.Random(1)
    numbers = [bulk_mobile(rng.randrange(n - 100)) for _ in range(a.runs)]
    for num in numbers[:20]:
        await store.customers.find_by_number(num)  # warm the cache
    lat = []
    for num in numbers:
        t = time.perf_counter()
        found = await store.customers.find_by_number(num)
        lat.append((time.perf_counter() - t) * 1000)
        assert found, num
    print(
        f"lookup by number, {n:,} customers: p50 {pct(lat, 50):.3f} ms  p99 {pct(lat, 99):.3f} ms  (goal ≤ 1 ms)"
    )

    from tui.agent.app import AgentApp
    from tui.agent.screens.main import MainScreen

    svc = CrmService(store)
    t_start = time.perf_counter()
    app = AgentApp("/nonexistent", user="1001", password="x",
                   backend_factory=lambda s, auth, ev, st: LocalBackend(svc, ev, st))  # fmt: skip
    painted: dict[str, float] = {}
    app.pop_painted = lambda call: painted.__setitem__(call or "", time.perf_counter())
    pops: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await pilot.pause(0.005)
        usable = time.perf_counter() - t_start
        await pilot.pause(0.2)
        for i, num in enumerate(numbers[: min(a.runs, 100)]):
            call = f"bench.{i}"
            app.model.call = None
            t = time.perf_counter()
            app.backend.on_event(
                {"event": "call.offered", "data": {"call": call, "number": num, "extension": "801"}}
            )
            while call not in painted:
                await pilot.pause(0.001)
            pops.append((painted[call] - t) * 1000)
    print(
        f"call.offered -> pop painted: p50 {pct(pops, 50):.1f} ms  p99 {pct(pops, 99):.1f} ms  (goal ≤ 100 ms)"
    )
    print(f"app start -> main screen usable: {usable * 1000:.0f} ms  (goal ≤ 1000 ms)")
    print(f"(median pop {statistics.median(pops):.1f} ms over {len(pops)} offers)")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
