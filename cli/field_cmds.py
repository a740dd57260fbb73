"""`ccd field add|list|remove`: custom customer fields defined by the admin.

Offline on the database, like `ccd user`: works whether or not the daemon runs (the daemon
reads field definitions from the same file on every request).
"""

from __future__ import annotations

import click

from cli.common import config_option, print_json
from cli.user_cmds import _with_store


@click.group()
def field() -> None:
    """Custom customer fields (shown on every customer card)."""


@field.command("add")
@config_option
@click.argument("name")
@click.option("--label", default=None, help="What the agent sees (default: NAME).")
@click.option("--type", "type_", type=click.Choice(["text", "int", "date", "choice"]), default="text",
              show_default=True, help="Kind of value.")  # fmt: skip
@click.option("--choices", default="", help="For --type choice: the allowed values, comma separated.")
@click.option("--required", is_flag=True, help="Every customer must have a value.")
def field_add(
    config_path: str | None, name: str, label: str | None, type_: str, choices: str, required: bool
) -> None:
    """Define (or redefine) a field: lower-case NAME of letters, digits and _."""
    options = [c.strip() for c in choices.replace("，", ",").split(",") if c.strip()]
    if options and type_ != "choice":
        raise click.ClickException("--choices only goes with --type choice")
    f = _with_store(
        config_path,
        lambda s: s.customers.define_field(name, label or name, type_, choices=options, required=required),
    )
    extra = f" ({', '.join(f.choices)})" if f.choices else ""
    click.echo(f"field {f.name} '{f.label}' {f.type}{extra}{' required' if f.required else ''}")


@field.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def field_list(config_path: str | None, as_json: bool) -> None:
    """List the custom fields."""
    fields = _with_store(config_path, lambda s: s.customers.fields())
    rows = [
        {"name": f.name, "label": f.label, "type": f.type, "choices": list(f.choices), "required": f.required}
        for f in fields
    ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no custom fields (add one with: ccd field add NAME --label ... --type ...)")
    for r in rows:
        choices = f" [{', '.join(r['choices'])}]" if r["choices"] else ""
        click.echo(
            f"{r['name']:<20} {r['label']:<16} {r['type']:<7}{' required' if r['required'] else ''}{choices}"
        )


@field.command("remove")
@config_option
@click.argument("name")
def field_remove(config_path: str | None, name: str) -> None:
    """Forget a field definition (values already on customers stay)."""
    _with_store(config_path, lambda s: s.customers.remove_field(name))
    click.echo(f"field {name} removed")
