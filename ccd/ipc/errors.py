"""Named error codes of the socket protocol, shared by the daemon and every client.

Codes are plain strings (``"E_FORBIDDEN"``) so that they read the same in a log line, in
``socat`` output and in Python; the constants exist so a typo is a NameError instead of a
silently unmatched code (aiosmtpd's ``S503_HELO_FIRST`` pattern). Clients map a code to
words through `DESCRIPTIONS` rather than showing the raw code to a person.
"""

from __future__ import annotations

from typing import Any

# --- protocol and framing -----------------------------------------------------------
E_BAD_JSON = "E_BAD_JSON"
E_BAD_REQUEST = "E_BAD_REQUEST"
E_TOO_LARGE = "E_TOO_LARGE"
E_VERSION = "E_VERSION"
E_UNKNOWN_COMMAND = "E_UNKNOWN_COMMAND"
# --- identity and permission --------------------------------------------------------
E_NOT_AUTHENTICATED = "E_NOT_AUTHENTICATED"
E_AUTH_FAILED = "E_AUTH_FAILED"
E_FORBIDDEN = "E_FORBIDDEN"
# --- generic request outcomes -------------------------------------------------------
E_INVALID_ARGS = "E_INVALID_ARGS"
E_NOT_FOUND = "E_NOT_FOUND"
E_CONFLICT = "E_CONFLICT"
E_BUSY = "E_BUSY"
E_UNSUPPORTED = "E_UNSUPPORTED"
E_UNAVAILABLE = "E_UNAVAILABLE"
E_INTERNAL = "E_INTERNAL"
E_RATE_LIMITED = "E_RATE_LIMITED"
# --- call center --------------------------------------------------------------------
E_AGENT_ON_CALL = "E_AGENT_ON_CALL"
E_AGENT_NOT_READY = "E_AGENT_NOT_READY"
E_LINE_BUSY = "E_LINE_BUSY"
E_LINE_OUT_OF_SERVICE = "E_LINE_OUT_OF_SERVICE"
E_NO_TRUNK = "E_NO_TRUNK"
E_NO_CALL = "E_NO_CALL"
E_TARGET_BUSY = "E_TARGET_BUSY"
E_TARGET_UNKNOWN = "E_TARGET_UNKNOWN"

DESCRIPTIONS: dict[str, str] = {
    E_BAD_JSON: "The message was not a valid JSON object on one line.",
    E_BAD_REQUEST: "The message is JSON but not a valid request (needs a string 'cmd' and an object 'args').",
    E_TOO_LARGE: "The message is longer than the daemon accepts.",
    E_VERSION: "The client and the daemon speak different protocol versions; upgrade the older one.",
    E_UNKNOWN_COMMAND: "The daemon has no such command.",
    E_NOT_AUTHENTICATED: "Log in first.",
    E_AUTH_FAILED: "Wrong user name or password.",
    E_FORBIDDEN: "Your role is not allowed to do this.",
    E_INVALID_ARGS: "An argument is missing or has the wrong type or value.",
    E_NOT_FOUND: "No such object.",
    E_CONFLICT: "The object changed or already exists; reload and try again.",
    E_BUSY: "The daemon is busy with this object; try again shortly.",
    E_UNSUPPORTED: "This line or device cannot do that.",
    E_UNAVAILABLE: "That part of the daemon is not available right now.",
    E_INTERNAL: "Internal error in the daemon; details are in the daemon's log.",
    E_RATE_LIMITED: "Too many requests; slow down.",
    E_AGENT_ON_CALL: "The agent is on a call.",
    E_AGENT_NOT_READY: "The agent is not ready to take calls.",
    E_LINE_BUSY: "The line is busy.",
    E_LINE_OUT_OF_SERVICE: "The line is out of service.",
    E_NO_TRUNK: "No outside line is free for this number.",
    E_NO_CALL: "There is no call to act on.",
    E_TARGET_BUSY: "The person or extension you are calling is busy.",
    E_TARGET_UNKNOWN: "No such extension, agent or number.",
}

ALL_CODES: frozenset[str] = frozenset(DESCRIPTIONS)


def describe(code: str) -> str:
    """Human text for `code`, falling back to the code itself for codes newer than this client."""
    return DESCRIPTIONS.get(code, code)


class RpcError(Exception):
    """An error that travels over the socket: a named code, a message for people, optional details.

    Raised by command handlers in the daemon (the server turns it into an error reply) and
    by the client when a reply carries an error, so both sides handle the same type.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"RpcError({self.code!r}, {self.message!r}, {self.details!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RpcError):
            return NotImplemented
        return (self.code, self.message, self.details) == (other.code, other.message, other.details)

    __hash__ = Exception.__hash__

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out

    @classmethod
    def from_dict(cls, data: Any) -> RpcError:
        """Rebuild an error from a reply's ``error`` member, tolerating a malformed one."""
        if not isinstance(data, dict):
            return cls(E_INTERNAL, f"malformed error from daemon: {data!r}")
        code = data.get("code")
        message = data.get("message")
        details = data.get("details")
        return cls(
            code if isinstance(code, str) else E_INTERNAL,
            message if isinstance(message, str) else describe(str(code)),
            details if isinstance(details, dict) else None,
        )
