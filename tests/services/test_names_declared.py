"""Any printable name is counted, declared and exported, on SQLite and PostgreSQL; a
declaration that cannot be built changes nothing and can be retried.

The attack: a candidate ``Fay "Ffion" Ferris`` was accepted at create, and the declaration
then failed in the BLT writer, leaving the election stuck. Here an election with that name,
a comma and an apostrophe, Greek and Arabic runs from create to declare through the
services, and every download reads back to the names.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from tallyroom.errors import FormatError, InputError
from tallyroom.formats.blt import parse_blt
from tallyroom.report.declaration import CandidateResult, Declaration
from tallyroom.services import counting, declaring, nominations, polling
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import cast_ballot
from tallyroom.store import ElectionState, Store

FAY, OBRIEN, ZOE, MUHAMMAD = 'Fay "Ffion" Ferris', "O'Brien, Seán", "Ζωή", "محمد"
NAMES = (FAY, OBRIEN, ZOE, MUHAMMAD)
PASSPHRASE = "correct horse battery staple"
DEFINITION = """
[election]
name = "Etholiad y Bwrdd 2026"

[timetable]
nominations_open = 2026-01-05T09:00:00Z
nominations_close = 2026-01-12T17:00:00Z
ballot_open = 2026-02-01T09:00:00Z
ballot_close = 2099-02-15T12:00:00Z

[[sections]]
name = "aelodau"
label = "Aelodau (members)"
min_published_size = 1

[[contests]]
name = "cadeirydd"
title = 'Cadeirydd "y Bwrdd", 2026'
rule = "irv"

