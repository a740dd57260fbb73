"""Numbered schema migrations, run at start.

Registered sqlite-utils style: each is an async function decorated with ``@migration(N)``,
applied once, in order, each in its own transaction, and recorded in ``_migrations``. A
database that has a migration this ccd does not know came from a newer ccd: opening it is
refused rather than risked. Never edit a migration that has shipped; add the next number.

Statements are run one by one (not ``executescript``, which would commit mid-migration).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import NamedTuple

import aiosqlite

from ccd.store.errors import SchemaTooNewError, StoreError

log = logging.getLogger(__name__)

MigrationFn = Callable[[aiosqlite.Connection], Awaitable[None]]


class Migration(NamedTuple):
    number: int
    name: str
    fn: MigrationFn


MIGRATIONS: dict[int, Migration] = {}


def migration(number: int) -> Callable[[MigrationFn], MigrationFn]:
    """Register the decorated coroutine as schema migration `number`."""

    def register(fn: MigrationFn) -> MigrationFn:
        if number in MIGRATIONS:
            raise ValueError(
                f"migration {number} registered twice ({MIGRATIONS[number].name}, {fn.__name__})"
            )
        if number < 1:
            raise ValueError("migration numbers start at 1")
        MIGRATIONS[number] = Migration(number, fn.__name__, fn)
        return fn

    return register


async def _run(db: aiosqlite.Connection, statements: list[str]) -> None:
    for sql in statements:
        await db.execute(sql)


async def apply_migrations(db: aiosqlite.Connection, now: float) -> list[int]:
    """Apply every registered migration not yet recorded; return the numbers applied.

    `db` must be in autocommit mode (isolation_level=None): transactions here are explicit.
    """
    await db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations(number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied REAL NOT NULL)"
    )
    known = max(MIGRATIONS, default=0)
    rows = await db.execute_fetchall("SELECT max(number) FROM _migrations")
    newest = next(iter(rows))[0] or 0
    if newest > known:
        raise SchemaTooNewError(
            f"this database has schema version {newest} but this ccd only knows up to {known}: "
            "it was written by a newer ccd; upgrade ccd or open a backup"
        )
    applied: list[int] = []
    for number in sorted(MIGRATIONS):
        m = MIGRATIONS[number]
        await db.execute("BEGIN IMMEDIATE")
        try:
            # Re-checked inside the write lock: another process may have just applied it.
            done = await db.execute_fetchall("SELECT 1 FROM _migrations WHERE number = ?", (number,))
            if done:
                await db.execute("ROLLBACK")
                continue
            await m.fn(db)
            await db.execute(
                "INSERT INTO _migrations(number, name, applied) VALUES (?, ?, ?)", (number, m.name, now)
            )
            await db.execute("COMMIT")
        except BaseException as exc:
            await db.execute("ROLLBACK")
            if isinstance(exc, StoreError | KeyboardInterrupt | SystemExit):
                raise
            if isinstance(exc, Exception):
                raise StoreError(f"migration {number} ({m.name}) failed: {exc}") from exc
            raise
        log.info("applied migration %d (%s)", number, m.name)
        applied.append(number)
    return applied


@migration(1)
async def m001_initial(db: aiosqlite.Connection) -> None:
    """Users, CDR with legs, the call-event journal, CRM, recordings index, settings."""
    await _run(
        db,
        [
            """CREATE TABLE users(
                id INTEGER PRIMARY KEY,
                login TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
                agent_no TEXT UNIQUE,
                extension TEXT,
                password TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                created REAL NOT NULL)""",
            # --- CRM -------------------------------------------------------------------
            """CREATE TABLE customers(
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                name_fold TEXT NOT NULL,
                company TEXT,
                company_fold TEXT,
                level TEXT NOT NULL DEFAULT 'normal' CHECK (level IN ('normal', 'silver', 'gold', 'vip')),
                tags TEXT NOT NULL DEFAULT '[]',
                gender TEXT CHECK (gender IN ('m', 'f')),
                birthday TEXT,
                birth_md TEXT,
                address TEXT,
                email TEXT,
                owner TEXT,
                custom TEXT NOT NULL DEFAULT '{}',
                created REAL NOT NULL,
                updated REAL NOT NULL)""",
            "CREATE INDEX customers_name ON customers(name_fold)",
            "CREATE INDEX customers_company ON customers(company_fold) WHERE company_fold IS NOT NULL",
            "CREATE INDEX customers_birth ON customers(birth_md, owner) WHERE birth_md IS NOT NULL",
            """CREATE TABLE customer_tags(
                tag TEXT NOT NULL,
                customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                PRIMARY KEY (tag, customer_id)) WITHOUT ROWID""",
            "CREATE INDEX customer_tags_customer ON customer_tags(customer_id)",
            """CREATE TABLE contacts(
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                title TEXT,
                email TEXT,
                note TEXT,
                created REAL NOT NULL)""",
            "CREATE INDEX contacts_customer ON contacts(customer_id)",
            # e164 holds the lookup key: E.164 for a valid number, else its bare digits.
            # local is the subscriber number (fixed line without area code; a mobile as is).
            """CREATE TABLE customer_numbers(
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
                raw TEXT NOT NULL,
                e164 TEXT NOT NULL,
                national TEXT NOT NULL,
                local TEXT NOT NULL,
                label TEXT)""",
            "CREATE INDEX customer_numbers_e164 ON customer_numbers(e164)",
            "CREATE INDEX customer_numbers_local ON customer_numbers(local)",
            "CREATE INDEX customer_numbers_customer ON customer_numbers(customer_id)",
            """CREATE TABLE custom_fields(
                name TEXT PRIMARY KEY,
                label TEXT NOT NULL,
                type TEXT NOT NULL CHECK (type IN ('text', 'int', 'date', 'choice')),
                choices TEXT NOT NULL DEFAULT '[]',
                required INTEGER NOT NULL DEFAULT 0,
                position INTEGER NOT NULL DEFAULT 0)""",
            # --- calls -----------------------------------------------------------------
            """CREATE TABLE calls(
                uniqueid TEXT PRIMARY KEY,
                linkedid TEXT,
                direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
                start REAL NOT NULL,
                answer REAL,
                "end" REAL,
                duration INTEGER,
                billsec INTEGER,
                src TEXT,
                dst TEXT,
                clid TEXT,
                caller_name TEXT,
                location TEXT,
                channel TEXT,
                dstchannel TEXT,
                trunk TEXT,
                queue TEXT,
                agent TEXT,
                disposition TEXT CHECK (disposition IN ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CONGESTION')),
                userfield TEXT,
                ivr_path TEXT,
                wait_time REAL,
                survey_score INTEGER,
                customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
                peer_key TEXT)""",
            "CREATE INDEX calls_start ON calls(start)",
            "CREATE INDEX calls_linkedid ON calls(linkedid)",
            "CREATE INDEX calls_customer ON calls(customer_id) WHERE customer_id IS NOT NULL",
            "CREATE INDEX calls_peer ON calls(peer_key, start)",
            'CREATE INDEX calls_open ON calls(start) WHERE "end" IS NULL',
            """CREATE TABLE legs(
                call_uniqueid TEXT NOT NULL REFERENCES calls(uniqueid) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                channel TEXT NOT NULL,
                peer TEXT,
                kind TEXT NOT NULL,
                start REAL NOT NULL,
                answer REAL,
                "end" REAL,
                disposition TEXT,
                agent TEXT,
                PRIMARY KEY (call_uniqueid, seq)) WITHOUT ROWID""",
            """CREATE TABLE journal(
                id INTEGER PRIMARY KEY,
                ts REAL NOT NULL,
                callid TEXT,
                queue TEXT,
                agent TEXT,
                event TEXT NOT NULL,
                data1 TEXT, data2 TEXT, data3 TEXT, data4 TEXT, data5 TEXT)""",
            "CREATE INDEX journal_ts ON journal(ts)",
            "CREATE INDEX journal_callid ON journal(callid, ts)",
            # --- notes, orders, reminders ------------------------------------------------
            """CREATE TABLE note_categories(
                name TEXT PRIMARY KEY,
                label TEXT NOT NULL,
                position INTEGER NOT NULL DEFAULT 0,
                disabled INTEGER NOT NULL DEFAULT 0)""",
            """CREATE TABLE notes(
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                call_uniqueid TEXT REFERENCES calls(uniqueid) ON DELETE SET NULL,
                author TEXT NOT NULL,
                category TEXT REFERENCES note_categories(name) ON UPDATE CASCADE,
                status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'follow_up', 'closed')),
                text TEXT NOT NULL,
                follow_up_at REAL,
                created REAL NOT NULL,
                updated REAL NOT NULL)""",
            "CREATE INDEX notes_customer ON notes(customer_id, created)",
            "CREATE INDEX notes_call ON notes(call_uniqueid) WHERE call_uniqueid IS NOT NULL",
            """CREATE TABLE products(
                id INTEGER PRIMARY KEY,
                sku TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                price INTEGER NOT NULL CHECK (price >= 0),
                disabled INTEGER NOT NULL DEFAULT 0)""",
            """CREATE TABLE orders(
                id INTEGER PRIMARY KEY,
                customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                no TEXT UNIQUE,
                status TEXT NOT NULL DEFAULT 'new'
                    CHECK (status IN ('new', 'paid', 'shipped', 'done', 'cancelled')),
                created REAL NOT NULL,
                total INTEGER NOT NULL DEFAULT 0,
                author TEXT,
                note TEXT)""",
            "CREATE INDEX orders_customer ON orders(customer_id, created)",
            """CREATE TABLE order_lines(
                order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
                line INTEGER NOT NULL,
                product_id INTEGER NOT NULL REFERENCES products(id),
                qty INTEGER NOT NULL CHECK (qty > 0),
                price INTEGER NOT NULL CHECK (price >= 0),
                PRIMARY KEY (order_id, line)) WITHOUT ROWID""",
            """CREATE TABLE reminders(
                id INTEGER PRIMARY KEY,
                user TEXT NOT NULL,
                customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
                note_id INTEGER REFERENCES notes(id) ON DELETE CASCADE,
                kind TEXT NOT NULL CHECK (kind IN ('follow_up', 'birthday', 'memo')),
                due REAL NOT NULL,
                text TEXT NOT NULL,
                done INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX reminders_user ON reminders(user, done, due)",
            # --- recordings and settings --------------------------------------------------
            """CREATE TABLE recordings(
                id INTEGER PRIMARY KEY,
                call_uniqueid TEXT REFERENCES calls(uniqueid) ON DELETE SET NULL,
                leg INTEGER,
                path TEXT NOT NULL UNIQUE,
                format TEXT NOT NULL,
                channels INTEGER NOT NULL DEFAULT 1,
                start REAL NOT NULL,
                duration REAL NOT NULL DEFAULT 0,
                bytes INTEGER NOT NULL DEFAULT 0,
                deleted_at REAL)""",
            "CREATE INDEX recordings_call ON recordings(call_uniqueid)",
            "CREATE INDEX recordings_live ON recordings(start) WHERE deleted_at IS NULL",
            """CREATE TABLE settings(
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated REAL NOT NULL)""",
        ],
    )


