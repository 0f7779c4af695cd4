"""``tallyroom tally``: a verifiable election's count, from the closed board to the declaration.

The returning officer's steps (``status``, ``export``, ``add``, ``count``, ``declare``) use
the database; the trustees' steps (``mix``, ``decrypt``) run on the trustees' own machines
with files only (services/tally_files.py describes the folders). Register the group with
:func:`register_tally_commands`.
"""

from __future__ import annotations

from pathlib import Path

import click

from tallyroom.cli.common import (
    DATA_DIR_OPTION,
    JSON_OPTION,
    YES,
    command,
    confirm,
    election_option,
    one_line_errors,
    open_cli_store,
    show_declaration,
)

__all__ = ["register_tally_commands", "tally"]

_FOLDER = click.Path(file_okay=False, path_type=Path)
_WORKERS = click.option(
    "--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Processes."
)


def _say(text: str) -> None:
    click.echo(text, err=True)


@click.group()
def tally() -> None:
    """Count a verifiable election: mix the board, decrypt with the trustees, declare."""


@tally.command("status")
@election_option
@command(actor=False)
def status(slug: str, db: str) -> None:
    """Each group of the board (contest, section, weight, unit): mixers done, decrypted."""
    from tallyroom.services.tally import tally_status

    with open_cli_store(db) as store:
        groups = tally_status(store, slug)
    if not groups:
        click.echo("the board holds no ballots")
    for g in groups:
        trustees = ", ".join(str(t) for t in g.decrypted) or "none"
        state = "ready to count" if g.ready else "waiting"
        click.echo(
            f"{g.name}: {g.ballots:,} ballots; mixed by {g.mixed} of"
            f" {g.mixers}; decrypted by trustees {trustees} ({g.threshold} needed); {state}"
        )


@tally.command("export")
@election_option
@click.option("--out", type=_FOLDER, required=True, help="Folder for the next step's inputs.")
@command(actor=False)
def export(slug: str, out: Path, db: str) -> None:
    """Write the inputs of the tally's next step (for the next mixer, or the trustees)."""
    from tallyroom.services.tally_files import export_inputs

    with open_cli_store(db) as store:
        step = export_inputs(store, slug, out)
    who = (
        "the next mixer ('tallyroom tally mix')"
        if step == "mix"
        else ("the trustees ('tallyroom tally decrypt')")
    )
    click.echo(f"wrote the inputs to {out}: give the folder to {who}")


@tally.command("mix")
@click.option("--input", "folder", type=_FOLDER, required=True, help="The exported inputs.")
@click.option(
    "--position", type=click.IntRange(1), required=True, help="Your place among the mixers."
)
@click.option("--out", type=_FOLDER, required=True, help="Folder for your stage.")
@_WORKERS
@one_line_errors
def mix(folder: Path, position: int, out: Path, workers: int) -> None:
    """A mixer's step, on the mixer's own machine: shuffle every group, with proofs."""
    from tallyroom.services.tally_files import mix_inputs

    rows = mix_inputs(folder, position, out, workers=workers, say=_say)
    click.echo(f"mixed {rows:,} ballots as mixer {position}: give {out} to the returning officer")


@tally.command("decrypt")
@click.option("--input", "folder", type=_FOLDER, required=True, help="The exported inputs.")
@click.option(
    "--secret",
    type=click.Path(dir_okay=False, path_type=Path, exists=True),
    required=True,
    help="Your trustee file from the key ceremony.",
)
@click.option(
    "--passphrase",
    prompt=True,
    hide_input=True,
    envvar="TALLYROOM_TRUSTEE_PASSPHRASE",
    help="Your trustee file's passphrase (or TALLYROOM_TRUSTEE_PASSPHRASE).",
)
@click.option("--out", type=_FOLDER, required=True, help="Folder for your decryption.")
@_WORKERS
@one_line_errors
def decrypt(folder: Path, secret: Path, passphrase: str, out: Path, workers: int) -> None:
    """A trustee's step, on the trustee's own machine: decryption shares with proofs."""
    from tallyroom.services.tally_files import decrypt_inputs

    trustee = decrypt_inputs(folder, secret, passphrase, out, workers=workers, say=_say)
    click.echo(f"decrypted as trustee {trustee}: give {out} to the returning officer")


@tally.command("add")
@election_option
@click.argument("folders", nargs=-1, required=True, type=_FOLDER)
@_WORKERS
@command()
def add(slug: str, folders: tuple[Path, ...], workers: int, db: str, actor: str) -> None:
    """Check and store a mixer's stage or a trustee's decryption (each folder all or none)."""
    from tallyroom.services.tally_files import add_parts

    with open_cli_store(db) as store:
        for folder in folders:
            added = add_parts(store, slug, folder, actor=actor, workers=workers, say=_say)
            who = "mixer" if added.part == "mix" else "trustee"
            click.echo(
                f"{folder}: {who} {added.number}'s {added.part} of {added.groups} group(s)"
                " checked and stored"
            )


_JSON = JSON_OPTION


@tally.command("count")
@election_option
@_JSON
@_WORKERS
@command()
def count(slug: str, json_out: Path | None, workers: int, db: str, actor: str) -> None:
    """Combine the trustees' shares, decode and count; print the result (not declared)."""
    from tallyroom.services.tally import count_tally

    with open_cli_store(db) as store:
        decl = count_tally(store, slug, actor=actor, workers=workers)
    show_declaration(decl, json_out)


@tally.command("declare")
@election_option
@_JSON
@_WORKERS
@YES
@command()
def declare(slug: str, json_out: Path | None, workers: int, yes: bool, db: str, actor: str) -> None:
    """Count the tally and declare the result: it is published. Final (asks unless --yes)."""
    from tallyroom.services.tally import declare_tally

    confirm(yes, f"Declare the result of {slug} and publish it? This is final.")
    with open_cli_store(db) as store:
        decl = declare_tally(store, slug, actor=actor, workers=workers)
    show_declaration(decl, json_out)


@click.command("record")
@election_option
@click.option("--out", type=_FOLDER, help="Folder for the record (new or empty).")
@click.option(
    "--publish",
    is_flag=True,
    help="Publish it instead, as one tar under DATA_DIR/records that 'tallyroom serve' links "
    "from the results page (/e/SLUG/record.tar).",
)
@DATA_DIR_OPTION
@_WORKERS
@command(actor=False)
def record(
    slug: str, out: Path | None, publish: bool, data_dir: Path, workers: int, db: str
) -> None:
    """Write a declared verifiable election's record, for 'tallyroom verify' (anyone's)."""
    from tallyroom.services.election_record import write_election_record
    from tallyroom.services.record_publishing import publish_record

    if (out is None) == (not publish):
        raise click.UsageError("give --out DIR or --publish (one of them)")
    with open_cli_store(db) as store:
        if publish:
            done = publish_record(store, slug, data_dir / "records", workers=workers, say=_say)
            click.echo(
                f"published the election record of {slug}: {data_dir / 'records' / done.name}"
                f" ({done.files} files, {done.size:,} bytes, sha256 {done.sha256}); served at"
                f" /e/{slug}/record.tar"
            )
            return
        assert out is not None
        manifest = write_election_record(store, slug, out, workers=workers, say=_say)
    size = sum(f.size for f in manifest.files)
    click.echo(
        f"wrote the election record of {slug} to {out}: {len(manifest.files)} files,"
        f" {size:,} bytes; check it with: tallyroom verify {out}"
    )


def register_tally_commands(main: click.Group) -> None:
    """Add ``tally`` and ``election record``."""
    from tallyroom.cli.election_cmds import election

    main.add_command(tally)
    election.add_command(record)
