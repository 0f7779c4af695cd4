"""The bundled weighted example (``weighted-delegates``) through the CLI, from create to
declare, on SQLite and PostgreSQL: nine of twelve delegates vote by post, each carrying their
association's weight to three decimal places. The declared weights are checked to the last
digit against the count worked by hand below; the same ballots counted one ballot, one vote
elect someone else; the unweighted contest of the same poll counts heads."""

from __future__ import annotations

import csv
import io
import json
from importlib.resources import files
from pathlib import Path

from click.testing import CliRunner, Result

from tallyroom.cli.main import main

PASS = "congress passphrase"

# (weight, president, board, standing orders) for each delegate who votes; three more
# delegates (4.2, 1, 0.05) are on the register and do not vote.
PAPERS = [
    ("12.5", "Amara Adeyemi>Bruno Berg", "Dana Dvořák>Emil Eriksen", "Hugo Hansen"),
    ("0.75", "Bruno Berg>Amara Adeyemi", "Emil Eriksen>Dana Dvořák", "Ines Ibarra"),
    ("0.75", "Bruno Berg>Chiara Conti", "Femi Falade>Gwen Griffiths", "Ines Ibarra"),
    ("0.75", "Bruno Berg>Chiara Conti", "Gwen Griffiths>Femi Falade", "Ines Ibarra"),
    ("3.125", "Chiara Conti>Amara Adeyemi", "Femi Falade>Emil Eriksen", "Hugo Hansen"),
    ("2.001", "Chiara Conti>Bruno Berg", "Gwen Griffiths>Emil Eriksen", "Ines Ibarra"),
    ("1.5", "Amara Adeyemi>Chiara Conti", "Dana Dvořák>Femi Falade", "Hugo Hansen"),
    ("0.500", "Bruno Berg", "Emil Eriksen", "Ines Ibarra"),
    ("0.333", "Chiara Conti>Bruno Berg", "Femi Falade>Gwen Griffiths", "Hugo Hansen"),
]
ABSENT = ["4.2", "1", "0.05"]


def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
    done = CliRunner().invoke(main, list(args), input=input)
    if ok:
        assert done.exit_code == 0, done.output
    return done


def elected(output: str) -> list[str]:
    (line,) = [x for x in output.splitlines() if x.startswith("Elected: ")]
    return line.removeprefix("Elected: ").split(", ")