@migration(2)
async def m002_callcenter(db: aiosqlite.Connection) -> None:
    """Voicemail messages, the call firewall list and its log, the queue of a recording."""
    await _run(
        db,
        [
            """CREATE TABLE voicemail(
                id INTEGER PRIMARY KEY,
                mailbox TEXT NOT NULL,
                call_uniqueid TEXT REFERENCES calls(uniqueid) ON DELETE SET NULL,
                caller TEXT,
                path TEXT NOT NULL,
                created REAL NOT NULL,
                duration REAL NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'saved', 'deleted')))""",
            "CREATE INDEX voicemail_box ON voicemail(mailbox, status, created)",
            """CREATE TABLE firewall(
                id INTEGER PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('number', 'prefix', 'regex', 'withheld', 'out_of_area')),
                value TEXT NOT NULL DEFAULT '',
                action TEXT NOT NULL,
                target TEXT,
                note TEXT,
                created REAL NOT NULL,
                hits INTEGER NOT NULL DEFAULT 0,
                last_hit REAL,
                UNIQUE(kind, value))""",
            """CREATE TABLE firewall_log(
                id INTEGER PRIMARY KEY,
                ts REAL NOT NULL,
                rule_id INTEGER REFERENCES firewall(id) ON DELETE SET NULL,
                number TEXT,
                trunk TEXT,
                action TEXT NOT NULL,
                call_uniqueid TEXT)""",
            "CREATE INDEX firewall_log_ts ON firewall_log(ts)",
            "ALTER TABLE recordings ADD COLUMN queue TEXT",
        ],
    )


# Handled calls end an agent's part of a queue call; WRAPUPEND (ccd's own row) ends the wrap-up.
_HANDLED_SQL = "('COMPLETEAGENT', 'COMPLETECALLER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')"
_QUEUE_EVENTS_SQL = (
    "('ENTERQUEUE', 'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITWITHKEY', 'EXITEMPTY', 'CALLBACK', "
    "'RINGNOANSWER', 'COMPLETEAGENT', 'COMPLETECALLER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')"
)
_BUCKET = "(CAST({ts} / 900 AS INTEGER) * 900.0)"


def _calls_rollup_sql(sign: str, row: str) -> str:
    """Add (sign '+') or take away (sign '-') one calls row (NEW or OLD) from `rollup_calls`."""
    s = "1" if sign == "+" else "-1"
    return f"""INSERT INTO rollup_calls(bucket, direction, trunk, calls, answered, missed, talk, duration,
                 delay_sum, delay_n, no_cid)
        VALUES ({_BUCKET.format(ts=f"{row}.start")}, {row}.direction, coalesce({row}.trunk, ''), {s},
                 {s} * ({row}.answer IS NOT NULL), {s} * ({row}.direction = 'in' AND {row}.answer IS NULL),
                 {s} * coalesce({row}.billsec, 0), {s} * coalesce({row}.duration, 0),
                 CASE WHEN {row}.direction = 'in' AND {row}.answer IS NOT NULL
                      THEN {s} * ({row}.answer - {row}.start) ELSE 0 END,
                 {s} * ({row}.direction = 'in' AND {row}.answer IS NOT NULL),
                 {s} * ({row}.direction = 'in' AND ({row}.src IS NULL OR {row}.src IN ('', 'P', 'O'))))
        ON CONFLICT(bucket, direction, trunk) DO UPDATE SET calls = calls + excluded.calls,
          answered = answered + excluded.answered, missed = missed + excluded.missed,
          talk = talk + excluded.talk, duration = duration + excluded.duration,
          delay_sum = delay_sum + excluded.delay_sum, delay_n = delay_n + excluded.delay_n,
          no_cid = no_cid + excluded.no_cid"""


