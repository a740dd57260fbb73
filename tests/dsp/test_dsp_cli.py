"""`ccd dsp gen` and `ccd dsp decode`: what a support engineer types, and what they read back."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ccd.dsp.wav import WavWriter, wav_bytes
from cli.main import cli

HAVE_TONES = importlib.util.find_spec("ccd.dsp.tones") is not None
needs_tones = pytest.mark.skipif(
    not HAVE_TONES, reason="ccd.dsp.tones (call-progress tones) not in this tree yet"
)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, ["dsp", *map(str, args)], catch_exceptions=False)

    return invoke


def events(result) -> list[dict]:
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def gen_decode(run, tmp_path: Path, *gen_args: str, decode_args: tuple[str, ...] = ()) -> list[dict]:
    out = tmp_path / "line.wav"
    r = run("gen", out, *gen_args)
    assert r.exit_code == 0, r.stderr
    return events(run("decode", out, *decode_args))


def test_digits_come_back_in_order_with_times_and_durations(run, tmp_path) -> None:
    got = gen_decode(run, tmp_path, "--digits", "159#*0", "--snr", "20", "--seed", "3")
    # "159#" is also the Danish DTMF caller-ID form, but keypad input is not reported as one
    assert [e["digit"] for e in got] == list("159#*0")
    assert all(e["type"] == "dtmf" for e in got)
    times = [e["t"] for e in got]
    assert times == sorted(times) and 0.28 <= times[0] <= 0.33  # after the 0.3 s lead-in
    assert np.allclose(np.diff(times), 0.16, atol=0.02)
    assert all(0.05 <= e["dur"] <= 0.1 for e in got)


def test_mdmf_caller_id_with_a_chinese_name_is_printed_as_specified(run, tmp_path) -> None:
    from ccd.dsp.callerid import CallerId, encode_mdmf

    out = tmp_path / "cid.wav"
    r = run("gen", out, "--cid", "13800138000", "--name", "张三", "--datetime", "11221530", "--snr", "25")
    assert r.exit_code == 0, r.stderr
    result = run("decode", out)
    assert "张三" in result.stdout  # JSON printed with ensure_ascii=False
    (cid,) = events(result)
    msg = encode_mdmf(CallerId("mdmf", number="13800138000", name="张三", datetime="11221530"))
    assert cid == {
        "t": cid["t"],
        "type": "cid",
        "format": "mdmf",
        "number": "13800138000",
        "name": "张三",
        "datetime": "11221530",
        "checksum_ok": True,
        "raw": msg[:-1].hex(),
    }
    assert cid["raw"].startswith("80")


@pytest.mark.parametrize(
    ("mod", "fmt", "standard"),
    [("fsk-v23", "sdmf", "auto"), ("fsk-bell202", "sdmf", "bell202"), ("fsk-v23", "mdmf", "v23")],
)
def test_fsk_caller_id_in_either_modulation_and_format(
    run, tmp_path, mod: str, fmt: str, standard: str
) -> None:
    got = gen_decode(
        run,
        tmp_path,
        *(
            "--cid",
            "02167891234",
            "--cid-mod",
            mod,
            "--cid-format",
            fmt,
            "--datetime",
            "01020304",
            "--format",
            "alaw",
        ),
        decode_args=("--cid-standard", standard),
    )
    (cid,) = [e for e in got if e["type"] == "cid"]
    assert (cid["format"], cid["number"], cid["datetime"], cid["checksum_ok"]) == (
        fmt,
        "02167891234",
        "01020304",
        True,
    )


def test_dtmf_caller_id_is_reported_as_a_cid_as_well_as_digits(run, tmp_path) -> None:
    got = gen_decode(run, tmp_path, "--cid", "13800138000", "--cid-mod", "dtmf")
    cids = [e for e in got if e["type"] == "cid"]
    assert len(cids) == 1 and cids[0]["format"] == "dtmf" and cids[0]["number"] == "13800138000"
    assert "".join(e["digit"] for e in got if e["type"] == "dtmf") == "A13800138000C"
    assert cids[0]["t"] == got[0]["t"]  # stamped at the start character


@needs_tones
@pytest.mark.parametrize(
    ("plan", "tone"), [("cn", "busy"), ("cn", "congestion"), ("cn", "ringback"), ("us", "busy")]
)
def test_call_progress_tones_are_named(run, tmp_path, plan: str, tone: str) -> None:
    got = gen_decode(
        run,
        tmp_path,
        *("--tone", tone, "--plan", plan, "--seconds", "6", "--snr", "20", "--format", "alaw"),
        decode_args=("--plan", plan),
    )
    assert [(e["type"], e["tone"]) for e in got] == [("tone", tone)]
    assert 0.25 <= got[0]["t"] <= 0.4


@needs_tones
def test_everything_in_one_file_comes_out_in_time_order(run, tmp_path) -> None:
    got = gen_decode(
        run,
        tmp_path,
        *(
            "--cid",
            "13800138000",
            "--cid-mod",
            "fsk-bell202",
            "--digits",
            "42",
            "--tone",
            "busy",
            "--seconds",
            "4",
        ),
        *("--format", "ulaw", "--snr", "30"),
    )
    assert [e["type"] for e in got] == ["cid", "dtmf", "dtmf", "tone"]
    assert [e["t"] for e in got] == sorted(e["t"] for e in got)
    assert got[-1]["tone"] == "busy"


def test_voice_activity_is_only_reported_when_asked(run, tmp_path) -> None:
    out = tmp_path / "d.wav"
    run("gen", out, "--digits", "7")
    plain = events(run("decode", out))
    assert [e["type"] for e in plain] == ["dtmf"]
    if HAVE_TONES:
        with_vad = events(run("decode", out, "--vad"))
        assert len(with_vad) >= len(plain)


def test_stereo_44k_file_is_mixed_or_one_channel_chosen(run, tmp_path) -> None:
    from ccd.dsp.dtmf import dtmf_generate
    from ccd.dsp.resample import resample

    digits = resample(np.concatenate([np.zeros(2400, np.int16), dtmf_generate("0852")]), 8000, 44100)
    stereo = np.stack([np.zeros_like(digits), digits], axis=1)
    path = tmp_path / "stereo.wav"
    path.write_bytes(wav_bytes(stereo, "pcm16", rate=44100, channels=2))
    assert [e["digit"] for e in events(run("decode", path, "--channel", "1"))] == list("0852")
    assert [e["digit"] for e in events(run("decode", path))] == list("0852")  # mixed: 6 dB down, still heard
    assert events(run("decode", path, "--channel", "0")) == []


def test_a_recording_cut_off_mid_call_still_decodes(run, tmp_path) -> None:
    from ccd.dsp.dtmf import dtmf_generate

    path = tmp_path / "crash.wav"
    w = WavWriter(path, "ima_adpcm")
    w.write(np.concatenate([np.zeros(800, np.int16), dtmf_generate("314")]))
    w.flush()
    w.write(dtmf_generate("9"))  # never flushed: the recorder was killed here
    assert [e["digit"] for e in events(run("decode", path))] == list("314")


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ("decode", "{tmp}/missing.wav"), "missing.wav: no such file"),
        (
            b"hello, this is not audio at all",
            ("decode", "{tmp}/x.wav"),
            "x.wav: not a WAV file (no RIFF header)",
        ),
        ("truncated", ("decode", "{tmp}/x.wav"), "x.wav: truncated header"),
        ("ok", ("decode", "{tmp}/x.wav", "--plan", "mars"), "unknown tone plan 'mars'"),
        ("ok", ("decode", "{tmp}/x.wav", "--channel", "2"), "channel 2 requested but the file has 1"),
        (None, ("gen", "{tmp}/y.wav"), "nothing to generate"),
        (None, ("gen", "{tmp}/y.wav", "--digits", "12x"), "not DTMF digits"),
        (
            None,
            ("gen", "{tmp}/y.wav", "--cid", "123", "--name", "王", "--cid-format", "sdmf"),
            "--name needs --cid-format mdmf",
        ),
        (None, ("gen", "{tmp}/y.wav", "--tone", "busy", "--plan", "mars"), "mars"),
        (None, ("gen", "{tmp}/nodir/y.wav", "--digits", "1"), "y.wav"),
    ],
)
def test_errors_are_one_line_and_exit_1(run, tmp_path, setup, args, message: str) -> None:
    target = tmp_path / "x.wav"
    if setup == "truncated":
        target.write_bytes(wav_bytes(np.zeros(100, np.int16))[:40])
    elif setup == "ok":
        target.write_bytes(wav_bytes(np.zeros(100, np.int16)))
    elif isinstance(setup, bytes):
        target.write_bytes(setup)
    if "--plan" in args and "mars" in args and not HAVE_TONES:
        pytest.skip("tone plans come from ccd.dsp.tones")
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr


@pytest.mark.parametrize("cmd", [(), ("decode",), ("gen",)])
def test_every_command_has_help(run, cmd) -> None:
    result = run(*cmd, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_importing_the_command_module_does_not_pull_in_numpy() -> None:
    code = "import sys, cli.main, cli.dsp_cmds; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
