"""IVR flows as data, and the call application that walks a caller through one (sans-IO).

A flow is a TOML file of named nodes, the seed's node list (003: PLAY ONLY, PLAY DIGIT,
PLAY NUMBER, PLAY OPTION, SELECT LANGUAGE, ACCESS DB, VAR COMPARE, USER STOP FLOW, STOP
FLOW) under the names people know from FreeSWITCH and Asterisk:

    start = "welcome"
    [vars]                       # the flow's own variables and their initial values
    order = ""

    [nodes.welcome]
    type = "play"
    prompts = ["welcome"]
    next = "menu"

    [nodes.menu]
    type = "menu"
    prompts = ["menu_main"]
    options = { "1" = "ask_order", "0" = "agent", "*" = "menu" }
    on_fail = "agent"            # after `retries` invalid or missing keys (default: hang up)

Node types (`NODE_TYPES`): play, play_digits, play_number, menu, select_language, lookup,
compare, set, goto, and the exits queue, extension, voicemail, external, hangup. Strings in
`value`, `left`, `right`, `args` and `set` expand ``${NAME}``: the flow's variables, lookup
results and the seed's macros ANI, DNIS, DATE (YYYYMMDD), TIME (hhmmss), DATETIME.

The caller may hang up at any point: the flow stops where it is, its timers die with the
call, and the path walked so far is kept (the seed's USER STOP FLOW). Every choice is
appended to ``call.vars["ivr_path"]`` ("menu=1", "ask_order=12345") so the agent's screen
pop shows how the caller got there; the path is stored with the CDR when the flow ends.

`check_flow` finds what would strand a caller — unknown node types or keys, dangling
references, unreachable nodes, missing prompts, loops with no way out — each with the
file and line, so `ccd ivr validate` and a reload can refuse a broken flow before a caller
meets it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tomllib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccd.config.locate import LineLocator
from ccd.config.problems import Problem, did_you_mean
from ccd.telephony import say
from ccd.telephony.apps import CallApp, CallControl
from ccd.telephony.services import Request, Result, Submit

if TYPE_CHECKING:
    from ccd.telephony.engine import Call

log = logging.getLogger(__name__)

EXITS = ("queue", "extension", "voicemail", "external", "hangup")
INSTANT = ("set", "goto", "compare", "lookup")  # nodes that do not wait for the caller
REF_KEYS = ("next", "on_fail", "found", "not_found", "error", "then", "else")
NUMBER_STYLES = ("number", "digits", "amount", "date", "time")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "startswith", "empty", "not_empty")
QUERIES = ("customer_by_ani", "order_status")
MAX_INSTANT_STEPS = 100

_COLLECT = {"timeout": 5.0, "retries": 3, "invalid": ["invalid"], "timeout_prompts": ["timeout"]}

#: type -> (required keys, optional keys with defaults)
NODE_TYPES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "play": (("prompts", "next"), {}),
    "play_digits": (
        ("prompts", "var", "next"),
        {"min": 1, "max": 20, "terminator": "#", "pattern": "", "on_fail": None, **_COLLECT},
    ),
    "play_number": (("value", "next"), {"as": "number", "before": [], "after": []}),
    "menu": (("prompts", "options"), {"on_fail": None, **_COLLECT}),
    "select_language": (("options", "next"), {"prompts": ["select_language"], **_COLLECT}),
    "lookup": (("query", "found", "not_found"), {"args": {}, "into": "", "error": None}),
    "compare": (("left", "op", "then", "else"), {"right": ""}),
    "set": (("vars", "next"), {}),
    "goto": (("next",), {}),
    "queue": (("queue",), {"prompts": []}),
    "extension": (("extension",), {"prompts": []}),
    "voicemail": (("mailbox",), {"prompts": []}),
    "external": (("number",), {"prompts": []}),
    "hangup": ((), {"prompts": []}),
}
_COMMON_KEYS = ("type", "comment")


class FlowError(ValueError):
    """A flow that cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    data: dict[str, Any]

    def get(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        return NODE_TYPES[self.type][1].get(key)

    def refs(self) -> list[tuple[str, str]]:
        """(key, target node) for every node this one can lead to."""
        out = [(k, self.data[k]) for k in REF_KEYS if isinstance(self.data.get(k), str)]
        if self.type == "menu" and isinstance(self.data.get("options"), dict):
            out += [(f"options.{d}", t) for d, t in self.data["options"].items() if isinstance(t, str)]
        return out


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    nodes: dict[str, Node]
    vars: dict[str, str] = field(default_factory=dict)
    lang: str | None = None
    file: str = ""

    def prompts(self) -> set[str]:
        """Every prompt name the flow plays (for validation against the voices)."""
        names: set[str] = set()
        for node in self.nodes.values():
            for key in ("prompts", "invalid", "timeout_prompts", "before", "after"):
                value = node.data.get(key, NODE_TYPES[node.type][1].get(key))
                if isinstance(value, list):
                    names.update(v for v in value if isinstance(v, str))
        return names


# ---------------------------------------------------------------- loading and checking


def check_flow(
    text: str,
    file: str = "flow.toml",
    *,
    name: str = "",
    prompt_exists: Callable[[str], bool] | None = None,
    known: dict[str, Collection[str]] | None = None,
) -> tuple[Flow | None, list[Problem]]:
    """Parse and check a flow. Returns the flow (None if unusable) and every problem found.

    `known` maps an exit type (queue, extension, voicemail) to the names that exist, so an
    exit to a queue nobody configured is found here rather than by a caller.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+)", str(exc))
        return None, [Problem(file, int(m.group(1)) if m else None, "", f"not valid TOML: {exc}")]
    loc = LineLocator(text)
    problems: list[Problem] = []

    def report(path: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(file, loc.line_of(path), ".".join(map(str, path)), message))

    for key in raw:
        if key not in ("start", "vars", "nodes", "lang", "name"):
            report((key,), f"unknown key '{key}'{did_you_mean(key, ['start', 'vars', 'nodes', 'lang'])}")
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        report(("nodes",), "no nodes: define at least one [nodes.NAME] table")
        return None, problems
    nodes: dict[str, Node] = {}
    for node_name, body in raw_nodes.items():
        path = ("nodes", node_name)
        if not isinstance(body, dict):
            report(path, "a node must be a table")
            continue
        kind = body.get("type")
        if kind not in NODE_TYPES:
            hint = did_you_mean(str(kind), list(NODE_TYPES)) or f" (one of: {', '.join(NODE_TYPES)})"
            report((*path, "type"), f"unknown node type '{kind}'{hint}" if kind else "missing 'type'")
            continue
        required, optional = NODE_TYPES[kind]
        for key in required:
            if key not in body:
                report(path, f"{kind} node '{node_name}' needs '{key}'")
        allowed = (*_COMMON_KEYS, *required, *optional)
        for key in body:
            if key not in allowed:
                report((*path, key), f"unknown key '{key}' for a {kind} node{did_you_mean(key, allowed)}")
        problems += _check_values(kind, node_name, body, report)
        nodes[node_name] = Node(node_name, kind, dict(body))
    start = raw.get("start")
    if not isinstance(start, str) or not start:
        report(("start",), "missing 'start' (the first node)")
        start = next(iter(nodes), "")
    elif start not in raw_nodes:
        report(("start",), f"start node '{start}' is not defined{did_you_mean(start, list(raw_nodes))}")
    # references
    for node in nodes.values():
        for key, target in node.refs():
            if target not in raw_nodes:
                keypath = ("nodes", node.name, *key.split("."))
                report(
                    keypath,
                    f"'{node.name}' leads to undefined node '{target}'{did_you_mean(target, list(raw_nodes))}",
                )
    # reachability and ways out
    graph = {n.name: [t for _, t in n.refs() if t in nodes] for n in nodes.values()}
    reachable = _reach(graph, start) if start in nodes else set()
    for node_name in nodes:
        if node_name not in reachable and start in nodes:
            report(("nodes", node_name), f"node '{node_name}' cannot be reached from '{start}'")
    exits = {n.name for n in nodes.values() if _has_exit(n)}
    reverse: dict[str, list[str]] = {n: [] for n in nodes}
    for src, targets in graph.items():
        for t in targets:
            reverse[t].append(src)
    can_leave = _reach_many(reverse, exits)
    for node_name in sorted(reachable - can_leave):
        report(
            ("nodes", node_name),
            f"loop without an exit: from '{node_name}' no path reaches queue, extension, voicemail, external or hangup",
        )
    instant = {n for n, node in nodes.items() if node.type in INSTANT}
    for cycle_node in sorted(_cycles_within(graph, instant)):
        report(
            ("nodes", cycle_node),
            f"'{cycle_node}' is in a loop that never waits for the caller (only {', '.join(INSTANT)} nodes)",
        )
    # prompts
    flow = Flow(name or Path(file).stem, start, nodes, _vars(raw.get("vars"), report), raw.get("lang"), file)
    if prompt_exists is not None:
        for node in nodes.values():
            for key in ("prompts", "invalid", "timeout_prompts", "before", "after"):
                value = node.data.get(key)
                if isinstance(value, list):
                    for i, prompt in enumerate(value):
                        if isinstance(prompt, str) and not prompt_exists(prompt):
                            report(("nodes", node.name, key, i), f"prompt '{prompt}' is not in the voices")
    for node in nodes.values():
        if known and node.type in known and node.type in _EXIT_KEY:
            key = _EXIT_KEY[node.type]
            value = node.data.get(key)
            names = known[node.type]
            if isinstance(value, str) and "${" not in value and value != "*" and value not in names:
                hint = did_you_mean(value, sorted(names)) or (
                    f" (no {node.type}s are configured)" if not names else ""
                )
                report(("nodes", node.name, key), f"unknown {node.type} '{value}'{hint}")
    problems.sort(key=lambda p: (p.line or 0, p.key_path))
    return flow, problems


def _vars(raw: Any, report: Callable[[tuple[Any, ...], str], None]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        report(("vars",), "[vars] must be a table of name = value")
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def _check_values(kind: str, name: str, body: dict[str, Any], report: Callable[..., None]) -> list[Problem]:
    path = ("nodes", name)
    for key in ("prompts", "invalid", "timeout_prompts", "before", "after"):
        if key in body and not (isinstance(body[key], list) and all(isinstance(x, str) for x in body[key])):
            report((*path, key), f"'{key}' must be a list of prompt names")
    for key in REF_KEYS:
        if key in body and not isinstance(body[key], str):
            report((*path, key), f"'{key}' must be a node name (a string)")
    for key in ("timeout",):
        if key in body and (not isinstance(body[key], int | float) or body[key] <= 0):
            report((*path, key), f"'{key}' must be a number of seconds > 0")
    for key in ("retries", "min", "max"):
        if key in body and (not isinstance(body[key], int) or isinstance(body[key], bool) or body[key] < 0):
            report((*path, key), f"'{key}' must be a whole number >= 0")
    if kind == "play_digits" and isinstance(body.get("min"), int) and isinstance(body.get("max"), int):
        if body["min"] > body["max"]:
            report((*path, "min"), "'min' is larger than 'max'")
    if "options" in body:
        opts = body["options"]
        if not isinstance(opts, dict) or not opts:
            report((*path, "options"), "'options' must be a table of key = target")
        else:
            for digit, target in opts.items():
                if digit not in "0123456789*#" or len(digit) != 1:
                    report((*path, "options", digit), f"option '{digit}' is not a phone key (0-9, *, #)")
                if not isinstance(target, str):
                    report((*path, "options", digit), "an option's target must be a string")
    if kind == "play_number" and body.get("as", "number") not in NUMBER_STYLES:
        report((*path, "as"), f"'as' must be one of {', '.join(NUMBER_STYLES)}")
    if kind == "compare" and body.get("op") not in COMPARE_OPS:
        report((*path, "op"), f"unknown comparison '{body.get('op')}' (one of {', '.join(COMPARE_OPS)})")
    if kind == "lookup" and body.get("query") not in QUERIES:
        report(
            (*path, "query"),
            f"unknown query '{body.get('query')}'{did_you_mean(str(body.get('query')), QUERIES) or ' (one of ' + ', '.join(QUERIES) + ')'}",
        )
    if kind == "set" and "vars" in body and not isinstance(body["vars"], dict):
        report((*path, "vars"), "'vars' must be a table of name = value")
    if kind == "play_digits" and body.get("pattern"):
        try:
            re.compile(body["pattern"])
        except re.error as exc:
            report((*path, "pattern"), f"not a valid regular expression: {exc}")
    return []


def _has_exit(node: Node) -> bool:
    if node.type in EXITS:
        return True
    # collecting nodes without on_fail hang up after their retries; lookups without error
    # go to not_found, which is checked as a reference
    return node.type in ("menu", "play_digits") and not node.data.get("on_fail")


def _reach(graph: dict[str, list[str]], start: str) -> set[str]:
    return _reach_many(graph, {start})


def _reach_many(graph: dict[str, list[str]], starts: Iterable[str]) -> set[str]:
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles_within(graph: dict[str, list[str]], allowed: set[str]) -> set[str]:
    """Nodes of `allowed` lying on a cycle that uses only `allowed` nodes."""
    sub = {n: [t for t in graph[n] if t in allowed] for n in allowed}
    return {n for n in allowed if n in _reach_many(sub, sub[n])}


def load_flow(
    path: str | Path,
    *,
    name: str = "",
    prompt_exists: Callable[[str], bool] | None = None,
    known: dict[str, Collection[str]] | None = None,
) -> Flow:
    """Read and check a flow file. Raises FlowError listing every problem (file and line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowError([Problem(str(p), None, "", f"cannot read: {exc}")]) from None
    flow, problems = check_flow(text, str(p), name=name, prompt_exists=prompt_exists, known=known)
    if problems or flow is None:
        raise FlowError(problems)
    return flow


# ---------------------------------------------------------------- running a flow

_MACRO = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def expand(text: Any, lookup: Callable[[str], str]) -> str:
    """Replace every ``${NAME}`` in `text` by `lookup(NAME)`."""
    return _MACRO.sub(lambda m: lookup(m.group(1)), str(text))


class IvrApp(CallApp):
    """One caller in one flow. Phases: playing, collecting, lookup, done."""

    kind = "ivr"

    def __init__(self, flow: Flow, submit: Submit, tz: dt.tzinfo = dt.UTC) -> None:
        self.flow = flow
        self.submit = submit
        self.tz = tz
        self.node: Node | None = None
        self.phase = "idle"
        self.tries = 0
        self.digits = ""
        self.gen = 0
        self.done = False
        self.after_play: str | None = None  # what a finished prompt leads to: collect | next | exit
        self.bye_pending = False

    # -- variables
    def _vars(self, call: Call) -> dict[str, str]:
        return call.vars.setdefault("ivr_vars", {})

    def _macro(self, ctl: CallControl, call: Call, name: str) -> str:
        local = dt.datetime.fromtimestamp(ctl.wall(), self.tz)
        macros = {
            "ANI": call.src or "",
            "DNIS": call.dst or "",
            "DATE": local.strftime("%Y%m%d"),
            "TIME": local.strftime("%H%M%S"),
            "DATETIME": local.strftime("%Y%m%d%H%M%S"),
            "LANG": call.lang,
        }
        if name in macros:
            return macros[name]
        return str(self._vars(call).get(name, ""))

    def _expand(self, ctl: CallControl, call: Call, text: Any) -> str:
        return expand(text, lambda n: self._macro(ctl, call, n))

    def _path(self, call: Call, step: str) -> None:
        call.vars.setdefault("ivr_path", []).append(step)

    # -- life cycle
    def start(self, ctl: CallControl, call: Call) -> None:
        ctl.answer(call)
        if self.flow.lang:
            call.lang = self.flow.lang
        values = self._vars(call)
        for key, value in self.flow.vars.items():
            values.setdefault(key, self._expand(ctl, call, value))
        call.vars.setdefault("ivr_path", [])
        call.vars["ivr"] = self.flow.name
        self._goto(ctl, call, self.flow.start)

    def stop(self, ctl: CallControl, call: Call) -> None:
        if self.done:
            return
        self.done = True
        self._save_path(call)

    def on_caller_gone(self, ctl: CallControl, call: Call) -> None:
        """USER STOP FLOW: the caller hung up; stop here and keep the path walked so far."""
        if self.done:
            return
        self._path(call, "hangup")
        self.done = True
        self.phase = "done"
        self._save_path(call)

    def _save_path(self, call: Call) -> None:
        path = call.vars.get("ivr_path") or []
        self.submit(Request("ivr_path", {"uniqueid": call.uniqueid, "path": " > ".join(path)}, call.uniqueid))

    def snapshot(self) -> dict[str, Any]:
        return {
            "app": self.kind,
            "flow": self.flow.name,
            "node": self.node.name if self.node else None,
            "phase": self.phase,
        }

    # -- walking the graph
    def _goto(self, ctl: CallControl, call: Call, name: str | None) -> None:
        steps = 0
        while name is not None and not self.done:
            steps += 1
            if steps > MAX_INSTANT_STEPS:
                log.error(
                    "ivr %s: call %s looped %d steps without waiting: hanging up",
                    self.flow.name,
                    call.uniqueid,
                    steps,
                )
                self._finish(ctl, call, "hangup", None)
                return
            node = self.flow.nodes.get(name)
            if node is None:
                log.error("ivr %s: no node %r (call %s): hanging up", self.flow.name, name, call.uniqueid)
                self._finish(ctl, call, "hangup", None)
                return
            self.node, self.tries, self.digits = node, 0, ""
            ctl.cancel_timer(call, "ivr")
            name = self._enter(ctl, call, node)

    def _enter(self, ctl: CallControl, call: Call, node: Node) -> str | None:
        """Start `node`; return the next node for instant ones, None when it waits."""
        t = node.type
        if t == "goto":
            return node.get("next")
        if t == "set":
            values = self._vars(call)
            for key, value in (node.get("vars") or {}).items():
                values[str(key)] = self._expand(ctl, call, value)
                if key == "priority":
                    try:
                        call.vars["priority"] = int(values[key])
                    except ValueError:
                        log.warning("ivr %s: priority %r is not a number", self.flow.name, values[key])
            return node.get("next")
        if t == "compare":
            ok = _compare(
                self._expand(ctl, call, node.get("left")),
                node.get("op"),
                self._expand(ctl, call, node.get("right")),
            )
            return node.get("then") if ok else node.get("else")
        if t == "lookup":
            self._lookup(ctl, call, node)
            return None
        if t in EXITS:
            self._play(ctl, call, node.get("prompts") or [], "exit")
            if not node.get("prompts"):
                self._exit(ctl, call, node)
            return None
        if t == "play":
            self._play(ctl, call, node.get("prompts"), "next")
            return None
        if t == "play_number":
            names = [*node.get("before"), *self._number_prompts(ctl, call, node), *node.get("after")]
            self._play(ctl, call, names, "next")
            return None
        # menu, select_language, play_digits: prompt, then collect
        self._play(ctl, call, node.get("prompts"), "collect")
        self.phase = "collecting"  # keys pressed during the prompt count (barge-in)
        return None

    def _number_prompts(self, ctl: CallControl, call: Call, node: Node) -> list[str]:
        value = self._expand(ctl, call, node.get("value")).strip()
        style = node.get("as")
        lang = call.lang if call.lang in ("zh", "en") else "zh"
        try:
            if style == "digits":
                return say.say_digits(value, lang)
            if style == "amount":
                return say.say_amount(value, lang)
            if style == "date":
                return say.say_date(dt.date.fromisoformat(_iso_date(value)), lang)
            if style == "time":
                return say.say_time(dt.time.fromisoformat(_iso_time(value)), lang)
            return say.say_number(int(value), lang)
        except (ValueError, TypeError, ArithmeticError) as exc:
            log.warning(
                "ivr %s node %s: cannot say %r as %s: %s", self.flow.name, node.name, value, style, exc
            )
            return []

    def _play(self, ctl: CallControl, call: Call, names: list[str], then: str) -> None:
        self.gen += 1
        self.after_play = then
        self.phase = "playing"
        if names:
            ctl.play_prompts(call, names, f"ivr{self.gen}")
        elif then != "exit":
            self.on_play_done(ctl, call, f"ivr{self.gen}")

    def on_play_done(self, ctl: CallControl, call: Call, tag: str) -> None:
        """A prompt ended: go on, start collecting, re-prompt, or leave."""
        if self._bye_done(ctl, call, tag):
            return
        if self.done or tag != f"ivr{self.gen}" or self.node is None:
            return
        node, then = self.node, self.after_play
        self.after_play = None
        if then == "next":
            self._goto(ctl, call, node.get("next"))
        elif then == "exit":
            self._exit(ctl, call, node)
        elif then == "collect":
            self.phase = "collecting"
            if not self.digits:
                ctl.set_timer(call, float(node.get("timeout")), "ivr")
        elif then == "retry":
            # re-prompt after the invalid/timeout message
            self._play(ctl, call, node.get("prompts"), "collect")
            self.phase = "collecting"

    def on_timer(self, ctl: CallControl, call: Call, tag: str) -> None:
        if self._bye_done(ctl, call, tag):
            return
        if self.done or tag != "ivr" or self.node is None or self.phase != "collecting":
            return
        node = self.node
        if node.type == "play_digits" and self.digits:
            self._digits_done(ctl, call, node)
            return
        self._retry(ctl, call, node, node.get("timeout_prompts"), "timeout")

    def on_digit(self, ctl: CallControl, call: Call, digit: str) -> None:
        if self.done or self.node is None or self.phase != "collecting":
            return
        node = self.node
        if self.after_play == "collect":  # barge-in: the caller knows what to press
            ctl.stop_play(call)
            self.after_play = None
        ctl.cancel_timer(call, "ivr")
        if node.type == "play_digits":
            if digit == node.get("terminator"):
                self._digits_done(ctl, call, node)
                return
            self.digits += digit
            if len(self.digits) >= int(node.get("max")):
                self._digits_done(ctl, call, node)
            else:
                ctl.set_timer(call, float(node.get("timeout")), "ivr")
            return
        options = node.get("options") or {}
        target = options.get(digit)
        if target is None:
            self._retry(ctl, call, node, node.get("invalid"), f"invalid:{digit}")
            return
        if node.type == "select_language":
            call.lang = str(target)
            self._path(call, f"{node.name}={digit}")
            self._goto(ctl, call, node.get("next"))
            return
        self._path(call, f"{node.name}={digit}")
        self._goto(ctl, call, target)

    def _digits_done(self, ctl: CallControl, call: Call, node: Node) -> None:
        digits, self.digits = self.digits, ""
        pattern = node.get("pattern")
        if len(digits) < int(node.get("min")) or (pattern and not re.fullmatch(pattern, digits)):
            self._retry(ctl, call, node, node.get("invalid"), "invalid")
            return
        self._vars(call)[str(node.get("var"))] = digits
        self._path(call, f"{node.name}={digits}")
        self._goto(ctl, call, node.get("next"))

    def _retry(self, ctl: CallControl, call: Call, node: Node, prompts: list[str], why: str) -> None:
        self.tries += 1
        self.digits = ""
        if self.tries >= int(node.get("retries")):
            self._path(call, f"{node.name}!{why.split(':')[0]}")
            fail = node.get("on_fail")
            if fail:
                self._goto(ctl, call, fail)
            elif node.type == "select_language":
                self._goto(ctl, call, node.get("next"))  # keep the default language
            else:
                self._finish(ctl, call, "hangup", ["goodbye"])
            return
        self._play(ctl, call, list(prompts or []), "retry")

    # -- lookups
    def _lookup(self, ctl: CallControl, call: Call, node: Node) -> None:
        self.phase = "lookup"
        self.gen += 1
        gen = self.gen
        args = {str(k): self._expand(ctl, call, v) for k, v in (node.get("args") or {}).items()}
        args.setdefault("ani", call.src or "")

        def reply(ctl2: CallControl, result: Result) -> None:
            if self.done or gen != self.gen or call.app is not self or call.end is not None:
                return
            self.on_lookup(ctl2, call, node, result)

        self.submit(Request("lookup", {"query": node.get("query"), "args": args}, call.uniqueid, reply))

    def on_lookup(self, ctl: CallControl, call: Call, node: Node, result: Result) -> None:
        """The store answered a lookup node: results into variables, then found/not_found/error."""
        if not result.ok:
            log.warning("ivr %s node %s: lookup failed: %s", self.flow.name, node.name, result.error)
            self._path(call, f"{node.name}!error")
            self._goto(ctl, call, node.get("error") or node.get("not_found"))
            return
        if not result.value:
            self._path(call, f"{node.name}!not_found")
            self._goto(ctl, call, node.get("not_found"))
            return
        prefix = str(node.get("into") or "")
        values = self._vars(call)
        for key, value in dict(result.value).items():
            values[f"{prefix}{key}"] = "" if value is None else str(value)
        self._goto(ctl, call, node.get("found"))

    # -- leaving
    def _bye_done(self, ctl: CallControl, call: Call, tag: str) -> bool:
        if tag == "bye" and self.bye_pending:
            self.bye_pending = False
            ctl.hangup(call)
            return True
        return False

    def _exit(self, ctl: CallControl, call: Call, node: Node) -> None:
        t = node.type
        if t == "hangup":
            self._finish(ctl, call, "hangup", None)
            return
        target = self._expand(ctl, call, node.get(_EXIT_KEY[t]))
        if t == "voicemail" and target == "*":
            self._finish(ctl, call, "mailbox", None)
            return
        self._finish(ctl, call, t, target)

    def _finish(self, ctl: CallControl, call: Call, kind: str, target: Any) -> None:
        self._path(call, kind if not isinstance(target, str) else f"{kind}:{target}")
        self.phase = "done"
        if kind == "hangup" and isinstance(target, list):
            # a goodbye first, then hang up
            self.done = True
            self._save_path(call)
            ctl.play_prompts(call, target, "bye")
            ctl.set_timer(call, 6.0, "bye")  # in case the prompt never reports its end
            self.bye_pending = True
            return
        self.done = True
        self._save_path(call)
        ctl.route(call, kind, target if isinstance(target, str) else None)


_EXIT_KEY = {"queue": "queue", "extension": "extension", "voicemail": "mailbox", "external": "number"}


def _compare(left: str, op: str, right: str) -> bool:
    if op == "empty":
        return left == ""
    if op == "not_empty":
        return left != ""
    if op == "in":
        return left in [x.strip() for x in right.split(",")]
    if op == "startswith":
        return left.startswith(right)
    if op in ("==", "!="):
        same = left == right
        try:
            same = float(left) == float(right)
        except ValueError:
            pass
        return same if op == "==" else not same
    try:
        a, b = float(left), float(right)
    except ValueError:
        a, b = left, right  # type: ignore[assignment]
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _iso_date(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return value


def _iso_time(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) in (4, 6):
        return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    return value