_QUEUE_ROLLUP_SQL = f"""INSERT INTO rollup_queue(queue, bucket, offered, answered, callback_answered,
        timeouts, exit_key, exit_empty, callbacks, ring_no_answer, handled, transferred, talk)
    SELECT NEW.queue, {_BUCKET.format(ts="NEW.ts")}, NEW.event = 'ENTERQUEUE', NEW.event = 'CONNECT',
        NEW.event = 'CONNECT' AND EXISTS (SELECT 1 FROM journal c WHERE c.callid = NEW.callid
            AND c.queue = NEW.queue AND c.event = 'CALLBACK'),
        NEW.event = 'EXITWITHTIMEOUT', NEW.event = 'EXITWITHKEY', NEW.event = 'EXITEMPTY',
        NEW.event = 'CALLBACK', NEW.event = 'RINGNOANSWER', NEW.event IN {_HANDLED_SQL},
        NEW.event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER'),
        CASE WHEN NEW.event IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN coalesce(CAST(NEW.data2 AS REAL), 0)
             WHEN NEW.event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN coalesce(CAST(NEW.data4 AS REAL), 0)
             ELSE 0 END
    WHERE true
    ON CONFLICT(queue, bucket) DO UPDATE SET offered = offered + excluded.offered,
      answered = answered + excluded.answered, callback_answered = callback_answered + excluded.callback_answered,
      timeouts = timeouts + excluded.timeouts, exit_key = exit_key + excluded.exit_key,
      exit_empty = exit_empty + excluded.exit_empty, callbacks = callbacks + excluded.callbacks,
      ring_no_answer = ring_no_answer + excluded.ring_no_answer, handled = handled + excluded.handled,
      transferred = transferred + excluded.transferred, talk = talk + excluded.talk"""

_WAITS_ROLLUP_SQL = f"""INSERT INTO rollup_waits(queue, bucket, kind, wait, n)
    SELECT NEW.queue, {_BUCKET.format(ts="NEW.ts")}, CASE NEW.event WHEN 'CONNECT' THEN 'C' ELSE 'A' END,
        coalesce(CAST(CASE NEW.event WHEN 'CONNECT' THEN NEW.data1 ELSE NEW.data3 END AS REAL), 0), 1
    WHERE NEW.event = 'ABANDON' OR (NEW.event = 'CONNECT' AND NOT EXISTS (SELECT 1 FROM journal c
        WHERE c.callid = NEW.callid AND c.queue = NEW.queue AND c.event = 'CALLBACK'))
    ON CONFLICT(queue, bucket, kind, wait) DO UPDATE SET n = n + 1"""

_WRAP_ROLLUP_SQL = f"""INSERT INTO rollup_queue(queue, bucket, wrap_n, wrap_sum, wrap_reach)
    SELECT p.queue, {_BUCKET.format(ts="p.ts")}, 1, NEW.ts - p.ts, NEW.ts
    FROM (SELECT ts, queue, event FROM journal WHERE agent = NEW.agent AND ts <= NEW.ts AND id < NEW.id
          ORDER BY ts DESC, id DESC LIMIT 1) p
    WHERE p.event IN {_HANDLED_SQL} AND p.queue IS NOT NULL AND p.queue != 'NONE'
    ON CONFLICT(queue, bucket) DO UPDATE SET wrap_n = wrap_n + 1, wrap_sum = wrap_sum + excluded.wrap_sum,
      wrap_reach = max(wrap_reach, excluded.wrap_reach)"""


@migration(3)
async def m003_report_rollups(db: aiosqlite.Connection) -> None:
    """Indexes and 15-minute rollups behind the reports: a report over a million calls reads a few
    thousand rollup rows instead of millions of journal rows (`ccd.store.reports`).

    The rollups are kept by triggers in the same transaction as the row they count, so they can
    never drift from the journal and CDRs; every 15-minute UTC bucket nests in the buckets of any
    time zone (all offsets are multiples of 15 minutes). Wait times are kept as a histogram per
    bucket, so service level and short abandons stay exact for any T and S chosen later.
    """
    await _run(
        db,
        [
            "CREATE INDEX journal_agent ON journal(agent, ts)",
            "CREATE INDEX journal_queue ON journal(queue, ts, event)",
            """CREATE TABLE rollup_calls(
                bucket REAL NOT NULL, direction TEXT NOT NULL, trunk TEXT NOT NULL,
                calls INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0,
                missed INTEGER NOT NULL DEFAULT 0, talk REAL NOT NULL DEFAULT 0,
                duration REAL NOT NULL DEFAULT 0, delay_sum REAL NOT NULL DEFAULT 0,
                delay_n INTEGER NOT NULL DEFAULT 0, no_cid INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (bucket, direction, trunk)) WITHOUT ROWID""",
            """CREATE TABLE rollup_queue(
                queue TEXT NOT NULL, bucket REAL NOT NULL,
                offered INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0,
                callback_answered INTEGER NOT NULL DEFAULT 0, timeouts INTEGER NOT NULL DEFAULT 0,
                exit_key INTEGER NOT NULL DEFAULT 0, exit_empty INTEGER NOT NULL DEFAULT 0,
                callbacks INTEGER NOT NULL DEFAULT 0, ring_no_answer INTEGER NOT NULL DEFAULT 0,
                handled INTEGER NOT NULL DEFAULT 0, transferred INTEGER NOT NULL DEFAULT 0,
                talk REAL NOT NULL DEFAULT 0, wrap_n INTEGER NOT NULL DEFAULT 0,
                wrap_sum REAL NOT NULL DEFAULT 0, wrap_reach REAL NOT NULL DEFAULT 0,
                PRIMARY KEY (queue, bucket)) WITHOUT ROWID""",
            """CREATE TABLE rollup_waits(
                queue TEXT NOT NULL, bucket REAL NOT NULL, kind TEXT NOT NULL, wait REAL NOT NULL,
                n INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (queue, bucket, kind, wait)) WITHOUT ROWID""",
            f"CREATE TRIGGER calls_rollup_ins AFTER INSERT ON calls BEGIN {_calls_rollup_sql('+', 'NEW')}; END",
            f"CREATE TRIGGER calls_rollup_del AFTER DELETE ON calls BEGIN {_calls_rollup_sql('-', 'OLD')}; END",
            f"""CREATE TRIGGER calls_rollup_upd AFTER UPDATE OF start, direction, trunk, answer, billsec,
                duration, src ON calls BEGIN {_calls_rollup_sql("-", "OLD")}; {_calls_rollup_sql("+", "NEW")}; END""",
            f"""CREATE TRIGGER journal_rollup_queue AFTER INSERT ON journal
                WHEN NEW.queue IS NOT NULL AND NEW.queue != 'NONE' AND NEW.event IN {_QUEUE_EVENTS_SQL}
                BEGIN {_QUEUE_ROLLUP_SQL}; {_WAITS_ROLLUP_SQL}; END""",
            f"""CREATE TRIGGER journal_rollup_wrap AFTER INSERT ON journal WHEN NEW.event = 'WRAPUPEND'
                BEGIN {_WRAP_ROLLUP_SQL}; END""",
        ],
    )
    await _backfill_rollups(db)


async def _backfill_rollups(db: aiosqlite.Connection) -> None:
    """Count the rows written before migration 3 (an empty database costs nothing)."""
    await _run(db, calls_queue_backfill_sql())


