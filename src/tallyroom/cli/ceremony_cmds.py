"""``tallyroom ceremony status | export | add | finish | drill-start | drill-finish``: the
officer's side of the trustees' key ceremony, thin over :mod:`tallyroom.services.ceremony`.

The officer relays: ``export`` writes what is published so far for the trustees, ``add``
takes the files they send back (each checked; all or none), ``finish`` stores the election
key, ``drill-start`` and ``drill-finish`` run the key drill; ``status`` says who has done what
and the next step. The trustees' own commands are ``tallyroom trustee ...``
(cli/trustee_cmds.py); docs/trustees.md is the guide for both sides.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tallyroom.cli.common import EXISTING, YES, command, confirm, election_option, open_cli_store

if TYPE_CHECKING:
    from tallyroom.services.ceremony import CeremonyStatus

__all__ = ["ceremony", "register_ceremony_commands"]


@click.group()
def ceremony() -> None:
    """The trustees' key ceremony and key drill, the officer's side (docs/trustees.md)."""


def _status_text(s: CeremonyStatus) -> str:
    c = s.ceremony
    lines = [f"key ceremony of {c.election}: {c.trustees} trustees, any {c.threshold} decrypt"]
    for t in s.trustees:
        parts = [f"key {t.fingerprint}" if t.fingerprint else "no communication key"]
        if t.dealt:
            parts.append(f"dealt ({t.shares_sent} of {c.trustees - 1} shares)")
        if t.complaints_made:
            parts.append("complained about " + ", ".join(map(str, t.complaints_made)))
        if t.complaints_against:
            parts.append("complaints against it by " + ", ".join(map(str, t.complaints_against)))
        if t.unanswered:
            parts.append("UNANSWERED: " + ", ".join(map(str, t.unanswered)))
        if t.confirmed:
            parts.append("key confirmed")
        if t.drill_share:
            parts.append("drill share in")
        lines.append(f"  {t.number}. {t.name}: " + "; ".join(parts))
    lines.append("election key: " + ("set" if s.key_set else "not set"))
    drill = "passed" if s.drill_passed else "started" if s.drill_started else "not started"
    lines.append(f"key drill: {drill}")
    lines.append(f"next: {s.next_step}")
    return "\n".join(lines)


@ceremony.command("status")
@election_option
@command(actor=False)
def status(slug: str, db: str) -> None:
    """Who has done what, and the next step."""
    from tallyroom.services.ceremony import status as ceremony_status

    with open_cli_store(db) as store:
        click.echo(_status_text(ceremony_status(store, slug)))


@ceremony.command("export")
@election_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the ceremony's public files to (created if need be).",
)
@command(actor=False)
def export(slug: str, out: Path, db: str) -> None:
    """Write ceremony.json and every message published so far, for the trustees."""
    from tallyroom.services.ceremony import export as export_files

    with open_cli_store(db) as store:
        written = export_files(store, slug, out)
    click.echo(f"wrote {len(written)} file(s) to {out}")


@ceremony.command("add")
@election_option
@click.argument("files", nargs=-1, required=True, type=EXISTING)
@command()
def add(slug: str, files: tuple[Path, ...], db: str, actor: str) -> None:
    """Check and store trustees' files: all of them, or none if one is refused."""
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony import add_messages

    data = []
    for path in files:
        try:
            data.append((str(path), path.read_bytes()))
        except OSError as exc:
            raise InputError(f"cannot read it ({exc.strerror})", path=str(path)) from None
    with open_cli_store(db) as store:
        added = add_messages(store, slug, data, actor=actor)
    for name in added.stored:
        click.echo(f"stored {name}")
    if added.already:
        click.echo(f"already stored: {', '.join(added.already)}")


@ceremony.command("finish")
@election_option
@YES
@command()
def finish(slug: str, yes: bool, db: str, actor: str) -> None:
    """Verify the ceremony and store the election key (once: it cannot be undone)."""
    from tallyroom.services.ceremony import finish as finish_ceremony

    confirm(yes, f"Store {slug}'s election key from this ceremony (it cannot be changed)?")
    with open_cli_store(db) as store:
        key = finish_ceremony(store, slug, actor=actor)
    click.echo(f"election key stored: {bytes(key.public_key).hex()}")
    click.echo("next: tallyroom ceremony drill-start, then export for the trustees")


@ceremony.command("drill-start")
@election_option
@command()
def drill_start(slug: str, db: str, actor: str) -> None:
    """Store the key drill's test ciphertext (export it for the trustees)."""
    from tallyroom.services.ceremony import start_drill

    with open_cli_store(db) as store:
        start_drill(store, slug, actor=actor)
    click.echo("key drill started: export, and have the trustees run `tallyroom trustee drill`")


@ceremony.command("drill-finish")
@election_option
@command()
def drill_finish(slug: str, db: str, actor: str) -> None:
    """Combine the trustees' drill shares; the drill passes with a threshold of them."""
    from tallyroom.services.ceremony import finish_drill

    with open_cli_store(db) as store:
        drill = finish_drill(store, slug, actor=actor)
    who = ", ".join(str(s.trustee) for s in drill.shares)
    click.echo(f"key drill passed: trustees {who} decrypted the test message")


def register_ceremony_commands(main: click.Group) -> None:
    """Add the ``ceremony`` and ``trustee`` groups to ``main``."""
    from tallyroom.cli.trustee_cmds import trustee

    main.add_command(ceremony)
    main.add_command(trustee)
