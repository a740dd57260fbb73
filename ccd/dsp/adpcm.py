"""4-bit ADPCM codecs for recordings: IMA/DVI (WAV format 0x11) and Dialogic/OKI (headerless .vox).

ADPCM is a recursion (each sample's step size depends on every earlier code), so it
cannot be vectorised along time; the loops below are plain Python on ints with the
step tables bound to locals, which is fast enough for a handful of recorded lines
(about 1 µs per sample). Encoders keep their state between calls so a recording can be
fed 20 ms frames.

IMA ADPCM follows the IMA Digital Audio Focus and Technical Working Groups recommendation
(1992) as used by Microsoft's WAVE_FORMAT_IMA_ADPCM: a block starts with a header per
channel (first sample as int16, step index, reserved byte) and carries the following
samples as nibbles, low nibble first. For stereo, nibbles come in 4-byte groups (8 samples)
alternating between channels. A 256-byte mono block holds 505 samples.

Dialogic VOX ("OKI ADPCM") works on 12-bit samples with a 49-entry step table; nibbles are
packed high nibble first. The arithmetic matches spandsp's `oki_adpcm.c` (shift-and-add
reconstruction, saturation at ±2048) so files interchange with Asterisk/FreeSWITCH.
"""

from __future__ import annotations

import struct

import numpy as np

__all__ = [
    "IMA_INDEX_TABLE",
    "IMA_STEP_TABLE",
    "ImaAdpcmDecoder",
    "ImaAdpcmEncoder",
    "VoxDecoder",
    "VoxEncoder",
    "ima_decode_block",
    "ima_encode_block",
    "ima_samples_per_block",
]

IMA_STEP_TABLE: tuple[int, ...] = (
    7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73,
    80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494,
    544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499,
    2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487,
    12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
)  # fmt: skip
IMA_INDEX_TABLE: tuple[int, ...] = (-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8)

VOX_STEP_TABLE: tuple[int, ...] = (
    16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130,
    143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796,
    876, 963, 1060, 1166, 1282, 1411, 1552,
)  # fmt: skip


def _build_ima_tables() -> tuple[list[int], list[int]]:
    """Decoder transitions flattened over (index, nibble): signed delta and next index."""
    delta: list[int] = []
    nxt: list[int] = []
    for index, step in enumerate(IMA_STEP_TABLE):
        for nib in range(16):
            d = step >> 3
            if nib & 4:
                d += step
            if nib & 2:
                d += step >> 1
            if nib & 1:
                d += step >> 2
            delta.append(-d if nib & 8 else d)
            nxt.append(min(88, max(0, index + IMA_INDEX_TABLE[nib])))
    return delta, nxt


_IMA_DELTA, _IMA_NEXT = _build_ima_tables()


def _to_int_list(samples: np.ndarray) -> list[int]:
    a = np.asarray(samples)
    if a.dtype != np.int16:
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise ValueError("ADPCM encoder input contains NaN or infinity")
        a = np.clip(np.rint(a) if a.dtype.kind == "f" else a, -32768, 32767).astype(np.int16)
    return a.reshape(-1).tolist()


class ImaAdpcmEncoder:
    """Streaming IMA ADPCM encoder: int16 samples in, one 4-bit code per sample out."""

    def __init__(self, predictor: int = 0, index: int = 0) -> None:
        if not 0 <= index <= 88:
            raise ValueError(f"IMA step index must be 0..88, got {index}")
        self.predictor = int(predictor)
        self.index = int(index)

    def encode(self, samples: np.ndarray) -> np.ndarray:
        """Codes (uint8, values 0..15) for `samples`, advancing the state."""
        pred, index = self.predictor, self.index
        steps, delta_t, next_t = IMA_STEP_TABLE, _IMA_DELTA, _IMA_NEXT
        out = bytearray()
        append = out.append
        for s in _to_int_list(samples):
            step = steps[index]
            diff = s - pred
            nib = 0
            if diff < 0:
                nib = 8
                diff = -diff
            if diff >= step:
                nib |= 4
                diff -= step
            if diff >= step >> 1:
                nib |= 2
                diff -= step >> 1
            if diff >= step >> 2:
                nib |= 1
            k = (index << 4) | nib
            pred += delta_t[k]
            if pred > 32767:
                pred = 32767
            elif pred < -32768:
                pred = -32768
            index = next_t[k]
            append(nib)
        self.predictor, self.index = pred, index
        return np.frombuffer(bytes(out), dtype=np.uint8)


