"""One person, one entry, across every import: the register is judged whole, whatever the
number of files and their order, on SQLite and PostgreSQL.

The attack: ``a.csv`` lists P1 as a member, ``b.csv`` lists P1 again as a supporter. Judged
file by file, both entries were eligible, two credentials were issued and both postal papers
were cast. Judged whole, P1 holds one eligible entry, one credential, one vote.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import pytest
import sqlalchemy as sa

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import nominations, polling
from tallyroom.services import register as register_service
from tallyroom.services.credentials import issue_credentials, load_or_create_key
from tallyroom.services.voting import cast_ballot
from tallyroom.store import AlreadyCast, Store, audit, elections, register
from tallyroom.store.schema import register_changes

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
# the 2016 timetable is past: the poll opens on its own clock
BALLOT_OPEN = datetime.fromisoformat("2016-08-22T09:00:00+01:00")
NOMINATED = datetime.fromisoformat("2016-07-19T10:00:00+01:00")
HEADER = "person_id,section,membership_number,status,joined,registered\n"
A = (
    HEADER
    + "P1,members,N1,active,2015-03-01,\n"
    + "P2,members,N2,active,2015-03-01,\n"
    + "P3,members,N3,active,2016-03-01,\n"  # joined after the freeze...
    + "P5,members,N5,active,2015-03-01,\n"
)
B = (
    HEADER
    + "P1,registered,R1,active,,2016-07-19T12:00:00+01:00\n"  # P1 again, as a supporter
    + "P2,members,N9,active,2015-03-01,\n"  # P2 again in the same section
    + "P3,registered,R3,active,,2016-07-19T12:00:00+01:00\n"  # ...but votes as a supporter
    + "P4,affiliated,A4,active,2015-01-01,2016-08-01\n"
)


def make(store: Store, tmp_path: Path, slug: str) -> str:
    election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / f"{slug}.key",
        passphrase="correct horse",
        slug=slug,
    )
    return slug


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def eligible_set(store: Store, slug: str) -> set[tuple[str, str]]:
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        return {
            (e.fields["person"], e.person_id)
            for e in register.iter_entries(conn, record.id, eligible_only=True)
        }


def test_two_files_in_either_order_equal_one_file(store: Store, tmp_path: Path) -> None:
    a, b = write(tmp_path, "a.csv", A), write(tmp_path, "b.csv", B)
    both = write(tmp_path, "both.csv", A + B.removeprefix(HEADER))
    ab, ba, one = (make(store, tmp_path, s) for s in ("ab", "ba", "one"))
    register_service.import_register(store, ab, a, actor="ro")
    register_service.import_register(store, ab, b, actor="ro", reason="the supporters' list")
    register_service.import_register(store, ba, b, actor="ro")
    register_service.import_register(store, ba, a, actor="ro", reason="the members' list")
    register_service.import_register(store, one, both, actor="ro")
    expected = {
        ("P1", "members/N1"),  # a member outranks a registered supporter
        ("P2", "members/N2"),  # the smaller number of the two in one section
        ("P3", "registered/R3"),  # joined after the freeze, registered in the window
        ("P4", "affiliated/A4"),
        ("P5", "members/N5"),
    }
    assert eligible_set(store, ab) == eligible_set(store, ba) == eligible_set(store, one)
    assert eligible_set(store, ab) == expected
    for slug in (ab, ba, one):
        summary = register_service.register_summary(store, slug)
        assert summary.count("registered", "DUPLICATE_IN_HIGHER_SECTION") == 1
        assert summary.count("members", "DUPLICATE_IN_SECTION") == 1
        assert summary.count("members", "JOINED_AFTER_FREEZE") == 1


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_one_credential_and_one_vote_for_a_person_in_two_files(
    store: Store, tmp_path: Path, order: str
) -> None:
    slug = make(store, tmp_path, "leader")
    first, second = (A, B) if order == "ab" else (B, A)
    register_service.import_register(store, slug, write(tmp_path, "1.csv", first), actor="ro")
    result = register_service.import_register(
        store, slug, write(tmp_path, "2.csv", second), actor="ro", reason="second list"
    )
    assert result.eligible == 5
    register_service.freeze_register(store, slug, actor="ro")
    for k in range(51):
        nominations.record_nomination(
            store, slug, "leader", "Owen Smith", f"MP{k}", actor="ro", at=NOMINATED
        )
    nominations.close_nominations(store, slug, actor="ro")
    export = tmp_path / "credentials.csv"
    issued = issue_credentials(
        store, slug, key_path=tmp_path / "cred.key", export_path=export, actor="ro"
    )
    assert issued == 5
    with export.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    p1 = [r["credential"] for r in rows if r["person_id"] == "P1"]
    assert len(p1) == 1 and len({r["person_id"] for r in rows}) == 5
    polling.open_voting(store, slug, actor="ro", now=BALLOT_OPEN)
    key = load_or_create_key(tmp_path / "cred.key", create=False)
    election = election_service.get_election(store, slug)
    cast_ballot(store, election.id, p1[0], {"leader": ["Owen Smith"]}, credential_key=key)
    with pytest.raises(AlreadyCast):
        cast_ballot(store, election.id, p1[0], {"leader": ["Owen Smith"]}, credential_key=key)


def test_a_later_file_is_a_logged_change_with_a_reason(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, "leader")
    register_service.import_register(store, slug, write(tmp_path, "a.csv", A), actor="ro")
    b = write(tmp_path, "b.csv", B)
    with pytest.raises(InputError, match="needs a reason"):
        register_service.import_register(store, slug, b, actor="ro")
    assert len(eligible_set(store, slug)) == 3  # the refused file changed nothing
    corrections = write(
        tmp_path,
        "fix.csv",
        HEADER
        + "P1,members,N1,active,2015-03-01,\n"  # unchanged
        + "P5,members,N5,lapsed,2015-03-01,\n"  # corrected: lapsed
        + "P6,members,N6,active,2015-03-01,\n",  # added
    )
    result = register_service.import_register(
        store, slug, corrections, actor="ro", reason="lapsed members list of 2 Aug"
    )
    assert (result.stored, result.corrected, result.unchanged, result.removed) == (1, 1, 1, 0)
    assert ("P5", "members/N5") not in eligible_set(store, slug)
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        event = list(audit.events(conn, record.id))[-1].event
        payload = json.loads(event.payload)
        assert event.reason == "lapsed members list of 2 Aug"
        assert payload["source"] == "fix.csv"
        assert (payload["entries"], payload["corrected"], payload["unchanged"]) == (1, 1, 1)
        assert payload["eligible"] == 3  # P1, P2 and P6
        changes = conn.execute(
            sa.select(register_changes.c.kind, register_changes.c.before, register_changes.c.after)
            .where(register_changes.c.election_id == record.id)
            .where(register_changes.c.audit_sequence == event.sequence)
        ).all()
    assert len(changes) == 1
    assert '"status":"active"' in changes[0].before and '"status":"lapsed"' in changes[0].after

    # the second list arrives: P1's supporter entry is a duplicate, P2's second number too
    register_service.import_register(store, slug, b, actor="ro", reason="supporters")
    # and a replacing file removes what it does not list (kept, excluded as REMOVED)
    only = write(tmp_path, "only.csv", HEADER + "P1,registered,R1,active,,2016-07-19T12:00:00Z\n")
    result = register_service.import_register(
        store, slug, only, actor="ro", reason="the final register", replace=True
    )
    assert result.removed == 8 and result.corrected == 1
    # P1's member entry is gone, so the supporter entry now holds P1's one vote
    assert eligible_set(store, slug) == {("P1", "registered/R1")}
    assert register_service.register_summary(store, slug).count("members", "REMOVED") == 6


def test_a_decision_by_hand_stands_and_cannot_give_a_second_vote(
    store: Store, tmp_path: Path
) -> None:
    slug = make(store, tmp_path, "leader")
    register_service.import_register(store, slug, write(tmp_path, "a.csv", A), actor="ro")
    register_service.change_eligibility(
        store, slug, "members/N3", True, actor="ro", reason="appeal upheld: joined on time"
    )
    register_service.import_register(
        store, slug, write(tmp_path, "b.csv", B), actor="ro", reason="supporters"
    )
    # P3's member entry was made eligible by hand and stays so; the rules, which do not
    # judge a decision by hand, make P3's supporter entry eligible too: the freeze refuses.
    with pytest.raises(InputError) as caught:
        register_service.freeze_register(store, slug, actor="ro")
    assert "P3: members/N3, registered/R3" in str(caught.value)
    # the service never makes a second eligible entry for a person
    with pytest.raises(InputError, match="eligible already through members/N1"):
        register_service.change_eligibility(
            store, slug, "registered/R1", True, actor="ro", reason="try"
        )
    register_service.change_eligibility(
        store, slug, "registered/R3", False, actor="ro", reason="votes as a member (appeal)"
    )
    register_service.freeze_register(store, slug, actor="ro")


def test_freeze_refuses_a_person_eligible_twice(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, "leader")
    register_service.import_register(
        store, slug, write(tmp_path, "a.csv", A + B[len(HEADER) :]), actor="ro"
    )
    record = election_service.get_election(store, slug)
    with store.begin() as conn:  # below the service, as a faulty tool or an old release might
        register.change_eligibility(
            conn, record.id, "registered/R1", True, None, actor="x", reason="forced"
        )
    with pytest.raises(InputError) as caught:
        register_service.freeze_register(store, slug, actor="ro")
    assert "P1: members/N1, registered/R1" in str(caught.value)
    assert caught.value.value == "P1"
    assert election_service.get_election(store, slug).state.value == "draft"
