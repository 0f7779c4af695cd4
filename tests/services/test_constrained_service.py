"""Seat constraints, ballot rules and the electoral college through the election service, on
SQLite and PostgreSQL: defined in the definition file, stated on the ballot, honoured by the
count, shown in the declaration and its downloads; and the service's declared winners are the
winners of ``tallyroom count`` on the service's own published BLT (the reviewer's check)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from tallyroom.cli.main import main
from tallyroom.errors import ConfigError, InputError
from tallyroom.report.declaration import Declaration
from tallyroom.report.declaration_text import declaration_text
from tallyroom.services import declaring, nominations, polling
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import CastRequest, cast_ballots, validate_ranking
from tallyroom.store import Store

PASSPHRASE = "constraint passphrase"

HEAD = """\
[election]
name = "Party ballot"
timezone = "Europe/London"

[timetable]
nominations_open = 2010-09-01T09:00:00+01:00
nominations_close = 2010-09-10T17:00:00+01:00
ballot_open = 2010-09-20T09:00:00+01:00
ballot_close = 2099-10-07T17:00:00+01:00
"""

SHADOW = (
    HEAD
    + """
[[sections]]
name = "mps"
label = "MPs"
min_published_size = 0

[[contests]]
name = "committee"
title = "Committee"
rule = "block"
seats = 3
candidates = [
  { name = "Al" }, { name = "Bob" }, { name = "Cy" },
  { name = "Di", groups = ["women"] }, { name = "Eve", groups = ["women"] },
]
constraints = [{ group = "women", minimum = 2 }]
"""
)

# Al, Bob and Cy poll most; the women's minimum elects Di and Eve in place of Bob and Cy.
SHADOW_VOTES = (
    [["Al", "Bob", "Cy"]] * 5 + [["Al", "Di", "Eve"]] * 2 + [["Bob", "Cy", "Di"]] + [["Eve"]]
)


def run_poll(
    store: Store,
    tmp_path: Path,
    definition: str,
    voters: Sequence[tuple[str, str]],
    ballots: Sequence[Mapping[str, list[str]]],
    slug: str = "party",
) -> Declaration:
    """Create, import the register, freeze, close nominations, issue credentials, open,
    cast ``ballots`` (the i-th voter's), close and declare, through the services."""
    path = tmp_path / f"{slug}.toml"
    path.write_text(definition, encoding="utf-8")
    key_file = tmp_path / "ballot.key"
    election_service.create_election(
        store, path, actor="ro", private_key_path=key_file, passphrase=PASSPHRASE, slug=slug
    )
    register = tmp_path / "register.csv"
    rows = ["person_id,section,membership_number,status,joined,registered"]
    rows += [f"{p},{s},N-{p},active,2009-01-01," for p, s in voters]
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    register_service.import_register(store, slug, register, actor="ro")
    register_service.freeze_register(store, slug, actor="ro")
    nominations.close_nominations(store, slug, actor="ro")
    export = tmp_path / "credentials.csv"
    issue_credentials(store, slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro")
    with export.open(encoding="utf-8") as f:
        credential = {r["person_id"]: r["credential"] for r in csv.DictReader(f)}
    polling.open_voting(store, slug, actor="ro")
    key = load_or_create_key(tmp_path / "cred.key", create=False)
    election = election_service.get_election(store, slug)
    requests = [
        CastRequest(credential[p], dict(b)) for (p, _), b in zip(voters, ballots, strict=False)
    ]
    outcomes = cast_ballots(store, election.id, requests, credential_key=key)
    assert all(isinstance(o, list) for o in outcomes), outcomes
    polling.close_voting(store, slug, actor="ro")
    return declaring.declare(
        store, slug, private_key_file=key_file, passphrase=PASSPHRASE, actor="ro"
    )


def recount(blt: bytes, tmp_path: Path, *args: str) -> list[str]:
    """``tallyroom count`` on a published BLT; the winners it prints."""
    path = tmp_path / "published.blt"
    path.write_bytes(blt)
    done = CliRunner().invoke(main, ["count", str(path), *args])
    assert done.exit_code == 0, done.output
    (line,) = [x for x in done.output.splitlines() if x.startswith("Elected: ")]
    return line.removeprefix("Elected: ").split(", ")


def test_the_women_minimum_decides_the_service_count(store: Store, tmp_path: Path) -> None:
    voters = [(f"MP{k}", "mps") for k in range(len(SHADOW_VOTES))]
    ballots = [{"committee": v} for v in SHADOW_VOTES]
    decl = run_poll(store, tmp_path, SHADOW, voters, ballots)
    committee = decl.contest("committee")
    # the reviewer's bug: the service declared Al, Bob and Cy, no woman elected
    assert set(committee.winners) == {"Al", "Di", "Eve"}
    assert committee.constraints == ("at least 2 must be women",)
    ((round_no, note),) = committee.constraint_rounds
    assert round_no == 1 and "passed over" in note and "Bob" in note and "Cy" in note

    # the reviewer's check: the service's own published BLT, recounted by `tallyroom count`
    blt = declaring.declaration_file(store, "party", "committee-cvr.blt").content
    assert recount(blt, tmp_path, "--rule", "block", "--constraint", "women>=2:Di,Eve") == list(
        committee.winners
    )
    assert sorted(recount(blt, tmp_path, "--rule", "block")) == ["Al", "Bob", "Cy"]

    # the published document and its download say what the constraint did, and where
    published = declaring.published_declaration(store, "party")
    assert published is not None
    (entry,) = published["contests"]
    assert entry["constraints"] == ["at least 2 must be women"]
    assert entry["constraint_rounds"][0]["round"] == 1
    download = json.loads(declaring.declaration_file(store, "party", "results.json").content)
    assert download["contests"][0]["constraint_rounds"] == entry["constraint_rounds"]
    text = declaration_text(decl)
    assert "Constraints: at least 2 must be women" in text and "Round 1: block vote" in text
    # per candidate, in results.csv and results.json: their groups and what the constraint
    # did to them (Al 7, Bob 6, Cy 6, Di 3, Eve 3 votes: Bob and Cy passed over)
    table = declaring.declaration_file(store, "party", "results.csv").content.decode()
    rows = {r["candidate"]: r for r in csv.DictReader(io.StringIO(table)) if not r["section"]}
    assert {n: (r["groups"], r["constraint"]) for n, r in rows.items()} == {
        "Al": ("", ""),
        "Bob": ("", "passed over in round 1"),
        "Cy": ("", "passed over in round 1"),
        "Di": ("women", "elected by a constraint in round 1"),
        "Eve": ("women", "elected by a constraint in round 1"),
    }
    assert [(c["name"], c["groups"], c["constraint"]) for c in entry["candidates"]][3] == (
        "Di",
        ["women"],
        "elected by a constraint in round 1",
    )


NEC = (
    HEAD
    + """
[[sections]]
name = "members"
label = "Members"
min_published_size = 0

[[contests]]
name = "nec"
title = "NEC"
rule = "stv"
seats = 2
candidates = [
  { name = "Ann", groups = ["women"] }, { name = "Bob", groups = ["men"] },
  { name = "Cal", groups = ["men"] }, { name = "Dee", groups = ["women"] },
]
constraints = [{ group = "women", minimum = 1 }, { group = "men", maximum = 1 }]
ballot_rules = [{ group = "women", at_least = 1 }]
"""
)


def test_stv_constraints_and_ballot_rules_through_the_service(store: Store, tmp_path: Path) -> None:
    votes = [["Bob", "Ann"]] * 4 + [["Cal", "Dee"]] * 3 + [["Ann", "Bob"]] * 2 + [["Dee"]]
    voters = [(f"M{k}", "members") for k in range(len(votes) + 1)]
    ballots: list[Mapping[str, list[str]]] = [{"nec": v} for v in votes]
    decl = run_poll(store, tmp_path, NEC, voters, ballots)
    nec = decl.contest("nec")
    blt = declaring.declaration_file(store, "party", "nec-cvr.blt").content
    plain = recount(blt, tmp_path, "--rule", "stv")
    assert sorted(plain) == ["Bob", "Cal"]  # without the constraints: two men
    constrained = recount(
        blt, tmp_path, "--rule", "stv",
        "--constraint", "women>=1:Ann,Dee", "--constraint", "men<=1:Bob,Cal",
    )  # fmt: skip
    assert list(nec.winners) == constrained
    assert sum(1 for w in nec.winners if w in ("Ann", "Dee")) >= 1
    assert nec.constraints == (
        "at least 1 must be women",
        "at most 1 may be men",
        "a valid ballot marks at least 1 women",
    )
    assert nec.constraint_rounds  # the round in which Cal (or Bob) was doomed is named
    table = declaring.declaration_file(store, "party", "results.csv").content.decode()
    rows = {r["candidate"]: r for r in csv.DictReader(io.StringIO(table)) if not r["section"]}
    assert rows["Ann"]["groups"] == "women" and rows["Cal"]["groups"] == "men"
    # Cal is doomed in round 2 (the round the declaration names), excluded there
    notes = {n: r["constraint"] for n, r in rows.items()}
    assert notes == {"Ann": "", "Bob": "", "Cal": "doomed, excluded in round 2", "Dee": ""}
    assert nec.constraint_rounds[0][0] == 2
    # the ballot rule: a ballot marking no woman is refused at casting, naming the rule
    election = election_service.get_election(store, "party")
    with pytest.raises(InputError, match="marks at least 1 women; it marks 0"):
        validate_ranking(election_service.definition_of(election).contest("nec"), ["Bob"])


COLLEGE = (
    HEAD
    + """
[[sections]]
name = "mps"
label = "MPs and MEPs"
min_published_size = 0

[[sections]]
name = "members"
label = "Members"
min_published_size = 0

[[sections]]
name = "affiliates"
label = "Affiliated members"
min_published_size = 0

[[contests]]
name = "leader"
title = "Leader"
rule = "irv"
candidates = [{ name = "David" }, { name = "Ed" }, { name = "Diane" }]

[contests.college]
weights = { mps = "1/3", members = "1/3", affiliates = "1/3" }
display_places = 3
"""
)


def test_an_electoral_college_from_one_poll(store: Store, tmp_path: Path) -> None:
    # each ballot counts in its voter's section, each section weighs a third; the shares
    # below are computed by hand
    plan = [
        ("mps", ["David"]), ("mps", ["David"]), ("mps", ["Ed"]), ("mps", ["Diane", "Ed"]),
        ("members", ["David"]), ("members", ["David"]), ("members", ["David"]),
        ("members", ["Ed"]), ("members", ["Diane", "Ed"]), ("members", ["Diane", "Ed"]),
        ("affiliates", ["Ed"]), ("affiliates", ["Ed"]), ("affiliates", ["David"]),
    ]  # fmt: skip
    voters = [(f"V{k}", s) for k, (s, _) in enumerate(plan)]
    decl = run_poll(store, tmp_path, COLLEGE, voters, [{"leader": b} for _, b in plan])
    leader = decl.contest("leader")
    # round 1: David 1/3*(2/4 + 3/6 + 1/3) = 4/9; Ed 1/3*(1/4 + 1/6 + 2/3) = 13/36;
    # Diane 1/3*(1/4 + 2/6) = 7/36: Diane excluded, her ballots go to Ed in every section.
    # round 2: David 4/9 = 16/36; Ed 1/3*(2/4 + 3/6 + 2/3) = 20/36 > 1/2: Ed elected.
    assert leader.winners == ("Ed",)
    rounds = leader.count.rounds
    assert [dict(r.tally) for r in rounds] == [
        {"David": 44444, "Ed": 36111, "Diane": 19444},
        {"David": 44444, "Ed": 55556},
    ]
    by_section = {s.name: s.shares() for s in leader.college}
    assert [s.weight for s in leader.college] == [Fraction(1, 3)] * 3
    assert by_section["members"][0]["votes"] == {"David": 3, "Ed": 1, "Diane": 2}
    assert by_section["members"][1]["percent"] == {"David": "50.000", "Ed": "50.000"}
    assert by_section["mps"][0]["percent"] == {"David": "50.000", "Ed": "25.000", "Diane": "25.000"}
    published = declaring.published_declaration(store, "party")
    assert published is not None
    college = published["contests"][0]["college"]
    assert [s["weight"] for s in college["sections"]] == ["1/3", "1/3", "1/3"]
    assert college["sections"][2]["rounds"][1]["votes"] == {"David": 1, "Ed": 2}
    text = declaration_text(decl)
    assert "Section Affiliated members (weight 1/3)" in text
    assert "shares in round 2: David 33.333%, Ed 66.667%" in text

    # each section's published ballots, recounted as a college by `tallyroom count`
    specs = []
    for section in ("mps", "members", "affiliates"):
        path = tmp_path / f"{section}.blt"
        path.write_bytes(
            declaring.declaration_file(store, "party", f"leader-{section}-cvr.blt").content
        )
        specs += ["--section", f"{section}={path}:1/3"]
    done = CliRunner().invoke(main, ["count", *specs, "--decimals", "3"])
    assert done.exit_code == 0, done.output
    assert "Elected: Ed" in done.output
    rows = [" ".join(line.split()) for line in done.output.splitlines()]
    assert "David 44.444 44.444" in rows and "Ed 36.111 55.556" in rows  # as declared


def test_a_constraint_the_rule_cannot_honour_is_refused_at_create(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SHADOW.replace('rule = "block"', 'rule = "plurality"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        election_service.create_election(
            store,
            path,
            actor="ro",
            private_key_path=tmp_path / "k.key",
            passphrase=PASSPHRASE,
            slug="bad",
        )
    assert caught.value.field == "contests[0].constraints"
    assert caught.value.value == "plurality"
    assert "cannot apply" in str(caught.value) and "block" in str(caught.value)
    assert election_service.list_elections(store) == []
    assert not (tmp_path / "k.key").exists()
