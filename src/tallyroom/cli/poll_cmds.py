"""``tallyroom nominations | voting | audit | board`` and ``tallyroom election count | declare``:
the steps from the nominations to the declaration, thin over the services.

Register them on the main group with :func:`register_poll_commands`.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tallyroom.cli.common import (
    EXISTING,
    FILE,
    JSON_OPTION,
    YES,
    command,
    confirm,
    election_option,
    open_cli_store,
    show_declaration,
)

if TYPE_CHECKING:
    from tallyroom.services.nominations import ContestNominations

__all__ = ["audit", "board", "nominations", "register_poll_commands", "voting"]

_PASSPHRASE = click.option(
    "--passphrase",
    prompt=True,
    hide_input=True,
    envvar="TALLYROOM_KEY_PASSPHRASE",
    help="Passphrase of the private key (or TALLYROOM_KEY_PASSPHRASE).",
)
_PRIVATE_KEY = click.option(
    "--private-key", type=EXISTING, required=True, help="The returning officer's sealing key."
)
_AT = click.option(
    "--at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    help="When the paper was received (ISO 8601 with offset; default now).",
)


@click.group()
def nominations() -> None:
    """Record nomination papers and withdrawals, show standings, close nominations."""


@nominations.command("nominate")
@click.argument("candidate")
@click.option("--contest", required=True)
@click.option("--nominator", required=True, help="Who nominates (e.g. an MP's name).")
@_AT
@election_option
@command()
def nominate(
    candidate: str,
    contest: str,
    nominator: str,
    at: datetime | None,
    slug: str,
    db: str,
    actor: str,
) -> None:
    """Record NOMINATOR's paper for CANDIDATE in CONTEST.

    A paper that does not count (e.g. received outside the nomination period) is kept with
    its reason, which is printed; the exit status is then 1.
    """
    from tallyroom.services.nominations import record_nomination

    with open_cli_store(db) as store:
        standing = record_nomination(store, slug, contest, candidate, nominator, actor=actor, at=at)
    _print_standings(standing)
    if standing.refused is not None:
        r = standing.refused
        click.echo(
            f"tallyroom: refused: the paper of {r.nomination.nominator} for "
            f"{r.nomination.candidate} dated {r.nomination.at.isoformat()} does not count: "
            f"{r.problem.value} (kept in the record)",
            err=True,
        )
        sys.exit(1)


@nominations.command("withdraw")
@click.argument("candidate")
@click.option("--contest", required=True)
@_AT
@election_option
@command()
def withdraw(
    candidate: str, contest: str, at: datetime | None, slug: str, db: str, actor: str
) -> None:
    """Withdraw CANDIDATE from CONTEST."""
    from tallyroom.services.nominations import record_withdrawal

    with open_cli_store(db) as store:
        standing = record_withdrawal(store, slug, contest, candidate, actor=actor, at=at)
    _print_standings(standing)


@nominations.command("status")
@election_option
@command(actor=False)
def standings(slug: str, db: str) -> None:
    """Each contest's candidates, their valid nominations and where they stand."""
    from tallyroom.services.nominations import nomination_standings

    with open_cli_store(db) as store:
        for contest in nomination_standings(store, slug).values():
            _print_standings(contest)


@nominations.command("close")
@election_option
@YES
@command()
def close_nominations(slug: str, yes: bool, db: str, actor: str) -> None:
    """Close nominations: fix each contest's ballot paper. Final (asks unless --yes)."""
    from tallyroom.services.nominations import close_nominations as close

    confirm(yes, f"Close the nominations of {slug} and fix its ballot papers? This is final.")
    with open_cli_store(db) as store:
        ballot = close(store, slug, actor=actor)
    for contest, names in ballot.items():
        click.echo(f"{contest}: {', '.join(names)}")


def _print_standings(c: ContestNominations) -> None:
    needed = "" if c.threshold is None else f" ({c.threshold} needed)"
    click.echo(f"{c.contest}{needed}")
    for s in c.standings:
        click.echo(f"  {s.candidate}: {s.count} - {s.standing.value}")
    for r in c.rejected:
        click.echo(
            f"  refused: {r.nomination.nominator} for {r.nomination.candidate}: {r.problem.value}"
        )


@click.group()
def voting() -> None:
    """Open and close the poll, follow turnout, import postal returns."""


