"""WAV reader and crash-safe writer: round trips, hostile headers, and recordings cut by kill -9."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccd.dsp import g711
from ccd.dsp.wav import WavError, WavInfo, WavWriter, read_wav, wav_bytes

FORMATS = ["pcm16", "pcm8", "alaw", "ulaw", "ima_adpcm", "float32"]
HEADER_LEN = {"pcm16": 44, "pcm8": 44, "alaw": 58, "ulaw": 58, "float32": 58, "ima_adpcm": 60}


def tone(n: int, seed: int = 0, level: float = 8000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 8000.0
    x = level * np.sin(2 * np.pi * 440 * t) + rng.normal(0, level / 10, n)
    return np.clip(x, -32768, 32767).astype(np.int16)


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    e = y.astype(np.float64) - x
    return float(10 * np.log10(np.sum(x.astype(np.float64) ** 2) / max(np.sum(e * e), 1e-9)))


def expected(x: np.ndarray, fmt: str) -> np.ndarray:
    """What a lossless-per-format round trip gives back."""
    if fmt == "alaw":
        return g711.alaw_decode(g711.alaw_encode(x))
    if fmt == "ulaw":
        return g711.ulaw_decode(g711.ulaw_encode(x))
    if fmt == "pcm8":
        return ((x >> 8) << 8).astype(np.int16)
    return x


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_is_the_expected_size_and_silence_file_reads_back(fmt: str) -> None:
    data = wav_bytes(np.zeros(0, np.int16), fmt)
    assert len(data) == HEADER_LEN[fmt]
    y, info = read_wav(data)
    assert y.size == 0 and info.frames == 0 and info.format == fmt


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(FORMATS),
    chunks=st.lists(st.integers(0, 700), min_size=1, max_size=8),
    flush_every=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_write_then_read_gives_the_samples_back(
    fmt: str, chunks: list[int], flush_every: int, seed: int
) -> None:
    x = tone(sum(chunks), seed)
    bio = io.BytesIO()
    with WavWriter(bio, fmt) as w:
        pos = 0
        for i, n in enumerate(chunks):
            w.write(x[pos : pos + n])
            pos += n
            if i % flush_every == 0:
                w.flush()
        data_after_close = None
    data_after_close = bio.getvalue()
    y, info = read_wav(data_after_close)
    assert info == WavInfo(8000, 1, fmt, x.size, info.block_align, False)
    assert y.size == x.size
    if fmt == "ima_adpcm":
        if x.size > 200:
            assert snr_db(x[50:], y[50:]) > 18.0
    else:
        assert np.array_equal(y, expected(x, fmt))


def test_stereo_mix_channel_and_raw_frames() -> None:
    left, right = tone(1000, 1), tone(1000, 2, 2000)
    frames = np.stack([left, right], axis=1)
    data = wav_bytes(frames, "pcm16", channels=2)
    assert np.array_equal(read_wav(data, channel=1)[0], right)
    mixed, info = read_wav(data)
    assert info.channels == 2
    assert np.abs(mixed.astype(int) - (left.astype(int) + right) / 2).max() <= 0.5
    raw, _ = read_wav(data, mix=False)
    assert raw.shape == (1000, 2) and np.array_equal(raw, frames)
    with pytest.raises(ValueError, match="channel 2 requested but the file has 2"):
        read_wav(data, channel=2)


def test_other_rates_are_resampled_to_8k_and_info_keeps_the_file_rate() -> None:
    t = np.arange(44100) / 44100.0
    x = (10000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    y, info = read_wav(wav_bytes(x, "pcm16", rate=44100))
    assert info.rate == 44100 and info.frames == 44100
    assert y.size == 8000
    spectrum = np.abs(np.fft.rfft(y[1000:7000] * np.hanning(6000)))
    assert abs(np.argmax(spectrum) * 8000 / 6000 - 1000) < 2
    native, _ = read_wav(wav_bytes(x, "pcm16", rate=44100), target_rate=None)
    assert native.size == 44100


def _extensible(x: np.ndarray) -> bytes:
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 8000, 16000, 2, 16, 22, 16, 4) + guid
    data = x.astype("<i2").tobytes()
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_wave_format_extensible_pcm_is_read() -> None:
    x = tone(500)
    y, info = read_wav(_extensible(x))
    assert info.format == "pcm16" and np.array_equal(y, x)


def test_float_nan_and_inf_become_silence_and_full_scale_not_a_crash() -> None:
    f = np.array([0.0, np.nan, np.inf, -np.inf, 0.5, 2.0], dtype="<f4")
    fmt = struct.pack("<HHIIHHH", 3, 1, 8000, 32000, 4, 32, 0)
    body = b"WAVEfmt " + struct.pack("<I", 18) + fmt + b"data" + struct.pack("<I", f.nbytes) + f.tobytes()
    y, info = read_wav(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert info.format == "float32"
    assert y.tolist() == [0, 0, 0, 0, 16384, 32767]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncation_anywhere_in_the_header_is_a_wav_error(fmt: str) -> None:
    data = wav_bytes(tone(1200), fmt)
    for cut in range(HEADER_LEN[fmt]):
        with pytest.raises(WavError):
            read_wav(data[:cut])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"RIFF\x00\x00", "truncated RIFF header"),
        (b"ID3\x03" + b"\x00" * 60, "not a WAV file"),
        (b"RIFX" + b"\x00" * 60, "big-endian"),
        (b"RIFF\x10\x00\x00\x00AVI LIST" + b"\x00" * 40, "not WAVE"),
    ],
)
def test_not_a_wav_is_named_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(WavError, match=message) as e:
        read_wav(data)
    assert "\n" not in str(e.value)


def test_unsupported_encoding_names_itself() -> None:
    data = bytearray(wav_bytes(tone(100), "pcm16"))
    data[20:22] = struct.pack("<H", 0x0002)
    with pytest.raises(WavError, match=r"0x0002 \(Microsoft ADPCM\) is not supported"):
        read_wav(bytes(data))


@settings(max_examples=200, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS), pos=st.integers(0, 59), value=st.integers(0, 255), cut=st.integers(0, 400)
)
def test_garbled_headers_give_wav_error_or_audio_never_another_exception(
    fmt: str, pos: int, value: int, cut: int
) -> None:
    data = bytearray(wav_bytes(tone(300), fmt))
    data[pos % HEADER_LEN[fmt]] = value
    try:
        y, info = read_wav(bytes(data[: HEADER_LEN[fmt] + cut]))
    except WavError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert y.dtype == np.int16 and info.frames >= 0


def test_data_chunk_shorter_than_declared_is_read_as_far_as_it_goes() -> None:
    x = tone(1000)
    data = wav_bytes(x, "pcm16")
    y, info = read_wav(data[: 44 + 2 * 600 + 1])
    assert info.truncated and np.array_equal(y, x[:600])


def test_missing_file_is_an_os_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_wav(tmp_path / "nope.wav")


def test_writer_rejects_bad_arguments(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown WAV format 'mp3'"):
        WavWriter(tmp_path / "a.wav", "mp3")
    with WavWriter(tmp_path / "b.wav", "pcm16", channels=2) as w:
        with pytest.raises(ValueError, match="do not fit a 2-channel file"):
            w.write(np.zeros(10, np.int16))
        with pytest.raises(ValueError, match="NaN"):
            w.write(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="closed"):
        w.write(np.zeros((3, 2), np.int16))


# ---------------------------------------------------------------- crash safety


class RecordingFile(io.BytesIO):
    """A file that remembers every write the OS would have seen, with the frames flushed before it."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[int, bytes, int]] = []
        self.flushed = lambda: 0

    def write(self, b) -> int:  # type: ignore[override]
        self.ops.append((self.tell(), bytes(b), self.flushed()))
        return super().write(b)


