"""``tallyroom verify RECORD``: the independent verifier of an election record.

Exit status 0 when every check passes, 1 when one fails (the first failure is named), 2 when
the command is used wrongly or the record's directory cannot be read at all. The report goes
to stdout (``--json`` for a machine-readable one); progress to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tallyroom.audit.chain import Head

__all__ = ["verify"]


def _head(text: str | None) -> Head | None:
    if text is None:
        return None
    sequence, _, digest = text.strip().partition(":")
    try:
        return Head(int(sequence), bytes.fromhex(digest))
    except ValueError:
        raise click.BadParameter(
            "a head is SEQUENCE:HASH, the hash 64 hexadecimal digits", param_hint="--head"
        ) from None


@click.command()
@click.argument("record", type=click.Path(path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Processes that check proofs in parallel.",
)
@click.option(
    "--head",
    "head_text",
    metavar="SEQUENCE:HASH",
    help="The audit log's head as published with the declaration: the log must end there.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(record: Path, workers: int, head_text: str | None, as_json: bool) -> None:
    """Verify the election record in the folder RECORD: every file against its manifest,
    the trustees' ceremony, the audit log, the ballot board, every ballot's proof, every
    shuffle, every decryption, and a recount against the declaration."""
    from tallyroom.cli.progress import StageProgress
    from tallyroom.verify.checks import verify_record
    from tallyroom.verify.record_files import MANIFEST

    head = _head(head_text)
    if not record.is_dir():
        click.echo(f"tallyroom: error: {record}: not a folder (an election record)", err=True)
        sys.exit(2)
    if not (record / MANIFEST).is_file():
        click.echo(f"tallyroom: error: {record}: no {MANIFEST}: not an election record", err=True)
        sys.exit(2)
    report = verify_record(record, workers=workers, progress=StageProgress(), log_head=head)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.summary())
    sys.exit(0 if report.ok else 1)
