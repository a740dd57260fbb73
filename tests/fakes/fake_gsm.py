"""A GSM/4G module (Quectel EC25-like) on a pty: AT commands in PDU mode, with scripted faults.

The emulator runs on a pty (`pty_device.PtyDevice`); the driver opens the slave through a
stable symlink (`path`), like `/dev/ttyUSB2`. It answers from a response
table (`responses` can override any command), keeps a message store (`deliver()` puts a
PDU there and announces it with `+CMTI`), takes `AT+CMGS` with its `> ` prompt and Ctrl-Z,
numbers what it sends with message references, and can be told to fail the way modules do
in the field: "SIM busy" after power-up, `+CMS ERROR: 500` on a send, garbage on the wire,
the USB cable pulled and plugged back.

Tests drive it with plain methods (`deliver()`, `status_report()`, `ring()`, `garbage()`,
`unplug()`, `replug()`) and check plain attributes (`commands`, `sent`, `store`).
"""

from __future__ import annotations

import os

from ccd.drivers.sms import pdu
from tests.fakes.pty_device import PtyDevice


class FakeGsm(PtyDevice):
    """`with FakeGsm(tmp_path / "ttyGSM") as gsm:` then open `gsm.path`."""

    POLL = 0.01

    def __init__(self, link: str | os.PathLike[str], *, pin: str = "", sim_busy: int = 0) -> None:
        super().__init__(link, "fake-gsm")
        self.pin = pin
        self.unlocked = not pin
        self.sim_busy = sim_busy  # answer "+CME ERROR: 14" to this many AT+CPIN? first
        self.cms_error: list[int] = []  # errors for the next AT+CMGS, one per send
        self.silent_to_cmgs = False  # never give the "> " prompt
        self.responses: dict[str, str] = {}  # command -> raw answer lines, overriding the table
        self.commands: list[str] = []
        self.sent: list[pdu.Submit] = []  # what the driver sent, decoded
        self.sent_mr: list[int] = []
        self.store: dict[int, str] = {}  # index -> PDU hex
        self.deleted: list[int] = []
        self.auto_report: int | None = None  # send a delivery report with this status after each part
        self._echo = True
        self._mr = 0
        self._inbuf = bytearray()
        self._pdu_len: int | None = None  # inside AT+CMGS: waiting for the PDU

    # ---------------------------------------------------------------- life cycle

    def _reset(self) -> None:
        """Factory state: echo on, no half-typed command or PDU."""
        self._echo = True
        self._inbuf.clear()
        self._pdu_len = None

    # ---------------------------------------------------------------- test controls

    def deliver(self, pdu_hex: str, announce: bool = True) -> int:
        """A message arrives from the network: stored at the next free index, then `+CMTI`."""
        with self._lock:
            index = max(self.store, default=0) + 1
            self.store[index] = pdu_hex
        if announce:
            self._line(f'+CMTI: "SM",{index}')
        return index

    def status_report(self, mr: int, status: int = 0, recipient: str = "+8613912345678") -> None:
        """A delivery report routed straight to the driver (`AT+CNMI=...,1,...`): `+CDS`."""
        import datetime as dt

        when = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        hexpdu = pdu.encode_status_report(mr, recipient, when, when, status)
        self._write(f"\r\n+CDS: {len(hexpdu) // 2 - 1}\r\n{hexpdu}\r\n".encode())

    def ring(self, number: str = "13800138000", validity: int = 0) -> None:
        self._line("RING")
        self._line(f'+CLIP: "{number}",{145 if number.startswith("+") else 129},"",0,"",{validity}')

    def garbage(self, data: bytes = b"\x00\xff\xfe~\x81garbage\x07\r\n") -> None:
        self._write(data)

    # ---------------------------------------------------------------- the thread

    def _line(self, text: str) -> None:
        self._write(b"\r\n" + text.encode() + b"\r\n")

    def _received(self, data: bytes) -> None:
        for b in data:
            if self._pdu_len is not None:
                if b == 0x1A:
                    self._got_pdu(bytes(self._inbuf))
                    self._inbuf.clear()
                elif b == 0x1B:  # ESC: the sender gave up
                    self._pdu_len = None
                    self._inbuf.clear()
                    self._line("OK")
                else:
                    self._inbuf.append(b)
                continue
            if b == 0x1B:
                self._inbuf.clear()
                continue
            if self._echo:
                self._write(bytes((b,)))
            if b in (0x0D, 0x0A):
                line = self._inbuf.decode("latin-1").strip()
                self._inbuf.clear()
                if line:
                    self._command(line)
            else:
                self._inbuf.append(b)

    def _command(self, cmd: str) -> None:
        self.commands.append(cmd)
        up = cmd.upper()
        if cmd in self.responses:
            self._write(self.responses[cmd].encode())
            return
        if up == "ATE0":
            self._echo = False
            self._line("OK")
        elif up in ("AT", "AT+CMEE=1", "AT+CMGF=0", "AT+CLIP=1") or up.startswith("AT+CNMI="):
            self._line("OK")
        elif up == "AT+CGMI":
            self._line("Quectel")
            self._line("OK")
        elif up == "AT+CGMM":
            self._line("EC25")
            self._line("OK")
        elif up == "AT+CPIN?":
            if self.sim_busy > 0:
                self.sim_busy -= 1
                self._line("+CME ERROR: 14")
            else:
                self._line(f"+CPIN: {'READY' if self.unlocked else 'SIM PIN'}")
                self._line("OK")
        elif up.startswith("AT+CPIN="):
            if cmd.split("=", 1)[1].strip('"') == self.pin:
                self.unlocked = True
                self._line("OK")
            else:
                self._line("+CME ERROR: 16")
        elif up.startswith("AT+CMGR="):
            index = int(up.split("=")[1])
            hexpdu = self.store.get(index)
            if hexpdu is None:
                self._line("+CMS ERROR: 321")
            else:
                self._line(f'+CMGR: 0,"",{len(hexpdu) // 2 - 1}')
                self._line(hexpdu)
                self._line("OK")
        elif up.startswith("AT+CMGL="):
            for index, hexpdu in sorted(self.store.items()):
                self._line(f'+CMGL: {index},0,"",{len(hexpdu) // 2 - 1}')
                self._line(hexpdu)
            self._line("OK")
        elif up.startswith("AT+CMGD="):
            index = int(up.split("=")[1].split(",")[0])
            self.store.pop(index, None)
            self.deleted.append(index)
            self._line("OK")
        elif up.startswith("AT+CMGS="):
            if self.silent_to_cmgs:
                return
            self._pdu_len = int(up.split("=")[1])
            self._write(b"\r\n> ")
        else:
            self._line("ERROR")

    def _got_pdu(self, raw: bytes) -> None:
        expected, self._pdu_len = self._pdu_len, None
        if self.cms_error:
            self._line(f"+CMS ERROR: {self.cms_error.pop(0)}")
            return
        try:
            sub = pdu.decode(raw.decode("ascii"))
        except (pdu.PduError, UnicodeDecodeError):
            self._line("+CMS ERROR: 304")
            return
        if not isinstance(sub, pdu.Submit) or sub.tpdu_len != expected:
            self._line("+CMS ERROR: 304")  # AT+CMGS=<n> must count the TPDU octets exactly
            return
        self._mr = (self._mr + 1) % 256
        self.sent.append(sub)
        self.sent_mr.append(self._mr)
        self._line(f"+CMGS: {self._mr}")
        self._line("OK")
        if self.auto_report is not None:
            self.status_report(self._mr, self.auto_report, sub.to)
