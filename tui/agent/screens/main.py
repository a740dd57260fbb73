"""The main screen: softphone bar on top, the screen pop, today's panel, keys in the footer.

Call actions carry the call id shown on screen (dolphie's rule: act on what the agent saw).
Every request goes through `AgentApp.rpc`, so a refusal is a notification with the daemon's
words and the screen keeps its state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.actions import main_bindings
from tui.agent.screens.customer_form import CustomerForm
from tui.agent.widgets.crm_panels import SidePanel
from tui.agent.widgets.screen_pop import ScreenPop
from tui.agent.widgets.softphone_bar import SoftphoneBar
from tui.messages import PopReady


class MainScreen(Screen[None]):
    """See `tui.actions` for the table of keys; 1-3 open the last three contacts' notes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *main_bindings(),
        *(Binding(str(i), f"open_contact({i})", show=False, id=f"contact_{i}") for i in (1, 2, 3)),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.bundle: dict[str, Any] | None = None
        self.reminders: list[dict[str, Any]] = []
        self.missed: list[dict[str, Any]] = []
        self.coding: dict[str, Any] = {}  # agent.state's dispositions / last_call / disposition

    @property
    def agent_app(self) -> Any:
        return self.app

    def compose(self) -> ComposeResult:
        app = self.agent_app
        yield Static("", id="banner")
        yield SoftphoneBar(app.model, app.now, id="bar")
        with Horizontal(id="body"):
            with VerticalScroll(id="pop-area"):
                yield ScreenPop(tz=lambda: app.tz, id="pop")
                yield VerticalScroll(id="new-customer")
            yield SidePanel("", id="side")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#banner").display = False
        self.query_one("#new-customer").display = False
        self.startup()

    # --- data ------------------------------------------------------------------------------------

    @work(group="startup")
    async def startup(self) -> None:
        """After (re)connecting: log the agent in, learn state, fields, categories, today's lists."""
        app = self.agent_app
        if app.model.state == "logged_out":
            ext = app.model.extension
            result = await app.rpc(
                "agent.login", **({"extension": ext} if ext else {}), quiet=("E_UNKNOWN_COMMAND",)
            )
            if isinstance(result, dict):
                app.model.apply_agent(result, app.now())
            elif (
                getattr(app, "last_error", None) is not None
                and getattr(app.last_error, "code", "") == "E_UNKNOWN_COMMAND"
            ):
                app.has_agent_commands = False
                if app.model.state == "logged_out":
                    app.model.set_state("ready", app.now())
        state = await app.rpc("agent.state", quiet=("E_UNKNOWN_COMMAND",))
        if isinstance(state, dict):
            app.model.apply_agent(state, app.now())
            self.coding = state
        self.refresh_bar()
        fields = await app.rpc("field.list")
        if isinstance(fields, list):
            app.fields = fields
            app.field_labels = {f["name"]: f["label"] for f in fields}
            self.query_one(ScreenPop).labels = app.field_labels
        cats = await app.rpc("category.list")
        if isinstance(cats, list):
            app.categories = cats
        if app.model.call is not None and self.bundle is None:
            self.fetch_pop(app.model.call.number, app.model.call.call, app.model.call.offer)
        await self.refresh_side()

    async def refresh_side(self) -> None:
        app = self.agent_app
        reminders = await app.rpc("reminder.list")
        missed = await app.rpc("missed.list", quiet=("E_FORBIDDEN",))
        self.reminders = reminders if isinstance(reminders, list) else self.reminders
        self.missed = missed if isinstance(missed, list) else self.missed
        self.query_one(SidePanel).show(self.reminders, self.missed, app.tz)

    @work(exclusive=True, group="pop")
    async def fetch_pop(self, number: str, call: str | None, offer: dict[str, Any] | None = None) -> None:
        app = self.agent_app
        args: dict[str, Any] = {"number": number or ""}
        if call:
            args["call"] = call
        bundle = await app.rpc("crm.pop", **args)
        if isinstance(bundle, dict):
            # what the offer event said (IVR choices, wait) wins over a daemon without them
            offer = offer or {}
            for key in ("ivr_path", "wait", "queue"):
                if offer.get(key) not in (None, [], "") and not bundle["offer"].get(key):
                    bundle["offer"][key] = offer[key]
            app.post_message(PopReady(call, bundle))

    def show_pop(self, bundle: dict[str, Any]) -> None:
        """Paint the pop; an unknown caller gets the new-customer form, filled in."""
        self.bundle = bundle
        self.query_one(ScreenPop).show(bundle)
        unknown = not bundle.get("customers") and bundle.get("present", True) and bundle.get("number")
        prefill: dict[str, str] | None = None
        if unknown:
            prefill = {
                "number": bundle["number"],
                "location": " ".join(x for x in (bundle.get("location"), bundle.get("carrier")) if x),
                "name": (bundle.get("offer") or {}).get("caller_name") or "",
            }
            if bundle.get("location"):
                prefill["address"] = bundle["location"]
        self._swap_form(prefill)

    @work(exclusive=True, group="pop-form")
    async def _swap_form(self, prefill: dict[str, str] | None) -> None:
        holder = self.query_one("#new-customer", VerticalScroll)
        await holder.remove_children()
        holder.display = prefill is not None
        if prefill is not None:
            await holder.mount(
                CustomerForm(None, prefill=prefill, fields=self.agent_app.fields, id="pop-form")
            )

    @on(CustomerForm.Saved, "#pop-form")
    def _filed(self, event: CustomerForm.Saved) -> None:
        self.app.notify(f"{event.customer['name']} filed", title="新客户 New customer")
        self.refetch(customer=event.customer["id"])

    def refetch(self, customer: int | None = None) -> None:
        if self.bundle is None:
            return
        self._refetch(self.bundle.get("number") or "", (self.bundle.get("offer") or {}).get("call"), customer)

    @work(exclusive=True, group="pop")
    async def _refetch(self, number: str, call: str | None, customer: int | None) -> None:
        args: dict[str, Any] = {"number": number}
        if call:
            args["call"] = call
        if customer:
            args["customer"] = customer
        bundle = await self.agent_app.rpc("crm.pop", **args)
        if isinstance(bundle, dict):
            if self.bundle:
                bundle["offer"] = {
                    **self.bundle.get("offer", {}),
                    **{k: v for k, v in bundle["offer"].items() if v},
                }
            self.show_pop(bundle)

    # --- from the app -----------------------------------------------------------------------------

    def refresh_bar(self) -> None:
        bar = self.query_one(SoftphoneBar)
        bar.model = self.agent_app.model
        bar.refresh_bar()

    def model_changed(self, changed: set[str], name: str, data: dict[str, Any]) -> None:
        model = self.agent_app.model
        if "pop" in changed and model.call is not None:
            self.fetch_pop(model.call.number, model.call.call, model.call.offer)
        if changed:
            self.refresh_bar()
        if name == "call.ended" and "call" in changed:
            self.run_worker(self.refresh_side, group="side", exclusive=True)
        if (
            name in ("call.answered", "call.ended")
            and "call" in changed
            and self.agent_app.has_agent_commands
        ):
            self.run_worker(self._resync_state, group="resync", exclusive=True)

    async def _resync_state(self) -> None:
        app = self.agent_app
        state = await app.rpc("agent.state", quiet=("E_UNKNOWN_COMMAND",))
        if isinstance(state, dict):
            app.model.apply_agent(state, app.now())
            self.refresh_bar()
            self.coding = state
            if state.get("state") == "wrap_up" and state.get("dispositions") and not state.get("disposition"):
                self.action_disposition()  # wrap-up with codes: ask for one (Escape: later)

    def connection_changed(self, state: str, info: dict[str, Any]) -> None:
        if not self.is_mounted or not self.query("#banner"):
            return  # just pushed: on_mount does the start-up
        banner = self.query_one("#banner", Static)
        bar = self.query_one(SoftphoneBar)
        if state == "lost":
            banner.update(
                f"⚠ 与 ccd 的连接已断开 Connection to the daemon lost ({info.get('reason')}). "
                f"Reconnecting in {info.get('retry_in', 0):.1f} s… Calls go on at the phone; unsaved notes are kept."
            )
            banner.display = True
            bar.connection = "lost"
        elif state == "connecting" and banner.display:
            bar.connection = "reconnecting"
        elif state == "connected":
            if banner.display:
                self.app.notify("reconnected", title="ccd")
            banner.display = False
            bar.connection = "connected"
            if self.is_mounted:
                self.startup()
        elif state == "failed":
            banner.update(f"✗ {getattr(info.get('error'), 'message', info.get('error'))} — log in again (l)")
            banner.display = True
        bar.refresh_bar()

    # --- helpers ----------------------------------------------------------------------------------

    def _customer(self) -> dict[str, Any] | None:
        b = self.bundle or {}
        customers = b.get("customers") or []
        return customers[0] if len(customers) == 1 else None

    def _call_id(self) -> str | None:
        model = self.agent_app.model
        if model.call is not None:
            return model.call.call
        self.app.notify("no call on screen", severity="warning")
        return None

    # --- call control ---------------------------------------------------------------------------

    async def action_answer(self) -> None:
        call = self._call_id()
        if call:
            await self.agent_app.rpc("call.answer", call=call)

    async def action_hangup(self) -> None:
        call = self._call_id()
        if call:
            await self.agent_app.rpc("call.hangup", call=call)

    async def action_hold(self) -> None:
        call = self._call_id()
        if not call:
            return
        app = self.agent_app
        held = app.model.state == "hold" or (app.model.call and app.model.call.state == "hold")
        result = await app.rpc("call.retrieve" if held else "call.hold", call=call)
        if isinstance(result, dict) and not app.model.daemon_states and app.model.call:
            app.model.call.state = "up" if held else "hold"
            app.model.set_state("on_call" if held else "hold", app.now())
            self.refresh_bar()

    def action_transfer(self) -> None:
        call = self._call_id()
        if not call:
            return
        from tui.agent.screens.transfer import TransferDialog

        async def done(choice: tuple[str, str] | None) -> None:
            if choice:
                target, mode = choice
                await self.agent_app.rpc("call.transfer", call=call, target=target, mode=mode)

        self.app.push_screen(TransferDialog(), done)

    async def action_transfer_complete(self) -> None:
        call = self._call_id()
        if call:
            await self.agent_app.rpc("call.transfer_complete", call=call)

    async def action_conference(self) -> None:
        call = self._call_id()
        if call:
            await self.agent_app.rpc("call.conference", call=call)

    def action_dial(self) -> None:
        self.open_dialpad(self._customer())

    def open_dialpad(self, customer: dict[str, Any] | None) -> None:
        from tui.agent.screens.dialpad import DialPad

        async def done(number: str | None) -> None:
            if number:
                result = await self.agent_app.rpc("call.dial", number=number)
                if isinstance(result, dict):
                    self.app.notify(f"{number}: lift your phone", title="外呼 Dialling")

        self.app.push_screen(DialPad((customer or {}).get("numbers") or []), done)

    def action_dtmf(self) -> None:
        call = self._call_id()
        if call:
            from tui.agent.screens.dialpad import DtmfPad

            self.app.push_screen(DtmfPad(call))

    async def action_ready(self) -> None:
        app = self.agent_app
        result = await app.rpc("agent.ready")
        if isinstance(result, dict):
            app.model.apply_agent(result, app.now())
            self.refresh_bar()

    def action_not_ready(self) -> None:
        from tui.agent.screens.dialogs import ReasonPicker

        async def done(reason: str | None) -> None:
            if reason:
                app = self.agent_app
                result = await app.rpc("agent.not_ready", reason=reason)
                if isinstance(result, dict):
                    app.model.apply_agent(result, app.now())
                    self.refresh_bar()

        self.app.push_screen(ReasonPicker(), done)

    async def action_wrapup_done(self) -> None:
        app = self.agent_app
        if app.model.state != "wrap_up":
            app.notify("not in wrap-up", severity="warning")
            return
        result = await app.rpc(
            "call.wrapup_done", quiet=() if app.has_agent_commands else ("E_UNKNOWN_COMMAND",)
        )
        if isinstance(result, dict):
            app.model.apply_agent(result, app.now())
        elif not app.model.daemon_states:
            app.model.set_state("ready", app.now())  # the phone-only mode keeps wrap-up on this screen
        self.refresh_bar()

    def action_disposition(self) -> None:
        """Wrap-up code for the last call (daemon's `agent.state` says which codes exist)."""
        from tui.agent.screens.disposition import DispositionPicker

        coding, model = self.coding, self.agent_app.model
        last = model.last_call.call if model.last_call else None
        call = model.call.call if model.call else (coding.get("last_call") or last)
        if not coding.get("dispositions") or not call:
            self.app.notify("no call to code, or no codes on this daemon", severity="warning")
            return
        if isinstance(self.app.screen, DispositionPicker):
            return

        async def done(choice: tuple[str, str] | None) -> None:
            if choice:
                code, note = choice
                result = await self.agent_app.rpc("call.disposition", call=call, code=code, note=note)
                if isinstance(result, dict):
                    self.coding = {**coding, "disposition": result["code"]}
                    self.app.notify(f"{result['code']}", title="小结 Disposition saved")

        self.app.push_screen(DispositionPicker(call, coding["dispositions"], coding.get("disposition")), done)

    async def action_logout(self) -> None:
        app = self.agent_app
        await app.rpc("agent.logout", quiet=("E_UNKNOWN_COMMAND",))
        app.end_session()

    # --- CRM ---------------------------------------------------------------------------------------

    def action_note(self) -> None:
        customer = self._customer()
        if customer is None:
            self.app.notify("file or pick the customer first (e / x)", severity="warning")
            return
        model = self.agent_app.model
        call = model.call or model.last_call
        self.open_note(customer, call.call if call else None)

    def open_note(
        self, customer: dict[str, Any], call: str | None, after: Callable[[], Any] | None = None
    ) -> None:
        from tui.agent.screens.note_editor import NoteEditor

        app = self.agent_app
        draft = app.drafts.setdefault(f"{customer['id']}/{call or ''}", {})

        def done(note: dict[str, Any] | None) -> None:
            if note:
                self.refetch(customer["id"])
                if after:
                    after()

        self.app.push_screen(NoteEditor(customer, call, app.categories, draft, app.tz), done)

    def action_edit_customer(self) -> None:
        from tui.agent.screens.customer_form import CustomerFormScreen

        customer = self._customer()
        if customer is None and self.query("#pop-form"):
            self.query_one("#pop-form").query("Input").first().focus()
            return

        def done(saved: dict[str, Any] | None) -> None:
            if saved:
                self.refetch(saved["id"])

        self.app.push_screen(CustomerFormScreen(customer, fields=self.agent_app.fields), done)

    def action_order(self) -> None:
        customer = self._customer()
        if customer is None:
            self.app.notify("file or pick the customer first (e / x)", severity="warning")
            return
        self.open_order(customer)

    def open_order(self, customer: dict[str, Any], after: Callable[[], Any] | None = None) -> None:
        self._open_order(customer, after)

    @work(group="order")
    async def _open_order(self, customer: dict[str, Any], after: Callable[[], Any] | None) -> None:
        from tui.agent.screens.dialogs import OrderDialog

        products = await self.agent_app.rpc("product.list")
        if not isinstance(products, list):
            return

        def done(order: dict[str, Any] | None) -> None:
            if order:
                self.refetch(customer["id"])
                if after:
                    after()

        self.app.push_screen(OrderDialog(customer, products), done)

    def action_pick_customer(self) -> None:
        customers = (self.bundle or {}).get("customers") or []
        if len(customers) < 2:
            return
        from tui.agent.screens.customer_form import CustomerPicker

        def done(cid: int | None) -> None:
            if cid:
                self.refetch(cid)

        self.app.push_screen(CustomerPicker(customers), done)

    def action_open_contact(self, i: int) -> None:
        contacts = (self.bundle or {}).get("contacts") or []
        if i > len(contacts) or not contacts[i - 1].get("notes"):
            return
        self._open_note_full(contacts[i - 1]["notes"][0]["id"])

    @work(group="note-view")
    async def _open_note_full(self, note_id: int) -> None:
        from tui.agent.screens.dialogs import NoteView

        customer = self._customer()
        if customer is None:
            return
        notes = await self.agent_app.rpc("note.list", customer=customer["id"], limit=200)
        if isinstance(notes, list):
            note = next((n for n in notes if n["id"] == note_id), None)
            if note:
                self.app.push_screen(NoteView(note, self.agent_app.tz))

    def action_search(self) -> None:
        from tui.agent.screens.crm import SearchScreen

        self.app.push_screen(SearchScreen())

    def action_detail(self) -> None:
        customer = self._customer()
        if customer is None:
            self.app.notify("no customer on screen: search with /", severity="warning")
            return
        from tui.agent.screens.crm import CustomerDetail

        self.app.push_screen(CustomerDetail(customer["id"]))

    def action_missed(self) -> None:
        from tui.agent.screens.crm import MissedScreen

        self.app.push_screen(MissedScreen())

    def action_reminders(self) -> None:
        from tui.agent.screens.crm import RemindersScreen

        self.app.push_screen(RemindersScreen())
