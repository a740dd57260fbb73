"""The pure parts of the modem driver: stream parser, caller-ID records, profiles, codecs."""

from __future__ import annotations

import numpy as np
import pytest

from ccd.drivers.modem.audio import Codec, choose_codec, parse_vsm_list
from ccd.drivers.modem.cid import CidAssembler, build_record
from ccd.drivers.modem.parser import (
    AudioData,
    CidLine,
    DleDtmf,
    DleEvent,
    EndOfData,
    Garbage,
    InfoLine,
    ModemParser,
    ResultCode,
    RingLine,
)
from ccd.drivers.modem.profiles import CONEXANT, GENERIC, USR5637, country_commands, profile_for_ati


def feed_all(chunks: list[bytes], armed: bool = False) -> list[object]:
    p = ModemParser()
    if armed:
        p.arm_audio()
    out: list[object] = []
    for c in chunks:
        out += p.feed(c)
    return out


# ---------------------------------------------------------------- command state


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"\r\nOK\r\n", [ResultCode("OK")]),
        (b"\r\nNO DIAL TONE\r\n", [ResultCode("NO DIALTONE")]),
        (b"\r\nNO ANSWER\r\n\r\nBUSY\r\n", [ResultCode("NO ANSWER"), ResultCode("BUSY")]),
        (b"\r\nRING\r\n", [RingLine()]),
        (b"\r\nRING A\r\n", [RingLine("A")]),
        (b"\r\n5601\r\n\r\nOK\r\n", [InfoLine("5601"), ResultCode("OK")]),
        (b"DATE=1122\r\n", [CidLine("DATE", "1122", False, "DATE=1122")]),
        (b"NMBR = 13800138000\r\n", [CidLine("NMBR", "13800138000", False, "NMBR = 13800138000")]),
        (b"NMBR = P\r\n", [CidLine("NMBR", "P", False, "NMBR = P")]),
        (b"\xff\xfeOK\r\n", [Garbage(b"\xff\xfeOK"), ResultCode("OK")]),  # noise before OK does not lose it
        (b"\x00\x01\x02\r\n", [Garbage(b"\x00\x01\x02")]),
        (b"\x10q", [DleEvent("q", "quiet")]),
        (b"\x10Z", [DleEvent("Z", "unknown")]),
    ],
)
def test_command_state_lines(stream: bytes, expected: list[object]) -> None:
    assert feed_all([stream]) == expected


@pytest.mark.parametrize("cut", range(1, 12))
def test_line_cut_anywhere(cut: int) -> None:
    stream = b"\r\nRING\r\nNMBR=1380\r\n"
    assert feed_all([stream[:cut], stream[cut:]]) == [RingLine(), CidLine("NMBR", "1380", False, "NMBR=1380")]


def test_garbled_cid_line_is_flagged() -> None:
    (ev,) = feed_all([b"NMBR = 138\x0100138000\r\n"])
    assert isinstance(ev, CidLine) and ev.garbled


def test_raw_hex_packet_line_is_caller_id() -> None:
    (ev,) = feed_all([b"8006020431323334ff\r\n"])  # type 80, length 6 = what follows
    assert isinstance(ev, CidLine) and ev.key == "RAW"


def test_overlong_line_is_garbage() -> None:
    out = feed_all([b"x" * 600 + b"\r\nOK\r\n"])
    assert isinstance(out[0], Garbage)
    assert out[-1] == ResultCode("OK")


@pytest.mark.parametrize(
    ("stream", "digits"),
    [
        (b"\x105", ["5"]),  # USR: bare
        (b"\x10/\x105\x105\x105\x10~", ["5"]),  # Conexant: shielded, repeats every ~70 ms
        (b"\x10/\x101\x10~\x10/\x101\x10~", ["1", "1"]),  # two presses of the same key
        (b"\x101\x102\x10#", ["1", "2", "#"]),
    ],
)
def test_dtmf_bare_and_shielded(stream: bytes, digits: list[str]) -> None:
    assert [e.digit for e in feed_all([stream]) if isinstance(e, DleDtmf)] == digits


# ---------------------------------------------------------------- receive data state


def test_connect_starts_audio_and_etx_ends_it() -> None:
    stream = b"\r\nCONNECT\r\n\x80\x10\x10\x81\x10b\x82\x10\x03\r\nOK\r\n"
    assert feed_all([stream], armed=True) == [
        ResultCode("CONNECT"),
        AudioData(b"\x80\x10\x81"),
        DleEvent("b", "busy"),
        AudioData(b"\x82"),
        EndOfData(),
        ResultCode("OK"),
    ]


def test_unarmed_connect_is_not_audio() -> None:
    assert feed_all([b"\r\nCONNECT\r\n\r\nOK\r\n"]) == [ResultCode("CONNECT"), ResultCode("OK")]


@pytest.mark.parametrize("cut", range(1, 20))
def test_audio_state_cut_anywhere(cut: int) -> None:
    stream = b"\r\nCONNECT\r\n\x80\x10\x10\x0a\x0d\x105\x10\x1a\x10\x03\r\nOK\r\n"
    out = feed_all([stream[:cut], stream[cut:]], armed=True)
    audio = b"".join(e.data for e in out if isinstance(e, AudioData))
    assert audio == b"\x80\x10\x0a\x0d\x10\x10"  # CR and LF bytes are samples here
    assert [e for e in out if not isinstance(e, AudioData)] == [
        ResultCode("CONNECT"),
        DleDtmf("5"),
        EndOfData(),
        ResultCode("OK"),
    ]