def test_a_weighted_congress_from_create_to_declare(empty_url: str, tmp_path: Path) -> None:
    db = ("--db", empty_url)
    sel = ("--election", "congress", *db)
    key = tmp_path / "officer.key"
    source = files("tallyroom").joinpath("examples", "weighted-delegates.toml")
    text = source.read_text(encoding="utf-8")
    # the congress is run today: its poll has opened (a year earlier) and closes in the future
    text = text.replace("ballot_close = 2027", "ballot_close = 2099")
    text = text.replace("declaration = 2027", "declaration = 2099")
    text = text.replace(" = 2027-", " = 2025-")
    definition = tmp_path / "congress.toml"
    definition.write_text(text, encoding="utf-8")
    run("election", "create", str(definition), "--slug", "congress", "--private-key", str(key),
        *db, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    register = tmp_path / "register.csv"
    weights = [w for w, *_ in PAPERS] + ABSENT
    rows = ["person_id,section,membership_number,status,weight"]
    rows += [f"D{k},delegates,{k},active,{w}" for k, w in enumerate(weights)]
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run("register", "import", str(register), *sel)
    run("register", "freeze", "--yes", *sel)
    run("nominations", "close", "--yes", *sel)
    cred = ("--key-file", str(tmp_path / "cred.key"))
    export = tmp_path / "credentials.csv"
    run("credentials", "issue", *cred, "--export", str(export), *sel)
    credential = {r["person_id"]: r["credential"] for r in csv.DictReader(export.open())}
    run("voting", "open", *sel)
    postal = tmp_path / "papers.csv"
    lines = ["credential,president,board,standing-orders"]
    lines += [f"{credential[f'D{k}']},{p},{b},{s}" for k, (_, p, b, s) in enumerate(PAPERS)]
    postal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cast = run("voting", "postal", str(postal), *cred, "--label", "cards", *sel).output
    assert "9 papers, 9 cast" in cast, cast
    run("voting", "close", "--yes", "--reason", "the congress voted", *sel)
    secret = ("--private-key", str(key), "--passphrase", PASS)
    out_json = tmp_path / "declared.json"
    declared = run("election", "declare", "--yes", *secret, "--json", str(out_json), *sel).stdout
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    contests = {c["contest"]: c for c in doc["contests"]}

    # President, by weight (first preferences): Amara 12.5 + 1.5 = 14.000; Bruno 0.75 x 3 +
    # 0.5 = 2.750; Chiara 3.125 + 2.001 + 0.333 = 5.459; total 22.209. More than half is
    # 11.105 (in steps of 0.001): Amara is elected in round 1 with 14/22.209 = 63.04%.
    # Votes (people): Amara 2, Bruno 4, Chiara 3 of 9.
    president = contests["president"]
    assert president["winners"] == ["Amara Adeyemi"]
    assert president["weights"] == {"decimal_places": 3, "total": "22.209"}
    assert [(c["name"], c["votes"], c["percent"], c["weight"], c["weight_percent"])
            for c in president["candidates"]] == [
        ("Amara Adeyemi", 2, "22.2", "14.000", "63.0"),
        ("Bruno Berg", 4, "44.4", "2.750", "12.4"),
        ("Chiara Conti", 3, "33.3", "5.459", "24.6"),
    ]  # fmt: skip
    # turnout and valid ballots count people: 9 of the 12 delegates
    assert (president["electorate"], president["valid"], president["turnout_percent"]) == (
        12, 9, "75.0",
    )  # fmt: skip
    # The board (STV, 2 seats): Dana 14.000 is elected at the quota 7.404; her surplus
    # (fraction 0.4711) gives Emil 5.88875; Gwen (2.751) is excluded and gives Emil 2.001:
    # Emil 9.13975 is elected (tests/count/test_weighting.py works the same count).
    board = contests["board"]
    assert board["winners"] == ["Dana Dvořák", "Emil Eriksen"]
    assert [(c["name"], c["votes"], c["weight"]) for c in board["candidates"]] == [
        ("Dana Dvořák", 2, "14.000"),
        ("Emil Eriksen", 2, "1.250"),
        ("Femi Falade", 3, "4.208"),
        ("Gwen Griffiths", 2, "2.751"),
    ]
    emil = [r["tally"]["Emil Eriksen"] for r in board["report"]["results"]]
    assert emil[:3] == ["1.25", "7.13875", "9.13975"], emil
    # the unweighted contest counts heads: Ines 5 ballots to Hugo's 4 (Hugo has 17.458 weight)
    orders = contests["standing-orders"]
    assert orders["winners"] == ["Ines Ibarra"] and "weights" not in orders
    assert "weight" not in orders["candidates"][0]
    # nine delegates are fewer than the section's minimum: no figures by section
    assert [s["published"] for s in president["sections"]] == [False]

    # the text declaration shows votes and weight
    assert "Amara Adeyemi            2   22.2%  14.000   63.0%  elected" in declared, declared
    assert "total weight of the valid ballots 22.209" in declared

    downloads = tmp_path / "downloads"
    run("election", "results", "--out", str(downloads), *sel)
    table = list(csv.DictReader(io.StringIO((downloads / "results.csv").read_text())))
    amara = next(r for r in table if r["candidate"] == "Amara Adeyemi" and not r["section"])
    assert (amara["votes"], amara["weight"], amara["weight_percent"]) == ("2", "14.000", "63.0")
    hugo = next(r for r in table if r["candidate"] == "Hugo Hansen")
    assert (hugo["votes"], hugo["weight"]) == ("4", "")
    # The published BLT holds each ranking once with its weights added up, in units of
    # 0.001: recounted, it elects the declared winners
    blt = str(downloads / "president-cvr.blt")
    assert elected(run("count", blt, "--rule", "irv").output) == ["Amara Adeyemi"]
    assert elected(run("count", str(downloads / "board-cvr.blt"), "--rule", "stv",
                       "--seats", "2").output) == ["Dana Dvořák", "Emil Eriksen"]  # fmt: skip
    # The same ballots one ballot, one vote: Amara (2) is excluded first; her d1 goes to
    # Bruno and d7 to Chiara: Bruno 5, Chiara 4 of 9, and Bruno is elected.
    names = ["Amara Adeyemi", "Bruno Berg", "Chiara Conti"]
    plain = tmp_path / "plain.blt"
    body = [f"{len(names)} 1"]
    body += ["1 " + " ".join(str(names.index(n) + 1) for n in p.split(">")) + " 0"
             for _, p, _, _ in PAPERS]  # fmt: skip
    body += ["0", *(f'"{n}"' for n in names), '"president"']
    plain.write_text("\n".join(body) + "\n", encoding="utf-8")
    unweighted = run("count", str(plain), "--rule", "irv").output
    assert elected(unweighted) == ["Bruno Berg"]
    # and the whole record verifies, the ballots' weights included in the box
    assert run("audit", "verify", *sel).exit_code == 0
