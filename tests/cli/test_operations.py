"""Running an installation from the console: listing and deleting elections, removing users
and changing their passwords, the store and data folder from the environment, questions
before a step that cannot be undone, and errors in words (no database ids, no enum names)."""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tallyroom.cli.main import main
from tallyroom.services.users import authenticate
from tallyroom.store import open_store

DEFINITION = str(files("tallyroom").joinpath("examples", "labour-2016.toml"))
PASS = "sealing passphrase"
REGISTER = (
    "person_id,section,membership_number,status,joined,registered\n"
    "P1,members,N1,active,2015-03-01,\n"
)


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env)


def created(db: str, tmp_path: Path, slug: str = "leader") -> None:
    done = run("election", "create", DEFINITION, "--slug", slug, "--private-key",
               str(tmp_path / f"{slug}.key"), "--db", db, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    assert done.exit_code == 0, done.output


def test_list_shows_slug_state_dates_and_title(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    assert run("election", "list", "--db", db).exit_code == 0
    created(db, tmp_path, "leader")
    created(db, tmp_path, "another")
    lines = run("election", "list", "--db", db).stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["another", "leader"]
    slug, state, nominations, ballot, title = lines[1].split("\t")
    assert (slug, state, title) == ("leader", "draft", "Labour Party leadership election 2016")
    assert nominations == "nominations 2016-07-11 00:00 to 2016-07-20 17:00"
    assert ballot == "ballot 2016-08-22 00:00 to 2016-09-21 12:00"


def test_a_draft_is_deleted_a_frozen_election_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    created(db, tmp_path, "leader")
    created(db, tmp_path, "draft")
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    for slug in ("leader", "draft"):
        assert (
            run("register", "import", str(register), "--election", slug, "--db", db).exit_code == 0
        )
    assert run("register", "freeze", "--yes", "--election", "leader", "--db", db).exit_code == 0

    refused = run("election", "delete", "--yes", "--election", "leader", "--db", db)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "tallyroom: error: election leader: cannot delete the election while the election is "
        "register frozen (needs draft)"
    )
    # asked, and answered no: nothing done
    kept = run("election", "delete", "--election", "draft", "--db", db, input="n\n")
    assert kept.exit_code == 1 and "nothing done" in kept.stderr
    assert len(run("election", "list", "--db", db).stdout.splitlines()) == 2

    with caplog.at_level(logging.WARNING, logger="tallyroom.elections"):
        done = run("election", "delete", "--election", "draft", "--db", db, input="y\n")
    assert done.exit_code == 0, done.output
    assert "deleted draft election draft" in done.stdout and "1 register entries" in done.stdout
    assert any("deleted draft election draft" in r.getMessage() for r in caplog.records)
    assert [
        line.split("\t")[0] for line in run("election", "list", "--db", db).stdout.splitlines()
    ] == ["leader"]
    # the slug is free again (the key file is the officer's, left in place), and the other
    # election's log still verifies
    assert (tmp_path / "draft.key").exists()
    (tmp_path / "draft.key").unlink()
    created(db, tmp_path, "draft")
    assert run("audit", "verify", "--election", "leader", "--db", db).exit_code == 0


def test_users_remove_and_passwd(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    first = "a long first password"
    done = run(
        "users", "add", "alice", "--role", "observer", "--db", db, input=f"{first}\n{first}\n"
    )
    assert done.exit_code == 0, done.output
    # prompted twice, and the two must agree
    differ = run("users", "passwd", "alice", "--db", db,
                 input="a new long password\nanother long password\n" * 1)  # fmt: skip
    assert differ.exit_code != 0
    new = "a new long password"
    done = run("users", "passwd", "alice", "--db", db, input=f"{new}\n{new}\n")
    assert done.exit_code == 0 and done.output.count("password") >= 2
    assert new not in done.output  # hidden
    with open_store(db) as store:
        assert authenticate(store, "alice", new).username == "alice"
    short = run("users", "passwd", "alice", "--db", db, input="short\nshort\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.stderr
    nobody = run("users", "passwd", "bob", "--db", db, input=f"{new}\n{new}\n")
    assert nobody.exit_code == 2 and "no such console user ('bob')" in nobody.stderr

    done = run("users", "remove", "alice", "--yes", "--db", db)
    assert done.exit_code == 0 and "removed alice (observer)" in done.stdout
    assert run("users", "list", "--db", db).stdout == ""
    again = run("users", "remove", "alice", "--yes", "--db", db)
    assert again.exit_code == 2 and "no such console user ('alice')" in again.stderr


def test_the_store_and_the_data_folder_from_the_environment(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'env.db'}"
    env = {"TALLYROOM_DB": db}
    done = run("election", "create", DEFINITION, "--slug", "leader", "--private-key",
               str(tmp_path / "k.key"), input=f"{PASS}\n{PASS}\n", env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert run("election", "list", env=env).stdout.startswith("leader\t")
    assert (
        run("election", "list", "--db", f"sqlite:///{tmp_path / 'other.db'}", env=env).stdout == ""
    )
    assert "env var: TALLYROOM_DB" in run("election", "list", "--help").stdout
    assert "env var: TALLYROOM_DATA_DIR" in run("serve", "--help").stdout


def test_errors_in_words(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 't.db'}"
    created(db, tmp_path)
    early = run("voting", "close", "--yes", "--election", "leader", "--db", db)
    assert early.exit_code == 2
    assert early.stderr.strip() == (
        "tallyroom: error: election leader: cannot close the poll while the election is "
        "draft (needs open)"
    )
    opened = run("voting", "open", "--election", "leader", "--db", db)
    assert "cannot open the poll: the timetable closed the ballot at 2016-09-21T12:00" in (
        opened.stderr
    )
    for text in (early.stderr, opened.stderr):
        assert "election 1" not in text and "_" not in text
    assert (
        "state           draft"
        in run("election", "status", "--election", "leader", "--db", db).stdout
    )
