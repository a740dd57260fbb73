"""Caller-ID decode rates, ccd vs spandsp, on the same noisy audio.

    python bench/cid_rates.py [--frames 200] [--seed 1] [--snr 20 15 10] [--g711 none|ulaw|alaw]

For each standard (Bell 202, V.23), format (SDMF, MDMF) and SNR, seeded random caller IDs are
modulated (with ±1 % baud and carrier error and a few extra mark bits), white noise is added at
the given SNR (signal power of the burst over noise power in the full 0-4 kHz band), and both
receivers get identical int16 audio.  A frame counts as decoded when the receiver delivers
exactly the message that was sent; "wrong" counts frames delivered as valid but different;
"damaged" counts frames reported with a bad checksum or structure; "ccd xRT" is seconds of audio
per CPU second (process time, so other load on the machine does not distort it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.spandsp_adsi import spandsp_adsi_messages, spandsp_available
from ccd.dsp.callerid import CallerId, CallerIdReceiver, encode_mdmf, encode_sdmf
from ccd.dsp.fsk import fsk_modulate
from ccd.dsp.levels import dbm0_to_rms

log = logging.getLogger("cid_rates")

SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
LEVEL_DBM0 = -13.5


def random_cid(rng: np.random.Generator, fmt: str) -> CallerId:
    """A plausible caller ID: Chinese mobile or landline numbers, GBK or ASCII names, absences."""
    dt = f"{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}{rng.integers(0, 24):02d}{rng.integers(0, 60):02d}"
    cid = CallerId(format=fmt, datetime=dt)
    if rng.random() < 0.1:
        cid.number_absent = "P" if rng.random() < 0.5 else "O"
    elif rng.random() < 0.5:
        cid.number = "1" + "".join(str(d) for d in rng.integers(0, 10, 10))
    else:
        cid.number = "0" + "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(9, 12))))
    if fmt == "mdmf":
        r = rng.random()
        if r < 0.5:
            cid.name = SURNAMES[rng.integers(len(SURNAMES))] + "".join(
                GIVEN[i] for i in rng.integers(0, len(GIVEN), int(rng.integers(1, 3)))
            )
        elif r < 0.8:
            cid.name = "".join(chr(c) for c in rng.integers(65, 91, int(rng.integers(3, 16))))
        elif r < 0.9:
            cid.name_absent = "P" if rng.random() < 0.5 else "O"
    return cid


def g711(audio: np.ndarray, law: str) -> np.ndarray:
    """Round trip through a G.711 codec; falls back to stdlib audioop before ccd's codec lands."""
    if law == "none":
        return audio
    try:
        from ccd.dsp import g711 as codec

        enc, dec = {
            "ulaw": (codec.ulaw_encode, codec.ulaw_decode),
            "alaw": (codec.alaw_encode, codec.alaw_decode),
        }[law]
        return np.asarray(dec(enc(audio)), dtype=np.int16)
    except (ImportError, AttributeError):
        import audioop  # deprecated in 3.11-3.12, removed in 3.13 (audioop-lts there)

        to, back = {
            "ulaw": (audioop.lin2ulaw, audioop.ulaw2lin),
            "alaw": (audioop.lin2alaw, audioop.alaw2lin),
        }[law]
        return np.frombuffer(back(to(audio.astype("<i2").tobytes(), 2), 2), dtype="<i2").astype(np.int16)


def trial(
    rng: np.random.Generator, standard: str, fmt: str, snr_db: float, law: str
) -> tuple[np.ndarray, bytes]:
    """One burst in noise: returns (int16 audio, the message sent without its checksum)."""
    cid = random_cid(rng, fmt)
    msg = encode_sdmf(cid) if fmt == "sdmf" else encode_mdmf(cid)
    burst = fsk_modulate(
        msg,
        standard,
        seizure_bits=int(rng.integers(150, 301)),
        mark_bits=int(rng.integers(80, 181)),
        extra_mark_bits=int(rng.integers(0, 4)),
        baud_error_pct=float(rng.uniform(-1, 1)),
        carrier_error_pct=float(rng.uniform(-1, 1)),
        level_dbm0=LEVEL_DBM0,
    ).astype(np.float64)
    lead, tail = int(rng.integers(800, 2400)), 1600
    x = np.concatenate((np.zeros(lead), burst, np.zeros(tail)))
    sigma = dbm0_to_rms(LEVEL_DBM0) / 10 ** (snr_db / 20)
    x += rng.normal(0.0, sigma, x.size)
    audio = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return g711(audio, law), msg[:-1]


def ccd_messages(audio: np.ndarray, standard: str) -> tuple[list[bytes], int]:
    """(raw messages delivered valid, number of damaged frames reported)."""
    rx = CallerIdReceiver(standard)
    events = []
    for i in range(0, audio.size, 160):
        events += rx.process(audio[i : i + 160])
    events += rx.process(np.zeros(2400, dtype=np.int16))  # let held damaged frames out
    return [e.cid.raw for e in events if e.cid.valid], sum(not e.cid.valid for e in events)


def run(frames: int, seed: int, snrs: list[float], law: str, auto: bool) -> None:
    have_spandsp = spandsp_available()
    print(
        f"caller-ID decode rates, {frames} frames per cell, seed {seed}, G.711 {law}, receiver "
        f"{'auto' if auto else 'fixed standard'}; spandsp {'present' if have_spandsp else 'ABSENT'}"
    )
    print(
        f"{'standard':8} {'fmt':5} {'SNR':>4}  {'ccd':>7} {'wrong':>5} {'damaged':>7}  {'spandsp':>7}  {'ccd xRT':>8}"
    )
    for standard in ("bell202", "v23"):
        for fmt in ("sdmf", "mdmf"):
            for snr in snrs:
                rng = np.random.default_rng([seed, int(snr * 10), len(standard), len(fmt)])
                ok = wrong = damaged = sp_ok = 0
                t_ccd = audio_s = 0.0
                for _ in range(frames):
                    audio, raw = trial(rng, standard, fmt, snr, law)
                    audio_s += audio.size / 8000
                    t0 = time.process_time()
                    got, dmg = ccd_messages(audio, "auto" if auto else standard)
                    t_ccd += time.process_time() - t0
                    ok += raw in got
                    wrong += sum(g != raw for g in got)
                    damaged += dmg
                    if have_spandsp:
                        sp_ok += raw in spandsp_adsi_messages(audio, standard)
                sp = f"{100 * sp_ok / frames:6.1f}%" if have_spandsp else "    n/a"
                print(
                    f"{standard:8} {fmt:5} {snr:4.0f}  {100 * ok / frames:6.1f}% {wrong:5d} {damaged:7d}  {sp}  {audio_s / t_ccd:8.0f}"
                )
                sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--snr", type=float, nargs="+", default=[20.0, 15.0, 10.0])
    ap.add_argument("--g711", choices=["none", "ulaw", "alaw"], default="none")
    ap.add_argument("--fixed", action="store_true", help="tell ccd the standard instead of 'auto'")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    run(args.frames, args.seed, args.snr, args.g711, not args.fixed)


if __name__ == "__main__":
    main()
