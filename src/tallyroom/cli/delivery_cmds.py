"""``tallyroom credentials send | letters | export | report | delivery-end``, ``voting remind`` and
``election notify``: delivering credentials, reminders and notices, thin over
:mod:`tallyroom.services.delivery` and :mod:`tallyroom.services.reminders`.

Register them with :func:`register_delivery_commands` (from ``cli/main.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from tallyroom.cli.common import FILE, command, election_option, open_cli_store

__all__ = ["register_delivery_commands"]

_KEY = click.option(
    "--key-file", type=FILE, required=True, help="The election's credential key (0600)."
)


def _mail_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--smtp",
                required=True,
                help="smtp://[user@]host[:port][?starttls=auto|require|never] or smtps://...; "
                "the password in TALLYROOM_SMTP_PASSWORD.",
            ),
            click.option(
                "--from", "sender", required=True, help="The sender, e.g. 'RO <ro@example.org>'."
            ),
            click.option(
                "--booth-url", required=True, help="The booth's public address (https://...)."
            ),
            click.option(
                "--templates",
                type=click.Path(file_okay=False, path_type=Path),
                help="A folder of edited message templates (searched first).",
            ),
            click.option(
                "--rate",
                type=click.FloatRange(min=0),
                default=20.0,
                show_default=True,
                help="Messages a second over all connections (0: as fast as the server takes).",
            ),
            click.option(
                "--connections",
                type=click.IntRange(1, 32),
                default=4,
                show_default=True,
                help="SMTP connections used at once.",
            ),
            click.option(
                "--batch",
                type=click.IntRange(1, 100_000),
                default=200,
                show_default=True,
                help="Messages sent between two commits of their outcomes (a sender killed "
                "mid-batch sends that batch again, with the same credentials).",
            ),
        ]
    ):
        func = option(func)
    return func


def _settings(smtp: str, sender: str, booth_url: str, templates: Path | None, rate: float,
              connections: int, batch: int) -> Any:  # fmt: skip
    from tallyroom.services.delivery import MailSettings
    from tallyroom.services.smtp import PASSWORD_ENV, parse_smtp_url

    server = parse_smtp_url(smtp, os.environ.get(PASSWORD_ENV))
    return MailSettings(server, sender, booth_url, templates, rate, connections, batch)


@click.command("send")
@election_option
@_KEY
@_mail_options
@click.option("--retry-failed", is_flag=True, help="Send again only the messages refused.")
@click.option(
    "--reissue-reason",
    default="",
    help="After delivery ended, a resend is a reissue: the reason recorded for it.",
)
@command()
def send(
    slug: str,
    key_file: Path,
    smtp: str,
    sender: str,
    booth_url: str,
    templates: Path | None,
    rate: float,
    connections: int,
    batch: int,
    retry_failed: bool,
    reissue_reason: str,
    db: str,
    actor: str,
) -> None:
    """Email each voter whose channel is email their credential, resumably: run it again
    after a crash and it sends the rest, the same credentials."""
    from tallyroom.cli.progress import Progress
    from tallyroom.services.delivery import send_credentials

    mail = _settings(smtp, sender, booth_url, templates, rate, connections, batch)
    with open_cli_store(db) as store, Progress("messages sent") as progress:
        result = send_credentials(
            store,
            slug,
            key_path=key_file,
            mail=mail,
            actor=actor,
            retry_failed=retry_failed,
            reissue_reason=reissue_reason,
            progress=progress.update,
        )
    click.echo(
        f"sent {result.sent:,}, failed {result.failed:,}, reissued {result.reissued:,}, "
        f"still pending {result.pending:,}"
    )
    if result.ended:
        click.echo("every voter has been sent a credential: delivery ended, its secret destroyed")


@click.command("export")
@election_option
@_KEY
@click.option("--out", type=FILE, required=True, help="The CSV to write (once, mode 0600).")
@command()
def export(slug: str, key_file: Path, out: Path, db: str, actor: str) -> None:
    """Write every voter's credential and contact once, for an external mail house."""
    from tallyroom.services.delivery import export_credentials

    with open_cli_store(db) as store:
        count = export_credentials(store, slug, key_path=key_file, out=out, actor=actor)
    click.echo(f"wrote {count:,} credentials to {out}; the audit log records the export")


@click.command("delivery-end")
@election_option
@_KEY
@click.option("--reason", default="", help="Recorded in the audit log.")
@command()
def delivery_end(slug: str, key_file: Path, reason: str, db: str, actor: str) -> None:
    """End delivery: destroy the delivery secret (a later resend is a reissue)."""
    from tallyroom.services.delivery import end_delivery

    with open_cli_store(db) as store:
        number = end_delivery(store, slug, key_path=key_file, actor=actor, reason=reason)
    click.echo(f"delivery round {number} ended; its secret is destroyed")


