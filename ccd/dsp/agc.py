"""Level meter and automatic gain control for recordings, prompts and the supervisor's VU display.

Analog lines deliver anything from -45 dBm0 (a long loop to a quiet caller) to clipping.
The meter reports per-block RMS and peak in dBm0 with a fast-attack, slow-release smoothing,
the way a VU needle moves. The AGC steers the smoothed speech level toward a target, but
only while there is signal: below a noise gate it holds its gain, so the hiss between
words is not pumped up to speech level. The gain moves at most `max_step_db` per block
and is interpolated across the block, so it never clicks.
"""

from __future__ import annotations

import numpy as np

from ccd.dsp.levels import SAMPLE_RATE, rms_to_dbm0

__all__ = ["Agc", "LevelMeter"]

_SILENCE_DBM0 = -90.0


_FLOOR_MS = float(np.square(10 ** ((_SILENCE_DBM0 - rms_to_dbm0(1.0)) / 20.0)))  # mean square at -90 dBm0


def _ms_to_dbm0(ms: float) -> float:
    """dBm0 of a mean square (int16 scale), floored at -90 dBm0 so the result is always finite."""
    return max(_SILENCE_DBM0, rms_to_dbm0(float(np.sqrt(max(ms, 0.0)))))


class LevelMeter:
    """RMS and peak level in dBm0 per block, smoothed with separate attack and release times.

    Smoothing is done on power (mean square), not on decibels, so a short pause in speech
    lowers the reading by a dB or so instead of dragging it toward the -90 dBm0 floor. Peak is
    reported on a sine's scale (peak / sqrt 2), so a pure tone reads the same on both.
    """

    def __init__(self, attack_ms: float = 10.0, release_ms: float = 300.0, rate: int = SAMPLE_RATE) -> None:
        if attack_ms <= 0 or release_ms <= 0:
            raise ValueError("attack and release times must be positive")
        self.attack_ms = attack_ms
        self.release_ms = release_ms
        self.rate = rate
        self.reset()

    def _coef(self, rising: bool, n: int) -> float:
        tau_ms = self.attack_ms if rising else self.release_ms
        return float(np.exp(-1000.0 * n / (self.rate * tau_ms)))

    def process(self, block: np.ndarray) -> tuple[float, float]:
        """Feed a block; returns the smoothed (rms_dbm0, peak_dbm0)."""
        x = np.asarray(block).reshape(-1)
        if x.size == 0:
            return self.rms_dbm0, self.peak_dbm0
        xf = x.astype(np.float64)
        ms = float(np.mean(xf * xf))
        pk = float(np.max(np.abs(xf))) ** 2 / 2.0  # a sine's mean square for this peak
        self.block_rms_dbm0, self.block_peak_dbm0 = _ms_to_dbm0(ms), _ms_to_dbm0(pk)
        a = self._coef(ms > self._ms, x.size)
        self._ms = a * self._ms + (1.0 - a) * ms
        # peaks jump up at once and fall back with the release time
        self._pk = (
            pk
            if pk > self._pk
            else self._coef(False, x.size) * self._pk + (1 - self._coef(False, x.size)) * pk
        )
        return self.rms_dbm0, self.peak_dbm0

    @property
    def rms_dbm0(self) -> float:
        return _ms_to_dbm0(self._ms)

    @property
    def peak_dbm0(self) -> float:
        return _ms_to_dbm0(self._pk)

    def reset(self) -> None:
        """Back to silence (a new call)."""
        self._ms = self._pk = _FLOOR_MS
        self.block_rms_dbm0 = self.block_peak_dbm0 = _SILENCE_DBM0


class Agc:
    """Slow automatic gain control toward `target_dbm0`, never above `max_gain_db` of boost.

    `process(block)` returns the block scaled, as int16 (clipped). Gain may also go down
    (to as low as -`max_gain_db`) for callers who shout.
    """

    def __init__(
        self,
        target_dbm0: float = -18.0,
        max_gain_db: float = 24.0,
        *,
        gate_dbm0: float = -50.0,
        max_step_db: float = 0.5,
        rate: int = SAMPLE_RATE,
    ) -> None:
        if max_gain_db < 0:
            raise ValueError(f"max_gain_db must be >= 0, got {max_gain_db}")
        if max_step_db <= 0:
            raise ValueError(f"max_step_db must be > 0, got {max_step_db}")
        self.target_dbm0 = target_dbm0
        self.max_gain_db = max_gain_db
        self.gate_dbm0 = gate_dbm0
        self.max_step_db = max_step_db
        self.gain_db = 0.0
        self.meter = LevelMeter(attack_ms=20.0, release_ms=500.0, rate=rate)

    def process(self, block: np.ndarray) -> np.ndarray:
        """The block with gain applied (int16, same shape)."""
        x = np.asarray(block)
        if x.size == 0:
            return x.astype(np.int16)
        xf = x.astype(np.float64)
        if not np.all(np.isfinite(xf)):
            raise ValueError("AGC input contains NaN or infinity")
        level, _ = self.meter.process(xf)
        old = self.gain_db
        if self.meter.block_rms_dbm0 > self.gate_dbm0:
            want = float(np.clip(self.target_dbm0 - level, -self.max_gain_db, self.max_gain_db))
            step = float(np.clip(want - old, -self.max_step_db, self.max_step_db))
            self.gain_db = old + step
        ramp = np.linspace(old, self.gain_db, x.shape[0], endpoint=True) if x.ndim else self.gain_db
        g = 10.0 ** (np.asarray(ramp) / 20.0)
        if x.ndim > 1:
            g = g.reshape((-1,) + (1,) * (x.ndim - 1))
        return np.clip(np.rint(xf * g), -32768, 32767).astype(np.int16)

    def reset(self) -> None:
        """Unity gain, meter at silence (a new call)."""
        self.gain_db = 0.0
        self.meter.reset()