@voting.command("open")
@election_option
@command()
def open_(slug: str, db: str, actor: str) -> None:
    """Open the poll: credentials may cast from now on."""
    from tallyroom.services.polling import open_voting

    with open_cli_store(db) as store:
        open_voting(store, slug, actor=actor)
    click.echo(f"{slug}: the poll is open")


@voting.command("close")
@election_option
@click.option("--reason", default="", help="Recorded in the audit log.")
@YES
@command()
def close(slug: str, reason: str, yes: bool, db: str, actor: str) -> None:
    """Close the poll. Final: no ballot is accepted afterwards (asks unless --yes)."""
    from tallyroom.services.polling import close_voting

    confirm(yes, f"Close the poll of {slug}? No ballot is accepted afterwards; this is final.")
    with open_cli_store(db) as store:
        close_voting(store, slug, actor=actor, reason=reason)
    click.echo(f"{slug}: the poll is closed")


@voting.command("turnout")
@election_option
@command(actor=False)
def turnout(slug: str, db: str) -> None:
    """Ballots cast so far per contest and section (never their contents)."""
    from tallyroom.services.polling import turnout as live

    with open_cli_store(db) as store:
        for contest in live(store, slug):
            click.echo(f"{contest.contest}: {contest.total_cast:,} of {contest.total_electorate:,}")
            for section, cast in contest.cast.items():
                click.echo(f"  {section}: {cast:,} of {contest.electorate[section]:,}")


@voting.command("postal")
@click.argument("papers", type=EXISTING)
@election_option
@click.option("--key-file", type=EXISTING, required=True, help="The credential key.")
@click.option("--label", required=True, help="The batch's name (e.g. 'postal returns 1').")
@command()
def postal(papers: Path, slug: str, key_file: Path, label: str, db: str, actor: str) -> None:
    """Cast a batch of postal PAPERS (CSV: credential, then one column per contest)."""
    from tallyroom.services.credentials import load_or_create_key
    from tallyroom.services.elections import get_election
    from tallyroom.services.voting import import_postal_batch

    key = load_or_create_key(key_file, create=False)
    with open_cli_store(db) as store:
        election = get_election(store, slug)
        done = import_postal_batch(
            store, election.id, papers, label=label, credential_key=key, actor=actor
        )
    click.echo(f"{label}: {done.papers:,} papers, {done.cast:,} cast")
    for contest, reasons in done.spoilt.items():
        for reason, n in reasons.items():
            click.echo(f"  {contest}: spoilt ({reason.replace('_', ' ')}): {n:,}")
    for reason, n in done.refused.items():
        click.echo(f"  refused ({reason.replace('_', ' ')}): {n:,}")


def _counted(
    slug: str,
    db: str,
    actor: str,
    private_key: Path,
    passphrase: str,
    json_out: Path | None,
    *,
    final: bool,
) -> None:
    """Count (and, when ``final``, declare); print the declaration."""
    from tallyroom.services import declaring

    run = declaring.declare if final else declaring.count
    with open_cli_store(db) as store:
        decl = run(store, slug, private_key_file=private_key, passphrase=passphrase, actor=actor)
    show_declaration(decl, json_out)


_JSON = JSON_OPTION


@click.command("count")
@election_option
@_PRIVATE_KEY
@_PASSPHRASE
@_JSON
@command()
def count_election(
    slug: str, private_key: Path, passphrase: str, json_out: Path | None, db: str, actor: str
) -> None:
    """Count a closed election and print the result, without declaring it (a recount gives
    the same figures)."""
    _counted(slug, db, actor, private_key, passphrase, json_out, final=False)


@click.command("declare")
@election_option
@_PRIVATE_KEY
@_PASSPHRASE
@_JSON
@YES
@command()
def declare(
    slug: str,
    private_key: Path,
    passphrase: str,
    json_out: Path | None,
    yes: bool,
    db: str,
    actor: str,
) -> None:
    """Count a closed election and declare the result: it is published with its downloads.
    Final (asks unless --yes)."""
    confirm(yes, f"Declare the result of {slug} and publish it? This is final.")
    _counted(slug, db, actor, private_key, passphrase, json_out, final=True)


@click.command("results")
@election_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the declaration's downloads (results JSON/CSV, RCTab reports, CVRs).",
)
@command(actor=False)
def results(slug: str, out: Path, db: str) -> None:
    """Write a declared election's public downloads to a folder."""
    from tallyroom.services.declaring import declaration_file, declaration_files

    out.mkdir(parents=True, exist_ok=True)
    with open_cli_store(db) as store:
        for name, *_ in declaration_files(store, slug):
            (out / name).write_bytes(declaration_file(store, slug, name).content)
            click.echo(out / name)


