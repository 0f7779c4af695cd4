"""The bundled party examples through the CLI, from create to declare: the PLP's 2010 Shadow
Cabinet (block vote, 19 places, at least 6 women, 257 MPs) on SQLite and PostgreSQL, and an
NEC constituency-section election (STV, 9 places, at least 5 women, at most 4 men) on
SQLite. Each elects as many women as required, and the same winners as ``tallyroom count``
with the same constraint on the election's own published ballots."""

from __future__ import annotations

import csv
import json
import random
from importlib.resources import files
from pathlib import Path

from click.testing import CliRunner, Result

from tallyroom.cli.main import main
from tallyroom.election import load_definition

PASS = "sealing passphrase"


def example(name: str) -> Path:
    return Path(str(files("tallyroom").joinpath("examples", f"{name}.toml")))


def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
    done = CliRunner().invoke(main, list(args), input=input)
    if ok:
        assert done.exit_code == 0, done.output
    return done


def elected(output: str) -> list[str]:
    (line,) = [x for x in output.splitlines() if x.startswith("Elected: ")]
    return line.removeprefix("Elected: ").split(", ")


def declare_by_cli(
    db: str, tmp_path: Path, name: str, section: str, voters: int, papers: list[list[str]]
) -> tuple[dict[str, object], Path]:
    """create, register import, freeze, close nominations, credentials, open, cast (the
    postal path, one paper per ballot), close, count, declare; the declared contest and the
    folder of downloads."""
    db_opts = ("--db", db)
    sel = ("--election", name, *db_opts)
    key = tmp_path / "officer.key"
    # the example's historical poll, run today: its ballot closes in the future here
    text = example(name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("ballot_close"):
            text = text.replace(line, "ballot_close = 2099-01-01T12:00:00+00:00")
        elif line.startswith("declaration"):
            text = text.replace(line, "declaration = 2099-01-02")
    definition = tmp_path / f"{name}.toml"
    definition.write_text(text, encoding="utf-8")
    run("election", "create", str(definition), "--slug", name, "--private-key", str(key),
        *db_opts, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    register = tmp_path / "register.csv"
    rows = ["person_id,section,membership_number,status,joined,registered"]
    rows += [f"V{k},{section},N{k},active,2009-01-01," for k in range(voters)]
    register.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run("register", "import", str(register), *sel)
    run("register", "freeze", "--yes", *sel)
    run("nominations", "close", "--yes", *sel)
    cred = ("--key-file", str(tmp_path / "cred.key"))
    export = tmp_path / "credentials.csv"
    run("credentials", "issue", *cred, "--export", str(export), *sel)
    credentials = [r["credential"] for r in csv.DictReader(export.open(encoding="utf-8"))]
    assert len(credentials) == voters
    run("voting", "open", *sel)
    contest = load_definition(example(name)).contests[0].name
    postal = tmp_path / "papers.csv"
    lines = [f"credential,{contest}"]
    lines += [f"{c},{'>'.join(p)}" for c, p in zip(credentials, papers, strict=False)]
    postal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cast = run("voting", "postal", str(postal), *cred, "--label", "returns", *sel).output
    assert f"{len(papers)} papers, {len(papers)} cast" in cast, cast
    run("voting", "close", "--yes", "--reason", "the ballot closed", *sel)
    secret = ("--private-key", str(key), "--passphrase", PASS)
    counted = run("election", "count", *secret, *sel).stdout
    # the printed declaration states the constraints and the rounds where they acted
    requirements = load_definition(example(name)).contests[0].requirements
    assert "Constraints: " + "; ".join(requirements) in counted
    acted = [line for line in counted.splitlines() if line.startswith("  Round ")]
    assert acted and all(":" in line for line in acted), counted
    out_json = tmp_path / "declared.json"
    declared = run("election", "declare", "--yes", *secret, "--json", str(out_json), *sel).stdout
    assert declared == counted
    downloads = tmp_path / "downloads"
    run("election", "results", "--out", str(downloads), *sel)
    (entry,) = json.loads(out_json.read_text(encoding="utf-8"))["contests"]
    assert isinstance(entry, dict)
    return entry, downloads


def shadow_cabinet_papers() -> tuple[list[list[str]], list[str], list[str]]:
    """232 of the 257 MPs vote (as in 2010); each marks 19: six or seven women (the ballot
    rule asks for six) and the rest men, so that the women poll fewer votes than the men."""
    contest = load_definition(example("shadow-cabinet-2010")).contests[0]
    women = [c.name for c in contest.candidates if "women" in c.groups]
    men = [c.name for c in contest.candidates if "men" in c.groups]
    draw = random.Random(2010)
    papers = []
    for _ in range(232):
        w = draw.sample(women, draw.choice((6, 6, 7)))
        papers.append(w + draw.sample(men, 19 - len(w)))
    return papers, women, men


def test_the_shadow_cabinet_from_create_to_declare(empty_url: str, tmp_path: Path) -> None:
    papers, women, men = shadow_cabinet_papers()
    entry, downloads = declare_by_cli(
        empty_url, tmp_path, "shadow-cabinet-2010", "plp", 257, papers
    )
    winners = entry["winners"]
    assert isinstance(winners, list) and len(winners) == 19
    assert sum(1 for w in winners if w in women) == 6  # the minimum acted
    assert entry["electorate"] == 257 and entry["valid"] == 232
    assert entry["constraints"] == [
        "at least 6 must be women",
        "a valid ballot marks at least 6 women",
        "a valid ballot marks at least 6 men",
    ]
    assert entry["constraint_rounds"]  # the round where men were passed over is named
    blt = str(downloads / "shadow-cabinet-cvr.blt")
    plain = elected(run("count", blt, "--rule", "block").output)
    assert sum(1 for w in plain if w in women) < 6  # without the minimum: fewer women
    constraint = "women>=6:" + ",".join(women)
    recount = run("count", blt, "--rule", "block", "--constraint", constraint)
    assert elected(recount.output) == winners
    # the same with the ballot rules too (a groups file): every published ballot meets them
    groups = tmp_path / "groups.toml"
    groups.write_text(
        f"[group.women]\nmembers = {json.dumps(women)}\nmin_elected = 6\nmin_marked = 6\n"
        f"[group.men]\nmembers = {json.dumps(men)}\nmin_marked = 6\n",
        encoding="utf-8",
    )
    recount = run("count", blt, "--rule", "block", "--constraint-file", str(groups))
    assert elected(recount.output) == winners
    results = json.loads((downloads / "results.json").read_text(encoding="utf-8"))
    assert results["contests"][0]["constraints"] == entry["constraints"]


def test_the_nec_constituency_section_from_create_to_declare(tmp_path: Path) -> None:
    contest = load_definition(example("nec-clp-2020")).contests[0]
    women = [c.name for c in contest.candidates if "women" in c.groups]
    men = [c.name for c in contest.candidates if "men" in c.groups]
    draw = random.Random(2020)
    papers = []
    for _ in range(300):  # the men are ranked higher more often than the women
        ranked = sorted(
            contest.candidate_names,
            key=lambda n: draw.random() * (0.7 if n in men else 1.0),
        )
        papers.append(ranked[: draw.randint(3, 14)])
    entry, downloads = declare_by_cli(
        str(tmp_path / "nec.db"), tmp_path, "nec-clp-2020", "members", 320, papers
    )
    winners = entry["winners"]
    assert isinstance(winners, list) and len(winners) == 9
    assert sum(1 for w in winners if w in women) >= 5
    assert sum(1 for w in winners if w in men) <= 4
    assert entry["constraints"] == ["at least 5 must be women", "at most 4 may be men"]
    blt = str(downloads / "nec-clp-cvr.blt")
    plain = elected(run("count", blt, "--rule", "stv").output)
    assert sum(1 for w in plain if w in women) < 5  # without the constraints: fewer women
    recount = run("count", blt, "--rule", "stv",
                  "--constraint", "women>=5:" + ",".join(women),
                  "--constraint", "men<=4:" + ",".join(men))  # fmt: skip
    assert elected(recount.output) == winners