def calls_queue_backfill_sql() -> list[str]:
    """Migration 3's calls, queue and wait rollups of a whole database in one set-based pass
    (its wrap-up columns: `queue_wrap_backfill_sql`). Expects empty rollup tables."""
    cb = "EXISTS (SELECT 1 FROM journal c WHERE c.callid = j.callid AND c.queue = j.queue AND c.event = 'CALLBACK')"
    return [
        f"""INSERT INTO rollup_calls SELECT {_BUCKET.format(ts="start")}, direction, coalesce(trunk, ''),
                count(*), sum(answer IS NOT NULL), sum(direction = 'in' AND answer IS NULL),
                total(coalesce(billsec, 0)), total(coalesce(duration, 0)),
                total(CASE WHEN direction = 'in' AND answer IS NOT NULL THEN answer - start END),
                sum(direction = 'in' AND answer IS NOT NULL),
                sum(direction = 'in' AND (src IS NULL OR src IN ('', 'P', 'O')))
                FROM calls GROUP BY 1, 2, 3""",
        f"""INSERT INTO rollup_queue(queue, bucket, offered, answered, callback_answered, timeouts,
                exit_key, exit_empty, callbacks, ring_no_answer, handled, transferred, talk)
                SELECT queue, {_BUCKET.format(ts="ts")}, sum(event = 'ENTERQUEUE'), sum(event = 'CONNECT'),
                sum(event = 'CONNECT' AND {cb}), sum(event = 'EXITWITHTIMEOUT'), sum(event = 'EXITWITHKEY'),
                sum(event = 'EXITEMPTY'), sum(event = 'CALLBACK'), sum(event = 'RINGNOANSWER'),
                sum(event IN {_HANDLED_SQL}), sum(event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER')),
                total(CASE WHEN event IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN CAST(data2 AS REAL)
                           WHEN event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN CAST(data4 AS REAL) END)
                FROM journal j WHERE queue IS NOT NULL AND queue != 'NONE' AND event IN {_QUEUE_EVENTS_SQL}
                GROUP BY 1, 2""",
        f"""INSERT INTO rollup_waits SELECT queue, {_BUCKET.format(ts="ts")},
                CASE event WHEN 'CONNECT' THEN 'C' ELSE 'A' END,
                coalesce(CAST(CASE event WHEN 'CONNECT' THEN data1 ELSE data3 END AS REAL), 0), count(*)
                FROM journal j WHERE queue IS NOT NULL AND queue != 'NONE'
                AND (event = 'ABANDON' OR (event = 'CONNECT' AND NOT {cb})) GROUP BY 1, 2, 3, 4""",
    ]


# --- migration 4: per-agent state time -------------------------------------------------------

_NORM_AGENT = "(CASE WHEN instr({a}, '/') > 0 THEN substr({a}, instr({a}, '/') + 1) ELSE {a} END)"
_AGENT_OK = "{a} IS NOT NULL AND {a} NOT IN ('', 'NONE')"
_SEQ = 35136  # 15-minute buckets in 366 days: the longest interval the rollup splits (longer: recounted raw)
_HANDLED_TALK = (
    "CASE WHEN {e} IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN coalesce(CAST({r}.data2 AS REAL), 0) "
    "WHEN {e} IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN coalesce(CAST({r}.data4 AS REAL), 0) ELSE 0 END"
)
# What an interval counts as, from the state the agent was in when it started (the rules of
# `ccd.metrics.journal.agent_times`): on a call, in wrap-up (exact when the interval ends at the
# agent's WRAPUPEND, else 'pending': the split needs the configured wrap-up, so the report
# recounts that agent from raw rows), not ready per reason, ready; nothing while signed out.
_KIND_SQL = """CASE WHEN {s}.activity = 'call' THEN 'call'
    WHEN {s}.activity = 'wrap' THEN CASE WHEN {nev} = 'WRAPUPEND' THEN 'wrap' ELSE 'pending' END
    WHEN {s}.logged AND {s}.paused THEN 'not_ready' WHEN {s}.logged THEN 'ready' END"""
_REASON_SQL = "CASE WHEN {s}.activity IS NULL AND {s}.logged AND {s}.paused THEN {s}.reason ELSE '' END"
_AGENT_CALLS_UPSERT = """ON CONFLICT(agent, bucket) DO UPDATE SET answered = answered + excluded.answered,
    handled = handled + excluded.handled, transferred = transferred + excluded.transferred,
    talk = talk + excluded.talk, ring_no_answer = ring_no_answer + excluded.ring_no_answer,
    wrap = wrap + excluded.wrap, wrap_reach = max(wrap_reach, excluded.wrap_reach),
    unvouched = unvouched + excluded.unvouched"""


def _day_copy(table: str, ts: str | None = None) -> str:
    """Upsert `table`'s 15-minute rows into its daily twin `<table>_day` (UTC days, which whole
    quarter hours nest in): all of them (backfill), or those touched by the row at `ts` (trigger:
    the rows of the agent's buckets since their previous row, recomputed from the 15-minute table)."""
    day = "CAST(bucket / 86400 AS INTEGER) * 86400.0"
    if table == "rollup_agent":
        cols, agg, key = "agent, bucket, kind, reason, secs", "total(secs)", "agent, bucket, kind, reason"
        sets = "secs = excluded.secs"
        group = "agent, 2, kind, reason"
        sel = f"agent, {day}, kind, reason, {agg}"
    else:
        cols = (
            "agent, bucket, answered, handled, transferred, talk, ring_no_answer, wrap, wrap_reach, unvouched"
        )
        key = "agent, bucket"
        sel = (
            f"agent, {day}, sum(answered), sum(handled), sum(transferred), total(talk), sum(ring_no_answer), "
            "total(wrap), max(wrap_reach), sum(unvouched)"
        )
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols.split(", ")[2:])
        group = "agent, 2"
    if ts is None:
        return f"INSERT INTO {table}_day({cols}) SELECT {sel} FROM {table} GROUP BY {group}"
    me = _NORM_AGENT.format(a="NEW.agent")
    return f"""INSERT INTO {table}_day({cols}) SELECT {sel} FROM {table}
        WHERE agent = {me} AND bucket >= (SELECT CAST(min(at0, {ts}) / 86400 AS INTEGER) * 86400.0
            FROM (SELECT coalesce((SELECT min(coalesce(handled_at, at), at) FROM agent_now WHERE agent = {me}), {ts}) AS at0))
          AND bucket < (CAST({ts} / 86400 AS INTEGER) + 1) * 86400.0
        GROUP BY {group} ON CONFLICT({key}) DO UPDATE SET {sets};"""


