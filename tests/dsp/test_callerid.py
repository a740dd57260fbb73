"""Caller-ID codec: SDMF/MDMF bytes, damaged frames, DTMF caller ID strings and the digit assembler."""

from __future__ import annotations

import numpy as np
import pytest

from ccd.dsp.callerid import (
    CallerId,
    DtmfCidAssembler,
    cid_audio,
    decode_dtmf_cid,
    decode_message,
    encode_dtmf_cid,
    encode_mdmf,
    encode_sdmf,
)

# Bellcore's textbook SDMF example: 30 Sept 12:24, (609) 555-1212, checksum 0x51.
BELLCORE_SDMF = bytes.fromhex("04123039333031323234363039353535313231325" + "1")


def frame(msg_type: int, body: bytes) -> bytes:
    head = bytes((msg_type, len(body))) + body
    return head + bytes(((-sum(head)) & 0xFF,))


# --------------------------------------------------------------------------- FSK messages


def test_sdmf_matches_the_bellcore_example_byte_for_byte() -> None:
    cid = CallerId("sdmf", number="6095551212", datetime="09301224")
    assert encode_sdmf(cid) == BELLCORE_SDMF
    got = decode_message(BELLCORE_SDMF)
    assert got is not None and got.valid
    assert (got.format, got.number, got.datetime) == ("sdmf", "6095551212", "09301224")
    assert got.raw == BELLCORE_SDMF[:-1]


def test_mdmf_with_a_chinese_name_in_gbk() -> None:
    cid = CallerId("mdmf", number="13800138000", name="张三", datetime="11221530")
    msg = encode_mdmf(cid)
    # 0x80, length, 01 08 "11221530", 02 0b "13800138000", 07 04 GBK(张三) = d5c5 c8fd, checksum
    assert msg == frame(0x80, b"\x01\x0811221530\x02\x0b13800138000\x07\x04\xd5\xc5\xc8\xfd")
    got = decode_message(msg)
    assert got is not None and got.valid
    assert (got.number, got.name, got.datetime) == ("13800138000", "张三", "11221530")


@pytest.mark.parametrize("reason", ["P", "O"])
def test_absence_reasons_in_sdmf_and_mdmf(reason: str) -> None:
    sdmf = decode_message(encode_sdmf(CallerId("sdmf", datetime="01020304", number_absent=reason)))
    assert sdmf is not None and sdmf.valid and sdmf.number is None and sdmf.number_absent == reason
    mdmf = decode_message(encode_mdmf(CallerId("mdmf", number_absent=reason, name_absent=reason)))
    assert mdmf is not None and mdmf.valid
    assert (mdmf.number, mdmf.number_absent, mdmf.name_absent) == (None, reason, reason)


def test_unknown_mdmf_parameters_are_kept_raw() -> None:
    msg = frame(0x80, b"\x02\x0355\x35\x11\x01\x81\x0b\x01\xff")
    got = decode_message(msg)
    assert got is not None and got.valid
    assert got.number == "555"
    assert got.extra == {0x11: b"\x81", 0x0B: b"\xff"}


def test_bad_checksum_reports_what_parsed_without_raising() -> None:
    msg = bytearray(encode_mdmf(CallerId("mdmf", number="13800138000", name="李四")))
    msg[-1] ^= 0x01
    got = decode_message(bytes(msg))
    assert got is not None
    assert not got.checksum_ok and not got.valid
    assert (got.number, got.name) == ("13800138000", "李四")


def test_valid_checksum_with_broken_structure_is_not_valid() -> None:
    # checksum agrees, but the number parameter claims 9 bytes where 3 remain
    overrun = decode_message(frame(0x80, b"\x02\x09123"))
    assert overrun is not None and overrun.checksum_ok and not overrun.valid
    assert any("overruns" in e for e in overrun.errors)
    # letters in a number: noise, not a caller
    letters = decode_message(frame(0x04, b"09301224" + b"60A5\x01"))
    assert letters is not None and letters.checksum_ok and not letters.valid
    # implausible length for SDMF
    short = decode_message(frame(0x04, b"0930"))
    assert short is not None and not short.valid
    # a date that is not digits
    date = decode_message(frame(0x80, b"\x01\x080930x224\x02\x01" + b"5"))
    assert date is not None and not date.valid
    # MDMF with nothing in it
    empty = decode_message(frame(0x80, b""))
    assert empty is not None and not empty.valid


