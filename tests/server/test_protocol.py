"""Requests, replies and errors through the real socket: hello, login, roles, bad input."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ccd.ipc import errors as E
from ccd.server.auth import AUTH_FAILED_MESSAGE, MAX_LOGIN_FAILURES
from ccd.server.server import SocketServer

from .conftest import RawConn, eventually


async def test_hello_reports_protocol_and_version(conn: RawConn) -> None:
    reply = await conn.call("hello", {"protocol": 1, "client": "pytest"})
    assert reply["ok"] is True
    assert reply["result"]["protocol"] == 1
    assert reply["result"]["server"] == "ccd"
    assert isinstance(reply["result"]["version"], str)


async def test_hello_with_unsupported_protocol_is_refused_and_connection_survives(conn: RawConn) -> None:
    reply = await conn.call("hello", {"protocol": 99})
    assert reply == {
        "id": reply["id"],
        "ok": False,
        "error": {
            "code": E.E_VERSION,
            "message": "protocol 99 is not supported: this daemon speaks protocol 1",
            "details": {"supported": [1]},
        },
    }
    assert (await conn.call("ping"))["ok"]


async def test_reply_echoes_string_ids_and_null_id(conn: RawConn) -> None:
    await conn.send({"id": "abc", "cmd": "ping"})
    assert (await conn.recv())["id"] == "abc"
    await conn.send({"cmd": "ping"})
    reply = await conn.recv()
    assert reply["id"] is None and reply["ok"] is True


async def test_commands_need_login(conn: RawConn) -> None:
    reply = await conn.call("echo", {"x": 1})
    assert reply["error"]["code"] == E.E_NOT_AUTHENTICATED
    await conn.login("alice")
    reply = await conn.call("echo", {"x": 1})
    assert reply["result"] == {"args": {"x": 1}, "user": "alice"}


async def test_login_returns_the_user(conn: RawConn) -> None:
    reply = await conn.login("alice")
    assert reply["result"] == {
        "user": "alice",
        "role": "agent",
        "name": "Alice 王",
        "extension": "801",
        "agent_no": "1001",
    }


async def test_failed_login_is_generic_and_logged_with_peer(
    conn: RawConn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ccd.server")
    unknown = await conn.call("login", {"user": "nobody", "password": "x"})
    wrong = await conn.call("login", {"user": "alice", "password": "wrong"})
    assert unknown["error"] == wrong["error"] == {"code": E.E_AUTH_FAILED, "message": AUTH_FAILED_MESSAGE}
    failures = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert len(failures) == 2
    assert "'nobody'" in failures[0] and "pid=" in failures[0] and "uid=" in failures[0]
    assert "x" not in failures[0].split("failure")[0].replace("'nobody'", "")  # no password in the log
    assert (await conn.call("ping"))["ok"]


async def test_five_failed_logins_disconnect(server: SocketServer, conn: RawConn) -> None:
    for _ in range(MAX_LOGIN_FAILURES - 1):
        assert (await conn.call("login", {"user": "alice", "password": "guess"}))["error"][
            "code"
        ] == E.E_AUTH_FAILED
    last = await conn.call("login", {"user": "alice", "password": "guess"})
    assert last["error"]["code"] == E.E_AUTH_FAILED  # the reply still arrives...
    assert await conn.closed()  # ...then the daemon hangs up
    await eventually(lambda: server.clients == 0)


async def test_login_args_are_checked(conn: RawConn) -> None:
    reply = await conn.call("login", {"user": "alice"})
    assert reply["error"]["code"] == E.E_INVALID_ARGS
    assert "'password'" in reply["error"]["message"]
    reply = await conn.call("login", {"user": 5, "password": "x"})
    assert reply["error"] == {
        "code": E.E_INVALID_ARGS,
        "message": "argument 'user' must be a string",
        "details": {"argument": "user"},
    }


async def test_peer_login_grants_admin_to_own_uid(conn: RawConn) -> None:
    reply = await conn.call("login", {"peer": True})
    assert reply["ok"], reply
    assert reply["result"]["role"] == "admin"
    assert (await conn.call("admin.only"))["result"] == "ok"


async def test_peer_login_refused_for_other_uids(make_server) -> None:
    server = await make_server(admin_uids={424242})
    conn = await RawConn.open(server.path)
    reply = await conn.call("login", {"peer": True})
    assert reply["error"]["code"] == E.E_AUTH_FAILED
    assert (await conn.call("admin.only"))["error"]["code"] == E.E_NOT_AUTHENTICATED
    await conn.close()


@pytest.mark.parametrize(
    ("user", "cmd", "ok"),
    [
        ("alice", "sup.only", False),
        ("alice", "admin.only", False),
        ("sam", "sup.only", True),
        ("sam", "admin.only", False),
        ("ada", "sup.only", True),
        ("ada", "admin.only", True),
    ],
)
async def test_roles_are_enforced_and_connection_survives(
    conn: RawConn, user: str, cmd: str, ok: bool
) -> None:
    await conn.login(user)
    reply = await conn.call(cmd)
    if ok:
        assert reply["result"] == "ok"
    else:
        assert reply["error"]["code"] == E.E_FORBIDDEN
        assert cmd in reply["error"]["message"]
    assert (await conn.call("echo"))["ok"]


async def test_commands_lists_what_the_role_may_call(conn: RawConn) -> None:
    anonymous = {c["name"] for c in (await conn.call("commands"))["result"]}
    assert {"hello", "login", "ping", "commands"} <= anonymous
    assert "echo" not in anonymous
    await conn.login("alice")
    agent = {c["name"] for c in (await conn.call("commands"))["result"]}
    assert "echo" in agent and "subscribe" in agent and "sup.only" not in agent
    await conn.call("logout")
    await conn.login("ada")
    admin = (await conn.call("commands"))["result"]
    assert {"sup.only", "admin.only", "server.clients"} <= {c["name"] for c in admin}
    echo = next(c for c in admin if c["name"] == "echo")
    assert echo == {"name": "echo", "role": "agent", "doc": "Return the arguments.", "example": {"x": 1}}


async def test_logout_forgets_the_user(conn: RawConn) -> None:
    await conn.login("alice")
    assert (await conn.call("logout"))["ok"]
    assert (await conn.call("echo"))["error"]["code"] == E.E_NOT_AUTHENTICATED


async def test_unknown_command_suggests_a_name(conn: RawConn) -> None:
    reply = await conn.call("comands")
    assert reply["error"] == {
        "code": E.E_UNKNOWN_COMMAND,
        "message": "unknown command 'comands' (did you mean 'commands'?)",
    }


async def test_handler_bug_is_internal_error_logged_with_traceback(
    conn: RawConn, caplog: pytest.LogCaptureFixture
) -> None:
    await conn.login("alice")
    reply = await conn.call("boom")
    assert reply["error"]["code"] == E.E_INTERNAL
    assert "handler bug" not in reply["error"]["message"]  # internals stay in the log
    record = next(r for r in caplog.records if "boom" in r.getMessage())
    assert record.exc_info is not None and "handler bug" in str(record.exc_info[1])
    assert (await conn.call("echo"))["ok"]


async def test_rpc_error_keeps_code_message_and_details(conn: RawConn) -> None:
    await conn.login("alice")
    reply = await conn.call("missing")
    assert reply["error"] == {"code": E.E_NOT_FOUND, "message": "no such call 42", "details": {"call": 42}}


async def test_unencodable_result_is_internal_error(conn: RawConn) -> None:
    await conn.login("alice")
    assert (await conn.call("not.json"))["error"]["code"] == E.E_INTERNAL
    assert (await conn.call("ping"))["ok"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"this is not json\n", E.E_BAD_JSON),
        (b'{"id": 1, "cmd": \n', E.E_BAD_JSON),
        (b"[1, 2, 3]\n", E.E_BAD_JSON),
        (b'"ping"\n', E.E_BAD_JSON),
        (b'{"id": 1, "cmd": "\xff\xfe"}\n', E.E_BAD_JSON),
        (b"\x00\x01\x02\x03\n", E.E_BAD_JSON),
    ],
    ids=["text", "truncated", "array", "string", "bad-utf8", "binary"],
)
async def test_garbage_gets_an_error_reply_and_the_connection_survives(
    conn: RawConn, raw: bytes, code: str
) -> None:
    await conn.send_bytes(raw)
    reply = await conn.recv()
    assert reply["id"] is None and reply["ok"] is False and reply["error"]["code"] == code
    assert (await conn.call("ping"))["ok"]


@pytest.mark.parametrize(
    ("msg", "rid", "fragment"),
    [
        ({"id": 4}, 4, "no 'cmd'"),
        ({"id": 5, "cmd": "ping", "args": [1]}, 5, "'args' must be a JSON object"),
        ({"id": [1], "cmd": "ping"}, None, "'id'"),
        ({"id": 6, "cmd": "ping", "argz": {}}, 6, "argz"),
        ({"event": "call.ringing", "data": {}}, None, "not events"),
    ],
)
async def test_bad_requests_name_the_problem_and_echo_the_id(
    conn: RawConn, msg: dict, rid: object, fragment: str
) -> None:
    await conn.send(msg)
    reply = await conn.recv()
    assert reply["id"] == rid
    assert reply["error"]["code"] == E.E_BAD_REQUEST
    assert fragment in reply["error"]["message"]
    assert (await conn.call("ping"))["ok"]


async def test_oversized_line_gets_too_large_then_connection_works(make_server) -> None:
    server = await make_server(max_line=1024)
    conn = await RawConn.open(server.path)
    await conn.send_bytes(b'{"id": 1, "cmd": "echo", "args": {"pad": "' + b"x" * 3000 + b'"}}\n')
    reply = await conn.recv()
    assert reply["id"] is None and reply["error"]["code"] == E.E_TOO_LARGE
    assert "1024" in reply["error"]["message"]
    assert (await conn.call("ping"))["ok"]
    await conn.close()


async def test_a_flooding_client_is_cut_off_and_others_are_unaffected(make_server) -> None:
    server = await make_server(max_line=1024)
    good = await RawConn.open(server.path)
    await good.login("alice")
    flood = await RawConn.open(server.path)
    await eventually(lambda: server.clients == 2)
    chunk = b"A" * 1000  # never a newline
    for _ in range(20):
        try:
            await flood.send_bytes(chunk)
        except (ConnectionError, OSError):
            break
        assert (await good.call("echo", {"n": 1}))["ok"]  # interleaved with the flood
    try:
        first = await flood.recv()
    except (ConnectionError, EOFError):
        pass  # the hang-up may overtake the error reply (unread input resets the socket)
    else:
        assert first["error"]["code"] == E.E_TOO_LARGE
    assert await flood.closed()
    await eventually(lambda: server.clients == 1)
    assert (await good.call("echo", {"n": 2}))["result"]["args"] == {"n": 2}
    await good.close()


async def test_half_message_at_disconnect_is_dropped_silently(
    server: SocketServer, caplog: pytest.LogCaptureFixture
) -> None:
    conn = await RawConn.open(server.path)
    await conn.login("alice")
    await conn.send_bytes(b'{"id": 9, "cmd": "echo", "args": {"half')
    await conn.close()
    await eventually(lambda: server.clients == 0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_requests_run_concurrently_and_replies_match_ids(server: SocketServer, conn: RawConn) -> None:
    await conn.login("alice")
    await conn.send({"id": 100, "cmd": "wait"})
    await conn.send({"id": 101, "cmd": "echo", "args": {"n": 1}})
    first = await conn.recv()
    assert first["id"] == 101  # not stuck behind the blocked request
    server.test_gate.set()
    second = await conn.recv()
    assert second == {"id": 100, "ok": True, "result": "released"}


async def test_pipelined_login_then_request_is_applied_in_order(conn: RawConn) -> None:
    await conn.send_bytes(
        b'{"id":1,"cmd":"login","args":{"user":"alice","password":"alice-pw"}}\n{"id":2,"cmd":"echo"}\n'
    )
    replies = {m["id"]: m for m in [await conn.recv(), await conn.recv()]}
    assert replies[1]["ok"] and replies[2]["ok"], replies


async def test_session_state_is_per_connection(server: SocketServer) -> None:
    a = await RawConn.open(server.path)
    b = await RawConn.open(server.path)
    await a.login("alice")
    await b.login("alice")
    assert (await a.call("stash", {"v": "A"}))["result"] is None
    assert (await b.call("stash", {"v": "B"}))["result"] is None
    assert (await a.call("stash", {"v": "A2"}))["result"] == "A"
    await a.close()
    await b.close()


async def test_admin_lists_connected_clients_with_peer_credentials(server: SocketServer) -> None:
    admin = await RawConn.open(server.path)
    await admin.login("ada")
    agent = await RawConn.open(server.path)
    await agent.login("alice")
    rows = (await admin.call("server.clients"))["result"]
    assert sorted(r["user"] for r in rows) == ["ada", "alice"]
    assert all(isinstance(r["pid"], int) and isinstance(r["uid"], int) for r in rows)
    await admin.close()
    await agent.close()


async def test_stop_tells_clients_and_closes_them(server: SocketServer, conn: RawConn) -> None:
    await conn.login("alice")
    await server.stop()
    msg = await conn.recv()
    assert msg == {"event": "server.stopping", "data": {"reason": "the daemon is stopping"}}
    assert await conn.closed()
    assert not server.path.exists()


async def test_cancelled_waits_do_not_block_stop(server: SocketServer, conn: RawConn) -> None:
    await conn.login("alice")
    await conn.send({"id": 1, "cmd": "wait"})
    await eventually(lambda: any(t.get_name() == "ccd-wait" for t in asyncio.all_tasks()))
    async with asyncio.timeout(5):
        await server.stop()
