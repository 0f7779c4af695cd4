"""The verifiable path for an electoral college, a weighted election and a motion counted by
unit, end to end through the services (services/tally.py groups the board by contest,
section, weight and unit): the same voters cast the same ballots in a sealed election and a
verifiable one; the verifiable tally (two mixers, two of three trustees) declares exactly
what the sealed count declares, and its election record verifies. Attacks: a stage of one
group added as another's, a ballot's weight, unit or section edited in the record."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tallyroom.audit.board import chain_board
from tallyroom.demo.trustees import DemoTrustees, run_ceremony, run_tally
from tallyroom.election.reader import parse_definition
from tallyroom.errors import ProofRejected
from tallyroom.report.declaration import Declaration, declaration_document
from tallyroom.services import declaring, nominations, polling, tally, tally_files
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.election_record import record_contents, write_election_record
from tallyroom.services.voting import CastRequest, cast_ballots
from tallyroom.store import Store
from tallyroom.verify.checks import verify_record
from tallyroom.verify.record_format import PostedBallot, RecordContents
from tallyroom.verify.record_reader import read_record
from tallyroom.verify.record_writer import write_record
from tallyroom.verify.recount import recount

PASSPHRASE = "groups passphrase"
TRUSTEES = """
[verifiable]
trustees = ["Ann Hale", "Ben Ode", "Cleo Marr"]
threshold = 2
mixers = ["Ann Hale", "Cleo Marr"]
"""
TIMETABLE = """
[timetable]
nominations_open = 2026-09-01T09:00:00+01:00
nominations_close = 2026-09-10T17:00:00+01:00
ballot_open = 2026-09-20T09:00:00+01:00
ballot_close = 2099-10-07T17:00:00+01:00
"""

COLLEGE = (
    '[election]\nname = "Leader (college)"\n'
    + TIMETABLE
    + """
[[sections]]
name = "mps"
min_published_size = 2

[[sections]]
name = "members"
min_published_size = 2

[[sections]]
name = "affiliates"
min_published_size = 2

[[contests]]
name = "leader"
rule = "irv"
candidates = [{ name = "Ann" }, { name = "Bob" }, { name = "Cat" }]

[contests.college]
display_places = 3

[contests.college.weights]
mps = "1/3"
members = "1/3"
affiliates = "1/3"
"""
)
COLLEGE_HEADER = "person_id,section,membership_number,status"
COLLEGE_VOTERS = {
    "P1": ("mps", "", ["Ann"]),
    "P2": ("mps", "", ["Bob", "Ann"]),
    "P3": ("mps", "", ["Cat", "Bob"]),
    "M1": ("members", "", ["Bob"]),
    "M2": ("members", "", ["Bob", "Cat"]),
    "M3": ("members", "", ["Cat", "Ann"]),
    "M4": ("members", "", ["Ann", "Cat"]),
    "A1": ("affiliates", "", ["Cat", "Ann"]),
    "A2": ("affiliates", "", ["Ann"]),
}

WEIGHTED = (
    '[election]\nname = "Card vote"\n'
    + TIMETABLE
    + """
[weights]
decimal_places = 2

[[sections]]
name = "branches"
min_published_size = 2

[[sections]]
name = "unions"
min_published_size = 2

[[contests]]
name = "chair"
rule = "irv"
candidates = [{ name = "Ann" }, { name = "Bob" }, { name = "Cat" }]

[[contests]]
name = "board"
rule = "stv"
seats = 2
candidates = [{ name = "Dee" }, { name = "Eli" }, { name = "Fay" }, { name = "Gus" }]

[[contests]]
name = "standing-orders"
rule = "plurality"
weighted = false
candidates = [{ name = "Hal" }, { name = "Ivy" }]
"""
)
WEIGHTED_HEADER = "person_id,section,membership_number,status,weight"
WEIGHTED_VOTERS = {
    "B1": ("branches", "10.25", {"chair": ["Ann", "Bob"], "board": ["Dee", "Eli"]}),
    "B2": ("branches", "0.5", {"chair": ["Bob"], "board": ["Fay"], "standing-orders": ["Hal"]}),
    "B3": ("branches", "0.75", {"chair": ["Cat", "Bob"], "board": ["Gus", "Fay", "Dee"]}),
    "B4": ("branches", "0.5", {"chair": ["Cat", "Ann"], "standing-orders": ["Ivy"]}),
    "U1": ("unions", "7", {"chair": ["Bob", "Cat"], "board": ["Eli", "Dee"]}),
    "U2": ("unions", "3", {"chair": ["Ann"], "board": ["Fay", "Gus"], "standing-orders": ["Hal"]}),
    "U3": ("unions", "7", {"chair": ["Cat"], "board": ["Gus"]}),
}

UNITS = (
    '[election]\nname = "Trigger ballot"\n'
    + TIMETABLE
    + """
