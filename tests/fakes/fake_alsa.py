"""A stand-in for ALSA's `arecord` and `aplay`, so a USB box's sound card can be tested without one.

Run as the prefix of the driver's commands (the usbbox option `alsa_command`):

    python fake_alsa.py --capture CAP --playback PLAY [--log LOG] [--fail FLAG] arecord|aplay ARGS...

* `arecord ... -c N`: paced at real time like a sound card, writes 20 ms chunks of raw S16_LE
  to stdout. What it "hears" is whatever the test has appended to CAP since the last chunk
  (the file is tailed); silence when nothing new is there.
* `aplay ...`: appends everything it is given on stdin to PLAY, flushed at once.
* `--log LOG`: one line per start with the command's arguments (tests check the device and format).
* `--fail FLAG`: while the file FLAG exists, exit at once with ALSA's open error, as a
  missing card does.

Tests use `command(...)` to build the prefix. Standard library only: it starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

CHUNK = 160  # samples per channel per write: 20 ms at 8 kHz


def command(capture: Path, playback: Path, log: Path | None = None, fail: Path | None = None) -> list[str]:
    """The `alsa_command` prefix that puts this fake in place of arecord/aplay."""
    argv = [
        sys.executable,
        "-I",
        "-S",
        str(Path(__file__).resolve()),
        "--capture",
        str(capture),
        "--playback",
        str(playback),
    ]
    if log is not None:
        argv += ["--log", str(log)]
    if fail is not None:
        argv += ["--fail", str(fail)]
    return argv


def _channels(args: list[str]) -> int:
    for i, a in enumerate(args):
        if a == "-c" and i + 1 < len(args):
            return int(args[i + 1])
    return 1


def _record(capture: Path, channels: int) -> None:
    size = CHUNK * channels * 2
    offset = 0
    out = sys.stdout.buffer
    start = time.monotonic()
    k = 0
    while True:
        k += 1
        delay = start + k * CHUNK / 8000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        data = b""
        try:
            with capture.open("rb") as f:
                f.seek(offset)
                data = f.read(size)
        except OSError:
            pass
        data = data[: len(data) - len(data) % (2 * channels)]
        offset += len(data)
        try:
            out.write(data + bytes(size - len(data)))
            out.flush()
        except (BrokenPipeError, OSError):
            return


def _play(playback: Path) -> None:
    src = sys.stdin.buffer
    with playback.open("ab") as f:
        while True:
            data = src.read1(65536)
            if not data:
                return
            f.write(data)
            f.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", type=Path, required=True)
    ap.add_argument("--playback", type=Path, required=True)
    ap.add_argument("--log", type=Path)
    ap.add_argument("--fail", type=Path)
    argv = sys.argv[1:]
    at = next((i for i, a in enumerate(argv) if a in ("arecord", "aplay")), None)
    if at is None:
        ap.error("name arecord or aplay after the options")
    ns = ap.parse_args(argv[:at])
    ns.program, rest = argv[at], argv[at + 1 :]
    if ns.log is not None:
        with ns.log.open("a", encoding="utf-8") as f:
            f.write(" ".join([ns.program, *rest]) + "\n")
    if ns.fail is not None and ns.fail.exists():
        device = rest[rest.index("-D") + 1] if "-D" in rest else "default"
        print(f"{ns.program}: main:831: audio open error: No such device ({device})", file=sys.stderr)
        return 1
    if ns.program == "arecord":
        _record(ns.capture, _channels(rest))
    else:
        _play(ns.playback)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        os._exit(1)
