"""`ccd devices` for DAHDI channels, USB boxes with a profile, and GSM modems (AT+CGMI/+CGMM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccd.drivers.dahdi import discover as dahdi_discover
from ccd.drivers.modem import discover
from ccd.drivers.modem.discover import SerialPort
from cli.main import cli
from tests.fakes.fake_gsm import FakeGsm
from tests.fakes.fake_usbbox import FakeUsbBox

PROC_SPAN = """Span 1: WCTDM/0 "Wildcard TDM400P REV I Board 1" (MASTER)

\t   1 WCTDM/0/0 FXSKS (In use)
\t   2 WCTDM/0/1 FXSKS RED
\t   3 WCTDM/0/2 FXOKS
\t   4 WCTDM/0/3
"""


def rows(result: object) -> list[dict]:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return json.loads(result.output)["devices"]  # type: ignore[attr-defined]


@pytest.fixture
def no_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "list_serial_ports", lambda: [])


def test_dahdi_channels_from_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_serial: None) -> None:
    (tmp_path / "1").write_text(PROC_SPAN)
    real = dahdi_discover.list_channels
    monkeypatch.setattr(dahdi_discover, "list_channels", lambda: real(tmp_path))
    found = [r for r in rows(CliRunner().invoke(cli, ["devices", "--json"])) if r["kind"] == "dahdi"]
    assert [r["device"] for r in found] == ["channel 1", "channel 2", "channel 3", "channel 4"]
    assert "trunk" in found[0]["can"] and "extension" in found[2]["can"]
    assert found[1]["notes"] == ["alarm: RED"] and "in use" in found[0]["notes"][0]
    assert found[3]["toml"] is None  # unconfigured: nothing to put in ccd.toml
    table = CliRunner().invoke(cli, ["devices"]).output
    assert 'ccd.toml: kind = "dahdi", channels = [1, ...]' in table


def test_usb_box_matching_a_profile(monkeypatch: pytest.MonkeyPatch, no_serial: None) -> None:
    import usb.core

    fake = FakeUsbBox(0x335E, 0x8A01)
    real_find = usb.core.find
    monkeypatch.setattr(usb.core, "find", lambda **kw: real_find(backend=fake, **kw))
    found = [r for r in rows(CliRunner().invoke(cli, ["devices", "--json"])) if r["kind"] == "usbbox"]
    assert len(found) == 1 and found[0]["usb_id"] == "335e:8a01" and "maple-v3.toml" in found[0]["toml"]
    assert fake.claimed == set()  # listing never claims anything


def test_gsm_modem_identified_with_cgmi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeGsm(tmp_path / "ttyGSM") as gsm:
        monkeypatch.setattr(
            discover, "list_serial_ports", lambda: [SerialPort(gsm.path, 0x2C7C, 0x0125, "EC25")]
        )
        found = [
            r for r in rows(CliRunner().invoke(cli, ["devices", "--json", "--probe"])) if r["kind"] == "gsm"
        ]
    assert found[0]["identity"] == {"cgmi": "Quectel", "cgmm": "EC25"}
    assert found[0]["toml"] == f'kind = "sms", port = "{gsm.path}"'


def test_gsm_port_that_does_not_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        discover,
        "list_serial_ports",
        lambda: [SerialPort(str(tmp_path / "ttyUSB9"), 0x12D1, 0x1506, "E3372")],
    )
    found = [r for r in rows(CliRunner().invoke(cli, ["devices", "--json", "--probe"])) if r["kind"] == "gsm"]
    assert found[0]["model"] == "Huawei module" and "no AT answer" in found[0]["notes"][0]