def _agent_trigger_sql() -> str:
    """The trigger that keeps `agent_now`, `rollup_agent` and `rollup_agent_calls` (one journal row)."""
    me = _NORM_AGENT.format(a="NEW.agent")
    kind = _KIND_SQL.format(s="n", nev="NEW.event")
    reason = _REASON_SQL.format(s="n")
    talk = _HANDLED_TALK.format(e="NEW.event", r="NEW")
    return f"""CREATE TRIGGER journal_rollup_agent AFTER INSERT ON journal WHEN {_AGENT_OK.format(a="NEW.agent")}
    BEGIN
    INSERT OR IGNORE INTO agent_now(agent, at, logged, paused, reason) VALUES ({me}, NEW.ts, 0, 0, '');
    INSERT INTO rollup_agent(agent, bucket, kind, reason, secs)
        SELECT s.agent, (s.b0 + q.i) * 900.0, s.kind, s.reason,
               min(NEW.ts, (s.b0 + q.i + 1) * 900.0) - max(s.at, (s.b0 + q.i) * 900.0)
        FROM (SELECT n.agent, n.at, CAST(n.at / 900 AS INTEGER) AS b0, CAST(NEW.ts / 900 AS INTEGER) AS b1,
                     {kind} AS kind, {reason} AS reason
              FROM agent_now n WHERE n.agent = {me} AND NEW.ts > n.at) s
        JOIN rollup_seq q ON q.i <= s.b1 - s.b0
        WHERE s.kind IS NOT NULL AND min(NEW.ts, (s.b0 + q.i + 1) * 900.0) > max(s.at, (s.b0 + q.i) * 900.0)
        ON CONFLICT(agent, bucket, kind, reason) DO UPDATE SET secs = secs + excluded.secs;
    {_day_copy("rollup_agent", "NEW.ts")}
    INSERT INTO rollup_agent_calls(agent, bucket, wrap, wrap_reach, unvouched)
        SELECT agent, CAST(handled_at / 900 AS INTEGER) * 900.0,
               CASE WHEN NEW.event = 'WRAPUPEND' THEN max(0, NEW.ts - handled_at) ELSE 0 END,
               CASE WHEN NEW.event = 'WRAPUPEND' THEN NEW.ts ELSE 0 END, NEW.event != 'WRAPUPEND'
        FROM agent_now WHERE agent = {me} AND activity = 'wrap'
        {_AGENT_CALLS_UPSERT};
    INSERT INTO rollup_agent_calls(agent, bucket, unvouched)
        SELECT agent, CAST(NEW.ts / 900 AS INTEGER) * 900.0, 1 FROM agent_now
        WHERE agent = {me} AND (NEW.ts < at OR NEW.ts - at >= {_SEQ - 1} * 900.0)
        {_AGENT_CALLS_UPSERT};
    INSERT INTO rollup_agent_calls(agent, bucket, answered, handled, transferred, talk, ring_no_answer)
        SELECT {me}, CAST(NEW.ts / 900 AS INTEGER) * 900.0, NEW.event = 'CONNECT', NEW.event IN {_HANDLED_SQL},
               NEW.event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER'), {talk}, NEW.event = 'RINGNOANSWER'
        WHERE NEW.event IN ('CONNECT', 'RINGNOANSWER', 'COMPLETEAGENT', 'COMPLETECALLER', 'BLINDTRANSFER',
                            'ATTENDEDTRANSFER')
        {_AGENT_CALLS_UPSERT};
    UPDATE agent_now SET at = max(at, NEW.ts),
        logged = CASE NEW.event WHEN 'AGENTLOGIN' THEN 1 WHEN 'AGENTLOGOFF' THEN 0 ELSE logged END,
        paused = CASE WHEN NEW.event IN ('AGENTLOGIN', 'AGENTLOGOFF', 'UNPAUSE') THEN 0
                      WHEN NEW.event = 'PAUSE' THEN 1 ELSE paused END,
        reason = CASE WHEN NEW.event IN ('AGENTLOGIN', 'AGENTLOGOFF', 'UNPAUSE') THEN ''
                      WHEN NEW.event = 'PAUSE' THEN coalesce(nullif(NEW.data1, ''), 'break') ELSE reason END,
        activity = CASE WHEN NEW.event = 'CONNECT' THEN 'call' WHEN NEW.event IN {_HANDLED_SQL} THEN 'wrap'
                        WHEN NEW.event = 'AGENTLOGOFF' OR activity = 'wrap' THEN NULL ELSE activity END,
        handled_at = CASE WHEN NEW.event IN {_HANDLED_SQL} THEN NEW.ts ELSE handled_at END
        WHERE agent = {me};
    {_day_copy("rollup_agent_calls", "NEW.ts")}
    END"""


def agent_backfill_sql() -> list[str]:
    """The agent rollups of a whole journal in one set-based pass (window functions), by the
    trigger's rules: migration 4 runs it on the rows written before it, `bench/wallboard.py`
    after loading a journal with the triggers off. Expects empty agent rollup tables."""
    me = _NORM_AGENT.format(a="j.agent")
    kind = _KIND_SQL.format(s="s", nev="s.nev")
    reason = _REASON_SQL.format(s="s")
    talk = _HANDLED_TALK.format(e="j.event", r="j")
    sessions = "('AGENTLOGIN', 'AGENTLOGOFF', 'PAUSE', 'UNPAUSE')"
    return [
        "DROP TABLE IF EXISTS temp._agent_rows",
        f"""CREATE TEMP TABLE _agent_rows AS
        WITH w AS (SELECT j.id, j.ts, {me} AS agent, j.event,
              max(CASE WHEN j.event IN ('AGENTLOGIN', 'AGENTLOGOFF') THEN j.id END) OVER win AS lid,
              max(CASE WHEN j.event IN {sessions} THEN j.id END) OVER win AS pid,
              max(CASE WHEN j.event IN ('CONNECT', 'AGENTLOGOFF', 'COMPLETEAGENT', 'COMPLETECALLER',
                  'BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN j.id END) OVER win AS aid,
              max(CASE WHEN j.event IN {_HANDLED_SQL} THEN j.ts END) OVER win AS hts,
              lead(j.ts) OVER win AS nts, lead(j.event) OVER win AS nev,
              row_number() OVER (PARTITION BY {me} ORDER BY j.ts DESC, j.id DESC) AS last
            FROM journal j WHERE {_AGENT_OK.format(a="j.agent")}
            WINDOW win AS (PARTITION BY {me} ORDER BY j.ts, j.id))
        SELECT w.id, w.ts, w.agent, w.event, w.nts, w.nev, w.hts, w.last,
            coalesce(l.event = 'AGENTLOGIN', 0) AS logged, coalesce(p.event = 'PAUSE', 0) AS paused,
            CASE WHEN p.event = 'PAUSE' THEN coalesce(nullif(p.data1, ''), 'break') ELSE '' END AS reason,
            CASE WHEN a.event = 'CONNECT' THEN 'call' WHEN a.id = w.id AND a.event IN {_HANDLED_SQL} THEN 'wrap'
            END AS activity
        FROM w LEFT JOIN journal l ON l.id = w.lid LEFT JOIN journal p ON p.id = w.pid
            LEFT JOIN journal a ON a.id = w.aid""",
        f"""INSERT INTO rollup_agent(agent, bucket, kind, reason, secs)
        SELECT s.agent, (s.b0 + q.i) * 900.0 AS bucket, s.kind, s.reason,
               total(min(s.nts, (s.b0 + q.i + 1) * 900.0) - max(s.ts, (s.b0 + q.i) * 900.0))
        FROM (SELECT s.agent, s.ts, s.nts, CAST(s.ts / 900 AS INTEGER) AS b0, CAST(s.nts / 900 AS INTEGER) AS b1,
                     {kind} AS kind, {reason} AS reason
              FROM _agent_rows s WHERE s.nts > s.ts) s
        JOIN rollup_seq q ON q.i <= s.b1 - s.b0
        WHERE s.kind IS NOT NULL AND min(s.nts, (s.b0 + q.i + 1) * 900.0) > max(s.ts, (s.b0 + q.i) * 900.0)
        GROUP BY 1, 2, 3, 4""",
        f"""INSERT INTO rollup_agent_calls(agent, bucket, answered, handled, transferred, talk, ring_no_answer,
                wrap, wrap_reach, unvouched)
        SELECT agent, bucket, sum(answered), sum(handled), sum(transferred), total(talk), sum(rna),
               total(wrap), max(reach), sum(unv) FROM (
            SELECT {me} AS agent, CAST(j.ts / 900 AS INTEGER) * 900.0 AS bucket, j.event = 'CONNECT' AS answered,
                   j.event IN {_HANDLED_SQL} AS handled, j.event IN ('BLINDTRANSFER', 'ATTENDEDTRANSFER') AS transferred,
                   {talk} AS talk, j.event = 'RINGNOANSWER' AS rna, 0 AS wrap, 0 AS reach, 0 AS unv
            FROM journal j WHERE {_AGENT_OK.format(a="j.agent")} AND j.event IN ('CONNECT', 'RINGNOANSWER',
                'COMPLETEAGENT', 'COMPLETECALLER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER')
            UNION ALL
            SELECT agent, CAST(ts / 900 AS INTEGER) * 900.0, 0, 0, 0, 0, 0,
                   CASE WHEN nev = 'WRAPUPEND' THEN max(0, nts - ts) ELSE 0 END,
                   CASE WHEN nev = 'WRAPUPEND' THEN nts ELSE 0 END, nev IS NOT NULL AND nev != 'WRAPUPEND'
            FROM _agent_rows WHERE activity = 'wrap'
            UNION ALL
            SELECT agent, CAST(nts / 900 AS INTEGER) * 900.0, 0, 0, 0, 0, 0, 0, 0, 1
            FROM _agent_rows WHERE nts - ts >= {_SEQ - 1} * 900.0)
        GROUP BY agent, bucket""",
        """INSERT INTO agent_now(agent, at, logged, paused, reason, activity, handled_at)
        SELECT agent, ts, logged, paused, reason, activity, hts FROM _agent_rows WHERE last = 1""",
        _day_copy("rollup_agent"),
        _day_copy("rollup_agent_calls"),
        "DROP TABLE temp._agent_rows",
    ]


