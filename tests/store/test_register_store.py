"""The register: streaming bulk import in one transaction, eligibility, recorded changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import MakeElection
from tallyroom.audit import Action
from tallyroom.errors import InputError
from tallyroom.store import ElectionState, LifecycleError, Store, audit, elections, register
from tallyroom.store.register import RegisterEntry
from tallyroom.store.schema import register_changes


def _entries(n: int, start: int = 0) -> Iterator[RegisterEntry]:
    for i in range(start, start + n):
        yield RegisterEntry(
            f"L{i:07d}",
            "affiliated" if i % 10 == 0 else "member",
            {"name": f"Member {i}", "postcode": "SW1A 1AA", "note": "naïve — ünïcode"},
            line=i + 2,
        )


def _count(store: Store, election_id: int) -> int:
    with store.read() as conn:
        return register.count_entries(conn, election_id)


def test_bulk_import_streams_every_row_in_chunks(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    with store.begin() as conn:
        stored = register.import_entries(
            conn, election.id, _entries(2_500), actor="ro", source="members.csv", chunk_size=700
        )
    assert stored == 2_500
    with store.read() as conn:
        assert register.count_entries(conn, election.id) == 2_500
        assert register.count_entries(conn, election.id, eligible=None) == 2_500
        entry = register.get_entry(conn, election.id, "L0000010")
        assert entry.section == "affiliated"
        assert entry.fields == {
            "name": "Member 10",
            "postcode": "SW1A 1AA",
            "note": "naïve — ünïcode",
        }
        assert [e.person_id for e in register.iter_entries(conn, election.id, batch=300)][:2] == [
            "L0000000",
            "L0000001",
        ]
        last = list(audit.events(conn, election.id))[-1].event
        assert last.action is Action.REGISTER_IMPORT
        assert last.data == {"source": "members.csv", "entries": 2_500, "eligible_at_import": 0}


def test_a_duplicate_person_rolls_the_whole_import_back(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)

    def with_duplicate() -> Iterator[RegisterEntry]:
        yield from _entries(1_500)  # two chunks of 500 already sent when the duplicate comes
        yield RegisterEntry("L0000007", "member", line=1_502)

    with pytest.raises(InputError) as caught, store.begin() as conn:
        register.import_entries(
            conn, election.id, with_duplicate(), actor="ro", source="members.csv", chunk_size=500
        )
    assert caught.value.line == 1_502
    assert caught.value.value == "L0000007"
    assert str(caught.value).startswith("members.csv:1502: person_id:")
    assert _count(store, election.id) == 0
    with store.read() as conn:
        assert [e.event.action for e in audit.events(conn, election.id)] == [Action.DEFINITION]


def test_a_failing_source_rolls_the_whole_import_back(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)

    def broken() -> Iterator[RegisterEntry]:
        yield from _entries(1_200)
        raise OSError("disk read error")

    with pytest.raises(OSError, match="disk read error"), store.begin() as conn:
        register.import_entries(conn, election.id, broken(), actor="ro", chunk_size=500)
    assert _count(store, election.id) == 0


def test_a_person_already_on_the_register_is_refused_by_the_database(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    with store.begin() as conn:
        register.import_entries(conn, election.id, _entries(100), actor="ro")
    with pytest.raises(InputError, match="already on the register"), store.begin() as conn:
        register.import_entries(conn, election.id, _entries(100, start=50), actor="ro")
    assert _count(store, election.id) == 100


def test_import_only_while_draft(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1, state=ElectionState.REGISTER_FROZEN)
    with pytest.raises(LifecycleError, match="register frozen"), store.begin() as conn:
        register.import_entries(conn, election.id, _entries(5, start=10), actor="ro")
    assert _count(store, election.id) == 1


def test_entries_are_validated_on_construction() -> None:
    with pytest.raises(InputError, match="person id"):
        RegisterEntry("", line=4)
    with pytest.raises(InputError, match="text"):
        RegisterEntry("A1", fields={"age": 42})  # type: ignore[dict-item]


def test_bulk_eligibility_decisions(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    with store.begin() as conn:
        register.import_entries(conn, election.id, _entries(1_000), actor="ro")
        decisions = (
            (f"L{i:07d}", i % 4 != 0, None if i % 4 else "joined after the freeze date")
            for i in range(1_000)
        )
        assert register.decide_eligibility(conn, election.id, decisions, actor="ro") == 1_000
    with store.read() as conn:
        assert register.count_entries(conn, election.id, eligible=True) == 750
        assert register.count_entries(conn, election.id, eligible=False) == 250
        assert register.get_entry(conn, election.id, "L0000004").eligibility_reason == (
            "joined after the freeze date"
        )
        assert len(list(register.entry_ids(conn, election.id))) == 750
        event = list(audit.events(conn, election.id))[-1].event
        assert event.data == {"decisions": 1_000, "eligible": 750, "undecided": 0}


def test_changes_after_the_freeze_are_recorded_with_reason_and_actor(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=2, state=ElectionState.REGISTER_FROZEN)
    with store.begin() as conn:
        register.change_eligibility(
            conn,
            election.id,
            "P000001",
            False,
            "lapsed",
            actor="membership officer",
            reason="arrears confirmed by finance, ticket 4411",
        )
        register.add_entry(
            conn,
            election.id,
            RegisterEntry("P000099", "member", {"name": "Late Joiner"}, True),
            actor="membership officer",
            reason="appeal upheld by the procedures committee",
        )
        register.amend_entry(
            conn,
            election.id,
            "P000000",
            fields={"name": "Voter Zero-Renamed"},
            actor="membership officer",
            reason="deed poll",
        )
    with store.read() as conn:
        rows = conn.execute(sa.select(register_changes).order_by(register_changes.c.id)).all()
        assert [r.kind.value for r in rows] == ["eligibility", "add", "amend"]
        assert rows[0].actor == "membership officer"
        assert json.loads(rows[0].before)["eligible"] is True
        assert json.loads(rows[0].after)["eligible"] is False
        assert rows[1].before is None
        chained = {e.event.sequence: e.event for e in audit.events(conn, election.id)}
        for row in rows:
            event = chained[row.audit_sequence]
            assert event.action is Action.REGISTER_CHANGE
            assert event.reason == row.reason
            data = event.data
            assert isinstance(data, dict)
            assert "Late Joiner" not in event.payload  # digests, not personal data
            assert data["kind"] == row.kind.value
        assert audit.verify(conn, election.id).ok


def test_a_change_needs_a_reason(store: Store, make_election: MakeElection) -> None:
    election = make_election(voters=1, state=ElectionState.REGISTER_FROZEN)
    with pytest.raises(InputError, match="reason"), store.begin() as conn:
        register.change_eligibility(conn, election.id, "P000000", False, "x", actor="a", reason=" ")
    with store.read() as conn:
        assert register.get_entry(conn, election.id, "P000000").eligible is True


def test_no_register_change_once_the_poll_is_closed(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=1, state=ElectionState.CLOSED)
    with pytest.raises(LifecycleError), store.begin() as conn:
        register.change_eligibility(
            conn, election.id, "P000000", False, "x", actor="a", reason="too late"
        )
    with store.read() as conn:
        assert elections.get_election(conn, election.id).state is ElectionState.CLOSED


def test_snapshots_and_voters_read_from_the_stored_columns(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    odd = [
        RegisterEntry("A1", "member", {"name": 'Zoë "Zed" Ø', "person": "P-77"}, eligible=True),
        RegisterEntry(
            "A2",
            "affiliated",
            {"note": "tab\there, back\\slash"},
            eligible=False,
            eligibility_reason="status not allowed",
        ),
        RegisterEntry("A3", "member", {}, eligible=None),
        RegisterEntry("A4", "mémbre", {"person": "P-4", "x": "😀"}, eligible=True),
    ]
    with store.begin() as conn:
        register.import_entries(conn, election.id, odd, actor="ro")
    with store.read() as conn:
        entries = list(register.iter_entries(conn, election.id))
        assert list(register.iter_snapshots(conn, election.id)) == [
            (e.person_id, e.snapshot()) for e in entries
        ]
        voters = register.eligible_voters(conn, election.id)
    ids = {e.person_id: e.id for e in entries}
    assert voters == [(ids["A1"], "P-77", "member"), (ids["A4"], "P-4", "mémbre")]


CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_fields_encode_as_the_canonical_json_encoder_does() -> None:
    awkward = [
        {},
        {"b": "2", "a": "1", "A": "0", "é": "x", "_": ""},
        {"q": 'quote " back\\slash / slash', "c": "\x00\x01\x1f\x7f tab\t nl\n cr\r"},
        {"u": "Zoë Ø — ünïcode 😀 \u2028\u2029", "s": "\ud800 lone surrogate"},
        {"weight": "2.5", "person": "P1", "number": "N1", "status": "active"},
        {"only": "one"},
        {"%s": "%d %%", "a%": "%", "%(x)s": "%(y)s"},  # the key order's template keeps them
        {"person": "P1", "weight": "2.5", "number": "N1", "status": "active"},  # other order
        {"person": "P2", "weight": "2.5", "number": "N2", "status": "active"},  # same again
    ]
    for fields in awkward:
        assert register.encode_fields(fields) == CANONICAL.encode(fields)
    # not all text: still the canonical encoder's answer
    assert register.encode_fields({"n": 1, "a": "x"}) == CANONICAL.encode({"n": 1, "a": "x"})  # type: ignore[dict-item]
    # keys seen with text values, then with a value that is not: the general encoder's answer
    for value in ("x", 1, None, True, "y"):
        fields = {"z": "1", "a": value}
        assert register.encode_fields(fields) == CANONICAL.encode(fields)  # type: ignore[arg-type]


def test_import_rows_checks_each_tuple_as_an_entry_is_checked(
    store: Store, make_election: MakeElection
) -> None:
    election = make_election(voters=0, state=ElectionState.DRAFT)
    bad_rows: list[tuple[register.EntryRow, str, str]] = [
        (("", "member", {}, True, None, 7), "person_id", "1 to 64"),
        (("X" * 65, "member", {}, True, None, 7), "person_id", "1 to 64"),
        (("A1", "m" * 65, {}, True, None, 7), "section", "at most 64"),
        (("A1", "member", {"age": 40}, True, None, 7), "age", "fields are text"),  # type: ignore[dict-item]
        (("A1", "member", {1: "x", "a": "y"}, True, None, 7), "1", "fields are text"),  # type: ignore[dict-item]
    ]
    for row, field, words in bad_rows:
        good: register.EntryRow = ("G1", "member", {"a": "b"}, True, None, 6)
        with pytest.raises(InputError) as caught, store.begin() as conn:
            register.import_rows(conn, election.id, [good, row], actor="ro", source="f.csv")
        assert (caught.value.line, caught.value.field) == (7, field)
        assert words in str(caught.value)
        assert _count(store, election.id) == 0
