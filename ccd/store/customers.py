"""Customers, their phone numbers and contacts, tags, and admin-defined custom fields.

Every number is stored with its lookup key (E.164, or bare digits for numbers that are not
valid phone numbers) and its subscriber form, both indexed: the screen pop's lookup by caller
ID is one index probe however the number was typed, and a partly typed number in the search
box is an index range scan. Name, company and tag search are index prefix ranges too, so both
stay fast with a million customers (no LIKE '%...%' table scans).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from ccd.crm.numbers import NumberPlan
from ccd.store.base import Database, placeholders
from ccd.store.errors import InvalidValueError, NotFoundError
from ccd.store.models import FIELD_TYPES, LEVELS, Contact, Customer, CustomField, PhoneNumber

_TOP = "\U0010ffff"  # sorts after any character: upper bound of a prefix range
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PHONEISH = re.compile(r"\+?[\d\s\-()]{3,40}")
_GENDERS = {"m": "m", "f": "f", "male": "m", "female": "f", "男": "m", "女": "f"}
MAX_TEXT = 2000
MAX_NAME = 200
MAX_TAGS = 30
MAX_RESULTS = 200

NumberInput = str | tuple[str, str | None]

# A customer with its numbers and contacts as JSON arrays, so a screen pop costs one query.
_LOAD = """SELECT c.*,
    (SELECT json_group_array(json_array(n.id, n.contact_id, n.raw, n.e164, n.national, n.local, n.label))
       FROM customer_numbers n WHERE n.customer_id = c.id) AS numbers_json,
    (SELECT json_group_array(json_array(k.id, k.name, k.title, k.email, k.note))
       FROM contacts k WHERE k.customer_id = c.id) AS contacts_json
  FROM customers c"""


def _customer(r: Any) -> Customer:
    cid = r["id"]
    numbers = sorted(
        (PhoneNumber(n[0], cid, n[1], n[2], n[3], n[4], n[5], n[6]) for n in json.loads(r["numbers_json"])),
        key=lambda n: n.id,
    )
    contacts = [
        Contact(k[0], cid, k[1], k[2], k[3], k[4], tuple(n for n in numbers if n.contact_id == k[0]))
        for k in sorted(json.loads(r["contacts_json"]), key=lambda k: k[0])
    ]
    return Customer.from_row(r, tuple(numbers), tuple(contacts))


def _fold(s: str | None) -> str | None:
    return None if s is None else s.strip().casefold()


def _text(value: Any, what: str, limit: int = MAX_TEXT, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidValueError(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise InvalidValueError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise InvalidValueError(f"{what} is required")
    if len(value) > limit:
        raise InvalidValueError(f"{what} is too long ({len(value)} characters, at most {limit})")
    return value


def _date(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InvalidValueError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for t in value:
        t = _text(t, "tag", 50)
        if t and t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise InvalidValueError(f"at most {MAX_TAGS} tags per customer")
    return out


def _level(value: Any) -> str:
    if value not in LEVELS:
        raise InvalidValueError(f"level {value!r} is not one of {', '.join(LEVELS)}")
    return value


def _gender(value: Any) -> str | None:
    if value is None or value == "":
        return None
    g = _GENDERS.get(str(value).strip().lower())
    if g is None:
        raise InvalidValueError(f"gender {value!r} must be m or f")
    return g


class Customers:
    """`store.customers`."""

    def __init__(self, db: Database, plan: NumberPlan) -> None:
        self._db = db
        self.plan = plan

    # --- custom fields -----------------------------------------------------------------------------

    async def define_field(
        self, name: str, label: str, type: str, *, choices: Sequence[str] = (), required: bool = False
    ) -> CustomField:
        """Add or redefine an admin-defined customer field (`ccd field add ...`)."""
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidValueError(f"field name {name!r} must be lower-case letters, digits or _ (max 32)")
        if type not in FIELD_TYPES:
            raise InvalidValueError(f"field type {type!r} is not one of {', '.join(FIELD_TYPES)}")
        label = _text(label, "label", 100, required=True) or name
        choice_list = [c for c in (_text(c, "choice", 100) for c in choices) if c]
        if type == "choice" and not choice_list:
            raise InvalidValueError("a choice field needs at least one choice")
        row = await self._db.fetchone("SELECT coalesce(max(position), 0) + 1 FROM custom_fields")
        await self._db.write(
            """INSERT INTO custom_fields(name, label, type, choices, required, position) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(name) DO UPDATE SET label = excluded.label, type = excluded.type,
                   choices = excluded.choices, required = excluded.required""",
            (
                name,
                label,
                type,
                json.dumps(choice_list, ensure_ascii=False),
                int(required),
                row[0] if row else 1,
            ),
        )
        return next(f for f in await self.fields() if f.name == name)

    async def fields(self) -> list[CustomField]:
        rows = await self._db.fetchall("SELECT * FROM custom_fields ORDER BY position, name")
        return [
            CustomField(
                r["name"],
                r["label"],
                r["type"],
                tuple(json.loads(r["choices"])),
                bool(r["required"]),
                r["position"],
            )
            for r in rows
        ]

    async def remove_field(self, name: str) -> None:
        """Forget a field definition (values already stored stay in the customers' JSON)."""
        _, n = await self._db.write("DELETE FROM custom_fields WHERE name = ?", (name,))
        if n == 0:
            raise NotFoundError(f"no custom field {name!r}")

    async def _check_custom(self, values: dict[str, Any], *, whole: bool) -> dict[str, Any]:
        if not isinstance(values, dict):
            raise InvalidValueError("custom fields must be a mapping of field name to value")
        defs = {f.name: f for f in await self.fields()}
        out: dict[str, Any] = {}
        for k, v in values.items():
            f = defs.get(k)
            if f is None:
                known = ", ".join(defs) or "none defined"
                raise InvalidValueError(f"unknown custom field {k!r} (known: {known})")
            if v is None or v == "":
                out[k] = None
                continue
            if f.type == "int":
                try:
                    out[k] = int(v)
                except (TypeError, ValueError):
                    raise InvalidValueError(f"{f.label}: {v!r} is not a whole number") from None
            elif f.type == "date":
                out[k] = _date(v, f.label)
            elif f.type == "choice":
                if v not in f.choices:
                    raise InvalidValueError(f"{f.label}: {v!r} is not one of {', '.join(f.choices)}")
                out[k] = v
            else:
                out[k] = _text(v, f.label)
        if whole:
            missing = [f.label for f in defs.values() if f.required and out.get(f.name) is None]
            if missing:
                raise InvalidValueError(f"required field(s) missing: {', '.join(missing)}")
        return {k: v for k, v in out.items() if v is not None}

    # --- writing -----------------------------------------------------------------------------------

    def _number_row(self, raw: str) -> tuple[str, str, str, str]:
        info = self.plan.index_forms(raw if isinstance(raw, str) else "")
        if not info.present or not info.key:
            raise InvalidValueError(f"{raw!r} is not a phone number")
        return raw.strip(), info.key, info.national, info.subscriber or info.national

    async def add(
        self,
        name: str,
        *,
        numbers: Iterable[NumberInput] = (),
        company: str | None = None,
        level: str = "normal",
        tags: Iterable[str] = (),
        gender: str | None = None,
        birthday: date | str | None = None,
        address: str | None = None,
        email: str | None = None,
        owner: str | None = None,
        custom: dict[str, Any] | None = None,
    ) -> Customer:
        """Create a customer with its numbers; returns it as stored."""
        name_v = _text(name, "name", MAX_NAME, required=True)
        assert name_v is not None
        company_v = _text(company, "company", MAX_NAME)
        tag_list = _tags(list(tags))
        bday = _date(birthday, "birthday")
        custom_v = await self._check_custom(custom or {}, whole=True)
        nums = [(n, None) if isinstance(n, str) else (n[0], n[1]) for n in numbers]
        num_rows = [(*self._number_row(raw), _text(label, "label", 50)) for raw, label in nums]
        now = self._db.clock.wall()
        async with self._db.transaction() as db:
            cur = await db.execute(
                """INSERT INTO customers(name, name_fold, company, company_fold, level, tags, gender, birthday,
                       birth_md, address, email, owner, custom, created, updated)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    name_v, _fold(name_v), company_v, _fold(company_v), _level(level),
                    json.dumps(tag_list, ensure_ascii=False), _gender(gender), bday, bday[5:] if bday else None,
                    _text(address, "address"), _text(email, "email", 200), _text(owner, "owner", 64),
                    json.dumps(custom_v, ensure_ascii=False), now, now,
                ),
            )  # fmt: skip
            cid = cur.lastrowid
            await db.executemany(
                "INSERT INTO customer_tags(tag, customer_id) VALUES (?, ?)",
                [(t.casefold(), cid) for t in tag_list],
            )
            await db.executemany(
                "INSERT INTO customer_numbers(customer_id, raw, e164, national, local, label) VALUES (?, ?, ?, ?, ?, ?)",
                [(cid, *r) for r in num_rows],
            )
        assert cid is not None
        return await self.get(cid)

    async def update(self, customer_id: int, **fields: Any) -> Customer:
        """Change card fields; `custom` is merged (a None value removes that field)."""
        allowed = {
            "name",
            "company",
            "level",
            "tags",
            "gender",
            "birthday",
            "address",
            "email",
            "owner",
            "custom",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidValueError(f"cannot update customer field(s): {', '.join(sorted(unknown))}")
        current = await self.get(customer_id)
        sets: dict[str, Any] = {}
        if "name" in fields:
            sets["name"] = _text(fields["name"], "name", MAX_NAME, required=True)
            sets["name_fold"] = _fold(sets["name"])
        if "company" in fields:
            sets["company"] = _text(fields["company"], "company", MAX_NAME)
            sets["company_fold"] = _fold(sets["company"])
        if "level" in fields:
            sets["level"] = _level(fields["level"])
        if "gender" in fields:
            sets["gender"] = _gender(fields["gender"])
        if "birthday" in fields:
            sets["birthday"] = _date(fields["birthday"], "birthday")
            sets["birth_md"] = sets["birthday"][5:] if sets["birthday"] else None
        for k, limit in (("address", MAX_TEXT), ("email", 200), ("owner", 64)):
            if k in fields:
                sets[k] = _text(fields[k], k, limit)
        if "custom" in fields:
            merged = {**current.custom, **(fields["custom"] or {})}
            sets["custom"] = json.dumps(await self._check_custom(merged, whole=True), ensure_ascii=False)
        new_tags = _tags(fields["tags"]) if "tags" in fields else None
        if new_tags is not None:
            sets["tags"] = json.dumps(new_tags, ensure_ascii=False)
        sets["updated"] = self._db.clock.wall()
        # Column names come from the fixed `allowed` set above, never from the caller's text.
        assignment = ", ".join(f"{k} = ?" for k in sets)
        async with self._db.transaction() as db:
            await db.execute(f"UPDATE customers SET {assignment} WHERE id = ?", (*sets.values(), customer_id))
            if new_tags is not None:
                await db.execute("DELETE FROM customer_tags WHERE customer_id = ?", (customer_id,))
                await db.executemany(
                    "INSERT INTO customer_tags(tag, customer_id) VALUES (?, ?)",
                    [(t.casefold(), customer_id) for t in new_tags],
                )
        return await self.get(customer_id)

    async def delete(self, customer_id: int) -> None:
        """Remove a customer with numbers, contacts, notes, orders and reminders (calls keep their CDR)."""
        _, n = await self._db.write("DELETE FROM customers WHERE id = ?", (customer_id,))
        if n == 0:
            raise NotFoundError(f"no customer {customer_id}")

    async def add_number(
        self, customer_id: int, raw: str, label: str | None = None, *, contact_id: int | None = None
    ) -> PhoneNumber:
        row = self._number_row(raw)
        rowid, _ = await self._db.write(
            "INSERT INTO customer_numbers(customer_id, contact_id, raw, e164, national, local, label) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (customer_id, contact_id, *row, _text(label, "label", 50)),
        )
        r = await self._db.fetchone("SELECT * FROM customer_numbers WHERE id = ?", (rowid,))
        assert r is not None
        return PhoneNumber.from_row(r)

    async def remove_number(self, number_id: int) -> None:
        _, n = await self._db.write("DELETE FROM customer_numbers WHERE id = ?", (number_id,))
        if n == 0:
            raise NotFoundError(f"no phone number {number_id}")

    async def add_contact(
        self,
        customer_id: int,
        name: str,
        *,
        title: str | None = None,
        email: str | None = None,
        note: str | None = None,
        numbers: Iterable[NumberInput] = (),
    ) -> Contact:
        """A person at a company customer; their numbers also find the company on a call."""
        name_v = _text(name, "contact name", MAX_NAME, required=True)
        nums = [(n, None) if isinstance(n, str) else (n[0], n[1]) for n in numbers]
        num_rows = [(*self._number_row(raw), _text(label, "label", 50) or name_v) for raw, label in nums]
        async with self._db.transaction() as db:
            cur = await db.execute(
                "INSERT INTO contacts(customer_id, name, title, email, note, created) VALUES (?, ?, ?, ?, ?, ?)",
                (customer_id, name_v, _text(title, "title", 100), _text(email, "email", 200), _text(note, "note"),
                 self._db.clock.wall()),
            )  # fmt: skip
            contact_id = cur.lastrowid
            await db.executemany(
                "INSERT INTO customer_numbers(customer_id, contact_id, raw, e164, national, local, label) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(customer_id, contact_id, *r) for r in num_rows],
            )
        customer = await self.get(customer_id)
        return next(c for c in customer.contacts if c.id == contact_id)

    async def bulk_add(
        self,
        customers: Sequence[tuple[int, str, str | None, str, list[str], float]],
        numbers: Sequence[tuple[int, str, str, str, str]],
    ) -> None:
        """Fast load for benchmarks and imports of pre-normalised data, trusted as given.

        customers: (id, name, company, level, tags, created);
        numbers: (customer_id, raw, key, national, local) — forms as `NumberPlan.index_forms` makes them.
        """
        async with self._db.transaction() as db:
            await db.executemany(
                "INSERT INTO customers(id, name, name_fold, company, company_fold, level, tags, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, n, n.casefold(), c, _fold(c), lv, json.dumps(t, ensure_ascii=False), ts, ts)
                    for i, n, c, lv, t, ts in customers
                ],
            )
            await db.executemany(
                "INSERT INTO customer_tags(tag, customer_id) VALUES (?, ?)",
                [(t.casefold(), i) for i, _, _, _, tags, _ in customers for t in tags],
            )
            await db.executemany(
                "INSERT INTO customer_numbers(customer_id, raw, e164, national, local) VALUES (?, ?, ?, ?, ?)",
                numbers,
            )

    # --- reading -----------------------------------------------------------------------------------

    async def get(self, customer_id: int) -> Customer:
        found = await self._load([customer_id])
        if not found:
            raise NotFoundError(f"no customer {customer_id}")
        return found[0]

    async def count(self) -> int:
        row = await self._db.fetchone("SELECT count(*) FROM customers")
        return int(row[0]) if row else 0

    async def list(self, offset: int = 0, limit: int = 50) -> list[Customer]:
        """A page of customers by id (browsing; the customer list panel)."""
        rows = await self._db.fetchall(
            f"{_LOAD} ORDER BY c.id LIMIT ? OFFSET ?", (max(0, min(int(limit), 1000)), max(0, int(offset)))
        )
        return [_customer(r) for r in rows]

    async def max_id(self) -> int:
        row = await self._db.fetchone("SELECT coalesce(max(id), 0) FROM customers")
        return int(row[0]) if row else 0

    async def find_by_number(self, number: str) -> list[Customer]:
        """Customers with this number (as a caller ID gives it, in any form); usually 0 or 1.

        Several customers may share a number (a switchboard): the caller shows a picker.
        """
        info = self.plan.index_forms(number if isinstance(number, str) else "")
        if not info.present or not info.key:
            return []
        rows = await self._db.fetchall_inline(
            f"{_LOAD} WHERE c.id IN (SELECT customer_id FROM customer_numbers WHERE e164 = ?) ORDER BY c.id LIMIT 50",
            (info.key,),
        )
        return [_customer(r) for r in rows]

    async def search(self, text: str, limit: int = 20) -> list[Customer]:
        """Customers whose name, company or tag starts with `text`, or with a number starting with it.

        Text is matched case-insensitively as a prefix ("张" finds 张三, 张伟...); digits are
        matched against numbers in E.164, national and subscriber form.
        """
        if not isinstance(text, str):
            return []
        t = text.strip()[:100]
        limit = max(1, min(int(limit), MAX_RESULTS))
        if not t:
            return []
        parts: list[str] = []
        params: list[Any] = []
        if _PHONEISH.fullmatch(t) and sum(ch.isdigit() for ch in t) >= 3:
            digits = ("+" if t.startswith("+") else "") + re.sub(r"\D", "", t)
            keys, local = self.plan.search_prefixes(digits)
            for k in keys:
                parts.append("SELECT customer_id FROM customer_numbers WHERE e164 >= ? AND e164 < ? LIMIT ?")
                params += [k, k + _TOP, limit]
            parts.append("SELECT customer_id FROM customer_numbers WHERE local >= ? AND local < ? LIMIT ?")
            params += [local, local + _TOP, limit]
        else:
            f = t.casefold()
            parts.append(
                "SELECT id FROM customers WHERE name_fold >= ? AND name_fold < ? ORDER BY name_fold LIMIT ?"
            )
            parts.append(
                "SELECT id FROM customers WHERE company_fold >= ? AND company_fold < ? ORDER BY company_fold LIMIT ?"
            )
            parts.append("SELECT customer_id FROM customer_tags WHERE tag >= ? AND tag < ? LIMIT ?")
            params += [f, f + _TOP, limit] * 3
        sql = " UNION ALL ".join(f"SELECT * FROM ({p})" for p in parts)
        rows = await self._db.fetchall(sql, params)
        ids = list(dict.fromkeys(r[0] for r in rows))[:limit]
        return await self._load(ids)

    async def _load(self, ids: list[int]) -> list[Customer]:
        """Customers with numbers and contacts, in the order of `ids` — one query, one thread hop."""
        if not ids:
            return []
        rows = await self._db.fetchall(f"{_LOAD} WHERE c.id IN ({placeholders(len(ids))})", ids)
        found = {r["id"]: _customer(r) for r in rows}
        return [found[i] for i in ids if i in found]

    async def birthdays(self, month_day: str, owner: str | None = None) -> list[Customer]:
        """Customers whose birthday is on `month_day` ("MM-DD"), optionally only those `owner` looks after."""
        if owner is None:
            rows = await self._db.fetchall(
                "SELECT id FROM customers WHERE birth_md = ? LIMIT 500", (month_day,)
            )
        else:
            rows = await self._db.fetchall(
                "SELECT id FROM customers WHERE birth_md = ? AND owner = ? LIMIT 500", (month_day, owner)
            )
        return await self._load([r[0] for r in rows])

    async def number_keys(self, customer_id: int) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT e164 FROM customer_numbers WHERE customer_id = ?", (customer_id,)
        )
        return list(dict.fromkeys(r[0] for r in rows))
