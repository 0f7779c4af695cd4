"""The bundled motion examples through the CLI, from create to declare, on SQLite and
PostgreSQL: a rule change needing two thirds (carried with exactly two thirds; the printed
declaration and results.json say CARRIED and why), and a trigger ballot counted by unit
(each branch and affiliate decides by a simple majority; triggered because a third of the
affiliates voted yes, though the branches did not reach theirs; small units suppressed but
counted, a unit with no ballots did not vote yes)."""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from pathlib import Path

from click.testing import CliRunner, Result

from tallyroom.cli.main import main

PASS = "sealing passphrase"


def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
    done = CliRunner().invoke(main, list(args), input=input)
    if ok:
        assert done.exit_code == 0, done.output
    return done


def declare_motion(
    db: str,
    tmp_path: Path,
    name: str,
    voters: list[tuple[str, str]],
    papers: list[str],
    contest: str,
) -> tuple[str, dict[str, object], Path]:
    """create, register import (each voter's section and unit), freeze, close nominations,
    credentials, open, cast (the postal path: one paper per ballot, in register order),
    close, count, declare; the printed declaration, the declared contest and the downloads."""
    sel = ("--election", name, "--db", db)
    key = tmp_path / "officer.key"
    text = Path(str(files("tallyroom").joinpath("examples", f"{name}.toml"))).read_text("utf-8")
    for line in text.splitlines():  # the example's poll, run today: it closes in the future
        if line.startswith("ballot_close"):
            text = text.replace(line, "ballot_close = 2099-01-01T12:00:00+00:00")
        elif line.startswith("declaration"):
            text = text.replace(line, "declaration = 2099-01-02")
    definition = tmp_path / f"{name}.toml"
    definition.write_text(text, encoding="utf-8")
    run("election", "create", str(definition), "--slug", name, "--private-key", str(key),
        "--db", db, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    register = tmp_path / "register.csv"
    rows = ["person_id,section,membership_number,status,unit"]
    rows += [f"V{k},{section},N{k},active,{unit}" for k, (section, unit) in enumerate(voters)]
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run("register", "import", str(register), *sel)
    run("register", "freeze", "--yes", *sel)
    run("nominations", "close", "--yes", *sel)
    cred = ("--key-file", str(tmp_path / "cred.key"))
    export = tmp_path / "credentials.csv"
    run("credentials", "issue", *cred, "--export", str(export), *sel)
    by_person = {r["person_id"]: r["credential"] for r in _rows(export)}
    credentials = [by_person[f"V{k}"] for k in range(len(voters))]
    run("voting", "open", *sel)
    postal = tmp_path / "papers.csv"
    lines = [f"credential,{contest}"]
    lines += [f"{c},{p}" for c, p in zip(credentials, papers, strict=False) if p]
    postal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cast_papers = len(lines) - 1
    cast = run("voting", "postal", str(postal), *cred, "--label", "returns", *sel).output
    assert f"{cast_papers} papers, {cast_papers} cast" in cast, cast
    run("voting", "close", "--yes", "--reason", "the ballot closed", *sel)
    secret = ("--private-key", str(key), "--passphrase", PASS)
    counted = run("election", "count", *secret, *sel).stdout
    out_json = tmp_path / "declared.json"
    declared = run("election", "declare", "--yes", *secret, "--json", str(out_json), *sel).stdout
    assert declared == counted
    downloads = tmp_path / "downloads"
    run("election", "results", "--out", str(downloads), *sel)
    (entry,) = json.loads(out_json.read_text(encoding="utf-8"))["contests"]
    run("audit", "verify", *sel)
    return counted, entry, downloads


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_two_thirds_rule_change_from_create_to_declare(empty_url: str, tmp_path: Path) -> None:
    # 1,000 members; 605 vote: 400 for, 200 against, 5 abstain: exactly two thirds of the
    # votes for and against, and a turnout above the 25% quorum
    voters = [("members", "")] * 1000
    papers = ["For"] * 400 + ["Against"] * 200 + ["Abstain"] * 5
    counted, entry, downloads = declare_motion(
        empty_url, tmp_path, "rule-change-motion", voters, papers, "rule-change"
    )
    assert "CARRIED: for 400 (66.7%), against 200, abstain 5; at least two thirds required" in (
        counted
    )
    assert "(400 of 600 votes); carried" in counted
    assert "Question: Should rule 4.2 be amended" in counted
    motion = entry["motion"]
    assert isinstance(motion, dict)
    assert motion["outcome"] == "CARRIED" and motion["carried"] is True
    assert motion["rule"] == (
        "at least two thirds of the votes for and against; a quorum of 25% of the electorate"
    )
    assert entry["winners"] == ["For"] and entry["electorate"] == 1000 and entry["valid"] == 605
    votes = {c["name"]: c["votes"] for c in entry["candidates"]}  # type: ignore[attr-defined]
    assert votes == {"For": 400, "Against": 200, "Abstain": 5}
    published = json.loads((downloads / "results.json").read_text(encoding="utf-8"))
    assert published["contests"][0]["motion"]["reason"] == motion["reason"]
    # the published ballots recount to the same votes; by a simple majority (tallyroom
    # count's motion), 400 of 600 also carries, with 301 needed
    recount = run("count", str(downloads / "rule-change-cvr.blt"), "--rule", "motion")
    assert "Threshold      301" in recount.output and "Elected: For" in recount.output
    assert "For            400" in recount.output and "Abstain          5" in recount.output


BRANCHES = {  # unit: (electors, yes, no): each unit's members and how they vote
    "Castle Ward": (22, 8, 12),  # no
    "Hollins Ward": (25, 14, 6),  # yes
    "Millbrook": (12, 0, 0),  # cast no ballot: did not vote yes
    "Riverside North": (30, 10, 10),  # a tie: not more than half, so no
    "Riverside South": (28, 7, 15),  # no
    "Tanners Green": (5, 1, 3),  # 4 ballots: suppressed (but counted: no)
}
AFFILIATES = {
    "Co-operative Party Riverside": (14, 4, 8),  # no
    "Fabian Society Riverside": (4, 0, 3),  # 3 ballots: suppressed (no)
    "GMB Hollins": (16, 9, 6),  # yes
    "UNISON Riverside Health": (18, 10, 5),  # yes
}


def test_a_trigger_ballot_counted_by_unit_from_create_to_declare(
    empty_url: str, tmp_path: Path
) -> None:
    voters: list[tuple[str, str]] = []
    papers: list[str] = []
    for section, units in (("members", BRANCHES), ("affiliates", AFFILIATES)):
        for unit, (electors, yes, no) in units.items():
            voters += [(section, unit)] * electors
            papers += ["Yes"] * yes + ["No"] * no + [""] * (electors - yes - no)
    counted, entry, downloads = declare_motion(
        empty_url, tmp_path, "trigger-ballot", voters, papers, "trigger"
    )
    motion = entry["motion"]
    assert isinstance(motion, dict)
    # branches: 1 of 6 voted yes, 2 needed; affiliates: 2 of 4 voted yes, 2 needed
    assert motion["groups"] == [
        "Branches: 1 of 6 units voted yes; 2 needed (at least one third): not reached",
        "Affiliates: 2 of 4 units voted yes; 2 needed (at least one third): reached",
    ]
    assert motion["outcome"] == "CARRIED" and entry["winners"] == ["Yes"]
    assert "CARRIED: Branches: 1 of 6 units voted yes" in counted
    units = {u["unit"]: u for u in motion["units"]}
    assert units["Hollins Ward"]["outcome"] == "voted yes"
    assert units["Hollins Ward"]["ballots"] == 20
    assert units["Riverside North"]["outcome"] == "did not vote yes"  # the tie
    assert units["Millbrook"]["outcome"] == "no ballots: did not vote yes"
    # the small units are suppressed, and with each the smallest other unit that voted, so
    # that neither can be worked out by subtraction
    pairs = (
        ("Tanners Green", "Castle Ward"),
        ("Fabian Society Riverside", "Co-operative Party Riverside"),
    )
    for small, partner in pairs:
        for name in (small, partner):
            assert units[name]["outcome"] == "suppressed" and units[name]["published"] is False
            assert units[name]["ballots"] is None and units[name]["answers"] == []
    assert "Tanners Green" in counted and "1 " not in counted.split("Tanners Green")[1][:30]
    # the whole contest's figures are still every ballot's
    votes = {c["name"]: c["votes"] for c in entry["candidates"]}  # type: ignore[attr-defined]
    assert votes == {"Yes": 63, "No": 68}
    published = json.loads((downloads / "results.json").read_text(encoding="utf-8"))
    assert published["contests"][0]["motion"]["units"] == motion["units"]
    rows = (downloads / "results.csv").read_text(encoding="utf-8")
    assert "trigger,affiliates,Fabian Society Riverside,,,,,suppressed" in rows
    assert "trigger,branches,Hollins Ward,20,Yes,14,70.0,voted yes" in rows
