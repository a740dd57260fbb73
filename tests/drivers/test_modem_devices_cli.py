"""`ccd devices`: serial ports with their USB IDs, modem identity and what each can do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccd.drivers.modem import discover
from ccd.drivers.modem.discover import PortNotFound, SerialPort, parse_usb_id, resolve_port
from cli.main import cli
from tests.fakes.fake_modem import FakeModem

PORTS = [
    SerialPort("/dev/ttyACM0", 0x0BAF, 0x0303, "USB Modem"),
    SerialPort("/dev/ttyACM1", 0x0572, 0x1349, "USB Modem"),
    SerialPort("/dev/ttyS0", None, None, "ttyS0"),
]


@pytest.fixture
def fake_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "list_serial_ports", lambda: list(PORTS))


def test_devices_lists_known_modems_by_usb_id(fake_ports: None) -> None:
    result = CliRunner().invoke(cli, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["device"]: r for r in json.loads(result.output)["devices"]}
    assert rows["/dev/ttyACM0"]["profile"] == "usr5637" and rows["/dev/ttyACM0"]["usb_id"] == "0baf:0303"
    assert rows["/dev/ttyACM1"]["profile"] == "cx93001" and "caller ID" in rows["/dev/ttyACM1"]["can"]
    assert rows["/dev/ttyS0"]["driver"] is None


def test_devices_table(fake_ports: None) -> None:
    result = CliRunner().invoke(cli, ["devices"])
    assert result.exit_code == 0
    assert "U.S. Robotics 5637" in result.output
    assert 'port = "0baf:0303"' in result.output


def test_probe_asks_the_modem_who_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "list_serial_ports", lambda: [])
    with FakeModem("conexant", tmp_path / "ttyM") as emu:
        result = CliRunner().invoke(cli, ["devices", "--json", "--port", emu.path])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["devices"]
    assert row["identity"]["ati0"] == "56000" and row["profile"] == "cx93001"


def test_probe_of_a_dead_port_is_a_note_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discover, "list_serial_ports", lambda: [])
    result = CliRunner().invoke(cli, ["devices", "--port", str(tmp_path / "nothing")])
    assert result.exit_code == 0
    assert "cannot open" in result.output


def test_usb_id_ports() -> None:
    assert parse_usb_id("0BAF:0303") == (0x0BAF, 0x0303, 0)
    assert parse_usb_id("0572:1349#1") == (0x0572, 0x1349, 1)
    assert parse_usb_id("/dev/ttyACM0") is None
    assert resolve_port("0572:1349", PORTS) == "/dev/ttyACM1"
    assert resolve_port("/dev/ttyUSB3", PORTS) == "/dev/ttyUSB3"
    with pytest.raises(PortNotFound, match="0baf:0303"):
        resolve_port("0baf:0303#1", PORTS)
