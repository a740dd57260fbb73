"""Property tests: the caller-ID codec and the modem are each other's inverse, and never crash."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccd.dsp.callerid import (
    CallerId,
    CallerIdReceiver,
    DtmfCidAssembler,
    decode_dtmf_cid,
    decode_message,
    encode_dtmf_cid,
    encode_mdmf,
    encode_sdmf,
)
from ccd.dsp.fsk import FskDemodulator, fsk_modulate
from ccd.dsp.levels import dbm0_to_rms

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AUDIO = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _gb2312_level1() -> list[str]:
    """Every level-1 GB2312 hanzi (rows 0xB0-0xD7): what Chinese exchanges send names in."""
    out = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:  # the few unassigned cells at the end of row 0xD7
                pass
    return out


HANZI = _gb2312_level1()
KNOWN = {0x01, 0x02, 0x04, 0x07, 0x08}

digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
datetimes = st.builds(
    lambda mo, d, h, mi: f"{mo:02d}{d:02d}{h:02d}{mi:02d}",
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
)
names = st.one_of(
    st.text(alphabet=st.sampled_from(HANZI), min_size=1, max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20),
)
absence = st.sampled_from(["P", "O"])
extras = st.dictionaries(
    st.integers(0, 255).filter(lambda t: t not in KNOWN), st.binary(min_size=1, max_size=12), max_size=3
)


@st.composite
def mdmf_cids(draw: st.DrawFn) -> CallerId:
    cid = CallerId(
        "mdmf",
        datetime=draw(st.none() | datetimes),
        number=draw(st.none() | digits),
        number_absent=draw(st.none() | absence),
        name=draw(st.none() | names),
        name_absent=draw(st.none() | absence),
        extra=draw(extras),
    )
    if not (cid.number or cid.number_absent or cid.name or cid.name_absent or cid.extra):
        cid.number = draw(digits)
    return cid


@st.composite
def sdmf_cids(draw: st.DrawFn) -> CallerId:
    if draw(st.booleans()):
        return CallerId("sdmf", datetime=draw(datetimes), number=draw(digits))
    return CallerId("sdmf", datetime=draw(datetimes), number_absent=draw(absence))


FIELDS = ("format", "number", "name", "datetime", "number_absent", "name_absent", "extra")


def assert_same(got: CallerId | None, sent: CallerId) -> None:
    assert got is not None
    assert got.valid, got.errors
    for f in FIELDS:
        assert getattr(got, f) == getattr(sent, f), f


@FAST
@given(mdmf_cids())
def test_mdmf_encode_decode_is_identity(cid: CallerId) -> None:
    msg = encode_mdmf(cid)
    got = decode_message(msg)
    assert_same(got, cid)
    assert got is not None and got.raw == msg[:-1]


@FAST
@given(sdmf_cids())
def test_sdmf_encode_decode_is_identity(cid: CallerId) -> None:
    assert_same(decode_message(encode_sdmf(cid)), cid)


@FAST
@given(st.binary(max_size=300))
def test_decoding_random_bytes_never_raises(data: bytes) -> None:
    got = decode_message(data)
    assert got is None or isinstance(got, CallerId)


@FAST
@given(st.sampled_from([0x04, 0x80, 0x06, 0x82]), st.binary(max_size=80))
def test_decoding_random_bodies_of_real_types_never_raises(msg_type: int, body: bytes) -> None:
    data = bytes((msg_type, len(body))) + body
    data += bytes(((-sum(data)) & 0xFF,))  # even with a checksum that agrees
    got = decode_message(data)
    assert got is not None and got.checksum_ok


@FAST
@given(
    st.one_of(
        digits.map(lambda n: CallerId("dtmf", number=n)),
        absence.map(lambda a: CallerId("dtmf", number_absent=a)),
    ),
    st.sampled_from(["china", "etsi1", "etsi2", "taiwan", "dk"]),
)
def test_dtmf_cid_string_identity_and_assembly(cid: CallerId, variant: str) -> None:
    s = encode_dtmf_cid(cid, variant)
    got = decode_dtmf_cid(s)
    assert got is not None and (got.number, got.number_absent) == (cid.number, cid.number_absent)
    asm = DtmfCidAssembler()
    out = [c for i, d in enumerate(s) if (c := asm.feed(d, i * 1280)) is not None]
    assert [(c.number, c.number_absent) for c in out] == [(cid.number, cid.number_absent)]


@FAST
@given(st.text(max_size=30))
def test_decoding_random_dtmf_text_never_raises(text: str) -> None:
    got = decode_dtmf_cid(text)
    assert got is None or got.format == "dtmf"


@AUDIO
@given(
    mdmf_cids() | sdmf_cids(),
    st.sampled_from(["bell202", "v23"]),
    st.integers(0, 2**32 - 1),
    st.floats(20.0, 40.0),
)
def test_encode_modulate_noise_demodulate_decode_is_identity(
    cid: CallerId, standard: str, seed: int, snr: float
) -> None:
    rng = np.random.default_rng(seed)
    msg = encode_sdmf(cid) if cid.format == "sdmf" else encode_mdmf(cid)
    burst = fsk_modulate(
        msg,
        standard,
        seizure_bits=int(rng.integers(150, 301)),
        mark_bits=int(rng.integers(55, 181)),
        extra_mark_bits=int(rng.integers(0, 21)),
        baud_error_pct=float(rng.uniform(-1, 1)),
        carrier_error_pct=float(rng.uniform(-1, 1)),
    )
    x = np.concatenate((np.zeros(int(rng.integers(100, 1600))), burst, np.zeros(1600)))
    x += rng.normal(0.0, dbm0_to_rms(-13.5) / 10 ** (snr / 20), x.size)
    audio = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    rx = CallerIdReceiver()
    events = []
    for i in range(0, audio.size, 160):
        events += rx.process(audio[i : i + 160])
    assert len(events) == 1
    assert_same(events[0].cid, cid)
    assert events[0].cid.raw == msg[:-1]


@AUDIO
@given(st.binary(min_size=1, max_size=64), st.sampled_from(["bell202", "v23"]), st.integers(1, 400))
def test_modem_round_trip_for_any_bytes_and_block_size(data: bytes, standard: str, block: int) -> None:
    audio = np.concatenate(
        (np.zeros(300, np.int16), fsk_modulate(data, standard, seizure_bits=0, mark_bits=20))
    )
    demod = FskDemodulator(standard)
    got = []
    for i in range(0, audio.size, block):
        got += demod.process(audio[i : i + block])
    assert bytes(v for _, v in got) == data
