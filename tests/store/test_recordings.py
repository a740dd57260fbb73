"""The recordings index: list, soft delete, retention candidates."""

from __future__ import annotations

import pytest

from ccd.store import DuplicateError, Store


async def test_recordings_index_lifecycle(store: Store) -> None:
    await store.calls.begin({"uniqueid": "1.1", "direction": "in", "start": 10.0})
    a = await store.recordings.add("a.wav", call_uniqueid="1.1", start=10.0, duration=5.0, bytes=80_044)
    b = await store.recordings.add("b.wav", call_uniqueid="1.1", leg=1, start=20.0, channels=2)
    c = await store.recordings.add("vm/c.wav", start=30.0, format="wav-ima")
    assert [r.path for r in await store.recordings.list("1.1")] == ["a.wav", "b.wav"]
    assert [r.path for r in await store.recordings.list()] == ["vm/c.wav", "b.wav", "a.wav"]
    assert [r.id for r in await store.recordings.older_than(25.0)] == [a.id, b.id]
    await store.recordings.mark_deleted(a.id, at=99.0)
    assert [r.id for r in await store.recordings.older_than(25.0)] == [b.id]
    assert [r.path for r in await store.recordings.list("1.1")] == ["b.wav"]
    deleted = [r for r in await store.recordings.list("1.1", include_deleted=True) if r.deleted_at]
    assert [(r.path, r.deleted_at) for r in deleted] == [("a.wav", 99.0)]
    assert (await store.recordings.get(c.id)).call_uniqueid is None
    with pytest.raises(DuplicateError):
        await store.recordings.add("a.wav")
