"""The DAHDI driver against the kernel shim, on a virtual clock: rings, hooks, polarity, alarms, audio.

Nothing here waits on real time: the shim paces audio by the virtual clock, and each
`Bench.run()` ticks the driver every 20 ms of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ccd.clock import VirtualClock
from ccd.drivers.base import (
    DriverUnavailable,
    Flash,
    Hook,
    HwDtmf,
    LineAlarm,
    LineKind,
    LineSpec,
    Loop,
    OffHook,
    OnHook,
    Polarity,
    Ring,
    RingPhone,
    SendDtmf,
    UnsupportedCommand,
    load_driver_class,
)
from ccd.drivers.dahdi import ioctl as dio
from tests.fakes.fake_dahdi import FakeDahdi

TRUNK = LineSpec("t1", LineKind.TRUNK, 0)
EXT = LineSpec("801", LineKind.EXTENSION, 1)


class Bench:
    """The daemon's media loop in miniature: advance 20 ms, tick, keep what came back."""

    def __init__(self, drv: Any, clock: VirtualClock) -> None:
        self.drv, self.clock = drv, clock
        self.events: list[object] = []
        self.rx: list[np.ndarray] = []

    def run(self, seconds: float, tx: np.ndarray | None = None) -> None:
        for i in range(round(seconds / 0.02)):
            self.clock.advance(0.02)
            frame = np.zeros((self.drv.channels, 160), np.int16)
            if tx is not None:
                frame[0] = tx[i * 160 : (i + 1) * 160] if len(tx) >= (i + 1) * 160 else 0
            t = self.drv.tick(self.clock.now(), frame)
            self.events += t.events
            self.rx.append(t.rx.copy())

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def make(
    law: str = "alaw", lines: tuple[LineSpec, ...] = (TRUNK, EXT), **opts: Any
) -> tuple[FakeDahdi, Any, Bench]:
    clock = VirtualClock()
    fake = FakeDahdi(clock)
    fake.add(1, "fxo")
    fake.add(2, "fxs")
    options = {
        "channels": (1, 2),
        "law": law,
        "clock": clock,
        "backend": fake,
        "reopen_interval": 1.0,
        **opts,
    }
    drv = load_driver_class("dahdi")("board", list(lines), options)
    await drv.open()
    return fake, drv, Bench(drv, clock)


def tone(freq: float, seconds: float, amp: float = 8000) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    return (amp * np.cos(2 * np.pi * freq * t)).astype(np.int16)  # cos: the first sample is not 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DAHDI_SPECIFY", 0x4004DA26),
        ("DAHDI_SET_BLOCKSIZE", 0x4004DA01),
        ("DAHDI_GET_BLOCKSIZE", 0x8004DA01),
        ("DAHDI_SETLINEAR", 0x4004DA28),
        ("DAHDI_SETLAW", 0x4004DA27),
        ("DAHDI_HOOK", 0x4004DA07),
        ("DAHDI_GETEVENT", 0x8004DA08),
        ("DAHDI_IOMUX", 0xC004DA09),
        ("DAHDI_GET_PARAMS", 0xC088DA05),
        ("DAHDI_SET_PARAMS", 0x4088DA05),
        ("DAHDI_GET_BUFINFO", 0x8018DA1B),
        ("DAHDI_DIAL", 0x4104DA1F),
        ("DAHDI_SENDTONE", 0x4004DA15),
        ("DAHDI_FLUSH", 0x4004DA03),
        ("DAHDI_ECHOCANCEL", 0x4004DA21),
        ("DAHDI_SETPOLARITY", 0x4004DA5C),
    ],
)
def test_ioctl_numbers_match_user_h(name: str, value: int) -> None:
    """Values gcc gives for include/dahdi/user.h on x86_64 (HARDWARE.md §3.1)."""
    assert getattr(dio, name) == value


