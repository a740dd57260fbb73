"""The queue_log-like journal and its export in Asterisk's exact text format."""

from __future__ import annotations

import io

import pytest

from ccd.store import InvalidValueError, Store


async def test_append_and_filter(store: Store) -> None:
    j = store.journal
    await j.append(100.0, "100.1", "sales", None, "ENTERQUEUE", "", "13800138000", 1)
    await j.append(105.5, "100.1", "sales", "1001", "CONNECT", 5, "100.1", 4)
    await j.append(110.0, "110.1", "support", "1002", "RINGNOANSWER", 15000)
    await j.append(200.0, "NONE", "NONE", "1001", "PAUSE", "lunch")
    rows = await j.between(100.0, 200.0)
    assert [(r.event, r.data) for r in rows] == [
        ("ENTERQUEUE", ("", "13800138000", "1")),
        ("CONNECT", ("5", "100.1", "4")),
        ("RINGNOANSWER", ("15000",)),
    ]
    assert [r.event for r in await j.between(0, 1000, queue="sales")] == ["ENTERQUEUE", "CONNECT"]
    assert [r.event for r in await j.between(0, 1000, agent="1001")] == ["CONNECT", "PAUSE"]
    assert [r.event for r in await j.for_call("100.1")] == ["ENTERQUEUE", "CONNECT"]


async def test_export_queue_log_is_asterisk_format(store: Store) -> None:
    j = store.journal
    await j.append(1366720340.25, "1366720340.303267", "MYQUEUE", "SIP/8007", "RINGNOANSWER", 1000)
    await j.append_many(
        [
            (1366720341.0, "1366720340.303267", "MYQUEUE", None, "ABANDON", (1, 1, 12)),
            (1366720342.0, None, None, None, "QUEUESTART", ()),
            (1366720343.0, "x", "q", "1001", "PAUSE", ("a|b\nc",)),
        ]
    )
    out = io.StringIO()
    assert await j.export_queue_log(out, 0, 2e9) == 4
    assert out.getvalue().splitlines() == [
        "1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000",
        "1366720341|1366720340.303267|MYQUEUE|NONE|ABANDON|1|1|12",
        "1366720342|NONE|NONE|NONE|QUEUESTART|",
        "1366720343|x|q|1001|PAUSE|a/b c",  # a '|' in a value must not break the format
    ]


async def test_bad_journal_rows_are_refused(store: Store) -> None:
    with pytest.raises(InvalidValueError, match="at most 5"):
        await store.journal.append(1.0, "c", "q", "a", "EV", 1, 2, 3, 4, 5, 6)
    with pytest.raises(InvalidValueError, match="event"):
        await store.journal.append(1.0, "c", "q", "a", "BAD|EVENT")
