"""`ccd dsp`: hear what the soft DSP hears in a recording, and make test audio.

`ccd dsp decode call.wav` runs the same receivers the daemon runs on a line (DTMF, FSK and
DTMF caller ID, call-progress tones) over a WAV file and prints one JSON object per line for
each thing heard, in time order, so a support engineer can answer "why didn't the number
pop up?" from a customer's recording. `ccd dsp gen` makes such recordings for tests and demos.

numpy and ccd.dsp are imported inside the commands: `import cli` (and `ccd --help`) must
stay light.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

log = logging.getLogger(__name__)

FRAME = 160  # 20 ms at 8 kHz, the block size the daemon feeds its detectors
GAP_SECONDS = 0.3  # silence around each generated piece
WAV_FORMATS = ("pcm16", "alaw", "ulaw", "ima_adpcm")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@click.group("dsp")
def dsp() -> None:
    """Telephony DSP tools: decode line recordings, generate test audio."""


# ---------------------------------------------------------------------------- decode


def _load_plan(plan: str) -> Any | None:
    """The tone plan, or None when the tone detector is not available in this build."""
    try:
        from ccd.dsp.tones import get_plan
    except ImportError:
        log.warning("ccd.dsp.tones is not available: call-progress tones will not be reported")
        return None
    try:
        return get_plan(plan)
    except (KeyError, ValueError) as exc:
        detail = _one_line(exc).strip("'\"")
        raise click.ClickException(
            detail if plan in detail else f"unknown tone plan {plan!r}: {detail}"
        ) from None


def _read(file: str, channel: int | None) -> Any:
    from ccd.dsp.wav import WavError, read_wav

    path = Path(file)
    if not path.exists():
        raise click.ClickException(f"{file}: no such file")
    if path.is_dir():
        raise click.ClickException(f"{file}: is a directory, not a WAV file")
    try:
        samples, info = read_wav(path, channel=channel, target_rate=8000)
    except WavError as exc:
        raise click.ClickException(f"{file}: {_one_line(exc)}") from None
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or _one_line(exc)}") from None
    except ValueError as exc:  # a channel the file does not have
        raise click.ClickException(f"{file}: {_one_line(exc)}") from None
    log.info(
        "%s: %s, %d Hz, %d channel(s), %d frames", file, info.format, info.rate, info.channels, info.frames
    )
    return samples


def _cid_record(cid: Any, t: float) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "t": round(t, 3),
        "type": "cid",
        "format": cid.format,
        "number": cid.number,
        "name": cid.name,
        "datetime": cid.datetime,
        "checksum_ok": cid.checksum_ok,
        "raw": cid.raw.hex(),
    }
    if cid.format == "dtmf":
        rec["raw"] = cid.raw.decode("ascii", "replace")  # the digit string itself, e.g. A13800138000C
    for key in ("number_absent", "name_absent"):
        if getattr(cid, key, None):
            rec[key] = getattr(cid, key)
    if getattr(cid, "extra", None):
        rec["extra"] = {f"0x{k:02x}": v.hex() for k, v in cid.extra.items()}
    if getattr(cid, "errors", None):
        rec["errors"] = list(cid.errors)
    return rec


VAD_TONES = frozenset({"voice", "silence"})


def decode_events(
    samples: Any, plan: Any | None, cid_standard: str = "auto", rate: int = 8000, *, vad: bool = False
) -> list[dict[str, Any]]:
    """Everything heard in `samples` (int16 mono at 8 kHz) as JSON-ready dicts, in time order.

    Voice-activity and silence spans are left out unless `vad`: caller-ID bursts and DTMF
    count as "voice" to the activity detector, so they would only clutter the answer.
    """
    from ccd.dsp.callerid import CallerIdReceiver, DtmfCidAssembler
    from ccd.dsp.dtmf import DtmfDetector

    dtmf = DtmfDetector()
    cid_rx = CallerIdReceiver(standard=cid_standard)
    tone_rx = None
    if plan is not None:
        from ccd.dsp.tones import ToneDetector

        tone_rx = ToneDetector(plan)
    assembler = DtmfCidAssembler()

    out: list[tuple[int, int, dict[str, Any]]] = []  # (sample, order, record)
    tones: dict[tuple[str, int], dict[str, Any]] = {}

    def on_digits(events: list[Any]) -> None:
        for ev in events:
            out.append(
                (
                    ev.start,
                    0,
                    {
                        "t": round(ev.start / rate, 3),
                        "type": "dtmf",
                        "digit": ev.digit,
                        "dur": round((ev.end - ev.start) / rate, 3),
                    },
                )
            )
            cid = assembler.feed(ev.digit, ev.start)
            # Forms without a letter start ("159#", "*72#") are what callers key into an IVR;
            # only A-D, absent from ordinary keypads, mark a digit run as the exchange's caller ID.
            if cid is not None and cid.raw[:1] in (b"A", b"B", b"C", b"D"):
                span = getattr(assembler, "last_span", None)
                start = span[0] if span else ev.start
                out.append((start, 1, _cid_record(cid, start / rate)))

    def on_tones(events: list[Any]) -> None:
        for ev in events:
            if ev.tone in VAD_TONES and not vad:
                continue
            rec: dict[str, Any] = {"t": round(ev.start / rate, 3), "type": "tone", "tone": ev.tone}
            if ev.end is not None:
                rec["dur"] = round((ev.end - ev.start) / rate, 3)
            key = (ev.tone, ev.start)
            if key in tones:
                tones[key].update(rec)  # the same tone, now with its end
            else:
                tones[key] = rec
                out.append((ev.start, 2, rec))

    for i in range(0, len(samples), FRAME):
        block = samples[i : i + FRAME]
        on_digits(dtmf.process(block))
        for ev in cid_rx.process(block):
            out.append((ev.start, 1, _cid_record(ev.cid, ev.start / rate)))
        if tone_rx is not None:
            on_tones(tone_rx.process(block))
    on_digits(dtmf.flush())
    if tone_rx is not None and hasattr(tone_rx, "flush"):
        on_tones(tone_rx.flush())
    out.sort(key=lambda e: (e[0], e[1]))
    return [rec for _, _, rec in out]


@dsp.command("decode")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option(
    "--plan", default="cn", show_default=True, help="Call-progress tone plan (cn, us, or one from config)."
)
@click.option(
    "--channel",
    type=click.IntRange(min=0),
    default=None,
    help="Channel of a multichannel file (0-based); default: mix.",
)
@click.option(
    "--cid-standard",
    type=click.Choice(["auto", "bell202", "v23"]),
    default="auto",
    show_default=True,
    help="FSK caller-ID modem to listen for.",
)
@click.option("--vad", is_flag=True, help="Also report voice-activity and silence spans.")
def decode(file: str, plan: str, channel: int | None, cid_standard: str, vad: bool) -> None:
    """Print what is heard in FILE.wav — DTMF digits, caller ID, tones — one JSON object per line.

    Any rate, encoding (PCM, A-law, µ-law, IMA ADPCM, float) and channel count is accepted;
    audio is converted to 8 kHz mono first.
    """
    tone_plan = _load_plan(plan)
    samples = _read(file, channel)
    try:
        events = decode_events(samples, tone_plan, cid_standard, vad=vad)
    except ValueError as exc:
        raise click.ClickException(f"{file}: {_one_line(exc)}") from None
    for rec in events:
        click.echo(json.dumps(rec, ensure_ascii=False))


# ---------------------------------------------------------------------------- gen


def _wall_datetime() -> str:
    """MMDDHHMM now, as an exchange would stamp it (the CLI is the top layer: it may read the clock)."""
    import time

    return time.strftime("%m%d%H%M")


@dsp.command("gen")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--digits", default=None, help="DTMF digits to send (0-9 * # A-D).")
@click.option("--cid", "cid_number", default=None, metavar="NUMBER", help="Caller-ID number to send.")
@click.option("--name", default=None, help="Caller-ID name (MDMF only; Chinese names are sent as GBK).")
@click.option(
    "--datetime", "cid_datetime", default=None, metavar="MMDDHHMM", help="Caller-ID date/time (default: now)."
)
@click.option(
    "--cid-mod",
    type=click.Choice(["fsk-bell202", "fsk-v23", "dtmf"]),
    default="fsk-bell202",
    show_default=True,
    help="How the caller ID is sent.",
)
@click.option("--cid-format", type=click.Choice(["sdmf", "mdmf"]), default="mdmf", show_default=True)
@click.option(
    "--tone", default=None, help="Call-progress tone from the plan: busy, ringback, dial, congestion…"
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.0, min_open=True, max=600.0),
    default=3.0,
    show_default=True,
    help="Tone length.",
)
@click.option("--plan", default="cn", show_default=True, help="Tone plan for --tone.")
@click.option(
    "--snr", type=float, default=None, metavar="DB", help="Add white noise this many dB below the signal."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed (same seed, same file).")
@click.option("--format", "wav_format", type=click.Choice(WAV_FORMATS), default="pcm16", show_default=True)
def gen(
    out: str,
    digits: str | None,
    cid_number: str | None,
    name: str | None,
    cid_datetime: str | None,
    cid_mod: str,
    cid_format: str,
    tone: str | None,
    seconds: float,
    plan: str,
    snr: float | None,
    seed: int,
    wav_format: str,
) -> None:
    """Write OUT.wav (8 kHz): caller ID, then DTMF digits, then a tone, with short silences between."""
    if not (digits or cid_number or tone):
        raise click.ClickException("nothing to generate: give --digits, --cid and/or --tone")
    if name and cid_format == "sdmf":
        raise click.ClickException("--name needs --cid-format mdmf (SDMF carries no name)")
    if name and cid_mod == "dtmf":
        raise click.ClickException("--name cannot be sent by DTMF caller ID")
    if name and not cid_number:
        raise click.ClickException("--name needs --cid NUMBER")

    import numpy as np

    from ccd.dsp.wav import WavWriter

    gap = np.zeros(int(GAP_SECONDS * 8000), dtype=np.int16)
    pieces = [gap]
    try:
        if cid_number:
            from ccd.dsp.callerid import CallerId, cid_audio

            cid = CallerId(
                format="dtmf" if cid_mod == "dtmf" else cid_format,
                number=cid_number,
                name=name,
                datetime=cid_datetime or _wall_datetime(),
            )
            pieces += [cid_audio(cid, modulation=cid_mod, fmt=cid_format), gap]
        if digits:
            from ccd.dsp.dtmf import dtmf_generate

            pieces += [dtmf_generate(digits), gap]
        if tone:
            try:
                from ccd.dsp.tones import tone_generate
            except ImportError:
                raise click.ClickException(
                    "tone generation is not available in this build (ccd.dsp.tones missing)"
                ) from None
            tone_plan = _load_plan(plan)
            pieces += [tone_generate(tone_plan, tone, seconds), gap]
        audio = np.concatenate(pieces).astype(np.int16)
        if snr is not None:
            from ccd.dsp.noise import add_noise_snr

            audio = add_noise_snr(audio, snr, np.random.default_rng(seed))
    except (ValueError, KeyError) as exc:
        raise click.ClickException(_one_line(exc).strip("'\"")) from None

    try:
        with WavWriter(out, wav_format, 8000, 1) as w:
            w.write(audio)
    except OSError as exc:
        raise click.ClickException(f"{out}: {exc.strerror or _one_line(exc)}") from None
    log.info("wrote %s: %.2f s %s", out, audio.size / 8000, wav_format)
