"""`ccd ivr validate`: check IVR flows before a caller meets them (offline, no daemon needed)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import config_option, find_config


@click.group()
def ivr() -> None:
    """IVR flows (voice menus)."""


@ivr.command("validate")
@config_option
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def ivr_validate(config_path: str | None, files: tuple[str, ...]) -> None:
    """Check flow FILES (default: every [[ivr]] flow of the config).

    Reports unknown node types and keys, dangling references, unreachable nodes, loops
    with no way out, missing prompts and exits to unknown queues, extensions or mailboxes,
    each as file:line. Exit code 1 if anything is wrong.
    """
    from ccd.callcenter import known_targets
    from ccd.config import check_file
    from ccd.telephony.ivr import check_flow
    from ccd.telephony.prompts import PromptLibrary

    cfg = None
    targets: list[tuple[str, Path]] = [(Path(f).stem, Path(f)) for f in files]
    if not files or config_path:
        cfg_file = find_config(config_path)
        cfg, problems = check_file(cfg_file)
        if cfg is None:
            raise click.ClickException("\n".join(str(p) for p in problems))
        if not files:
            targets = [(entry.name, Path(entry.file)) for entry in cfg.ivr]
            if not targets:
                click.echo(f"{cfg_file}: no [[ivr]] flows configured")
                return
    voices = (cfg.daemon.voices if cfg is not None else None) or Path(
        __file__
    ).resolve().parent.parent / "voices"
    library = PromptLibrary(Path(voices))

    def prompt_exists(name: str) -> bool:
        return any(library.exists(name, lang) for lang in library.langs)

    known = known_targets(cfg) if cfg is not None else None
    bad = 0
    for name, path in targets:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"{path}: cannot read: {exc}", err=True)
            bad += 1
            continue
        flow, problems = check_flow(text, str(path), name=name, prompt_exists=prompt_exists, known=known)
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            bad += 1
        else:
            assert flow is not None
            click.echo(f"{path}: flow '{name}' ok ({len(flow.nodes)} nodes, starts at '{flow.start}')")
    if bad:
        raise click.exceptions.Exit(1)
