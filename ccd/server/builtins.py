"""Commands every ccd daemon answers, whatever else is plugged in: hello, login, subscribe...

They act on the connection itself (its user, its subscriptions), so they reach into the
server through ``ctx.server``; all are `sequential` so that a client which pipelines
``login`` then ``subscribe`` without waiting sees them applied in that order.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import ccd
from ccd.ipc.errors import (
    E_AUTH_FAILED,
    E_FORBIDDEN,
    E_INVALID_ARGS,
    E_UNAVAILABLE,
    E_VERSION,
    RpcError,
)
from ccd.ipc.messages import PROTOCOL_VERSION, SUPPORTED_PROTOCOLS
from ccd.server.auth import AUTH_FAILED_MESSAGE, MAX_LOGIN_FAILURES, UserInfo, peer_user
from ccd.server.registry import CommandRegistry, RequestContext, optional, require

if TYPE_CHECKING:
    from ccd.server.server import SocketServer

log = logging.getLogger("ccd.server")

BUILTINS = CommandRegistry()


def _server(ctx: RequestContext) -> SocketServer:
    return ctx.server


@BUILTINS.command(
    "hello",
    role=None,
    sequential=True,
    doc="Open the conversation: the client names the protocol version it speaks and learns the daemon's.",
    example={"protocol": 1, "client": "ccd-agent 0.1"},
)
async def hello(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    protocol = require(args, "protocol", int)
    client = optional(args, "client", str)
    if protocol not in SUPPORTED_PROTOCOLS:
        raise RpcError(
            E_VERSION,
            f"protocol {protocol} is not supported: this daemon speaks protocol {PROTOCOL_VERSION}",
            {"supported": sorted(SUPPORTED_PROTOCOLS)},
        )
    ctx.session.protocol = protocol
    if client:
        ctx.session.client_name = client[:80]
    return {
        "protocol": PROTOCOL_VERSION,
        "server": "ccd",
        "version": ccd.__version__,
        "session": ctx.session.id,
    }


@BUILTINS.command(
    "login",
    role=None,
    sequential=True,
    doc=(
        'Log in with a user name and password, or with {"peer": true} as the daemon\'s own Unix user '
        f"or root (admin, no password). After {MAX_LOGIN_FAILURES} failures the connection is closed."
    ),
    example={"user": "1001", "password": "secret"},
)
async def login(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    server = _server(ctx)
    session = ctx.session
    cred = session.peer
    user: UserInfo | None = None
    if require(args, "peer", bool, default=False):
        who = f"peer uid {cred.uid}" if cred else "peer (credentials unknown)"
        if cred is not None and cred.uid in server.admin_uids:
            user = peer_user(cred)
    else:
        name = require(args, "user", str)
        password = require(args, "password", str)
        who = repr(name)
        try:
            found = await server.authenticate(name, password)
        except RpcError:
            raise
        except Exception as exc:
            log.exception("authenticator failed for %r", name)
            raise RpcError(E_UNAVAILABLE, "cannot check passwords right now; see the daemon log") from exc
        if found is not None:
            try:
                user = UserInfo.from_user(found)
            except ValueError as exc:
                log.error("refusing login for %r: %s", name, exc)
    if user is None:
        session.login_failures += 1
        log.warning(
            "login failed for %s on client #%d (%s), failure %d of %d",
            who,
            session.id,
            cred or "peer unknown",
            session.login_failures,
            MAX_LOGIN_FAILURES,
        )
        if session.login_failures >= MAX_LOGIN_FAILURES:
            ctx.after_reply(lambda: server.close_session(session, "too many failed logins"))
        raise RpcError(E_AUTH_FAILED, AUTH_FAILED_MESSAGE)
    previous = session.user
    session.user = user
    # A user switch must not keep topics the new role may not see.
    server.remove_topics(session, {t for t in session.topics if not server.topic_allowed(t, user.role)})
    log.info(
        "client #%d logged in as %s (%s)%s",
        session.id,
        user.login,
        user.role,
        f", was {previous.login}" if previous else "",
    )
    return user.to_dict()


@BUILTINS.command(
    "logout", role=None, sequential=True, doc="Forget the logged-in user and drop all subscriptions."
)
async def logout(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    session = ctx.session
    if session.user is not None:
        log.info("client #%d logged out (%s)", session.id, session.user.login)
    session.user = None
    _server(ctx).remove_topics(session, set(session.topics))
    return {"user": None}


@BUILTINS.command("ping", role=None, doc="Check the daemon answers; returns its clock's Unix time.")
async def ping(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"pong": True, "time": _server(ctx).clock.wall()}


@BUILTINS.command(
    "commands",
    role=None,
    doc="List the commands your role may call, with their minimum role, description and an example.",
)
async def commands(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    role = ctx.user.role if ctx.user else None
    return [c.describe() for c in _server(ctx).registry.allowed(role)]


def _resolve_topics(ctx: RequestContext, args: dict[str, Any]) -> list[str]:
    server = _server(ctx)
    raw = require(args, "topics", (list, str))
    if isinstance(raw, str):
        raw = [raw]
    role = ctx.user.role if ctx.user else None
    out: list[str] = []
    for topic in raw:
        if not isinstance(topic, str):
            raise RpcError(
                E_INVALID_ARGS, "argument 'topics' must be a list of topic names", {"argument": "topics"}
            )
        if topic == "*":
            names = [t for t in server.topic_roles if server.topic_allowed(t, role)]
        elif topic not in server.topic_roles:
            hint = server.suggest_topic(topic)
            raise RpcError(
                E_INVALID_ARGS,
                f"unknown topic '{topic}'" + (f" (did you mean '{hint}'?)" if hint else ""),
                {"argument": "topics", "known": sorted(server.topic_roles)},
            )
        elif not server.topic_allowed(topic, role):
            raise RpcError(E_FORBIDDEN, f"topic '{topic}' needs the {server.topic_roles[topic]} role")
        else:
            names = [topic]
        out.extend(n for n in names if n not in out)
    return out


@BUILTINS.command(
    "subscribe",
    role="agent",
    sequential=True,
    doc=(
        "Receive the events of these topics ('*' for all your role may see). For each topic that has "
        "a snapshot, one '<topic>.snapshot' event per object arrives first, then this reply, then changes."
    ),
    example={"topics": ["line", "call"]},
)
async def subscribe(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    server = _server(ctx)
    session = ctx.session
    topics = _resolve_topics(ctx, args)
    new = {t for t in topics if t not in session.topics}
    session.hold(frozenset(topics))
    ctx.after_reply(session.release)
    server.add_topics(session, new)
    try:
        for topic in topics:
            provider = server.snapshots.get(topic)
            if provider is None:
                continue
            for item in await provider(ctx):
                session.send({"event": f"{topic}.snapshot", "data": item})
    except BaseException:
        server.remove_topics(session, new)
        session.release(discard=True)
        raise
    return {"topics": sorted(session.topics), "snapshot_complete": True}


@BUILTINS.command(
    "unsubscribe",
    role="agent",
    sequential=True,
    doc="Stop receiving the events of these topics ('*' for all).",
    example={"topics": ["call"]},
)
async def unsubscribe(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
    session = ctx.session
    raw = require(args, "topics", (list, str))
    names = [raw] if isinstance(raw, str) else raw
    if "*" in names:
        drop = set(session.topics)
    else:
        drop = {t for t in names if isinstance(t, str)}
    _server(ctx).remove_topics(session, drop & session.topics)
    return {"topics": sorted(session.topics)}


@BUILTINS.command(
    "server.clients",
    role="admin",
    doc="List connected clients: user, role, process id, Unix uid, topics and queued messages.",
)
async def server_clients(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [s.describe() for s in _server(ctx).sessions]
