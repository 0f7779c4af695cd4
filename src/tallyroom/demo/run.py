"""The demo: Labour's 2016 leadership ballot, run end to end through the election service.

:func:`run_demo` does what a returning officer would, on an embedded SQLite store in a folder
of its own, through the same services the CLI and the web use:

1. create the election from ``examples/labour-2016.toml`` with its sealing key pair;
2. import the synthetic 660,000-entry register (:mod:`tallyroom.demo.register`) and
   an exclusion list; eligibility leaves 654,006 voters; freeze the register;
3. record 172 nominations of the 251 MPs and MEPs for Owen Smith (the published count; 51
   were needed), the incumbent Jeremy Corbyn being on the ballot automatically; close;
4. issue 654,006 credentials (exported to CSV, as for the mail merge);
5. open the poll; cast 506,438 valid ballots through the voter's casting path (sealed, one
   commit per batch of voters) matching the published votes by section; import 1,042 spoilt
   postal papers;
6. close, count with the returning officer's key, declare.

The declaration gives the published result: Corbyn 313,209 (61.8%), Smith 193,229 (38.2%),
turnout 77.6%, the three sections, and the change from 2015.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

from tallyroom.demo.register import (
    CANDIDATES,
    VoterPlan,
    plan_votes,
    write_exclusions,
    write_register,
)
from tallyroom.demo.trustees import DemoTrustees, run_ceremony, run_tally
from tallyroom.election.roles import ConsoleRole
from tallyroom.errors import CountError, InputError
from tallyroom.report.declaration import Declaration, contest_json
from tallyroom.services import declaring, nominations, polling, tally
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.election_record import write_election_record
from tallyroom.services.users import create_user
from tallyroom.services.voting import CastRequest, cast_ballots, import_postal_batch
from tallyroom.store.engine import Store, open_store
from tallyroom.verify.checks import verify_record

__all__ = [
    "DEMO_OBSERVER",
    "DEMO_PASSPHRASE",
    "DemoFolder",
    "DemoProgress",
    "DemoResult",
    "demo_json",
    "existing_demo",
    "run_demo",
    "write_demo_json",
]

SLUG = "labour-leader-2016"
ACTOR = "returning officer (demo)"
# The demo's private key passphrase: a demo secret, printed in the docs. Never for real use.
DEMO_PASSPHRASE = "tallyroom demo 2016"
# A read-only console user (observer) to look around the console with; same demo secret.
DEMO_OBSERVER = "observer"
SMITH_NOMINATIONS = 172  # of 251 (Wikipedia's nominations table; 51 needed)
CAST_BATCH = 5_000
CAST_THREADS = 3
# The verifiable demo's trustees: one nominated by each campaign and the scrutineer. Trustee 2
# is absent after the close: trustees 1 and 3 mix and decrypt (any 2 of the 3 can).
VERIFIABLE_TABLE = """
# The verifiable path (tallyroom demo --verifiable): the demo's trustees.
[verifiable]
trustees = [
  "Trustee for the Corbyn campaign",
  "Trustee for the Smith campaign",
  "Independent scrutineer",
]
threshold = 2
mixers = ["Trustee for the Corbyn campaign", "Independent scrutineer"]
"""
_MARKER = ".tallyroom-demo"


class DemoProgress(Protocol):
    """Where the demo reports its stages (the CLI draws a bar; tests may collect them)."""

    def start(self, label: str, total: int | None = None) -> None: ...

    def update(self, done: int) -> None: ...

    def finish(self, summary: str) -> None: ...


class _Silent:
    def start(self, label: str, total: int | None = None) -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def finish(self, summary: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class DemoResult:
    folder: Path
    db_url: str
    slug: str
    declaration: Declaration
    timings: list[tuple[str, float]] = field(default_factory=list)
    record: Path | None = None  # the verifiable demo's election record (verified)

    @property
    def credential_key(self) -> Path:
        return self.folder / "credential.key"

    @property
    def private_key(self) -> Path:
        return self.folder / "returning-officer.key"

    @property
    def total_seconds(self) -> float:
        return sum(t for _, t in self.timings)


@dataclass(frozen=True, slots=True)
class DemoFolder:
    """A folder a finished demo left: its store and the key files the web app needs."""

    folder: Path
    db_url: str
    slug: str

    @property
    def credential_key(self) -> Path:
        return self.folder / "credential.key"

    @property
    def private_key(self) -> Path:
        return self.folder / "returning-officer.key"


def existing_demo(folder: Path) -> DemoFolder:
    """The demo ``folder`` holds, to serve again without running it (``demo --serve-only``);
    one :class:`InputError` naming the folder and what is missing when it holds none, or a
    demo that did not reach its declaration."""
    found = DemoFolder(folder, f"sqlite:///{folder / 'tallyroom.db'}", SLUG)
    missing = [
        p.name
        for p in (
            folder / _MARKER,
            folder / "tallyroom.db",
            found.credential_key,
            found.private_key,
        )
        if not p.is_file()
    ]
    if missing:
        raise InputError(
            f"no demo in this folder (missing {', '.join(missing)}); run 'tallyroom demo "
            f"--dir {folder}' first",
            path=str(folder),
        )
    with open_store(found.db_url) as store:
        if declaring.published_declaration(store, SLUG) is None:
            raise InputError(
                "the demo in this folder did not finish (nothing declared); run it again",
                path=str(folder),
            )
    return found


def _prepare(folder: Path) -> Path:
    """An empty demo folder: a folder the demo made before is cleared; any other is refused."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / _MARKER).exists():
            raise InputError(
                "the folder exists and is not a tallyroom demo folder (choose another: --dir)",
                path=str(folder),
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / _MARKER).write_text("made by tallyroom demo; cleared by the next run\n")
    return folder


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def run_demo(
    folder: Path,
    progress: DemoProgress | None = None,
    *,
    verifiable: bool = False,
    voters: int | None = None,
) -> DemoResult:
    """Run the 2016 ballot in ``folder`` (see the module docstring); with ``verifiable``, on
    the verifiable path (three trustees, threshold two, trustee 2 absent after the close),
    writing the election record to ``folder/record`` and verifying it; with ``voters``, only
    that many of the planned voters cast (a deterministic sample, spoilt papers in
    proportion), so the figures are not 2016's."""
    if voters is not None and voters < 1:
        raise InputError("--voters needs 1 or more", field="voters", value=voters)
    report: DemoProgress = progress or _Silent()
    folder = _prepare(Path(folder))
    db_path = folder / "tallyroom.db"
    db_url = f"sqlite:///{db_path}"
    timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(label: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
        report.start(label, total)
        began = time.perf_counter()
        said: list[str] = []
        yield said.append
        spent = time.perf_counter() - began
        timings.append((label, spent))
        report.finish(f"{said[-1] if said else label} ({spent:.1f} s)")

    definition = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
    if verifiable:
        text = definition.read_text(encoding="utf-8") + VERIFIABLE_TABLE
        definition = folder / "labour-2016-verifiable.toml"
        definition.write_text(text, encoding="utf-8")
    ballot_key = folder / "returning-officer.key"  # DemoResult.private_key
    credential_key = folder / "credential.key"  # DemoResult.credential_key
    with open_store(db_url, upgrade=True) as store:
        with stage("define the election") as say:
            election = election_service.create_election(
                store,
                definition,
                actor=ACTOR,
                private_key_path=ballot_key,
                passphrase=DEMO_PASSPHRASE,
                slug=SLUG,
            )
            create_user(store, DEMO_OBSERVER, DEMO_PASSPHRASE, ConsoleRole.OBSERVER)
            say(f"election {SLUG} defined; sealing key in {ballot_key.name}")
        with stage("write the synthetic register") as say:
            register_csv = folder / "register.csv"
            lines = write_register(register_csv)
            exclusions = folder / "exclusions.txt"
            write_exclusions(exclusions)
            say(f"register of {lines:,} entries written")
        with stage("import the register", lines) as say:
            imported = register_service.import_register(
                store,
                SLUG,
                register_csv,
                actor=ACTOR,
                exclusion_list=exclusions,
                progress=report.update,
            )
            say(f"{imported.stored:,} entries imported, {imported.eligible:,} eligible")
        with stage("freeze the register") as say:
            digest = register_service.freeze_register(store, SLUG, actor=ACTOR)
            say(f"register frozen, SHA-256 {digest[:16]}...")
        with stage("nominations", SMITH_NOMINATIONS) as say:
            for k in range(SMITH_NOMINATIONS):
                nominations.record_nomination(
                    store,
                    SLUG,
                    "leader",
                    CANDIDATES[1],
                    f"MP or MEP {k + 1:03d}",
                    actor=ACTOR,
                    at=_at("2016-07-19T12:00:00+01:00"),
                )
                report.update(k + 1)
            ballot = nominations.close_nominations(
                store, SLUG, actor=ACTOR, at=_at("2016-07-20T17:00:00+01:00")
            )
            say(f"nominations closed: {', '.join(ballot['leader'])} on the ballot")
        export = folder / "credentials.csv"
        with stage("issue credentials", imported.eligible) as say:
            issued = issue_credentials(
                store,
                SLUG,
                key_path=credential_key,
                export_path=export,
                actor=ACTOR,
                progress=report.update,
            )
            say(f"{issued:,} credentials issued and exported")
        key = load_or_create_key(credential_key, create=False)
        with export.open(encoding="utf-8", newline="") as handle:
            roster = list(csv.DictReader(handle))
        plan = _sample(plan_votes([v["section"] for v in roster]), voters)
        trustees = None
        if verifiable:
            with stage("the trustees' key ceremony and key drill") as say:
                trustees = run_ceremony(
                    store, SLUG, folder / "trustees", passphrase=DEMO_PASSPHRASE, actor=ACTOR
                )
                names = ", ".join(trustees.names)
                say(f"election key made by {names}; the key drill decrypted its test")
        # the 2016 timetable is past: the replay opens the poll on its own clock
        polling.open_voting(store, SLUG, actor=ACTOR, now=_at("2016-08-22T09:00:00+01:00"))
        with stage("cast ballots online", len(plan.online)) as say:
            requests = [
                CastRequest(roster[row]["credential"], {"leader": list(ranking)})
                for row, ranking in plan.online.items()
            ]
            batches = [
                requests[start : start + CAST_BATCH]
                for start in range(0, len(requests), CAST_BATCH)
            ]

            def cast(batch: list[CastRequest]) -> int:
                outcomes = cast_ballots(store, election.id, batch, credential_key=key)
                for outcome in outcomes:
                    if not isinstance(outcome, list):
                        raise outcome
                return len(outcomes)

            # Voters arrive at once on a real server: several batches are sealed at the same
            # time (libsodium runs without the GIL) while the store commits one at a time.
            done = 0
            with ThreadPoolExecutor(CAST_THREADS, thread_name_prefix="demo-cast") as pool:
                for cast_now in pool.map(cast, batches):
                    done += cast_now
                    report.update(done)
            say(f"{done:,} ballots cast online, each with its receipt")
        with stage("import spoilt postal papers") as say:
            postal = folder / "postal-returns.csv"
            with postal.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["credential", "leader"])
                for row, reason in sorted(plan.spoilt.items()):
                    cell = "" if reason == "blank" else f"{CANDIDATES[0]}>{CANDIDATES[0]}"
                    writer.writerow([roster[row]["credential"], cell])
            result = import_postal_batch(
                store, election.id, postal, label="postal returns", credential_key=key, actor=ACTOR
            )
            spoilt = sum(result.spoilt["leader"].values())
            assert spoilt == len(plan.spoilt)
            say(f"{result.papers:,} postal papers imported, {spoilt:,} spoilt")
        polling.close_voting(store, SLUG, actor=ACTOR)
        if trustees is None:
            with stage("close, count and declare") as say:
                decl = declaring.declare(
                    store,
                    SLUG,
                    private_key_file=ballot_key,
                    passphrase=DEMO_PASSPHRASE,
                    actor=ACTOR,
                )
                say(f"counted {decl.contests[0].ballots_returned:,} ballots and declared")
            return DemoResult(folder, db_url, SLUG, decl, timings)
        decl = _verifiable_count(store, folder, trustees, stage)
    return DemoResult(folder, db_url, SLUG, decl, timings, record=folder / "record")