def test_caller_id_block_inside_voice_data() -> None:
    stream = b"\r\nCONNECT\r\n\x80\x10XNMBR = 1234\r\n\x10.\x81"
    out = feed_all([stream], armed=True)
    assert CidLine("NMBR", "1234", False, "NMBR = 1234") in out
    assert [e.data for e in out if isinstance(e, AudioData)] == [b"\x80", b"\x81"]


# ---------------------------------------------------------------- caller-ID records


def _lines(*pairs: tuple[str, str]) -> list[CidLine]:
    return [CidLine(k, v) for k, v in pairs]


def test_full_formatted_record() -> None:
    rec = build_record(
        _lines(("DATE", "1122"), ("TIME", "1530"), ("NMBR", "13800138000"), ("NAME", "ZHANG SAN"))
    )
    assert (rec.number, rec.name, rec.datetime, rec.ok) == ("13800138000", "ZHANG SAN", "11221530", True)


@pytest.mark.parametrize("code", ["P", "O"])
def test_withheld_number(code: str) -> None:
    rec = build_record(_lines(("DATE", "1122"), ("NMBR", code)))
    assert rec.number is None and rec.number_absent == code and rec.ok


def test_partial_record_still_counts() -> None:
    rec = build_record(_lines(("NMBR", "62345678")))
    assert rec.number == "62345678" and rec.datetime is None and rec.ok


@pytest.mark.parametrize(
    "lines",
    [
        [CidLine("NMBR", "13800@@8000")],
        [CidLine("NMBR", "13800138000", garbled=True)],
        [CidLine("DATE", "11x2"), CidLine("NMBR", "1")],
    ],
)
def test_garbled_record_is_not_ok_but_keeps_raw(lines: list[CidLine]) -> None:
    rec = build_record(lines)
    assert not rec.ok and rec.errors and rec.raw


def test_raw_mdmf_packet_is_decoded() -> None:
    from ccd.dsp.callerid import CallerId, encode_mdmf

    packet = encode_mdmf(CallerId("mdmf", number="13800138000", datetime="11221530", name="张三"))
    rec = build_record([CidLine("MESG", packet.hex().upper())])
    assert (rec.number, rec.datetime, rec.name, rec.ok) == ("13800138000", "11221530", "张三", True)
    bad = bytearray(packet)
    bad[-1] ^= 0x55
    rec = build_record([CidLine("MESG", bad.hex())])
    assert rec.number == "13800138000" and not rec.ok


def test_assembler_completes_on_timeout_or_flush() -> None:
    a = CidAssembler(timeout=1.0)
    a.add(CidLine("NMBR", "1234"), now=10.0)
    assert a.poll(10.5) is None
    rec = a.poll(11.0)
    assert rec is not None and rec.number == "1234"
    assert a.flush() is None


# ---------------------------------------------------------------- profiles and codecs


def test_profiles_by_ati() -> None:
    assert profile_for_ati("5601") is USR5637
    assert profile_for_ati(" 56000 ") is CONEXANT
    assert profile_for_ati("ACME") is None


@pytest.mark.parametrize(
    ("profile", "digit", "command"),
    [
        (USR5637, "9", "AT+VTS=[852,1477,10]"),  # the USR ignores AT+VTS=9
        (CONEXANT, "9", "AT+VTS={9,10}"),
        (GENERIC, "#", "AT+VTS=#"),
    ],
)
def test_vts_forms(profile, digit: str, command: str) -> None:  # type: ignore[no-untyped-def]
    assert profile.vts_commands(digit) == [command]


def test_tone_forms() -> None:
    assert USR5637.tone_command(933, 120) == "AT+VTS=[933,933,120]"
    assert GENERIC.tone_command(933, 120) == "AT+VTS=[933,,120]"


def test_country_commands() -> None:
    assert country_commands("26") == ["AT+GCI=26", "AT+GCI=B5"]
    assert country_commands("b5") == ["AT+GCI=B5"]
    assert country_commands("none") == []


def test_vsm_choice_by_name() -> None:
    usr = parse_vsm_list(
        ['128,"8-BIT LINEAR",(7200,8000,11025)', '131,"8-BIT ULAW",(8000)', '132,"IMA ADPCM",(8000)']
    )
    assert [(c.kind, c.vsm_id) for c in usr] == [("u8", 128), ("ulaw", 131)]
    cx = parse_vsm_list(['0,"SIGNED PCM",8,0,(8000),(0),(0)', '5,"G.711A",8,0,(8000),(0),(0)'])
    assert choose_codec(cx, ("ulaw", "alaw")) == Codec("alaw", 5, "G.711A")
    assert choose_codec(cx, ("s16",)) is None
    assert USR5637.vsm_command(usr[0]) == "AT+VSM=128,8000"
    assert CONEXANT.vsm_command(Codec("u8", 1)) == "AT+VSM=1,8000,0,0"


@pytest.mark.parametrize("kind", ["u8", "s8", "s16", "ulaw", "alaw"])
def test_codec_roundtrip(kind: str) -> None:
    codec = Codec(kind, 0)
    x = (np.sin(np.arange(160) / 5) * 12000).astype(np.int16)
    y = codec.decode(codec.encode(x))
    assert y.dtype == np.int16 and y.shape == (160,)
    assert np.max(np.abs(y.astype(int) - x)) <= (256 if kind in ("u8", "s8") else 800)
    assert codec.decode(codec.silence * 4).tolist() in ([0] * 4, [8] * 4, [-8] * 4, [-128] * 4, [128] * 4)
