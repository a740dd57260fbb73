"""A hand-computed morning in queue "sales" (T = 20 s, S = 5 s, wrap-up 10 s), shared by the
metrics, report and wallboard tests. Times are seconds after 09:00 Beijing on 2026-01-05.

| call | what happens | counts as |
|---|---|---|
| c1 | waits 10 s, agent 1001 talks 60 s | answered within T |
| c2 | hangs up after 3 s | short abandon (≤ S) |
| c3 | hangs up after 30 s | abandoned, after T |
| c4 | hangs up after 15 s | abandoned, before T |
| c5 | waits 35 s, agent 1002 talks 60 s, blind transfer | answered late, transferred |
| c6 | asks for a callback, connected 250 s after joining, 30 s talk | callback: out of SL and ASA |

SL = 1 / (2 + 1) = 33.3 %; abandon rate = 2 / (3 + 2) = 40.0 %; ASA = (10 + 35) / 2 = 22.5 s;
handled 3, talk 150 s, wrap-up 10 + 10 + 5 = 25 s (1001 pauses 5 s into the second one),
AHT = 175 / 3 = 58.3 s.
"""

from __future__ import annotations

from ccd.metrics.definitions import Thresholds
from ccd.metrics.journal import Row

DAY = 1767542400.0  # 2026-01-05 00:00 Beijing
T0 = DAY + 9 * 3600  # 09:00
END = T0 + 2000  # "now" for the scenario
THRESHOLDS = Thresholds(service_level=20.0, short_abandon=5.0, sl_target=80.0)

TOML = """
[[queues]]
name = "sales"
wrap_up = 10.0
service_level = 20.0

[metrics]
short_abandon = 5.0
"""


def r(t: float, callid: str, queue: str, agent: str, event: str, *data: object) -> Row:
    return Row(T0 + t, callid, queue, agent, event, tuple(str(d) for d in data))


BEFORE = [  # yesterday evening: 1002 signed in and went to a meeting, never signed out
    Row(DAY - 7 * 3600, None, None, "1002", "AGENTLOGIN", ("Local/802",)),
    Row(DAY - 6 * 3600, None, None, "1002", "PAUSE", ("meeting",)),
]

ROWS = [
    r(-60, "NONE", "NONE", "Agent/1001", "AGENTLOGIN", "Local/801"),
    r(0, "c1", "sales", "NONE", "ENTERQUEUE", "", "13800000001", 1),
    r(0, "NONE", "NONE", "Agent/1002", "UNPAUSE", ""),
    r(5, "c2", "sales", "NONE", "ENTERQUEUE", "", "13800000002", 2),
    r(8, "c2", "sales", "NONE", "ABANDON", 2, 2, 3),
    r(10, "c1", "sales", "Agent/1001", "CONNECT", 10, "c1-801", 2),
    r(20, "c3", "sales", "NONE", "ENTERQUEUE", "", "13800000003", 1),
    r(30, "c4", "sales", "NONE", "ENTERQUEUE", "", "13800000004", 2),
    r(40, "c5", "sales", "NONE", "ENTERQUEUE", "", "13800000005", 3),
    r(45, "c4", "sales", "NONE", "ABANDON", 2, 2, 15),
    r(50, "c3", "sales", "NONE", "ABANDON", 1, 1, 30),
    r(50, "c6", "sales", "NONE", "ENTERQUEUE", "", "13800000006", 2),
    r(60, "c6", "sales", "NONE", "CALLBACK", "13800000006", 2),
    r(70, "c1", "sales", "Agent/1001", "COMPLETECALLER", 10, 60, 1),
    r(75, "c5", "sales", "Agent/1002", "CONNECT", 35, "c5-802", 3),
    r(135, "c5", "sales", "Agent/1002", "BLINDTRANSFER", "803", "extension", 35, 60, 3),
    r(300, "c6", "sales", "Agent/1001", "CONNECT", 250, "cb6", 4),
    r(330, "c6", "sales", "Agent/1001", "COMPLETEAGENT", 250, 30, 2),
    r(335, "NONE", "NONE", "Agent/1001", "PAUSE", "lunch"),
    r(935, "NONE", "NONE", "Agent/1001", "UNPAUSE", ""),
    r(1000, "NONE", "NONE", "Agent/1001", "AGENTLOGOFF", "Local/801", ""),
]


def journal_tuples(rows: list[Row]) -> list[tuple]:
    """Rows as `Journal.append_many` takes them."""
    return [(x.ts, x.callid, x.queue, x.agent, x.event, x.data) for x in rows]