def test_event_and_hook_values() -> None:
    assert (dio.DAHDI_EVENT_ONHOOK, dio.DAHDI_EVENT_RINGOFFHOOK, dio.DAHDI_EVENT_ALARM, dio.DAHDI_EVENT_NOALARM) == (
        1, 2, 4, 5)  # fmt: skip
    assert (dio.DAHDI_EVENT_RINGEROFF, dio.DAHDI_EVENT_POLARITY, dio.DAHDI_EVENT_RINGBEGIN) == (11, 17, 18)
    assert (dio.DAHDI_ONHOOK, dio.DAHDI_OFFHOOK, dio.DAHDI_WINK, dio.DAHDI_FLASH, dio.DAHDI_RING,
            dio.DAHDI_RINGOFF) == (0, 1, 2, 3, 5, 6)  # fmt: skip
    assert dio.describe_event(dio.DAHDI_EVENT_PULSEDIGIT | ord("7")) == "pulsedigit '7'"
    assert dio.port_kind(dio.DAHDI_SIG_FXSKS) == "fxo" and dio.port_kind(dio.DAHDI_SIG_FXOLS) == "fxs"


@pytest.mark.parametrize(("law", "block", "setup"), [("alaw", 160, ("DAHDI_SETLAW", 2)),
                                                     ("ulaw", 160, ("DAHDI_SETLAW", 1)),
                                                     ("linear", 320, ("DAHDI_SETLINEAR", 1))])  # fmt: skip
async def test_open_specifies_block_size_and_law(law: str, block: int, setup: tuple[str, int]) -> None:
    fake, drv, _ = await make(law)
    calls = [(name, v) for fd, name, v in fake.ioctls if fd == fake.ioctls[0][0]]
    assert calls[:4] == [
        ("DAHDI_SPECIFY", 1),
        ("DAHDI_SET_BLOCKSIZE", block),
        setup,
        ("DAHDI_GET_PARAMS", None),
    ]
    assert drv.describe()["channels"]["t1"]["port"] == "fxo"
    assert drv.describe()["channels"]["801"]["port"] == "fxs"


async def test_audio_both_ways_linear_is_exact() -> None:
    fake, _drv, bench = await make("linear")
    sound = tone(1000, 0.2)
    fake.play(1, sound)
    bench.run(0.4, tx=tone(450, 0.4))
    got = np.concatenate([r[0] for r in bench.rx])
    start = int(np.flatnonzero(got)[0])
    assert np.array_equal(got[start : start + len(sound)], sound)
    assert np.array_equal(fake.written(1)[:3200], tone(450, 0.4)[:3200])
    assert not np.any(np.concatenate([r[1] for r in bench.rx]))  # the other channel stayed silent


async def test_audio_through_alaw() -> None:
    fake, _drv, bench = await make("alaw")
    fake.play(1, tone(1000, 0.2))
    bench.run(0.3, tx=tone(450, 0.3))
    got = np.concatenate([r[0] for r in bench.rx]).astype(float)
    ref = tone(1000, 0.2).astype(float)
    start = int(np.flatnonzero(got)[0])
    err = got[start : start + len(ref)] - ref
    assert np.sqrt(np.mean(err**2)) < 0.05 * np.sqrt(np.mean(ref**2))  # G.711 is ~38 dB SNR


async def test_trunk_ring_cadence() -> None:
    fake, _drv, bench = await make(ring_on=1.0)
    fake.event(1, dio.DAHDI_EVENT_RINGOFFHOOK)
    bench.run(0.5)
    assert [e.on for e in bench.of(Ring)] == [True]
    bench.run(0.6)
    assert [e.on for e in bench.of(Ring)] == [True, False]
    fake.event(1, dio.DAHDI_EVENT_RINGBEGIN)
    fake.event(1, dio.DAHDI_EVENT_RINGOFFHOOK)  # both for one ring on some cards: one Ring(on)
    bench.run(0.1)
    assert [e.on for e in bench.of(Ring)] == [True, False, True]
    assert all(e.line == "t1" for e in bench.of(Ring))


