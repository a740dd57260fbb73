"""Signal levels in dBm0, the unit telephony standards use.

Convention (spandsp `telephony.h`, DSP-SPECS.md): a full-scale int16 sine (peak 32767)
is +3.14 dBm0, so a 0 dBm0 sine has a peak of about 22 799 and an RMS of about 16 121.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 8000
FRAME = 160  # 20 ms at 8 kHz: the block size every driver delivers
DBM0_MAX_SINE_POWER = 3.14
_FULL_SCALE_SINE_RMS = 32767.0 / np.sqrt(2.0)


def dbm0_to_peak(dbm0: float) -> float:
    """Peak amplitude (int16 scale) of a sine at `dbm0`."""
    return 32767.0 * 10.0 ** ((dbm0 - DBM0_MAX_SINE_POWER) / 20.0)


def dbm0_to_rms(dbm0: float) -> float:
    """RMS (int16 scale) of any signal whose power is `dbm0`."""
    return _FULL_SCALE_SINE_RMS * 10.0 ** ((dbm0 - DBM0_MAX_SINE_POWER) / 20.0)


def rms_to_dbm0(rms: float) -> float:
    """Power in dBm0 of a signal with the given RMS; -inf for silence."""
    if rms <= 0:
        return float("-inf")
    return 20.0 * np.log10(rms / _FULL_SCALE_SINE_RMS) + DBM0_MAX_SINE_POWER


def power_dbm0(x: np.ndarray) -> float:
    """Mean power of a block in dBm0."""
    if x.size == 0:
        return float("-inf")
    xf = x.astype(np.float64)
    return rms_to_dbm0(float(np.sqrt(np.mean(xf * xf))))
