"""``tallyroom election | register | credentials``: thin commands over the election services.

Each command opens the store named by ``--db`` (default ``sqlite:///tallyroom.db``), makes
one service call and prints the answer; errors from the one error tree print as one line and
exit with status 2. Register them on the main group with :func:`register_groups`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tallyroom.cli.common import (
    DATA_DIR_OPTION,
    EXISTING,
    FILE,
    YES,
    command,
    confirm,
    election_option,
    open_cli_store,
)
from tallyroom.cli.progress import Progress

if TYPE_CHECKING:
    from tallyroom.store.engine import Store

__all__ = ["credentials", "election", "register", "register_groups"]


@click.group()
def election() -> None:
    """Create elections and show where they stand."""


@election.command("create")
@click.argument("definition", type=EXISTING)
@click.option("--slug", help="Short name (default: the definition file's name).")
@click.option(
    "--private-key",
    type=FILE,
    help="File for the sealing key (0600): needed on the sealed path (no [verifiable]).",
)
@click.option(
    "--passphrase",
    envvar="TALLYROOM_KEY_PASSPHRASE",
    help="Passphrase protecting the sealing key (asked for, hidden, when it is needed).",
)
@command()
def create(
    definition: Path,
    slug: str | None,
    private_key: Path | None,
    passphrase: str | None,
    db: str,
    actor: str,
) -> None:
    """Create a draft election from DEFINITION (TOML).

    With a [verifiable] table its ballots take the verifiable path: the trustees make its key
    in the key ceremony (docs/trustees.md) and no sealing key is made. Without one they take
    the sealed path, and its sealing key pair is made: the private key goes to --private-key,
    under a passphrase."""
    from tallyroom.election import load_definition
    from tallyroom.services.elections import create_election

    sealed = load_definition(definition).verifiable is None
    if sealed and private_key is None:
        raise click.UsageError(
            f"{definition} takes the sealed path (it has no [verifiable] table): give "
            "--private-key FILE for its sealing key, or add [verifiable] with its trustees "
            "(docs/election-definition.md)"
        )
    if private_key is not None and not passphrase:
        passphrase = click.prompt(
            "Passphrase for the sealing key", hide_input=True, confirmation_prompt=True
        )
    with open_cli_store(db) as store:
        record = create_election(
            store,
            definition,
            actor=actor,
            private_key_path=private_key,
            passphrase=passphrase,
            slug=slug,
        )
    if private_key is not None:
        click.echo(f"created election {record.slug} (draft); private key in {private_key}")
    else:
        click.echo(
            f"created election {record.slug} (draft, verifiable); next: the trustees' key "
            f"ceremony (tallyroom ceremony status --election {record.slug}, docs/trustees.md)"
        )


@election.command("status")
@election_option
@command()
def status(slug: str, db: str, actor: str) -> None:
    """Show an election's state and register size."""
    from tallyroom.services.elections import election_status

    with open_cli_store(db) as store:
        click.echo(election_status(store, slug).render(), nl=False)


@election.command("list")
@command(actor=False)
def list_(db: str) -> None:
    """List the elections: slug, state, nomination and ballot dates, title (tab-separated)."""
    from tallyroom.services.elections import election_summaries

    with open_cli_store(db) as store:
        found = election_summaries(store)
    for summary in found:
        click.echo(summary.render())
    if not found:
        click.echo("no elections", err=True)


@election.command("delete")
@election_option
@YES
@command()
def delete(slug: str, yes: bool, db: str, actor: str) -> None:
    """Delete a draft election and everything stored for it (refused once its register is
    frozen). The sealing key file is left where it is."""
    from tallyroom.services.elections import delete_election

    confirm(yes, f"Delete the draft election {slug} and its register? This cannot be undone.")
    with open_cli_store(db) as store:
        done = delete_election(store, slug, actor=actor)
    click.echo(done.render())


@election.command("extend")
@election_option
@click.option(
    "--until",
    required=True,
    help="The new time, ISO 8601 (2026-03-01T17:00; without an offset, the election's time zone).",
)
@click.option(
    "--what",
    type=click.Choice(["ballot_close", "nominations_close"]),
    default="ballot_close",
    show_default=True,
    help="Which close to move.",
)
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@command()
def extend(slug: str, until: str, what: str, reason: str, db: str, actor: str) -> None:
    """Move the close of the poll (or of nominations) later, with a reason: logged in the
    audit log with the old and new time; refused once that period has ended."""
    from tallyroom.services.elections import definition_of, get_election
    from tallyroom.services.timetable import Moment, extend, instant_in

    with open_cli_store(db) as store:
        zone = definition_of(get_election(store, slug)).timezone
        done = extend(
            store, slug, Moment(what), instant_in(until, zone), reason=reason, actor=actor
        )
    click.echo(done.render())


@click.group()
def register() -> None:
    """Import, check, freeze and change the register of voters."""


@register.command("import")
@click.argument("path", type=EXISTING)
@election_option
@click.option("--column", "columns", multiple=True, help="field=column (repeatable).")
@click.option("--exclusion-list", type=EXISTING, help="Person ids that may not vote.")
@click.option(
    "--reason",
    default="",
    help="Why a later file changes the register (required for every file after the first).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="The file is the whole register: entries it does not list are removed (logged).",
)
@command()
def import_(
    path: Path,
    slug: str,
    columns: tuple[str, ...],
    exclusion_list: Path | None,
    reason: str,
    replace: bool,
    db: str,
    actor: str,
) -> None:
    """Import the register file PATH (CSV or xlsx): all of it, or nothing.

    The first file is the register. A later file is merged into it (new entries added,
    changed ones corrected; with --replace, unlisted ones removed) as a logged change with
    its --reason, and eligibility is judged again over the whole register, so one person
    listed in two files holds one vote whatever the order the files came in.
    """
    from tallyroom.services.register import ColumnMapping, import_register

    mapping = ColumnMapping.parse(columns)
    with open_cli_store(db) as store, Progress("register entries") as progress:
        result = import_register(
            store,
            slug,
            path,
            actor=actor,
            mapping=mapping,
            exclusion_list=exclusion_list,
            progress=progress.update,
            reason=reason,
            replace=replace,
        )
    click.echo(f"stored {result.stored:,} entries, {result.eligible:,} eligible")
    click.echo(result.summary.render(), nl=False)


