"""The prompt library: voice prompts by name and language, as 8 kHz int16 arrays.

The IVR, queues and voicemail refer to prompts by name (`welcome`, `digit_5`); this module
turns names into audio. Files live in `voices/<lang>/<name>.wav` (shared sounds such as music on
hold in `voices/common/`) and are listed in `voices/manifest.toml`, which `validate()` checks.

Two rules shape it:

* **A call never stops for a prompt.** A prompt missing in the caller's language falls back to
  another language; a prompt missing everywhere (or unreadable) becomes a short silence and one
  warning in the log — the flow continues.
* **No I/O on the call path.** Files are small and read once, then cached as read-only arrays;
  the daemon calls `preload()` at start so the first caller does not wait on the disk.

Offices replace prompts by dropping in their own recordings under the same name: whatever
`ccd.dsp.wav.read_wav` reads (PCM, A-law, µ-law, IMA ADPCM; any rate, mono or stereo) is
mixed to mono and resampled to the library's rate.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ccd.dsp.levels import power_dbm0
from ccd.dsp.wav import WavError, WavInfo, read_wav

__all__ = ["PromptLibrary", "PromptManifestError", "active_level_dbm0"]

log = logging.getLogger(__name__)

COMMON_DIR = "common"
DEFAULT_LANGS: tuple[str, ...] = ("zh", "en")
_NAME_RE = re.compile(r"^[a-z0-9_]+$")


class PromptManifestError(ValueError):
    """`manifest.toml` cannot be read; raised at load so a broken install is seen at start."""


# --- levels ---------------------------------------------------------------------------------------


def active_level_dbm0(x: np.ndarray, rate: int = 8000) -> float:
    """Speech level in dBm0 over the frames that carry sound (a simplified ITU-T P.56).

    Plain RMS would count the pauses between words, so a prompt with long pauses would be
    normalised louder than one without; callers hear the active level. Frames (20 ms) within
    30 dB of the loudest and above -55 dBm0 count. Steady tones and music: equal to plain RMS.
    """
    xf = np.asarray(x, dtype=np.float64)
    frame = max(1, rate // 50)
    n = xf.size // frame
    if n == 0:
        return power_dbm0(xf)
    frames = xf[: n * frame].reshape(n, frame)
    power = np.array([power_dbm0(f) for f in frames])
    active = power > max(float(power.max()) - 30.0, -55.0)
    if not active.any():
        return float("-inf")
    return power_dbm0(frames[active].ravel())


# --- the library ----------------------------------------------------------------------------------


class PromptLibrary:
    """Prompts under `root` (the `voices/` directory), by name and language, at `rate` Hz.

    Language fallback order: the requested language, the shared `common/` sounds, then the
    library's other languages in manifest order. Arrays returned are cached and read-only.
    """

    def __init__(
        self,
        root: Path,
        rate: int = 8000,
        *,
        gap_s: float = 0.05,
        missing_s: float = 0.2,
    ) -> None:
        self.root = Path(root)
        self.rate = rate
        self.gap_s = gap_s
        self.missing_s = missing_s
        self.manifest: dict = self._load_manifest()
        meta = self.manifest.get("meta", {})
        langs = meta.get("languages") if isinstance(meta, dict) else None
        if isinstance(langs, list) and all(isinstance(lang, str) for lang in langs) and langs:
            self.langs: tuple[str, ...] = tuple(langs)
        else:
            self.langs = DEFAULT_LANGS
        self._cache: dict[Path, np.ndarray] = {}
        self._resolved: dict[tuple[str, str], np.ndarray] = {}
        self._silence = np.zeros(round(missing_s * rate), dtype=np.int16)
        self._silence.flags.writeable = False

    def _load_manifest(self) -> dict:
        path = self.root / "manifest.toml"
        if not path.exists():
            return {}
        try:
            with path.open("rb") as fh:
                manifest = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise PromptManifestError(f"{path}: {exc}") from None
        except OSError as exc:
            raise PromptManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
        prompts = manifest.get("prompts", {})
        if not isinstance(prompts, dict):
            raise PromptManifestError(f"{path}: [prompts] must be a table of prompt names")
        return manifest

    # -- lookups ------------------------------------------------------------------------------

    def _candidates(self, name: str, lang: str) -> list[Path]:
        """Files that could play `name` for a `lang` caller, best first."""
        order = [lang, COMMON_DIR, *[other for other in self.langs if other != lang]]
        return [self.root / d / f"{name}.wav" for d in order]

    def _own_file(self, name: str, lang: str) -> Path | None:
        for path in self._candidates(name, lang)[:2]:
            if path.is_file():
                return path
        return None

    def exists(self, name: str, lang: str) -> bool:
        """True when `name` plays in `lang` itself (or is a shared sound), without falling back."""
        return bool(_NAME_RE.match(name)) and self._own_file(name, lang) is not None

    def names(self, lang: str) -> list[str]:
        """Every prompt name that plays in `lang` without falling back (manifest or on disk)."""
        found: set[str] = set()
        for d in (lang, COMMON_DIR):
            folder = self.root / d
            if folder.is_dir():
                found |= {p.stem for p in folder.glob("*.wav") if _NAME_RE.match(p.stem)}
        return sorted(found)

    def _load(self, path: Path) -> np.ndarray:
        """Read (mixed to mono, resampled to our rate) once; raises WavError or OSError."""
        cached = self._cache.get(path)
        if cached is None:
            samples, _ = read_wav(path, target_rate=self.rate)
            cached = np.ascontiguousarray(samples, dtype=np.int16)
            cached.flags.writeable = False
            self._cache[path] = cached
        return cached

    def get(self, name: str, lang: str) -> np.ndarray:
        """The prompt as read-only int16 samples; a short silence if it cannot be played.

        The answer for each (name, language) is remembered, including "missing", so a flow that
        plays a missing prompt in a loop touches the disk and the log once. `clear()` forgets.
        """
        key = (name, lang)
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        samples = self._resolve(name, lang)
        self._resolved[key] = samples
        return samples

    def _resolve(self, name: str, lang: str) -> np.ndarray:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            log.warning("prompt name %r is not valid (a-z, 0-9, _): playing silence", name)
            return self._silence
        for index, path in enumerate(self._candidates(name, lang)):
            if not path.is_file():
                continue
            try:
                samples = self._load(path)
            except (WavError, OSError) as exc:
                log.warning("prompt %s: %s unreadable, trying other languages: %s", name, path, exc)
                continue
            if index >= 2:
                log.warning("prompt %s missing in %r: using the %s recording", name, lang, path.parent.name)
            return samples
        log.warning("prompt %s missing for %r: playing %.1f s of silence", name, lang, self.missing_s)
        return self._silence

    def clear(self) -> None:
        """Forget cached audio and lookups (after prompts were replaced on disk)."""
        self._cache.clear()
        self._resolved.clear()

    def sequence(self, names: Iterable[str], lang: str, *, gap_s: float | None = None) -> np.ndarray:
        """Prompts played back to back with a short gap (how numbers and dates are spoken)."""
        gap = np.zeros(round((self.gap_s if gap_s is None else gap_s) * self.rate), dtype=np.int16)
        parts: list[np.ndarray] = []
        for name in names:
            if parts:
                parts.append(gap)
            parts.append(self.get(name, lang))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def preload(self, langs: Iterable[str] | None = None) -> int:
        """Read every prompt of `langs` (default: all) into the cache; returns how many loaded."""
        count = 0
        for lang in list(langs) if langs is not None else self.langs:
            for name in self.names(lang):
                path = self._own_file(name, lang)
                if path is None:
                    continue
                try:
                    self._load(path)
                    count += 1
                except (WavError, OSError) as exc:
                    log.warning("prompt %s (%s) not loaded: %s", name, lang, exc)
        return count

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> list[str]:
        """Problems between the manifest and the files, one human-readable line each.

        Checks: every manifest entry's file exists, is a WAV we read, is mono at the library's
        rate and matches the listed duration; every speech prompt exists in every language; no
        WAV on disk is missing from the manifest.
        """
        problems: list[str] = []
        if not self.manifest:
            return [f"{self.root / 'manifest.toml'}: missing"]
        prompts: dict = self.manifest.get("prompts", {})
        listed: set[str] = set()
        for name, entry in sorted(prompts.items()):
            if not _NAME_RE.match(name):
                problems.append(f"{name}: invalid prompt name (use a-z, 0-9, _)")
                continue
            if not isinstance(entry, dict):
                problems.append(f"{name}: manifest entry must be a table")
                continue
            kind = entry.get("kind", "speech")
            expected = [*self.langs] if kind == "speech" else [COMMON_DIR]
            for where in expected:
                if where not in entry:
                    problems.append(f"{name}: no {where} entry in the manifest")
            for where in (*self.langs, COMMON_DIR):
                item = entry.get(where)
                if item is None:
                    continue
                if not isinstance(item, dict) or not isinstance(item.get("file"), str):
                    problems.append(f"{name}.{where}: needs a file")
                    continue
                rel = item["file"]
                listed.add(rel)
                problems += self._check_file(f"{name}.{where}", self.root / rel, item.get("duration"))
        for path in sorted(self.root.glob("*/*.wav")):
            rel = path.relative_to(self.root).as_posix()
            if rel not in listed:
                problems.append(f"{rel}: on disk but not in the manifest")
        return problems

    def _check_file(self, label: str, path: Path, duration: object) -> list[str]:
        rel = path.relative_to(self.root).as_posix()
        if not path.is_file():
            return [f"{label}: file {rel} is missing"]
        try:
            samples, info = read_wav(path, target_rate=None)
        except (WavError, OSError) as exc:
            return [f"{label}: {rel}: {exc}"]
        return _file_problems(label, rel, samples, info, self.rate, duration)


def _file_problems(
    label: str, rel: str, samples: np.ndarray, info: WavInfo, rate: int, duration: object
) -> list[str]:
    out: list[str] = []
    if info.rate != rate:
        out.append(f"{label}: {rel} is {info.rate} Hz, expected {rate} Hz")
    if info.channels != 1:
        out.append(f"{label}: {rel} has {info.channels} channels, expected mono")
    if info.truncated:
        out.append(f"{label}: {rel} is truncated")
    if samples.size == 0:
        out.append(f"{label}: {rel} is empty")
    actual = samples.size / info.rate
    if isinstance(duration, int | float) and abs(actual - float(duration)) > 0.01:
        out.append(f"{label}: manifest says {float(duration):.3f} s, {rel} has {actual:.3f} s")
    return out
