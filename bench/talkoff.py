"""Talk-off comparison: false DTMF digits from ccd and from spandsp on the same ≥30 min of audio.

    python bench/talkoff.py [--minutes 30] [--seed 1]

Material: espeak-ng speech (English, Mandarin, German, French; scripts from tests/dsp/conftest.py)
at several speeds, pitches and levels with line noise, through G.711 µ-law, plus synthetic
speech-like and music-like audio. Prints the false-digit count of each detector per material.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.spandsp_dtmf import spandsp_available, spandsp_dtmf_digits
from ccd.dsp.dtmf import DtmfDetector
from ccd.dsp.levels import dbm0_to_rms
from ccd.dsp.noise import add_noise, music_like, speech_like, to_int16
from tests.dsp.conftest import SPEECH_SCRIPTS, _espeak_to_8k, g711_roundtrip

log = logging.getLogger("talkoff")


def _at_level(x: np.ndarray, level_dbm0: float) -> np.ndarray:
    xf = x.astype(np.float64)
    loud = xf[np.abs(xf) > 30]
    rms = np.sqrt(np.mean(loud**2)) if loud.size else 1.0
    return to_int16(xf * dbm0_to_rms(level_dbm0) / rms)


def material(minutes: float, seed: int) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    speech: list[np.ndarray] = []
    total = 0.0
    speeds, pitches, levels = (130, 170, 210), (20, 50, 80), (-8.0, -15.0, -22.0)
    want = minutes * 60 * 0.75
    k = 0
    while total < want:
        voice, _, _, text = SPEECH_SCRIPTS[k % len(SPEECH_SCRIPTS)]
        wpm, pitch = speeds[(k // 8) % 3], pitches[(k // 24) % 3]
        level = levels[k % 3]
        clip = _at_level(_espeak_to_8k(voice, wpm, pitch, text), level)
        speech.append(g711_roundtrip(add_noise(clip, level - float(rng.uniform(15, 35)), rng)))
        total += len(clip) / 8000
        k += 1
    synth_s = minutes * 60 * 0.125
    synth = {
        "speech-like": [g711_roundtrip(add_noise(to_int16(speech_like(synth_s, rng, -12)), -50, rng))],
        "music-like": [g711_roundtrip(add_noise(to_int16(music_like(synth_s, rng, -12)), -50, rng))],
    }
    return {"espeak speech": speech, **synth}


def ccd_digits(x: np.ndarray) -> str:
    det = DtmfDetector()
    out = []
    for i in range(0, len(x), 160):
        out += det.process(x[i : i + 160])
    return "".join(e.digit for e in out + det.flush())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    mats = material(args.minutes, args.seed)
    log.info("material generated in %.1f s", time.perf_counter() - t0)
    have_sp = spandsp_available()
    tot_s = tot_c = tot_p = 0
    log.info("%-14s %9s %6s %8s", "material", "minutes", "ccd", "spandsp")
    for name, clips in mats.items():
        secs = sum(len(c) for c in clips) / 8000
        c = sum(len(ccd_digits(x)) for x in clips)
        p = sum(len(spandsp_dtmf_digits(x)) for x in clips) if have_sp else -1
        tot_s, tot_c, tot_p = tot_s + secs, tot_c + c, tot_p + p
        log.info("%-14s %9.1f %6d %8s", name, secs / 60, c, p if have_sp else "n/a")
    log.info("%-14s %9.1f %6d %8s", "total", tot_s / 60, tot_c, tot_p if have_sp else "n/a")


if __name__ == "__main__":
    main()