[[sections]]
name = "members"
min_published_size = 2

[[sections]]
name = "affiliates"
min_published_size = 1

[[contests]]
name = "trigger"
rule = "motion"

[contests.motion]
question = "Should there be an open selection?"
choices = "yes-no"
threshold = "majority"

[contests.units]
combine = "any"

[[contests.units.groups]]
name = "branches"
label = "Branches"
sections = ["members"]
share = "1/2"
of = "all"

[[contests.units.groups]]
name = "affiliates"
label = "Affiliates"
sections = ["affiliates"]
share = "1/2"
of = "all"
"""
)
UNITS_HEADER = "person_id,section,membership_number,status,unit"
UNITS_VOTERS = {
    "M1": ("members", "North", ["Yes"]),
    "M2": ("members", "North", ["Yes"]),
    "M3": ("members", "North", ["No"]),
    "M4": ("members", "South", ["No"]),
    "M5": ("members", "South", ["No"]),
    "M6": ("members", "South", ["Yes"]),
    "M7": ("members", "East", []),  # East casts no ballot: it does not vote yes
    "A1": ("affiliates", "GMB", ["Yes"]),
    "A2": ("affiliates", "Unite", ["No"]),
    "A3": ("affiliates", "Unite", ["No"]),
}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    definition: str
    header: str
    voters: Mapping[str, tuple[str, str, Any]]

    def row(self, person: str) -> str:
        section, extra, _ = self.voters[person]
        extra_column = f",{extra}" if self.header.count(",") == 4 else ""
        return f"{person},{section},{person},active{extra_column}"

    def choices(self, person: str) -> dict[str, Sequence[str]]:
        _, _, votes = self.voters[person]
        if isinstance(votes, dict):
            return votes
        return {self.contest: votes} if votes else {}

    @property
    def contest(self) -> str:
        return {"college": "leader", "units": "trigger"}.get(self.name, "chair")


CASES = {
    "college": Case("college", COLLEGE, COLLEGE_HEADER, COLLEGE_VOTERS),
    "weighted": Case("weighted", WEIGHTED, WEIGHTED_HEADER, WEIGHTED_VOTERS),
    "units": Case("units", UNITS, UNITS_HEADER, UNITS_VOTERS),
}


def _election(
    store: Store, tmp_path: Path, case: Case, slug: str, *, verifiable: bool
) -> tuple[Path, DemoTrustees | None]:
    """The election created, registered, nominations closed, credentials issued, the
    trustees' ceremony run (verifiable), the poll opened, every voter's ballots cast and the
    poll closed; its folder and (verifiable) its trustees."""
    folder = tmp_path / slug
    folder.mkdir()
    path = folder / "definition.toml"
    path.write_text(case.definition + (TRUSTEES if verifiable else ""), encoding="utf-8")
    record = election_service.create_election(
        store,
        path,
        actor="ro",
        private_key_path=folder / "ballot.key",
        passphrase=PASSPHRASE,
        slug=slug,
    )
    register_file = folder / "register.csv"
    rows = [case.row(p) for p in case.voters]
    register_file.write_text("\n".join([case.header, *rows]) + "\n", encoding="utf-8")
    register_service.import_register(store, slug, register_file, actor="ro")
    register_service.freeze_register(store, slug, actor="ro")
    nominations.close_nominations(store, slug, actor="ro")
    export = folder / "credentials.csv"
    issue_credentials(store, slug, key_path=folder / "cred.key", export_path=export, actor="ro")
    with export.open(encoding="utf-8") as f:
        credential = {r["person_id"]: r["credential"] for r in csv.DictReader(f)}
    trustees = None
    if verifiable:
        trustees = run_ceremony(store, slug, folder / "trustees", passphrase=PASSPHRASE, actor="ro")
    polling.open_voting(store, slug, actor="ro")
    key = load_or_create_key(folder / "cred.key", create=False)
    requests = [CastRequest(credential[p], case.choices(p)) for p in case.voters if case.choices(p)]
    done = cast_ballots(store, record.id, requests, credential_key=key)
    assert all(isinstance(o, list) for o in done), done
    polling.close_voting(store, slug, actor="ro")
    return folder, trustees


def _comparable(decl: Declaration) -> Any:
    """The declaration as published, without what differs between two elections of the
    same ballots: the election's id and slug (the ballots' shuffled order is not in it)."""
    doc = declaration_document(decl)
    doc.pop("election", None)
    return json.loads(json.dumps(doc, sort_keys=True))


def _sealed(store: Store, tmp_path: Path, case: Case) -> Declaration:
    slug = f"{case.name}-sealed"
    folder, _ = _election(store, tmp_path, case, slug, verifiable=False)
    return declaring.declare(
        store, slug, private_key_file=folder / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )


def _tallied(
    store: Store, tmp_path: Path, case: Case
) -> tuple[str, DemoTrustees, Declaration, Path]:
    """The verifiable election tallied (mixers 1 and 3, trustees 1 and 3 decrypting) and
    declared; its slug, trustees, declaration and its record's folder."""
    slug = f"{case.name}-verifiable"
    folder, trustees = _election(store, tmp_path, case, slug, verifiable=True)
    assert trustees is not None
    run_tally(
        store, trustees, folder / "tally", mixers=[1, 3], decrypting=[1, 3], actor="ro", workers=1
    )
    decl = tally.declare_tally(store, slug, actor="ro", workers=1)
    record = folder / "record"
    write_election_record(store, slug, record, workers=1)
    return slug, trustees, decl, record


