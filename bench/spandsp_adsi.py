"""ctypes wrapper on spandsp's ADSI (caller-ID) receiver, the yardstick for ccd's receiver.

spandsp is the DSP library inside Asterisk and FreeSWITCH; users will compare ccd with it, so the
benches and tests feed both the same audio.  The receiver state is opaque: `adsi_rx_init(NULL, ...)`
allocates it and `adsi_rx_free` releases it.  Each delivered message is type + length + body,
without the checksum (spandsp checks it and drops frames that fail).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

import numpy as np

log = logging.getLogger(__name__)

ADSI_STANDARD_CLASS = 1  # Bellcore CLASS: Bell 202
ADSI_STANDARD_CLIP = 2  # ETSI CLIP: V.23
_STANDARDS = {"bell202": ADSI_STANDARD_CLASS, "v23": ADSI_STANDARD_CLIP}
_PUT_MSG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_int)


@cache
def _lib() -> ctypes.CDLL | None:
    for name in ("libspandsp.so.2", ctypes.util.find_library("spandsp")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.adsi_rx_init.restype = ctypes.c_void_p
        lib.adsi_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_int, _PUT_MSG, ctypes.c_void_p]
        lib.adsi_rx.restype = ctypes.c_int
        lib.adsi_rx.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
        lib.adsi_rx_free.restype = ctypes.c_int
        lib.adsi_rx_free.argtypes = [ctypes.c_void_p]
        return lib
    return None


def spandsp_available() -> bool:
    """True when libspandsp can be loaded (Debian: libspandsp2 / libspandsp-dev)."""
    return _lib() is not None


def spandsp_adsi_messages(audio: np.ndarray, standard: str = "bell202", chunk: int = 160) -> list[bytes]:
    """Run spandsp's ADSI receiver over int16 `audio`; return the messages it delivered."""
    lib = _lib()
    if lib is None:
        raise RuntimeError("libspandsp.so.2 is not installed (apt install libspandsp-dev)")
    if standard not in _STANDARDS:
        raise ValueError(f"unknown standard {standard!r}; choose one of {sorted(_STANDARDS)}")
    samples = np.ascontiguousarray(np.asarray(audio), dtype=np.int16)
    got: list[bytes] = []

    def put_msg(_user: int | None, msg: ctypes._Pointer, length: int) -> None:
        if length > 0:  # negative lengths are carrier status reports
            got.append(ctypes.string_at(msg, length))

    cb = _PUT_MSG(put_msg)  # keep a reference for the receiver's lifetime
    state = lib.adsi_rx_init(None, _STANDARDS[standard], cb, None)
    if not state:
        raise RuntimeError("adsi_rx_init failed")
    try:
        ptr = samples.ctypes.data_as(ctypes.POINTER(ctypes.c_int16))
        for i in range(0, samples.size, chunk):
            n = min(chunk, samples.size - i)
            lib.adsi_rx(
                state, ctypes.cast(ctypes.byref(ptr.contents, 2 * i), ctypes.POINTER(ctypes.c_int16)), n
            )
    finally:
        lib.adsi_rx_free(state)
    return got
