"""A scripted daemon for the wallboard: replies from a JSON script, events pushed on connect.

It has the ``run / stop / call`` shape of `ReconnectingClient`; every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ccd.ipc.errors import E_FORBIDDEN, E_UNKNOWN_COMMAND, RpcError

SCRIPTS = Path(__file__).parent / "scripts"


class FakeDaemon:
    def __init__(self, script: dict[str, Any], on_event: Any, on_state: Any) -> None:
        self.script = script
        self.on_event = on_event
        self.on_state = on_state
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._stop = asyncio.Event()

    @classmethod
    def factory(cls, script: dict[str, Any] | str | Path) -> Any:
        if isinstance(script, str) and not script.endswith(".json"):
            script = SCRIPTS / f"{script}.json"
        data = json.loads(Path(script).read_text("utf-8")) if isinstance(script, str | Path) else script

        def make(socket: Path, auth: Any, on_event: Any, on_state: Any) -> FakeDaemon:
            fake = cls(data, on_event, on_state)
            make.last = fake  # type: ignore[attr-defined]
            return fake

        return make

    async def run(self) -> None:
        user = self.script.get("user", {"user": "9000", "role": "supervisor", "name": "班长"})
        self.on_state("connecting", {"attempt": 1})
        self.on_state("syncing", {"server": {"version": "fake"}, "user": user})
        if user.get("role") == "agent" and self.script.get("server_refuses"):
            error = RpcError(E_FORBIDDEN, "topic 'wallboard' needs the supervisor role")
            self.on_state("failed", {"error": error})
            raise error
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
        return json.loads(json.dumps(reply))