{candidates}
[eligibility]
statuses = ["active"]
""".replace(
    "{candidates}",
    "".join(
        f"[[contests.candidates]]\nname = {json.dumps(n, ensure_ascii=False)}\n" for n in NAMES
    ),
)
# first preferences: Fay 3, O'Brien 2, Zoe 1, Muhammad 1
RANKINGS = [
    [FAY, ZOE],
    [FAY],
    [FAY, OBRIEN],
    [OBRIEN, FAY],
    [OBRIEN],
    [ZOE, MUHAMMAD],
    [MUHAMMAD, OBRIEN],
]


def run_to_close(store: Store, tmp_path: Path) -> str:
    slug = "bwrdd"
    definition = tmp_path / "bwrdd.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    election_service.create_election(
        store,
        definition,
        actor="ro",
        private_key_path=tmp_path / "ballot.key",
        passphrase=PASSPHRASE,
        slug=slug,
    )
    assert (
        election_service.definition_of(election_service.get_election(store, slug))
        .contests[0]
        .candidate_names
        == NAMES
    )
    register = tmp_path / "register.csv"
    register.write_text(
        "person_id,section,membership_number,status\n"
        + "".join(f"P{i},aelodau,N{i},active\n" for i in range(len(RANKINGS))),
        encoding="utf-8",
    )
    register_service.import_register(
        store,
        slug,
        register,
        actor="ro",
        mapping=register_service.ColumnMapping(joined=None, registered=None),
    )
    register_service.freeze_register(store, slug, actor="ro")
    nominations.close_nominations(
        store, slug, actor="ro", at=datetime.fromisoformat("2026-01-12T18:00:00+00:00")
    )
    export = tmp_path / "credentials.csv"
    issue_credentials(store, slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro")
    with export.open(encoding="utf-8") as f:
        credentials = [row["credential"] for row in csv.DictReader(f)]
    polling.open_voting(store, slug, actor="ro")
    key = load_or_create_key(tmp_path / "cred.key", create=False)
    election = election_service.get_election(store, slug)
    for k, (credential, ranking) in enumerate(zip(credentials, RANKINGS, strict=True)):
        # odd voters' devices send the names decomposed (NFD): the same names
        sent = [unicodedata.normalize("NFD", n) for n in ranking] if k % 2 else ranking
        cast_ballot(store, election.id, credential, {"cadeirydd": sent}, credential_key=key)
    polling.close_voting(store, slug, actor="ro")
    return slug


def test_printable_names_are_declared_and_every_download_reads_back(
    store: Store, tmp_path: Path
) -> None:
    slug = run_to_close(store, tmp_path)
    decl = declaring.declare(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    contest = decl.contest("cadeirydd")
    assert {r.name: r.votes for r in contest.candidates} == {
        FAY: 3,
        OBRIEN: 2,
        ZOE: 1,
        MUHAMMAD: 1,
    }
    assert election_service.get_election(store, slug).state is ElectionState.DECLARED
    files = {name: declaring.declaration_file(store, slug, name).content for name, *_ in
             declaring.declaration_files(store, slug)}  # fmt: skip

    results = json.loads(files["results.json"])
    (c,) = results["contests"]
    assert [r["name"] for r in c["candidates"]] == list(NAMES)
    assert [r["name"] for r in c["sections"][0]["candidates"]] == list(NAMES)
    assert c["title"] == 'Cadeirydd "y Bwrdd", 2026'

    rows = list(csv.DictReader(io.StringIO(files["results.csv"].decode("utf-8"))))
    assert [r["candidate"] for r in rows if r["section"] == ""] == list(NAMES)
    assert [r["candidate"] for r in rows if r["section"] == "aelodau"] == list(NAMES)

    report = json.loads(files["cadeirydd-rctab-summary.json"])
    first_round = report["results"][0]["tally"]
    assert set(first_round) == set(NAMES)
    cells = {
        cell
        for row in csv.reader(io.StringIO(files["cadeirydd-rctab-summary.csv"].decode("utf-8")))
        for cell in row
    }
    assert set(NAMES) <= cells

    # BLT cannot hold a double quote in a quoted name: it is written as two apostrophes
    blt = parse_blt(files["cadeirydd-cvr.blt"], path="cadeirydd-cvr.blt")
    assert blt.candidates.names == tuple(n.replace('"', "''") for n in NAMES)
    assert blt.title == "Cadeirydd ''y Bwrdd'', 2026"
    assert blt.ballots.total == len(RANKINGS)


def test_a_declaration_that_cannot_be_built_changes_nothing(store: Store, tmp_path: Path) -> None:
    slug = run_to_close(store, tmp_path)
    election = election_service.get_election(store, slug)
    good = declaring.count(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    assert election_service.get_election(store, slug).state is ElectionState.COUNTED
    # a declaration whose BLT file cannot be written (a line break in a name: refused at
    # create today, but a declaration is the last line of defence)
    contest = good.contests[0]
    names = ("Fay\nFerris", *contest.candidate_names[1:])
    broken = Declaration(
        good.election_id,
        good.slug,
        good.name,
        (
            type(contest)(
                **{
                    **{f: getattr(contest, f) for f in contest.__slots__},  # type: ignore[attr-defined]
                    "candidate_names": names,
                    "candidates": (CandidateResult(names[0], 3, contest.candidates[0].percent),),
                }
            ),
        ),
    )
    with pytest.raises(FormatError):
        counting.declare(store, election.id, broken, actor="ro")
    assert election_service.get_election(store, slug).state is ElectionState.COUNTED
    assert declaring.published_declaration(store, slug) is None
    # and the declaration can be retried
    declaring.declare(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    assert election_service.get_election(store, slug).state is ElectionState.DECLARED


def test_declare_from_closed_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    slug = run_to_close(store, tmp_path)
    with pytest.raises(InputError):  # the wrong passphrase: nothing counted, nothing changed
        declaring.declare(
            store, slug, private_key_file=tmp_path / "ballot.key", passphrase="wrong", actor="ro"
        )
    assert election_service.get_election(store, slug).state is ElectionState.CLOSED
    declaring.declare(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    assert election_service.get_election(store, slug).state is ElectionState.DECLARED