@register.command("eligibility")
@election_option
@command()
def eligibility(slug: str, db: str, actor: str) -> None:
    """Print the register by section and eligibility outcome."""
    from tallyroom.services.register import register_summary

    with open_cli_store(db) as store:
        click.echo(register_summary(store, slug).render(), nl=False)


@register.command("freeze")
@election_option
@YES
@command()
def freeze(slug: str, yes: bool, db: str, actor: str) -> None:
    """Freeze the register, recording its SHA-256 fingerprint in the audit log. Final: the
    register can then change only entry by entry, each change recorded (asks unless --yes)."""
    from tallyroom.services.register import freeze_register

    confirm(yes, f"Freeze the register of {slug}? This cannot be undone.")
    with open_cli_store(db) as store:
        fingerprint = freeze_register(store, slug, actor=actor)
    click.echo(f"register frozen, sha256 {fingerprint}")


@register.command("change")
@click.argument("who")
@election_option
@click.option("--eligible/--not-eligible", required=True)
@click.option("--reason", required=True, help="Why (recorded with the change).")
@command()
def change(who: str, slug: str, eligible: bool, reason: str, db: str, actor: str) -> None:
    """Change WHO's eligibility (WHO: section/number, or a person id)."""
    from tallyroom.services.register import change_eligibility

    with open_cli_store(db) as store:
        entry = change_eligibility(store, slug, who, eligible, actor=actor, reason=reason)
    click.echo(f"{entry.person_id}: {'eligible' if entry.eligible else 'not eligible'}")


@click.group()
def credentials() -> None:
    """Issue, reissue and revoke voting credentials."""


_KEY = click.option(
    "--key-file",
    type=FILE,
    help="The election's credential key (0600); default: DATA_DIR/SLUG.credential-key, "
    "else the file recorded when the credentials were issued.",
)


def _key_path(store: Store, data_dir: Path, slug: str, key_file: Path | None) -> Path:
    from tallyroom.services.key_files import KeyFolder, find_credential_key

    if key_file is not None:
        return key_file
    return find_credential_key(store, KeyFolder(data_dir), slug)


@credentials.command("issue")
@election_option
@_KEY
@DATA_DIR_OPTION
@click.option(
    "--export",
    type=FILE,
    help="Also write the credentials once to this CSV, for an external mail house (logged).",
)
@command()
def issue(
    slug: str, key_file: Path | None, data_dir: Path, export: Path | None, db: str, actor: str
) -> None:
    """Issue one credential per eligible voter, derived from a new delivery secret kept
    beside the key until delivery ends (see ``credentials send``, ``letters``).

    The key is written to the data folder (DATA_DIR/SLUG.credential-key), or to
    ``--key-file``; either way its path is recorded with the election, so that ``serve`` and
    the later commands find it whatever data folder they are given (the key itself is never
    copied, nor stored in the database)."""
    from tallyroom.services.credentials import issue_credentials
    from tallyroom.services.key_files import remember_credential_key

    with open_cli_store(db) as store, Progress("credentials") as progress:
        key_path = _key_path(store, data_dir, slug, key_file)
        key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        count = issue_credentials(
            store,
            slug,
            key_path=key_path,
            export_path=export,
            actor=actor,
            progress=progress.update,
        )
        remember_credential_key(store, slug, key_path)
    exported = f"; exported to {export}" if export is not None else ""
    click.echo(f"issued {count:,} credentials{exported}; credential key in {key_path}")


@credentials.command("reissue")
@click.argument("who")
@election_option
@_KEY
@DATA_DIR_OPTION
@click.option("--reason", required=True)
@command()
def reissue(
    who: str, slug: str, key_file: Path | None, data_dir: Path, reason: str, db: str, actor: str
) -> None:
    """Revoke WHO's credential and issue a new one (printed once)."""
    from tallyroom.services.credentials import reissue_credential

    with open_cli_store(db) as store:
        key = _key_path(store, data_dir, slug, key_file)
        new = reissue_credential(store, slug, who, key_path=key, actor=actor, reason=reason)
    click.echo(f"{new.person_id},{new.section},{new.credential}")


@credentials.command("revoke")
@click.argument("credential")
@election_option
@_KEY
@DATA_DIR_OPTION
@click.option("--reason", required=True)
@command()
def revoke(
    credential: str,
    slug: str,
    key_file: Path | None,
    data_dir: Path,
    reason: str,
    db: str,
    actor: str,
) -> None:
    """Revoke CREDENTIAL: it casts nothing more."""
    from tallyroom.services.credentials import revoke_credential

    with open_cli_store(db) as store:
        key = _key_path(store, data_dir, slug, key_file)
        revoke_credential(store, slug, credential, key_path=key, actor=actor, reason=reason)
    click.echo("credential revoked")


def register_groups(main: click.Group) -> None:
    """Add the ``election``, ``register`` and ``credentials`` groups to ``main``."""
    main.add_command(election)
    main.add_command(register)
    main.add_command(credentials)
