"""Caller ID heard from line audio: the figures of issue 2 (every frame at 20 dB SNR through G.711
with ±1 % baud/carrier error and extra mark bits; at 10 dB at least what spandsp decodes)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from ccd.dsp.callerid import CallerId, CallerIdEvent, CallerIdReceiver, cid_audio, encode_mdmf, encode_sdmf
from ccd.dsp.fsk import fsk_modulate
from ccd.dsp.levels import dbm0_to_rms

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 reference: stdlib on 3.11/3.12, audioop-lts on 3.13+

LEVEL = -13.5
NAMES = ["张三", "李四", "王小明", "欧阳娜娜", "ACME LTD", "Zhou Wei", "赵", "陈秀英"]


def random_cid(rng: np.random.Generator, fmt: str) -> CallerId:
    dt = f"{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}{rng.integers(0, 24):02d}{rng.integers(0, 60):02d}"
    cid = CallerId(fmt, datetime=dt)
    if rng.random() < 0.15:
        cid.number_absent = "P" if rng.random() < 0.5 else "O"
    else:
        cid.number = "1" + "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(6, 11))))
    if fmt == "mdmf":
        if rng.random() < 0.8:
            cid.name = NAMES[int(rng.integers(len(NAMES)))]
        else:
            cid.name_absent = "O"
    return cid


def g711(audio: np.ndarray, law: str) -> np.ndarray:
    if law == "none":
        return audio
    to, back = {"ulaw": (audioop.lin2ulaw, audioop.ulaw2lin), "alaw": (audioop.lin2alaw, audioop.alaw2lin)}[
        law
    ]
    return np.frombuffer(back(to(audio.astype("<i2").tobytes(), 2), 2), "<i2").astype(np.int16)


def line(burst: np.ndarray, rng: np.random.Generator, snr_db: float | None, law: str = "none") -> np.ndarray:
    """Burst between stretches of line noise, as it sits between two rings."""
    x = np.concatenate((np.zeros(int(rng.integers(400, 2000))), burst.astype(float), np.zeros(1600)))
    if snr_db is not None:
        x += rng.normal(0.0, dbm0_to_rms(LEVEL) / 10 ** (snr_db / 20), x.size)
    return g711(np.clip(np.round(x), -32768, 32767).astype(np.int16), law)


def receive(audio: np.ndarray, standard: str = "auto", block: int = 160) -> list[CallerIdEvent]:
    rx = CallerIdReceiver(standard)
    events: list[CallerIdEvent] = []
    for i in range(0, audio.size, block):
        events += rx.process(audio[i : i + block])
    events += rx.process(np.zeros(2400, np.int16))
    return events


def same(a: CallerId, b: CallerId) -> bool:
    fields = ("format", "number", "name", "datetime", "number_absent", "name_absent", "extra")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize("fmt", ["sdmf", "mdmf"])
@pytest.mark.parametrize("law", ["none", "ulaw", "alaw"])
def test_every_frame_at_20db_with_timing_and_carrier_error(standard: str, fmt: str, law: str) -> None:
    rng = np.random.default_rng([20, len(standard), len(fmt), len(law)])
    for k in range(10):
        cid = random_cid(rng, fmt)
        burst = cid_audio(
            cid,
            f"fsk-{standard}",
            fmt,
            seizure_bits=int(rng.integers(150, 301)),  # China sends 150-300
            mark_bits=int(rng.integers(80, 181)),
            extra_mark_bits=[0, 20, 3, 11][k % 4],
            baud_error_pct=[1.0, -1.0][k % 2] * rng.uniform(0.5, 1.0),
            carrier_error_pct=[-1.0, 1.0][(k // 2) % 2] * rng.uniform(0.5, 1.0),
        )
        events = receive(line(burst, rng, 20.0, law))
        assert len(events) == 1, (k, events)
        got = events[0].cid
        assert got.valid and same(got, cid), (k, got, cid)


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_the_receiver_told_the_standard_also_decodes(standard: str) -> None:
    rng = np.random.default_rng(3)
    cid = random_cid(rng, "mdmf")
    events = receive(line(cid_audio(cid, f"fsk-{standard}"), rng, 25.0), standard)
    assert len(events) == 1 and same(events[0].cid, cid)


@pytest.mark.parametrize("seizure, mark", [(0, 180), (300, 55), (0, 10), (96, 55), (150, 180)])
def test_any_seizure_and_mark_length(seizure: int, mark: int) -> None:
    rng = np.random.default_rng(seizure + mark)
    cid = CallerId("mdmf", number="13800138000", name="张三", datetime="11221530")
    burst = cid_audio(cid, seizure_bits=seizure, mark_bits=mark)
    events = receive(line(burst, rng, 25.0))
    assert len(events) == 1 and same(events[0].cid, cid)


def test_event_span_covers_the_message_on_the_line() -> None:
    cid = CallerId("mdmf", number="13800138000", name="张三")
    msg = encode_mdmf(cid)
    lead = 1234
    audio = np.concatenate((np.zeros(lead, np.int16), fsk_modulate(msg), np.zeros(800, np.int16)))
    (ev,) = receive(audio)
    first = lead + (300 + 180) * 8000 / 1200
    assert ev.start == pytest.approx(first, abs=2)
    assert ev.end == pytest.approx(first + len(msg) * 10 * 8000 / 1200, abs=3)


def test_two_calls_on_one_stream_in_odd_block_sizes() -> None:
    rng = np.random.default_rng(11)
    a = CallerId("mdmf", number="13800138000", name="张三")
    b = CallerId("sdmf", number="02088886666", datetime="12312359")
    audio = np.concatenate((line(cid_audio(a), rng, 30.0), line(cid_audio(b, "fsk-v23", "sdmf"), rng, 30.0)))
    rx = CallerIdReceiver()
    events: list[CallerIdEvent] = []
    pos = 0
    while pos < audio.size:
        n = int(rng.integers(1, 700))
        events += rx.process(audio[pos : pos + n])
        pos += n
    assert [e.cid.number for e in events] == ["13800138000", "02088886666"]
    assert events[0].end < events[1].start


def test_a_whole_recording_in_one_call() -> None:
    """`ccd dsp decode` may hand over a whole file: frames far apart must all come out."""
    rng = np.random.default_rng(8)
    numbers = [f"1380013800{k}" for k in range(5)]
    parts = []
    for number in numbers:
        parts += [
            np.zeros(int(rng.integers(8000, 48000)), np.int16),
            cid_audio(CallerId("mdmf", number=number)),
        ]
    audio = np.concatenate([*parts, np.zeros(4000, np.int16)])
    assert [e.cid.number for e in CallerIdReceiver().process(audio)] == numbers


def test_noise_silence_and_tones_produce_no_caller_id() -> None:
    rng = np.random.default_rng(99)
    noise = rng.normal(0.0, dbm0_to_rms(-25.0), 8000 * 20)
    t = np.arange(8000 * 3) / 8000
    tones = 3000 * (np.sin(2 * np.pi * 1200 * t) + np.sin(2 * np.pi * 2200 * t * (1 + 0.01 * np.sin(7 * t))))
    chirp = 6000 * np.sin(2 * np.pi * (800 * t + 300 * t * t))  # sweeps across both tone pairs
    audio = np.concatenate((np.zeros(8000), noise, tones, chirp))
    assert receive(np.clip(np.round(audio), -32768, 32767).astype(np.int16)) == []


def test_a_frame_with_a_bad_checksum_is_reported_damaged() -> None:
    msg = bytearray(encode_mdmf(CallerId("mdmf", number="13800138000", name="王五")))
    msg[-1] ^= 0x20  # what a corrupted checksum byte looks like after demodulation
    events = receive(np.concatenate((np.zeros(800, np.int16), fsk_modulate(bytes(msg)))))
    assert len(events) == 1
    got = events[0].cid
    assert not got.checksum_ok and not got.valid
    assert (got.number, got.name) == ("13800138000", "王五")


def test_a_burst_cut_off_mid_message_is_reported_with_what_was_heard() -> None:
    msg = encode_mdmf(CallerId("mdmf", number="13800138000", name="欧阳娜娜", datetime="11221530"))
    burst = fsk_modulate(msg[:-6], postamble_bits=0)  # the line drops before the name is complete
    events = receive(np.concatenate((np.zeros(800, np.int16), burst, np.zeros(8000, np.int16))))
    assert len(events) == 1
    got = events[0].cid
    assert not got.valid and any("cut off" in e for e in got.errors)
    assert (got.number, got.datetime) == ("13800138000", "11221530")


def test_one_event_per_frame_in_auto_mode_even_when_both_demodulators_hear_it() -> None:
    rng = np.random.default_rng(5)
    for standard in ("bell202", "v23"):
        cid = random_cid(rng, "mdmf")
        events = receive(line(cid_audio(cid, f"fsk-{standard}"), rng, 30.0))
        assert len(events) == 1


def test_reset_and_bad_audio() -> None:
    rx = CallerIdReceiver()
    assert rx.process(np.zeros(0, np.int16)) == []
    with pytest.raises(ValueError, match="NaN or infinite"):
        rx.process(np.array([0.0, float("nan")]))
    with pytest.raises(ValueError, match="unknown standard"):
        CallerIdReceiver("v21")
    audio = cid_audio(CallerId("mdmf", number="5551234"))
    rx.process(audio[: audio.size - 400])  # cut off mid-message, then the line is reset
    rx.reset()
    assert rx.process(np.concatenate((audio[-400:], np.zeros(2400, np.int16)))) == []


def _spandsp():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.spandsp_adsi import spandsp_adsi_messages, spandsp_available

    if not spandsp_available():
        pytest.skip("libspandsp is not installed")
    return spandsp_adsi_messages


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_at_10db_at_least_as_many_frames_as_spandsp(standard: str) -> None:
    spandsp_adsi_messages = _spandsp()
    rng = np.random.default_rng([10, len(standard)])
    ours = theirs = 0
    frames = 40
    for k in range(frames):
        fmt = "mdmf" if k % 2 else "sdmf"
        cid = random_cid(rng, fmt)
        audio = line(
            cid_audio(
                cid,
                f"fsk-{standard}",
                fmt,
                baud_error_pct=rng.uniform(-1, 1),
                carrier_error_pct=rng.uniform(-1, 1),
            ),
            rng,
            10.0,
        )
        raw = (encode_mdmf(cid) if fmt == "mdmf" else encode_sdmf(cid))[:-1]
        ours += any(e.cid.valid and e.cid.raw == raw for e in receive(audio))
        theirs += raw in spandsp_adsi_messages(audio, standard)
    assert ours >= theirs
    assert ours >= 0.95 * frames