@click.command("report")
@election_option
@command(actor=False)
def report(slug: str, db: str) -> None:
    """Sent, failed by reason, not yet sent, letters, reissues: by section."""
    from tallyroom.services.delivery_report import delivery_report

    with open_cli_store(db) as store:
        click.echo(delivery_report(store, slug).render(), nl=False)


@click.command("letters")
@election_option
@_KEY
@click.option("--out", type=FILE, required=True, help="The PDF to write (not overwritten).")
@click.option("--booth-url", required=True, help="The booth's public address (https://...).")
@click.option(
    "--font",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A TrueType font for the text (default: DejaVu Sans when installed).",
)
@click.option(
    "--reissue-reason",
    default="",
    help="After delivery ended, a reprint is a reissue: the reason recorded for it.",
)
@click.option(
    "--per-file",
    type=click.IntRange(min=1),
    default=2_000,
    show_default=True,
    help="Pages a PDF at most; more letters are written as volumes OUT-001.pdf, -002...",
)
@command()
def letters(
    slug: str,
    key_file: Path,
    out: Path,
    booth_url: str,
    font: Path | None,
    reissue_reason: str,
    per_file: int,
    db: str,
    actor: str,
) -> None:
    """A print-ready PDF letter (A4, for a DL window envelope) for each voter by post not yet
    printed: address, credential, booth address, a QR code of the voting link."""
    from tallyroom.cli.progress import Progress
    from tallyroom.services.letters import print_letters

    with open_cli_store(db) as store, Progress("letters") as progress:
        run = print_letters(
            store, slug, key_path=key_file, out=out, booth_url=booth_url, actor=actor,
            font=font, reissue_reason=reissue_reason, per_file=per_file,
            progress=progress.update,
        )  # fmt: skip
    if run.printed:
        files = ", ".join(str(f) for f in run.files)
        click.echo(f"wrote {run.printed:,} letters to {files} (reissued {run.reissued:,})")
    else:
        click.echo("no letter to print")
    if run.ended:
        click.echo("every voter has been sent a credential: delivery ended, its secret destroyed")


@click.command("remind")
@election_option
@_mail_options
@click.option("--label", default="1", show_default=True, help="This reminder's name (a second "
              "reminder needs another label).")  # fmt: skip
@click.option("--retry-failed", is_flag=True, help="Send again only the reminders refused.")
@command()
def remind(
    slug: str,
    smtp: str,
    sender: str,
    booth_url: str,
    templates: Path | None,
    rate: float,
    connections: int,
    batch: int,
    label: str,
    retry_failed: bool,
    db: str,
    actor: str,
) -> None:
    """Remind each email voter of the contests they have not voted in yet (one message
    naming them; never a contest they have voted in)."""
    from tallyroom.cli.progress import Progress
    from tallyroom.services.reminders import send_reminders

    mail = _settings(smtp, sender, booth_url, templates, rate, connections, batch)
    with open_cli_store(db) as store, Progress("reminders sent") as progress:
        result = send_reminders(
            store, slug, mail=mail, actor=actor, label=label, retry_failed=retry_failed,
            progress=progress.update,
        )  # fmt: skip
    click.echo(
        f"reminded {result.sent:,}, failed {result.failed:,}, "
        f"voted in every contest before their reminder left {result.skipped:,}"
    )


@click.command("notify")
@election_option
@_mail_options
@click.option("--results-url", required=True, help="Where the declaration is published.")
@click.option("--retry-failed", is_flag=True, help="Send again only the notices refused.")
@command()
def notify(
    slug: str,
    smtp: str,
    sender: str,
    booth_url: str,
    templates: Path | None,
    rate: float,
    connections: int,
    batch: int,
    results_url: str,
    retry_failed: bool,
    db: str,
    actor: str,
) -> None:
    """Email every voter the declared result."""
    from tallyroom.cli.progress import Progress
    from tallyroom.services.reminders import send_notices

    mail = _settings(smtp, sender, booth_url, templates, rate, connections, batch)
    with open_cli_store(db) as store, Progress("notices sent") as progress:
        result = send_notices(
            store, slug, mail=mail, results_url=results_url, actor=actor,
            retry_failed=retry_failed, progress=progress.update,
        )  # fmt: skip
    click.echo(f"notified {result.sent:,}, failed {result.failed:,}")


def register_delivery_commands(main: click.Group) -> None:
    """Add the delivery commands: to ``credentials`` (send, export, report, delivery-end),
    ``voting`` (remind) and ``election`` (notify)."""
    from tallyroom.cli.election_cmds import credentials, election
    from tallyroom.cli.poll_cmds import voting

    for cmd in (send, letters, export, delivery_end, report):
        credentials.add_command(cmd)
    voting.add_command(remind)
    election.add_command(notify)
