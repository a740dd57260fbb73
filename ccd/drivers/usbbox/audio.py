"""The voice path of a USB voice box: its USB Audio Class sound card, through ALSA's own tools.

A box's voice stream is a plain USB sound card that Linux's `snd-usb-audio` already drives;
ccd must not claim those interfaces (driver.py claims only the HID one). So the audio comes
the way any program gets it: `arecord` and `aplay` (Debian `alsa-utils`) run as children,
raw S16_LE, 8000 Hz, one channel per box line, with a small period so latency stays low.
`plughw:` devices let ALSA convert from the card's native rate (often 48 kHz). No new Python
dependency, no C extension, and the same tools an office uses to check the card by hand.

Pieces:

* `find_alsa_card()` / `resolve_device()`: which ALSA device is the box's card — one named
  in the profile or ccd.toml, or found by matching the box's USB id in
  `/proc/asound/cardN/usbid` (then the card name from the profile in `/proc/asound/cards`).
  Pure reads of a directory tree, so tests hand in a fake tree;
* `JitterBuffer`: capture bytes in, one 20 ms frame per daemon tick out. A card's clock and
  the daemon's drift apart and the loop can be late, so it keeps a few frames: empty at a
  tick means one frame of silence is inserted (an underrun), more than `limit` frames queued
  means the oldest are dropped back to `target` (an overrun). Pure, no I/O;
* `AlsaAudio`: the two children, their pipes read with `loop.add_reader` (non-blocking, the
  tick never waits), playback written without blocking (a stalled `aplay` costs dropped
  frames, never a stalled daemon), and restart when a child exits: "vanished" is logged once
  with the reason ALSA gave, quiet retries every `reopen_interval` on the daemon's clock
  (checked in `poll(now)` from the tick), "recovered" once when audio flows again.

Why no `LineAlarm` from here: the HID interface and the sound card are one USB device, so an
unplugged box is already reported by the HID side (every line out of service). Audio alone
failing (another program holds the card, a wrong device name) leaves ring, caller ID and hook
state working — the screen pop still matters — so the line stays in service and the fault is
logged and shown in `describe()` (`ccd status`, `ccd devices`).

`command` is a prefix put before `arecord`/`aplay`: empty in production; tests put
`tests/fakes/fake_alsa.py` there to stand in for the sound card.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ccd.drivers.base import FRAME

log = logging.getLogger(__name__)

RATE = 8000
SAMPLE_BYTES = 2  # S16_LE
PERIOD_FRAMES = 80  # ALSA period: 10 ms, so a 20 ms tick never waits on a whole period
BUFFER_FRAMES = 640  # ALSA ring buffer: 80 ms
F_SETPIPE_SZ = 1031  # linux/fcntl.h: F_LINUX_SPECIFIC_BASE + 7
PIPE_SIZE = 4096  # smallest pipe: at most 256 ms of mono audio waits in it on the way to aplay


# ---------------------------------------------------------------- which device


def find_alsa_card(usb_id: str, name: str = "", root: str | Path = "/proc/asound") -> str | None:
    """The ALSA card id (as in `plughw:CARD=<id>`) of the USB device `usb_id` ("335e:8a01").

    First by USB id (`/proc/asound/cardN/usbid`, written by snd-usb-audio), which is exact;
    then, when `name` is given, by the card's id or long name in `/proc/asound/cards`.
    None when no card matches (the box is unplugged, or its sound card did not enumerate).
    """
    base = Path(root)
    cards = sorted(base.glob("card[0-9]*"), key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else 0)
    for card in cards:
        try:
            usbid = (card / "usbid").read_text(encoding="ascii").strip().lower()
        except OSError:
            continue
        if usbid == usb_id.lower():
            return _card_id(card)
    if not name:
        return None
    want = name.lower()
    for card in cards:
        cid = _card_id(card)
        if cid and cid.lower() == want:
            return cid
    try:
        listing = (base / "cards").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in listing.splitlines():
        # " 1 [Maple          ]: USB-Audio - 8 Amps Maple"
        head, sep, desc = line.partition("]:")
        if not sep or "[" not in head:
            continue
        card_id = head.split("[", 1)[1].strip()
        if want in desc.lower() or want == card_id.lower():
            return card_id
    return None


def _card_id(card: Path) -> str | None:
    try:
        return (card / "id").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def audio_setting(option: str | None, profile_device: str) -> str:
    """What the ALSA device setting is: ccd.toml's `alsa_device` wins over the profile's.

    Returns "none" (the line has no voice path), "auto" (find the box's card) or an ALSA PCM.
    """
    value = (option if option is not None else profile_device).strip()
    return value or "none"


def resolve_device(
    setting: str, usb_id: str, name: str = "", root: str | Path = "/proc/asound"
) -> str | None:
    """The PCM to open now for `setting` ("auto" or a PCM name); None when the card is absent."""
    if setting == "none":
        return None
    if setting != "auto":
        return setting
    card = find_alsa_card(usb_id, name, root)
    return None if card is None else f"plughw:CARD={card},DEV=0"


# ---------------------------------------------------------------- the jitter buffer (pure)


@dataclass
class JitterBuffer:
    """Capture bytes in (any sizes), (channels, 160) int16 frames out, one per tick.

    It starts (and restarts after an underrun) only once `target` frames are queued, so a
    late burst from the card does not become a run of alternating sound and silence.
    """

    channels: int
    target: int = 2
    limit: int = 10
    underruns: int = 0  # ticks that got a frame of silence because nothing had arrived
    dropped: int = 0  # frames thrown away because too many were queued
    _buf: bytearray = field(default_factory=bytearray)
    _primed: bool = False
    _ever: bool = False

    @property
    def frame_bytes(self) -> int:
        return self.channels * FRAME * SAMPLE_BYTES

    @property
    def depth(self) -> int:
        return len(self._buf) // self.frame_bytes

    def push(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        """Forget what is queued (a restarted child: its first byte is a new sample boundary)."""
        self._buf.clear()
        self._primed = False

    def pop(self) -> tuple[np.ndarray, str | None]:
        """The next frame, and "underrun" / "overrun" when this tick had to insert or drop."""
        what = None
        if self.depth > self.limit:
            extra = self.depth - self.target
            del self._buf[: extra * self.frame_bytes]
            self.dropped += extra
            what = "overrun"
        if not self._primed:
            if self.depth < max(self.target, 1):
                return np.zeros((self.channels, FRAME), np.int16), what
            self._primed = self._ever = True
        if self.depth == 0:
            self._primed = False
            self.underruns += 1
            return np.zeros((self.channels, FRAME), np.int16), "underrun"
        n = self.frame_bytes
        raw = np.frombuffer(bytes(self._buf[:n]), dtype="<i2")
        del self._buf[:n]
        return raw.reshape(FRAME, self.channels).T.astype(np.int16), what


# ---------------------------------------------------------------- the children


def alsa_argv(program: str, device: str, channels: int) -> list[str]:
    """arecord/aplay arguments for raw 8 kHz S16_LE with a small period."""
    return [
        program,
        "-q",
        "-D",
        device,
        "-t",
        "raw",
        "-f",
        "S16_LE",
        "-r",
        str(RATE),
        "-c",
        str(channels),
        f"--period-size={PERIOD_FRAMES}",
        f"--buffer-size={BUFFER_FRAMES}",
    ]


class AlsaAudio:
    """A box's sound card as 20 ms frames: `arecord` for what the line says, `aplay` for what ccd says."""

    def __init__(
        self,
        name: str,
        setting: str,
        usb_id: str,
        card_name: str,
        channels: int,
        *,
        command: Sequence[str] = (),
        asound_root: str | Path = "/proc/asound",
        reopen_interval: float = 2.0,
    ) -> None:
        self.name = name
        self.setting = setting
        self.usb_id = usb_id
        self.card_name = card_name
        self.channels = channels
        self.command = list(command)
        self.asound_root = asound_root
        self.reopen_interval = reopen_interval
        self.jitter = JitterBuffer(channels)
        self.device: str | None = None  # the PCM last opened
        self.up = False  # both children running and audio has arrived since the last start
        self.error = ""  # why the audio is not up, for describe()
        self.stats = {"starts": 0, "restarts": 0, "underruns": 0, "dropped": 0, "tx_dropped": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rec: subprocess.Popen[bytes] | None = None
        self._play: subprocess.Popen[bytes] | None = None
        self._fds: list[int] = []
        self._stderr: dict[int, bytearray] = {}
        self._wbuf = bytearray()
        self._vanished = False  # logged "vanished" and not yet "recovered"
        self._logged: set[str] = set()  # jitter faults logged once each
        self._retry_at: float | None = None
        self._retry_pending = False  # a child died in a callback: poll() schedules the retry
        self._closed = True

    # ------------------------------------------------------------ life cycle

    def start(self, loop: asyncio.AbstractEventLoop, now: float) -> None:
        """Start the children; a failure is logged and retried from `poll()`, never raised."""
        if not self._closed:  # already running (or retrying): a second open() changes nothing
            return
        self._loop = loop
        self._closed = False
        self._spawn(now)

    def close(self) -> None:
        """Stop both children; safe to call twice."""
        self._closed = True
        self._retry_at = None
        self._retry_pending = False
        self._stop_children()

    def poll(self, now: float) -> None:
        """From the tick: restart the children when a retry is due."""
        if self._retry_pending:
            self._retry_pending = False
            self._retry_at = now + self.reopen_interval
        if self._retry_at is not None and now >= self._retry_at and not self._closed:
            self._retry_at = None
            self.stats["restarts"] += 1
            self._spawn(now)

    # ------------------------------------------------------------ frames

    def read(self) -> np.ndarray:
        """One (channels, 160) int16 frame of what the line said (silence when nothing came)."""
        frame, what = self.jitter.pop()
        if what is not None and self.up:
            self.stats["underruns"] = self.jitter.underruns
            self.stats["dropped"] = self.jitter.dropped
            self._once(
                what,
                "usbbox %s: audio %s (%s); counted in `ccd status`, logged once",
                self.name,
                what,
                "a frame of silence inserted" if what == "underrun" else "oldest frames dropped",
            )
        return frame

    def write(self, tx: np.ndarray) -> None:
        """Queue one (rows, 160) int16 frame for the line; rows beyond `tx` are silence."""
        if self._play is None or self._play.stdin is None:
            return
        frame = np.zeros((self.channels, FRAME), np.int16)
        rows = min(self.channels, tx.shape[0])
        frame[:rows] = tx[:rows]
        self._wbuf += frame.T.astype("<i2").tobytes()
        limit = self.jitter.limit * self.jitter.frame_bytes
        if len(self._wbuf) > limit:
            cut = len(self._wbuf) - limit
            cut -= cut % self.jitter.frame_bytes
            cut = cut or self.jitter.frame_bytes
            del self._wbuf[:cut]
            self.stats["tx_dropped"] += cut // self.jitter.frame_bytes
            self._once("tx", "usbbox %s: aplay is not keeping up; oldest playback frames dropped", self.name)
        fd = self._play.stdin.fileno()
        try:
            while self._wbuf:
                n = os.write(fd, self._wbuf)
                del self._wbuf[:n]
        except BlockingIOError:
            pass
        except OSError as e:
            self._lost(f"aplay stopped taking audio ({e.strerror or e})")

    def describe(self) -> dict[str, Any]:
        return {
            "device": self.device or self.setting,
            "up": self.up,
            "error": self.error,
            "buffered_frames": self.jitter.depth,
            **self.stats,
        }

    # ------------------------------------------------------------ internals

    def _once(self, key: str, msg: str, *args: object) -> None:
        if key not in self._logged:
            self._logged.add(key)
            log.warning(msg, *args)

    def _spawn(self, now: float) -> None:
        device = resolve_device(self.setting, self.usb_id, self.card_name, self.asound_root)
        if device is None:
            self._failed(now, f"no ALSA card for USB {self.usb_id}" + (
                f" or named {self.card_name!r}" if self.card_name else "") + " (is the box plugged in?)")  # fmt: skip
            return
        self.device = device
        try:
            self._rec = self._popen("arecord", device, capture=True)
            self._play = self._popen("aplay", device, capture=False)
        except OSError as e:
            self._stop_children()
            hint = " (Debian: apt install alsa-utils)" if isinstance(e, FileNotFoundError) else ""
            self._failed(now, f"cannot run {e.filename or 'arecord/aplay'}: {e.strerror or e}{hint}")
            return
        self.stats["starts"] += 1
        self.jitter.clear()
        self._wbuf.clear()
        assert self._loop is not None and self._rec.stdout is not None
        for proc, fd in ((self._rec, self._rec.stdout.fileno()), (self._rec, None), (self._play, None)):
            if fd is None:
                assert proc.stderr is not None
                fd = proc.stderr.fileno()
                self._stderr[fd] = bytearray()
            os.set_blocking(fd, False)
            self._fds.append(fd)
            self._loop.add_reader(fd, self._readable, fd, proc)
        assert self._play.stdin is not None
        os.set_blocking(self._play.stdin.fileno(), False)
        with contextlib.suppress(OSError):  # keep little audio in the pipe to aplay: low latency
            fcntl.fcntl(self._play.stdin.fileno(), F_SETPIPE_SZ, PIPE_SIZE)
        if not self._vanished:
            log.info("usbbox %s: audio on ALSA %s (%d channel(s), 8 kHz)", self.name, device, self.channels)

    def _popen(self, program: str, device: str, *, capture: bool) -> subprocess.Popen[bytes]:
        argv = self.command + alsa_argv(program, device, self.channels)
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if capture else subprocess.PIPE,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            close_fds=True,
        )

    def _readable(self, fd: int, proc: subprocess.Popen[bytes]) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            self._lost(f"{self._which(proc)} read error ({e.strerror or e})")
            return
        if not data:
            self._lost(f"{self._which(proc)} exited")
            return
        if fd in self._stderr:
            buf = self._stderr[fd]
            buf += data
            del buf[:-2000]
            return
        self.jitter.push(data)
        if not self.up:
            self.up, self.error = True, ""
            if self._vanished:
                self._vanished = False
                log.warning("usbbox %s: audio recovered (ALSA %s)", self.name, self.device)

    def _which(self, proc: subprocess.Popen[bytes]) -> str:
        return "arecord" if proc is self._rec else "aplay"

    def _lost(self, why: str) -> None:
        """A child has gone (its pipe closed): stop both, say why, retry later."""
        for fd, buf in self._stderr.items():  # ALSA's own words ("audio open error: ...") may still wait
            with contextlib.suppress(OSError):
                buf += os.read(fd, 4096)
        said = [bytes(b).decode("utf-8", "replace").strip() for b in self._stderr.values()]
        said = [s.splitlines()[-1] for s in said if s]
        self._stop_children()
        reason = why + (f": {said[0]}" if said else "")
        if self._closed:
            return
        self._failed(None, reason)

    def _failed(self, now: float | None, reason: str) -> None:
        self.up = False
        self.error = reason
        if not self._vanished:
            self._vanished = True
            log.warning(
                "usbbox %s: audio vanished: %s; ring and caller ID go on, retrying every %.1f s",
                self.name,
                reason,
                self.reopen_interval,
            )
        else:
            log.debug("usbbox %s: audio still absent: %s", self.name, reason)
        # inside a reader callback the clock's time is not at hand: the next poll() sets the retry
        self._retry_at = None if now is None else now + self.reopen_interval
        self._retry_pending = now is None

    def _stop_children(self) -> None:
        if self._loop is not None:
            for fd in self._fds:
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(fd)
        self._fds.clear()
        self._stderr.clear()
        self._wbuf.clear()
        for proc in (self._rec, self._play):
            if proc is None:
                continue
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(1.0)
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
        self._rec = self._play = None
        self.up = False
