"""The supervisor reports: one function per report, one shape for all of them.

A `Report` is columns + rows + the parameters it was computed with (period, interval, T,
S per queue), so every output format — rich table, CSV, xlsx, JSON, the wallboard's tab —
can show where a figure came from, and an old export still says which T it used.

Reports read the store's aggregate queries (`ccd.store.reports`) and apply the formulas of
`ccd.metrics.formulas`; nothing here touches sockets or files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ccd.metrics.definitions import DEFINITIONS, Thresholds, thresholds_for, wrap_times
from ccd.metrics.formulas import agent_figures, queue_figures, ratio
from ccd.metrics.journal import QueueCounts, wrap_lookup
from ccd.metrics.period import PeriodError, bucket_label, parse_interval, parse_period, utc_offset


class ReportError(ValueError):
    """A report cannot be made as asked; `code` is one of empty, unknown_queue, unknown_report, bad_args."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: str = "int"  # int, num, pct, secs, time, text, money


@dataclass(slots=True)
class Report:
    name: str
    title: str
    start: float
    end: float
    columns: list[Column]
    rows: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    definitions: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "from": self.start,
            "to": self.end,
            "params": self.params,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": self.rows,
            "definitions": self.definitions,
        }


@dataclass(slots=True)
class Context:
    store: Any
    config: Any
    t0: float
    t1: float
    now: float
    tz: dt.tzinfo
    queue: str | None
    agent: str | None
    interval: str | None

    @property
    def end(self) -> float:
        """Where time stops counting: the period's end, or now for a period still running."""
        return min(self.t1, self.now)

    @property
    def offset(self) -> float:
        return utc_offset(self.tz, self.t0)

    def label(self, bucket: float) -> str:
        return bucket_label(bucket, self.interval, self.tz) if self.interval else ""

    def queries(self) -> Any:
        from ccd.store.reports import ReportQueries

        return ReportQueries.of(self.store)


Builder = Callable[[Context], Awaitable[Report]]
REPORTS: dict[str, tuple[str, Builder]] = {}