Stage = Callable[..., AbstractContextManager[Callable[[str], None]]]


def _verifiable_count(
    store: Store, folder: Path, trustees: DemoTrustees, stage: Stage
) -> Declaration:
    """The closed board mixed by trustees 1 and 3, decrypted by them (trustee 2 is absent),
    counted and declared; the election record written and verified."""
    with stage("mix the board (2 mixers, each with a proof)") as say:
        run_tally(store, trustees, folder / "tally", mixers=[1, 3], decrypting=[], actor=ACTOR)
        say("the board shuffled by trustees 1 and 3, each shuffle proved and checked")
    with stage("decrypt (2 of 3 trustees, each share proved)") as say:
        run_tally(store, trustees, folder / "tally", mixers=[], decrypting=[1, 3], actor=ACTOR)
        say("decrypted by trustees 1 and 3 (trustee 2 absent), every share checked")
    with stage("count and declare") as say:
        decl = tally.declare_tally(store, SLUG, actor=ACTOR)
        say(f"counted {decl.contests[0].ballots_returned:,} ballots and declared")
    record = folder / "record"
    with stage("write the election record") as say:
        manifest = write_election_record(store, SLUG, record)
        size = sum(f.size for f in manifest.files)
        say(f"election record written to {record.name}/ ({size / 1e6:,.1f} MB)")
    with stage("verify the election record (tallyroom verify)") as say:
        report = verify_record(record)
        if not report.ok:
            raise CountError(f"the demo's election record does not verify: {report}")
        say(f"tallyroom verify: all {len(report.checks)} checks passed")
    return decl


