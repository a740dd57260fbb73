"""CDR rows and legs as the engine writes them, and recovery after a crash."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.store import DuplicateError, InvalidValueError, NotFoundError, Store


async def _inbound(store: Store, uid: str, start: float, src: str = "13800138000") -> None:
    await store.calls.begin(
        {
            "uniqueid": uid,
            "direction": "in",
            "start": start,
            "src": src,
            "dst": "801",
            "channel": "SIM/trunk-1",
        }
    )


async def test_answered_call_has_asterisk_duration_and_billsec(store: Store) -> None:
    await _inbound(store, "100.1", 100.0)
    call = await store.calls.get("100.1")
    assert call.end is None and call.disposition is None  # visible while in progress
    await store.calls.answer("100.1", 105.0)
    done = await store.calls.finish("100.1", 160.4, "ANSWERED", agent="1001", dstchannel="SIM/801")
    assert (done.start, done.answer, done.end) == (100.0, 105.0, 160.4)
    assert (done.duration, done.billsec) == (60, 55)  # end − start, end − answer, whole seconds
    assert (done.disposition, done.agent, done.dstchannel) == ("ANSWERED", "1001", "SIM/801")
    assert done.linkedid == "100.1"
    assert done.location == "北京市"  # filled from the caller's number


async def test_unanswered_call_bills_nothing(store: Store) -> None:
    await _inbound(store, "200.1", 200.0)
    done = await store.calls.finish("200.1", 245.0, "NO ANSWER")
    assert (done.duration, done.billsec, done.answer) == (45, 0, None)


async def test_legs_are_kept_in_order_and_closed_with_the_call(store: Store) -> None:
    await _inbound(store, "300.1", 300.0)
    s1 = await store.calls.add_leg("300.1", "SIM/801", peer="1001", start=301.0)
    await store.calls.update_leg("300.1", s1, end=316.0, disposition="NO ANSWER")
    s2 = await store.calls.add_leg("300.1", "SIM/802", peer="1002", start=316.0)
    await store.calls.update_leg("300.1", s2, answer=318.0, agent="1002")
    await store.calls.answer("300.1", 318.0)
    call = await store.calls.finish("300.1", 400.0, "ANSWERED")
    assert [(leg.seq, leg.channel, leg.disposition, leg.end) for leg in call.legs] == [
        (1, "SIM/801", "NO ANSWER", 316.0),
        (2, "SIM/802", "ANSWERED", 400.0),
    ]


async def test_recordings_of_a_call_come_with_it(store: Store) -> None:
    await _inbound(store, "400.1", 400.0)
    rec = await store.recordings.add("2026/01/05/400.1.wav", call_uniqueid="400.1", start=401.0)
    await store.recordings.finish(rec.id, 30.0, 480_044)
    call = await store.calls.get("400.1")
    assert [(r.path, r.duration, r.bytes) for r in call.recordings] == [
        ("2026/01/05/400.1.wav", 30.0, 480_044)
    ]


async def test_queries_last_by_number_and_range(store: Store) -> None:
    await _inbound(store, "1.1", 1000.0, src="13800138000")
    await _inbound(store, "1.2", 2000.0, src="01062345678")
    await _inbound(store, "1.3", 3000.0, src="+8613800138000")
    await store.calls.begin(
        {"uniqueid": "1.4", "direction": "out", "start": 4000.0, "src": "801", "dst": "62345678"}
    )
    assert [c.uniqueid for c in await store.calls.last(3)] == ["1.4", "1.3", "1.2"]
    assert [c.uniqueid for c in await store.calls.by_number("013800138000")] == ["1.3", "1.1"]
    # Outbound calls are found by the number dialled; local and full forms meet.
    assert [c.uniqueid for c in await store.calls.by_number("+861062345678")] == ["1.4", "1.2"]
    assert [c.uniqueid for c in await store.calls.range(1500.0, 3000.0)] == ["1.2"]
    assert await store.calls.by_number("P") == []


async def test_bad_cdr_writes_are_clear_errors(store: Store) -> None:
    await _inbound(store, "9.1", 9.0)
    with pytest.raises(DuplicateError, match="already recorded"):
        await _inbound(store, "9.1", 9.0)
    with pytest.raises(InvalidValueError, match="unknown CDR field"):
        await store.calls.begin({"uniqueid": "9.2", "direction": "in", "callerid": "x"})
    with pytest.raises(InvalidValueError, match="direction"):
        await store.calls.begin({"uniqueid": "9.3", "direction": "sideways"})
    with pytest.raises(InvalidValueError, match="disposition"):
        await store.calls.finish("9.1", 10.0, "HUNG UP")
    with pytest.raises(NotFoundError):
        await store.calls.finish("nope", 10.0, "ANSWERED")
    with pytest.raises(NotFoundError):
        await store.calls.answer("nope", 10.0)
    with pytest.raises(InvalidValueError):
        await store.calls.finish("9.1", 10.0, "ANSWERED", billsec=999)  # computed, never set


async def test_concurrent_writers_do_not_interleave_transactions(store: Store) -> None:
    """Many coroutines writing at once (128 lines' worth) all land, each call consistent."""

    async def one_call(i: int) -> None:
        uid = f"c.{i}"
        await _inbound(store, uid, 1000.0 + i, src=f"1380013{i:04d}")
        await store.journal.append(1000.0 + i, uid, "q", None, "ENTERQUEUE", "", "x", 1)
        seq = await store.calls.add_leg(uid, f"SIM/{i}", start=1000.5 + i)
        await store.calls.answer(uid, 1001.0 + i)
        await store.calls.update_leg(uid, seq, answer=1001.0 + i)
        await store.calls.finish(uid, 1031.0 + i, "ANSWERED")

    await asyncio.gather(*(one_call(i) for i in range(128)))
    calls = await store.calls.range(0, 10_000)
    assert len(calls) == 128
    assert all(c.duration == 31 and c.billsec == 30 and len(c.legs) == 1 for c in calls)
    assert len(await store.journal.between(0, 10_000)) == 128
    assert await store.integrity_check() == "ok"


_CRASHER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from ccd.clock import VirtualClock
    from ccd.store import Store

    async def main(path):
        s = await Store.open(path, VirtualClock(start_wall=1000.0))
        # finished before the crash
        await s.calls.begin({"uniqueid": "done.1", "direction": "in", "start": 1000.0, "src": "13800138000"})
        await s.calls.answer("done.1", 1002.0)
        await s.calls.finish("done.1", 1062.0, "ANSWERED")
        # in flight: answered, with queue events up to t=1100
        await s.calls.begin({"uniqueid": "fly.1", "direction": "in", "start": 1010.0, "src": "13900000000"})
        await s.journal.append(1010.0, "fly.1", "q", None, "ENTERQUEUE", "", "13900000000", 1)
        await s.calls.add_leg("fly.1", "SIM/801", start=1011.0)
        await s.calls.answer("fly.1", 1020.0)
        await s.journal.append(1100.0, "fly.1", "q", "1001", "CONNECT", 10, "fly.1", 9)
        # in flight: still ringing, nothing in the journal
        await s.calls.begin({"uniqueid": "fly.2", "direction": "in", "start": 1200.0, "src": "62345678"})
        print("ready", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main(sys.argv[1]))
    """
)


async def test_calls_in_flight_at_kill_9_are_closed_as_failed_on_restart(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    proc = subprocess.run(
        [sys.executable, "-c", _CRASHER, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "ready"

    s = await Store.open(path, VirtualClock(start_wall=5000.0))
    try:
        assert await s.integrity_check() == "ok"
        assert {c.uniqueid for c in await s.calls.open_calls()} == {"fly.1", "fly.2"}
        assert await s.calls.close_orphans(now=5000.0) == 2
        assert await s.calls.open_calls() == []

        done = await s.calls.get("done.1")  # completed CDR survived untouched
        assert (done.disposition, done.duration, done.billsec) == ("ANSWERED", 62, 60)

        fly1 = await s.calls.get("fly.1")  # ends at its last journal event
        assert (fly1.disposition, fly1.end, fly1.duration, fly1.billsec) == ("FAILED", 1100.0, 90, 80)
        assert [(leg.end, leg.disposition) for leg in fly1.legs] == [(1100.0, "FAILED")]

        fly2 = await s.calls.get("fly.2")  # nothing known after start: closed at restart time
        assert (fly2.disposition, fly2.end, fly2.billsec) == ("FAILED", 5000.0, 0)

        assert await s.calls.close_orphans(now=6000.0) == 0  # idempotent
        assert await s.integrity_check() == "ok"
    finally:
        await s.close()