def queue_wrap_backfill_sql() -> str:
    """Migration 3's wrap-up columns of `rollup_queue` for a whole journal in one pass (its trigger's
    rule: a WRAPUPEND right after the same agent's handled queue call). For a journal loaded with
    the triggers off (`bench/wallboard.py`); migration 3 itself left old wrap-ups to raw recounts."""
    return f"""INSERT INTO rollup_queue(queue, bucket, wrap_n, wrap_sum, wrap_reach)
        SELECT pq, {_BUCKET.format(ts="pts")}, count(*), total(ts - pts), max(ts) FROM (
            SELECT ts, event, lag(ts) OVER w AS pts, lag(event) OVER w AS pev, lag(queue) OVER w AS pq
            FROM journal WHERE agent IS NOT NULL WINDOW w AS (PARTITION BY agent ORDER BY ts, id))
        WHERE event = 'WRAPUPEND' AND pev IN {_HANDLED_SQL} AND pq IS NOT NULL AND pq != 'NONE'
        GROUP BY 1, 2
        ON CONFLICT(queue, bucket) DO UPDATE SET wrap_n = wrap_n + excluded.wrap_n,
          wrap_sum = wrap_sum + excluded.wrap_sum, wrap_reach = max(wrap_reach, excluded.wrap_reach)"""


@migration(4)
async def m004_agent_rollups(db: aiosqlite.Connection) -> None:
    """Per-agent state time in 15-minute buckets, kept by a trigger like migration 3's rollups, so
    the agent and sign-in reports over a million calls read rollup rows instead of walking every
    agent row in Python; plus a small index of sign-in/out and pause rows.

    `agent_now` is each agent's state after their newest row; each new row closes the interval
    since then and adds it, split at bucket edges (`rollup_seq` numbers the buckets: triggers may
    not use recursive CTEs), to `rollup_agent`. `rollup_agent_calls` counts calls per bucket and
    flags (`unvouched`) buckets whose wrap-up split needs the configuration.
    """
    await _run(
        db,
        [
            """CREATE INDEX journal_sessions ON journal(agent, ts)
                WHERE event IN ('AGENTLOGIN', 'AGENTLOGOFF', 'PAUSE', 'UNPAUSE')""",
            "CREATE TABLE rollup_seq(i INTEGER PRIMARY KEY)",
            f"""INSERT INTO rollup_seq(i) WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s
                WHERE i < {_SEQ - 1}) SELECT i FROM s""",
            """CREATE TABLE agent_now(
                agent TEXT PRIMARY KEY, at REAL NOT NULL, logged INTEGER NOT NULL DEFAULT 0,
                paused INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '', activity TEXT,
                handled_at REAL)""",
            """CREATE TABLE rollup_agent(
                agent TEXT NOT NULL, bucket REAL NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
                secs REAL NOT NULL DEFAULT 0,
                PRIMARY KEY (agent, bucket, kind, reason)) WITHOUT ROWID""",
            "CREATE INDEX rollup_agent_bucket ON rollup_agent(bucket)",
            """CREATE TABLE rollup_agent_calls(
                agent TEXT NOT NULL, bucket REAL NOT NULL,
                answered INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
                transferred INTEGER NOT NULL DEFAULT 0, talk REAL NOT NULL DEFAULT 0,
                ring_no_answer INTEGER NOT NULL DEFAULT 0, wrap REAL NOT NULL DEFAULT 0,
                wrap_reach REAL NOT NULL DEFAULT 0, unvouched INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (agent, bucket)) WITHOUT ROWID""",
            "CREATE INDEX rollup_agent_calls_bucket ON rollup_agent_calls(bucket)",
            # daily twins: a month's report reads ~30 rows per agent, not ~3,000
            """CREATE TABLE rollup_agent_day(
                agent TEXT NOT NULL, bucket REAL NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
                secs REAL NOT NULL DEFAULT 0,
                PRIMARY KEY (agent, bucket, kind, reason)) WITHOUT ROWID""",
            """CREATE TABLE rollup_agent_calls_day(
                agent TEXT NOT NULL, bucket REAL NOT NULL,
                answered INTEGER NOT NULL DEFAULT 0, handled INTEGER NOT NULL DEFAULT 0,
                transferred INTEGER NOT NULL DEFAULT 0, talk REAL NOT NULL DEFAULT 0,
                ring_no_answer INTEGER NOT NULL DEFAULT 0, wrap REAL NOT NULL DEFAULT 0,
                wrap_reach REAL NOT NULL DEFAULT 0, unvouched INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (agent, bucket)) WITHOUT ROWID""",
            _agent_trigger_sql(),
            *agent_backfill_sql(),
        ],
    )


# --- migration 5: calls per caller, coarser wait histograms ---------------------------------------

_DAY_BUCKET = "(CAST({ts} / 86400 AS INTEGER) * 86400.0)"
# UTC weeks from Monday (1970-01-05 = 4 days after the epoch); each is seven whole UTC days
_WEEK_BUCKET = "(CAST(({ts} - 345600) / 604800 AS INTEGER) * 604800 + 345600.0)"
# The customer report's grouping: a known customer, else the far end's number (`peer_key`)
_CALLER = "coalesce('c' || {r}.customer_id, 'n' || {r}.peer_key)"
_CALLER_COLS = "calls, inbound, outbound, answered, talk"


def _caller_add_sql(row: str) -> str:
    """Count one calls row (NEW) in its day of `rollup_caller_day` (rows without a caller: nowhere)."""
    key = _CALLER.format(r=row)
    return f"""INSERT INTO rollup_caller_day(bucket, caller, {_CALLER_COLS}, last_call)
        SELECT {_DAY_BUCKET.format(ts=f"{row}.start")}, {key}, 1, {row}.direction = 'in', {row}.direction = 'out',
            {row}.answer IS NOT NULL, coalesce({row}.billsec, 0), {row}.start
        WHERE {key} IS NOT NULL
        ON CONFLICT(bucket, caller) DO UPDATE SET calls = calls + 1, inbound = inbound + excluded.inbound,
          outbound = outbound + excluded.outbound, answered = answered + excluded.answered,
          talk = talk + excluded.talk, last_call = max(last_call, excluded.last_call)"""


def _caller_sub_sql(row: str) -> str:
    """Take one calls row (OLD) away from its day's counters (its last_call: `_caller_fix_sql`)."""
    where = f"bucket = {_DAY_BUCKET.format(ts=f'{row}.start')} AND caller = {_CALLER.format(r=row)}"
    return f"""UPDATE rollup_caller_day SET calls = calls - 1, inbound = inbound - ({row}.direction = 'in'),
          outbound = outbound - ({row}.direction = 'out'), answered = answered - ({row}.answer IS NOT NULL),
          talk = talk - coalesce({row}.billsec, 0)
        WHERE {where}"""


def _caller_fix_sql(row: str, also: str = "") -> list[str]:
    """After OLD left its day row: drop the row when no call is left, else find its newest call
    again when OLD may have been it (an index probe: the newest start of that caller in that day)."""
    day = _DAY_BUCKET.format(ts=f"{row}.start")
    where = f"bucket = {day} AND caller = {_CALLER.format(r=row)}"
    newest = f"""coalesce(
            (SELECT start FROM calls WHERE customer_id = {row}.customer_id AND start >= {day}
                AND start < {day} + 86400 ORDER BY start DESC LIMIT 1),
            (SELECT start FROM calls WHERE {row}.customer_id IS NULL AND peer_key = {row}.peer_key
                AND customer_id IS NULL AND start >= {day} AND start < {day} + 86400 ORDER BY start DESC LIMIT 1))"""
    return [
        f"DELETE FROM rollup_caller_day WHERE {where} AND calls <= 0",
        f"UPDATE rollup_caller_day SET last_call = {newest} WHERE {where} AND last_call <= {row}.start{also}",
    ]


