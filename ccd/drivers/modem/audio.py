"""Voice codecs a modem speaks, converted at the driver edge to int16 (HARDWARE.md §1.6).

The application only ever sees int16 at 8 kHz; the modem speaks 8-bit unsigned or signed
linear, G.711 µ/A-law or 16-bit linear, chosen from what `AT+VSM=?` offers. The G.711
tables come from `ccd.dsp.g711` (imported lazily so a modem in command mode needs no DSP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

CODEC_KINDS = ("ulaw", "alaw", "u8", "s8", "s16")


@dataclass(frozen=True, slots=True)
class Codec:
    """One `+VSM` compression method: its id on this modem and how to convert it."""

    kind: str  # ulaw | alaw | u8 | s8 | s16
    vsm_id: int
    name: str = ""  # as the modem names it in +VSM=?

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.kind == "s16" else 1

    @property
    def silence(self) -> bytes:
        """One sample of silence in this codec (what the line sends when nobody speaks)."""
        return {"ulaw": b"\xff", "alaw": b"\xd5", "u8": b"\x80", "s8": b"\x00", "s16": b"\x00\x00"}[self.kind]

    def encode(self, samples: np.ndarray) -> bytes:
        x = np.asarray(samples, dtype=np.int16)
        if self.kind == "u8":
            return ((x.astype(np.int32) >> 8) + 128).astype(np.uint8).tobytes()
        if self.kind == "s8":
            return (x.astype(np.int32) >> 8).astype(np.int8).tobytes()
        if self.kind == "s16":
            return x.astype("<i2").tobytes()
        from ccd.dsp import g711

        enc = g711.ulaw_encode if self.kind == "ulaw" else g711.alaw_encode
        return enc(x).astype(np.uint8).tobytes()

    def decode(self, data: bytes) -> np.ndarray:
        if self.kind == "u8":
            return ((np.frombuffer(data, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
        if self.kind == "s8":
            return (np.frombuffer(data, np.int8).astype(np.int16) << 8).astype(np.int16)
        if self.kind == "s16":
            usable = len(data) - len(data) % 2
            return np.frombuffer(data[:usable], "<i2").astype(np.int16)
        from ccd.dsp import g711

        dec = g711.ulaw_decode if self.kind == "ulaw" else g711.alaw_decode
        return np.asarray(dec(data), dtype=np.int16)


_VSM_LINE = re.compile(r'^\s*(\d+)\s*,\s*"([^"]*)"\s*(?:,\s*(\d+))?')


def kind_of(name: str, bits: int | None) -> str | None:
    """Map a `+VSM=?` name (mgetty `V253_querry_compressions` spellings) to a codec kind."""
    n = name.upper().replace(" ", "").replace("-", "").replace(".", "").replace("_", "")
    if "ADPCM" in n:
        return None
    if "ULAW" in n or "G711U" in n or "MULAW" in n:
        return "ulaw"
    if "ALAW" in n or "G711A" in n:
        return "alaw"
    if "UNSIGNED" in n or n == "8BITLINEAR":
        return "u8" if bits in (None, 8) else None
    if "16BITLINEAR" in n:
        return "s16"
    if "SIGNED" in n or "LINEAR" in n:
        return {8: "s8", 16: "s16", None: "s8"}.get(bits)
    return None


def parse_vsm_list(lines: list[str]) -> list[Codec]:
    """The information text of `AT+VSM=?` -> codecs we can convert, in the modem's order."""
    codecs: list[Codec] = []
    for line in lines:
        m = _VSM_LINE.match(line)
        if not m:
            continue
        bits = int(m.group(3)) if m.group(3) else None
        kind = kind_of(m.group(2), bits)
        if kind:
            codecs.append(Codec(kind, int(m.group(1)), m.group(2)))
    return codecs


def choose_codec(offered: list[Codec], preference: tuple[str, ...]) -> Codec | None:
    """The first kind in `preference` the modem offers (its first id for that kind)."""
    for kind in preference:
        for codec in offered:
            if codec.kind == kind:
                return codec
    return None
