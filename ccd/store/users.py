"""People who log in: agents, supervisors, admins, with scrypt password hashes."""

from __future__ import annotations

import asyncio
import logging
import re

from ccd.store.base import Database
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError
from ccd.store.models import ROLES, User
from ccd.store.passwords import DUMMY_HASH, hash_password, verify_password

log = logging.getLogger(__name__)

_LOGIN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_COLUMNS = "id, login, name, role, agent_no, extension, disabled, created"


def _check_login(login: str) -> None:
    if not isinstance(login, str) or not _LOGIN.fullmatch(login):
        raise InvalidValueError(f"login {login!r} must be 1-64 letters, digits or _.@-")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not password:
        raise InvalidValueError("password must not be empty")
    if len(password) > 1024:
        raise InvalidValueError("password is too long (more than 1024 characters)")


class Users:
    """`store.users`: add, look up, verify and disable logins."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        login: str,
        name: str,
        role: str,
        password: str,
        *,
        extension: str | None = None,
        agent_no: str | None = None,
    ) -> User:
        """Create a user. Raises DuplicateError if the login (or agent_no) is taken."""
        _check_login(login)
        _check_password(password)
        if role not in ROLES:
            raise InvalidValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if await self._db.fetchone("SELECT 1 FROM users WHERE login = ?", (login,)):
            raise DuplicateError(f"user {login!r} already exists")
        if agent_no is not None and await self._db.fetchone(
            "SELECT 1 FROM users WHERE agent_no = ?", (agent_no,)
        ):
            raise DuplicateError(f"agent number {agent_no!r} is already used")
        stored = await asyncio.to_thread(hash_password, password)
        await self._db.write(
            "INSERT INTO users(login, name, role, agent_no, extension, password, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (login, name, role, agent_no, extension, stored, self._db.clock.wall()),
        )
        return await self.get(login)

    async def get(self, login: str) -> User:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE login = ?", (login,))
        if row is None:
            raise NotFoundError(f"no user {login!r}")
        return User.from_row(row)

    async def find(self, login: str) -> User | None:
        """Like `get` but None when absent."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE login = ?", (login,))
        return User.from_row(row) if row else None

    async def list(self) -> list[User]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM users ORDER BY login")
        return [User.from_row(r) for r in rows]

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    async def verify(self, login: str, password: str) -> User | None:
        """The user if `password` is right and the account enabled; None otherwise.

        Unknown logins still cost one hash, so timing does not tell which logins exist.
        The caller logs the refusal (it knows the peer); nothing here says why.
        """
        row = None
        if isinstance(login, str) and _LOGIN.fullmatch(login):
            row = await self._db.fetchone(f"SELECT {_COLUMNS}, password FROM users WHERE login = ?", (login,))
        stored = row["password"] if row else DUMMY_HASH
        ok = await asyncio.to_thread(verify_password, password if isinstance(password, str) else "", stored)
        if row is None or not ok or row["disabled"]:
            return None
        return User.from_row(row)

    async def set_password(self, login: str, password: str) -> None:
        _check_password(password)
        stored = await asyncio.to_thread(hash_password, password)
        await self._update(login, "password = ?", (stored,))

    async def disable(self, login: str) -> None:
        await self._update(login, "disabled = 1", ())

    async def enable(self, login: str) -> None:
        await self._update(login, "disabled = 0", ())

    async def update(
        self, login: str, *, name: str | None = None, extension: str | None = None, role: str | None = None
    ) -> User:
        """Change name, extension or role (None leaves a field as it is)."""
        if role is not None and role not in ROLES:
            raise InvalidValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        await self._update(
            login,
            "name = coalesce(?, name), extension = coalesce(?, extension), role = coalesce(?, role)",
            (name, extension, role),
        )
        return await self.get(login)

    async def _update(self, login: str, assignment: str, params: tuple[object, ...]) -> None:
        # `assignment` is always one of the literals above, never user text.
        _, n = await self._db.write(f"UPDATE users SET {assignment} WHERE login = ?", (*params, login))
        if n == 0:
            raise NotFoundError(f"no user {login!r}")