def _disk_image(ops: list[tuple[int, bytes, int]], upto: int, partial: int) -> bytes:
    """The file after `upto` writes and `partial` bytes of the next one: a process killed mid-write."""
    img = bytearray()
    for i, (off, data, _) in enumerate(ops[: upto + 1]):
        if i == upto:
            data = data[:partial]
        if len(img) < off:
            img += b"\0" * (off - len(img))
        img[off : off + len(data)] = data
    return bytes(img)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["ima_adpcm", "pcm16", "alaw", "ulaw"]),
    chunks=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    seed=st.integers(0, 1000),
)
def test_kill_at_any_write_leaves_a_valid_file_with_every_flushed_frame(
    fmt: str, chunks: list[int], seed: int
) -> None:
    x = tone(sum(chunks), seed)
    f = RecordingFile()
    w = WavWriter(f, fmt)
    f.flushed = lambda: w.frames_flushed
    pos = 0
    for n in chunks:
        w.write(x[pos : pos + n])
        pos += n
        w.flush()
    w.close()
    final, _ = read_wav(f.getvalue())
    rng = np.random.default_rng(seed)
    for k, (_, data, flushed) in enumerate(f.ops):
        # a 4-byte size field is one aligned write() and cannot be torn; audio writes can
        cuts = {len(data)} if len(data) <= 8 else {0, len(data), int(rng.integers(1, len(data)))}
        for partial in cuts:
            img = _disk_image(f.ops, k, partial)
            if len(img) < HEADER_LEN[fmt]:
                continue  # killed while the header itself was first written: nothing was recorded
            y, _ = read_wav(img)
            assert y.size >= flushed
            assert np.array_equal(y[:flushed], final[:flushed])


