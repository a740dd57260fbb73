"""Where calls go: inbound rules by trunk, outbound trunk hunting (pure logic).

Inbound rules are tried in order; the first whose trunk list matches decides. Outbound
rules pick a trunk for a calling extension with the hunting the seeds and DAHDI users
know: `sequential` (first free, in order), `round_robin` (continue after the trunk used
last time, remembered per rule), `random` (seeded, so tests are reproducible).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class InboundRule:
    name: str
    trunks: tuple[str, ...]  # ("*",) matches every trunk
    ring: tuple[str, ...] = ()  # extensions to ring (ring-all)
    queue: str | None = None
    ivr: str | None = None
    voicemail: str | None = None
    hangup: bool = False

    def matches(self, trunk: str) -> bool:
        return "*" in self.trunks or trunk in self.trunks


@dataclass
class OutboundRule:
    name: str
    extensions: tuple[str, ...]
    trunks: tuple[str, ...]
    hunt: str = "sequential"  # sequential | round_robin | random
    prefix: str = ""
    _last: int = field(default=-1, repr=False)

    def matches(self, extension: str) -> bool:
        return "*" in self.extensions or extension in self.extensions


HUNT_STRATEGIES = ("sequential", "round_robin", "random")


class Router:
    def __init__(
        self,
        inbound: Sequence[InboundRule],
        outbound: Sequence[OutboundRule],
        *,
        seed: int = 0,
    ) -> None:
        self.inbound = list(inbound)
        self.outbound = list(outbound)
        self._rng = random.Random(seed)

    def inbound_rule(self, trunk: str, at: float | None = None) -> InboundRule | None:
        """The first rule matching `trunk` (and, for rules with a schedule, the Unix time `at`)."""
        return next((rule for rule in self.inbound if rule.matches(trunk)), None)

    def outbound_rule(self, extension: str) -> OutboundRule | None:
        return next((rule for rule in self.outbound if rule.matches(extension)), None)

    def strip_prefix(self, extension: str, digits: str) -> str | None:
        """The number to dial on the trunk, or None if the outside-line prefix is missing."""
        rule = self.outbound_rule(extension)
        if rule is None:
            return None
        if rule.prefix:
            return digits[len(rule.prefix) :] if digits.startswith(rule.prefix) else None
        return digits

    def hunt(self, extension: str, is_free: Callable[[str], bool]) -> str | None:
        """Pick a free trunk for `extension` by its outbound rule's hunting; None if none is free."""
        rule = self.outbound_rule(extension)
        if rule is None or not rule.trunks:
            return None
        trunks = list(rule.trunks)
        if rule.hunt == "round_robin":
            start = (rule._last + 1) % len(trunks)
            order = trunks[start:] + trunks[:start]
        elif rule.hunt == "random":
            order = trunks[:]
            self._rng.shuffle(order)
        else:
            order = trunks
        for trunk in order:
            if is_free(trunk):
                rule._last = trunks.index(trunk)
                return trunk
        return None
