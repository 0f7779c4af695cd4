"""``tallyroom users``: the web console's users.

Register them on the main group with :func:`register_web_commands`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tallyroom.errors import TallyroomError

__all__ = ["register_web_commands", "users"]

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "sqlite:///tallyroom.db"
ROLES = ("returning_officer", "scrutineer", "observer")


def _command(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TallyroomError as exc:
            click.echo(f"tallyroom: error: {exc}", err=True)
            sys.exit(2)

    wrapper = click.option(
        "--db", default=DEFAULT_DB, show_default=True, help="Store URL or path."
    )(wrapper)
    return wrapper  # type: ignore[return-value]


@click.group()
def users() -> None:
    """Add and list the web console's users."""


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
@_command
def add(username: str, role: str, password: str, db: str) -> None:
    """Add USERNAME to the console with a role (returning_officer, scrutineer, observer)."""
    from tallyroom.services.users import create_user
    from tallyroom.store import open_store
    from tallyroom.store.schema import ConsoleRole

    with open_store(db, upgrade=True) as store:
        user = create_user(store, username, password, ConsoleRole(role))
    click.echo(f"added {user.username} ({user.role.value})")


@users.command("list")
@_command
def list_(db: str) -> None:
    """List the console's users and their roles."""
    from tallyroom.services.users import list_users
    from tallyroom.store import open_store

    with open_store(db, upgrade=True) as store:
        for user in list_users(store):
            click.echo(f"{user.username}\t{user.role.value}\t{user.created_at}")


def register_web_commands(main: click.Group) -> None:
    """Add ``users`` to ``main``."""
    main.add_command(users)