def test_copying_a_live_recording_from_disk_always_gives_a_playable_file(tmp_path) -> None:
    """The recorder's real path: a named file, 20 ms frames, flushed every 100 ms; copies taken mid-call."""
    x = tone(8000 * 3, 5)
    path = tmp_path / "call.wav"
    with WavWriter(path, "ima_adpcm") as w:
        for i in range(0, x.size, 160):
            w.write(x[i : i + 160])
            if i % 800 == 640:
                w.flush()
            copy = path.read_bytes()
            y, info = read_wav(copy)
            assert y.size >= w.frames_flushed and info.format == "ima_adpcm"
            assert w.bytes_written == len(copy) or w.frames_flushed < w.frames_written
    y, info = read_wav(path)
    assert info.frames == x.size and snr_db(x[100:], y[100:]) > 18


# ---------------------------------------------------------------- interoperability


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
@pytest.mark.parametrize("fmt", ["ima_adpcm", "alaw", "ulaw", "pcm16"])
def test_sox_reads_our_files_sample_for_sample(tmp_path, fmt: str) -> None:
    x = tone(3000, 3)
    path = tmp_path / "ours.wav"
    path.write_bytes(wav_bytes(x, fmt))
    out = subprocess.run(
        ["sox", str(path), "-t", "raw", "-e", "signed", "-b", "16", "-"], capture_output=True, check=True
    ).stdout
    theirs = np.frombuffer(out, np.int16)
    ours, _ = read_wav(path)
    assert theirs.size >= ours.size  # sox plays the padding of the last IMA block too
    assert np.array_equal(theirs[: ours.size], ours)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
@pytest.mark.parametrize("encoding", ["ima-adpcm", "a-law", "u-law"])
def test_we_read_sox_files(tmp_path, encoding: str) -> None:
    path = tmp_path / "sox.wav"
    subprocess.run(
        ["sox", "-r", "8000", "-n", "-e", encoding, str(path), "synth", "0.5", "sine", "1000"], check=True
    )
    y, info = read_wav(path)
    assert info.frames == 4000 and y.size == 4000
    assert np.abs(y).max() > 20000
