"""The Unix-socket server: connections, framing, auth and roles, subscriptions, pushes.

Only this module touches sockets. It turns request lines into calls of registered command
handlers and bus events into pushes to subscribed clients; what commands *do* lives with
the engine, the CRM and the simulator, which register them (see registry.py).

Faults stay with the client that caused them: a bad line gets an error reply; a client
that floods oversized lines, keeps sending garbage, fails to log in five times, or stops
reading while non-coalescing events pile up is disconnected; everyone else carries on.
The daemon never awaits a client: pushes go into each client's bounded queue (session.py)
and a per-client sender task writes them out.

Bring-up follows aiosmtpd's Controller: `start()` returns once the socket accepts
connections; a test then makes a real round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import ccd
from ccd.bus import BusEvent, EventBus, Unsubscribe
from ccd.clock import Clock, RealClock
from ccd.ipc.codec import DEFAULT_MAX_LINE, NdjsonDecoder, ProtocolError, encode
from ccd.ipc.errors import (
    E_FORBIDDEN,
    E_INTERNAL,
    E_NOT_AUTHENTICATED,
    E_UNKNOWN_COMMAND,
    RpcError,
)
from ccd.ipc.messages import Request, parse_request, push, reply_error, reply_ok, salvage_id
from ccd.server.auth import Authenticator, default_admin_uids, peer_credentials
from ccd.server.builtins import BUILTINS
from ccd.server.registry import Command, CommandRegistry, RequestContext, check_role, role_allows
from ccd.server.session import Session

log = logging.getLogger("ccd.server")

SnapshotProvider = Callable[[RequestContext], Awaitable[list[dict[str, Any]]]]

# Minimum role to subscribe to each topic; the daemon may add or override entries.
DEFAULT_TOPIC_ROLES: dict[str, str] = {
    "line": "agent",
    "call": "agent",
    "agent": "agent",
    "queue": "agent",
    "alert": "agent",
    "sim": "agent",
    "sms": "agent",
    "voicemail": "agent",
    "recording": "supervisor",
    "survey": "supervisor",
    "wallboard": "supervisor",
    "supervisor": "supervisor",
    "admin": "admin",
}

SOCKET_MODE = 0o660
FOLDER_MODE = 0o750
READ_CHUNK = 65536
# Handlers running at once for one client; its next request waits for a free slot.
MAX_INFLIGHT = 32
# A client that sends this many bad messages in a row is not speaking our protocol.
MAX_CONSECUTIVE_ERRORS = 50
# Bytes of oversized lines (as multiples of max_line) a client may send before it is cut off.
FLOOD_LINES = 4
# AF_UNIX paths are limited to 108 bytes including the terminating NUL on Linux.
MAX_SOCKET_PATH = 107


class ServerError(RuntimeError):
    """The server cannot start; the message says why and what to do."""


class _Conn:
    """Server-side bookkeeping for one connection (the Session is what handlers see)."""

    __slots__ = ("overflowed", "reader", "reader_task", "sender_task", "session", "writer")

    def __init__(self, session: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.session = session
        self.reader = reader
        self.writer = writer
        self.reader_task: asyncio.Task[Any] | None = None
        self.sender_task: asyncio.Task[None] | None = None
        self.overflowed = False


class SocketServer:
    """Serve `registry`'s commands and `bus`'s events on the Unix socket at `path`.

    `authenticate(login, password)` returns a user (``.login .role .name`` and optionally
    ``.extension .agent_no``) or None. `snapshots` maps a topic to an async provider
    returning the current objects of that topic (one dict each) for a new subscriber.
    """

    def __init__(
        self,
        path: str | Path,
        registry: CommandRegistry,
        bus: EventBus,
        authenticate: Authenticator,
        snapshots: Mapping[str, SnapshotProvider] | None = None,
        group: str | None = "ccd",
        clock: Clock | None = None,
        queue_limit: int = 1000,
        *,
        topic_roles: Mapping[str, str] | None = None,
        max_line: int = DEFAULT_MAX_LINE,
        admin_uids: Iterable[int] | None = None,
        close_grace: float = 2.0,
    ) -> None:
        self.path = Path(path)
        self.registry = CommandRegistry()
        self.registry.include(BUILTINS)
        self.registry.include(registry)
        self.bus = bus
        self.authenticate = authenticate
        self.snapshots: dict[str, SnapshotProvider] = dict(snapshots or {})
        self.group = group
        self.clock: Clock = clock or RealClock()
        self.queue_limit = queue_limit
        self.topic_roles: dict[str, str] = dict(DEFAULT_TOPIC_ROLES)
        for topic, role in (topic_roles or {}).items():
            check_role(role, allow_none=False)
            self.topic_roles[topic] = role
        for topic in self.snapshots:
            self.topic_roles.setdefault(topic, "agent")
        self.max_line = max_line
        self.admin_uids = frozenset(admin_uids) if admin_uids is not None else default_admin_uids()
        self.close_grace = close_grace
        self.version = ccd.__version__
        self._server: asyncio.AbstractServer | None = None
        self._bus_unsub: Unsubscribe | None = None
        self._socket_ino: int | None = None
        self._conns: dict[Session, _Conn] = {}
        self._by_topic: dict[str, set[Session]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing_transports: dict[asyncio.BaseTransport, asyncio.TimerHandle] = {}

    # --- public ----------------------------------------------------------------------

    @property
    def clients(self) -> int:
        """Connected clients not being disconnected."""
        return sum(1 for s in self._conns if not s.closing)

    @property
    def sessions(self) -> tuple[Session, ...]:
        return tuple(s for s in self._conns if not s.closing)

    @property
    def serving(self) -> bool:
        return self._server is not None

    def add_snapshot(self, topic: str, provider: SnapshotProvider, role: str | None = None) -> None:
        """Register a snapshot provider (and, if given, the topic's minimum role) after construction."""
        self.snapshots[topic] = provider
        if role is not None:
            check_role(role, allow_none=False)
            self.topic_roles[topic] = role
        else:
            self.topic_roles.setdefault(topic, "agent")

    def topic_allowed(self, topic: str, role: str | None) -> bool:
        required = self.topic_roles.get(topic)
        return required is not None and role_allows(role, required)

    def suggest_topic(self, topic: str) -> str | None:
        close = difflib.get_close_matches(topic, self.topic_roles, n=1)
        return close[0] if close else None

    def sessions_of(self, login: str) -> list[Session]:
        """The live sessions of a user (an agent may run the TUI on two terminals)."""
        return [s for s in self.sessions if s.user is not None and s.user.login == login]

    def push_to_user(self, login: str, name: str, data: dict[str, Any] | None = None) -> int:
        """Send a private event to every session of `login`; returns how many got it."""
        targets = self.sessions_of(login)
        for s in targets:
            s.send_event(name, data)
        return len(targets)

    def add_topics(self, session: Session, topics: Iterable[str]) -> None:
        for topic in topics:
            session.topics.add(topic)
            self._by_topic.setdefault(topic, set()).add(session)

    def remove_topics(self, session: Session, topics: Iterable[str]) -> None:
        for topic in list(topics):
            session.topics.discard(topic)
            members = self._by_topic.get(topic)
            if members is not None:
                members.discard(session)
                if not members:
                    del self._by_topic[topic]

    def close_session(self, session: Session, reason: str) -> None:
        """Disconnect a client after the messages already queued for it are sent."""
        if session.closing:
            return
        session.closing = True
        session.close_reason = reason
        self.remove_topics(session, set(session.topics))
        conn = self._conns.get(session)
        if (
            conn is not None
            and conn.reader_task is not None
            and conn.reader_task is not asyncio.current_task()
        ):
            conn.reader_task.cancel()

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Create the socket (removing a stale one) and start accepting clients.

        Raises ServerError with a message for the operator when the path is unusable or
        another daemon is listening there.
        """
        if self._server is not None:
            raise RuntimeError("server already started")
        path = self.path
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise ServerError(
                f"socket path {path} is too long ({len(os.fsencode(path))} bytes; Unix sockets allow "
                f"{MAX_SOCKET_PATH}): choose a shorter [daemon] socket path"
            )
        created = self._ensure_folder(path.parent)
        await self._clear_stale(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Bind under a umask that already yields 0660 so the socket is never, even for a
        # moment, more open than intended; chmod afterwards in case umask was stricter.
        old_umask = os.umask(0o117)
        try:
            sock.bind(os.fspath(path))
        except OSError as exc:
            sock.close()
            raise ServerError(f"cannot create socket {path}: {exc.strerror or exc}") from exc
        finally:
            os.umask(old_umask)
        os.chmod(path, SOCKET_MODE)
        self._socket_ino = os.stat(path).st_ino
        self._chgrp(path, *([path.parent] if created else []))
        try:
            self._server = await asyncio.start_unix_server(self._on_connect, sock=sock, limit=READ_CHUNK)
        except BaseException:
            sock.close()
            self._unlink_socket()
            raise
        self._bus_unsub = self.bus.subscribe(self._on_bus_event)
        log.info("listening on %s", path)

    async def stop(self) -> None:
        """Stop accepting, tell clients, flush what they are owed (briefly), close, remove the socket."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._bus_unsub is not None:
            self._bus_unsub()
            self._bus_unsub = None
        server.close()
        for task in list(self._tasks):
            task.cancel()
        conns = list(self._conns.values())
        for conn in conns:
            if not conn.session.closing:
                conn.session.send(push("server.stopping", {"reason": "the daemon is stopping"}))
            self.close_session(conn.session, "daemon stopping")
        readers = [c.reader_task for c in conns if c.reader_task is not None]
        if readers:
            await asyncio.gather(*readers, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for transport, timer in list(self._closing_transports.items()):
            timer.cancel()
            _abort(transport)
        self._closing_transports.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), self.close_grace)
        self._unlink_socket()
        log.info("stopped listening on %s", self.path)

    async def __aenter__(self) -> SocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- socket file ------------------------------------------------------------------

    def _ensure_folder(self, folder: Path) -> bool:
        """Create the socket's folder 0750 if missing; an existing folder is left as it is."""
        if folder.is_dir():
            return False
        try:
            folder.mkdir(parents=True, mode=FOLDER_MODE)
            os.chmod(folder, FOLDER_MODE)
        except OSError as exc:
            raise ServerError(f"cannot create socket folder {folder}: {exc.strerror or exc}") from exc
        return True

    async def _clear_stale(self, path: Path) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ServerError(
                f"{path} exists and is not a socket: remove it or choose another [daemon] socket path"
            )
        try:
            _, writer = await asyncio.wait_for(asyncio.open_unix_connection(os.fspath(path)), 2.0)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            log.info("removed stale socket %s (the daemon that made it is gone)", path)
            return
        except TimeoutError as exc:
            raise ServerError(
                f"a process holds {path} but does not answer: stop it or choose another socket path"
            ) from exc
        except PermissionError as exc:
            raise ServerError(f"cannot check {path}: permission denied") from exc
        writer.close()
        raise ServerError(
            f"another ccd daemon is already listening on {path}: stop it first, or use another socket path"
        )

    def _chgrp(self, *paths: Path) -> None:
        if not self.group:
            return
        try:
            import grp

            gid = grp.getgrnam(self.group).gr_gid
        except (ImportError, KeyError):
            log.info(
                "group %r does not exist, so only the daemon's user and root can connect to %s "
                "(create the group and add the agents' Unix accounts to it)",
                self.group,
                self.path,
            )
            return
        for path in paths:
            try:
                os.chown(path, -1, gid)
            except OSError as exc:
                log.warning("cannot give %s to group %r: %s", path, self.group, exc.strerror or exc)

    def _unlink_socket(self) -> None:
        """Remove our socket file, unless another daemon has since replaced it."""
        try:
            if self._socket_ino is not None and os.stat(self.path).st_ino == self._socket_ino:
                self.path.unlink()
        except FileNotFoundError:
            pass
        self._socket_ino = None

    # --- events ----------------------------------------------------------------------

    def _on_bus_event(self, event: BusEvent) -> None:
        sessions = self._by_topic.get(event.topic)
        if not sessions:
            return
        try:
            payload = encode(push(event.name, event.data))
        except (TypeError, ValueError) as exc:
            log.error("event %s cannot be sent to clients (not JSON): %s", event.name, exc)
            return
        for session in tuple(sessions):
            session.deliver(event, payload)

    def _on_overflow(self, session: Session) -> None:
        if session.closing:
            return
        conn = self._conns.get(session)
        if conn is not None:
            conn.overflowed = True
        log.warning(
            "client #%d (%s, %s) is not reading: %d messages queued, disconnecting it",
            session.id,
            session.user.login if session.user else "not logged in",
            session.peer or "peer unknown",
            len(session.queue),
        )
        self.close_session(session, "outgoing queue overflow")

    # --- connections -----------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cred = peer_credentials(writer.get_extra_info("socket"))
        session = Session(
            peer=cred,
            queue_limit=self.queue_limit,
            connected_at=self.clock.wall(),
            on_overflow=self._on_overflow,
        )
        conn = _Conn(session, reader, writer)
        conn.reader_task = asyncio.current_task()
        conn.sender_task = asyncio.create_task(self._send_loop(conn), name=f"ccd-client-{session.id}-sender")
        self._conns[session] = conn
        log.info("client #%d connected (%s)", session.id, cred or "peer credentials unavailable")
        if self._server is None:  # raced with stop()
            self.close_session(session, "daemon stopping")
        try:
            await self._read_loop(conn)
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError) as exc:
            self.close_session(session, f"connection error: {exc}")
        except Exception:
            log.exception("client #%d: reader failed", session.id)
            self.close_session(session, "internal error")
        finally:
            await self._finish(conn)

    async def _read_loop(self, conn: _Conn) -> None:
        session = conn.session
        decoder = NdjsonDecoder(self.max_line)
        slots = asyncio.Semaphore(MAX_INFLIGHT)
        bad_in_a_row = 0
        while not session.closing:
            await session.queue.wait_for_space()
            data = await conn.reader.read(READ_CHUNK)
            if not data:
                if decoder.pending:
                    log.debug("client #%d hung up in the middle of a message; dropped it", session.id)
                self.close_session(session, "client closed the connection")
                return
            for item in decoder.feed(data):
                if session.closing:
                    return
                if isinstance(item, ProtocolError):
                    bad_in_a_row += 1
                    session.send(reply_error(None, item))
                    continue
                try:
                    req = parse_request(item)
                except RpcError as exc:
                    bad_in_a_row += 1
                    session.send(reply_error(salvage_id(item), exc))
                    continue
                bad_in_a_row = 0
                cmd = self.registry.get(req.cmd)
                if cmd is None or cmd.sequential:
                    await self._dispatch(session, req, cmd)
                else:
                    await slots.acquire()
                    task = asyncio.create_task(self._dispatch(session, req, cmd), name=f"ccd-{req.cmd}")
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    task.add_done_callback(lambda _t: slots.release())
            if decoder.discarded > FLOOD_LINES * self.max_line:
                log.warning("client #%d keeps sending oversized messages, disconnecting it", session.id)
                self.close_session(session, "flooding with oversized messages")
            elif bad_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                log.warning(
                    "client #%d sent %d bad messages in a row, disconnecting it", session.id, bad_in_a_row
                )
                self.close_session(session, "not speaking the protocol")

    async def _dispatch(self, session: Session, req: Request, cmd: Command | None) -> None:
        ctx = RequestContext(session.user, session, self, req.cmd, req.id)
        try:
            try:
                result = await self._run(ctx, req, cmd)
                payload = encode(reply_ok(req.id, result))
            except RpcError as exc:
                payload = encode(reply_error(req.id, exc))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "command %s from client #%d (%s) failed",
                    req.cmd,
                    session.id,
                    session.user.login if session.user else "not logged in",
                )
                payload = encode(
                    reply_error(req.id, RpcError(E_INTERNAL, "internal error in the daemon; see its log"))
                )
            session.queue.put(payload)
        finally:
            # After the reply is queued, and even when the request was cancelled: subscribe
            # releases the events it held back here.
            for callback in ctx._after_reply:
                try:
                    callback()
                except Exception:
                    log.exception("after-reply callback of %s failed", req.cmd)

    async def _run(self, ctx: RequestContext, req: Request, cmd: Command | None) -> Any:
        if cmd is None:
            hint = self.registry.suggest(req.cmd)
            raise RpcError(
                E_UNKNOWN_COMMAND,
                f"unknown command '{req.cmd}'" + (f" (did you mean '{hint}'?)" if hint else ""),
            )
        if cmd.role is not None:
            user = ctx.session.user
            if user is None:
                raise RpcError(E_NOT_AUTHENTICATED, f"'{cmd.name}' needs you to log in first")
            if not cmd.allowed_for(user.role):
                raise RpcError(E_FORBIDDEN, f"'{cmd.name}' needs the {cmd.role} role (you are {user.role})")
        return await cmd.handler(ctx, req.args)

    async def _send_loop(self, conn: _Conn) -> None:
        queue = conn.session.queue
        writer = conn.writer
        try:
            while True:
                payload = await queue.get()
                if payload is None:
                    return
                writer.write(payload)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.debug("client #%d: write failed: %s", conn.session.id, exc)
            self.close_session(conn.session, "connection lost")

    async def _finish(self, conn: _Conn) -> None:
        session = conn.session
        self.close_session(session, session.close_reason or "closed")
        writer = conn.writer
        transport = writer.transport
        sender = conn.sender_task
        assert sender is not None
        if conn.overflowed:
            sender.cancel()
            session.queue.close(discard=True)
            with contextlib.suppress(Exception):
                writer.write(
                    encode(
                        push("server.overflow", {"reason": "client too slow; reconnect for a fresh snapshot"})
                    )
                )
        else:
            session.queue.close()
            try:
                await asyncio.wait_for(asyncio.shield(sender), self.close_grace)
            except (TimeoutError, asyncio.CancelledError):
                sender.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(sender, return_exceptions=True)
        self._conns.pop(session, None)
        if not transport.is_closing():
            writer.close()
        # A peer that never reads would keep a closing transport (and its buffer) forever;
        # give it a moment to take its last messages, then cut it (stop() cuts at once).
        timer = asyncio.get_running_loop().call_later(self.close_grace, self._abort_transport, transport)
        self._closing_transports[transport] = timer
        log.info("client #%d disconnected: %s", session.id, session.close_reason)

    def _abort_transport(self, transport: asyncio.BaseTransport) -> None:
        self._closing_transports.pop(transport, None)
        _abort(transport)


def _abort(transport: asyncio.BaseTransport) -> None:
    """Cut a transport; one that already finished closing may refuse (its loop is gone)."""
    with contextlib.suppress(Exception):
        transport.abort()