class ImaAdpcmDecoder:
    """Streaming IMA ADPCM decoder: 4-bit codes in, int16 samples out."""

    def __init__(self, predictor: int = 0, index: int = 0) -> None:
        if not 0 <= index <= 88:
            raise ValueError(f"IMA step index must be 0..88, got {index}")
        self.predictor = int(predictor)
        self.index = int(index)

    def decode(self, codes: np.ndarray | bytes) -> np.ndarray:
        """int16 samples for `codes` (one code 0..15 per element), advancing the state."""
        pred, index = self.predictor, self.index
        delta_t, next_t = _IMA_DELTA, _IMA_NEXT
        out: list[int] = []
        append = out.append
        codes_list = codes if isinstance(codes, bytes) else np.asarray(codes, dtype=np.uint8).tolist()
        for nib in codes_list:
            k = (index << 4) | (nib & 15)
            pred += delta_t[k]
            if pred > 32767:
                pred = 32767
            elif pred < -32768:
                pred = -32768
            index = next_t[k]
            append(pred)
        self.predictor, self.index = pred, index
        return np.array(out, dtype=np.int16)


def ima_samples_per_block(block_align: int, channels: int = 1) -> int:
    """Samples per channel in one IMA block: the header sample plus 2 per data byte."""
    return (block_align - 4 * channels) * 2 // channels + 1


def _check_block_align(block_align: int, channels: int) -> None:
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    if block_align <= 4 * channels or (block_align - 4 * channels) % (4 * channels):
        raise ValueError(
            f"IMA block_align {block_align} is not 4 x channels header bytes plus whole 4-byte groups"
        )


def ima_encode_block(
    samples: np.ndarray,
    block_align: int = 256,
    channels: int = 1,
    index: int | list[int] = 0,
) -> bytes:
    """One WAV IMA ADPCM block (format 0x11).

    `samples` is int16, shape (n,) for mono or (n, channels); a short block is padded by
    repeating the last sample (the WAV `fact` chunk records the true length). `index` is
    the step index to start from per channel: pass the encoder state carried over from the
    previous block so the step size does not restart at its minimum every 63 ms.
    """
    return _encode_block(samples, block_align, channels, index)[0]


def _encode_block(
    samples: np.ndarray, block_align: int, channels: int, index: int | list[int]
) -> tuple[bytes, list[int]]:
    """The block and the step index per channel after its last sample."""
    _check_block_align(block_align, channels)
    n_block = ima_samples_per_block(block_align, channels)
    x = np.asarray(samples)
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    if x.shape[1] != channels:
        raise ValueError(f"samples have {x.shape[1]} channels, block wants {channels}")
    if x.shape[0] > n_block:
        raise ValueError(f"{x.shape[0]} samples do not fit a {block_align}-byte block ({n_block} max)")
    if x.shape[0] == 0:
        x = np.zeros((1, channels), dtype=np.int16)
    if x.shape[0] < n_block:
        x = np.concatenate([x, np.repeat(x[-1:], n_block - x.shape[0], axis=0)])
    indexes = [index] * channels if isinstance(index, int) else list(index)
    header = bytearray()
    nibbles: list[np.ndarray] = []
    final: list[int] = []
    for ch in range(channels):
        col = _to_int_list(x[:, ch])
        header += struct.pack("<hBB", col[0], indexes[ch], 0)
        enc = ImaAdpcmEncoder(col[0], indexes[ch])
        nibbles.append(enc.encode(np.array(col[1:], dtype=np.int16)))
        final.append(enc.index)
    return bytes(header) + _pack_nibbles(nibbles), final


