"""Logins: scrypt hashes, refusals that say nothing, and no plaintext anywhere on disk."""

from __future__ import annotations

import pytest

from ccd.store import DuplicateError, InvalidValueError, NotFoundError, Store


async def test_add_and_verify_user(store: Store) -> None:
    u = await store.users.add("1001", "王小丽", "agent", "s3cret", extension="801", agent_no="1001")
    assert (u.login, u.name, u.role, u.extension, u.agent_no, u.disabled) == (
        "1001", "王小丽", "agent", "801", "1001", False,
    )  # fmt: skip
    assert await store.users.verify("1001", "s3cret") == u
    assert (await store.users.get("1001")).name == "王小丽"


async def test_wrong_password_unknown_user_and_disabled_user_are_all_just_none(store: Store) -> None:
    await store.users.add("1001", "A", "agent", "right")
    assert await store.users.verify("1001", "wrong") is None
    assert await store.users.verify("1001", "") is None
    assert await store.users.verify("nobody", "right") is None
    assert await store.users.verify("'; DROP TABLE users; --", "x") is None
    await store.users.disable("1001")
    assert await store.users.verify("1001", "right") is None
    await store.users.enable("1001")
    assert await store.users.verify("1001", "right") is not None


async def test_set_password_replaces_the_old_one(store: Store) -> None:
    await store.users.add("9000", "班长", "supervisor", "old")
    await store.users.set_password("9000", "new")
    assert await store.users.verify("9000", "old") is None
    assert await store.users.verify("9000", "new") is not None


async def test_no_plaintext_password_in_the_database_files(store: Store) -> None:
    secret = "Plain-Text-Should-Not-Appear-密码"
    await store.users.add("admin", "Admin", "admin", secret)
    await store.close()
    blob = b"".join(p.read_bytes() for p in store.path.parent.glob(store.path.name + "*"))
    assert secret.encode() not in blob
    assert b"scrypt$" in blob


async def test_clear_errors_for_bad_users(store: Store) -> None:
    await store.users.add("1001", "A", "agent", "pw", agent_no="1001")
    with pytest.raises(DuplicateError, match="already exists"):
        await store.users.add("1001", "B", "agent", "pw")
    with pytest.raises(DuplicateError, match="agent number"):
        await store.users.add("1002", "B", "agent", "pw", agent_no="1001")
    with pytest.raises(InvalidValueError, match="role"):
        await store.users.add("1003", "C", "boss", "pw")
    with pytest.raises(InvalidValueError, match="login"):
        await store.users.add("bad login!", "C", "agent", "pw")
    with pytest.raises(InvalidValueError, match="password"):
        await store.users.add("1004", "D", "agent", "")
    with pytest.raises(NotFoundError):
        await store.users.get("nobody")
    with pytest.raises(NotFoundError):
        await store.users.disable("nobody")
    assert [u.login for u in await store.users.list()] == ["1001"]
