"""The AT answer parser: every report a GSM module gives, in pieces, with noise in between."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ccd.drivers.sms.at import (
    AtParser,
    Clip,
    Final,
    Garbage,
    Info,
    NewMessage,
    NoCarrier,
    PduRecord,
    Prompt,
    RingIndication,
)


def feed_bytewise(data: bytes) -> list[object]:
    p = AtParser()
    out: list[object] = []
    for i in range(len(data)):
        out += p.feed(data[i : i + 1])
    return out


def test_final_codes_and_errors() -> None:
    out = AtParser().feed(b"\r\nOK\r\n\r\nERROR\r\n\r\n+CMS ERROR: 500\r\n\r\n+CME ERROR: 14\r\n")
    assert out == [Final("OK"), Final("ERROR"), Final("+CMS ERROR", 500, "unknown error"),
                   Final("+CME ERROR", 14, "SIM busy")]  # fmt: skip
    assert out[2].describe() == "+CMS ERROR: 500 unknown error"


def test_verbose_errors_from_cmee_2() -> None:
    (f,) = AtParser().feed(b"\r\n+CME ERROR: SIM busy\r\n")
    assert (f.code, f.text) == (14, "SIM busy")
    (f,) = AtParser().feed(b"\r\n+CMS ERROR: something odd\r\n")
    assert f.code is None and f.text == "something odd"


def test_prompt_without_line_end() -> None:
    assert AtParser().feed(b"\r\n> ") == [Prompt()]


def test_cmti_cdsi_ring_clip() -> None:
    out = AtParser().feed(
        b'\r\n+CMTI: "SM",3\r\n\r\n+CDSI: "SR",1\r\n\r\nRING\r\n\r\n+CRING: VOICE\r\n'
        b'\r\n+CLIP: "13800138000",129,"",0,"",0\r\n\r\nNO CARRIER\r\n'
    )
    assert out[:4] == [
        NewMessage("SM", 3),
        NewMessage("SR", 1, True),
        RingIndication(),
        RingIndication("VOICE"),
    ]
    assert isinstance(out[4], Clip) and (out[4].number, out[4].toa, out[4].validity) == (
        "13800138000",
        129,
        0,
    )
    assert out[5] == NoCarrier()


def test_pdu_records_split_anywhere() -> None:
    data = (
        b'\r\n+CMGL: 1,0,"",24\r\n0791448720003023240DD0E474D81C0EBB01000011101\r\n'
        b"+CMGL: 2,1,,10\r\n07911326\r\n\r\nOK\r\n"
        b"\r\n+CDS: 25\r\n0006070D91\r\n"
        b"\r\n+CMGR: 0,,24\r\n0791AB\r\nOK\r\n"
    )
    out = feed_bytewise(data)
    recs = [e for e in out if isinstance(e, PduRecord)]
    assert [(r.kind, r.index, r.stat) for r in recs] == [("cmgl", 1, 0), ("cmgl", 2, 1), ("cds", None, None),
                                                         ("cmgr", None, 0)]  # fmt: skip
    assert recs[0].pdu.startswith("0791448720003023") and recs[0].length == 24
    assert out.count(Final("OK")) == 2


def test_missing_pdu_line_does_not_swallow_the_result() -> None:
    out = AtParser().feed(b"\r\n+CMGR: 0,,0\r\nOK\r\n")
    assert out == [Final("OK")]


def test_garbage_and_info() -> None:
    out = AtParser().feed(b"\x00\xff\xfe~\x81\r\nQuectel\r\nOK\r\n")
    assert isinstance(out[0], Garbage) and out[1:] == [Info("Quectel"), Final("OK")]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_noise_never_raises(data: bytes) -> None:
    AtParser().feed(data)
