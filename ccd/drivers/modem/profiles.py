"""Chipset profiles: what differs between voice modems that all claim V.253.

Each profile is data (HARDWARE.md §1): how to recognise the modem (USB VID:PID, `ATI0`),
what to send after `ATZ`, which `+VSM` codec to prefer, how `+VTS` wants DTMF and tones,
which end-of-data sequence works, whether it records and plays at once, and whether its own
busy detector can be trusted on Chinese 450 Hz busy tone.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccd.drivers.modem import dle
from ccd.drivers.modem.audio import Codec

# DTMF row/column frequencies, for modems that only take +VTS=[f1,f2,dur]
DTMF_FREQS: dict[str, tuple[int, int]] = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


_UNSIGNED_PCM = Codec("u8", 1, "UNSIGNED PCM")


@dataclass(frozen=True, slots=True)
class ModemProfile:
    name: str
    label: str
    usb_ids: tuple[tuple[int, int], ...] = ()
    ati0: tuple[str, ...] = ()  # ATI0 answers that identify the chipset (exact match)
    init: tuple[str, ...] = ("ATE0", "ATV1", "ATQ0", "ATM0", "AT+FCLASS=0")
    cid_commands: tuple[str, ...] = ("AT+VCID=1", "AT#CID=1")  # first that answers OK wins
    cid_raw_commands: tuple[str, ...] = ("AT+VCID=2", "AT#CID=2")
    codec_preference: tuple[str, ...] = ("ulaw", "alaw", "u8", "s8", "s16")
    default_codec: Codec = _UNSIGNED_PCM  # when +VSM=? gives nothing usable
    vsm_format: str = "AT+VSM={id},8000,0,0"
    vts_form: str = "digit"  # digit: +VTS=5 | braces: +VTS={5,10} | pair: +VTS=[770,1336,10]
    tone_form: str = "[{f1},,{dur}]"  # a single tone (f2 empty); USR needs f2 == f1
    vls_line: int = 1
    vls_record: int = 1  # USR new firmware records nothing unless VLS=5 (line + speaker)
    vsd_off: str = "AT+VSD=128,0"
    end_tx: bytes = dle.END_TX
    end_rx: bytes = dle.END_RX
    full_duplex: bool = False  # plays and records at once (+VTR)
    detects_cn_busy: bool = False  # its <DLE>b fires on 450 Hz 350/350: unverified anywhere, so no
    spurious_handset_off: bool = False  # sends <DLE>H right after AT+VLS=1 (USR)
    voice_ring_dle: bool = False  # in +FCLASS=8 rings come as <DLE>R, not RING (Conexant)

    def vsm_command(self, codec: Codec) -> str:
        return self.vsm_format.format(id=codec.vsm_id)

    def vts_commands(self, digits: str, dur_10ms: int = 10) -> list[str]:
        """One command per digit: every chipset accepts that, not every one takes lists."""
        cmds = []
        for d in digits.upper():
            if d not in DTMF_FREQS:
                continue
            if self.vts_form == "pair":
                f1, f2 = DTMF_FREQS[d]
                cmds.append(f"AT+VTS=[{f1},{f2},{dur_10ms}]")
            elif self.vts_form == "braces":
                cmds.append(f"AT+VTS={{{d},{dur_10ms}}}")
            else:
                cmds.append(f"AT+VTS={d}")
        return cmds

    def tone_command(self, freq: int, dur_10ms: int) -> str:
        return "AT+VTS=" + self.tone_form.format(f1=freq, dur=dur_10ms)


USR5637 = ModemProfile(
    name="usr5637",
    label="U.S. Robotics 5637 (USB)",
    usb_ids=((0x0BAF, 0x0303),),
    ati0=("5601",),
    codec_preference=("u8", "ulaw", "alaw", "s16"),  # 128,8000 is what mgetty and callattendant use
    default_codec=Codec("u8", 128, "8-BIT LINEAR"),
    vsm_format="AT+VSM={id},8000",
    vts_form="pair",  # AT+VTS=9 gives no response at all on the USR
    tone_form="[{f1},{f1},{dur}]",  # [933,0,120] is ERROR on some USR firmware
    vls_record=5,
    vsd_off="AT+VSD=128,0",
    spurious_handset_off=True,
)

CONEXANT = ModemProfile(
    name="cx93001",
    label="Conexant CX93001 class (USB)",
    usb_ids=((0x0572, 0x1349), (0x0572, 0x1329)),
    ati0=("56000",),
    codec_preference=("u8", "ulaw", "alaw", "s16"),  # 1,8000,0,0 is what callattendant and Asterisk use
    default_codec=Codec("u8", 1, "UNSIGNED PCM"),
    vsm_format="AT+VSM={id},8000,0,0",
    vts_form="braces",
    tone_form="[{f1},0,{dur}]",
    vsd_off="AT+VSD=0,0",
    end_tx=dle.END_TX_TRIPLE,  # emxsys/callattendant#94
    end_rx=dle.END_RX_TRIPLE,
    voice_ring_dle=True,
)

GENERIC = ModemProfile(name="generic", label="generic V.253 voice modem")

PROFILES: dict[str, ModemProfile] = {p.name: p for p in (USR5637, CONEXANT, GENERIC)}
PROFILE_ALIASES = {"conexant": "cx93001", "usr": "usr5637", "v253": "generic"}
KNOWN_USB_IDS: dict[tuple[int, int], ModemProfile] = {uid: p for p in PROFILES.values() for uid in p.usb_ids}


def profile_for_ati(ati0: str) -> ModemProfile | None:
    """The profile whose `ATI0` answer matches, or None for a modem we do not know."""
    text = ati0.strip()
    for p in PROFILES.values():
        if text in p.ati0:
            return p
    return None


def profile_for_usb(vid: int | None, pid: int | None) -> ModemProfile | None:
    if vid is None or pid is None:
        return None
    return KNOWN_USB_IDS.get((vid, pid))


def country_commands(country: str | None, fallbacks: tuple[str, ...] = ("B5",)) -> list[str]:
    """`+GCI` candidates in order (China is 26; some modems only give Chinese CID with B5)."""
    if not country or country.lower() == "none":
        return []
    seen: list[str] = []
    for code in (country, *fallbacks):
        code = code.upper()
        if code not in seen:
            seen.append(code)
    return [f"AT+GCI={c}" for c in seen]