def _caller_triggers_sql() -> list[str]:
    """The triggers on calls that keep `rollup_caller_day`, and on it that keep its weekly twin."""
    changed = " OR ".join(
        f"OLD.{c} IS NOT NEW.{c}"
        for c in ("start", "direction", "answer", "billsec", "customer_id", "peer_key")
    )
    # the same day and caller, the same start: the newest call of that day is still the newest
    moved = f" AND NOT (OLD.start = NEW.start AND {_CALLER.format(r='OLD')} IS {_CALLER.format(r='NEW')})"
    week = _WEEK_BUCKET.format(ts="{r}.bucket")
    week_days = ", ".join(f"{week} + {i * 86400}" for i in range(7))
    week_newest = f"(SELECT max(last_call) FROM rollup_caller_day WHERE caller = {{r}}.caller AND bucket IN ({week_days}))"
    adds = ", ".join(f"{c} = {c} + NEW.{c} - OLD.{c}" for c in _CALLER_COLS.split(", "))
    subs = ", ".join(f"{c} = {c} - OLD.{c}" for c in _CALLER_COLS.split(", "))
    at = "WHERE bucket = {w} AND caller = {r}.caller"
    return [
        f"CREATE TRIGGER calls_caller_ins AFTER INSERT ON calls BEGIN {_caller_add_sql('NEW')}; END",
        f"""CREATE TRIGGER calls_caller_del AFTER DELETE ON calls BEGIN {_caller_sub_sql("OLD")};
            {"; ".join(_caller_fix_sql("OLD"))}; END""",
        f"""CREATE TRIGGER calls_caller_upd AFTER UPDATE OF start, direction, answer, billsec, customer_id, peer_key
            ON calls WHEN {changed}
            BEGIN {_caller_sub_sql("OLD")}; {_caller_add_sql("NEW")}; {"; ".join(_caller_fix_sql("OLD", moved))}; END""",
        # the weekly twin follows the daily rows (only these triggers write either table; a day
        # row's bucket and caller never change)
        f"""CREATE TRIGGER caller_day_ins AFTER INSERT ON rollup_caller_day BEGIN
            INSERT INTO rollup_caller_week(bucket, caller, {_CALLER_COLS}, last_call)
            VALUES ({week.format(r="NEW")}, NEW.caller, NEW.calls, NEW.inbound, NEW.outbound, NEW.answered,
                    NEW.talk, NEW.last_call)
            ON CONFLICT(bucket, caller) DO UPDATE SET calls = calls + excluded.calls,
              inbound = inbound + excluded.inbound, outbound = outbound + excluded.outbound,
              answered = answered + excluded.answered, talk = talk + excluded.talk,
              last_call = max(last_call, excluded.last_call); END""",
        f"""CREATE TRIGGER caller_day_upd AFTER UPDATE ON rollup_caller_day BEGIN
            UPDATE rollup_caller_week SET {adds}, last_call = max(last_call, NEW.last_call)
                {at.format(w=week.format(r="NEW"), r="NEW")};
            UPDATE rollup_caller_week SET last_call = {week_newest.format(r="NEW")}
                {at.format(w=week.format(r="NEW"), r="NEW")} AND NEW.last_call < OLD.last_call
                AND last_call <= OLD.last_call; END""",
        f"""CREATE TRIGGER caller_day_del AFTER DELETE ON rollup_caller_day BEGIN
            UPDATE rollup_caller_week SET {subs} {at.format(w=week.format(r="OLD"), r="OLD")};
            DELETE FROM rollup_caller_week {at.format(w=week.format(r="OLD"), r="OLD")} AND calls <= 0;
            UPDATE rollup_caller_week SET last_call = {week_newest.format(r="OLD")}
                {at.format(w=week.format(r="OLD"), r="OLD")} AND last_call <= OLD.last_call; END""",
    ]


_WAIT_TWINS = (("rollup_waits_hour", 3600), ("rollup_waits_day", 86400))


def _waits_twin_triggers_sql() -> list[str]:
    """Triggers on `rollup_waits` (migration 3) that keep its hourly and daily twins: whatever
    writes the 15-minute histogram (the journal trigger, a backfill) moves the twins with it."""
    ins, upd, dele = [], [], []
    for table, size in _WAIT_TWINS:
        b = f"CAST({{r}}.bucket / {size} AS INTEGER) * {size}.0"
        key = "queue = {r}.queue AND bucket = " + b + " AND kind = {r}.kind AND wait = {r}.wait"
        ins.append(
            f"""INSERT INTO {table}(queue, bucket, kind, wait, n) VALUES (NEW.queue, {b.format(r="NEW")},
                NEW.kind, NEW.wait, NEW.n) ON CONFLICT(queue, bucket, kind, wait) DO UPDATE SET n = n + excluded.n"""
        )
        upd.append(f"UPDATE {table} SET n = n + NEW.n - OLD.n WHERE {key.format(r='NEW')}")
        upd.append(f"DELETE FROM {table} WHERE {key.format(r='NEW')} AND n <= 0")
        dele.append(f"UPDATE {table} SET n = n - OLD.n WHERE {key.format(r='OLD')}")
        dele.append(f"DELETE FROM {table} WHERE {key.format(r='OLD')} AND n <= 0")
    return [
        f"CREATE TRIGGER rollup_waits_twins_ins AFTER INSERT ON rollup_waits BEGIN {'; '.join(ins)}; END",
        f"CREATE TRIGGER rollup_waits_twins_upd AFTER UPDATE OF n ON rollup_waits BEGIN {'; '.join(upd)}; END",
        f"CREATE TRIGGER rollup_waits_twins_del AFTER DELETE ON rollup_waits BEGIN {'; '.join(dele)}; END",
    ]


def callers_waits_backfill_sql() -> list[str]:
    """Migration 5's rollups of a whole database in one set-based pass: calls per caller per day
    and week from the CDRs, the wait histogram's hourly and daily twins from `rollup_waits` (so
    run it after migration 3's backfill). Expects empty tables; the triggers must not be there
    yet (or be off), or the weekly twin would count each day twice."""
    key = _CALLER.format(r="calls")
    out = [
        f"""INSERT INTO rollup_caller_day(bucket, caller, {_CALLER_COLS}, last_call)
            SELECT {_DAY_BUCKET.format(ts="start")}, {key}, count(*), sum(direction = 'in'), sum(direction = 'out'),
                sum(answer IS NOT NULL), total(coalesce(billsec, 0)), max(start)
            FROM calls WHERE {key} IS NOT NULL GROUP BY 1, 2""",
        f"""INSERT INTO rollup_caller_week(bucket, caller, {_CALLER_COLS}, last_call)
            SELECT {_WEEK_BUCKET.format(ts="bucket")}, caller, sum(calls), sum(inbound), sum(outbound),
                sum(answered), total(talk), max(last_call)
            FROM rollup_caller_day GROUP BY 1, 2""",
    ]
    for table, size in _WAIT_TWINS:
        out.append(
            f"""INSERT INTO {table}(queue, bucket, kind, wait, n)
            SELECT queue, CAST(bucket / {size} AS INTEGER) * {size}.0, kind, wait, sum(n) FROM rollup_waits
            GROUP BY 1, 2, 3, 4"""
        )
    return out