def _pack_nibbles(nibbles: list[np.ndarray]) -> bytes:
    """Interleave per-channel code streams in 8-code groups, two codes per byte, low first."""
    channels = len(nibbles)
    groups = nibbles[0].size // 8
    arr = np.stack(nibbles).reshape(channels, groups, 8).transpose(1, 0, 2).reshape(-1)
    return (arr[0::2] | (arr[1::2] << 4)).astype(np.uint8).tobytes()


def ima_block_state(block: bytes, channels: int = 1) -> list[tuple[int, int]]:
    """(first sample, step index) per channel from a block header."""
    return [struct.unpack_from("<hBx", block, 4 * ch)[:2] for ch in range(channels)]


def ima_decode_block(block: bytes, channels: int = 1) -> np.ndarray:
    """Samples of one WAV IMA ADPCM block: shape (n,) for mono, (n, channels) otherwise.

    A short final block (a writer that crashed, or a file cut short) decodes as far as its
    whole 4-byte groups go. Raises ValueError if the block is shorter than its header or a
    header step index is out of range.
    """
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    if len(block) < 4 * channels:
        raise ValueError(f"IMA ADPCM block of {len(block)} bytes is shorter than its header")
    data = np.frombuffer(block, dtype=np.uint8, offset=4 * channels)
    groups = data.size // (4 * channels)
    data = data[: groups * 4 * channels]
    codes = np.empty(data.size * 2, dtype=np.uint8)
    codes[0::2] = data & 0x0F
    codes[1::2] = data >> 4
    per_ch = codes.reshape(groups, channels, 8).transpose(1, 0, 2).reshape(channels, -1)
    cols = []
    for ch, (first, index) in enumerate(ima_block_state(block, channels)):
        if index > 88:
            raise ValueError(f"IMA ADPCM block header has step index {index} (max 88)")
        dec = ImaAdpcmDecoder(first, index)
        cols.append(np.concatenate([np.array([first], dtype=np.int16), dec.decode(per_ch[ch])]))
    return cols[0] if channels == 1 else np.stack(cols, axis=1)


class ImaBlockEncoder:
    """Encodes a stream into WAV IMA blocks, carrying the step index across blocks.

    Each block's header restates the predictor (its first sample), so the only state that
    crosses a block boundary is the step index; carrying it keeps quality up at block starts.
    """

    def __init__(self, block_align: int = 256, channels: int = 1) -> None:
        _check_block_align(block_align, channels)
        self.block_align = block_align
        self.channels = channels
        self.samples_per_block = ima_samples_per_block(block_align, channels)
        self.index = [0] * channels
        self._started = False

    def _choose_start_index(self, x: np.ndarray) -> None:
        """Pick the first block's step index from the opening samples, once.

        Starting at the minimum step (7) makes the first few milliseconds of a loud
        recording a slow ramp. The choice is fixed the first time it is made, so a
        partial first block that is re-encoded later keeps the same header.
        """
        self._started = True
        head = x[:16].astype(np.int64)
        for ch in range(self.channels):
            d = np.abs(np.diff(head[:, ch])).mean() if head.shape[0] > 1 else 0.0
            self.index[ch] = int(np.searchsorted(IMA_STEP_TABLE, d))
            self.index[ch] = min(88, self.index[ch])

    def encode(self, samples: np.ndarray, *, commit: bool = True) -> bytes:
        """One block from up to `samples_per_block` frames; `commit=False` leaves the state as it was.

        A short (padded) block is encoded with `commit=False` when the writer must put a
        partial block on disk now and re-encode it with more samples later.
        """
        if not self._started:
            x = np.asarray(samples)
            self._choose_start_index(x.reshape(-1, 1) if x.ndim == 1 else x)
        block, final = _encode_block(samples, self.block_align, self.channels, self.index)
        if commit:
            self.index = final
        return block


