"""Load bench: the daemon with N simulated lines busy with calls, soft DSP and bridging on.

    python bench/load.py --lines 128 --minutes 10

Half the lines are trunks, half extension phones; Poisson traffic keeps most trunks in a
call (each answered by an auto-answering virtual agent, bridged both ways). Two phases:

1. throughput — the office runs on the virtual clock as fast as the CPU allows for
   `--minutes` of line time; prints CPU per line (fraction of one core) and the real-time
   factor (line seconds per CPU second). The goal is 128 lines on <= 25 % of one core.
2. latency — the same office on the real clock for `--latency-seconds`, with a client
   subscribed over the real Unix socket; prints the time from a caller ID being decoded to
   the `call.ringing` event arriving at the client (p50/p99; goal <= 50 ms p99).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccd.clock import RealClock, VirtualClock
from ccd.config import config_from_text
from ccd.daemon import Daemon


def office_toml(lines: int, rate: float) -> str:
    trunks = lines // 2
    parts = [
        """
[daemon]
socket = "ccd.sock"
database = "ccd.db"
recordings = "rec"
log_level = "warning"

[[drivers]]
name = "office"
kind = "sim"
seed = 11
snr_db = 30.0
"""
        + f"traffic = {{ rate = {rate}, talk = [60.0, 120.0], patience = [60.0, 90.0], withheld = 0.0 }}\n"
    ]
    for i in range(trunks):
        parts.append(f'[[trunks]]\nid = "t{i}"\ndriver = "office"\nchannel = {i}\nnumber = "6200{i:04d}"\n')
        parts.append(f'[[extensions]]\nid = "{8000 + i}"\ndriver = "office"\nchannel = {trunks + i}\n')
        parts.append(f'[[inbound]]\nname = "r{i}"\ntrunks = ["t{i}"]\nring = ["{8000 + i}"]\n')
    return "\n".join(parts)


async def throughput(lines: int, minutes: float, rate: float, workdir: Path) -> dict[str, float]:
    cfg = config_from_text(office_toml(lines, rate), base_dir=workdir / "tp")
    daemon = Daemon(cfg, VirtualClock(), server=False)
    await daemon.start()
    daemon.sim.set_auto_answer(None, (1.0, 3.0))
    # warm up: let the office fill with calls before measuring
    await daemon.run_for(120.0, yield_every=50)
    busy_samples: list[int] = []
    seconds = minutes * 60.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    chunk = 10.0
    done = 0.0
    while done < seconds:
        await daemon.run_for(chunk, yield_every=50)
        done += chunk
        busy_samples.append(sum(1 for line in daemon.lines.values() if line.state.value != "idle"))
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    calls = len(await daemon.store.calls.last(100000))
    await daemon.stop()
    return {
        "line_seconds": seconds,
        "cpu": cpu,
        "wall": wall,
        "busy_lines_avg": statistics.mean(busy_samples),
        "calls": calls,
    }


async def latency(lines: int, seconds: float, rate: float, workdir: Path) -> list[float]:
    from tui.client import DaemonClient

    cfg = config_from_text(office_toml(lines, rate), base_dir=workdir / "lat")
    daemon = Daemon(cfg, RealClock())
    await daemon.start()
    daemon.sim.set_auto_answer(None, (1.0, 3.0))
    heard: dict[str, float] = {}
    original = daemon._cid_heard

    def cid_heard(line, cid, now):  # type: ignore[no-untyped-def]
        heard[line.id] = time.perf_counter()
        original(line, cid, now)

    daemon._cid_heard = cid_heard  # type: ignore[method-assign]
    client = DaemonClient(cfg.daemon.socket)
    await client.connect()
    await client.hello()
    await client.login_peer()
    await client.subscribe(["call"])
    delays: list[float] = []

    async def listen() -> None:
        async for event in client.events():
            if event.get("event") == "call.ringing":
                line = event["data"].get("line")
                t = heard.pop(line, None)
                if t is not None:
                    delays.append(time.perf_counter() - t)

    task = asyncio.create_task(listen())
    await asyncio.sleep(seconds)
    task.cancel()
    await client.close()
    await daemon.stop()
    return delays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=128)
    ap.add_argument("--minutes", type=float, default=10.0, help="line time for the throughput phase")
    ap.add_argument("--latency-seconds", type=float, default=60.0, help="real time for the latency phase")
    ap.add_argument("--rate", type=float, default=None, help="calls per hour (default: keeps ~90%% busy)")
    args = ap.parse_args()
    trunks = args.lines // 2
    rate = args.rate or trunks * 0.9 * 3600.0 / 100.0
    with tempfile.TemporaryDirectory(prefix="ccd-bench-", dir="/tmp") as d:
        work = Path(d)
        tp = asyncio.run(throughput(args.lines, args.minutes, rate, work))
        per_line = tp["cpu"] / tp["line_seconds"] / args.lines
        print(f"lines: {args.lines} ({trunks} trunks + {trunks} phones), traffic {rate:.0f} calls/h")
        print(
            f"line time simulated: {tp['line_seconds']:.0f} s, CPU {tp['cpu']:.1f} s, wall {tp['wall']:.1f} s"
        )
        print(
            f"lines busy on average: {tp['busy_lines_avg']:.1f} of {args.lines}; calls recorded: {tp['calls']}"
        )
        print(f"CPU per line: {per_line * 100:.3f} % of one core")
        print(
            f"CPU for all {args.lines} lines: {per_line * args.lines * 100:.1f} % of one core (goal <= 25 %)"
        )
        print(f"real-time factor: {tp['line_seconds'] / tp['cpu']:.1f}x (line seconds per CPU second)")
        if args.latency_seconds > 0:
            delays = asyncio.run(latency(args.lines, args.latency_seconds, rate, work))
            if delays:
                q = sorted(delays)
                p99 = q[min(len(q) - 1, int(len(q) * 0.99))]
                print(
                    f"caller ID -> call.ringing at a socket client: n={len(q)} "
                    f"p50={statistics.median(q) * 1000:.1f} ms p99={p99 * 1000:.1f} ms (goal <= 50 ms)"
                )
            else:
                print("caller ID -> call.ringing: no samples (no call rang during the latency phase)")


if __name__ == "__main__":
    main()
