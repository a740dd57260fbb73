"""Commands clients may call: a registry of async handlers with a role and a doc each.

The engine, the CRM and the simulator each keep their own `CommandRegistry` next to their
code and the daemon merges them with `include()`, so no module has to know all commands.
Help sits on the command (aiosmtpd's ``@syntax``): ``doc`` and ``example`` feed the
``commands`` reply and the generated "Commands" section of docs/protocol.md.

    engine = CommandRegistry()

    @engine.command("agent.pause", role="agent", doc="Stop taking calls.", example={"reason": "lunch"})
    async def agent_pause(ctx: RequestContext, args: dict) -> dict:
        reason = optional(args, "reason", str, "")
        ...

The server has already checked login and role before a handler runs; handlers check
arguments with `require()`/`optional()` and raise `RpcError` for anything a user should
read. Any other exception is a bug: it is logged with its traceback and the client gets
E_INTERNAL.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import E_FORBIDDEN, E_INVALID_ARGS, RpcError

if TYPE_CHECKING:
    from ccd.server.auth import UserInfo
    from ccd.server.session import Session

ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def role_rank(role: str) -> int:
    """Position of `role` in agent < supervisor < admin; unknown roles rank below everything."""
    return _RANK.get(role, -1)


def role_allows(user_role: str | None, required: str | None) -> bool:
    """True when a user of `user_role` may do what needs `required` (None: anyone, even anonymous)."""
    if required is None:
        return True
    if user_role is None:
        return False
    return role_rank(user_role) >= role_rank(required)


def check_role(role: str | None, *, allow_none: bool = True) -> None:
    if role is None and allow_none:
        return
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


@dataclass(eq=False)
class RequestContext:
    """What a handler knows about the request besides its arguments."""

    user: UserInfo | None
    session: Session
    server: Any  # SocketServer; typed loosely so handlers need not import the server
    cmd: str = ""
    request_id: Any = None
    _after_reply: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def require_role(self, role: str) -> None:
        """For handlers whose permission depends on the arguments (own agent vs another's)."""
        if not role_allows(self.user.role if self.user else None, role):
            raise RpcError(E_FORBIDDEN, f"'{self.cmd}' with these arguments needs the {role} role")

    def after_reply(self, callback: Callable[[], None]) -> None:
        """Run `callback` right after this request's reply is queued (even an error reply).

        `subscribe` uses it to release events held back while its snapshot was built, so
        the client sees snapshot, then the reply, then changes.
        """
        self._after_reply.append(callback)


Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    # Minimum role; None means no login is needed (hello, login, ping...).
    role: str | None
    doc: str
    example: dict[str, Any] | None = None
    # Run inline in the connection's read loop instead of concurrently: for commands that
    # change the session (login, subscribe), so a pipelining client sees them take effect
    # before its next request is dispatched.
    sequential: bool = False

    def allowed_for(self, role: str | None) -> bool:
        return role_allows(role, self.role)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "doc": self.doc, "example": self.example}


def _first_paragraph(text: str | None) -> str:
    if not text:
        return ""
    return inspect.cleandoc(text).split("\n\n", 1)[0].replace("\n", " ").strip()


class CommandRegistry:
    """Name -> `Command`. Iteration is in registration order."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(
        self,
        name: str,
        *,
        role: str | None = "agent",
        doc: str | None = None,
        example: dict[str, Any] | None = None,
        sequential: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator registering an ``async def handler(ctx, args)`` under `name`.

        ``doc`` defaults to the first paragraph of the handler's docstring.
        """

        def decorate(handler: Handler) -> Handler:
            self.add(name, handler, role=role, doc=doc, example=example, sequential=sequential)
            return handler

        return decorate

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        role: str | None = "agent",
        doc: str | None = None,
        example: dict[str, Any] | None = None,
        sequential: bool = False,
    ) -> Command:
        if not _NAME.match(name):
            raise ValueError(f"bad command name {name!r}: use dotted lower-case words like 'agent.pause'")
        check_role(role)
        if not inspect.iscoroutinefunction(handler):
            raise TypeError(f"handler for {name!r} must be an async function")
        if name in self._commands:
            raise ValueError(f"command {name!r} is already registered")
        if example is not None and not isinstance(example, dict):
            raise TypeError(f"example for {name!r} must be a dict of arguments")
        cmd = Command(name, handler, role, doc or _first_paragraph(handler.__doc__), example, sequential)
        self._commands[name] = cmd
        return cmd

    def include(self, other: CommandRegistry) -> None:
        """Add all of `other`'s commands; a name registered in both is an error, not an override."""
        clash = self._commands.keys() & other._commands.keys()
        if clash:
            raise ValueError(f"command(s) registered twice: {', '.join(sorted(clash))}")
        self._commands.update(other._commands)

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def suggest(self, name: str) -> str | None:
        """The closest registered name, for 'did you mean' hints."""
        close = difflib.get_close_matches(name, self._commands, n=1, cutoff=0.6)
        return close[0] if close else None

    def allowed(self, role: str | None) -> list[Command]:
        return [c for c in self._commands.values() if c.allowed_for(role)]

    def missing_docs(self) -> list[str]:
        return [c.name for c in self._commands.values() if not c.doc.strip()]

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    def __iter__(self) -> Iterator[Command]:
        return iter(list(self._commands.values()))

    def __len__(self) -> int:
        return len(self._commands)


# --- argument checking ---------------------------------------------------------------

_MISSING: Any = object()

_TYPE_WORDS: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def _type_word(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in types)


def require(
    args: dict[str, Any],
    name: str,
    type_: type | tuple[type, ...] | None = None,
    *,
    default: Any = _MISSING,
    choices: Any = None,
) -> Any:
    """Return ``args[name]`` checked against `type_` (and `choices`), or raise E_INVALID_ARGS naming it.

    A missing or null argument takes `default` when one is given. An integer is accepted
    for a ``float`` argument (JSON does not tell 3 from 3.0); a boolean is never taken for
    an integer.
    """
    value = args.get(name)
    if value is None:
        if default is not _MISSING:
            return default
        raise RpcError(E_INVALID_ARGS, f"missing argument '{name}'", {"argument": name})
    if type_ is not None:
        types = type_ if isinstance(type_, tuple) else (type_,)
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok and float in types and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise RpcError(
                E_INVALID_ARGS,
                f"argument '{name}' must be {_type_word(types)}",
                {"argument": name},
            )
    if choices is not None and value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise RpcError(
            E_INVALID_ARGS, f"argument '{name}' must be one of {listed}, not {value!r}", {"argument": name}
        )
    return value


def optional(
    args: dict[str, Any], name: str, type_: type | tuple[type, ...] | None = None, default: Any = None
) -> Any:
    """`require()` with a default (None unless given)."""
    return require(args, name, type_, default=default)


def reject_unknown(args: dict[str, Any], *known: str) -> None:
    """Refuse arguments the command does not take, suggesting the likely intended one."""
    for name in args:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RpcError(E_INVALID_ARGS, f"unknown argument '{name}'{hint}", {"argument": name})
