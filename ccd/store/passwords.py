"""Password hashing with the standard library's scrypt.

Stored form: ``scrypt$n$r$p$salt$hash`` (salt and hash in URL-safe base64), so the cost
parameters travel with each hash and can be raised later without breaking old ones.
Pure functions; the store runs them in a worker thread because a hash costs ~50 ms of CPU
and the event loop must not stall for that long while calls are up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode("ascii").rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """Return the stored form of `password` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=_MAXMEM)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(dk)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches `stored`; False for a mismatch or a malformed stored value.

    The comparison is constant-time so the answer's timing says nothing about how close a guess was.
    """
    try:
        scheme, n_s, r_s, p_s, salt_s, hash_s = stored.split("$")
        if scheme != "scrypt":
            return False
        n, r, p = int(n_s), int(r_s), int(p_s)
        salt, expected = _unb64(salt_s), _unb64(hash_s)
        dk = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=_MAXMEM
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk, expected)


# A real hash to check against when the login is unknown, so "no such user" takes as long
# as "wrong password" and the reply's timing does not reveal which logins exist.
DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
