"""The register service on both backends: import, eligibility, freeze, and recorded changes."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import ElectionState, LifecycleError, Store, audit, elections, register

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
HEADER = "person_id,section,membership_number,status,joined,registered\n"
GOOD = (
    HEADER
    + "P1,members,N1,active,2015-03-01,\n"
    + "P2,members,N2,lapsed,2015-03-01,\n"
    + "P3,members,N3,active,2016-02-01,\n"  # joined after the freeze
    + "P4,registered,R4,active,,2016-07-19T12:00:00+01:00\n"
    + "P1,affiliated,A1,active,2015-01-01,2016-08-01\n"  # votes as a member
)


def make(store: Store, tmp_path: Path, slug: str = "leader") -> str:
    election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / f"{slug}.key",
        passphrase="correct horse",
        slug=slug,
    )
    return slug


def write(tmp_path: Path, text: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_decides_eligibility_and_summarises(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path)
    result = register_service.import_register(store, slug, write(tmp_path, GOOD), actor="ro")
    assert (result.stored, result.eligible) == (5, 2)
    summary = result.summary
    assert summary.count("members", "eligible") == 1
    assert summary.count("members", "STATUS_NOT_ALLOWED") == 1
    assert summary.count("members", "JOINED_AFTER_FREEZE") == 1
    assert summary.count("affiliated", "DUPLICATE_IN_HIGHER_SECTION") == 1
    assert summary.count("registered", "eligible") == 1
    assert register_service.register_summary(store, slug).counts == {
        k: v for k, v in summary.counts.items() if v
    }
    assert "joined after freeze" in summary.render()
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        entry = register.get_entry(conn, record.id, "members/N1")
    assert entry.eligible is True
    assert entry.fields["person"] == "P1"


def test_every_bad_row_is_reported_and_nothing_stored(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path)
    bad = (
        HEADER
        + "P1,members,N1,active,2015-03-01,\n"
        + "P2,directors,N2,active,2015-03-01,\n"
        + "P3,members,N3,active,12/01/2016,\n"
        + "P4,members,N1,active,2015-03-01,\n"
    )
    path = write(tmp_path, bad)
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, slug, path, actor="ro")
    message = str(caught.value)
    assert "3 problems" in message
    assert f"{path}:3: section: not a section" in message and "'directors'" in message
    assert f"{path}:4: joined: not an ISO 8601 date" in message and "'12/01/2016'" in message
    assert f"{path}:5: number: listed twice in this section (first on line 2)" in message
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        assert register.count_entries(conn, record.id) == 0


def test_duplicate_and_missing_columns(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path)
    path = write(tmp_path, "person_id,section,status,status,joined,registered\n")
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, slug, path, actor="ro")
    message = str(caught.value)
    assert f"{path}:1: status: column appears twice in the header ('status')" in message
    assert "number: no such column in the header ('membership_number')" in message


def test_column_mapping(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path)
    path = write(tmp_path, "id,part,no,state,since\nP1,members,N1,active,2015-03-01\n")
    mapping = register_service.ColumnMapping.parse(
        ["person=id", "section=part", "number=no", "status=state", "joined=since", "registered="]
    )
    result = register_service.import_register(store, slug, path, actor="ro", mapping=mapping)
    assert result.eligible == 1


def test_freeze_records_fingerprint_then_changes_need_a_reason(
    store: Store, tmp_path: Path
) -> None:
    slug = make(store, tmp_path)
    register_service.import_register(store, slug, write(tmp_path, GOOD), actor="ro")
    fingerprint = register_service.freeze_register(store, slug, actor="ro")
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None and record.state is ElectionState.REGISTER_FROZEN
        last = list(audit.events(conn, record.id))[-1]
        assert fingerprint in str(last.event.payload)
        entries = list(register.iter_entries(conn, record.id))
        # the snapshots read from the stored columns are the entries' own, byte for byte
        slow = [(e.person_id, e.snapshot()) for e in entries]
        assert list(register.iter_snapshots(conn, record.id)) == slow
        assert fingerprint == register_service.register_fingerprint(slow)[0]
    with pytest.raises(InputError, match="needs a reason"):
        register_service.change_eligibility(store, slug, "P1", False, actor="ro", reason=" ")
    changed = register_service.change_eligibility(
        store, slug, "P1", False, actor="ro", reason="resigned"
    )
    assert changed.eligible is False
    with pytest.raises(LifecycleError):
        register_service.import_register(store, slug, write(tmp_path, GOOD), actor="ro")
