"""The election, register and credentials commands, end to end on both backends."""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path

import click
from click.testing import CliRunner

from tallyroom.cli.election_cmds import register_groups
from tallyroom.store import ElectionState, elections, open_store

DEFINITION = str(files("tallyroom").joinpath("examples", "labour-2016.toml"))
REGISTER = (
    "id,section,membership_number,status,joined,registered\n"
    "P1,members,N1,active,2015-03-01,\n"
    "P2,members,N2,lapsed,2015-03-01,\n"
    "P4,registered,R4,active,,2016-07-19T12:00:00+01:00\n"
)


def cli() -> click.Group:
    @click.group()
    def main() -> None:
        pass

    register_groups(main)
    return main


def test_the_register_and_credential_commands(empty_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    main = cli()
    db = ["--db", empty_url]
    key = str(tmp_path / "leader.key")
    done = runner.invoke(
        main,
        ["election", "create", DEFINITION, "--slug", "leader", "--private-key", key, *db],
        input="pass\npass\n",
    )
    assert done.exit_code == 0, done.output
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    sel = ["--election", "leader", *db]
    done = runner.invoke(main, ["register", "import", str(path), "--column", "person=id", *sel])
    assert done.exit_code == 0, done.output
    assert "stored 3 entries, 2 eligible" in done.output
    done = runner.invoke(main, ["register", "eligibility", *sel])
    assert "status not allowed" in done.output
    done = runner.invoke(main, ["register", "freeze", "--yes", *sel])
    assert done.exit_code == 0 and "sha256" in done.output
    done = runner.invoke(
        main, ["register", "change", "P4", "--not-eligible", "--reason", "moved", *sel]
    )
    assert done.exit_code == 0, done.output
    with open_store(empty_url) as store, store.begin() as conn:
        record = elections.find_election(conn, "leader")
        assert record is not None
        elections.advance(conn, record.id, ElectionState.NOMINATIONS_CLOSED, actor="ro")
    cred = ["--key-file", str(tmp_path / "cred.key"), "--data-dir", str(tmp_path / "data")]
    export = tmp_path / "out.csv"
    done = runner.invoke(main, ["credentials", "issue", *cred, "--export", str(export), *sel])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(export.open(encoding="utf-8")))
    assert [r["person_id"] for r in rows] == ["P1"]
    done = runner.invoke(main, ["credentials", "reissue", "P1", *cred, "--reason", "lost", *sel])
    assert done.exit_code == 0, done.output
    new = done.output.strip().split(",")[-1]
    done = runner.invoke(main, ["credentials", "revoke", new, *cred, "--reason", "stolen", *sel])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["election", "status", *sel])
    assert "credentials issued" in done.output


def test_errors_are_one_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        cli(), ["election", "status", "--election", "nope", "--db", str(tmp_path / "x.db")]
    )
    assert done.exit_code == 2
    assert done.output.startswith("tallyroom: error:")


def test_a_verifiable_election_needs_no_sealing_key_and_a_sealed_one_says_so(
    empty_url: str, tmp_path: Path
) -> None:
    from verifiable_leader import LEADER_VERIFIABLE

    runner = CliRunner()
    main = cli()
    db = ["--db", empty_url]
    sealed = runner.invoke(main, ["election", "create", DEFINITION, "--slug", "leader", *db])
    assert sealed.exit_code == 2 and "Traceback" not in sealed.output
    assert "takes the sealed path" in sealed.output and "--private-key" in sealed.output
    definition = tmp_path / "leader.toml"
    definition.write_text(LEADER_VERIFIABLE, encoding="utf-8")
    # the refused attempt stored nothing: the same slug is free
    done = runner.invoke(main, ["election", "create", str(definition), *db])
    assert done.exit_code == 0, done.output
    assert "verifiable" in done.output and "ceremony status --election leader" in done.output
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".key"]  # no key file made
    with open_store(empty_url) as store, store.read() as conn:
        record = elections.find_election(conn, "leader")
        assert record is not None and record.ballot_public_key is None
    status = runner.invoke(main, ["election", "status", "--election", "leader", *db])
    assert "verifiable: election key not set" in status.output