def _check(store: Store, tmp_path: Path, case: Case) -> tuple[str, Path]:
    slug, _, decl, record = _tallied(store, tmp_path, case)
    report = verify_record(record, workers=1)
    assert report.ok, report.summary()
    assert _comparable(decl) == _comparable(_sealed(store, tmp_path, case))
    return slug, record


def _recounted(record: Path, change: Any) -> list[str]:
    """Where the recount of the record's ballots differs from its declaration once
    ``change`` has edited the declaration (as a server would, to misreport a figure)."""
    contents = read_record(record)
    doc = json.loads(contents.declaration)
    groups = {g.key: g.ballots for g in contents.groups}
    definition = parse_definition(contents.definition)
    assert recount(definition, groups, doc) == []
    change(doc["contests"][0])
    return [str(f.where) for f in recount(definition, groups, doc)]


def test_an_electoral_college_takes_the_verifiable_path(
    sqlite_store: Store, tmp_path: Path
) -> None:
    slug, record = _check(sqlite_store, tmp_path, CASES["college"])
    groups = [(g.contest, g.section, len(g.rows)) for g in tally.board_groups(sqlite_store, slug)]
    assert groups == [("leader", "affiliates", 2), ("leader", "members", 4), ("leader", "mps", 3)]

    def weigh(contest: dict[str, Any]) -> None:
        contest["college"]["sections"][0]["weight"] = "1/2"

    assert _recounted(record, weigh) == ["contest 'leader' college"]


def test_a_weighted_election_takes_the_verifiable_path(sqlite_store: Store, tmp_path: Path) -> None:
    slug, record = _check(sqlite_store, tmp_path, CASES["weighted"])
    keys = [(g.contest, g.section, g.weight) for g in tally.board_groups(sqlite_store, slug)]
    # a group per contest, section and weight: B2 and B4 share 0.5, U1 and U3 share 7
    assert keys[:6] == [
        ("board", "branches", "0.5"),
        ("board", "branches", "0.75"),
        ("board", "branches", "10.25"),
        ("board", "unions", "3"),
        ("board", "unions", "7"),
        ("chair", "branches", "0.5"),
    ]
    index = json.loads((record / "mix" / "groups.json").read_text())["groups"]
    assert {g.get("weight") for g in index} == {"0.5", "0.75", "10.25", "3", "7"}
    assert all("unit" not in g for g in index)

    def weigh(contest: dict[str, Any]) -> None:
        assert contest["contest"] == "chair"
        contest["candidates"][0]["weight"] = "10.26"
        contest["weights"]["total"] = "0"

    assert _recounted(record, weigh) == [
        "contest 'chair' candidate 'Ann' weight",
        "contest 'chair' weights",
    ]


