"""From nominations to the declaration through the CLI, on both backends: nominations,
credentials, the poll (postal papers cast through the voter's path), close, count, declare,
the downloads, and the audit log verified in the store and as an exported file."""

from __future__ import annotations

import csv
import hashlib
import json
from importlib.resources import files
from pathlib import Path

from click.testing import CliRunner, Result

from tallyroom.audit.events import AuditEvent
from tallyroom.cli.main import main
from tallyroom.store import audit, elections, open_store
from tallyroom.store.schema import declaration_files

LABOUR = str(files("tallyroom").joinpath("examples", "labour-2016.toml"))


def definition(folder: Path) -> str:
    """Labour 2016 with the ballot closing after today, so that the poll may still open."""
    text = Path(LABOUR).read_text(encoding="utf-8")
    path = folder / "labour-2016-open.toml"
    text = text.replace(
        "ballot_close = 2016-09-21T12:00:00+01:00", "ballot_close = 2099-09-21T12:00:00+01:00"
    )
    text = text.replace("declaration = 2016-09-24", "declaration = 2099-09-24")
    path.write_text(text, encoding="utf-8")
    return str(path)


PASS = "sealing passphrase"
REGISTER = "person_id,section,membership_number,status,joined,registered\n" + "".join(
    f"P{k},members,N{k},active,2015-03-01,\n" for k in range(1, 7)
)
ON_TIME = "2016-07-19T12:00:00+01:00"


def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
    done = CliRunner().invoke(main, list(args), input=input)
    if ok:
        assert done.exit_code == 0, done.output
    return done


def test_nominations_to_declaration_and_the_audit_log(empty_url: str, tmp_path: Path) -> None:
    db = ("--db", empty_url)
    sel = ("--election", "leader", *db)
    key = tmp_path / "officer.key"
    run("election", "create", definition(tmp_path), "--slug", "leader", "--private-key",
        str(key), *db, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    run("register", "import", str(register), *sel)
    run("register", "freeze", "--yes", *sel)

    # nominations: 51 of 251 needed; a paper after the close is kept and refused
    for k in range(51):
        run("nominations", "nominate", "Owen Smith", "--contest", "leader",
            "--nominator", f"MP {k}", "--at", ON_TIME, *sel)  # fmt: skip
    late = run("nominations", "nominate", "Owen Smith", "--contest", "leader",
               "--nominator", "MP late", "--at", "2016-07-21T09:00:00+01:00", *sel,
               ok=False)  # fmt: skip
    assert late.exit_code == 1
    assert "refused: MP late for Owen Smith: received outside the nomination period" in late.output
    status = run("nominations", "status", *sel).output
    assert "leader (51 needed)" in status and "Owen Smith: 51 - nominated" in status
    closed = run("nominations", "close", "--yes", *sel).output
    assert closed.strip() == "leader: Jeremy Corbyn, Owen Smith"

    cred = ("--key-file", str(tmp_path / "cred.key"))
    export = tmp_path / "credentials.csv"
    run("credentials", "issue", *cred, "--export", str(export), *sel)
    voters = [r["credential"] for r in csv.DictReader(export.open(encoding="utf-8"))]
    assert len(voters) == 6

    early = tmp_path / "early.csv"
    early.write_text(f"credential,leader\n{voters[0]},Owen Smith\n", encoding="utf-8")
    refused = run("voting", "postal", str(early), *cred, "--label", "early", *sel, ok=False)
    assert refused.exit_code == 2 and "open" in refused.output

    assert "open" in run("voting", "open", *sel).output
    papers = tmp_path / "postal.csv"
    rows = [
        f"{voters[0]},Jeremy Corbyn>Owen Smith",
        f"{voters[1]},Jeremy Corbyn",
        f"{voters[2]},Owen Smith",
        f"{voters[3]},",  # blank: spoilt
        "not-a-credential,Owen Smith",  # spoilt: cannot be tied to a voter
    ]
    papers.write_text("credential,leader\n" + "\n".join(rows) + "\n", encoding="utf-8")
    done = run("voting", "postal", str(papers), *cred, "--label", "postal 1", *sel).output
    assert "postal 1: 5 papers, 4 cast" in done and "leader: spoilt (blank): 1" in done
    again = tmp_path / "again.csv"
    again.write_text(f"credential,leader\n{voters[0]},Owen Smith\n", encoding="utf-8")
    assert (
        "refused (already cast): 1"
        in run("voting", "postal", str(again), *cred, "--label", "postal 2", *sel).output
    )
    turnout = run("voting", "turnout", *sel).output
    assert "leader: 4 of 6" in turnout and "members: 4 of 6" in turnout
    run("voting", "close", "--yes", "--reason", "the ballot closed at noon", *sel)

    count = ("--private-key", str(key), "--passphrase", PASS)
    counted = run("election", "count", *count, *sel).stdout
    assert "Jeremy Corbyn" in counted and "spoilt 2" in counted
    out_json = tmp_path / "declared.json"
    declared = run("election", "declare", "--yes", *count, "--json", str(out_json), *sel).stdout
    assert declared == counted
    leader = json.loads(out_json.read_text(encoding="utf-8"))["contests"][0]
    assert leader["winners"] == ["Jeremy Corbyn"]
    assert [(c["name"], c["votes"]) for c in leader["candidates"]] == [
        ("Jeremy Corbyn", 2),
        ("Owen Smith", 1),
    ]
    assert (leader["valid"], leader["spoilt"], leader["electorate"]) == (3, 2, 6)
    downloads = tmp_path / "downloads"
    run("election", "results", "--out", str(downloads), *sel)
    assert {"results.json", "results.csv", "leader-cvr.blt"} <= {
        p.name for p in downloads.iterdir()
    }

    verified = run("audit", "verify", *sel).output
    assert verified.startswith("audit chain verified")
    assert "election record verified" in verified and "box-close" in verified
    # `sha256sum` of each download is the digest the declaration's audit event recorded
    declared = json.loads(
        [e for e in _events(empty_url) if e.action.value == "declaration"][-1].payload
    )
    for path in downloads.iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == declared["files"][path.name]
    shown = run("audit", "show", *sel).output
    assert "the ballot closed at noon" in shown
    log = tmp_path / "log.jsonl"
    head = run("audit", "export", "--out", str(log), *sel).output.split("head ")[1].strip()
    assert run("audit", "verify", "--file", str(log), "--head", head).exit_code == 0

    # anybody holding the published head notices a rewritten line
    lines = log.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[-1])
    event["actor"] = "somebody else"
    log.write_text("\n".join([*lines[:-1], json.dumps(event)]) + "\n", encoding="utf-8")
    tampered = run("audit", "verify", "--file", str(log), "--head", head, ok=False)
    assert tampered.exit_code == 1 and "FAILED" in tampered.output and "hash" in tampered.output

    # a database writer edits the published CVRs: the stored log's verification names it
    with open_store(empty_url) as store, store.begin() as conn:
        conn.execute(
            declaration_files.update()
            .where(declaration_files.c.name == "leader-cvr.blt")
            .values(content=b"3 1\n1 2 0\n0\n")
        )
    edited = run("audit", "verify", *sel, ok=False)
    assert edited.exit_code == 1 and "election record FAILED" in edited.output
    assert "download: leader-cvr.blt" in edited.output