async def test_answer_far_end_hangup_and_release() -> None:
    fake, drv, bench = await make()
    fake.event(1, dio.DAHDI_EVENT_RINGOFFHOOK)
    bench.run(0.1)
    drv.command(OffHook("t1"))
    bench.run(0.1)
    assert fake.hooks(1) == [dio.DAHDI_OFFHOOK]
    assert [type(e).__name__ for e in bench.events] == ["Ring", "Ring", "Loop"]
    assert bench.of(Loop)[0].current is True
    fake.event(1, dio.DAHDI_EVENT_POLARITY)
    fake.event(1, dio.DAHDI_EVENT_ONHOOK)  # kewlstart: the exchange dropped the loop
    bench.run(0.1)
    assert len(bench.of(Polarity)) == 1 and bench.of(Loop)[-1].current is False
    drv.command(Flash("t1"))
    drv.command(OnHook("t1"))
    assert fake.hooks(1) == [dio.DAHDI_OFFHOOK, dio.DAHDI_FLASH, dio.DAHDI_ONHOOK]


async def test_extension_hook_and_pulse_digits() -> None:
    fake, _drv, bench = await make()
    fake.event(2, dio.DAHDI_EVENT_RINGOFFHOOK)
    fake.event(2, dio.DAHDI_EVENT_PULSEDIGIT | ord("5"))
    fake.event(2, dio.DAHDI_EVENT_DTMFDOWN | ord("1"))  # ignored: ccd's own detector hears DTMF
    fake.event(2, dio.DAHDI_EVENT_ONHOOK)
    bench.run(0.1)
    assert [(type(e).__name__, e.line) for e in bench.events] == [
        ("Hook", "801"),
        ("HwDtmf", "801"),
        ("Hook", "801"),
    ]
    assert [e.offhook for e in bench.of(Hook)] == [True, False] and bench.of(HwDtmf)[0].digit == "5"


async def test_ring_phone_sends_caller_id_in_the_first_pause() -> None:
    from ccd.dsp.callerid import CallerIdReceiver

    fake, drv, bench = await make("linear")
    drv.command(RingPhone("801", on=True, number="13800138000", name="ZHANG"))
    assert fake.hooks(2) == [dio.DAHDI_RING]
    fake.event(2, dio.DAHDI_EVENT_RINGERON)
    bench.run(1.0)
    assert not np.any(fake.written(2))  # nothing while the bell rings
    fake.event(2, dio.DAHDI_EVENT_RINGEROFF)
    bench.run(1.5)
    rx = CallerIdReceiver("auto")
    found = rx.process(fake.written(2))
    assert found and found[0].cid.number == "13800138000" and found[0].cid.name == "ZHANG"
    fake.event(2, dio.DAHDI_EVENT_RINGOFFHOOK)
    bench.run(0.04)
    assert bench.of(Hook)[0].offhook
    drv.command(RingPhone("801", on=False))
    assert fake.hooks(2) == [dio.DAHDI_RING]  # the kernel already stopped the bell when it was lifted


async def test_ring_phone_off_before_answer() -> None:
    fake, drv, _ = await make()
    drv.command(RingPhone("801", on=True))
    drv.command(RingPhone("801", on=False))
    assert fake.hooks(2) == [dio.DAHDI_RING, dio.DAHDI_RINGOFF]


async def test_alarms() -> None:
    fake, _drv, bench = await make()
    fake.event(1, dio.DAHDI_EVENT_ALARM)
    bench.run(0.04)
    fake.event(1, dio.DAHDI_EVENT_NOALARM)
    bench.run(0.04)
    assert [(e.line, e.ok) for e in bench.of(LineAlarm)] == [("t1", False), ("t1", True)]