def test_a_motion_counted_by_unit_takes_the_verifiable_path(
    sqlite_store: Store, tmp_path: Path
) -> None:
    slug, record = _check(sqlite_store, tmp_path, CASES["units"])
    keys = [(g.section, g.unit, len(g.rows)) for g in tally.board_groups(sqlite_store, slug)]
    assert keys == [
        ("affiliates", "GMB", 1),
        ("affiliates", "Unite", 2),
        ("members", "North", 3),
        ("members", "South", 3),
    ]
    declared = json.loads((record / "declaration.json").read_bytes())["contests"][0]["motion"]
    assert [(u["unit"], u["outcome"]) for u in declared["units"]] == [
        ("East", "no ballots: did not vote yes"),
        ("North", "voted yes"),
        ("South", "did not vote yes"),
        ("GMB", "voted yes"),
        ("Unite", "did not vote yes"),
    ]
    assert declared["carried"] is True  # a half of the affiliates (GMB) voted yes

    def flip(contest: dict[str, Any]) -> None:
        contest["motion"]["units"][2]["outcome"] = "voted yes"

    assert _recounted(record, flip) == ["contest 'trigger' motion"]


@pytest.mark.parametrize("name", ["weighted"])
def test_the_verifiable_path_by_group_on_postgresql(
    pg_store: Store, tmp_path: Path, name: str
) -> None:
    _check(pg_store, tmp_path, CASES[name])


def test_a_stage_of_one_group_is_refused_as_another_groups(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Mixer 1's stage of the 0.5-weight group, proved for its own rows and key, offered as
    the 0.75-weight group's (same contest and section): refused, nothing stored."""
    case = CASES["weighted"]
    slug = f"{case.name}-moved"
    _election(sqlite_store, tmp_path, case, slug, verifiable=True)
    inputs = tmp_path / "in"
    tally_files.export_inputs(sqlite_store, slug, inputs)
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(inputs, 1, out, workers=1)
    manifest = json.loads((out / tally_files.PARTS).read_text())
    first = manifest["groups"][0]
    assert (first["contest"], first["section"], first["weight"]) == ("board", "branches", "0.5")
    stage = (out / first["file"]).read_bytes()
    with pytest.raises(ProofRejected) as caught:
        tally.add_mix(
            sqlite_store, slug, "board", "branches", stage, weight="0.75", actor="x", workers=1
        )
    assert caught.value.check in ("shuffle", "mix", "rows"), caught.value
    # relabelled in the parts folder, the same stage is refused there too
    first["weight"] = "0.75"
    (out / tally_files.PARTS).write_text(json.dumps(manifest))
    with pytest.raises(ProofRejected):
        tally_files.add_parts(sqlite_store, slug, out, actor="x", workers=1)
    assert all(g.mixed == 0 for g in tally.tally_status(sqlite_store, slug))


def _rechained(record: RecordContents, change: Any) -> RecordContents:
    """The record with one board entry changed by ``change`` and the board chained again
    (an attacker who rewrites the board file consistently)."""
    entries = [p.entry for p in record.board]
    entries[0] = change(entries[0])
    links = list(chain_board(entries))
    board = tuple(
        PostedBallot(k, e, e.receipt, link)
        for k, (e, link) in enumerate(zip(entries, links, strict=True), start=1)
    )
    return dataclasses.replace(record, board=board)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("weighted", lambda e: dataclasses.replace(e, weight="99")),
        ("units", lambda e: dataclasses.replace(e, unit="Elsewhere")),
        (
            "college",
            lambda e: dataclasses.replace(
                e, section="members" if e.section != "members" else "mps"
            ),
        ),
    ],
)
def test_a_ballots_weight_unit_or_section_changed_in_the_record_fails(
    sqlite_store: Store, tmp_path: Path, name: str, change: Any
) -> None:
    case = CASES[name]
    slug, _, _, _ = _tallied(sqlite_store, tmp_path, case)
    honest = record_contents(sqlite_store, slug, workers=1)
    forged = _rechained(honest, change)
    write_record(tmp_path / "forged", forged)
    report = verify_record(tmp_path / "forged", workers=1)
    failed = {c.name for c in report.checks if c.status.value == "failed"}
    # the board no longer reaches a head the log recorded, and its groups are not the mix's
    assert {"board", "mix-inputs"} <= failed, report.summary()
    # a group relabelled in the mix index (its ballots counted with another weight, unit or
    # section): its stages were proved for another key, and the board has no such group
    group = honest.groups[0]
    relabel = {
        "weighted": {"weight": "99"},
        "units": {"unit": "Elsewhere"},
        "college": {"section": "members" if group.section != "members" else "mps"},
    }[name]
    moved = dataclasses.replace(
        honest, groups=(dataclasses.replace(group, **relabel), *honest.groups[1:])
    )
    write_record(tmp_path / "moved", moved)
    report = verify_record(tmp_path / "moved", workers=1)
    failed = {c.name for c in report.checks if c.status.value == "failed"}
    assert {"mix-inputs", "mixes"} <= failed, report.summary()
