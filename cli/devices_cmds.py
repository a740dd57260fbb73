"""`ccd devices`: what telephone hardware is attached, and what each device can do.

The command is a list of probe functions (`PROBES`), one per kind of device: each returns
plain dicts, so another kind (DAHDI channels, USB boxes, SMS modems) is added by appending
a probe with `register_probe()`, without touching the printing.

Listing never writes to a device. `--probe` asks modems who they are (`ATI0`, `ATI3`),
only on ports that are known voice modems by USB ID, CDC-ACM ports, or ports named with
`--port`; do not probe a port the daemon has open (it is locked anyway and shows as busy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class ProbeRequest:
    probe: bool = False  # may talk to devices (ATI)
    ports: tuple[str, ...] = ()  # extra serial ports named on the command line
    timeout: float = 1.0


Probe = Callable[[ProbeRequest], list[dict[str, Any]]]


PROBES: list[Probe] = []


def register_probe(fn: Probe) -> Probe:
    """Add a device-kind probe (usable as a decorator)."""
    if fn not in PROBES:
        PROBES.append(fn)
    return fn


# ---------------------------------------------------------------- serial ports and voice modems

MODEM_CAN = {
    "usr5637": "caller ID, answer/hang up, play + record (half duplex), DTMF in/out, dial",
    "cx93001": "caller ID, answer/hang up, play + record (half duplex), DTMF in/out, dial",
    "generic": "probably caller ID and voice (generic V.253 profile, untested)",
}


@register_probe
def probe_serial(req: ProbeRequest) -> list[dict[str, Any]]:
    """Serial ports, with the voice-modem model when the USB ID (or ATI) says which."""
    from ccd.drivers.modem.discover import SerialPort, identify_port, list_serial_ports
    from ccd.drivers.modem.profiles import PROFILES

    ports = list_serial_ports()
    known = {p.device for p in ports}
    ports += [
        SerialPort(device=d, vid=None, pid=None, description="named with --port")
        for d in req.ports
        if d not in known
    ]
    rows: list[dict[str, Any]] = []
    for port in ports:
        profile = port.profile
        row: dict[str, Any] = {
            "kind": "serial",
            "device": port.device,
            "usb_id": port.usb_id or None,
            "description": port.description,
            "model": profile.label if profile else None,
            "profile": profile.name if profile else None,
            "can": MODEM_CAN.get(profile.name, "") if profile else "",
            "driver": "modem" if profile else None,
            "notes": [],
        }
        wanted = req.probe and (profile is not None or "ttyACM" in port.device or port.device in req.ports)
        if wanted:
            try:
                ident = identify_port(port.device, req.timeout)
            except TimeoutError as e:
                row["notes"].append(f"no modem answer ({e})")
            except OSError as e:
                row["notes"].append(f"cannot open: {e.strerror or e} (in use by the daemon?)")
            else:
                row["identity"] = {"ati0": ident.ati0, "ati3": ident.ati3}
                row["profile"] = ident.profile
                row["model"] = (
                    PROFILES[ident.profile].label if ident.known else f"unknown modem ({ident.ati0})"
                )
                row["can"] = MODEM_CAN[ident.profile]
                row["driver"] = "modem"
                if not ident.known:
                    row["notes"].append("not a known chipset: the generic V.253 profile will be used")
        rows.append(row)
    return rows


# ---------------------------------------------------------------- the command


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no telephone devices found (serial ports, ...)"
    lines = []
    for r in rows:
        head = f"{r.get('kind', '?'):7} {r.get('device', '?'):22} {r.get('usb_id') or '-':10} "
        head += r.get("model") or r.get("description") or "unknown device"
        lines.append(head)
        if r.get("identity"):
            lines.append(f"{'':8}identity: ATI0 {r['identity']['ati0']!r}, ATI3 {r['identity']['ati3']!r}")
        if r.get("can"):
            lines.append(f"{'':8}can: {r['can']}")
        if r.get("driver"):
            lines.append(f'{"":8}ccd.toml: kind = "{r["driver"]}", port = "{r.get("usb_id") or r["device"]}"')
        elif r.get("toml"):
            lines.append(f"{'':8}ccd.toml: {r['toml']}")
        for note in r.get("notes", []):
            lines.append(f"{'':8}note: {note}")
    return "\n".join(lines)


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of a table.")
@click.option("--probe", is_flag=True, help="Ask modems who they are (ATI); not on ports the daemon uses.")
@click.option(
    "--port", "ports", multiple=True, metavar="PATH", help="Also look at this serial port (repeatable)."
)
@click.option("--timeout", default=1.0, show_default=True, help="Seconds to wait for a device's answer.")
def devices(as_json: bool, probe: bool, ports: tuple[str, ...], timeout: float) -> None:
    """List attached telephone hardware and what each device can do."""
    req = ProbeRequest(probe=probe or bool(ports), ports=ports, timeout=timeout)
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for fn in PROBES:
        try:
            rows += fn(req)
        except Exception as e:  # one broken probe must not hide the other devices
            problems.append(f"{fn.__name__}: {e}")
    if as_json:
        click.echo(json.dumps({"devices": rows, "problems": problems}, indent=2, ensure_ascii=False))
        return
    click.echo(_table(rows))
    for p in problems:
        click.echo(f"warning: {p}", err=True)


# ---------------------------------------------------------------- DAHDI boards, USB boxes, GSM modems


@register_probe
def probe_dahdi(req: ProbeRequest) -> list[dict[str, Any]]:
    """DAHDI channels as dahdi_cfg set them up (/proc/dahdi): FXO ports are trunks, FXS ports extensions."""
    from ccd.drivers.dahdi.discover import list_channels

    rows = []
    for ch in list_channels():
        can = {
            "fxo": "trunk: ring, far-end hang-up, polarity, full-duplex audio (ccd decodes caller ID, DTMF, tones)",
            "fxs": "extension: ring the phone with caller ID, hook, full-duplex audio",
        }.get(ch.port, "not an analog port ccd drives")
        notes = [f"alarm: {' '.join(ch.alarms)}"] if ch.alarms else []
        if ch.in_use:
            notes.append("in use (the daemon, or Asterisk, has it open)")
        rows.append(
            {
                "kind": "dahdi",
                "device": f"channel {ch.channo}",
                "usb_id": None,
                "description": f"{ch.name} ({ch.signalling or 'unconfigured'}) on span {ch.span} {ch.span_desc}",
                "model": f"{ch.span_desc or ch.span_name} {ch.port.upper()} port {ch.name}",
                "can": can,
                "driver": None,
                "toml": f'kind = "dahdi", channels = [{ch.channo}, ...]' if ch.port != "other" else None,
                "notes": notes,
            }
        )
    return rows


@register_probe
def probe_usbbox(req: ProbeRequest) -> list[dict[str, Any]]:
    """USB boxes that match a shipped profile (needs libusb; reads descriptors only)."""
    from ccd.drivers.usbbox.profile import shipped_profiles

    profiles = shipped_profiles()
    if not profiles:
        return []
    try:
        import usb.core

        found = list(usb.core.find(find_all=True))
    except Exception as e:  # no libusb, no permission: say so, do not fail the listing
        if type(e).__name__ == "NoBackendError":
            return []  # no libusb: no USB listing at all (the serial probe still works)
        raise
    rows = []
    for dev in found:
        for prof in profiles:
            if (dev.idVendor, dev.idProduct) != (prof.vid, prof.pid):
                continue
            caps = ["ring", "hook"] + (["caller ID"] if prof.has_cid else []) + (
                ["seize/release"] if prof.hook_control else []
            )  # fmt: skip
            rows.append(
                {
                    "kind": "usbbox",
                    "device": f"usb {dev.bus}:{dev.address}",
                    "usb_id": prof.usb_id,
                    "description": prof.name,
                    "model": prof.name,
                    "can": ", ".join(caps)
                    + f" on {prof.lines} line(s); audio via ALSA only (not yet read by ccd)",
                    "driver": None,
                    "toml": f'kind = "usbbox", profile = "{prof.path}"',
                    "notes": [f"profile source: {prof.source}"] if prof.source else [],
                }
            )
    return rows


GSM_USB_VENDORS = {0x2C7C: "Quectel", 0x1E0E: "SIMCom", 0x12D1: "Huawei", 0x19D2: "ZTE", 0x1BBB: "Alcatel"}


@register_probe
def probe_gsm(req: ProbeRequest) -> list[dict[str, Any]]:
    """GSM/4G modems for SMS: serial ports of known module makers; with --probe, AT+CGMI/+CGMM on them."""
    from ccd.drivers.modem.discover import list_serial_ports

    ports = [p for p in list_serial_ports() if p.vid in GSM_USB_VENDORS]
    rows = []
    for port in ports:
        row: dict[str, Any] = {
            "kind": "gsm",
            "device": port.device,
            "usb_id": port.usb_id or None,
            "description": port.description,
            "model": f"{GSM_USB_VENDORS[port.vid or 0]} module",
            "can": "SMS send and receive (Chinese too), delivery reports, caller ID of voice calls",
            "driver": None,
            "toml": f'kind = "sms", port = "{port.device}"',
            "notes": ["modules expose several ports and only one takes AT commands: try each with --probe"],
        }
        if req.probe:
            try:
                ident = identify_gsm(port.device, req.timeout)
            except (OSError, TimeoutError) as e:
                row["notes"] = [f"no AT answer ({e})"]
            else:
                row["model"] = f"{ident[0]} {ident[1]}".strip()
                row["identity"] = {"cgmi": ident[0], "cgmm": ident[1]}
                row["notes"] = ['this port answers AT commands: use it for kind = "sms"']
        rows.append(row)
    return rows


def identify_gsm(device: str, timeout: float = 1.0) -> tuple[str, str]:
    """(manufacturer, model) from AT+CGMI / AT+CGMM. Blocking: for the CLI only."""
    import serial

    from ccd.drivers.modem.discover import _ask

    with serial.Serial(device, 115200, timeout=timeout, write_timeout=timeout, exclusive=True) as ser:
        _ask(ser, "ATE0")
        return " ".join(_ask(ser, "AT+CGMI")), " ".join(_ask(ser, "AT+CGMM"))
