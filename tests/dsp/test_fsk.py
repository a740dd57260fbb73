"""FSK modem (Bell 202 / V.23, 1200 baud, 8N1): what the caller-ID path relies on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ccd.dsp.fsk import FSK_STANDARDS, FskDemodulator, fsk_modulate
from ccd.dsp.levels import dbm0_to_peak, dbm0_to_rms, power_dbm0

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 reference: stdlib on 3.11/3.12, audioop-lts on 3.13+

STANDARDS = sorted(FSK_STANDARDS)
ALL_BYTES = bytes(range(256))


def demodulate(audio: np.ndarray, standard: str, block: int = 160) -> list[tuple[int, int]]:
    demod = FskDemodulator(standard)
    out: list[tuple[int, int]] = []
    for i in range(0, audio.size, block):
        out += demod.process(audio[i : i + block])
    return out


def payload(chars: list[tuple[int, int]], data: bytes) -> bytes:
    """The decoded byte run that should equal `data` (after the seizure's 0x55s and any noise)."""
    got = bytes(v for _, v in chars)
    i = got.find(data[:4])
    return got[i : i + len(data)] if i >= 0 else got


def with_silence(audio: np.ndarray, lead: int = 400, tail: int = 400) -> np.ndarray:
    return np.concatenate((np.zeros(lead, np.int16), audio, np.zeros(tail, np.int16)))


def ulaw(x: np.ndarray) -> np.ndarray:
    return np.frombuffer(audioop.ulaw2lin(audioop.lin2ulaw(x.astype("<i2").tobytes(), 2), 2), "<i2")


def alaw(x: np.ndarray) -> np.ndarray:
    return np.frombuffer(audioop.alaw2lin(audioop.lin2alaw(x.astype("<i2").tobytes(), 2), 2), "<i2")


# --------------------------------------------------------------------------- modulator


@pytest.mark.parametrize("standard", STANDARDS)
def test_burst_length_level_and_bit_layout(standard: str) -> None:
    data = b"\x80\x01\x02"
    audio = fsk_modulate(data, standard, seizure_bits=300, mark_bits=180, postamble_bits=5)
    bits = 300 + 180 + 10 * len(data) + 5
    assert audio.dtype == np.int16
    assert audio.size == pytest.approx(bits * 8000 / 1200, abs=1)
    assert power_dbm0(audio) == pytest.approx(-13.5, abs=0.2)
    # the seizure starts with a space (0) bit: the first bit's tone is the space frequency
    mark, space = FSK_STANDARDS[standard]
    first_bit = audio[:6].astype(float)
    t = np.arange(6) / 8000
    e_space = abs(np.dot(first_bit, np.exp(-2j * np.pi * space * t)))
    e_mark = abs(np.dot(first_bit, np.exp(-2j * np.pi * mark * t)))
    assert e_space > e_mark


@pytest.mark.parametrize("standard", STANDARDS)
def test_modulation_is_phase_continuous(standard: str) -> None:
    audio = fsk_modulate(bytes(range(0, 256, 3)), standard, level_dbm0=-3.0).astype(float)
    peak = dbm0_to_peak(-3.0)
    # a sine at the highest tone changes by at most 2*pi*f/rate*peak per sample; a phase jump more
    top = max(FSK_STANDARDS[standard]) * 2 * np.pi / 8000 * peak
    assert np.max(np.abs(np.diff(audio))) <= top * 1.02 + 1


def test_modulator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown FSK standard"):
        fsk_modulate(b"x", "v21")
    with pytest.raises(ValueError, match="seizure_bits"):
        fsk_modulate(b"x", seizure_bits=-1)
    with pytest.raises(ValueError, match="level_dbm0"):
        fsk_modulate(b"x", level_dbm0=float("nan"))
    with pytest.raises(ValueError, match="baud"):
        fsk_modulate(b"x", baud=0)
    assert fsk_modulate(b"", seizure_bits=0, mark_bits=0, postamble_bits=0).size == 0


# --------------------------------------------------------------------------- demodulator


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("block", [1, 37, 160, 100_000])
def test_every_byte_value_round_trips_in_any_block_size(standard: str, block: int) -> None:
    audio = with_silence(fsk_modulate(ALL_BYTES, standard))
    if block == 1:
        data = ALL_BYTES[:40]  # per-sample feeding is slow in Python; a few dozen bytes will do
        audio = audio[: 400 + round((480 + 10 * len(data) + 5) * 8000 / 1200)]
    else:
        data = ALL_BYTES
    assert payload(demodulate(audio, standard, block), data) == data


@pytest.mark.parametrize("standard", STANDARDS)
def test_start_sample_of_each_character(standard: str) -> None:
    lead = 1000
    audio = with_silence(fsk_modulate(b"\x80\x10\xff", standard, seizure_bits=0, mark_bits=30), lead)
    chars = demodulate(audio, standard)
    assert [v for _, v in chars] == [0x80, 0x10, 0xFF]
    expected = [lead + (30 + 10 * i) * 8000 / 1200 for i in range(3)]
    assert [s for s, _ in chars] == pytest.approx(expected, abs=2)


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize(
    ("baud_err", "carrier_err", "extra"),
    [(1.0, 1.5, 0), (-1.0, -1.5, 0), (1.0, -1.5, 20), (-1.0, 1.5, 20), (0.0, 0.0, 7)],
)
def test_tolerates_baud_and_carrier_error_and_extra_mark_bits(
    standard: str, baud_err: float, carrier_err: float, extra: int
) -> None:
    data = bytes(range(0, 256, 5))
    audio = fsk_modulate(
        data, standard, baud_error_pct=baud_err, carrier_error_pct=carrier_err, extra_mark_bits=extra
    )
    assert payload(demodulate(with_silence(audio), standard), data) == data


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("level", [-3.0, -13.5, -36.0])
def test_works_across_the_receive_level_range(standard: str, level: float) -> None:
    data = bytes(range(40, 120))
    audio = fsk_modulate(data, standard, level_dbm0=level)
    assert payload(demodulate(with_silence(audio), standard), data) == data


@pytest.mark.parametrize("standard", STANDARDS)
@pytest.mark.parametrize("codec", [ulaw, alaw])
def test_through_g711_with_noise(standard: str, codec) -> None:
    rng = np.random.default_rng(7)
    data = bytes(rng.integers(0, 256, 120, dtype=np.uint8))
    clean = with_silence(fsk_modulate(data, standard)).astype(float)
    noisy = clean + rng.normal(0, dbm0_to_rms(-13.5 - 20.0), clean.size)
    audio = codec(np.clip(np.round(noisy), -32768, 32767).astype(np.int16))
    assert payload(demodulate(audio, standard), data) == data


def test_silence_gives_no_characters() -> None:
    assert demodulate(np.zeros(16000, np.int16), "bell202") == []


def test_reset_forgets_a_half_received_character() -> None:
    demod = FskDemodulator("bell202")
    audio = fsk_modulate(b"\x41\x42", seizure_bits=0, mark_bits=20, postamble_bits=20)
    demod.process(audio[: 20 * 7 + 30])  # into the first character
    demod.reset()
    got = demod.process(np.concatenate((np.zeros(400, np.int16), fsk_modulate(b"\x43", seizure_bits=0))))
    assert [v for _, v in got] == [0x43]


def test_bad_audio_is_a_clear_error() -> None:
    demod = FskDemodulator()
    assert demod.process(np.zeros(0, np.int16)) == []
    with pytest.raises(ValueError, match="NaN or infinite"):
        demod.process(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        demod.process(np.array([np.inf] * 10))
    with pytest.raises(ValueError, match="one-dimensional"):
        demod.process(np.zeros((2, 160)))
    with pytest.raises(ValueError, match="integer or float"):
        demod.process(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="unknown FSK standard"):
        FskDemodulator("bell103")


def test_float_input_in_int16_units_decodes_like_int16() -> None:
    data = b"\x80\x05hello"
    audio = with_silence(fsk_modulate(data))
    assert payload(demodulate(audio.astype(np.float32), "bell202"), data) == data
