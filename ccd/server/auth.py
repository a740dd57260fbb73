"""Who is on the other end of a connection: peer credentials and logged-in users.

The server never sees passwords stored anywhere: the daemon hands it an *authenticator*,
``async (login, password) -> user or None`` (the store's ``users.verify``), so password
hashing lives in one place and tests can pass a dict lookup.

Peer credentials (``SO_PEERCRED``: the connecting process's pid, uid and gid, vouched for
by the kernel) are logged at connect and let the local administrator in without a
password: a process running as the daemon's own user, or root, could read the database
anyway, so asking it for a password adds nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ccd.server.registry import ROLES

log = logging.getLogger(__name__)

MAX_LOGIN_FAILURES = 5
AUTH_FAILED_MESSAGE = "login failed: wrong user name or password"


class UserLike(Protocol):
    """What the authenticator returns (the store's ``User`` fits)."""

    login: str
    role: str
    name: str


Authenticator = Callable[[str, str], Awaitable[UserLike | None]]


@dataclass(frozen=True, slots=True)
class UserInfo:
    """The logged-in user as the server and handlers see it (a copy, not a database row)."""

    login: str
    role: str
    name: str = ""
    extension: str | None = None
    agent_no: str | None = None
    peer: bool = False  # logged in by peer credentials, not by password

    @classmethod
    def from_user(cls, user: Any) -> UserInfo:
        """Copy the fields we need from whatever object the authenticator returned."""
        login = getattr(user, "login", None)
        role = getattr(user, "role", None)
        if not isinstance(login, str) or not login:
            raise ValueError("authenticator returned a user without a login")
        if role not in ROLES:
            raise ValueError(f"user {login!r} has unknown role {role!r}")
        ext = getattr(user, "extension", None)
        agent_no = getattr(user, "agent_no", None)
        return cls(
            login=login,
            role=role,
            name=str(getattr(user, "name", "") or ""),
            extension=str(ext) if ext not in (None, "") else None,
            agent_no=str(agent_no) if agent_no not in (None, "") else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.login,
            "role": self.role,
            "name": self.name,
            "extension": self.extension,
            "agent_no": self.agent_no,
        }


@dataclass(frozen=True, slots=True)
class PeerCred:
    pid: int
    uid: int
    gid: int

    def __str__(self) -> str:
        return f"pid={self.pid} uid={self.uid} gid={self.gid}"


def peer_credentials(sock: socket.socket | None) -> PeerCred | None:
    """The kernel's word on who connected, or None where the platform cannot tell."""
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError as exc:
        log.debug("SO_PEERCRED unavailable: %s", exc)
        return None
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCred(pid, uid, gid)


def default_admin_uids() -> frozenset[int]:
    """The daemon's own uid and root: the users trusted for password-less peer login."""
    return frozenset({os.getuid(), 0})


def peer_user(cred: PeerCred) -> UserInfo:
    """The admin identity granted to a trusted local process (named after its Unix account)."""
    try:
        import pwd

        account = pwd.getpwuid(cred.uid).pw_name
    except (ImportError, KeyError):
        account = f"uid{cred.uid}"
    return UserInfo(login=account, role="admin", name=f"local administrator ({account})", peer=True)
