"""A V.253 voice modem on a pty, with the quirks of real chipsets (HARDWARE.md §1, §6).

The emulator runs on a pty (`pty_device.PtyDevice`); the driver opens the slave through a
stable symlink (`path`), exactly like `/dev/ttyACM0`. It answers from a
response table per profile (USR 5637, Conexant CX93001, an unknown modem), paces voice
audio in real time (8000 samples/s) in both directions with DLE shielding, and can be
scripted with the faults the field reports: caller ID lost after `ATZ`, a wedged device,
unplug/replug, garbage on the wire.

Everything a test drives is a plain method (`ring()`, `dtmf()`, `play_rx()`, `wedge()`,
`unplug()`...); everything it checks is an attribute (`commands`, `tx_audio`, `mode`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from tests.fakes.pty_device import PtyDevice

DLE = 0x10
ETX = 0x03
SUB = 0x1A
CAN = 0x18


@dataclass(frozen=True)
class FakeProfile:
    name: str
    ati0: str
    ati3: str
    vsm_list: tuple[str, ...]
    cid_sep: str  # "=" (USR) or " = " (Conexant)
    vcid: bool = True  # accepts AT+VCID
    hash_cid: bool = True  # accepts AT#CID
    gci: tuple[str, ...] = ("26", "B5", "B4", "F6")
    forget_cid_on_atz: bool = False
    dtmf_shielded: bool = False  # <DLE>/<DLE>5<DLE>5<DLE>~ instead of <DLE>5
    voice_ring_dle: bool = False  # RING becomes <DLE>R in +FCLASS=8
    vts_digit_silent: bool = False  # AT+VTS=9 gets no answer at all
    vts_zero_f2_error: bool = False  # AT+VTS=[933,0,120] is ERROR
    h_after_vls: bool = False  # <DLE>H right after AT+VLS=1
    record_needs_vls5: bool = False  # +VRX records silence unless AT+VLS=5
    use_sub: bool = False  # sends two 0x10 samples as <DLE><SUB>
    vtr: bool = False  # full duplex


PROFILES: dict[str, FakeProfile] = {
    "usr": FakeProfile(
        name="usr",
        ati0="5601",
        ati3="U.S. Robotics 56K FAX USB V1.2.23",
        vsm_list=(
            '128,"8-BIT LINEAR",(7200,8000,11025)',
            '129,"16-BIT LINEAR",(7200,8000,11025)',
            '130,"8-BIT ALAW",(8000)',
            '131,"8-BIT ULAW",(8000)',
            '132,"IMA ADPCM",(7200,8000,11025)',
        ),
        cid_sep="=",
        vts_digit_silent=True,
        vts_zero_f2_error=True,
        h_after_vls=True,
        record_needs_vls5=True,
    ),
    "conexant": FakeProfile(
        name="conexant",
        ati0="56000",
        ati3="CX93001-EIS_V0.2002-V92",
        vsm_list=(
            '0,"SIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
            '1,"UNSIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
            '4,"G.711U",8,0,(8000),(0),(0)',
            '5,"G.711A",8,0,(8000),(0),(0)',
            '129,"IMA ADPCM",4,0,(7200,8000,11025),(0),(0)',
        ),
        cid_sep=" = ",
        hash_cid=False,
        forget_cid_on_atz=True,
        dtmf_shielded=True,
        voice_ring_dle=True,
        use_sub=True,
    ),
    "unknown": FakeProfile(
        name="unknown",
        ati0="ACME VOICE 2000",
        ati3="ACME Corp. rev 7",
        vsm_list=('4,"ULAW",8,0,(8000),(0),(0)', '1,"UNSIGNED PCM",8,0,(8000),(0),(0)'),
        cid_sep=" = ",
        vcid=False,  # only the old #CID dialect
    ),
}

_SILENCE = {"u8": 0x80, "s8": 0x00, "ulaw": 0xFF, "alaw": 0xD5, "s16": 0x00}


def _codec_kind(name: str) -> str:
    n = name.upper()
    if "ULAW" in n or "G.711U" in n:
        return "ulaw"
    if "ALAW" in n or "G.711A" in n:
        return "alaw"
    if "16" in n:
        return "s16"
    if "UNSIGNED" in n or "8-BIT LINEAR" in n:
        return "u8"
    return "s8"


@dataclass
class _Timer:
    at: float
    data: bytes


@dataclass
class FakeModemState:
    echo: bool = True
    fclass: int = 0
    vls: int = 0
    cid: int = 0  # 0 off, 1 formatted, 2 raw
    gci: str = "B5"
    codec: str = "u8"
    mode: str = "cmd"  # cmd | vtx | vrx | vtr
    offhook: bool = False
    vts: list[str] = field(default_factory=list)


class FakeModem(PtyDevice):
    """Start with `with FakeModem("usr", tmp_path / "ttyMODEM") as emu:`; open `emu.path`."""

    def __init__(
        self, profile: str = "usr", link: str | os.PathLike[str] | None = None, **quirks: object
    ) -> None:
        base = PROFILES[profile]
        self.profile = FakeProfile(**{**base.__dict__, **quirks})  # type: ignore[arg-type]
        super().__init__(link, f"fake-modem-{self.profile.name}")
        self.state = FakeModemState()
        self.commands: list[str] = []
        self.tx_audio = bytearray()  # what the driver played (+VTX), un-shielded, in the modem's codec
        self.dial_result = "VCON"
        self.dial_delay = 0.05
        self.wedged: str | None = None  # None | escape | atz | reopen | forever
        self.slave_closes = 0
        self._rx_audio = bytearray()
        self._rx_loop = False
        self._inbuf = bytearray()
        self._dle_pending = False
        self._timers: list[_Timer] = []
        self._next_audio = 0.0
        self._slave_open = False

    # ---------------------------------------------------------------- life cycle

    def _reset(self) -> None:
        self.state = FakeModemState()
        self._inbuf.clear()
        self._dle_pending = False

    def replug(self) -> None:
        """Plugged back: a new tty behind the same path, factory state (caller ID off, echo on)."""
        self.wedged = None
        super().replug()

    # ---------------------------------------------------------------- test controls

    def wedge(self, until: str = "escape") -> None:
        """Stop answering until `+++` (escape), `ATZ` (atz), the port is reopened (reopen), or never."""
        self.wedged = until

    def forget_cid(self) -> None:
        self.state.cid = 0

    def send_line(self, text: str | bytes) -> None:
        data = text.encode("latin-1") if isinstance(text, str) else text
        self._write(b"\r\n" + data + b"\r\n")

    def ring(self) -> None:
        if self.state.fclass == 8 and self.profile.voice_ring_dle:
            self._write(b"\x10R")
        else:
            self.send_line("RING")

    def caller_id(
        self,
        date: str | None = "1122",
        time_: str | None = "1530",
        number: str | None = "13800138000",
        name: str | bytes | None = None,
        mesg: str | None = None,
    ) -> None:
        """The formatted report, only if the modem's caller ID is on (as a real modem does)."""
        if not self.state.cid:
            return
        sep = self.profile.cid_sep
        lines: list[bytes] = []
        if self.state.cid == 2 and mesg:
            lines.append(f"MESG{sep}{mesg}".encode())
        else:
            for key, value in (("DATE", date), ("TIME", time_), ("NMBR", number)):
                if value is not None:
                    lines.append(f"{key}{sep}{value}".encode("latin-1"))
            if name is not None:
                lines.append(
                    b"NAME" + sep.encode() + (name if isinstance(name, bytes) else name.encode("latin-1"))
                )
            if mesg:
                lines.append(f"MESG{sep}{mesg}".encode())
        self._write(b"".join(b"\r\n" + ln + b"\r\n" for ln in lines))

    def dle(self, code: str) -> None:
        self._write(bytes((DLE, ord(code))))

    def dtmf(self, digit: str, repeats: int = 3) -> None:
        if self.profile.dtmf_shielded:
            self._write(b"\x10/" + (b"\x10" + digit.encode()) * repeats + b"\x10~")
        else:
            self._write(b"\x10" + digit.encode())

    def play_rx(self, data: bytes, loop: bool = False) -> None:
        """Audio (in the modem's codec) the line will give while the driver records."""
        with self._lock:
            self._rx_audio = bytearray(data)
            self._rx_loop = loop
            self._rx_src = bytes(data)

    @property
    def rx_remaining(self) -> int:
        return len(self._rx_audio)

    @property
    def mode(self) -> str:
        return self.state.mode

    def commands_after(self, command: str) -> list[str]:
        """Commands received after the last `command` (e.g. what followed the last ATZ)."""
        idx = max((i for i, c in enumerate(self.commands) if c == command), default=-1)
        return self.commands[idx + 1 :]

    # ---------------------------------------------------------------- the thread

    def _received(self, data: bytes) -> None:
        self._slave_open = True
        with self._lock:
            self._input(data)

    def _driver_closed(self) -> None:
        if self._slave_open:
            self._slave_open = False
            self.slave_closes += 1
            if self.wedged == "reopen":
                self.wedged = None

    def _service(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [t for t in self._timers if t.at <= now]
            self._timers = [t for t in self._timers if t.at > now]
        for t in due:
            self._write(t.data)
        if self.state.mode in ("vrx", "vtr") and not self.wedged and now >= self._next_audio:
            if self._next_audio == 0.0 or now - self._next_audio > 0.2:
                self._next_audio = now
            self._next_audio += 0.02
            self._write(self._audio_chunk())

    def _audio_chunk(self) -> bytes:
        bps = 2 if self.state.codec == "s16" else 1
        need = 160 * bps
        silence = bytes([_SILENCE[self.state.codec]]) * need
        if self.profile.record_needs_vls5 and self.state.vls != 5:
            return silence  # the USR records nothing from the line at VLS=1
        with self._lock:
            chunk = bytes(self._rx_audio[:need])
            del self._rx_audio[:need]
            if self._rx_loop and len(chunk) < need:
                self._rx_audio = bytearray(self._rx_src)
        chunk += silence[len(chunk) :]
        out = chunk.replace(b"\x10", b"\x10\x10")
        if self.profile.use_sub:
            out = out.replace(b"\x10\x10\x10\x10", b"\x10\x1a")
        return out

    # ---------------------------------------------------------------- DTE -> DCE

    def _input(self, data: bytes) -> None:
        i = 0
        while i < len(data):
            mode = self.state.mode
            if mode == "cmd":
                i = self._input_cmd(data, i)
            else:
                i = self._input_voice(data, i)

    def _input_cmd(self, data: bytes, i: int) -> int:
        b = data[i]
        if b == DLE:  # a stray end sequence sent by a recovering driver
            return min(i + 2, len(data))
        if self.state.echo and not self.wedged:
            self._write(bytes([b]))
        if b in (0x0D, 0x0A):
            line = self._inbuf.decode("latin-1").strip()
            self._inbuf.clear()
            if line:
                self._command(line)
            return i + 1
        self._inbuf.append(b)
        if self._inbuf.endswith(b"+++"):
            self._inbuf.clear()
            self.commands.append("+++")
            if self.wedged == "escape":
                self.wedged = None
            if not self.wedged:
                self._reply("OK")
        return i + 1

    def _input_voice(self, data: bytes, i: int) -> int:
        st = self.state
        b = data[i]
        if self._dle_pending:
            self._dle_pending = False
            if b == DLE:
                if st.mode in ("vtx", "vtr"):
                    self.tx_audio.append(DLE)
            elif b == ETX and st.mode in ("vtx", "vtr"):
                self._end_voice(send_etx=False)
            elif b in (ord("!"), ord("^")) and st.mode in ("vrx", "vtr"):
                self._end_voice(send_etx=True)
            elif b == CAN:
                pass  # flush: nothing is buffered here
            return i + 1
        if b == DLE:
            self._dle_pending = True
            return i + 1
        if st.mode in ("vtx", "vtr"):
            j = data.find(DLE, i)
            end = len(data) if j < 0 else j
            self.tx_audio += data[i:end]
            return end
        return i + 1  # +VRX: the DTE only sends control sequences

    def _end_voice(self, send_etx: bool) -> None:
        self.state.mode = "cmd"
        self._dle_pending = False
        if send_etx:
            self._write(b"\x10\x03")
        self._reply("OK")

    def _reply(self, *lines: str) -> None:
        self._write(b"".join(b"\r\n" + ln.encode("latin-1") + b"\r\n" for ln in lines))

    def _later(self, delay: float, data: bytes) -> None:
        self._timers.append(_Timer(time.monotonic() + delay, data))

    def _command(self, line: str) -> None:
        self.commands.append(line)
        up = line.upper()
        if self.wedged:
            if self.wedged == "atz" and up == "ATZ":
                self.wedged = None
            else:
                return
        st = self.state
        p = self.profile
        if not up.startswith("AT"):
            self._reply("ERROR")
            return
        cmd = up[2:]
        ok = "OK"
        if cmd in ("", "E1", "V1", "Q0", "M0", "M1", "L0", "S0=0", "&F"):
            pass
        elif cmd == "Z":
            keep = st.cid if not p.forget_cid_on_atz else 0
            self.state = FakeModemState(cid=keep, gci=st.gci)
        elif cmd == "E0":
            st.echo = False
        elif cmd in ("I", "I0"):
            self._reply(p.ati0)
        elif cmd == "I3":
            self._reply(p.ati3)
        elif cmd.startswith("H"):
            st.vls, st.offhook = 0, False
        elif cmd == "A":
            st.offhook = True
        elif cmd.startswith("+GCI="):
            if cmd[5:] not in p.gci:
                ok = "ERROR"
            else:
                st.gci = cmd[5:]
        elif cmd.startswith("+VCID="):
            if not p.vcid:
                ok = "ERROR"
            else:
                st.cid = int(cmd[6:] or 0)
        elif cmd.startswith("#CID="):
            if not p.hash_cid:
                ok = "ERROR"
            else:
                st.cid = int(cmd[5:] or 0)
        elif cmd.startswith("+FCLASS="):
            arg = cmd[8:]
            if arg == "?":
                self._reply("0,1,2,8")
            elif arg in ("0", "1", "2", "8"):
                st.fclass = int(arg)
            else:
                ok = "ERROR"
        elif cmd.startswith("+V") and st.fclass != 8:
            ok = "ERROR"
        elif cmd == "+VSM=?":
            self._reply(*p.vsm_list)
        elif cmd.startswith("+VSM="):
            vid = cmd[5:].split(",")[0]
            names = {ln.split(",")[0]: ln.split('"')[1] for ln in p.vsm_list}
            if vid not in names:
                ok = "ERROR"
            else:
                st.codec = _codec_kind(names[vid])
        elif cmd.startswith("+VLS="):
            st.vls = int(cmd[5:] or 0)
            st.offhook = st.vls in (1, 3, 5, 7)
            if p.h_after_vls and st.vls == 1:
                self._reply("OK")
                self._write(b"\x10H")
                return
        elif cmd == "+VTX":
            if st.vls == 0 and not st.offhook:
                ok = "ERROR"
            else:
                st.mode = "vtx"
                ok = "CONNECT"
        elif cmd == "+VRX":
            if not st.offhook:
                ok = "ERROR"
            else:
                ok = "CONNECT"
                self._reply(ok)
                st.mode = "vrx"
                self._next_audio = 0.0
                return
        elif cmd == "+VTR":
            if not p.vtr or not st.offhook:
                ok = "ERROR"
            else:
                self._reply("CONNECT")
                st.mode = "vtr"
                self._next_audio = 0.0
                return
        elif cmd.startswith("+VTS="):
            arg = cmd[5:]
            st.vts.append(arg)
            if p.vts_digit_silent and not arg.startswith(("[", "{")):
                return  # the USR says nothing at all
            if p.vts_zero_f2_error and arg.startswith("[") and arg.split(",")[1] in ("0", ""):
                ok = "ERROR"
        elif cmd.startswith(("+VSD", "+VGT", "+VGR", "+VRA", "+VRN", "+VIT", "+VNH")):
            pass
        elif cmd.startswith("D"):
            st.offhook = True
            result = self.dial_result
            if result in ("VCON", "OK", "CONNECT"):
                st.vls = 1
            else:
                st.offhook = False
            self._later(self.dial_delay, b"\r\n" + result.encode() + b"\r\n")
            return
        else:
            ok = "ERROR"
        self._reply(ok)


# ---------------------------------------------------------------- a media loop for driver tests


class MediaLoop:
    """Plays the daemon's part for a driver under test: tick every 20 ms, keep what comes back.

    `send()` queues int16 audio for the line; `wait_for()` ticks until a condition holds or
    the timeout passes (tests wait on conditions, never on fixed sleeps).
    """

    def __init__(self, driver: object, channels: int = 1) -> None:
        import numpy as np

        self._np = np
        self.driver = driver
        self.channels = channels
        self.events: list[object] = []
        self.rx: list[object] = []  # one int16 row per tick (None when the driver gave no audio)
        self._tx: list[object] = []
        self._next = 0.0

    def send(self, samples: object) -> None:
        np = self._np
        x = np.asarray(samples, dtype=np.int16)
        pad = (-len(x)) % 160
        x = np.concatenate([x, np.zeros(pad, np.int16)])
        self._tx.extend(x.reshape(-1, 160))

    def of(self, kind: type) -> list[object]:
        return [e for e in self.events if isinstance(e, kind)]

    def rx_samples(self, drop_silent_frames: bool = True) -> object:
        """What the line gave, joined; frames of pure silence (underruns, idle line) left out."""
        np = self._np
        rows = [r for r in self.rx if r is not None and not (drop_silent_frames and not r.any())]
        return np.concatenate(rows) if rows else np.zeros(0, np.int16)

    async def step(self) -> None:
        import asyncio

        np = self._np
        now = time.monotonic()
        self._next = self._next + 0.02 if self._next else now + 0.02
        # a steady 50 Hz like the media loop; when late (a loaded CI box) catch up, never skip
        await asyncio.sleep(max(0.0, self._next - now))
        tx = np.zeros((self.channels, 160), np.int16)
        if self._tx:
            tx[0] = self._tx.pop(0)
        t = self.driver.tick(0.0, tx)  # type: ignore[attr-defined]
        self.events.extend(t.events)
        self.rx.append(None if t.rx is None else t.rx[0].copy())

    async def wait_for(self, cond: object, timeout: float = 2.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.step()
            if cond():  # type: ignore[operator]
                return True
        return False

    @property
    def tx_pending(self) -> int:
        return len(self._tx)