class VoxEncoder:
    """Streaming Dialogic/OKI ADPCM encoder (headerless .vox, 4 bits/sample, 12-bit samples).

    int16 input is reduced to 12 bits (>> 4) as Dialogic boards do; `encode` returns the
    packed bytes, two samples per byte, high nibble first. An odd trailing sample is held
    until the next call (or `flush`).
    """

    def __init__(self) -> None:
        self.last = 0
        self.index = 0
        self._pending: int | None = None

    def encode_codes(self, samples: np.ndarray) -> np.ndarray:
        """One 4-bit code per sample (uint8 0..15), advancing the state; no packing."""
        last, index = self.last, self.index
        steps = VOX_STEP_TABLE
        adjust = IMA_INDEX_TABLE
        out = bytearray()
        append = out.append
        for s in _to_int_list(samples):
            ss = steps[index]
            e = (s >> 4) - last
            code = 0
            if e < 0:
                code = 8
                e = -e
            if e >= ss:
                code |= 4
                e -= ss
            if e >= ss >> 1:
                code |= 2
                e -= ss >> 1
            if e >= ss >> 2:
                code |= 1
            last, index = _vox_step(last, index, code, ss, adjust)
            append(code)
        self.last, self.index = last, index
        return np.frombuffer(bytes(out), dtype=np.uint8)

    def encode(self, samples: np.ndarray) -> bytes:
        """Packed .vox bytes for `samples` (plus any sample held from the previous call)."""
        codes = self.encode_codes(samples).tolist()
        if self._pending is not None:
            codes.insert(0, self._pending)
            self._pending = None
        if len(codes) % 2:
            self._pending = codes.pop()
        arr = np.array(codes, dtype=np.uint8)
        return ((arr[0::2] << 4) | arr[1::2]).astype(np.uint8).tobytes()

    def flush(self) -> bytes:
        """The held odd sample, padded with a zero-change code, or b"" if none."""
        if self._pending is None:
            return b""
        b = bytes([(self._pending << 4)])
        self._pending = None
        return b


def _vox_step(last: int, index: int, code: int, ss: int, adjust: tuple[int, ...]) -> tuple[int, int]:
    e = ss >> 3
    if code & 1:
        e += ss >> 2
    if code & 2:
        e += ss >> 1
    if code & 4:
        e += ss
    if code & 8:
        e = -e
    last += e
    if last > 2047:
        last = 2047
    elif last < -2048:
        last = -2048
    index += adjust[code & 7]
    if index < 0:
        index = 0
    elif index > 48:
        index = 48
    return last, index


class VoxDecoder:
    """Streaming Dialogic/OKI ADPCM decoder: packed .vox bytes in, int16 samples (12-bit << 4) out."""

    def __init__(self) -> None:
        self.last = 0
        self.index = 0

    def decode_codes(self, codes: np.ndarray | list[int]) -> np.ndarray:
        """int16 samples for unpacked 4-bit codes, advancing the state."""
        last, index = self.last, self.index
        steps = VOX_STEP_TABLE
        adjust = IMA_INDEX_TABLE
        out: list[int] = []
        append = out.append
        for code in np.asarray(codes, dtype=np.uint8).tolist():
            last, index = _vox_step(last, index, code & 15, steps[index], adjust)
            append(last << 4)
        self.last, self.index = last, index
        return np.array(out, dtype=np.int16)

    def decode(self, data: bytes | np.ndarray) -> np.ndarray:
        """int16 samples for packed .vox bytes (two per byte, high nibble first)."""
        b = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray) else np.asarray(data)
        codes = np.empty(b.size * 2, dtype=np.uint8)
        codes[0::2] = b >> 4
        codes[1::2] = b & 0x0F
        return self.decode_codes(codes)
