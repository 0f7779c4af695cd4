"""What the service commands share: the ``--db`` and ``--actor`` options, ``--election``,
one-line errors from the one error tree (exit status 2), and opening the store."""

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
    "DEFAULT_DB",
    "EXISTING",
    "FILE",
    "command",
    "election_option",
    "one_line_errors",
    "open_cli_store",
]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "sqlite:///tallyroom.db"
FILE = click.Path(dir_okay=False, path_type=Path)
EXISTING = click.Path(dir_okay=False, exists=True, path_type=Path)


def one_line_errors(func: F) -> F:
    """An error from the one error tree printed as one line on stderr; exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TallyroomError as exc:
            click.echo(f"tallyroom: error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def command(*, actor: bool = True) -> Callable[[F], F]:
    """Add ``--db`` (and ``--actor`` unless told not to) and turn errors into one line."""

    def decorate(func: F) -> F:
        wrapped: Any = click.option(
            "--db", default=DEFAULT_DB, show_default=True, help="Store URL or path."
        )(one_line_errors(func))
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
