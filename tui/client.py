"""The one client of the ccd socket, shared by the agent TUI, the wallboard and the CLI.

asyncio only, on purpose: ``ccd status`` imports this and must start fast, so nothing
here imports textual. A TUI wires it to its widgets by passing callbacks that
``post_message`` (thread- and order-safe).

Three ways in, from the simplest:

* `call_daemon(path, cmd, args)`: synchronous, one request (CLI commands).
* `DaemonClient`: one connection; `request()`, `subscribe()`, `events()`.
* `ReconnectingClient`: what a TUI runs. It reconnects with backoff when the daemon
  goes away, logs in and subscribes again, and reports each step through ``on_state`` so
  the app can show a banner and rebuild its state from the fresh snapshot.

Snapshot events (``line.snapshot`` ...) are delivered like any other event, in the order
they came off the wire, and `subscribe()` also returns them: code that keeps its state
purely from the event stream needs nothing else, and a one-shot reader can use the
returned list.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ccd.ipc.codec import NdjsonDecoder, ProtocolError, encode
from ccd.ipc.errors import E_AUTH_FAILED, E_FORBIDDEN, E_NOT_AUTHENTICATED, E_VERSION, RpcError
from ccd.ipc.messages import PROTOCOL_VERSION, request

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Any]
StateCallback = Callable[[str, dict[str, Any]], Any]

CLIENT_MAX_LINE = 64 * 1024 * 1024  # replies can be big (a CDR export); the daemon is trusted
EVENT_BUFFER = 10_000  # events kept for an events() reader that lags; oldest dropped beyond
_DEFAULT: Any = object()


class DaemonConnectionError(ConnectionError):
    """The daemon cannot be reached, or the connection to it was lost. The text is for people."""


class DaemonClient:
    """One connection to the daemon.

    ``on_event`` (if given) is called with every pushed event dict, in order, from the
    reader task; it must not block. Without it, events are buffered for `events()`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        on_event: EventCallback | None = None,
        request_timeout: float | None = 30.0,
        client_name: str = "ccd-client",
        max_line: int = CLIENT_MAX_LINE,
    ) -> None:
        self.path = Path(path)
        self.on_event = on_event
        self.request_timeout = request_timeout
        self.client_name = client_name
        self.server_info: dict[str, Any] | None = None
        self.user: dict[str, Any] | None = None
        self.close_reason: str | None = None
        self._max_line = max_line
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._snapshot_sinks: deque[tuple[int, list[dict[str, Any]]]] = deque()
        self._events: deque[dict[str, Any] | None] = deque()
        self._event_ready = asyncio.Event()
        self._closed = asyncio.Event()
        self._dropped = 0

    # --- connection ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._closed.is_set()

    async def connect(self, timeout: float = 3.0) -> None:
        """Open the socket. Raises DaemonConnectionError saying why it could not."""
        if self._writer is not None:
            raise RuntimeError("DaemonClient.connect() called twice; make a new client to reconnect")
        where = os.fspath(self.path)
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(where, limit=65536), timeout
            )
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise DaemonConnectionError(f"ccd daemon not running at {where}") from exc
        except PermissionError as exc:
            raise DaemonConnectionError(
                f"permission denied on {where}: your Unix user must be in the daemon's group (usually 'ccd')"
            ) from exc
        except TimeoutError as exc:
            raise DaemonConnectionError(
                f"ccd daemon at {where} did not accept the connection within {timeout:g} s"
            ) from exc
        except OSError as exc:
            raise DaemonConnectionError(
                f"cannot connect to the ccd daemon at {where}: {exc.strerror or exc}"
            ) from exc
        self._read_task = asyncio.create_task(self._read_loop(), name="ccd-client-reader")

    async def close(self) -> None:
        """Hang up. Pending requests fail with DaemonConnectionError; events() ends."""
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        task = self._read_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._lost("closed by the client")

    async def wait_closed(self) -> None:
        """Wait until the connection ends (the daemon went away, or close() was called)."""
        await self._closed.wait()

    async def __aenter__(self) -> DaemonClient:
        if self._writer is None:
            await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- requests --------------------------------------------------------------------

    async def call(
        self, cmd: str, args: dict[str, Any] | None = None, *, timeout: float | None = _DEFAULT
    ) -> Any:
        """Send one request and return its result; raises RpcError for an error reply."""
        rid, future = self._send(cmd, args)
        return await self._result(cmd, rid, future, timeout)

    def _send(
        self, cmd: str, args: dict[str, Any] | None, sink: list[dict[str, Any]] | None = None
    ) -> tuple[int, asyncio.Future[Any]]:
        writer = self._writer
        if writer is None or self._closed.is_set():
            raise DaemonConnectionError(f"not connected to the ccd daemon at {self.path}")
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        if sink is not None:
            # The daemon sends a subscribe's snapshot right before its reply, and handles
            # subscribes in order, so snapshot events belong to the oldest pending one.
            self._snapshot_sinks.append((rid, sink))
        writer.write(encode(request(rid, cmd, args)))
        return rid, future

    async def _result(self, cmd: str, rid: int, future: asyncio.Future[Any], timeout: float | None) -> Any:
        limit = self.request_timeout if timeout is _DEFAULT else timeout
        try:
            assert self._writer is not None
            await self._writer.drain()
            return await asyncio.wait_for(future, limit)
        except TimeoutError:
            raise TimeoutError(f"the ccd daemon did not answer '{cmd}' within {limit:g} s") from None
        except DaemonConnectionError:
            raise
        except (ConnectionError, OSError) as exc:
            raise DaemonConnectionError(f"connection to the ccd daemon at {self.path} lost: {exc}") from exc
        finally:
            self._pending.pop(rid, None)

    async def request(self, cmd: str, /, **args: Any) -> Any:
        """`call()` with keyword arguments: ``await client.request("cdr.list", last=5)``."""
        return await self.call(cmd, args)

    async def hello(self) -> dict[str, Any]:
        info = await self.call("hello", {"protocol": PROTOCOL_VERSION, "client": self.client_name})
        self.server_info = info
        return info

    async def login(self, user: str, password: str) -> dict[str, Any]:
        self.user = await self.call("login", {"user": user, "password": password})
        return self.user

    async def login_peer(self) -> dict[str, Any]:
        """Log in as admin by Unix credentials (works for the daemon's own user and root)."""
        self.user = await self.call("login", {"peer": True})
        return self.user

    async def subscribe(
        self, topics: Iterable[str], *, timeout: float | None = _DEFAULT
    ) -> list[dict[str, Any]]:
        """Subscribe and return the snapshot events (also delivered as events, in order)."""
        sink: list[dict[str, Any]] = []
        rid, future = self._send("subscribe", {"topics": list(topics)}, sink)
        await self._result("subscribe", rid, future, timeout)
        return sink

    async def unsubscribe(self, topics: Iterable[str]) -> dict[str, Any]:
        return await self.call("unsubscribe", {"topics": list(topics)})

    # --- events ----------------------------------------------------------------------

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Pushed events in arrival order, until the connection ends."""
        while True:
            while not self._events:
                if self._closed.is_set():
                    return
                self._event_ready.clear()
                await self._event_ready.wait()
            item = self._events.popleft()
            if item is None:
                return
            yield item

    # --- internals -------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        decoder = NdjsonDecoder(self._max_line)
        reason = "the daemon closed the connection"
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    break
                for item in decoder.feed(data):
                    if isinstance(item, ProtocolError):
                        log.warning("ccd daemon sent a bad message: %s", item)
                        continue
                    self._dispatch(item)
        except (ConnectionError, OSError) as exc:
            reason = f"connection error: {exc}"
        finally:
            self._lost(reason)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "event" in msg:
            name = msg.get("event")
            if isinstance(name, str) and name.endswith(".snapshot") and self._snapshot_sinks:
                self._snapshot_sinks[0][1].append(msg)
            if name == "server.overflow":
                log.warning("the ccd daemon dropped this client for reading too slowly")
            self._deliver(msg)
            return
        rid = msg.get("id")
        if self._snapshot_sinks and self._snapshot_sinks[0][0] == rid:
            self._snapshot_sinks.popleft()
        future = self._pending.get(rid) if isinstance(rid, int) else None
        if future is None:
            if msg.get("ok") is False:
                log.warning("ccd daemon reported an error: %s", RpcError.from_dict(msg.get("error")))
            return
        if future.done():
            return
        if msg.get("ok") is True:
            future.set_result(msg.get("result"))
        else:
            future.set_exception(RpcError.from_dict(msg.get("error")))

    def _deliver(self, msg: dict[str, Any] | None) -> None:
        if msg is not None and self.on_event is not None:
            try:
                self.on_event(msg)
            except Exception:
                log.exception("event callback failed on %s", msg.get("event"))
            return
        if msg is not None and len(self._events) >= EVENT_BUFFER:
            self._events.popleft()
            self._dropped += 1
            if self._dropped == 1:
                log.warning("events() reader is lagging; dropping the oldest events")
        self._events.append(msg)
        self._event_ready.set()

    def _lost(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self.close_reason = reason
        self._closed.set()
        error = DaemonConnectionError(f"connection to the ccd daemon at {self.path} lost ({reason})")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        self._snapshot_sinks.clear()
        self._events.append(None)
        self._event_ready.set()
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()


# --- one-shot helpers (CLI) ----------------------------------------------------------


@contextlib.asynccontextmanager
async def open_client(
    path: str | Path,
    *,
    peer: bool = True,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 3.0,
    client_name: str = "ccd-cli",
    on_event: EventCallback | None = None,
) -> AsyncIterator[DaemonClient]:
    """Connect, say hello and log in (by password when `user` is given, else by peer credentials)."""
    client = DaemonClient(path, client_name=client_name, on_event=on_event)
    await client.connect(timeout)
    try:
        await client.hello()
        if user is not None:
            await client.login(user, password or "")
        elif peer:
            await client.login_peer()
        yield client
    finally:
        await client.close()


def call_daemon(
    path: str | Path,
    cmd: str,
    args: dict[str, Any] | None = None,
    *,
    peer: bool = True,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 10.0,
) -> Any:
    """Connect, hello, log in, make one request and return its result (synchronous).

    Raises DaemonConnectionError (daemon absent or gone), RpcError (the daemon refused), or
    TimeoutError (no answer within `timeout` seconds for the whole exchange).
    """

    async def exchange() -> Any:
        try:
            async with asyncio.timeout(timeout):
                async with open_client(
                    path, peer=peer, user=user, password=password, timeout=timeout
                ) as client:
                    return await client.call(cmd, args, timeout=None)
        except TimeoutError:
            raise TimeoutError(
                f"the ccd daemon at {path} did not answer '{cmd}' within {timeout:g} s"
            ) from None

    return asyncio.run(exchange())


# --- reconnecting client (TUIs) ------------------------------------------------------

Auth = tuple[str, str] | str | None  # (user, password), "peer", or None (no login)

# Errors that retrying cannot fix: stop and tell the user.
FATAL_CODES = frozenset({E_AUTH_FAILED, E_VERSION, E_FORBIDDEN, E_NOT_AUTHENTICATED})


class ReconnectingClient:
    """Keep a logged-in, subscribed connection alive for an app, reconnecting with backoff.

    ``on_state(state, info)`` is called with:

    * ``"connecting"`` ``{"attempt": n}`` before each attempt;
    * ``"syncing"`` ``{"server": ..., "user": ...}`` once logged in, just before subscribing:
      drop the state built from the previous connection, the snapshot follows as events;
    * ``"connected"`` ``{"snapshot": [...], "server": ..., "user": ...}`` when subscribed;
    * ``"lost"`` ``{"reason": ..., "retry_in": seconds}`` when the daemon is gone or unreachable
      (show a banner; the next attempt follows by itself);
    * ``"failed"`` ``{"error": RpcError}`` when retrying cannot help (wrong password, version
      mismatch): `run()` then raises that error;
    * ``"stopped"`` ``{}`` after `stop()`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        auth: Auth = "peer",
        topics: Sequence[str] = (),
        on_event: EventCallback | None = None,
        on_state: StateCallback | None = None,
        min_backoff: float = 0.2,
        max_backoff: float = 5.0,
        connect_timeout: float = 3.0,
        client_name: str = "ccd-tui",
    ) -> None:
        self.path = Path(path)
        self.auth = auth
        self.topics = list(topics)
        self.on_event = on_event
        self.on_state = on_state
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self.client_name = client_name
        self.client: DaemonClient | None = None
        self.state = "idle"
        self._stop = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    async def request(self, cmd: str, /, **args: Any) -> Any:
        return await self.call(cmd, args)

    async def call(self, cmd: str, args: dict[str, Any] | None = None, **kw: Any) -> Any:
        client = self.client
        if client is None or not client.connected:
            raise DaemonConnectionError(f"not connected to the ccd daemon at {self.path} (reconnecting)")
        return await client.call(cmd, args, **kw)

    def stop(self) -> None:
        """Ask `run()` to hang up and return (it closes the current connection itself)."""
        self._stop.set()

    def _set_state(self, state: str, info: dict[str, Any]) -> None:
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state, info)
            except Exception:
                log.exception("on_state callback failed on %s", state)

    async def _login(self, client: DaemonClient) -> None:
        if self.auth == "peer":
            await client.login_peer()
        elif isinstance(self.auth, tuple):
            await client.login(*self.auth)

    async def run(self) -> None:
        """Connect and stay connected until `stop()`; raises RpcError on a fatal refusal."""
        backoff = self.min_backoff
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            self._set_state("connecting", {"attempt": attempt})
            client = DaemonClient(self.path, on_event=self.on_event, client_name=self.client_name)
            try:
                await client.connect(self.connect_timeout)
                self.client = client
                info = await client.hello()
                await self._login(client)
                self._set_state("syncing", {"server": info, "user": client.user})
                snapshot = await client.subscribe(self.topics) if self.topics else []
            except RpcError as exc:
                self.client = None
                await client.close()
                if exc.code in FATAL_CODES:
                    self._set_state("failed", {"error": exc})
                    raise
                reason = str(exc)
            except (ConnectionError, OSError, TimeoutError) as exc:
                self.client = None
                await client.close()
                reason = str(exc)
            else:
                if self._stop.is_set():
                    break
                backoff = self.min_backoff
                attempt = 0
                self._set_state("connected", {"snapshot": snapshot, "server": info, "user": client.user})
                await self._wait_either(client.wait_closed())
                reason = client.close_reason or "connection closed"
                self.client = None
                await client.close()
                if self._stop.is_set():
                    break
            self._set_state("lost", {"reason": reason, "retry_in": backoff})
            await self._wait_either(asyncio.sleep(backoff))
            backoff = min(backoff * 2, self.max_backoff)
        self.client = None
        self._set_state("stopped", {})

    async def _wait_either(self, aw: Any) -> None:
        """Wait for `aw` or for stop(), whichever comes first."""
        task = asyncio.ensure_future(aw)
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (task, stopper):
                if not t.done():
                    t.cancel()
            await asyncio.gather(task, stopper, return_exceptions=True)
