"""ctypes wrapper over spandsp's DTMF receiver, to compare ccd with it on the same audio.

spandsp (the DSP library inside Asterisk and FreeSWITCH) is the reference users judge us by.
Only used by tests and benchmarks; skips gracefully when `libspandsp.so.2` is not installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

_DIGITS_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL | None:
    for name in ("libspandsp.so.2", ctypes.util.find_library("spandsp")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.dtmf_rx_init.restype = ctypes.c_void_p
        lib.dtmf_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.dtmf_rx.restype = ctypes.c_int
        lib.dtmf_rx.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
        lib.dtmf_rx_get.restype = ctypes.c_size_t
        lib.dtmf_rx_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.dtmf_rx_free.restype = ctypes.c_int
        lib.dtmf_rx_free.argtypes = [ctypes.c_void_p]
        return lib
    return None


def spandsp_available() -> bool:
    """True when libspandsp can be loaded."""
    return _lib() is not None


class SpandspDtmf:
    """One spandsp DTMF receiver (default parameters, as Asterisk/FreeSWITCH use it)."""

    def __init__(self) -> None:
        lib = _lib()
        if lib is None:
            raise RuntimeError("libspandsp.so.2 not found (apt install libspandsp-dev)")
        self._lib = lib
        self._digits: list[str] = []

        def _cb(_user: int | None, digits: bytes, n: int) -> None:
            self._digits.append(digits[:n].decode("ascii", "replace"))

        self._cb = _DIGITS_CB(_cb)  # keep a reference: spandsp holds the pointer
        self._s = lib.dtmf_rx_init(None, ctypes.cast(self._cb, ctypes.c_void_p), None)
        if not self._s:
            raise RuntimeError("dtmf_rx_init failed")

    def process(self, audio: np.ndarray, chunk: int = 160) -> str:
        """Feed int16 audio in `chunk`-sample pieces; return the digits received so far (and clear)."""
        a = np.ascontiguousarray(audio, dtype=np.int16)
        ptr_t = ctypes.POINTER(ctypes.c_int16)
        for i in range(0, len(a), chunk):
            part = a[i : i + chunk]
            self._lib.dtmf_rx(self._s, part.ctypes.data_as(ptr_t), len(part))
        got = "".join(self._digits)
        self._digits.clear()
        return got

    def close(self) -> None:
        if self._s:
            self._lib.dtmf_rx_free(self._s)
            self._s = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def spandsp_dtmf_digits(audio_int16: np.ndarray) -> str:
    """Digits spandsp hears in `audio_int16` (8 kHz), fed in 20 ms chunks."""
    rx = SpandspDtmf()
    try:
        # 200 ms of silence at the end lets spandsp close the last digit.
        return rx.process(np.concatenate([np.asarray(audio_int16, dtype=np.int16), np.zeros(1600, np.int16)]))
    finally:
        rx.close()
