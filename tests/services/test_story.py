"""The whole story of a ballot, on SQLite and PostgreSQL, through the services a returning
officer uses: define, import, freeze, nominate, issue, open, cast, postal, close, count,
declare, publish, verify the log. Bad input at each step is refused and changes nothing."""

from __future__ import annotations

import csv
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.election.nominations import NominationProblem, Standing
from tallyroom.errors import InputError
from tallyroom.services import audit_log, declaring, nominations, polling
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key, revoke_credential
from tallyroom.services.voting import CastRequest, cast_ballot, cast_ballots, import_postal_batch
from tallyroom.store import (
    AlreadyCast,
    CredentialRejected,
    ElectionState,
    LifecycleError,
    Store,
    audit,
    ballots,
)

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
# the 2016 timetable is past: the poll opens on its own clock
BALLOT_OPEN = datetime.fromisoformat("2016-08-22T09:00:00+01:00")
PASSPHRASE = "correct horse battery staple"
CORBYN, SMITH = "Jeremy Corbyn", "Owen Smith"
BST = "+01:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + BST)


def register_csv(path: Path) -> Path:
    rows = ["person_id,section,membership_number,status,joined,registered"]
    rows += [f"M{i},members,N{i},active,2015-06-01," for i in range(12)]
    rows += ["M12,members,N12,active,2016-03-01,"]  # joined after the freeze date
    rows += ["M13,members,N13,suspended,2015-06-01,"]
    rows += [f"R{i},registered,R{i},active,,2016-07-19T09:00:00+01:00" for i in range(3)]
    rows += ["R3,registered,R3,active,,2016-07-21T09:00:00+01:00"]  # after the window
    rows += ["M0,affiliated,A0,active,2015-01-01,2016-08-01"]  # votes once, as a member
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_leadership_ballot_from_definition_to_declaration(store: Store, tmp_path: Path) -> None:
    # -- define
    slug = "leader-2016"
    key_file = tmp_path / "ballot.key"
    election_service.create_election(
        store, DEFINITION, actor="ro", private_key_path=key_file, passphrase=PASSPHRASE, slug=slug
    )
    # -- import the register: eligibility by the rules, each exclusion with its reason
    result = register_service.import_register(
        store, slug, register_csv(tmp_path / "register.csv"), actor="ro"
    )
    assert (result.stored, result.eligible) == (19, 15)
    summary = result.summary
    assert summary.count("members", "JOINED_AFTER_FREEZE") == 1
    assert summary.count("members", "STATUS_NOT_ALLOWED") == 1
    assert summary.count("registered", "REGISTERED_OUTSIDE_WINDOW") == 1
    assert summary.count("affiliated", "DUPLICATE_IN_HIGHER_SECTION") == 1
    with pytest.raises(InputError):  # a bad register cannot replace it, and changes nothing
        register_service.import_register(
            store, slug, register_csv(tmp_path / "again.csv"), actor="ro"
        )
    fingerprint = register_service.freeze_register(store, slug, actor="ro")
    assert len(fingerprint) == 64

    # -- nominations: 51 of the PLP and EPLP for the challenger, the incumbent automatic
    for k in range(50):
        nominations.record_nomination(
            store, slug, "leader", SMITH, f"MP{k}", actor="ro", at=at("2016-07-19T10:00:00")
        )
    standing = nominations.nomination_standings(store, slug)["leader"]
    assert standing.threshold == 51
    assert [(s.candidate, s.standing) for s in standing.standings] == [
        (CORBYN, Standing.AUTOMATIC),
        (SMITH, Standing.SHORT),
    ]
    late = nominations.record_nomination(
        store, slug, "leader", SMITH, "MP99", actor="ro", at=at("2016-07-20T17:30:00")
    )
    assert [r.problem for r in late.rejected] == [NominationProblem.OUTSIDE_PERIOD]
    assert late.refused == late.rejected[0]
    with pytest.raises(InputError):  # dated before the last paper that counted: not stored
        nominations.record_nomination(
            store, slug, "leader", SMITH, "MP50", actor="ro", at=at("2016-07-19T09:00:00")
        )
    with pytest.raises(InputError):
        nominations.record_withdrawal(store, slug, "leader", "Angela Eagle", actor="ro")
    with pytest.raises(LifecycleError):  # credentials need a fixed ballot
        issue_credentials(
            store,
            slug,
            key_path=tmp_path / "cred.key",
            export_path=tmp_path / "early.csv",
            actor="ro",
        )
    assert not (tmp_path / "early.csv").exists()
    # the late 51st paper is kept with its problem but does not count: Smith is short
    ballot = nominations.close_nominations(store, slug, actor="ro", at=at("2016-07-20T18:00:00"))
    assert ballot == {"leader": (CORBYN,)}  # uncontested: Smith had 50 valid nominations
    assert polling.election_ballot(store, slug).contest("leader").candidate_names == (CORBYN,)


