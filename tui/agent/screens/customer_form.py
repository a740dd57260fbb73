"""The customer card form (new or edit) with inline validation, and the shared-number picker.

For an unknown caller the form sits inside the screen pop, already filled in with the number
and its location, so filing the caller is typing a name and ctrl+s. Mistakes are shown under
the field they concern: checked here first (required, too long, not a date, not a number),
then by the daemon, whose E_INVALID_ARGS names the field.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from ccd.ipc.errors import RpcError
from tui.client import DaemonConnectionError

LEVEL_CHOICES = [("普通 normal", "normal"), ("银卡 silver", "silver"), ("金卡 gold", "gold"), ("VIP", "vip")]
TEXT_FIELDS = (
    ("name", "姓名 Name *", 200),
    ("company", "公司 Company", 200),
    ("number", "电话 Number", 40),
    ("tags", "标签 Tags (comma separated)", 300),
    ("birthday", "生日 Birthday (YYYY-MM-DD)", 10),
    ("email", "邮件 Email", 200),
    ("address", "地址 Address", 2000),
)


def validate(values: dict[str, str], fields: list[dict[str, Any]]) -> dict[str, str]:
    """Field -> message for what is wrong before anything is sent (pure, for tests too)."""
    errors: dict[str, str] = {}
    if not values.get("name", "").strip():
        errors["name"] = "姓名必填 a name is required"
    for key, _, limit in TEXT_FIELDS:
        v = values.get(key, "")
        if len(v) > limit:
            errors[key] = f"too long: {len(v)} characters, at most {limit}"
    if values.get("birthday"):
        try:
            date.fromisoformat(values["birthday"])
        except ValueError:
            errors["birthday"] = "not a date: use YYYY-MM-DD"
    for f in fields:
        v = values.get(f"custom.{f['name']}", "").strip()
        if not v:
            if f.get("required"):
                errors[f"custom.{f['name']}"] = f"{f['label']} is required"
            continue
        if f["type"] == "int" and not v.lstrip("-").isdigit():
            errors[f"custom.{f['name']}"] = f"{f['label']}: a whole number"
        elif f["type"] == "date":
            try:
                date.fromisoformat(v)
            except ValueError:
                errors[f"custom.{f['name']}"] = f"{f['label']}: a date YYYY-MM-DD"
        elif f["type"] == "choice" and v not in f.get("choices", []):
            errors[f"custom.{f['name']}"] = f"{f['label']}: one of {', '.join(f.get('choices', []))}"
    return errors


class CustomerForm(Vertical):
    """Edit a customer (`customer` given) or file a new one (`prefill` number, location...)."""

    class Saved(Message):
        def __init__(self, form: CustomerForm, customer: dict[str, Any]) -> None:
            super().__init__()
            self.form = form
            self.customer = customer

        @property
        def control(self) -> CustomerForm:
            return self.form

    DEFAULT_CSS = """
    CustomerForm { height: auto; }
    CustomerForm Input { height: 1; border: none; padding: 0 1; background: $boost; }
    CustomerForm Input:focus { background: $primary 30%; }
    CustomerForm .field-error { color: $error; height: auto; }
    CustomerForm #form-title { text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save", "Save customer", id="customer_save")]

    def __init__(
        self,
        customer: dict[str, Any] | None = None,
        *,
        prefill: dict[str, str] | None = None,
        fields: list[dict[str, Any]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.customer = customer
        self.prefill = prefill or {}
        self.fields = fields or []

    def _initial(self, key: str) -> str:
        c = self.customer
        if c is None:
            return self.prefill.get(key, "")
        if key == "tags":
            return ", ".join(c.get("tags") or [])
        if key == "number":
            return ""
        if key.startswith("custom."):
            v = (c.get("custom") or {}).get(key[7:])
            return "" if v is None else str(v)
        v = c.get(key)
        return "" if v is None else str(v)

    def compose(self) -> ComposeResult:
        title = f"编辑客户 Edit {self.customer['name']}" if self.customer else "新客户 New customer"
        where = self.prefill.get("location")
        yield Static(
            title + (f"  ({where})" if where and not self.customer else "") + "  ctrl+s save", id="form-title"
        )
        for key, label, _ in TEXT_FIELDS:
            if key == "number" and self.customer is not None:
                continue
            yield Label(label)
            yield Input(self._initial(key), id=f"f-{key}", classes="form-input")
            yield Static("", id=f"err-{key}", classes="field-error")
        yield Label("等级 Level")
        level = (self.customer or {}).get("level") or "normal"
        yield Select(LEVEL_CHOICES, value=level, allow_blank=False, id="f-level")
        for f in self.fields:
            key = f"custom.{f['name']}"
            label = f"{f['label']}{' *' if f.get('required') else ''}"
            if f["type"] == "choice":
                label += f" ({'/'.join(f.get('choices', []))})"
            yield Label(label)
            yield Input(self._initial(key), id=f"f-custom-{f['name']}", classes="form-input")
            yield Static("", id=f"err-custom-{f['name']}", classes="field-error")
        yield Static("", id="err-form", classes="field-error")

    def values(self) -> dict[str, str]:
        out = {}
        for key, _, _ in TEXT_FIELDS:
            found = self.query(f"#f-{key}")
            if found:
                out[key] = found.first(Input).value.strip()
        for f in self.fields:
            out[f"custom.{f['name']}"] = self.query_one(f"#f-custom-{f['name']}", Input).value.strip()
        return out

    def show_errors(self, errors: dict[str, str]) -> None:
        for err in self.query(".field-error"):
            err.update("")  # type: ignore[attr-defined]
        for key, msg in errors.items():
            target = self.query(f"#err-{key.replace('.', '-')}")
            (target.first(Static) if target else self.query_one("#err-form", Static)).update(f"↑ {msg}")

    def payload(self, values: dict[str, str]) -> dict[str, Any]:
        level = self.query_one("#f-level", Select).value
        args: dict[str, Any] = {
            "name": values["name"],
            "company": values.get("company") or None,
            "tags": [t.strip() for t in values.get("tags", "").replace("，", ",").split(",") if t.strip()],
            "birthday": values.get("birthday") or None,
            "email": values.get("email") or None,
            "address": values.get("address") or None,
            "level": level if isinstance(level, str) else "normal",
        }
        custom: dict[str, Any] = {}
        for f in self.fields:
            v = values.get(f"custom.{f['name']}", "")
            custom[f["name"]] = (int(v) if f["type"] == "int" else v) if v else None
        if custom:
            args["custom"] = custom if self.customer else {k: v for k, v in custom.items() if v is not None}
        return args

    async def action_save(self) -> None:
        values = self.values()
        errors = validate(values, self.fields)
        if errors:
            self.show_errors(errors)
            return
        args = self.payload(values)
        app: Any = self.app
        try:
            if self.customer is None:
                if values.get("number"):
                    args["numbers"] = [{"number": values["number"], "label": self.prefill.get("label")}]
                saved = await app.rpc_raw("customer.add", **args)
            else:
                saved = await app.rpc_raw("customer.update", customer=self.customer["id"], **args)
        except RpcError as exc:
            arg = (exc.details or {}).get("argument")
            if arg == "custom":
                arg = next((f"custom.{f['name']}" for f in self.fields if f["label"] in exc.message), None)
            if arg in ("numbers",):
                arg = "number"
            self.show_errors({arg or "form": exc.message})
            if exc.code not in ("E_INVALID_ARGS",):
                app.notify(exc.message, title=exc.code, severity="error")
            return
        except (DaemonConnectionError, ConnectionError, TimeoutError) as exc:
            self.show_errors(
                {"form": f"not saved — {exc}; what you typed is kept, try again when reconnected"}
            )
            return
        self.show_errors({})
        self.customer = saved
        self.post_message(self.Saved(self, saved))


class CustomerFormScreen(ModalScreen[dict[str, Any] | None]):
    """The form as a dialog: edit the card on screen, or file a new customer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel", id="customer_cancel")
    ]

    def __init__(self, customer: dict[str, Any] | None = None, *, prefill: dict[str, str] | None = None,
                 fields: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.form = CustomerForm(customer, prefill=prefill, fields=fields)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield self.form
        yield Footer()

    def on_mount(self) -> None:
        self.form.query(Input).first().focus()

    @on(CustomerForm.Saved)
    def _saved(self, event: CustomerForm.Saved) -> None:
        self.dismiss(event.customer)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class CustomerPicker(ModalScreen[int | None]):
    """Several customers share the caller's number: choose the one on the phone."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel", id="picker_cancel")]

    def __init__(self, customers: list[dict[str, Any]]) -> None:
        super().__init__()
        self.customers = customers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("选择客户 Which customer is calling?", classes="dialog-title")
            yield OptionList(
                *(Option(f"{c['name']}  {c.get('company') or ''}  {' '.join(c.get('tags') or [])}", id=str(c["id"]))
                  for c in self.customers),
                id="picker",
            )  # fmt: skip
        yield Footer()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