def test_name_that_is_not_gbk_falls_back_to_latin1_with_a_note() -> None:
    got = decode_message(frame(0x80, b"\x02\x025\x35\x07\x04Jos\xe9"))
    assert got is not None and got.valid  # a readable frame, just not in GBK
    assert got.name == "José"
    assert any("Latin-1" in e for e in got.errors)


def test_long_fields_are_truncated_with_a_note() -> None:
    got = decode_message(frame(0x80, b"\x02\x50" + b"1" * 80))
    assert got is not None and got.valid
    assert got.number == "1" * 64 and any("truncated" in e for e in got.errors)


def test_message_waiting_frames_are_recognised() -> None:
    on = decode_message(frame(0x06, b"\x42\x42\x42"))
    off = decode_message(frame(0x06, b"\x6f\x6f\x6f"))
    mdmf_on = decode_message(frame(0x82, b"\x0b\x01\xff"))
    assert on is not None and on.format == "mwi" and on.valid and on.message_waiting is True
    assert off is not None and off.message_waiting is False
    assert mdmf_on is not None and mdmf_on.format == "mwi" and mdmf_on.message_waiting is True


@pytest.mark.parametrize(
    "data",
    [b"", b"\x04", b"\x80\x10", b"\x00\x03abc", b"\x55\x55\x55", b"\xff" * 300, bytearray(b"\x80\x00")],
)
def test_short_or_foreign_data_never_raises(data: bytes) -> None:
    got = decode_message(data)
    if got is not None:
        assert not got.valid


def test_truncated_message_is_flagged() -> None:
    full = encode_sdmf(CallerId("sdmf", number="5551234", datetime="12312359"))
    got = decode_message(full[:10])
    assert got is not None and not got.checksum_ok
    assert any("cut off" in e for e in got.errors)


def test_encoders_refuse_what_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="datetime"):
        encode_sdmf(CallerId("sdmf", number="123"))
    with pytest.raises(ValueError, match="number"):
        encode_sdmf(CallerId("sdmf", datetime="01010000"))
    with pytest.raises(ValueError, match="number"):
        encode_mdmf(CallerId("mdmf", number="12ab"))
    with pytest.raises(ValueError, match="MMDDHHMM"):
        encode_mdmf(CallerId("mdmf", number="1", datetime="1/1"))
    with pytest.raises(ValueError, match="'P'"):
        encode_mdmf(CallerId("mdmf", number_absent="X"))
    with pytest.raises(ValueError, match="gbk"):
        encode_mdmf(CallerId("mdmf", name="🙂"))
    with pytest.raises(ValueError, match="at least one"):
        encode_mdmf(CallerId("mdmf"))
    with pytest.raises(ValueError, match="reserved"):
        encode_mdmf(CallerId("mdmf", extra={0x02: b"1"}))


# --------------------------------------------------------------------------- DTMF caller ID


@pytest.mark.parametrize(
    ("variant", "number", "absent", "expected"),
    [
        ("china", "13800138000", None, "A13800138000C"),
        ("etsi1", "0123456", None, "A0123456C"),
        ("etsi2", "0123456", None, "A0123456#"),
        ("taiwan", "0223456789", None, "D0223456789C"),
        ("dk", "12345678", None, "12345678#"),
        ("china", None, "P", "B10C"),
        ("china", None, "O", "B00C"),
        ("etsi1", None, "P", "B10C"),
        ("etsi2", None, "P", "D1#"),
        ("etsi2", None, "O", "D3#"),
        ("dk", None, "O", "D3#"),
    ],
)
def test_dtmf_cid_strings_per_variant(
    variant: str, number: str | None, absent: str | None, expected: str
) -> None:
    cid = CallerId("dtmf", number=number, number_absent=absent)
    assert encode_dtmf_cid(cid, variant) == expected
    back = decode_dtmf_cid(expected)
    assert back is not None and back.format == "dtmf"
    assert (back.number, back.number_absent) == (number, absent)


@pytest.mark.parametrize(
    ("digits", "number", "absent"),
    [
        ("D13800138000#", "13800138000", None),  # China: any of A B C D * # as start and end
        ("*13800138000*", "13800138000", None),
        ("#01088886666#", "01088886666", None),
        ("B13800138000C", "13800138000", None),  # B + more than two digits is a number, not a code
        ("D2#", None, "O"),  # ETSI: international (not available)
        ("a123c", "123", None),
        (" A 123 C ", "123", None),
        ("A123D456B00C", "123", None),  # ETSI variant 1 with a redirecting number
    ],
)
def test_dtmf_cid_decoding_of_other_forms(digits: str, number: str | None, absent: str | None) -> None:
    got = decode_dtmf_cid(digits)
    assert got is not None
    assert (got.number, got.number_absent) == (number, absent)