@pytest.fixture
def opened(store: Store, tmp_path: Path) -> tuple[Store, str, Path, list[dict[str, str]]]:
    """The election with Smith validly nominated, credentials issued and the poll open."""
    slug = "leader"
    election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / "ballot.key",
        passphrase=PASSPHRASE,
        slug=slug,
    )
    register_service.import_register(
        store, slug, register_csv(tmp_path / "register.csv"), actor="ro"
    )
    register_service.freeze_register(store, slug, actor="ro")
    for k in range(51):
        nominations.record_nomination(
            store, slug, "leader", SMITH, f"MP{k}", actor="ro", at=at("2016-07-19T10:00:00")
        )
    assert nominations.close_nominations(store, slug, actor="ro") == {"leader": (CORBYN, SMITH)}
    export = tmp_path / "credentials.csv"
    issued = issue_credentials(
        store, slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro"
    )
    assert issued == 15
    with pytest.raises(InputError):  # never a second export over the first
        issue_credentials(
            store, slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro"
        )
    with export.open(encoding="utf-8") as f:
        voters = list(csv.DictReader(f))
    polling.open_voting(store, slug, actor="ro", now=BALLOT_OPEN)
    return store, slug, tmp_path, voters


def test_casting_counting_and_declaring(
    opened: tuple[Store, str, Path, list[dict[str, str]]],
) -> None:
    store, slug, tmp_path, voters = opened
    key = load_or_create_key(tmp_path / "cred.key", create=False)
    election = election_service.get_election(store, slug)
    by_person = {v["person_id"]: v["credential"] for v in voters}
    # the booth: which ballots this voter may cast
    booth = polling.voter_ballot(store, slug, by_person["M0"], credential_key=key)
    assert (booth.section, [c.name for c in booth.contests]) == ("members", ["leader"])

    # a batch of voters in one durable commit; each all or nothing
    plan = {f"M{i}": [CORBYN, SMITH] if i < 7 else [SMITH] for i in range(12)}
    plan |= {"R0": [CORBYN], "R1": [CORBYN], "R2": [SMITH]}
    requests = [CastRequest(by_person[p], {"leader": ranking}) for p, ranking in plan.items()]
    requests.append(CastRequest(by_person["M3"], {"leader": [SMITH]}))  # twice in one batch
    requests.append(CastRequest(by_person["M4"], {"leader": ["Tony Blair"]}))  # not a candidate
    requests.append(CastRequest("not a credential", {"leader": [CORBYN]}))
    outcomes = cast_ballots(store, election.id, requests, credential_key=key)
    assert all(isinstance(o, list) and len(o) == 1 for o in outcomes[:15])
    assert isinstance(outcomes[15], AlreadyCast)
    assert isinstance(outcomes[16], InputError) and "Tony Blair" in str(outcomes[16])
    assert isinstance(outcomes[17], InputError)
    # the receipt is in the public list
    receipt = outcomes[0]
    assert isinstance(receipt, list)
    assert polling.find_receipt(store, slug, receipt[0].code) == "leader"
    page = polling.receipt_page(store, slug)
    assert len(page.receipts) == page.total == 15 and page.next_after is None
    # a second ballot, and a retried one, are refused; nothing more is stored
    with pytest.raises(AlreadyCast):
        cast_ballot(store, election.id, by_person["M0"], {"leader": [SMITH]}, credential_key=key)
    again = polling.voter_ballot(store, slug, by_person["M0"], credential_key=key)
    assert (again.contests, again.voted) == ((), ("leader",))
    # live turnout: counts by section, no figures for candidates
    (leader,) = polling.turnout(store, slug)
    assert leader.cast == {"members": 12, "registered": 3, "affiliated": 0}
    assert leader.total_electorate == 15

    # counting before the close is refused; after the close, casting is refused
    with pytest.raises(LifecycleError):
        declaring.count(
            store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
        )
    assert declaring.published_declaration(store, slug) is None
    polling.close_voting(store, slug, actor="ro")
    with pytest.raises(LifecycleError):
        cast_ballot(store, election.id, by_person["M0"], {"leader": [SMITH]}, credential_key=key)
    decl = declaring.declare(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    assert decl.contest("leader").winners == (CORBYN,)
    published = declaring.published_declaration(store, slug)
    assert published is not None
    (contest,) = published["contests"]
    assert contest["candidates"] == [
        {"name": CORBYN, "votes": 9, "percent": "60.0"},
        {"name": SMITH, "votes": 6, "percent": "40.0"},
    ]
    assert contest["turnout_percent"] == "100.0"
    assert contest["report"]["results"][0]["tally"] == {CORBYN: "9", SMITH: "6"}
    names = [n for n, *_ in declaring.declaration_files(store, slug)]
    assert names == [
        "leader-cvr.blt",
        "leader-rctab-summary.csv",
        "leader-rctab-summary.json",
        "results.csv",
        "results.json",
    ]
    blt = declaring.declaration_file(store, slug, "leader-cvr.blt").content.decode()
    assert blt.startswith("2 1\n")
    # the log verifies, and records every step in order
    with store.read() as conn:
        assert audit.verify(conn, election.id).ok
        actions = [e.event.action.value for e in audit.events(conn, election.id)]
        assert ballots.totals(conn, election.id)[0].reconciled
    assert actions[-4:] == ["poll_open", "poll_close", "count", "declaration"]
    assert election_service.election_status(store, slug).state is ElectionState.DECLARED
    # and the election itself verifies against the log: the box as cast and as closed, the
    # state, the definition, the register, the published document and downloads
    record = audit_log.verify_record(store, slug)
    assert record.ok, record.summary()
    assert {c.value for c in record.checked} >= {"box-close", "eligibility", "download"}


def test_revoked_credentials_and_postal_papers(
    opened: tuple[Store, str, Path, list[dict[str, str]]],
) -> None:
    store, slug, tmp_path, voters = opened
    key_file = tmp_path / "cred.key"
    key = load_or_create_key(key_file, create=False)
    election = election_service.get_election(store, slug)
    by_person = {v["person_id"]: v["credential"] for v in voters}
    revoke_credential(store, slug, by_person["M1"], key_path=key_file, actor="ro", reason="lost")
    with pytest.raises(CredentialRejected):
        cast_ballot(store, election.id, by_person["M1"], {"leader": [SMITH]}, credential_key=key)
    postal = tmp_path / "postal.csv"
    postal.write_text(
        "credential,leader\n"
        f"{by_person['M2']},{CORBYN}\n"
        f"{by_person['M3']},{CORBYN}>{CORBYN}\n"  # spoilt: uses M3's vote
        f"{by_person['M1']},{SMITH}\n",  # revoked: spoilt, not tied to a voter
        encoding="utf-8",
    )
    result = import_postal_batch(
        store, election.id, postal, label="first post", credential_key=key, actor="ro"
    )
    assert (result.papers, result.cast) == (3, 2)
    assert result.spoilt == {"leader": {"invalid_marks": 1, "unreadable_credential": 1}}
    with pytest.raises(AlreadyCast):  # the spoilt paper was M3's ballot
        cast_ballot(store, election.id, by_person["M3"], {"leader": [SMITH]}, credential_key=key)
    polling.close_voting(store, slug, actor="ro")
    decl = declaring.declare(
        store, slug, private_key_file=tmp_path / "ballot.key", passphrase=PASSPHRASE, actor="ro"
    )
    leader = decl.contest("leader")
    assert (leader.valid, leader.spoilt, leader.ballots_returned) == (1, 2, 3)
