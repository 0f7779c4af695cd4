"""``tallyroom users`` and ``tallyroom serve``: console users, and the web app.

Register them on the main group with :func:`register_web_commands`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tallyroom.cli.common import DATA_DIR_OPTION, YES, command, confirm, open_cli_store

__all__ = ["register_web_commands", "serve", "users"]

ROLES = ("returning_officer", "scrutineer", "observer")


@click.group()
def users() -> None:
    """Add, list and remove the web console's users; change their passwords."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="TALLYROOM_USER_PASSWORD",
    help="At least 12 characters (prompted for when not given).",
)
@command(actor=False)
def add(username: str, role: str, password: str, db: str) -> None:
    """Add USERNAME to the console with a role (returning_officer, scrutineer, observer)."""
    from tallyroom.election.roles import ConsoleRole
    from tallyroom.services.users import create_user

    with open_cli_store(db) as store:
        user = create_user(store, username, password, ConsoleRole(role))
    click.echo(f"added {user.username} ({user.role.value})")


@users.command("list")
@command(actor=False)
def list_(db: str) -> None:
    """List the console's users and their roles."""
    from tallyroom.services.users import list_users

    with open_cli_store(db) as store:
        for user in list_users(store):
            click.echo(f"{user.username}\t{user.role.value}\t{user.created_at}")


@users.command("remove")
@click.argument("username")
@YES
@command()
def remove(username: str, yes: bool, db: str, actor: str) -> None:
    """Remove USERNAME from the console (they can no longer sign in; a session they hold
    ends at its next request)."""
    from tallyroom.services.users import remove_user

    confirm(yes, f"Remove the console user {username}?")
    with open_cli_store(db) as store:
        role = remove_user(store, username, actor=actor)
    click.echo(f"removed {username} ({role.value})")


@users.command("passwd")
@click.argument("username")
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    envvar="TALLYROOM_USER_PASSWORD",
    help="At least 12 characters (prompted for twice, hidden, when not given).",
)
@command(actor=False)
def passwd(username: str, password: str, db: str) -> None:
    """Give USERNAME a new console password."""
    from tallyroom.services.users import set_password

    with open_cli_store(db) as store:
        user = set_password(store, username.strip(), password)
    click.echo(f"password changed for {user.username}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@DATA_DIR_OPTION
@click.option(
    "--session-secret-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the session signing key (default: TALLYROOM_SESSION_SECRET, else "
    "DATA_DIR/session-secret, created at the first start).",
)
@click.option("--https-only", is_flag=True, help="Secure cookies and HSTS (behind TLS).")
@click.option(
    "--schedule-interval",
    default=30,
    show_default=True,
    type=click.IntRange(0, 3600),
    metavar="SECONDS",
    help="Seconds between checks of the timetables: polls open at ballot_open and close at "
    "ballot_close (0: only the officer's commands).",
)
@click.option(
    "--board-every",
    default=10,
    show_default=True,
    type=click.IntRange(0, 3600),
    metavar="SECONDS",
    help="Seconds between extensions of the ballot board of every open verifiable election "
    "(0: only at the close and by 'tallyroom board extend').",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check that every election needing its credential key finds it, then exit "
    "(status 1 if one is missing) without serving.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network) whose X-Forwarded-For is believed; repeat "
    "for several. Without it the header is ignored.",
)
@click.option(
    "--smtp",
    default="",
    envvar="TALLYROOM_SMTP",
    help="SMTP server for the console's delivery: smtp://[user@]host[:port][?starttls=...] "
    "or smtps://... (the password in TALLYROOM_SMTP_PASSWORD or --smtp-password-file).",
)
@click.option(
    "--smtp-password-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File (0600) holding the SMTP password.",
)
@click.option(
    "--mail-from", default="", envvar="TALLYROOM_MAIL_FROM", help="Sender of the messages."
)
@click.option(
    "--public-url",
    default="",
    envvar="TALLYROOM_PUBLIC_URL",
    help="The site's public address (https://...), for the links in messages.",
)
@click.option(
    "--mail-templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of edited message templates (searched first).",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Serve only the public pages, from a read-only replica of the database: no "
    "migration (the schema must be at this version's), no schedule, every write answered "
    "503 (see docs/web.md, Scale-out).",
)
@click.option(
    "--primary-url",
    default="",
    envvar="TALLYROOM_PRIMARY_URL",
    metavar="URL",
    help="With --read-only: the primary server's address, named in the 503 and where the "
    "booth and the console are redirected.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log one line per request (off by default: it costs CPU on every cast and would "
    "record each voter's address).",
)
@command(actor=False)
def serve(
    host: str,
    port: int,
    workers: int,
    access_log: bool,
    data_dir: Path,
    session_secret_file: Path | None,
    https_only: bool,
    schedule_interval: int,
    board_every: int,
    check: bool,
    trusted_proxies: tuple[str, ...],
    smtp: str,
    smtp_password_file: Path | None,
    mail_from: str,
    public_url: str,
    mail_templates: Path | None,
    read_only: bool,
    primary_url: str,
    db: str,
) -> None:
    """Serve the booth, the console, the results and the JSON API (uvicorn).

    Every key is found through DATA_DIR (see docs/web.md): an election whose poll is open
    or whose credentials are issued but whose credential key is missing is named on stderr.
    With --read-only, only the public pages, from a replica (no key is needed)."""
    from tallyroom.services.key_files import KeyFolder
    from tallyroom.web.server import check_keys
    from tallyroom.web.server import serve as run
    from tallyroom.web.settings import WebSettings

    extra: dict[str, Any] = {}
    if session_secret_file is not None:
        extra["session_secret"] = session_secret_file.read_text(encoding="utf-8").strip()
    else:
        extra["session_secret"] = KeyFolder(data_dir).session_secret()
    settings = WebSettings(
        database=db,
        data_dir=data_dir,
        https_only=https_only,
        trusted_proxies=trusted_proxies,
        schedule_interval=schedule_interval,
        board_every=board_every,
        smtp=smtp,
        smtp_password_file=smtp_password_file,
        mail_from=mail_from,
        public_url=public_url,
        mail_templates=mail_templates,
        read_only=read_only,
        primary_url=primary_url,
        **extra,
    )
    if check:
        found = check_keys(settings)
        for missing in found:
            click.echo(f"tallyroom: error: {missing.render()}", err=True)
        click.echo(f"{len(found)} election(s) missing a credential key", err=bool(found))
        raise SystemExit(1 if found else 0)
    run(settings, host=host, port=port, workers=workers, access_log=access_log)


def register_web_commands(main: click.Group) -> None:
    """Add ``users`` and ``serve`` to ``main``."""
    main.add_command(users)
    main.add_command(serve)