def report(name: str, title: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        REPORTS[name] = (title, fn)
        return fn

    return register


def _time(ts: float | None, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _defs(*keys: str) -> list[dict[str, str]]:
    return [
        {"key": d.key, "label": d.label, "formula": d.formula, "config": d.config}
        for d in DEFINITIONS
        if d.key in keys
    ]


# --- traffic ---------------------------------------------------------------------------


@report("traffic", "Traffic by interval")
async def traffic(ctx: Context) -> Report:
    interval = ctx.interval or "1h"
    rows = await ctx.queries().traffic(ctx.t0, ctx.t1, interval, utc_offset(ctx.tz, ctx.t0))
    out = []
    for r in rows:
        b = float(r["bucket"])
        span = max(1.0, min(b + _span(interval, b, ctx.tz), ctx.t1) - max(b, ctx.t0))
        out.append(
            {
                "interval": bucket_label(b, interval, ctx.tz),
                "calls": r["calls"],
                "inbound": r["inbound"],
                "outbound": r["outbound"],
                "internal": r["internal"],
                "answered": r["answered"],
                "missed": r["missed"],
                "talk_min": round(r["talk"] / 60.0, 1),
                "avg_talk": ratio(r["talk"], r["answered"]),
                "answer_delay": None if r["answer_delay"] is None else round(r["answer_delay"], 1),
                "erlangs": round(r["duration"] / span, 2),
            }
        )
    cols = [
        Column("interval", "Interval", "text"),
        Column("calls", "Calls"),
        Column("inbound", "In"),
        Column("outbound", "Out"),
        Column("internal", "Internal"),
        Column("answered", "Answered"),
        Column("missed", "Missed in"),
        Column("talk_min", "Talk min", "num"),
        Column("avg_talk", "Avg talk s", "secs"),
        Column("answer_delay", "Ring s", "secs"),
        Column("erlangs", "Erlangs", "num"),
    ]
    return Report("traffic", "Traffic by interval", ctx.t0, ctx.t1, cols, out, {"interval": interval})


def _span(interval: str, start: float, tz: dt.tzinfo) -> float:
    if interval != "month":
        return {"15m": 900, "30m": 1800, "1h": 3600, "day": 86400, "week": 604800}[interval]
    d = dt.datetime.fromtimestamp(start, tz)
    nxt = dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=tz)
    return nxt.timestamp() - start


# --- queues ----------------------------------------------------------------------------

QUEUE_COLUMNS = [
    Column("offered", "Offered"),
    Column("answered", "Answered"),
    Column("service_level", "SL %", "pct"),
    Column("sl_target", "Target %", "pct"),
    Column("abandoned", "Abandoned"),
    Column("short_abandoned", "Short ab."),
    Column("abandon_rate", "Abandon %", "pct"),
    Column("asa", "ASA s", "secs"),
    Column("aht", "AHT s", "secs"),
    Column("att", "Talk s", "secs"),
    Column("acw", "Wrap s", "secs"),
    Column("max_wait", "Max wait s", "secs"),
    Column("callbacks", "Callbacks"),
    Column("timeouts", "Timeouts"),
    Column("transferred", "Transf."),
    Column("T", "T s", "secs"),
    Column("S", "S s", "secs"),
]


async def known_queue(ctx: Context, queue: str) -> bool:
    if any(q.name == queue for q in getattr(ctx.config, "queues", ()) or ()):
        return True
    return await ctx.queries().queue_exists(queue)


async def queue_counts_sql(ctx: Context) -> dict[tuple[str, float], QueueCounts]:
    """(queue, bucket) -> counts through the SQL aggregate."""
    names = {q.name for q in getattr(ctx.config, "queues", ()) or ()}
    names |= set(getattr(getattr(ctx.config, "metrics", None), "queues", {}) or {})
    th = {n: thresholds_for(ctx.config, n) for n in names}
    default = thresholds_for(ctx.config, None)
    qwrap, awrap = wrap_times(ctx.config)
    rows = await ctx.queries().queue_counts(
        ctx.t0,
        ctx.t1,
        end=ctx.end,
        thresholds={n: (t.service_level, t.short_abandon) for n, t in th.items()},
        default=(default.service_level, default.short_abandon),
        queue_wrap=qwrap,
        agent_wrap=awrap,
        interval=ctx.interval,
        offset=ctx.offset,
        queue=ctx.queue,
    )
    kinds = QueueCounts().as_dict()  # field -> its zero, whose type the value takes
    out: dict[tuple[str, float], QueueCounts] = {}
    for r in rows:
        out[(r["queue"], float(r["bucket"]))] = QueueCounts(
            **{k: type(zero)(r.get(k) or 0) for k, zero in kinds.items()}
        )
    return out


@report("queue", "Queues")
async def queues(ctx: Context) -> Report:
    counts = await queue_counts_sql(ctx)
    rows = []
    totals = QueueCounts()
    used: dict[str, dict[str, float]] = {}
    for (name, bucket), c in sorted(counts.items()):
        t = thresholds_for(ctx.config, name)
        used[name] = {"T": t.service_level, "S": t.short_abandon}
        row = {"queue": name}
        if ctx.interval:
            row["interval"] = ctx.label(bucket)
        row.update(queue_figures(c, t))
        rows.append(row)
        totals.add(c)
    cols = [Column("queue", "Queue", "text")]
    if ctx.interval:
        cols.append(Column("interval", "Interval", "text"))
    params = {
        "interval": ctx.interval,
        "thresholds": used,
        "default": thresholds_for(ctx.config, None).as_dict(),
    }
    if len({r["queue"] for r in rows}) > 1 and not ctx.interval:
        total = {"queue": "(all)", **queue_figures(totals, thresholds_for(ctx.config, None))}
        total["T"] = total["S"] = None  # per-queue thresholds differ; see each row
        total["sl_target"] = None
        total["service_level"] = _weighted_sl(rows)
        rows.append(total)
    keys = ("service_level", "short_abandoned", "abandon_rate", "asa", "aht", "acw", "callbacks")
    return Report("queue", "Queues", ctx.t0, ctx.t1, cols + QUEUE_COLUMNS, rows, params, _defs(*keys))


def _weighted_sl(rows: list[dict[str, Any]]) -> float | None:
    num = sum(r["answered_within"] for r in rows)
    den = sum(r["answered"] - r["callback_answered"] + r["abandoned_after"] for r in rows)
    return ratio(num, den, 100.0)


# --- agents ----------------------------------------------------------------------------


async def agent_time_table(ctx: Context) -> dict[str, Any]:
    """agent -> `AgentTimes` over the period: rollups of migration 4 plus the ragged edges."""
    from ccd.metrics.agent_time import rollup_agent_times
    from ccd.store.reports import AgentRollups

    qwrap, awrap = wrap_times(ctx.config)
    return await rollup_agent_times(
        AgentRollups.of(ctx.store), ctx.t0, ctx.end, wrap_lookup(qwrap, awrap), ctx.agent
    )


@dataclass(frozen=True, slots=True)
class _JRow:
    ts: float
    callid: str | None
    queue: str | None
    agent: str | None
    event: str
    data: tuple[str, ...]

    @classmethod
    def of(cls, r: tuple[Any, ...]) -> _JRow:
        return cls(r[0], r[1], r[2], r[3], r[4], tuple("" if d is None else d for d in r[5:]))


AGENT_COLUMNS = [
    Column("agent", "Agent", "text"),
    Column("name", "Name", "text"),
    Column("first_login", "First sign-in", "time"),
    Column("last_logout", "Last sign-out", "time"),
    Column("logged_in", "Logged in", "secs"),
    Column("ready", "Ready", "secs"),
    Column("on_call", "On call", "secs"),
    Column("wrap_up", "Wrap-up", "secs"),
    Column("not_ready", "Not ready", "secs"),
    Column("not_ready_reasons", "Not ready by reason", "text"),
    Column("answered", "Answered"),
    Column("handled", "Handled"),
    Column("ring_no_answer", "No answer"),
    Column("aht", "AHT s", "secs"),
    Column("occupancy", "Occupancy %", "pct"),
]


async def _names(ctx: Context) -> dict[str, str]:
    try:
        return {u.login: u.name for u in await ctx.store.users.list()}
    except Exception:  # a store without users (tests) still gets its report
        return {}


@report("agent", "Agents: time breakdown and calls (签入签出)")
async def agents(ctx: Context) -> Report:
    times = await agent_time_table(ctx)
    names = await _names(ctx)
    rows = []
    for agent in sorted(times):
        f = agent_figures(times[agent])
        f["name"] = names.get(agent, "")
        f["first_login"] = _time(f["first_login"], ctx.tz)
        f["last_logout"] = _time(f["last_logout"], ctx.tz)
        f["not_ready_reasons"] = ", ".join(f"{k} {_mmss(v)}" for k, v in f.pop("not_ready_by_reason").items())
        rows.append(f)
    return Report(
        "agent",
        REPORTS["agent"][0],
        ctx.t0,
        ctx.t1,
        AGENT_COLUMNS,
        rows,
        {},
        _defs("aht", "acw", "occupancy"),
    )


def _mmss(secs: float) -> str:
    s = round(secs)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@report("signin", "Sign-in / sign-out sessions (签入签出)")
async def signin(ctx: Context) -> Report:
    times = await agent_time_table(ctx)
    names = await _names(ctx)
    rows = []
    for agent in sorted(times):
        for start, stop in times[agent].sessions:
            rows.append(
                {
                    "agent": agent,
                    "name": names.get(agent, ""),
                    "sign_in": _time(start, ctx.tz),
                    "sign_out": _time(stop, ctx.tz) if stop else "(signed in)",
                    "duration": round((stop or ctx.end) - start, 1),
                }
            )
    cols = [
        Column("agent", "Agent", "text"),
        Column("name", "Name", "text"),
        Column("sign_in", "Sign in", "text"),
        Column("sign_out", "Sign out", "text"),
        Column("duration", "Duration", "secs"),
    ]
    return Report("signin", REPORTS["signin"][0], ctx.t0, ctx.t1, cols, rows)


# --- trunks, customers, survey, sales --------------------------------------------------------


@report("trunk", "Trunks: seizures, occupancy, rings without caller ID")
async def trunks(ctx: Context) -> Report:
    rows = await ctx.queries().trunks(ctx.t0, ctx.t1)
    span = max(1.0, ctx.end - ctx.t0)
    labels = {t.id: t.label for t in getattr(ctx.config, "trunks", ()) or ()}
    out = [
        {
            "trunk": r["trunk"],
            "label": labels.get(r["trunk"], ""),
            "seizures": r["seizures"],
            "inbound": r["inbound"],
            "outbound": r["outbound"],
            "answered": r["answered"],
            "busy_min": round(r["duration"] / 60.0, 1),
            "occupancy": ratio(r["duration"], span, 100.0),
            "no_cid": r["no_cid"],
        }
        for r in rows
    ]
    cols = [
        Column("trunk", "Trunk", "text"),
        Column("label", "Label", "text"),
        Column("seizures", "Seizures"),
        Column("inbound", "In"),
        Column("outbound", "Out"),
        Column("answered", "Answered"),
        Column("busy_min", "Busy min", "num"),
        Column("occupancy", "Occupancy %", "pct"),
        Column("no_cid", "No caller ID"),
    ]
    return Report("trunk", REPORTS["trunk"][0], ctx.t0, ctx.t1, cols, out)


@report("customer", "Calls per customer")
async def customers(ctx: Context) -> Report:
    rows = await ctx.queries().customers(ctx.t0, ctx.t1)
    out = [
        {
            "customer": r["name"] or (f"#{r['customer_id']}" if r["customer_id"] else ""),
            "number": r["number"] or "",
            "calls": r["calls"],
            "inbound": r["inbound"],
            "outbound": r["outbound"],
            "answered": r["answered"],
            "talk_min": round(r["talk"] / 60.0, 1),
            "last_call": _time(r["last_call"], ctx.tz),
        }
        for r in rows
    ]
    cols = [
        Column("customer", "Customer", "text"),
        Column("number", "Number (unknown caller)", "text"),
        Column("calls", "Calls"),
        Column("inbound", "In"),
        Column("outbound", "Out"),
        Column("answered", "Answered"),
        Column("talk_min", "Talk min", "num"),
        Column("last_call", "Last call", "text"),
    ]
    return Report("customer", REPORTS["customer"][0], ctx.t0, ctx.t1, cols, out)


@report("survey", "Survey satisfaction")
async def survey(ctx: Context) -> Report:
    rows = await ctx.queries().survey(ctx.t0, ctx.t1)
    out = []
    for r in rows:
        if ctx.agent is not None and (r["agent"] or "").split("/")[-1] != ctx.agent:
            continue
        good = r["s4"] + r["s5"]
        out.append(
            {
                "agent": r["agent"] or "(no agent)",
                "surveys": r["surveys"],
                "average": round(r["average"], 2),
                "satisfied": ratio(good, r["surveys"], 100.0),
                **{f"s{k}": r[f"s{k}"] for k in range(1, 6)},
            }
        )
    cols = [
        Column("agent", "Agent", "text"),
        Column("surveys", "Surveys"),
        Column("average", "Average (1-5)", "num"),
        Column("satisfied", "Satisfied % (4-5)", "pct"),
        *[Column(f"s{k}", f"{k}") for k in range(1, 6)],
    ]
    return Report("survey", REPORTS["survey"][0], ctx.t0, ctx.t1, cols, out)


@report("sales", "Sales by product (产品销售排行)")
async def sales(ctx: Context) -> Report:
    rows = await ctx.queries().sales(ctx.t0, ctx.t1)
    out = [
        {
            "rank": i + 1,
            "sku": r["sku"],
            "product": r["name"],
            "qty": r["qty"],
            "amount": round(r["amount"] / 100.0, 2),
            "orders": r["orders"],
            "customers": r["customers"],
        }
        for i, r in enumerate(rows)
    ]
    cols = [
        Column("rank", "Rank"),
        Column("sku", "SKU", "text"),
        Column("product", "Product", "text"),
        Column("qty", "Qty"),
        Column("amount", "Amount ¥", "money"),
        Column("orders", "Orders"),
        Column("customers", "Customers"),
    ]
    return Report("sales", REPORTS["sales"][0], ctx.t0, ctx.t1, cols, out)


# --- entry point -----------------------------------------------------------------------


async def run_report(
    store: Any,
    config: Any,
    name: str,
    start: str | float | None,
    end: str | float | None,
    *,
    now: float,
    tz: dt.tzinfo,
    queue: str | None = None,
    agent: str | None = None,
    interval: str | None = None,
) -> Report:
    """Build report `name` for [start, end). Raises ReportError with a one-line message."""
    if name not in REPORTS:
        import difflib

        close = difflib.get_close_matches(name, REPORTS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (reports: {', '.join(REPORTS)})"
        raise ReportError("unknown_report", f"no report named {name!r}{hint}")
    try:
        t0, t1 = parse_period(start, end, tz, now)
        iv = parse_interval(interval)
    except PeriodError as exc:
        code = "empty" if str(exc).startswith("empty range") else "bad_args"
        raise ReportError(code, str(exc)) from None
    ctx = Context(store, config, t0, t1, now, tz, queue or None, agent or None, iv)
    if ctx.queue is not None and not await known_queue(ctx, ctx.queue):
        known = sorted(q.name for q in getattr(config, "queues", ()) or ())
        raise ReportError(
            "unknown_queue",
            f"no queue named {ctx.queue!r}" + (f" (queues: {', '.join(known)})" if known else ""),
        )
    if t0 >= now:
        raise ReportError("empty", f"empty range: {_time(t0, tz)} is in the future")
    rep = await REPORTS[name][1](ctx)
    rep.params.setdefault("timezone", str(tz))
    rep.params["period"] = f"{_time(t0, tz)[:16]} → {_time(t1, tz)[:16]}"
    if ctx.queue:
        rep.params["queue"] = ctx.queue
    if ctx.agent:
        rep.params["agent"] = ctx.agent
    if name != "queue":
        rep.params.setdefault("thresholds", {"default": thresholds_for(config, None).as_dict()})
    return rep


def default_thresholds(config: Any) -> Thresholds:
    return thresholds_for(config, None)