def _sample(plan: VoterPlan, wanted: int | None) -> VoterPlan:
    """``wanted`` of the plan's online voters, every k-th in voter order, and the spoilt
    papers in proportion (at least one); the whole plan when ``wanted`` is None."""
    if wanted is None or wanted >= len(plan.online):
        return plan
    rows = sorted(plan.online)
    step = len(rows) / wanted
    online = {rows[int(k * step)]: plan.online[rows[int(k * step)]] for k in range(wanted)}
    spoilt_rows = sorted(plan.spoilt)
    keep = max(1, round(len(spoilt_rows) * wanted / len(rows)))
    spoilt = {r: plan.spoilt[r] for r in spoilt_rows[:keep]}
    return VoterPlan(online, spoilt)


_PERCENTS = frozenset({"percent", "turnout_percent", "previous_percent", "change"})


def _numeric_percents(value: Any) -> Any:
    """The declaration's JSON with its percentages as JSON numbers: the declaration keeps them
    as exact decimal strings; the demo's readers compare them as numbers (one decimal place,
    as published, so the conversion is exact to that place)."""
    if isinstance(value, dict):
        return {
            k: float(v) if k in _PERCENTS and isinstance(v, str) else _numeric_percents(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_numeric_percents(v) for v in value]
    return value


def demo_json(result: DemoResult) -> dict[str, Any]:
    """The declared result as the demo's JSON: the leadership contest's figures at the top
    (:func:`~tallyroom.report.declaration.contest_json`), percentages as numbers."""
    leader = result.declaration.contests[0]
    doc: dict[str, Any] = {"election": result.slug, "name": result.declaration.name}
    doc.update(_numeric_percents(contest_json(leader)))
    for section in doc["sections"]:  # named as Labour's table names them ("Members", ...)
        section["key"] = section["name"]
        section["name"] = section.pop("label")
    doc["timings_seconds"] = {label: round(t, 2) for label, t in result.timings}
    return doc


def write_demo_json(result: DemoResult, path: Path) -> None:
    Path(path).write_text(json.dumps(demo_json(result), indent=2) + "\n", encoding="utf-8")