def _events(url: str) -> list[AuditEvent]:
    with open_store(url) as store, store.read() as conn:
        (election,) = elections.list_elections(conn)
        return [chained.event for chained in audit.events(conn, election.id)]


def test_a_paper_dated_now_never_blocks_the_papers_dated_right(tmp_path: Path) -> None:
    """The sequence of issue 13: a paper without ``--at`` (so "now", years after the 2016
    timetable) is refused with exit status 1 and its reason in words; the correctly dated
    papers after it count, and the nominations close."""
    db = ("--db", f"sqlite:///{tmp_path / 'n.db'}")
    sel = ("--election", "leader", *db)
    run("election", "create", LABOUR, "--slug", "leader", "--private-key",
        str(tmp_path / "k.key"), *db, input=f"{PASS}\n{PASS}\n")  # fmt: skip
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    run("register", "import", str(register), *sel)
    run("register", "freeze", "--yes", *sel)
    nominate = ("nominations", "nominate", "Owen Smith", "--contest", "leader")

    now = run(*nominate, "--nominator", "MP now", *sel, ok=False)
    assert now.exit_code == 1
    assert "does not count: received outside the nomination period" in now.output
    assert "NominationProblem" not in now.output and "OUTSIDE_PERIOD" not in now.output
    for k in range(51):
        run(*nominate, "--nominator", f"MP {k}", "--at", ON_TIME, *sel)
    status = run("nominations", "status", *sel).output
    assert "Owen Smith: 51 - nominated" in status
    assert "refused: MP now for Owen Smith: received outside the nomination period" in status
    assert (
        run("nominations", "close", "--yes", *sel).output.strip()
        == "leader: Jeremy Corbyn, Owen Smith"
    )
    cred = ("--key-file", str(tmp_path / "cred.key"))
    run("credentials", "issue", *cred, "--export", str(tmp_path / "c.csv"), *sel)
    # the 2016 timetable closed the ballot long ago: the poll may not open now
    late = run("voting", "open", *sel, ok=False)
    assert late.exit_code == 2
    assert "cannot open the poll: the timetable closed the ballot at 2016-09-21T12:00:00+01:00" in (
        late.output
    )
    assert "credentials issued" in run("election", "status", *sel).output


def test_audit_verify_needs_one_source(tmp_path: Path) -> None:
    done = run("audit", "verify", "--db", str(tmp_path / "x.db"), ok=False)
    assert done.exit_code == 2 and "--election or --file" in done.output
    bad = run("audit", "verify", "--file", __file__, "--head", "zz", ok=False)
    assert bad.exit_code == 2 and "SEQUENCE:HASH" in bad.output