async def test_card_removed_then_back() -> None:
    fake, drv, bench = await make()
    drv.command(OffHook("t1"))
    bench.run(0.1)
    fake.remove()
    bench.run(0.1)
    alarms = bench.of(LineAlarm)
    assert {(e.line, e.ok) for e in alarms} == {("t1", False), ("801", False)}
    assert bench.of(Loop)[-1].current is False  # the call on the trunk is over
    drv.command(OnHook("t1"))  # ignored with a warning, no traceback
    bench.run(2.0)
    assert len(bench.of(LineAlarm)) == 2  # still out, no flapping
    fake.restore()
    bench.run(1.1)
    assert [(e.line, e.ok) for e in bench.of(LineAlarm)][2:] == [("t1", True), ("801", True)]
    assert drv.describe()["stats"]["reopens"] == 2
    fake.play(1, tone(1000, 0.1))
    bench.run(0.2)
    assert np.any(bench.rx[-1][0]) or np.any(bench.rx[-2][0])


async def test_removed_event() -> None:
    fake, _drv, bench = await make()
    fake.event(2, dio.DAHDI_EVENT_REMOVED)
    bench.run(0.04)
    assert [(e.line, e.ok) for e in bench.of(LineAlarm)] == [("801", False)]


async def test_one_bad_channel_does_not_stop_the_others() -> None:
    clock = VirtualClock()
    fake = FakeDahdi(clock)
    fake.add(1, "fxo")
    fake.add(2, "fxs")
    fake.fail_open.add(2)
    drv = load_driver_class("dahdi")(
        "board", [TRUNK, EXT], {"channels": [1, 2], "clock": clock, "backend": fake, "reopen_interval": 0.5}
    )
    await drv.open()
    bench = Bench(drv, clock)
    fake.event(1, dio.DAHDI_EVENT_RINGOFFHOOK)
    bench.run(0.1)
    assert bench.of(Ring) and [(e.line, e.ok) for e in bench.of(LineAlarm)] == [("801", False)]
    fake.fail_open.clear()
    bench.run(0.6)
    assert [(e.line, e.ok) for e in bench.of(LineAlarm)] == [("801", False), ("801", True)]


async def test_no_dahdi_on_this_machine() -> None:
    drv = load_driver_class("dahdi")(
        "board", [TRUNK], {"channels": [1], "device": "/nonexistent/dahdi/channel", "clock": VirtualClock()}
    )
    with pytest.raises(DriverUnavailable, match="DAHDI kernel module"):
        await drv.open()


async def test_port_kind_mismatch_is_a_clear_error() -> None:
    clock = VirtualClock()
    fake = FakeDahdi(clock)
    fake.add(1, "fxs")
    drv = load_driver_class("dahdi")("board", [TRUNK], {"channels": [1], "clock": clock, "backend": fake})
    with pytest.raises(DriverUnavailable, match=r"channel 1 is an FXS port.*makes t1 a trunk"):
        await drv.open()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "no channels"),
        ({"channels": [1, 1]}, "distinct"),
        ({"channels": [1], "law": "slinear"}, "law must be one of"),
        ({"channels": [1], "speed": 3}, "unknown option"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DriverUnavailable, match=message):
        load_driver_class("dahdi")("board", [TRUNK], options)


def test_line_beyond_the_listed_channels() -> None:
    with pytest.raises(DriverUnavailable, match="only 1 DAHDI channel"):
        load_driver_class("dahdi")("board", [TRUNK, EXT], {"channels": [1]})


async def test_commands_a_port_cannot_do() -> None:
    _fake, drv, _ = await make()
    with pytest.raises(UnsupportedCommand, match="FXS port"):
        drv.command(OffHook("801"))
    with pytest.raises(UnsupportedCommand, match="only FXS ports ring"):
        drv.command(RingPhone("t1", on=True))
    with pytest.raises(UnsupportedCommand, match="in the audio"):
        drv.command(SendDtmf("t1", "123"))
    assert drv.capabilities("t1").hook_control and drv.capabilities("801").ring_phone


async def test_a_late_media_loop_drops_old_audio_instead_of_lagging() -> None:
    fake, drv, bench = await make("linear", jitter_frames=4)
    bench.clock.advance(1.0)  # the daemon stalled for a second: 50 frames are waiting
    fake.play(1, tone(1000, 2.0))
    bench.run(0.1)
    assert drv.describe()["stats"]["rx_dropped"] >= 40
