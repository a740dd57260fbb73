"""WAV files: a tolerant reader for whatever users bring, and a crash-safe writer for recordings.

Reader. `read_wav` accepts PCM 8/16/24/32-bit, float32/64, A-law (6), µ-law (7), IMA ADPCM
(0x11) and WAVE_FORMAT_EXTENSIBLE wrappers of those, and returns int16 samples at 8 kHz,
mono by default. A header that is cut short or garbled is a `WavError` naming the problem,
never some other exception. A data chunk shorter than its header claims (the writer died
before patching the sizes) is read as far as it goes, since that is what a user wants back.

Writer. A recording must survive the recorder being killed at any instant. `WavWriter`
keeps the header's sizes consistent with what is on disk: each `flush()` first appends the
new audio bytes after the current end of data, then patches the data size, the RIFF size
and last the `fact` sample count. Until a size is patched, a reader sees the previous
(complete) file; appended bytes beyond the declared size are ignored. IMA ADPCM blocks hold
505 samples, so a flush that ends mid-block writes the partial block padded, and the next
flush re-encodes that block in place. ADPCM encoding is causal, so the rewritten block
starts with the very same bytes; a write torn half-way leaves the earlier samples intact,
and the `fact` count, patched last, tells the reader where the real samples end.
"""

from __future__ import annotations

import io
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ccd.dsp import g711
from ccd.dsp.adpcm import ImaBlockEncoder, ima_decode_block, ima_samples_per_block
from ccd.dsp.resample import resample

__all__ = ["WavError", "WavInfo", "WavWriter", "read_wav", "wav_bytes"]

log = logging.getLogger(__name__)

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_ALAW = 0x0006
WAVE_FORMAT_MULAW = 0x0007
WAVE_FORMAT_IMA_ADPCM = 0x0011
WAVE_FORMAT_EXTENSIBLE = 0xFFFE

_KNOWN_UNSUPPORTED = {
    0x0002: "Microsoft ADPCM",
    0x0031: "GSM 6.10",
    0x0040: "G.721 ADPCM",
    0x0050: "MPEG",
    0x0055: "MP3",
    0x0064: "G.726 ADPCM",
    0x0092: "Dolby AC3",
}

_WRITE_FORMATS = ("pcm16", "pcm8", "alaw", "ulaw", "ima_adpcm", "float32")
_AUTOFLUSH_SECONDS = 1.0


class WavError(ValueError):
    """The bytes are not a WAV file we can read; the message names the problem in one line."""


@dataclass
class WavInfo:
    """What the file said about itself (before any resampling or channel mixing)."""

    rate: int
    channels: int
    format: (
        str  # "pcm16" | "pcm8" | "pcm24" | "pcm32" | "alaw" | "ulaw" | "ima_adpcm" | "float32" | "float64"
    )
    frames: int
    block_align: int = 0
    truncated: bool = False  # the data chunk ended before its declared size


# --------------------------------------------------------------------------- reading


@dataclass
class _Fmt:
    tag: int
    channels: int
    rate: int
    block_align: int
    bits: int
    samples_per_block: int = 0


