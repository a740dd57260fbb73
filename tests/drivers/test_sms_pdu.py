"""SMS PDUs against reference PDUs and the rules of TS 23.040 / 23.038.

References: the SMS-DELIVER and SMS-SUBMIT "hellohello" examples widely used to teach the
PDU format (SMSC +27381000015, sender 27838890001; recipient +46708251358), and the Chinese
UCS2 SMS-SUBMIT built by python-gsmmodem-new in HARDWARE.md §4 (verified on a pty there).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccd.drivers.sms import pdu

REF_DELIVER = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
REF_SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
CN_TEXT = "您好，您的工单已受理。"
REF_SUBMIT_CN = "0021000D91683108108300F0000816" + "60A8597DFF0C60A876845DE553555DF253D774063002"
WHEN = dt.datetime(2026, 1, 5, 10, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_reference_deliver() -> None:
    msg = pdu.decode(REF_DELIVER)
    assert isinstance(msg, pdu.Deliver)
    assert (msg.smsc, msg.sender, msg.text) == ("+27381000015", "27838890001", "hellohello")
    assert msg.timestamp.when == dt.datetime(
        1999, 3, 29, 15, 16, 59, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )


def test_reference_submit_7bit() -> None:
    (part,) = pdu.encode_submit("+46708251358", "hellohello", status_report=False, validity=0xAA)
    assert part.hex == REF_SUBMIT
    assert part.tpdu_len == len(REF_SUBMIT) // 2 - 1


def test_reference_submit_chinese_ucs2() -> None:
    (part,) = pdu.encode_submit("+8613800138000", CN_TEXT)
    assert part.hex == REF_SUBMIT_CN
    assert part.dcs == pdu.DCS_UCS2 and part.tpdu_len == 36
    back = pdu.decode(part.hex)
    assert isinstance(back, pdu.Submit) and back.text == CN_TEXT and back.to == "+8613800138000"


def test_gsm7_extension_characters_take_two_septets() -> None:
    text = "Price: 5€ [a|b] {c} ~^\\"
    assert pdu.is_gsm7(text)
    assert len(pdu.gsm7_septets("€")) == 2 and pdu.gsm7_septets("€")[0] == pdu.ESC
    (part,) = pdu.encode_submit("10086", text)
    assert part.dcs == pdu.DCS_GSM7 and pdu.decode(part.hex).text == text


def test_national_and_international_numbers() -> None:
    assert pdu.encode_address("+8613800138000")[:2] == bytes((13, 0x91))
    assert pdu.encode_address("13800138000")[:2] == bytes((11, 0x81))
    assert pdu.encode_address("008613800138000")[1] == 0x91
    with pytest.raises(pdu.PduError, match="not a phone number"):
        pdu.encode_address("138-ABC")


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("中" * 70, [70]),
        ("中" * 71, [67, 4]),
        ("中" * 134, [67, 67]),
    ],
)
def test_split_sizes(text: str, sizes: list[int]) -> None:
    _, parts = pdu.split_text(text)
    assert [len(p) for p in parts] == sizes


def test_split_never_cuts_an_escape_or_a_surrogate_pair() -> None:
    _, parts = pdu.split_text("a" * 152 + "€" + "b" * 10)
    assert parts[0] == "a" * 152 and parts[1].startswith("€")
    _, parts = pdu.split_text("中" * 66 + "😀" + "中" * 10)
    assert parts[0] == "中" * 66 and parts[1].startswith("😀")
    back = "".join(pdu.decode(p.hex).text for p in pdu.encode_submit("1", "中" * 66 + "😀" + "中" * 10))
    assert back == "中" * 66 + "😀" + "中" * 10


def test_multipart_7bit_header_alignment() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 5
    parts = pdu.encode_submit("+8613912345678", text, ref=7)
    assert len(parts) == 2
    decoded = [pdu.decode(p.hex) for p in parts]
    assert "".join(d.text for d in decoded) == text
    assert [d.concat for d in decoded] == [pdu.Concat(7, 2, 1), pdu.Concat(7, 2, 2)]


def test_deliver_with_16bit_concat_reference() -> None:
    h = pdu.encode_deliver("+8613912345678", "第二部分", WHEN, concat=pdu.Concat(0x1234, 2, 2, bits=16))
    msg = pdu.decode(h)
    assert msg.concat == pdu.Concat(0x1234, 2, 2, 16) and msg.text == "第二部分"


def test_alphanumeric_sender() -> None:
    msg = pdu.decode(pdu.encode_deliver("China Mobile", "Hi", WHEN))
    assert msg.sender == "China Mobile"


def test_scts_round_trip_with_negative_zone() -> None:
    when = dt.datetime(2025, 12, 31, 23, 59, 58, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=45)))
    assert pdu.decode_scts(pdu.encode_scts(when)).when == when


def test_status_report() -> None:
    rep = pdu.decode(
        pdu.encode_status_report(0x2A, "+8613912345678", WHEN, WHEN + dt.timedelta(seconds=5), 0)
    )
    assert isinstance(rep, pdu.StatusReport)
    assert (rep.reference, rep.recipient, rep.state) == (0x2A, "+8613912345678", "delivered")
    assert (rep.discharge.when - rep.timestamp.when).seconds == 5
    assert pdu.StatusReport(1, "", rep.timestamp, rep.timestamp, 0x30).state == "pending"
    assert pdu.StatusReport(1, "", rep.timestamp, rep.timestamp, 0x41).state == "failed"


def test_reassembly_any_order_and_duplicates() -> None:
    r = pdu.Reassembler(timeout=60)
    parts = [
        pdu.decode(pdu.encode_deliver("+861", t, WHEN, concat=pdu.Concat(9, 3, i)))
        for i, t in enumerate(["一二", "三四", "五"], 1)
    ]
    assert r.add(parts[2], 0) is None
    assert r.add(parts[0], 1) is None
    assert r.add(parts[0], 2) is None  # a duplicate part
    msg = r.add(parts[1], 3)
    assert msg is not None and msg.text == "一二三四五" and msg.parts == 3 and msg.complete
    assert r.pending == 0


def test_reassembly_keeps_senders_apart_and_gives_up_on_lost_parts() -> None:
    r = pdu.Reassembler(timeout=60)
    a = pdu.decode(pdu.encode_deliver("+861", "A1", WHEN, concat=pdu.Concat(5, 2, 1)))
    b = pdu.decode(pdu.encode_deliver("+862", "B2", WHEN, concat=pdu.Concat(5, 2, 2)))
    assert r.add(a, 0) is None and r.add(b, 0) is None
    assert r.expire(59) == []
    done = sorted(r.expire(60), key=lambda m: m.sender)
    assert [(m.text, m.complete) for m in done] == [("A1…", False), ("…B2", False)]


@pytest.mark.parametrize("bad", ["", "zz", "0791", "07917283010010F504", "00" * 3, "0003"])
def test_bad_pdus_raise_pdu_error(bad: str) -> None:
    with pytest.raises(pdu.PduError):
        pdu.decode(bad)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=60))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    try:
        pdu.decode(data)
    except pdu.PduError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=400))
def test_submit_round_trip(text: str) -> None:
    parts = pdu.encode_submit("+8613912345678", text, ref=3)
    back = [pdu.decode(p.hex) for p in parts]
    assert "".join(b.text for b in back) == text
    assert all(p.tpdu_len == len(p.pdu) - 1 for p in parts)
    assert all(len(p.pdu) - 1 <= 140 + 20 for p in parts)