@pytest.mark.parametrize("digits", ["", "AC", "A#", "C", "hello", "A12X3C", "##", "5A", "123C", "12##"])
def test_dtmf_cid_rejects_non_caller_id(digits: str) -> None:
    assert decode_dtmf_cid(digits) is None


def test_dtmf_cid_encoder_errors() -> None:
    with pytest.raises(ValueError, match="variant"):
        encode_dtmf_cid(CallerId("dtmf", number="1"), "mars")
    with pytest.raises(ValueError, match="digits"):
        encode_dtmf_cid(CallerId("dtmf", number="+861380"))
    with pytest.raises(ValueError, match="number"):
        encode_dtmf_cid(CallerId("dtmf"))


def feed_all(asm: DtmfCidAssembler, digits: str, start: int = 0, step: int = 1280) -> list[CallerId]:
    out = []
    for i, d in enumerate(digits):
        cid = asm.feed(d, start + i * step)
        if cid is not None:
            out.append(cid)
    return out


def test_assembler_yields_one_frame_per_burst() -> None:
    asm = DtmfCidAssembler()
    got = feed_all(asm, "A13800138000C")
    assert [c.number for c in got] == ["13800138000"]
    assert asm.last_span == (0, 12 * 1280)
    # the next call, seconds later: special code for a withheld number
    got = feed_all(asm, "B10C", start=80_000)
    assert [c.number_absent for c in got] == ["P"]


def test_assembler_swallows_the_tail_of_an_etsi_frame_and_restarts_after_a_gap() -> None:
    asm = DtmfCidAssembler()
    assert [c.number for c in feed_all(asm, "A123D456B00C")] == ["123"]
    # a stray digit half a minute later does not glue onto anything; a full frame still works
    assert feed_all(asm, "7", start=240_000) == []
    assert [c.number for c in feed_all(asm, "D0223456789C", start=480_000)] == ["0223456789"]


def test_assembler_abandons_a_frame_interrupted_by_a_long_gap() -> None:
    asm = DtmfCidAssembler()
    assert feed_all(asm, "A1380") == []
    got = feed_all(asm, "A555C", start=100_000)  # 12 s later: a new burst
    assert [c.number for c in got] == ["555"]


def test_assembler_recovers_from_a_doubled_start_character() -> None:
    assert [c.number for c in feed_all(DtmfCidAssembler(), "AA13800138000C")] == ["13800138000"]


def test_assembler_ignores_a_stray_digit_before_the_frame() -> None:
    assert [c.number for c in feed_all(DtmfCidAssembler(), "5A13800138000C")] == ["13800138000"]
    assert [c.number for c in feed_all(DtmfCidAssembler(), "12345678#")] == ["12345678"]


def test_assembler_refuses_non_digits() -> None:
    with pytest.raises(ValueError, match="DTMF digit"):
        DtmfCidAssembler().feed("x", 0)
    with pytest.raises(ValueError, match="DTMF digit"):
        DtmfCidAssembler().feed("12", 0)


@pytest.mark.parametrize("variant", ["china", "etsi2"])
def test_dtmf_caller_id_through_audio(variant: str) -> None:
    dtmf = pytest.importorskip("ccd.dsp.dtmf")
    cid = CallerId("dtmf", number="13800138000")
    audio = np.concatenate(
        (np.zeros(800, np.int16), cid_audio(cid, "dtmf", variant=variant), np.zeros(800, np.int16))
    )
    det = dtmf.DtmfDetector()
    asm = DtmfCidAssembler()
    got = []
    for i in range(0, audio.size, 160):
        for ev in det.process(audio[i : i + 160]):
            cid_out = asm.feed(ev.digit, ev.start)
            if cid_out is not None:
                got.append(cid_out)
    assert [c.number for c in got] == ["13800138000"]


def test_cid_audio_rejects_unknown_modulation_and_format() -> None:
    cid = CallerId("mdmf", number="1")
    with pytest.raises(ValueError, match="modulation"):
        cid_audio(cid, "fsk-v21")
    with pytest.raises(ValueError, match="format"):
        cid_audio(cid, "fsk-bell202", fmt="xdmf")