def _parse_fmt(body: bytes) -> tuple[_Fmt, str]:
    if len(body) < 16:
        raise WavError(f"fmt chunk is {len(body)} bytes, needs at least 16")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    extra = b""
    if len(body) >= 18:
        (cb_size,) = struct.unpack_from("<H", body, 16)
        extra = body[18 : 18 + cb_size]
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(extra) < 22:
            raise WavError("WAVE_FORMAT_EXTENSIBLE fmt chunk is too short for its sub-format GUID")
        (tag,) = struct.unpack_from("<H", extra, 6)  # first two bytes of the SubFormat GUID
    if channels < 1 or channels > 256:
        raise WavError(f"fmt chunk says {channels} channels")
    if not 1 <= rate <= 1_000_000:
        raise WavError(f"fmt chunk says sample rate {rate} Hz")
    if block_align < 1:
        raise WavError("fmt chunk says block align 0")
    fmt = _Fmt(tag, channels, rate, block_align, bits)
    if tag == WAVE_FORMAT_PCM:
        name = {8: "pcm8", 16: "pcm16", 24: "pcm24", 32: "pcm32"}.get(bits)
        if name is None:
            raise WavError(f"PCM with {bits} bits per sample is not supported")
        if block_align != channels * bits // 8:
            raise WavError(f"PCM block align {block_align} does not match {channels} x {bits} bits")
    elif tag == WAVE_FORMAT_IEEE_FLOAT:
        name = {32: "float32", 64: "float64"}.get(bits)
        if name is None:
            raise WavError(f"float with {bits} bits per sample is not supported")
        if block_align != channels * bits // 8:
            raise WavError(f"float block align {block_align} does not match {channels} x {bits} bits")
    elif tag in (WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW):
        name = "alaw" if tag == WAVE_FORMAT_ALAW else "ulaw"
        if block_align != channels:
            raise WavError(f"G.711 block align {block_align} does not match {channels} channels")
    elif tag == WAVE_FORMAT_IMA_ADPCM:
        name = "ima_adpcm"
        if bits != 4:
            raise WavError(f"IMA ADPCM with {bits} bits per sample is not supported (only 4)")
        if block_align <= 4 * channels or (block_align - 4 * channels) % (4 * channels):
            raise WavError(f"IMA ADPCM block align {block_align} is invalid for {channels} channels")
        fmt.samples_per_block = ima_samples_per_block(block_align, channels)
        if len(extra) >= 2:
            (spb,) = struct.unpack_from("<H", extra, 0)
            if spb and spb != fmt.samples_per_block:
                raise WavError(
                    f"IMA ADPCM header says {spb} samples per block, block align gives {fmt.samples_per_block}"
                )
    else:
        what = _KNOWN_UNSUPPORTED.get(tag, "unknown")
        raise WavError(f"WAV encoding 0x{tag:04x} ({what}) is not supported")
    return fmt, name


def _decode(data: bytes, fmt: _Fmt, name: str) -> np.ndarray:
    """Frames as int16, shape (n, channels)."""
    ch = fmt.channels
    if name == "ima_adpcm":
        blocks = []
        ba = fmt.block_align
        for off in range(0, len(data), ba):
            block = data[off : off + ba]
            if len(block) < 4 * ch + 4 * ch:  # not even one group of samples after the header
                if len(block) >= 4 * ch:
                    one = ima_decode_block(block[: 4 * ch], ch)
                    blocks.append(one.reshape(-1, ch))
                break
            try:
                blocks.append(ima_decode_block(block, ch).reshape(-1, ch))
            except ValueError as e:
                raise WavError(f"IMA ADPCM block at data byte {off}: {e}") from None
        return np.concatenate(blocks) if blocks else np.zeros((0, ch), np.int16)
    usable = len(data) - len(data) % fmt.block_align
    raw = data[:usable]
    if name == "pcm16":
        x = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif name == "pcm8":
        x = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif name == "pcm24":
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        x = (b[:, 1].astype(np.uint16) | (b[:, 2].astype(np.uint16) << 8)).view(np.int16)
    elif name == "pcm32":
        x = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    elif name in ("float32", "float64"):
        f = np.frombuffer(raw, dtype="<f4" if name == "float32" else "<f8").astype(np.float64)
        bad = ~np.isfinite(f)
        if bad.any():
            log.warning("WAV float data has %d NaN/infinite samples; treating them as silence", bad.sum())
            f = np.where(bad, 0.0, f)
        x = np.clip(np.rint(f * 32768.0), -32768, 32767).astype(np.int16)
    elif name == "alaw":
        x = g711.alaw_decode(raw)
    else:
        x = g711.ulaw_decode(raw)
    return x.reshape(-1, ch)


