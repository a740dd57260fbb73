"""A scripted stand-in for the daemon connection, for snapshot apps and fast Pilot tests.

It has the shape `AgentApp` expects of a `ReconnectingClient` (``run / stop / call``): replies
come from a script {command: result, or {"error": {code, message, details}}}, every request is
recorded, and events are pushed with `emit()` (or played from the script's "events" once
connected).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ccd.ipc.errors import E_UNKNOWN_COMMAND, RpcError


class FakeDaemon:
    def __init__(self, script: dict[str, Any], on_event: Any, on_state: Any, user: str = "1001") -> None:
        self.script = script
        self.on_event = on_event
        self.on_state = on_state
        self.user = user
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._stop = asyncio.Event()

    @classmethod
    def factory(cls, script: dict[str, Any] | str | Path) -> Any:
        data = json.loads(Path(script).read_text("utf-8")) if isinstance(script, str | Path) else script

        def make(socket: Path, auth: tuple[str, str], on_event: Any, on_state: Any) -> FakeDaemon:
            fake = cls(data, on_event, on_state, auth[0])
            make.last = fake  # type: ignore[attr-defined]
            return fake

        return make

    async def run(self) -> None:
        self.on_state("connecting", {"attempt": 1})
        user = {"user": self.user, "role": "agent", "name": self.script.get("name", "王小明"),
                "extension": self.script.get("extension", "801")}  # fmt: skip
        self.on_state("syncing", {"server": {"version": "fake"}, "user": user})
        self.on_state("connected", {"snapshot": [], "server": {}, "user": user})
        for event in self.script.get("events", []):
            self.emit(event["event"], event.get("data", {}))
        await self._stop.wait()
        self.on_state("stopped", {})

    def stop(self) -> None:
        self._stop.set()

    def emit(self, name: str, data: dict[str, Any]) -> None:
        self.on_event({"event": name, "data": data})

    async def call(self, cmd: str, args: dict[str, Any] | None = None, **_: Any) -> Any:
        self.calls.append((cmd, dict(args or {})))
        replies = self.script.get("replies", {})
        if cmd not in replies:
            raise RpcError(E_UNKNOWN_COMMAND, f"unknown command '{cmd}'")
        reply = replies[cmd]
        if isinstance(reply, dict) and "error" in reply:
            raise RpcError.from_dict(reply["error"])
        return json.loads(json.dumps(reply))  # a fresh copy, as off the wire
