"""`ccd queuelog export` writes the Asterisk pipe-delimited file from the database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from ccd.clock import RealClock
from ccd.store.db import Store
from cli.main import cli


def test_queuelog_export_writes_asterisk_lines(tmp_path: Path) -> None:
    (tmp_path / "ccd.toml").write_text(
        '[daemon]\ndatabase = "ccd.db"\nsocket = "ccd.sock"\n', encoding="utf-8"
    )

    async def seed() -> None:
        store = await Store.open(tmp_path / "ccd.db", RealClock())
        await store.journal.append(
            1366720340.5, "1366720340.303267", "sales", "Agent/1001", "RINGNOANSWER", 15000
        )
        await store.journal.append(
            1366720350.0, "1366720340.303267", "sales", "Agent/1002", "CONNECT", 10, "x", 2
        )
        await store.close()

    asyncio.run(seed())
    out = tmp_path / "queue_log"
    result = CliRunner().invoke(
        cli, ["queuelog", "export", "-c", str(tmp_path / "ccd.toml"), "--from", "1366720000", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        "1366720340|1366720340.303267|sales|Agent/1001|RINGNOANSWER|15000",
        "1366720350|1366720340.303267|sales|Agent/1002|CONNECT|10|x|2",
    ]
    bad = CliRunner().invoke(
        cli, ["queuelog", "export", "-c", str(tmp_path / "ccd.toml"), "--from", "yesterday"]
    )
    assert bad.exit_code != 0 and "is not a date" in bad.output
