"""The socket file: permissions, group, stale files, a second daemon, clean removal."""

from __future__ import annotations

import grp
import logging
import os
import socket
import stat
from pathlib import Path

import pytest

from ccd.bus import EventBus
from ccd.server.server import ServerError, SocketServer

from .conftest import RawConn, authenticate, make_registry


def new_server(path: Path, bus: EventBus, **kw) -> SocketServer:
    kw.setdefault("group", None)
    return SocketServer(path, make_registry(), bus, authenticate, **kw)


async def test_socket_is_0660_and_new_folder_0750(sock_path: Path, bus: EventBus) -> None:
    old = os.umask(0o022)  # a typical umask would otherwise give 0755 / 0775
    try:
        server = new_server(sock_path, bus)
        await server.start()
    finally:
        os.umask(old)
    try:
        assert stat.S_ISSOCK(os.stat(sock_path).st_mode)
        assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o660
        assert stat.S_IMODE(os.stat(sock_path.parent).st_mode) == 0o750
    finally:
        await server.stop()
    assert not sock_path.exists()
    assert sock_path.parent.is_dir()  # the folder stays, only the socket goes


async def test_existing_folder_is_left_alone(tmp_path: Path, bus: EventBus) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    server = new_server(folder / "ccd.sock", bus)
    await server.start()
    try:
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755
    finally:
        await server.stop()


async def test_socket_and_new_folder_get_the_group(sock_path: Path, bus: EventBus) -> None:
    group = grp.getgrgid(os.getgid()).gr_name
    server = new_server(sock_path, bus, group=group)
    await server.start()
    try:
        assert os.stat(sock_path).st_gid == os.getgid()
        assert os.stat(sock_path.parent).st_gid == os.getgid()
    finally:
        await server.stop()


async def test_missing_group_is_logged_not_fatal(
    sock_path: Path, bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ccd.server")
    server = new_server(sock_path, bus, group="no-such-group-ccd")
    await server.start()
    try:
        assert any("no-such-group-ccd" in r.getMessage() for r in caplog.records)
    finally:
        await server.stop()


async def test_stale_socket_from_a_killed_daemon_is_replaced(sock_path: Path, bus: EventBus) -> None:
    sock_path.parent.mkdir()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))  # bound, never listening, then gone: what kill -9 leaves
    dead.close()
    assert sock_path.exists()
    server = new_server(sock_path, bus)
    await server.start()
    try:
        conn = await RawConn.open(sock_path)
        assert (await conn.call("ping"))["ok"]
        await conn.close()
    finally:
        await server.stop()


async def test_refuses_to_start_when_another_daemon_listens(sock_path: Path, bus: EventBus) -> None:
    first = new_server(sock_path, bus)
    await first.start()
    try:
        second = new_server(sock_path, bus)
        with pytest.raises(ServerError, match="another ccd daemon is already listening on"):
            await second.start()
        conn = await RawConn.open(sock_path)  # the first one is untouched
        assert (await conn.call("ping"))["ok"]
        await conn.close()
    finally:
        await first.stop()


async def test_refuses_a_path_that_is_not_a_socket(tmp_path: Path, bus: EventBus) -> None:
    path = tmp_path / "ccd.sock"
    path.write_text("important")
    with pytest.raises(ServerError, match="is not a socket"):
        await new_server(path, bus).start()
    assert path.read_text() == "important"


async def test_refuses_a_too_long_path(tmp_path: Path, bus: EventBus) -> None:
    path = tmp_path / ("d" * 120) / "ccd.sock"
    with pytest.raises(ServerError, match="too long"):
        await new_server(path, bus).start()


async def test_stop_leaves_a_newer_daemons_socket_alone(sock_path: Path, bus: EventBus) -> None:
    old = new_server(sock_path, bus)
    await old.start()
    sock_path.unlink()  # an operator removed it and started another daemon
    new = new_server(sock_path, bus)
    await new.start()
    await old.stop()
    try:
        assert sock_path.exists()
        conn = await RawConn.open(sock_path)
        assert (await conn.call("ping"))["ok"]
        await conn.close()
    finally:
        await new.stop()
