"""Socket commands of the CRM: the screen pop, customers, notes, categories, fields, orders,
reminders and missed calls.

Roles follow the seed's split: an agent sees and edits customers, files notes and orders;
only supervisors (班长) manage note categories; only admins define custom fields. A refused
request changes nothing. The store's own validation errors come back as E_INVALID_ARGS with
``details.argument`` naming the field, so a form can put the message next to the right input.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from ccd.ipc.errors import E_CONFLICT, E_INVALID_ARGS, E_NOT_FOUND, E_UNAVAILABLE, RpcError
from ccd.server.registry import CommandRegistry, RequestContext, optional, reject_unknown, require

if TYPE_CHECKING:
    from ccd.crm.service import CrmService
    from ccd.daemon import Daemon

CUSTOMER_FIELDS = (
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
)
NOTE_STATUSES = ("new", "follow_up", "closed")
MAX_NOTE = 10_000
MAX_SEARCH = 100


def _argument_of(message: str, candidates: tuple[str, ...]) -> str | None:
    """Which argument a store error is about, read from its first words ("name is too long...")."""
    low = message.lower()
    for name in sorted(candidates, key=len, reverse=True):
        if re.match(rf"(unknown )?(note )?{re.escape(name)}\b", low):
            return name
    return None


def _store_error(exc: Exception, candidates: tuple[str, ...] = (), default: str | None = None) -> RpcError:
    """Turn a store error into the protocol error a person can act on."""
    from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError

    msg = str(exc)
    if isinstance(exc, NotFoundError):
        return RpcError(E_NOT_FOUND, msg)
    if isinstance(exc, DuplicateError):
        return RpcError(E_CONFLICT, msg)
    if isinstance(exc, InvalidValueError):
        arg = _argument_of(msg, candidates) or default
        return RpcError(E_INVALID_ARGS, msg, {"argument": arg} if arg else None)
    return RpcError(E_UNAVAILABLE, f"the database could not do that: {msg}")


def _login(ctx: RequestContext) -> str:
    return ctx.user.login if ctx.user else "system"


def _pos_int(args: dict[str, Any], name: str, default: Any = ...) -> int:
    value = require(args, name, int) if default is ... else optional(args, name, int, default)
    if value is not None and value <= 0:
        raise RpcError(E_INVALID_ARGS, f"argument '{name}' must be a positive id", {"argument": name})
    return value


def _numbers_arg(args: dict[str, Any]) -> list[tuple[str, str | None]]:
    raw = optional(args, "numbers", list, [])
    out: list[tuple[str, str | None]] = []
    for item in raw:
        if isinstance(item, str):
            out.append((item, None))
        elif isinstance(item, dict) and isinstance(item.get("number"), str):
            label = item.get("label")
            out.append((item["number"], label if isinstance(label, str) else None))
        else:
            raise RpcError(
                E_INVALID_ARGS,
                "argument 'numbers' must be a list of numbers or {number, label} objects",
                {"argument": "numbers"},
            )
    return out


def _follow_up(args: dict[str, Any]) -> float | None:
    value = optional(args, "follow_up_at", (float, str))
    if value is None or isinstance(value, float):
        return value
    try:
        return float(value)
    except ValueError:
        raise RpcError(
            E_INVALID_ARGS, "argument 'follow_up_at' must be a Unix time", {"argument": "follow_up_at"}
        ) from None


def build_registry(daemon: Daemon) -> CommandRegistry:
    """The CRM commands over `daemon.store` (the daemon is only touched when a command runs)."""
    reg = CommandRegistry()
    cache: dict[str, Any] = {}

    def service() -> CrmService:
        store = getattr(daemon, "store", None)
        if store is None:
            raise RpcError(E_UNAVAILABLE, "the database is not open")
        svc = cache.get("svc")
        if svc is None or svc.store is not store:
            from ccd.crm.service import CrmService

            svc = cache["svc"] = CrmService(store)
        return svc

    # ------------------------------------------------------------------ screen pop
    @reg.command(
        "crm.pop",
        role="agent",
        doc="The screen pop for a caller's number: customer card(s), location and carrier, last three "
        "contacts with the first words of each note, open follow-ups, recent orders, call history with "
        "recordings, voicemails, survey scores, and the IVR choices and wait of the offered call.",
        example={"number": "13800138000", "call": "1767603600.1"},
    )
    async def crm_pop(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "number", "call", "customer")
        number = require(args, "number", str)
        call_id = optional(args, "call", str)
        customer = _pos_int(args, "customer", None)
        if len(number) > 64:
            raise RpcError(E_INVALID_ARGS, "argument 'number' is too long", {"argument": "number"})
        offer: dict[str, Any] | None = None
        engine = getattr(daemon, "engine", None)
        if call_id and engine is not None:
            live = engine.calls.get(call_id)
            if live is not None:
                offer = live.snapshot()
                for extra in ("ivr_path", "wait", "queue", "agent"):
                    if hasattr(live, extra):
                        offer[extra] = getattr(live, extra)
        if call_id and offer is None:
            offer = {"call": call_id}
        try:
            return await service().pop(number, call=offer, customer_id=customer)
        except Exception as exc:
            raise _store_error(exc) from None

    # ------------------------------------------------------------------ customers
    @reg.command("customer.get", role="agent", doc="One customer card by id.", example={"customer": 1})
    async def customer_get(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import customer_dict

        reject_unknown(args, "customer")
        try:
            return customer_dict(await service().store.customers.get(_pos_int(args, "customer")))
        except RpcError:
            raise
        except Exception as exc:
            raise _store_error(exc) from None

    @reg.command(
        "customer.search",
        role="agent",
        doc="Customers whose name, company or tag starts with TEXT, or with a number starting with it.",
        example={"text": "张", "limit": 20},
    )
    async def customer_search(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        from ccd.crm.service import customer_dict

        reject_unknown(args, "text", "limit")
        text = require(args, "text", str)
        limit = optional(args, "limit", int, 20)
        if not 1 <= limit <= MAX_SEARCH:
            raise RpcError(E_INVALID_ARGS, f"argument 'limit' must be 1-{MAX_SEARCH}", {"argument": "limit"})
        try:
            return [customer_dict(c) for c in await service().store.customers.search(text, limit)]
        except Exception as exc:
            raise _store_error(exc) from None

    @reg.command(
        "customer.add",
        role="agent",
        doc="Create a customer (the new-customer form of an unknown caller). Numbers: strings or "
        "{number, label}; custom: admin-defined fields by name.",
        example={
            "name": "李四",
            "numbers": [{"number": "13900139000", "label": "手机"}],
            "company": "华信科技",
        },
    )
    async def customer_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import customer_dict

        reject_unknown(args, "numbers", *CUSTOMER_FIELDS)
        name = require(args, "name", str)
        numbers = _numbers_arg(args)
        fields: dict[str, Any] = {}
        for key in CUSTOMER_FIELDS[1:]:
            if key in ("tags",):
                fields[key] = optional(args, key, list, [])
            elif key == "custom":
                fields[key] = optional(args, key, dict, {})
            else:
                fields[key] = optional(args, key, str)
        if fields["level"] is None:
            fields["level"] = "normal"
        fields["owner"] = fields["owner"] or _login(ctx)
        try:
            customer = await service().store.customers.add(name, numbers=numbers, **fields)
        except Exception as exc:
            raise _store_error(exc, (*CUSTOMER_FIELDS, "numbers", "number", "tag", "label")) from None
        return customer_dict(customer)

    @reg.command(
        "customer.update",
        role="agent",
        doc="Change fields of a customer card; 'custom' is merged (null removes a field).",
        example={"customer": 1, "company": "华信科技", "tags": ["老客户"]},
    )
    async def customer_update(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import customer_dict

        reject_unknown(args, "customer", *CUSTOMER_FIELDS)
        cid = _pos_int(args, "customer")
        fields = {k: v for k, v in args.items() if k != "customer"}
        for key, value in fields.items():
            want: type = list if key == "tags" else dict if key == "custom" else str
            if value is not None and not isinstance(value, want):
                what = {list: "a list", dict: "an object", str: "a string"}[want]
                raise RpcError(E_INVALID_ARGS, f"argument '{key}' must be {what}", {"argument": key})
        if not fields:
            raise RpcError(E_INVALID_ARGS, "nothing to change: pass at least one field", {"argument": "name"})
        try:
            return customer_dict(await service().store.customers.update(cid, **fields))
        except Exception as exc:
            raise _store_error(exc, (*CUSTOMER_FIELDS, "tag")) from None

    @reg.command(
        "customer.add_number",
        role="agent",
        doc="Add a phone number to a customer.",
        example={"customer": 1, "number": "01062345678", "label": "办公室"},
    )
    async def customer_add_number(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import customer_dict

        reject_unknown(args, "customer", "number", "label")
        cid = _pos_int(args, "customer")
        number = require(args, "number", str)
        label = optional(args, "label", str)
        store = service().store
        try:
            await store.customers.add_number(cid, number, label)
            return customer_dict(await store.customers.get(cid))
        except Exception as exc:
            raise _store_error(exc, ("label",), default="number") from None

    @reg.command(
        "timeline",
        role="agent",
        doc="A customer's whole story in time order (calls, notes, orders, recordings), oldest first.",
        example={"customer": 1},
    )
    async def timeline(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args, "customer", "limit")
        cid = _pos_int(args, "customer")
        limit = optional(args, "limit", int, 200)
        if not 1 <= limit <= 1000:
            raise RpcError(E_INVALID_ARGS, "argument 'limit' must be 1-1000", {"argument": "limit"})
        try:
            return await service().timeline(cid, limit)
        except Exception as exc:
            raise _store_error(exc) from None

    # ------------------------------------------------------------------ notes
    def _note_text(args: dict[str, Any]) -> str:
        text = require(args, "text", str)
        if not text.strip():
            raise RpcError(E_INVALID_ARGS, "a note needs some text", {"argument": "text"})
        if len(text.strip()) > MAX_NOTE:
            raise RpcError(
                E_INVALID_ARGS,
                f"a note is at most {MAX_NOTE} characters (this one has {len(text.strip())})",
                {"argument": "text"},
            )
        return text

    @reg.command(
        "note.add",
        role="agent",
        doc="File a note on a customer (status new, follow_up or closed; a follow-up date makes a reminder).",
        example={"customer": 1, "call": "1767603600.1", "category": "咨询", "status": "follow_up",
                 "text": "客户询问滤芯更换", "follow_up_at": 1767690000},
    )  # fmt: skip
    async def note_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import note_dict

        reject_unknown(args, "customer", "call", "category", "status", "text", "follow_up_at")
        cid = _pos_int(args, "customer")
        text = _note_text(args)
        status = require(args, "status", str, default="new", choices=NOTE_STATUSES)
        category = optional(args, "category", str) or None
        follow = _follow_up(args)
        try:
            note = await service().store.notes.add(
                cid, _login(ctx), text, category=category, status=status,
                call_uniqueid=optional(args, "call", str), follow_up_at=follow,
            )  # fmt: skip
        except Exception as exc:
            raise _store_error(exc, ("category", "status", "text"), default="text") from None
        return note_dict(note)

    @reg.command(
        "note.update",
        role="agent",
        doc="Change a note's status (anyone) or its text and category (its author or a supervisor).",
        example={"note": 7, "status": "closed"},
    )
    async def note_update(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import note_dict

        reject_unknown(args, "note", "status", "text", "category")
        nid = _pos_int(args, "note")
        status = optional(args, "status", str)
        if status is not None and status not in NOTE_STATUSES:
            raise RpcError(
                E_INVALID_ARGS,
                f"argument 'status' must be one of {', '.join(NOTE_STATUSES)}",
                {"argument": "status"},
            )
        store = service().store
        try:
            note = await store.notes.get(nid)
            if "text" in args or "category" in args:
                if note.author != _login(ctx):
                    ctx.require_role("supervisor")
                text = _note_text(args) if "text" in args else note.text
                category = optional(args, "category", str)
                if category is not None and category not in {c.name for c in await store.notes.categories()}:
                    raise RpcError(
                        E_INVALID_ARGS, f"unknown note category {category!r}", {"argument": "category"}
                    )
                note = await store.notes.update_text(nid, text, category=category)
            if status is not None:
                note = await store.notes.update_status(nid, status)
        except RpcError:
            raise
        except Exception as exc:
            raise _store_error(exc, ("category", "status", "text")) from None
        return note_dict(note)

    @reg.command(
        "note.list",
        role="agent",
        doc="A customer's notes, newest first.",
        example={"customer": 1, "limit": 50},
    )
    async def note_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        from ccd.crm.service import note_dict

        reject_unknown(args, "customer", "limit", "open")
        cid = _pos_int(args, "customer")
        limit = optional(args, "limit", int, 50)
        if not 1 <= limit <= 1000:
            raise RpcError(E_INVALID_ARGS, "argument 'limit' must be 1-1000", {"argument": "limit"})
        store = service().store
        try:
            if optional(args, "open", bool, False):
                return [note_dict(n) for n in await store.notes.open_follow_ups(cid)]
            return [note_dict(n) for n in await store.notes.list_for_customer(cid, limit)]
        except Exception as exc:
            raise _store_error(exc) from None

    # ------------------------------------------------------------------ categories and fields
    @reg.command("category.list", role="agent", doc="Note categories for the pickers.", example={})
    async def category_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        from ccd.crm.service import category_dict

        reject_unknown(args, "all")
        everything = optional(args, "all", bool, False)
        return [category_dict(c) for c in await service().store.notes.categories(include_disabled=everything)]

    @reg.command(
        "category.add",
        role="supervisor",
        doc="Add (or re-enable) a note category (班长 manage categories).",
        example={"name": "退货", "label": "退货"},
    )
    async def category_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import category_dict

        reject_unknown(args, "name", "label")
        try:
            return category_dict(
                await service().store.notes.add_category(
                    require(args, "name", str), optional(args, "label", str)
                )
            )
        except Exception as exc:
            raise _store_error(exc, default="name") from None

    @reg.command(
        "category.remove",
        role="supervisor",
        doc="Hide a note category from pickers (notes filed under it keep it).",
        example={"name": "退货"},
    )
    async def category_remove(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "name")
        name = require(args, "name", str)
        try:
            await service().store.notes.disable_category(name)
        except Exception as exc:
            raise _store_error(exc, default="name") from None
        return {"name": name, "removed": True}

    @reg.command("field.list", role="agent", doc="The admin-defined customer fields.", example={})
    async def field_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        from ccd.crm.service import field_dict

        reject_unknown(args)
        return [field_dict(f) for f in await service().store.customers.fields()]

    @reg.command(
        "field.add",
        role="admin",
        doc="Define (or redefine) a custom customer field: type text, int, date or choice.",
        example={
            "name": "contract_no",
            "label": "合同编号",
            "type": "text",
            "choices": [],
            "required": False,
        },
    )
    async def field_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import field_dict

        reject_unknown(args, "name", "label", "type", "choices", "required")
        name = require(args, "name", str)
        choices = optional(args, "choices", list, [])
        if not all(isinstance(c, str) for c in choices):
            raise RpcError(
                E_INVALID_ARGS, "argument 'choices' must be a list of strings", {"argument": "choices"}
            )
        try:
            f = await service().store.customers.define_field(
                name,
                optional(args, "label", str) or name,
                require(args, "type", str, choices=("text", "int", "date", "choice")),
                choices=choices,
                required=optional(args, "required", bool, False),
            )
        except Exception as exc:
            raise _store_error(exc, ("label", "choice", "field name", "field type"), default="name") from None
        return field_dict(f)

    @reg.command(
        "field.remove",
        role="admin",
        doc="Forget a custom field definition (values already stored stay).",
        example={"name": "contract_no"},
    )
    async def field_remove(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "name")
        name = require(args, "name", str)
        try:
            await service().store.customers.remove_field(name)
        except Exception as exc:
            raise _store_error(exc, default="name") from None
        return {"name": name, "removed": True}

    # ------------------------------------------------------------------ orders and products
    @reg.command(
        "order.create",
        role="agent",
        doc="Create an order for a customer: lines of {product (id or SKU), qty}; prices from the product list.",
        example={"customer": 1, "lines": [{"product": "LX-01", "qty": 2}], "note": "下周一送货"},
    )
    async def order_create(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import order_dict

        reject_unknown(args, "customer", "lines", "note")
        cid = _pos_int(args, "customer")
        lines = require(args, "lines", list)
        clean: list[dict[str, Any]] = []
        for ln in lines:
            if not isinstance(ln, dict) or not isinstance(ln.get("product"), int | str):
                raise RpcError(
                    E_INVALID_ARGS, "each of 'lines' must be {product, qty}", {"argument": "lines"}
                )
            qty = ln.get("qty", 1)
            if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
                raise RpcError(E_INVALID_ARGS, f"quantity must be a whole number > 0, not {qty!r}",
                               {"argument": "lines"})  # fmt: skip
            clean.append({"product": ln["product"], "qty": qty})  # agents never set prices
        note = optional(args, "note", str)
        if note is not None and len(note) > 2000:
            raise RpcError(E_INVALID_ARGS, "an order note is at most 2000 characters", {"argument": "note"})
        try:
            order = await service().store.orders.create(cid, clean, author=_login(ctx), note=note)
        except Exception as exc:
            raise _store_error(exc, default="lines") from None
        return order_dict(order)

    @reg.command(
        "order.list", role="agent", doc="A customer's latest orders with lines, newest first.",
        example={"customer": 1, "limit": 10},
    )  # fmt: skip
    async def order_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        from ccd.crm.service import order_dict

        reject_unknown(args, "customer", "limit")
        cid = _pos_int(args, "customer")
        limit = optional(args, "limit", int, 10)
        if not 1 <= limit <= 500:
            raise RpcError(E_INVALID_ARGS, "argument 'limit' must be 1-500", {"argument": "limit"})
        return [order_dict(o) for o in await service().store.orders.recent(cid, limit)]

    @reg.command("product.list", role="agent", doc="Products that can be ordered (price in fen).", example={})
    async def product_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args)
        return [
            {"id": p.id, "sku": p.sku, "name": p.name, "price": p.price}
            for p in await service().store.products.list()
        ]

    # ------------------------------------------------------------------ reminders and missed calls
    @reg.command(
        "reminder.list",
        role="agent",
        doc="Your reminders for a day (default today): follow-ups, memos, customers' birthdays; "
        "overdue ones included.",
        example={"day": "2026-01-05"},
    )
    async def reminder_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args, "day")
        raw = optional(args, "day", str)
        day = None
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise RpcError(
                    E_INVALID_ARGS, "argument 'day' must be YYYY-MM-DD", {"argument": "day"}
                ) from None
        return await service().reminders(_login(ctx), day)

    @reg.command(
        "reminder.add",
        role="agent",
        doc="Add a reminder for yourself (kind memo or follow_up) due at a Unix time.",
        example={"kind": "memo", "due": 1767690000, "text": "给华信科技发送报价", "customer": 1},
    )
    async def reminder_add(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        from ccd.crm.service import reminder_dict

        reject_unknown(args, "kind", "due", "text", "customer")
        kind = require(args, "kind", str, default="memo", choices=("memo", "follow_up"))
        due = require(args, "due", float)
        text = require(args, "text", str)
        try:
            r = await service().store.reminders.add(
                _login(ctx), kind, due, text, customer_id=_pos_int(args, "customer", None)
            )
        except Exception as exc:
            raise _store_error(exc, default="text") from None
        return reminder_dict(r)

    @reg.command(
        "reminder.done", role="agent", doc="Tick off one of your reminders.", example={"reminder": 3}
    )
    async def reminder_done(ctx: RequestContext, args: dict[str, Any]) -> dict[str, Any]:
        reject_unknown(args, "reminder")
        rid = _pos_int(args, "reminder")
        svc = service()
        if rid not in await svc.open_reminder_ids(_login(ctx)):
            ctx.require_role("supervisor")
        try:
            await svc.store.reminders.mark_done(rid)
        except Exception as exc:
            raise _store_error(exc) from None
        return {"reminder": rid, "done": True}

    @reg.command(
        "missed.list",
        role="agent",
        doc="Unanswered inbound calls whose number has not been reached since (newest first), for call back.",
        example={"days": 7},
    )
    async def missed_list(ctx: RequestContext, args: dict[str, Any]) -> list[dict[str, Any]]:
        reject_unknown(args, "days", "limit")
        days = optional(args, "days", float, 7.0)
        limit = optional(args, "limit", int, 100)
        if not 0 < days <= 90:
            raise RpcError(
                E_INVALID_ARGS, "argument 'days' must be more than 0 and at most 90", {"argument": "days"}
            )
        if not 1 <= limit <= 1000:
            raise RpcError(E_INVALID_ARGS, "argument 'limit' must be 1-1000", {"argument": "limit"})
        flush = getattr(daemon, "flush", None)
        if flush is not None:
            await flush()
        return await service().missed(days, limit)

    return reg
