"""Every command is documented, and docs/protocol.md's command section is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ccd.server import docs
from ccd.server.builtins import BUILTINS
from ccd.server.registry import CommandRegistry

ROOT = Path(__file__).resolve().parents[2]
REGISTRIES = docs.discover()


def test_discovery_finds_the_builtins() -> None:
    assert "ccd.server.builtins:BUILTINS" in REGISTRIES


@pytest.mark.parametrize("ref", REGISTRIES)
def test_every_registered_command_has_a_doc(ref: str) -> None:
    missing = docs.load(ref).missing_docs()
    assert not missing, f"{ref}: commands without doc=...: {', '.join(missing)}"


def test_an_undocumented_command_is_flagged_in_the_output() -> None:
    reg = CommandRegistry()

    async def nodoc(ctx: Any, args: dict[str, Any]) -> None:
        pass

    reg.add("mystery", nodoc)
    assert reg.missing_docs() == ["mystery"]
    assert "**(undocumented)**" in docs.registry_markdown(reg)


def test_markdown_lists_name_role_doc_and_example() -> None:
    text = docs.registry_markdown(BUILTINS)
    assert "| `hello` | anyone |" in text
    assert '`{"id": 1, "cmd": "subscribe", "args": {"topics": ["line", "call"]}}`' in text


def test_protocol_md_commands_section_is_current() -> None:
    path = ROOT / "docs" / "protocol.md"
    current = path.read_text(encoding="utf-8")
    fresh = docs.replace_section(current, docs.section(REGISTRIES))
    assert fresh == current, (
        "docs/protocol.md is stale: run  python -m ccd.server.docs --write docs/protocol.md"
    )
