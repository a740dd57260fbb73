"""What a user sees when ccd.toml is wrong: one line per problem, with file, line, key path and a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccd.config import (
    ConfigError,
    ExtensionConfig,
    ModemOptions,
    SimOptions,
    TrunkConfig,
    check_text,
    config_from_text,
    load_config,
    validate_config,
)

FIXTURES = Path(__file__).parent / "fixtures"

OFFICE = """\
[[drivers]]
name = "office"
kind = "sim"

[[trunks]]
id = "1"
driver = "office"
channel = 0

[[extensions]]
id = "801"
driver = "office"
channel = 4
"""


def problems(text: str) -> list[str]:
    """The problem lines for `text` (dedented), as `ccd config validate` prints them."""
    _config, found = check_text(textwrap.dedent(text))
    return [str(p) for p in found]


# -- the full example ------------------------------------------------------------------


def test_full_fixture_loads_with_every_section() -> None:
    config = load_config(FIXTURES / "full.toml")
    assert [d.kind for d in config.drivers] == ["sim", "sim", "modem", "dahdi", "usbbox", "sms"]
    assert [t.id for t in config.trunks] == ["1", "2", "3", "4", "5"]
    assert config.line("801") == ExtensionConfig(id="801", driver="office", channel=4, label="Desk 1")
    front = config.line("3")
    assert (
        isinstance(front, TrunkConfig)
        and front.passthrough
        and front.phone == "803"
        and front.cid == "fsk-v23"
    )
    office = config.driver("office").options
    assert isinstance(office, SimOptions)
    assert office.seed == 7 and office.ring_cadence == (1.0, 4.0)
    assert office.traffic is not None and office.traffic.talk == (30.0, 180.0) and office.traffic.keys == "1"
    assert config.driver("usr").options == ModemOptions(
        port="/dev/ttyACM0", profile="usr5637", gci="26", baud=115200, cid_mode="auto"
    )
    assert config.driver("office").options_dict()["traffic"]["rate"] == 30.0
    assert config.tone_plans["mycountry"]["busy"].cadence == (0.35, 0.35)
    assert config.daemon.tone_plan == "mycountry"
    assert [r.destinations() for r in config.inbound] == [["ring"], ["ring"], ["voicemail"]]
    assert config.outbound[1].hunt == "round_robin" and config.outbound[0].prefix == "0"
    assert [u.role for u in config.users] == ["admin", "agent", "supervisor"]
    assert config.users[1].name == "王小明"
    assert config.keys["ctrl+q"] == "quit"
    assert config.source_path == (FIXTURES / "full.toml").resolve()


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "ccd.toml"
    path.write_text('[daemon]\ndatabase = "data/ccd.db"\nrecordings = "/var/rec"\n', encoding="utf-8")
    config = load_config(path)
    assert config.daemon.database == tmp_path / "etc" / "data" / "ccd.db"
    assert config.daemon.recordings == Path("/var/rec")
    assert config.daemon.socket == tmp_path / "etc" / "run" / "ccd.sock"  # defaults too


def test_tilde_expands(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = config_from_text('[daemon]\nsocket = "~/ccd.sock"\n', base_dir=Path("/elsewhere"))
    assert config.daemon.socket == tmp_path / "ccd.sock"


def test_an_empty_file_is_the_defaults() -> None:
    config = config_from_text("")
    assert config.daemon.log_level == "info"
    assert config.daemon.answer_timeout == 45.0
    assert config.daemon.country == "CN" and config.daemon.area_code == "010"
    assert config.trunks == () and config.keys == {}


def test_lookup_helpers_raise_key_error_for_unknown_names() -> None:
    config = config_from_text(OFFICE)
    assert [line.id for line in config.lines] == ["1", "801"]
    with pytest.raises(KeyError):
        config.line("9")
    with pytest.raises(KeyError):
        config.driver("nope")


# -- each kind of problem ----------------------------------------------------------------


def test_syntax_error_names_the_line_tomllib_reports() -> None:
    assert problems('[daemon]\nlog_level = "info"\nsocket = \n') == [
        "ccd.toml:3: syntax error: invalid value (column 10)"
    ]


def test_unterminated_string_at_end_of_file() -> None:
    assert problems('[daemon]\nsocket = "run') == [
        "ccd.toml:2: syntax error: unterminated string (at end of file)"
    ]


def test_unknown_key_suggests_the_nearest_name_at_its_line() -> None:
    text = OFFICE + '\n[[outbound]]\nname = "out"\nstratgy = "x"\nhunt_ = "random"\n'
    assert problems(text) == [
        "ccd.toml:17: outbound[0].stratgy: unknown key 'stratgy'",
        "ccd.toml:18: outbound[0].hunt_: unknown key 'hunt_' (did you mean 'hunt'?)",
    ]


def test_unknown_driver_option_suggests_from_that_kind() -> None:
    assert problems('[[drivers]]\nname = "office"\nkind = "sim"\nsnr = 20.0\n') == [
        "ccd.toml:4: drivers[0].snr: unknown key 'snr' (did you mean 'snr_db'?)"
    ]


def test_unknown_section() -> None:
    assert problems("[trunk]\nid = '1'\n") == [
        "ccd.toml:1: trunk: unknown section 'trunk' (did you mean 'trunks'?)"
    ]


def test_wrong_types() -> None:
    text = """\
    [daemon]
    answer_timeout = "45"
    log_level = 3
    [[drivers]]
    name = "office"
    kind = "sim"
    speech = "yes"
    seed = 1.5
    """
    assert problems(text) == [
        'ccd.toml:2: daemon.answer_timeout: expected number, got string "45"',
        'ccd.toml:3: daemon.log_level: expected string, got integer 3 (write it in quotes: "3")',
        'ccd.toml:7: drivers[0].speech: expected boolean, got string "yes"',
        "ccd.toml:8: drivers[0].seed: expected integer, got float 1.5",
    ]


def test_an_id_written_as_a_number_asks_for_quotes_and_is_still_known() -> None:
    text = (
        OFFICE.replace('id = "1"', "id = 1")
        + '\n[[inbound]]\nname = "main"\ntrunks = ["1"]\nring = ["801"]\n'
    )
    assert problems(text) == [
        'ccd.toml:6: trunks[0].id: expected string, got integer 1 (write it in quotes: "1")'
    ]


def test_array_of_tables_written_as_a_table() -> None:
    assert problems('[drivers]\nname = "office"\n') == [
        "ccd.toml:1: drivers: expected an array of tables (write [[drivers]]), got a table"
    ]


def test_bad_enum_values_suggest_or_list_the_choices() -> None:
    text = """\
    [daemon]
    log_level = "warn"
    [[drivers]]
    name = "office"
    kind = "smi"
    [[drivers]]
    name = "b"
    kind = "sim"
    cid = "yes"
    """
    assert problems(text) == [
        "ccd.toml:2: daemon.log_level: unknown log level 'warn' (did you mean 'warning'?)",
        "ccd.toml:5: drivers[0].kind: unknown driver kind 'smi' (did you mean 'sim'?)",
        "ccd.toml:9: drivers[1].cid: unknown caller-ID mode 'yes' (expected one of: fsk-bell202, fsk-v23, dtmf, none)",
    ]


def test_ranges_and_patterns() -> None:
    text = """\
    [daemon]
    answer_timeout = 0
    area_code = "01O"
    country = "XX"
    [[drivers]]
    name = "office"
    kind = "sim"
    ring_cadence = [1.0, 4.0, 1.0]
    traffic = { withheld = 1.5, talk = [60.0, 30.0], keys = "1x" }
    """
    assert problems(text) == [
        "ccd.toml:2: daemon.answer_timeout: must be greater than 0, got 0",
        'ccd.toml:3: daemon.area_code: must be digits only, got string "01O"',
        "ccd.toml:4: daemon.country: unknown country 'XX' (use an ISO code such as CN)",
        "ccd.toml:8: drivers[0].ring_cadence: cadence needs on/off pairs (an even number of values), got 3",
        "ccd.toml:9: drivers[0].traffic.talk: the first value (minimum) must not exceed the second, got [60.0, 30.0]",
        'ccd.toml:9: drivers[0].traffic.keys: must be DTMF digits (0-9 * # A-D), alternatives separated by |, got string "1x"',
        "ccd.toml:9: drivers[0].traffic.withheld: must be between 0 and 1, got 1.5",
    ]


def test_bad_reference_names_both_sides() -> None:
    text = (
        OFFICE
        + """\