@click.group()
def audit() -> None:
    """Show, export and verify an election's hash-chained audit log."""


_HEAD = click.option(
    "--head", help="A head published earlier, SEQUENCE:HASH: the log must still hold it."
)


@audit.command("verify")
@click.option("--election", "slug", help="Verify the stored log of this election.")
@click.option("--file", "path", type=EXISTING, help="Verify an exported log (JSON Lines).")
@_HEAD
@command(actor=False)
def verify(slug: str | None, path: Path | None, head: str | None, db: str) -> None:
    """Check every hash and sequence of the log (stored, or exported with ``audit export``);
    for a stored log, also the election against it: the ballot box recomputed from its rows,
    casts against ballots and receipts, the state, the definition, the register's eligibility
    and the published documents (each failed check is named).

    Exit status 0 when it verifies, 1 when it does not (each failure is listed).
    """
    from tallyroom.errors import InputError
    from tallyroom.services.audit_log import (
        parse_head,
        verify_export,
        verify_log,
        verify_record,
    )

    if (slug is None) == (path is None):
        raise InputError("give --election or --file, one of them", field="--election/--file")
    published = None if head is None else parse_head(head)
    ok = True
    if path is not None:
        result = verify_export(path, expected_head=published)
        click.echo(result.summary())
        ok = result.ok
    else:
        assert slug is not None
        with open_cli_store(db) as store:
            result = verify_log(store, slug, published_head=published)
            click.echo(result.summary())  # before the record: an unreadable event stops it
            record = verify_record(store, slug)
        click.echo(record.summary())
        ok = result.ok and record.ok
    if not ok:
        raise SystemExit(1)


@audit.command("export")
@election_option
@click.option("--out", type=FILE, required=True, help="The JSON Lines file to write.")
@command(actor=False)
def export(slug: str, out: Path, db: str) -> None:
    """Export the log as JSON Lines, for anyone to verify with ``audit verify --file``."""
    from tallyroom.services.audit_log import export_log, format_head

    with open_cli_store(db) as store:
        head = export_log(store, slug, out)
    click.echo(f"wrote {out}; head {format_head(head)}")


@audit.command("show")
@election_option
@command(actor=False)
def show(slug: str, db: str) -> None:
    """Print the log: sequence, time, action, actor, reason."""
    from tallyroom.services.audit_log import audit_events

    with open_cli_store(db) as store:
        for c in audit_events(store, slug):
            e = c.event
            reason = f" ({e.reason})" if e.reason else ""
            click.echo(f"{e.sequence:>5}  {e.recorded_at}  {e.action.value:<24} {e.actor}{reason}")


@click.group()
def board() -> None:
    """Extend and check an election's public ballot board (a verifiable election's board is
    extended by ``serve`` every few seconds and by the close)."""


@board.command("extend")
@election_option
@command()
def extend_board_cmd(slug: str, db: str, actor: str) -> None:
    """Put every ballot cast since the last extension on the board; log the new head."""
    from tallyroom.services.board import extend_board

    with open_cli_store(db) as store:
        head = extend_board(store, slug, actor=actor)
    click.echo(f"{slug}: the board is at {head}")


@board.command("verify")
@election_option
@command(actor=False)
def verify_board_cmd(slug: str, db: str) -> None:
    """Recompute the board's chain from its rows against every head the audit log recorded
    (and, after a verifiable poll's close, the head the close recorded, with every ballot of
    the box on the board). Exit status 0 when it verifies, 1 when it does not (each failure
    is listed)."""
    from tallyroom.services.board import check_board

    with open_cli_store(db) as store:
        checked = check_board(store, slug)
    for failure in checked.failures:
        click.echo(f"board: {failure}")
    verdict = "verifies" if checked.ok else f"FAILS ({len(checked.failures)} problem(s))"
    click.echo(f"{slug}: the board {verdict}; recomputed head: {checked.head}")
    if not checked.ok:
        raise SystemExit(1)


def register_poll_commands(main: click.Group) -> None:
    """Add ``nominations``, ``voting``, ``audit``, ``board`` and
    ``election count|declare|results``."""
    from tallyroom.cli.election_cmds import election

    main.add_command(nominations)
    main.add_command(voting)
    main.add_command(audit)
    main.add_command(board)
    for cmd in (count_election, declare, results):
        election.add_command(cmd)