@migration(5)
async def m005_caller_and_wait_rollups(db: aiosqlite.Connection) -> None:
    """Calls per caller per UTC day and week, and hourly and daily twins of the wait histogram,
    so the customer and queue reports over a million calls read tens of thousands of rows, not
    a million CDRs or half a million 15-minute histogram rows.

    `rollup_caller_day` is keyed by the customer report's own grouping (a customer, else the
    far end's number); triggers on calls add each call, take it away on delete and move it on
    update (its newest call found again by an index probe when the one taken away may have
    been it). `rollup_caller_week` follows the daily rows by triggers of its own, as the wait
    twins follow `rollup_waits`. The customer index gains `start` for that probe.
    """
    await _run(
        db,
        [
            "DROP INDEX calls_customer",  # the new index serves every lookup by customer it served
            "CREATE INDEX calls_customer_start ON calls(customer_id, start) WHERE customer_id IS NOT NULL",
            *[
                f"""CREATE TABLE {table}(
                bucket REAL NOT NULL, caller TEXT NOT NULL,
                calls INTEGER NOT NULL DEFAULT 0, inbound INTEGER NOT NULL DEFAULT 0,
                outbound INTEGER NOT NULL DEFAULT 0, answered INTEGER NOT NULL DEFAULT 0,
                talk REAL NOT NULL DEFAULT 0, last_call REAL NOT NULL,
                PRIMARY KEY (bucket, caller)) WITHOUT ROWID"""
                for table in ("rollup_caller_day", "rollup_caller_week")
            ],
            *[
                f"""CREATE TABLE {table}(
                queue TEXT NOT NULL, bucket REAL NOT NULL, kind TEXT NOT NULL, wait REAL NOT NULL,
                n INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (queue, bucket, kind, wait)) WITHOUT ROWID"""
                for table, _ in _WAIT_TWINS
            ],
            *callers_waits_backfill_sql(),
            *_caller_triggers_sql(),
            *_waits_twin_triggers_sql(),
        ],
    )


# --- migration 6: where the agent rollups cannot be trusted, survey index ----------------------

_GAP = (_SEQ - 1) * 900.0  # an interval this long may be cut short by the agent trigger (see _SEQ)


def _agent_breaks_trigger_sql() -> str:
    """The trigger that records in `rollup_agent_breaks` each row the agent trigger of migration 4
    cannot roll up as the walk counts it, and heals open breaks at the agent's next sign-out.

    It runs BEFORE the insert, so `agent_now` still holds the agent's state before this row (the
    AFTER trigger of migration 4 moves it on): `at` is the newest time of the agent's earlier rows.
    A row older than that (a clock set back, an import) changes the state the trigger carries from
    then on, so the rollup is not the walk's from that row's time until a sign-out that comes in
    order resets every field both keep (`healed`). A row more than `_GAP` after the previous one
    may have left buckets of that silence unwritten: that break spans the silence and is healed
    at once.
    """
    me = _NORM_AGENT.format(a="NEW.agent")
    return f"""CREATE TRIGGER journal_agent_breaks BEFORE INSERT ON journal WHEN {_AGENT_OK.format(a="NEW.agent")}
    BEGIN
    UPDATE rollup_agent_breaks SET healed = NEW.ts
        WHERE NEW.event = 'AGENTLOGOFF' AND agent = {me} AND healed IS NULL
          AND NEW.ts >= (SELECT at FROM agent_now WHERE agent = {me});
    INSERT INTO rollup_agent_breaks(agent, start, healed)
        SELECT agent, min(NEW.ts, at), CASE WHEN NEW.ts < at THEN NULL ELSE NEW.ts END
        FROM agent_now WHERE agent = {me} AND (NEW.ts < at OR NEW.ts - at >= {_GAP});
    END"""


def agent_breaks_backfill_sql() -> list[str]:
    """`rollup_agent_breaks` for a whole journal in one pass, by the trigger's rules: the rows of each
    agent in the order they were written (id), each against the newest time before it; a break that
    came out of order is healed by the first later sign-out that came in order. Expects an empty
    table. (Rows rolled up by `agent_backfill_sql` were taken in time order, so a break found here
    for them only costs the report a walk it did not need.)"""
    me = _NORM_AGENT.format(a="agent")
    return [
        "DROP TABLE IF EXISTS temp._agent_order",
        # one window over the agent rows; only sign-outs and breaks are kept (few)
        f"""CREATE TEMP TABLE _agent_order AS
        SELECT agent, id, ts, event, prev FROM (
            SELECT id, ts, event, agent,
                   max(ts) OVER (PARTITION BY agent ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   AS prev
            FROM (SELECT id, ts, event, {me} AS agent FROM journal WHERE {_AGENT_OK.format(a="agent")}))
        WHERE event = 'AGENTLOGOFF' OR ts < prev OR ts - prev >= {_GAP}""",
        # the frame grows (newest id first), so the minimum is kept in one pass
        f"""INSERT INTO rollup_agent_breaks(agent, start, healed)
        SELECT agent, min(ts, prev), CASE WHEN ts < prev THEN heal ELSE ts END FROM (
            SELECT agent, ts, prev,
                   min(CASE WHEN event = 'AGENTLOGOFF' AND (prev IS NULL OR ts >= prev) THEN ts END)
                   OVER (PARTITION BY agent ORDER BY id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   AS heal
            FROM _agent_order)
        WHERE ts < prev OR ts - prev >= {_GAP}""",
        "DROP TABLE temp._agent_order",
    ]


@migration(6)
async def m006_agent_breaks_and_survey_index(db: aiosqlite.Connection) -> None:
    """Two things the agent, sign-in and survey reports need to stay within a second on a cold
    cache over a million calls.

    `rollup_agent_breaks` says where migration 4's agent rollups are not the walk's figures for
    a reason other than a wrap-up: a row written out of time order (until the agent's next
    in-order sign-out) or a silence longer than the rollup splits. Migration 4 flags both with the
    same `unvouched` counter as a wrap-up that needs the configured length; with the breaks kept
    apart, the report walks only the buckets around an unvouched wrap-up (a restart, say) instead
    of the agent's whole period. Filled by its trigger from now on and by a one-pass backfill for
    the rows before.

    `calls_survey` is a covering index of the calls that carry a survey score: the survey report
    reads it alone instead of every call record of its period.
    """
    await _run(
        db,
        [
            """CREATE TABLE rollup_agent_breaks(
                agent TEXT NOT NULL, start REAL NOT NULL, healed REAL)""",
            "CREATE INDEX rollup_agent_breaks_open ON rollup_agent_breaks(agent) WHERE healed IS NULL",
            *agent_breaks_backfill_sql(),
            _agent_breaks_trigger_sql(),
            "CREATE INDEX calls_survey ON calls(start, agent, survey_score) WHERE survey_score IS NOT NULL",
        ],
    )


@migration(7)
async def m007_signin_index(db: aiosqlite.Connection) -> None:
    """A covering index of the sign-in and sign-out rows, by time, for the sessions of the agent and
    sign-in reports.

    The sessions of a period were read through migration 4's `journal_sessions` (agent, ts), which
    also holds every pause and is ordered by agent: over a month of a few hundred agents in shifts
    that is ~80,000 rows, each fetched from the journal table for its event — 0.4 s warm and a read
    of pages all over the journal cold. This one holds only AGENTLOGIN and AGENTLOGOFF, ordered by
    time and carrying agent and event, so a period is one range of the index and no table page.
    """
    await _run(
        db,
        [
            """CREATE INDEX journal_signins ON journal(ts, agent, event)
                WHERE event IN ('AGENTLOGIN', 'AGENTLOGOFF')""",
        ],
    )


def rebuild_rollups_sql() -> list[str]:
    """Every rollup of a database whose rows were loaded with the rollup triggers off, in one
    set-based pass each (the statements the migrations use). Expects empty rollup tables."""
    return [
        *calls_queue_backfill_sql(),
        queue_wrap_backfill_sql(),
        *agent_backfill_sql(),
        *callers_waits_backfill_sql(),
        *agent_breaks_backfill_sql(),
    ]