[[trunks]]
id = "2"
driver = "ofice"
channel = 1

[[inbound]]
name = "main"
trunks = ["1", "7"]
ring = ["801", "8011"]
"""
    )
    assert problems(text) == [
        "ccd.toml:16: trunks[1].driver: unknown driver 'ofice' (did you mean 'office'?)",
        "ccd.toml:21: inbound[0].trunks[1]: unknown trunk '7' (known trunks: 1, 2)",
        "ccd.toml:22: inbound[0].ring[1]: unknown extension '8011' (did you mean '801'?)",
    ]


def test_references_may_point_further_down_the_file() -> None:
    text = '[[inbound]]\nname = "main"\ntrunks = ["1"]\nring = ["801"]\n\n' + OFFICE
    assert problems(text) == []


def test_duplicate_ids_name_the_first_use() -> None:
    text = (
        OFFICE
        + """\

[[extensions]]
id = "1"
driver = "office"
channel = 5

[[drivers]]
name = "office"
kind = "sim"
"""
    )
    assert problems(text) == [
        "ccd.toml:16: extensions[1].id: duplicate line id '1' (already used by trunks[0].id on line 6)",
        "ccd.toml:21: drivers[1].name: duplicate driver name 'office' (already used by drivers[0].name on line 2)",
    ]


def test_missing_required_keys() -> None:
    text = '[[drivers]]\nname = "m"\nkind = "modem"\n\n[[trunks]]\ndriver = "m"\n'
    assert problems(text) == [
        "ccd.toml:1: drivers[0]: missing required key 'port'",
        "ccd.toml:5: trunks[0]: missing required key 'id'",
        "ccd.toml:5: trunks[0]: missing required key 'channel'",
    ]


def test_a_driver_channel_cannot_carry_two_lines() -> None:
    text = OFFICE + '\n[[extensions]]\nid = "802"\ndriver = "office"\nchannel = 0\n'
    assert problems(text) == [
        "ccd.toml:18: extensions[1].channel: channel 0 of driver 'office' is already used by trunks[0].channel on line 8"
    ]


def test_lines_must_fit_their_driver() -> None:
    text = """\
    [[drivers]]
    name = "m"
    kind = "modem"
    port = "/dev/ttyACM0"
    [[drivers]]
    name = "g"
    kind = "sms"
    port = "/dev/ttyUSB2"
    [[trunks]]
    id = "1"
    driver = "m"
    channel = 1
    [[trunks]]
    id = "2"
    driver = "g"
    channel = 0
    [[extensions]]
    id = "801"
    driver = "m"
    channel = 0
    """
    assert problems(text) == [
        "ccd.toml:12: trunks[0].channel: channel 1 is out of range: driver 'm' has 1 channel (0..0)",
        "ccd.toml:15: trunks[1].driver: driver 'g' (sms) has no lines to the exchange",
        "ccd.toml:19: extensions[0].driver: driver 'm' (modem) has no phone ports for extensions",
    ]


def test_inbound_rules_need_exactly_one_destination() -> None:
    text = OFFICE + '\n[[inbound]]\nname = "a"\n\n[[inbound]]\nname = "b"\nring = ["801"]\nhangup = true\n'
    assert problems(text) == [
        "ccd.toml:15: inbound[0]: no destination: set one of ring, queue, ivr, voicemail, hangup",
        "ccd.toml:18: inbound[1]: more than one destination (ring, hangup): keep exactly one",
    ]


def test_queue_destinations_are_reserved_until_queues_exist() -> None:
    text = OFFICE + '\n[[inbound]]\nname = "a"\nqueue = "sales"\n'
    assert problems(text) == [
        "ccd.toml:17: inbound[0].queue: unknown queue 'sales' (no queues are configured)"
    ]


def test_passthrough_phones_can_be_rung_and_sat_at() -> None:
    text = """\
    [[drivers]]
    name = "box"
    kind = "sim"
    [[trunks]]
    id = "1"
    driver = "box"
    channel = 0
    passthrough = true
    phone = "803"
    [[inbound]]
    name = "front"
    ring = ["803"]
    [[users]]
    login = "1002"
    extension = "803"
    """
    assert problems(text) == []


def test_a_phone_needs_a_passthrough_line() -> None:
    text = OFFICE.replace("channel = 0\n", 'channel = 0\nphone = "809"\n')
    assert problems(text) == [
        "ccd.toml:9: trunks[0].phone: only pass-through lines have a desk phone (set passthrough = true)"
    ]


def test_tone_plans_structure_and_reference() -> None:
    text = """\
    [daemon]
    tone_plan = "mycountyr"
    [tone_plans.mycountry]
    busy = { freqs = [425.0, -1.0], cadence = [0.5] }
    dial = { cadence = [] }
    """
    assert problems(text) == [
        "ccd.toml:2: daemon.tone_plan: unknown tone plan 'mycountyr' (did you mean 'mycountry'?)",
        "ccd.toml:4: tone_plans.mycountry.busy.freqs[1]: must be greater than 0, got -1",
        "ccd.toml:4: tone_plans.mycountry.busy.cadence: cadence needs on/off pairs (an even number of values), got 1",
        "ccd.toml:5: tone_plans.mycountry.dial: missing required key 'freqs'",
    ]


def test_users_roles_and_unique_logins() -> None:
    text = (
        OFFICE
        + '\n[[users]]\nlogin = "1001"\nrole = "agnet"\n\n[[users]]\nlogin = "1001"\nextension = "808"\n'
    )
    assert problems(text) == [
        "ccd.toml:17: users[0].role: unknown role 'agnet' (did you mean 'agent'?)",
        "ccd.toml:20: users[1].login: duplicate login '1001' (already used by users[0].login on line 16)",
        "ccd.toml:21: users[1].extension: unknown extension '808' (did you mean '801'?)",
    ]


def test_keys_table_takes_strings_only() -> None:
    assert problems('[keys]\nanswer = "f5"\nhangup = 6\n') == [
        'ccd.toml:3: keys.hangup: expected string, got integer 6 (write it in quotes: "6")'
    ]


# -- all at once, never a traceback ------------------------------------------------------


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = """\
    [daemon]
    log_level = "loud"
    [[drivers]]
    name = "office"
    kind = "sim"
    sed = 1
    [[trunks]]
    id = "1"
    driver = "ofice"
    channel = -1
    [[outbound]]
    name = "o"
    hunt = "roundrobin"
    """
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["2", "6", "9", "10", "13"]
    assert len(found) == 5


def test_load_config_raises_one_error_listing_all_problems(tmp_path: Path) -> None:
    path = tmp_path / "ccd.toml"
    path.write_text('[daemon]\nlog_level = "loud"\nsocket = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 2
    assert str(caught.value) == (
        f"{path}:2: daemon.log_level: unknown log level 'loud' (expected one of: debug, info, warning, error)\n"
        f'{path}:3: daemon.socket: expected string, got integer 1 (write it in quotes: "1")'
    )
    assert validate_config(path) == caught.value.problems


def test_unreadable_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    assert [str(p) for p in validate_config(tmp_path / "nope.toml")] == [
        f"{tmp_path / 'nope.toml'}: cannot read: No such file or directory"
    ]
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b'x = "\xff\xfe"\n')
    assert [str(p) for p in validate_config(binary)] == [
        f"{binary}: not UTF-8 text (byte 5): save the file as UTF-8"
    ]
    assert "cannot read" in str(validate_config(tmp_path)[0])  # a folder


def test_config_from_text_uses_the_given_filename() -> None:
    with pytest.raises(ConfigError, match=r"^etc/ccd\.toml:1: syntax error"):
        config_from_text("[[", filename="etc/ccd.toml")


def test_the_dsp_judges_tone_plan_values_at_the_tone_line() -> None:
    pytest.importorskip("ccd.dsp.tones")
    text = "[tone_plans.x]\ndial = { freqs = [425.0] }\nbusy = { freqs = [50.0], cadence = [0.5, 0.5] }\n"
    assert problems(text) == [
        "ccd.toml:3: tone_plans.x.busy: frequency 50.0 must be a number from 100 to 3800 Hz"
    ]


def test_custom_tone_plan_is_what_the_dsp_takes() -> None:
    config = config_from_text(
        "[tone_plans.x]\nbusy = { freqs = [425.0], cadence = [0.5, 0.5], match_segments = 2 }\n"
    )
    assert config.custom_tone_plan("x") == {
        "busy": {"freqs": [425.0], "cadence": [0.5, 0.5], "min_duration": 2.0, "match_segments": 2}
    }
    assert config.custom_tone_plan("cn") is None


def test_a_passthrough_phone_shares_the_line_id_space() -> None:
    text = (
        OFFICE + '\n[[trunks]]\nid = "2"\ndriver = "office"\nchannel = 1\npassthrough = true\nphone = "801"\n'
    )
    assert problems(text) == [
        "ccd.toml:20: trunks[1].phone: duplicate line id '801' (already used by extensions[0].id on line 11)"
    ]


def test_syntax_errors_speak_toml_not_python() -> None:
    assert problems('[[trunks]]\nid = "1"; driver = "office"\n') == [
        "ccd.toml:2: syntax error: expected newline or end of document after a statement (column 9): "
        "TOML has no ';', put each key = value on its own line"
    ]
    assert problems("[daemon]\n[daemon]\n") == [
        "ccd.toml:2: syntax error: cannot declare [daemon] twice (column 8)"
    ]


def test_common_shape_mistakes_get_a_fix() -> None:
    text = OFFICE + '\n[[inbound]]\nname = "a"\nring = "801"\n\n[[users]]\nlogin = ""\n'
    assert problems(text) == [
        'ccd.toml:17: inbound[0].ring: expected array, got string "801" (write it as a list: ["801"])',
        "ccd.toml:20: users[0].login: must not be empty",
    ]
    assert problems('[daemon]\nsocket = ""\n') == ["ccd.toml:2: daemon.socket: must not be empty"]
    assert problems("drivers = [1]\n") == ["ccd.toml:1: drivers[0]: expected table, got integer 1"]
