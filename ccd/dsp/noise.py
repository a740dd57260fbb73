"""Test signals: noise at a given level or SNR, speech-like and music-like synthetic audio.

Why these live in the package and not only in tests: the benchmark, the simulator and the
`ccd dsp gen` tool need the same signals the conformance and talk-off tests use, so a figure in a
report and a test result are measured on the same kind of audio. All functions take a seeded
`numpy.random.Generator`, so every signal is reproducible.
"""

from __future__ import annotations

import numpy as np

from ccd.dsp.levels import SAMPLE_RATE, dbm0_to_rms, power_dbm0


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round and saturate to int16, as a codec or a sound card would."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64)), -32768, 32767).astype(np.int16)


def white_noise(n: int, level_dbm0: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise (float, int16 scale) with mean power `level_dbm0`."""
    return rng.standard_normal(n) * dbm0_to_rms(level_dbm0)


def active_power_dbm0(x: np.ndarray) -> float:
    """Power of the non-silent samples only (the level of a tone burst, ignoring its pauses)."""
    x = np.asarray(x)
    return power_dbm0(x[x != 0])


def add_noise(x: np.ndarray, level_dbm0: float, rng: np.random.Generator) -> np.ndarray:
    """`x` plus white noise at `level_dbm0`, saturated to int16."""
    return to_int16(np.asarray(x, dtype=np.float64) + white_noise(len(x), level_dbm0, rng))


def add_noise_snr(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """`x` plus white noise `snr_db` below the power of `x`'s non-silent samples."""
    return add_noise(x, active_power_dbm0(x) - snr_db, rng)


def speech_like(
    seconds: float, rng: np.random.Generator, level_dbm0: float = -15.0, rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Voiced-speech-like audio: a gliding pitch with formant-shaped harmonics in syllables.

    A crude vocal model (harmonics of a wandering f0, amplitudes from a vowel's formant envelope,
    syllable-length bursts with pauses) — enough to put the harmonic, formant-rich energy of speech
    where DTMF and call-progress detectors can be fooled, without a speech synthesiser.
    """
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = 0
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]
    while pos < n:
        syl = int(rng.uniform(0.08, 0.35) * rate)
        gap = int(rng.uniform(0.02, 0.25) * rate)
        syl = min(syl, n - pos)
        t = np.arange(syl) / rate
        f0_start = rng.uniform(85, 260)
        glide = rng.uniform(-0.25, 0.25)
        f0 = f0_start * (1.0 + glide * t / max(seconds, t[-1] if syl else 1.0, 1e-3))
        phase = 2 * np.pi * np.cumsum(f0) / rate
        formants = vowels[rng.integers(len(vowels))]
        seg = np.zeros(syl)
        for k in range(1, int(3800 / f0_start)):
            fk = k * f0_start
            amp = sum(1.0 / (1.0 + ((fk - fc) / (60 + 0.08 * fc)) ** 2) for fc in formants) / k**0.5
            seg += amp * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
        seg *= np.hanning(syl) if syl > 2 else 1.0
        out[pos : pos + syl] = seg
        pos += syl + gap
    return _scale(out, level_dbm0)


def music_like(
    seconds: float, rng: np.random.Generator, level_dbm0: float = -15.0, rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Music-like audio: overlapping equal-tempered notes with harmonics and decays (chords, melody).

    Sustained, stable pitches are the hardest talk-off material for a DTMF receiver, because some
    equal-tempered notes fall within 1-2 % of DTMF frequencies (F5 = 698.5 Hz, F#6 = 1480 Hz).
    Like real instruments, every note has overtones.
    """
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        dur = int(rng.uniform(0.1, 0.6) * rate)
        for _ in range(int(rng.integers(1, 4))):  # a chord of 1-3 notes
            note = int(rng.integers(40, 90))  # MIDI E2..F#6
            f = 440.0 * 2 ** ((note - 69) / 12)
            L = min(dur, n - pos)
            t = np.arange(L) / rate
            decay = np.exp(-t * rng.uniform(1.0, 6.0))
            attack = np.minimum(1.0, t / 0.01)
            tone = np.zeros(L)
            bright = rng.uniform(0.3, 0.8)
            for k in range(1, 8):
                if k * f < rate / 2:
                    tone += bright ** (k - 1) * np.sin(2 * np.pi * k * f * t + rng.uniform(0, 6.28))
            out[pos : pos + L] += tone * decay * attack
        pos += int(dur * rng.uniform(0.5, 1.0))
    return _scale(out, level_dbm0)


def _scale(x: np.ndarray, level_dbm0: float) -> np.ndarray:
    p = np.sqrt(np.mean(x * x)) if x.size else 0.0
    if p == 0:
        return x
    return x * (dbm0_to_rms(level_dbm0) / p)
