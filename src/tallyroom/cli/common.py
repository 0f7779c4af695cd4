"""What the service commands share: the ``--db`` (or ``TALLYROOM_DB``), ``--data-dir`` (or
``TALLYROOM_DATA_DIR``) and ``--actor`` options, ``--election``, confirmation of an act that
cannot be undone (``--yes``), one-line errors from the one error tree (exit status 2), and
opening the store."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tallyroom.errors import TallyroomError

if TYPE_CHECKING:
    from tallyroom.store.engine import Store

__all__ = [
    "DATA_DIR_OPTION",
    "DB_OPTION",
    "DEFAULT_DB",
    "EXISTING",
    "FILE",
    "JSON_OPTION",
    "YES",
    "command",
    "confirm",
    "election_option",
    "one_line_errors",
    "open_cli_store",
    "show_declaration",
]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "sqlite:///tallyroom.db"
FILE = click.Path(dir_okay=False, path_type=Path)
EXISTING = click.Path(dir_okay=False, exists=True, path_type=Path)


DB_OPTION = click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    envvar="TALLYROOM_DB",
    show_envvar=True,
    help="Store URL or path.",
)
DATA_DIR_OPTION = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tallyroom-data"),
    show_default=True,
    envvar="TALLYROOM_DATA_DIR",
    show_envvar=True,
    help="Folder of per-election key files and credential exports.",
)


def one_line_errors(func: F) -> F:
    """An error from the one error tree printed as one line on stderr; exit status 2.

    A store's refusal about an election is named by the election's slug (the store only
    knows its number, which means nothing to the officer typing the command)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TallyroomError as exc:
            click.echo(f"tallyroom: error: {_in_words(exc, kwargs.get('slug'))}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _in_words(exc: TallyroomError, slug: object) -> str:
    from tallyroom.errors import StoreError

    if isinstance(exc, StoreError) and isinstance(slug, str) and not isinstance(exc.election, str):
        return f"election {slug}: {exc}"
    return str(exc)


def command(*, actor: bool = True) -> Callable[[F], F]:
    """Add ``--db`` (and ``--actor`` unless told not to) and turn errors into one line."""

    def decorate(func: F) -> F:
        wrapped: Any = DB_OPTION(one_line_errors(func))
        if actor:
            wrapped = click.option(
                "--actor", default="returning officer", show_default=True, help="Who is acting."
            )(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


def election_option(func: F) -> F:
    return click.option("--election", "slug", required=True, help="The election's slug.")(func)


def open_cli_store(db: str) -> Store:
    """The store at ``db``, migrated to head (a no-op when it is current; a new file or an
    empty database gets the schema, so a mistyped path says "no such election")."""
    from tallyroom.store.engine import open_store

    return open_store(db, upgrade=True)


YES = click.option(
    "--yes", "-y", is_flag=True, help="Do it without asking (the step cannot be undone)."
)


def confirm(yes: bool, question: str) -> None:
    """Ask ``question`` before a step that cannot be undone, unless ``--yes``; "no" (or no
    terminal to ask on) stops with exit status 1 and nothing done."""
    if yes:
        return
    if not click.confirm(question, default=False, err=True):
        click.echo("tallyroom: nothing done (give --yes to skip this question)", err=True)
        sys.exit(1)


JSON_OPTION = click.option("--json", "json_out", type=FILE, help="Write the declaration as JSON.")


def show_declaration(decl: object, json_out: Path | None) -> None:
    """Print a declaration as text and, given ``json_out``, write it there as JSON."""
    import json

    from tallyroom.report.declaration import Declaration, declaration_document
    from tallyroom.report.declaration_text import declaration_text

    assert isinstance(decl, Declaration)
    click.echo(declaration_text(decl), nl=False)
    if json_out is not None:
        text = json.dumps(declaration_document(decl), indent=2, sort_keys=True)
        json_out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {json_out}", err=True)
