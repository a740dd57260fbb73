"""Wallboard and report figures (issue 6): prints, never asserts.

1. Board: 128 lines and 40 agents change state continuously, read two ways: every line and
   agent changing 10 times a second (1,680 events/s), and 10 changes a second in all. The
   board runs headless; we measure the process CPU time it uses (process_time) over a fixed
   wall-time window, the events it took in, the frames it drew and the cells that changed.
2. Reports: a temp database with 1,000,000 calls (and their queue journal, built with
   executemany), then every report over the whole period, timed.

    python bench/wallboard.py [--seconds 10] [--calls 1000000] [--skip-board] [--skip-reports]
                              [--db PATH]

`--db PATH` keeps the built database at PATH, and reuses it when PATH already exists (building
takes minutes; a database built by an older ccd is upgraded by its migrations when opened, so
this also times a migration's backfill over a million calls).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATES_LINE = ("idle", "ringing", "wait_answer", "connected", "offhook", "wait_hangup")
STATES_AGENT = ("ready", "ringing", "on_call", "hold", "wrap_up", "not_ready")


class FloodDaemon:
    """A fake daemon pushing line and agent changes on a fixed wall-time schedule.

    `per_row=True`: every 100 ms a batch touching every line and every agent (each row 10x/s).
    `per_row=False`: 10 changes per second in all, each to a random line or agent.
    The events are made before the clock starts (a pool cycled through), so the CPU measured
    is the board's, not the random generator's."""

    def __init__(self, on_event: Any, on_state: Any, lines: int, agents: int, per_row: bool) -> None:
        self.on_event, self.on_state = on_event, on_state
        self.per_row = per_row
        rng = random.Random(6)
        now = time.time()
        pool: list[list[dict[str, Any]]] = []
        for _ in range(50):
            batch = [self._line(rng, i, now) for i in range(lines)]
            batch += [self._agent(rng, a, now) for a in range(agents)]
            if not per_row:
                batch = [rng.choice(batch)]  # one change every 100 ms
            pool.append(batch)
        self.pool = pool
        self.events = 0
        self._stop = asyncio.Event()

    @staticmethod
    def _line(rng: random.Random, i: int, now: float) -> dict[str, Any]:
        st = rng.choice(STATES_LINE)
        return {"event": "line.changed", "data": {"line": str(i + 1), "kind": "trunk" if i < 96 else "extension",
                "label": f"L{i + 1}", "state": st, "since": -rng.random() * 60,
                "caller": f"1380013{i:04d}" if st != "idle" else None, "caller_name": None, "call": None}}  # fmt: skip

    @staticmethod
    def _agent(rng: random.Random, a: int, now: float) -> dict[str, Any]:
        return {"event": "agent.changed", "data": {"agent": str(1001 + a), "name": f"A{a}", "extension": str(801 + a),
                "state": rng.choice(STATES_AGENT), "reason": "", "since": now - rng.random() * 300,
                "calls_today": rng.randint(0, 40)}}  # fmt: skip

    async def run(self) -> None:
        user = {"user": "admin", "role": "admin"}
        self.on_state("syncing", {"user": user})
        self.on_state("connected", {"snapshot": [], "user": user})
        n = 0
        due = time.perf_counter()
        while not self._stop.is_set():
            # batches fall due every 100 ms of wall time whether or not the board's loop got the
            # CPU in time: a late wake-up sends every batch it owes, as a socket buffer would
            while due <= time.perf_counter():
                due += 0.1
                for event in self.pool[n % len(self.pool)]:
                    self.events += 1
                    self.on_event(event)
                n += 1
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    def stop(self) -> None:
        self._stop.set()

    async def call(self, cmd: str, args: dict[str, Any] | None = None, **_: Any) -> Any:
        if cmd == "wallboard.stats":
            return {"now": time.time(), "clock": 0.0, "queues": {}, "agents": {}, "chart": {}}
        return {}


async def bench_board(seconds: float, lines: int, agents: int, per_row: bool) -> float:
    """Run the board headless under one load; print its figures and return its CPU %."""
    from tui.wallboard.app import WallboardApp

    made: dict[str, FloodDaemon] = {}

    def factory(socket: Any, auth: Any, on_event: Any, on_state: Any) -> FloodDaemon:
        made["d"] = FloodDaemon(on_event, on_state, lines, agents, per_row)
        return made["d"]

    app = WallboardApp("/nonexistent", backend_factory=factory)
    async with app.run_test(size=(200, 60)) as pilot:
        await asyncio.sleep(1.0)  # warm up: tables built
        cpu0, wall0 = time.process_time(), time.perf_counter()
        cells0, ev0, taken0, frames0 = app.cells_written, made["d"].events, app.events_taken, app.frames
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        cells = app.cells_written - cells0
        events = made["d"].events - ev0
        taken = app.events_taken - taken0
        frames = app.frames - frames0
        await pilot.press("q")
    pct = 100 * cpu / wall
    what = "every line and agent changing 10x/s" if per_row else "10 changes/s in all (random rows)"
    print(f"board: {lines} lines + {agents} agents, {what}, {wall:.1f} s headless at 200x60")
    print(f"  events sent          {events / wall:8.0f} /s")
    print(f"  events taken in      {taken / wall:8.0f} /s (coalesced per row between frames)")
    print(f"  frames drawn         {frames / wall:8.1f} /s")
    print(f"  cells changed (diff) {cells / wall:8.0f} /s")
    print(f"  load average         {os.getloadavg()[0]:8.2f} (other processes on the 2 cores)")
    print(f"  CPU                  {pct:8.1f} % of one core (budget 20 %: {'OK' if pct <= 20 else 'OVER'})")
    return pct


# --- reports ---------------------------------------------------------------------------


T1 = 1767542400.0  # the bench period's end (2026-01-05 00:00 in China); it starts 30 days before
SPAN = 30 * 86400


def build_db(path: Path, n_calls: int, n_agents: int = 150) -> tuple[float, float]:
    """A database with n calls over 30 days and their queue journal, as the ACD writes it (each agent
    one call at a time, a WRAPUPEND after each wrap-up); returns (t0, t1). Rows go in with the rollup
    triggers off and the rollups are filled afterwards in one pass (what the triggers would have kept)."""
    from ccd.clock import VirtualClock
    from ccd.store import Store

    async def migrate() -> None:
        s = await Store.open(path, VirtualClock())
        await s.close()

    asyncio.run(migrate())
    rng = random.Random(1)
    t0 = T1 - SPAN
    span = SPAN
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    # the rollup triggers cost ~400 s over a million calls row by row: load with them off, then
    # fill the rollups in one set-based pass each (the migrations' own statements) and put them back
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    calls, journal = [], []
    free = [(t0, f"Agent/{1001 + a}") for a in range(n_agents)]  # (free from, agent): one call at a time
    heapq.heapify(free)
    for i in range(n_calls):
        start = t0 + span * i / n_calls
        wait = rng.randint(0, 90)
        talk = rng.randint(20, 400)
        uid = f"{start:.0f}.{i}"
        trunk = str(1 + i % 8)
        q = ("sales", "support")[i % 2]
        answered = rng.random() < 0.85 and free[0][0] <= start + wait
        journal.append((start, uid, q, "NONE", "ENTERQUEUE", "", "", "1"))
        if answered:
            _, agent = heapq.heappop(free)
            answer = start + wait
            end = answer + talk
            wrap = 10.0 if rng.random() < 0.7 else rng.uniform(1, 10)  # some end their wrap-up early
            journal.append((answer, uid, q, agent, "CONNECT", str(wait), uid, "3"))
            journal.append((end, uid, q, agent, "COMPLETECALLER", str(wait), str(talk), "1"))
            journal.append((end + wrap, uid, q, agent, "WRAPUPEND", "wrapup_done", "", ""))
            heapq.heappush(free, (end + wrap, agent))
        else:
            agent, end = None, start + wait
            journal.append((end, uid, q, "NONE", "ABANDON", "1", "1", str(wait)))
        calls.append((uid, uid, "in", start, start + wait if answered else None, end, int(end - start),
                      talk if answered else 0, f"1380013{i % 10000:04d}", trunk, q, agent,
                      "ANSWERED" if answered else "NO ANSWER", rng.randint(1, 5) if rng.random() < 0.2 else None,
                      f"1380013{i % 10000:04d}"))  # fmt: skip
    journal.sort(key=lambda r: r[0])  # the daemon appends in time order
    conn.executemany(
        'INSERT INTO calls(uniqueid, linkedid, direction, start, answer, "end", duration, billsec, src, trunk, '
        "queue, agent, disposition, survey_score, peer_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        calls,
    )
    conn.executemany(
        "INSERT INTO journal(ts, callid, queue, agent, event, data1, data2, data3) VALUES (?,?,?,?,?,?,?,?)",
        journal,
    )
    conn.commit()
    from ccd.store.migrations import rebuild_rollups_sql

    r0 = time.perf_counter()
    for sql in rebuild_rollups_sql():
        conn.execute(sql)
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    print(f"rollups filled in one pass in {time.perf_counter() - r0:.1f} s")
    conn.execute("ANALYZE")
    conn.close()
    return t0, t0 + span


async def bench_reports(path: Path, t0: float, t1: float, n_calls: int) -> None:
    from ccd.clock import VirtualClock
    from ccd.config import config_from_text
    from ccd.metrics.reports import REPORTS, run_report
    from ccd.store import Store
    from ccd.store.db import CHINA_TZ

    cfg = config_from_text('[[queues]]\nname = "sales"\n[[queues]]\nname = "support"\n')
    store = await Store.open(path, VirtualClock(t1))
    try:
        print(f"reports over {n_calls:,} calls (30 days):")
        for name in REPORTS:
            for interval in (None, "1h") if name in ("queue", "traffic") else (None,):
                c0 = time.perf_counter()
                rep = await run_report(store, cfg, name, t0, t1, now=t1, tz=CHINA_TZ, interval=interval)
                took = time.perf_counter() - c0
                label = f"{name}{'/' + interval if interval else ''}"
                print(
                    f"  {label:12s} {took:6.2f} s  {len(rep.rows):5d} rows  {'OK' if took <= 1 else 'OVER 1 s'}"
                )
    finally:
        await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--lines", type=int, default=128)
    ap.add_argument("--agents", type=int, default=40)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--skip-board", action="store_true")
    ap.add_argument("--skip-reports", action="store_true")
    ap.add_argument("--db", type=Path, help="keep the report database here; reuse it if it exists")
    args = ap.parse_args()
    if not args.skip_board:
        # the "10 updates per second": read both ways, both printed
        asyncio.run(bench_board(args.seconds, args.lines, args.agents, per_row=True))
        asyncio.run(bench_board(args.seconds, args.lines, args.agents, per_row=False))
    if not args.skip_reports:
        if args.db is not None:
            reports_on(args.db, args.calls)
        else:
            with tempfile.TemporaryDirectory(prefix="ccd-bench-") as d:
                reports_on(Path(d) / "bench.db", args.calls)


def reports_on(path: Path, n_calls: int) -> None:
    """Build the report database at `path` (or reuse the one there) and time every report."""
    if path.exists():
        n_calls = sqlite3.connect(path).execute("SELECT count(*) FROM calls").fetchone()[0]
        print(f"reusing {path} ({n_calls:,} calls)")
        t0, t1 = T1 - SPAN, T1
        asyncio.run(upgrade(path))
    else:
        c0 = time.perf_counter()
        t0, t1 = build_db(path, n_calls)
        print(f"built {n_calls:,} calls + journal in {time.perf_counter() - c0:.1f} s")
    asyncio.run(bench_reports(path, t0, t1, n_calls))


async def upgrade(path: Path) -> None:
    """Open a reused database once, so migrations it lacks run (and are timed) before the reports."""
    from ccd.clock import VirtualClock
    from ccd.store import Store

    c0 = time.perf_counter()
    store = await Store.open(path, VirtualClock(T1))
    await store.close()
    print(f"opened (migrations applied) in {time.perf_counter() - c0:.1f} s")


if __name__ == "__main__":
    main()
