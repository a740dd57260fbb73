"""DSP throughput: DTMF + call-progress tone detection, in real-time lines per CPU core.

    python bench/dsp.py            # default run, well under a minute
    python bench/dsp.py --quick    # a few seconds, for a smoke check

What is measured, all on the same 20 s line signal (DTMF digits, busy and ringback tone,
speech-like audio, noise), each line reading it from its own offset:

* ccd single-line form — one `DtmfDetector` + one `ToneDetector` per line, fed 160-sample
  (20 ms) blocks, as a driver without batching would.
* ccd batched — `LineBankDsp(channels, plan)` fed one contiguous (channels, 320) int16 block per
  40 ms, as the daemon hands it over (its DSP runs every `DAEMON_FRAMES` = 2 ticks of 20 ms), at 32,
  128 and 1024 channels.
* spandsp — `dtmf_rx` + `super_tone_rx` (China plan) per channel, in C, compiled here from
  `bench/spandsp_harness.c` into `bench/_build/` when a C compiler and libspandsp are installed
  (plus `dtmf_rx` alone for reference, the figure usually quoted for spandsp). The C loop calls
  the library directly, so there is no ctypes per-call overhead in its figures.
* spandsp like for like, for reference — ccd's tone detector also listens for fax CNG and CED
  and keeps a level for voice activity and silence on every line; the harness's "full" mode adds
  what spandsp would run for that (`modem_connect_tones_rx` for CNG and for CED, `power_meter`
  fed every sample). Printed apart, with its own ratios; the headline ratio stays against
  `dtmf_rx` + `super_tone_rx`.

"Real-time lines per core" = line-seconds of audio processed per CPU-second
(`time.process_time()`, one thread; numpy is limited to one BLAS thread for the run). Every
figure, ccd's and spandsp's alike, is the best of `--repeat` runs (default 3), so that other work
on the machine costs both sides the same; the load average is printed with the header. The last
line printed is the ccd/spandsp ratio.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # measure one core: no hidden BLAS threads

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccd.dsp.dtmf import DtmfDetector, dtmf_generate  # noqa: E402
from ccd.dsp.linebank import DAEMON_FRAMES, LineBankDsp  # noqa: E402
from ccd.dsp.noise import add_noise, speech_like  # noqa: E402
from ccd.dsp.tones import ToneDetector, get_plan, tone_generate  # noqa: E402

FRAME = 160
RATE = 8000
SHIFT = 977  # samples between the read positions of neighbouring lines (same as the C harness)
BUILD = ROOT / "bench" / "_build"
HARNESS_C = ROOT / "bench" / "spandsp_harness.c"


def line_signal(seconds: float = 20.0, seed: int = 1) -> np.ndarray:
    """A busy line's 20 s: digits, busy, speech, ringback, at realistic levels over a noise floor."""
    rng = np.random.default_rng(seed)
    plan = get_plan("cn")
    parts = [
        np.zeros(RATE // 2, np.int16),
        dtmf_generate("13800138000#", level_dbm0=-12.0),
        tone_generate(plan, "busy", 3.0),
        speech_like(6.0, rng, level_dbm0=-18.0),
        dtmf_generate("2*9", level_dbm0=-20.0),
        tone_generate(plan, "ringback", 5.5),
    ]
    x = np.concatenate(parts)
    n = int(seconds * RATE)
    x = np.resize(x, n) if x.size < n else x[:n]
    x = add_noise(x, -55.0, rng)
    return x[: n - n % FRAME]


def _views(signal: np.ndarray, channels: int) -> np.ndarray:
    """(channels, n) array: line c reads the signal circularly from c * SHIFT."""
    n = signal.size
    idx = (np.arange(channels)[:, None] * SHIFT + np.arange(n)[None, :]) % n
    return signal[idx]


def bench_single(signal: np.ndarray, lines: int) -> tuple[float, int]:
    """(real-time lines per core, events) for per-line DtmfDetector + ToneDetector objects."""
    plan = get_plan("cn")
    audio = _views(signal, lines)
    dets = [(DtmfDetector(), ToneDetector(plan)) for _ in range(lines)]
    events = 0
    t0 = time.process_time()
    for i in range(0, signal.size, FRAME):
        for c, (dtmf, tones) in enumerate(dets):
            block = audio[c, i : i + FRAME]
            events += len(dtmf.process(block)) + len(tones.process(block))
    cpu = time.process_time() - t0
    return lines * signal.size / RATE / cpu, events


def bench_batched(signal: np.ndarray, channels: int, seconds: float) -> tuple[float, int]:
    """(real-time lines per core, events) for one LineBankDsp over `channels` lines.

    Each block is a contiguous (channels, DAEMON_FRAMES * 160) int16 array, as the daemon hands it
    over (`rx_all` of DAEMON_FRAMES ticks, filled from the drivers); the blocks are cut before the
    clock starts, as the C harness's audio is loaded before its clock starts.
    """
    blk = DAEMON_FRAMES * FRAME
    n = min(signal.size, int(seconds * RATE) // blk * blk)
    frames = np.ascontiguousarray(
        _views(signal, channels)[:, :n].reshape(channels, n // blk, blk).transpose(1, 0, 2)
    )
    bank = LineBankDsp(channels, get_plan("cn"))
    events = 0
    t0 = time.process_time()
    for block in frames:
        events += len(bank.process(block))
    cpu = time.process_time() - t0
    return channels * n / RATE / cpu, events


def build_harness() -> Path | None:
    """Compile the spandsp harness; None (with a reason printed) when that is not possible."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("spandsp: skipped (no C compiler)")
        return None
    BUILD.mkdir(parents=True, exist_ok=True)
    exe = BUILD / "spandsp_harness"
    if exe.exists() and exe.stat().st_mtime >= HARNESS_C.stat().st_mtime:
        return exe
    cmd = [cc, "-O2", "-o", str(exe), str(HARNESS_C), "-lspandsp", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        why = r.stderr.strip().splitlines()[0] if r.stderr.strip() else f"exit {r.returncode}"
        print(f"spandsp: skipped (build failed, is libspandsp-dev installed? {why})")
        return None
    return exe


def bench_spandsp(exe: Path, signal: np.ndarray, channels: int, mode: str = "") -> tuple[float, dict]:
    """(real-time lines per core, the harness's JSON); `mode` "" (DTMF + tones), "dtmf" or "full"."""
    with tempfile.NamedTemporaryFile(suffix=".raw", delete=False) as f:
        f.write(signal.astype("<i2").tobytes())
        raw = f.name
    try:
        cmd = [str(exe), raw, str(channels), *([mode] if mode else [])]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(raw)
    res = json.loads(out)
    return res["channels"] * res["seconds"] / max(res["cpu"], 1e-9), res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short audio, for a smoke check")
    ap.add_argument("--single-lines", type=int, default=8, help="lines in the single-line measurement")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is printed")
    args = ap.parse_args(argv)
    reps = max(1, args.repeat)

    seconds = 4.0 if args.quick else 20.0
    signal = line_signal(20.0)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"line signal: {signal.size / RATE:.1f} s (digits, busy, speech, ringback, noise); 1 thread, "
        f"process_time, best of {reps}; load average {load}"
    )
    print(f"{'detector':<34}{'channels':>9}{'audio s/line':>14}{'RT lines/core':>15}{'events':>8}")

    single_sig = signal[: int(seconds * RATE)]
    rt, ev = max(bench_single(single_sig, args.single_lines) for _ in range(reps))
    print(
        f"{'ccd single-line (Dtmf+ToneDetector)':<34}{args.single_lines:>9}{single_sig.size / RATE:>14.1f}{rt:>15,.0f}{ev:>8}"
    )
    batched: dict[int, float] = {}
    for ch, secs in ((32, 20.0), (128, 20.0), (1024, 6.0)):
        secs = min(secs, seconds)
        rt, ev = max(bench_batched(signal, ch, secs) for _ in range(reps))
        batched[ch] = rt
        print(f"{'ccd batched LineBankDsp':<34}{ch:>9}{secs:>14.1f}{rt:>15,.0f}{ev:>8}")

    exe = build_harness()
    spandsp: dict[int, float] = {}
    full: dict[int, float] = {}
    if exe is not None:
        for ch in (32, 128, 1024):
            sig = signal if ch < 1024 or not args.quick else signal[: 4 * RATE]
            rt, res = max((bench_spandsp(exe, sig, ch) for _ in range(reps)), key=lambda r: r[0])
            spandsp[ch] = rt
            label = "spandsp dtmf_rx + super_tone_rx (C)"
            print(
                f"{label:<34}{ch:>9}{res['seconds']:>14.1f}{rt:>15,.0f}{res['digits'] + res['tone_reports']:>8}"
            )
        rt, res = max((bench_spandsp(exe, signal, 128, "dtmf") for _ in range(reps)), key=lambda r: r[0])
        print(
            f"{'spandsp dtmf_rx only (C), for ref.':<34}{128:>9}{res['seconds']:>14.1f}{rt:>15,.0f}{res['digits']:>8}"
        )
        for ch in (128, 1024):
            sig = signal if ch < 1024 or not args.quick else signal[: 4 * RATE]
            rt, res = max((bench_spandsp(exe, sig, ch, "full") for _ in range(reps)), key=lambda r: r[0])
            full[ch] = rt
            label = "spandsp like for like (C), ref."
            print(
                f"{label:<34}{ch:>9}{res['seconds']:>14.1f}{rt:>15,.0f}{res['digits'] + res['tone_reports']:>8}"
            )
    if spandsp:
        for ch in sorted(full):
            print(
                f"ccd/spandsp like for like (+CNG, CED, level) at {ch:>4} channels: {batched[ch] / full[ch]:.2f}"
            )
        for ch in sorted(spandsp):
            print(f"ccd/spandsp at {ch:>4} channels: {batched[ch] / spandsp[ch]:.2f}")
        best = max(batched.values())
        ref = max(spandsp.values())
        print(
            f"ccd/spandsp (best batched {best:,.0f} / best spandsp {ref:,.0f} RT lines per core): {best / ref:.2f}"
        )
    else:
        print("ccd/spandsp: n/a (spandsp not available)")


if __name__ == "__main__":
    main()