def _chunks(buf: bytes):
    """Yield (id, offset of body, declared size, available body bytes) for each chunk header."""
    off = 12
    while off + 8 <= len(buf):
        cid = buf[off : off + 4]
        (size,) = struct.unpack_from("<I", buf, off + 4)
        yield cid, off + 8, size
        off += 8 + size + (size & 1)
    if off < len(buf):
        yield None, off, 0


def read_wav(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    channel: int | None = None,
    mix: bool = True,
    target_rate: int | None = 8000,
) -> tuple[np.ndarray, WavInfo]:
    """Samples as int16 and the file's description.

    The result is mono: channel `channel` (0-based) if given, else the mean of all channels
    when `mix` is true. With `mix=False` and no channel, a multichannel file comes back as
    shape (frames, channels). It is resampled to `target_rate` unless that is None.

    Raises WavError for anything wrong with the content, OSError if the file can't be read,
    ValueError for a channel number the file does not have.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        buf = bytes(path_or_bytes)
    else:
        buf = Path(path_or_bytes).read_bytes()
    if len(buf) < 12:
        raise WavError(f"truncated RIFF header ({len(buf)} bytes)" if buf else "empty file")
    magic = buf[:4]
    if magic == b"RIFX":
        raise WavError("big-endian (RIFX) WAV files are not supported")
    if magic == b"RF64":
        raise WavError("RF64 (64-bit) WAV files are not supported")
    if magic != b"RIFF":
        raise WavError("not a WAV file (no RIFF header)")
    if buf[8:12] != b"WAVE":
        raise WavError(f"RIFF file of type {buf[8:12]!r}, not WAVE")

    fmt: _Fmt | None = None
    name = ""
    fact: int | None = None
    data: bytes | None = None
    truncated = False
    for cid, body, size in _chunks(buf):
        if cid is None:
            if data is None:
                raise WavError(f"truncated header: file ends inside a chunk header at byte {body}")
            break
        avail = len(buf) - body
        if cid == b"data":
            if size == 0xFFFFFFFF or size > avail:
                if size != 0xFFFFFFFF:
                    truncated = True
                    log.warning(
                        "WAV data chunk says %d bytes but only %d are there; reading those", size, avail
                    )
                size = avail
            data = buf[body : body + size]
            if fmt is not None:
                break
            continue
        if not all(32 <= c < 127 for c in cid):
            raise WavError(f"garbled chunk header at byte {body - 8}")
        if size > avail:
            raise WavError(
                f"truncated header: file ends inside the {cid.decode()!r} chunk ({avail} of {size} bytes)"
            )
        if cid == b"fmt ":
            fmt, name = _parse_fmt(buf[body : body + size])
        elif cid == b"fact" and size >= 4:
            (fact,) = struct.unpack_from("<I", buf, body)
    if fmt is None:
        raise WavError("no fmt chunk (truncated header?)")
    if data is None:
        raise WavError("no data chunk (truncated header?)")

    frames = _decode(data, fmt, name)
    if name == "ima_adpcm" and fact and fact < frames.shape[0]:
        frames = frames[:fact]  # the tail of the last block is padding
    info = WavInfo(fmt.rate, fmt.channels, name, int(frames.shape[0]), fmt.block_align, truncated)

    if channel is not None:
        if not 0 <= channel < fmt.channels:
            raise ValueError(f"channel {channel} requested but the file has {fmt.channels} (0-based)")
        out = frames[:, channel]
    elif fmt.channels == 1:
        out = frames[:, 0]
    elif mix:
        out = np.rint(frames.astype(np.float64).mean(axis=1)).astype(np.int16)
    else:
        out = frames
    out = np.ascontiguousarray(out)
    if target_rate is not None and target_rate != fmt.rate:
        out = resample(out, fmt.rate, target_rate)
    return out, info


# --------------------------------------------------------------------------- writing


class WavWriter:
    """Writes a WAV that is complete and valid on disk after every `flush()`.

    `path` may be a file name (created or truncated) or a seekable binary file object.
    `write()` buffers and flushes by itself once a second of audio is waiting; call
    `flush()` whenever the recording must be durable (the recorder does it per frame batch).
    With `fsync=True` each flush also asks the OS to put the bytes on the disk, which
    protects against power loss as well as a killed process, at the price of a disk write.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | BinaryIO,
        fmt: str = "ima_adpcm",
        rate: int = 8000,
        channels: int = 1,
        *,
        fsync: bool = False,
    ) -> None:
        if fmt not in _WRITE_FORMATS:
            raise ValueError(f"unknown WAV format {fmt!r}; choose one of {', '.join(_WRITE_FORMATS)}")
        if not 1 <= rate <= 1_000_000:
            raise ValueError(f"sample rate must be 1..1000000 Hz, got {rate}")
        if not 1 <= channels <= 256:
            raise ValueError(f"channels must be 1..256, got {channels}")
        self.fmt = fmt
        self.rate = rate
        self.channels = channels
        self._fsync = fsync
        self._owns = not hasattr(path, "write")
        self._f: BinaryIO = open(path, "w+b", buffering=0) if self._owns else path  # type: ignore[arg-type]  # noqa: SIM115
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._frames_written = 0
        self._frames_flushed = 0
        self._closed = False
        self._ima: ImaBlockEncoder | None = None
        self._tail = np.zeros((0, channels), np.int16)  # IMA frames of the block being filled
        header, self._data_start, self._fact_pos, self._riff_extra = self._header()
        self._data_bytes = 0
        self._block_pos = self._data_start  # IMA: where the next (partial) block goes
        self._pwrite(0, header)
        self._sync()

    # -- header layout

    def _header(self) -> tuple[bytes, int, int | None, int]:
        ch, rate = self.channels, self.rate
        if self.fmt == "ima_adpcm":
            block_align = 256 * ch * max(1, rate // 11025)
            self._ima = ImaBlockEncoder(block_align, ch)
            spb = self._ima.samples_per_block
            fmt_body = struct.pack(
                "<HHIIHHHH",
                WAVE_FORMAT_IMA_ADPCM,
                ch,
                rate,
                round(rate * block_align / spb),
                block_align,
                4,
                2,
                spb,
            )
        else:
            tag, bits = {
                "pcm16": (WAVE_FORMAT_PCM, 16),
                "pcm8": (WAVE_FORMAT_PCM, 8),
                "alaw": (WAVE_FORMAT_ALAW, 8),
                "ulaw": (WAVE_FORMAT_MULAW, 8),
                "float32": (WAVE_FORMAT_IEEE_FLOAT, 32),
            }[self.fmt]
            block_align = ch * bits // 8
            fmt_body = struct.pack("<HHIIHH", tag, ch, rate, rate * block_align, block_align, bits)
            if tag != WAVE_FORMAT_PCM:
                fmt_body += struct.pack("<H", 0)
        self.block_align = block_align
        out = bytearray(b"RIFF\0\0\0\0WAVE")
        out += b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body
        fact_pos = None
        if self.fmt not in ("pcm16", "pcm8"):
            out += b"fact" + struct.pack("<I", 4)
            fact_pos = len(out)
            out += struct.pack("<I", 0)
        out += b"data" + struct.pack("<I", 0)
        data_start = len(out)
        struct.pack_into("<I", out, 4, data_start - 8)
        return bytes(out), data_start, fact_pos, data_start - 8

    # -- low-level I/O

    def _pwrite(self, offset: int, data: bytes) -> None:
        self._f.seek(offset)
        view = memoryview(data)
        while view:
            n = self._f.write(view)
            if n is None:  # a non-blocking raw file that took nothing; try again
                continue
            view = view[n:]

    def _sync(self) -> None:
        self._f.flush()
        if self._fsync:
            os.fsync(self._f.fileno())

    # -- public API

    @property
    def frames_written(self) -> int:
        """Frames accepted by `write()` so far (flushed or not)."""
        return self._frames_written

    @property
    def frames_flushed(self) -> int:
        """Frames that a reader of the file on disk gets back right now."""
        return self._frames_flushed

    @property
    def bytes_written(self) -> int:
        """Size of the file on disk after the last flush, header included."""
        return self._data_start + self._data_bytes + (self._data_bytes & 1)

    def write(self, frames: np.ndarray) -> None:
        """Queue int16 frames, shape (n,) for mono or (n, channels)."""
        if self._closed:
            raise ValueError("write to a closed WavWriter")
        x = np.asarray(frames)
        if x.ndim == 1 and self.channels == 1:
            x = x.reshape(-1, 1)
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise ValueError(f"frames of shape {x.shape} do not fit a {self.channels}-channel file")
        if x.dtype != np.int16:
            if x.dtype.kind == "f":
                if not np.all(np.isfinite(x)):
                    raise ValueError("frames contain NaN or infinity")
                x = np.rint(x)
            elif x.dtype.kind not in "iu":
                raise ValueError(f"frames must be int16 samples, got {x.dtype}")
            x = np.clip(x, -32768, 32767).astype(np.int16)
        if x.shape[0] == 0:
            return
        self._pending.append(x.copy())
        self._pending_frames += x.shape[0]
        self._frames_written += x.shape[0]
        if self._pending_frames >= self.rate * _AUTOFLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Put every written frame on disk and leave the file a complete WAV."""
        if self._closed:
            return
        if self._pending:
            x = np.concatenate(self._pending)
            self._pending.clear()
            self._pending_frames = 0
            if self._ima is not None:
                self._flush_ima(x)
            else:
                self._flush_plain(x)
        self._patch_sizes()
        self._sync()
        self._frames_flushed = self._frames_written

    def _flush_plain(self, x: np.ndarray) -> None:
        if self.fmt == "pcm16":
            raw = x.astype("<i2").tobytes()
        elif self.fmt == "pcm8":
            raw = ((x >> 8) + 128).astype(np.uint8).tobytes()
        elif self.fmt == "alaw":
            raw = g711.alaw_encode(x).tobytes()
        elif self.fmt == "ulaw":
            raw = g711.ulaw_encode(x).tobytes()
        else:
            raw = (x.astype(np.float32) / np.float32(32768.0)).astype("<f4").tobytes()
        end = self._data_start + self._data_bytes
        self._pwrite(end, raw + (b"\0" if (self._data_bytes + len(raw)) & 1 else b""))
        self._data_bytes += len(raw)

    def _flush_ima(self, x: np.ndarray) -> None:
        assert self._ima is not None
        spb = self._ima.samples_per_block
        tail = np.concatenate([self._tail, x])
        out = bytearray()
        start = self._block_pos
        while tail.shape[0] >= spb:
            out += self._ima.encode(tail[:spb])
            tail = tail[spb:]
        self._block_pos += len(out)
        if tail.shape[0]:
            out += self._ima.encode(tail, commit=False)  # padded; re-encoded in place next time
        self._tail = tail
        self._pwrite(start, bytes(out))
        self._data_bytes = self._block_pos - self._data_start + (self.block_align if tail.shape[0] else 0)

    def _patch_sizes(self) -> None:
        # data bytes are already on disk; now make the header claim them, fact count last
        pad = self._data_bytes & 1
        self._pwrite(self._data_start - 4, struct.pack("<I", self._data_bytes))
        self._pwrite(4, struct.pack("<I", self._riff_extra + self._data_bytes + pad))
        if self._fact_pos is not None:
            self._pwrite(self._fact_pos, struct.pack("<I", self._frames_written))

    def close(self) -> None:
        """Flush and close (the file object too, if we opened it). Safe to call twice."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            if self._owns:
                self._f.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wav_bytes(samples: np.ndarray, fmt: str = "pcm16", rate: int = 8000, channels: int = 1) -> bytes:
    """A whole WAV file in memory (for tests, prompts and the CLI)."""
    bio = io.BytesIO()
    w = WavWriter(bio, fmt, rate, channels)
    w.write(samples)
    w.flush()
    return bio.getvalue()
