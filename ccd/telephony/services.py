"""Requests from sans-IO call applications to the daemon's asynchronous side (the store).

An application never awaits: an IVR `lookup` node, a voicemail being saved or a survey
score being stored are `Request`s handed to `submit`. The daemon's call-center runtime
(`ccd.callcenter`) runs them against the store and, for those with a `reply`, calls it
back on the loop with the result — by then the call may have moved on, so a reply first
checks that its call is still where it was. Tests hand requests a plain list and answer
them by hand, so every app is tested without a loop or a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Reply = Callable[[Any, "Result"], None]  # (ctl, result)


@dataclass(frozen=True, slots=True)
class Result:
    """The answer to a request: `value` (None: nothing found) or an `error` text."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class Request:
    """Something only the daemon can do. `op` names it (``lookup``, ``ivr_path``, ``vm_save``...)."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)
    call: str | None = None  # uniqueid of the call it is for
    reply: Reply | None = None


Submit = Callable[[Request], None]


class RequestLog:
    """A `submit` that only collects (unit tests, and apps built without a daemon)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> None:
        self.requests.append(request)

    def pop(self, op: str | None = None) -> Request:
        """The oldest request (of `op`), removed. Raises LookupError."""
        for i, req in enumerate(self.requests):
            if op is None or req.op == op:
                return self.requests.pop(i)
        raise LookupError(f"no {op or ''} request pending")

    def ops(self) -> list[str]:
        return [r.op for r in self.requests]
