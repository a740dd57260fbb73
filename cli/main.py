"""The `ccd` command: one click group, with each area's commands in its own module.

Command modules are imported lazily by name so that `ccd --help` stays fast and
`import cli` pulls in neither numpy nor textual.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# command name -> "module:attribute". Each attribute is a click command or group.
COMMANDS: dict[str, str] = {
    "config": "cli.config_cmds:config",
    "dsp": "cli.dsp_cmds:dsp",
    "devices": "cli.devices_cmds:devices",
    "serve": "cli.daemon_cmds:serve",
    "init": "cli.daemon_cmds:init",
    "demo": "cli.daemon_cmds:demo",
    "status": "cli.daemon_cmds:status",
    "cdr": "cli.daemon_cmds:cdr",
    "user": "cli.user_cmds:user",
    "sim": "cli.sim_cmds:sim",
    "queue": "cli.queue_cmds:queue",
    "queuelog": "cli.queue_cmds:queuelog",
    "ivr": "cli.ivr_cmds:ivr",
    "rec": "cli.rec_cmds:rec",
    "firewall": "cli.firewall_cmds:firewall",
    "reload": "cli.reload_cmds:reload",
    "report": "cli.report_cmds:report",
    "wallboard": "cli.wallboard_cmds:wallboard",
    "field": "cli.field_cmds:field",
    "agent": "cli.agent_cmds:agent",
    "line": "cli.linetest_cmds:line",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module_name, attr = COMMANDS[name].split(":")
            module = importlib.import_module(module_name)
            return getattr(module, attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="ccd", prog_name="ccd")
def cli(verbose: int) -> None:
    """ccd — a call center for small offices on analog lines."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console-script entry point: errors are one line on stderr and a non-zero exit."""
    try:
        cli.main(prog_name="ccd", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
