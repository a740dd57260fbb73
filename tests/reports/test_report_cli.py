"""`ccd report` in every format, against the database file (no daemon running)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli.main import cli

DAY = ["--from", "2026-01-05", "--to", "2026-01-05"]


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["report", *args, "--config", str(config)], catch_exceptions=False)


def as_json(config: Path, name: str, *extra: str) -> dict:
    result = run(config, name, *DAY, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_queue_report_json_keeps_T_and_S(office_db: Path) -> None:
    data = as_json(office_db, "queue")
    (row,) = data["rows"]
    assert row["queue"] == "sales" and row["service_level"] == 33.3 and row["aht"] == 58.3
    assert (row["T"], row["S"]) == (20.0, 5.0)
    assert data["params"]["thresholds"]["sales"] == {"T": 20.0, "S": 5.0}
    assert any(d["key"] == "service_level" for d in data["definitions"])


def test_queue_report_by_interval(office_db: Path) -> None:
    data = as_json(office_db, "queue", "--interval", "15m")
    assert [r["interval"] for r in data["rows"]] == ["2026-01-05 09:00"]


def test_agent_report_and_signin_sessions(office_db: Path) -> None:
    data = as_json(office_db, "agent")
    by = {r["agent"]: r for r in data["rows"]}
    assert by["1001"]["handled"] == 2 and by["1001"]["occupancy"] == 22.8
    assert by["1001"]["first_login"] == "2026-01-05 08:59:00"
    assert by["1001"]["last_logout"] == "2026-01-05 09:16:40"
    assert by["1001"]["not_ready_reasons"] == "lunch 0:10:00"
    sessions = as_json(office_db, "signin")["rows"]
    assert [(s["agent"], s["sign_out"]) for s in sessions] == [
        ("1001", "2026-01-05 09:16:40"),
        ("1002", "(signed in)"),
    ]


def test_traffic_trunk_customer_survey_sales(office_db: Path) -> None:
    traffic = as_json(office_db, "traffic")["rows"]
    assert [(r["interval"], r["calls"], r["answered"], r["missed"]) for r in traffic] == [
        ("2026-01-05 09:00", 4, 2, 2),
        ("2026-01-05 10:00", 1, 1, 0),
    ]
    trunks = {r["trunk"]: r for r in as_json(office_db, "trunk")["rows"]}
    assert trunks["1"]["seizures"] == 3 and trunks["1"]["label"] == "总机 1"
    assert trunks["2"]["no_cid"] == 1
    customers = as_json(office_db, "customer")["rows"]
    assert customers[0]["customer"] == "张三" and customers[0]["calls"] == 2
    survey = as_json(office_db, "survey")["rows"]
    assert survey == [
        {
            "agent": "1001",
            "surveys": 3,
            "average": 4.0,
            "satisfied": 66.7,
            "s1": 0,
            "s2": 0,
            "s3": 1,
            "s4": 1,
            "s5": 1,
        }
    ]
    sales = as_json(office_db, "sales")["rows"]
    assert [(s["rank"], s["sku"], s["qty"], s["amount"]) for s in sales] == [
        (1, "A1", 1, 1280.0),
        (2, "B2", 5, 495.0),
    ]


def test_csv_and_table(office_db: Path) -> None:
    result = run(office_db, "queue", *DAY, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows[0]["service_level"] == "33.3" and rows[0]["T"] == "20.0"
    table = run(office_db, "queue", *DAY)
    assert result.exit_code == 0 and "33.3" in table.output and "T=20s S=5s" in table.output


def test_xlsx_has_figures_and_parameters(office_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    result = run(office_db, "queue", *DAY, "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    ws = wb["queue"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["SL %"] == 33.3 and row["T s"] == 20
    params = {r[0].value: r[1].value for r in wb["parameters"].iter_rows()}
    assert "sales" in params["thresholds"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["queue", "--from", "2026-01-06", "--to", "2026-01-05"], "empty range"),
        (["queue", *DAY, "--queue", "nope"], "no queue named 'nope'"),
        (["sales", "--from", "2025-01-01", "--to", "2025-01-02"], "nothing recorded"),
        (["queue", "--from", "yesterday-ish"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(office_db: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["report", *args, "--config", str(office_db)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("Error: ")


def test_xlsx_needs_a_file(office_db: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "queue", "--format", "xlsx", "--config", str(office_db)])
    assert result.exit_code == 2 and "-o FILE" in result.output
