"""DLE shielding for V.253 voice data: pure functions, no I/O.

In the voice data states (`+VTX`, `+VRX`, `+VTR`) every byte is an audio sample except
0x10 (DLE), which escapes the byte after it. Going to the modem a literal 0x10 sample must
be doubled; coming from the modem `<DLE><DLE>` is one 0x10 sample, `<DLE><SUB>` is two, and
`<DLE><x>` is an event (`x` a DTMF digit, `b` busy, `<ETX>` end of data...). Serial reads
cut the stream anywhere, so a DLE at the end of one read is carried over to the next: a
shielded 0x10 sample split across reads must not turn into a bogus event (HARDWARE.md §1.4;
callattendant and CallAttendantNext get this wrong, mgetty and Asterisk get it right).
"""

from __future__ import annotations

from dataclasses import dataclass

DLE = 0x10
ETX = 0x03
SUB = 0x1A  # DCE -> DTE: two 0x10 samples
CAN = 0x18  # DTE -> DCE: flush the transmit buffer

# DTE -> DCE control sequences
END_TX = bytes([DLE, ETX])  # end of +VTX playback
END_TX_TRIPLE = bytes([DLE, DLE, DLE, ETX])  # Conexant/Zoom: a literal 0x10, then the real end
END_RX = b"\x10!"  # end of +VRX recording
END_RX_TRIPLE = b"\x10\x10\x10!"
END_DUPLEX = b"\x10^"  # end of +VTR
FLUSH_TX = bytes([DLE, CAN])


def shield(data: bytes | bytearray | memoryview) -> bytes:
    """Audio bytes -> bytes safe to send in a voice data state (every 0x10 doubled)."""
    return bytes(data).replace(b"\x10", b"\x10\x10")


@dataclass(frozen=True, slots=True)
class DleCode:
    """`<DLE><code>` seen in the stream; `code` is the byte after the DLE as a 1-char str."""

    code: str


class Unshielder:
    """Splits a DCE -> DTE voice byte stream into audio bytes and DLE codes.

    Stateful only for a DLE that ended the previous chunk. `feed()` returns the pieces in
    stream order, merging adjacent audio into one `bytes`.
    """

    __slots__ = ("_pending_dle",)

    def __init__(self) -> None:
        self._pending_dle = False

    def reset(self) -> None:
        self._pending_dle = False

    @property
    def pending(self) -> bool:
        """True when the last chunk ended on a DLE whose partner byte has not come yet."""
        return self._pending_dle

    def feed(self, data: bytes) -> list[bytes | DleCode]:
        out: list[bytes | DleCode] = []
        audio = bytearray()
        i = 0
        n = len(data)
        if self._pending_dle and n:
            self._pending_dle = False
            i = self._escape(data[0], audio, out)
        while i < n:
            j = data.find(DLE, i)
            if j < 0:
                audio += data[i:]
                break
            audio += data[i:j]
            if j + 1 >= n:
                self._pending_dle = True
                break
            i = j + 1 + self._escape(data[j + 1], audio, out)
        if audio:
            out.append(bytes(audio))
        return out

    @staticmethod
    def _escape(byte: int, audio: bytearray, out: list[bytes | DleCode]) -> int:
        """Handle the byte after a DLE; returns how many bytes were consumed (always 1)."""
        if byte == DLE:
            audio.append(DLE)
        elif byte == SUB:
            audio += b"\x10\x10"
        else:
            if audio:
                out.append(bytes(audio))
                audio.clear()
            out.append(DleCode(chr(byte)))
        return 1
