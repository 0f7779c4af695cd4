"""Console users on SQLite and PostgreSQL: argon2id hashes, sign-in refusals, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tallyroom.cli.main import main
from tallyroom.election.roles import ConsoleRole
from tallyroom.errors import InputError
from tallyroom.services.users import (
    SignInRefused,
    authenticate,
    create_user,
    list_users,
    set_password,
)
from tallyroom.store import Store, open_store
from tallyroom.store import users as user_rows

PASSWORD = "a long enough password"


def test_create_and_authenticate(store: Store) -> None:
    made = create_user(store, "ro", PASSWORD, ConsoleRole.RETURNING_OFFICER)
    assert made.may_act
    assert authenticate(store, "ro", PASSWORD) == made
    with store.read() as conn:
        row = user_rows.find_user(conn, "ro")
    assert row is not None
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash


def test_refusals_do_not_say_which_part_was_wrong(store: Store) -> None:
    create_user(store, "scrutineer", PASSWORD, ConsoleRole.SCRUTINEER)
    with pytest.raises(SignInRefused) as wrong_password:
        authenticate(store, "scrutineer", PASSWORD + "!")
    with pytest.raises(SignInRefused) as unknown:
        authenticate(store, "nobody", PASSWORD)
    assert str(wrong_password.value) == str(unknown.value)


def test_names_are_unique_and_passwords_long(store: Store) -> None:
    create_user(store, "obs", PASSWORD, ConsoleRole.OBSERVER)
    with pytest.raises(InputError, match="exists"):
        create_user(store, "obs", PASSWORD, ConsoleRole.OBSERVER)
    with pytest.raises(InputError, match="12 characters"):
        create_user(store, "short", "tiny", ConsoleRole.OBSERVER)
    with pytest.raises(InputError, match="1 to"):
        create_user(store, "  ", PASSWORD, ConsoleRole.OBSERVER)
    assert [u.username for u in list_users(store)] == ["obs"]


def test_set_password(store: Store) -> None:
    create_user(store, "ro", PASSWORD, ConsoleRole.RETURNING_OFFICER)
    set_password(store, "ro", "another long password")
    with pytest.raises(SignInRefused):
        authenticate(store, "ro", PASSWORD)
    assert authenticate(store, "ro", "another long password").username == "ro"


def test_users_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'users.db'}"
    runner = CliRunner()
    res = runner.invoke(
        main,
        ["users", "add", "alice", "--role", "scrutineer", "--db", db],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert res.exit_code == 0, res.output
    assert "added alice (scrutineer)" in res.output
    res = runner.invoke(main, ["users", "list", "--db", db])
    assert res.exit_code == 0 and res.output.startswith("alice\tscrutineer\t")
    res = runner.invoke(
        main,
        ["users", "add", "bob", "--role", "observer", "--db", db],
        env={"TALLYROOM_USER_PASSWORD": "short"},
    )
    assert res.exit_code == 2 and "12 characters" in res.output
    with open_store(db) as store:
        assert [u.username for u in list_users(store)] == ["alice"]
