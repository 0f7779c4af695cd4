"""The register's ``unit`` column (a branch, an affiliate): needed, and on every line of a
unit group's sections, only when a contest is counted by unit; read into the entry's fields
(so the register's fingerprint covers it); bad units refused, naming line and value, with
nothing stored; the count's electorate of each unit."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import Store, register

TRIGGER = Path(str(files("tallyroom").joinpath("examples", "trigger-ballot.toml")))
MOTION = Path(str(files("tallyroom").joinpath("examples", "rule-change-motion.toml")))


def make(store: Store, tmp_path: Path, definition: Path) -> str:
    slug = definition.stem
    election_service.create_election(
        store, definition, actor="ro", private_key_path=tmp_path / f"{slug}.key",
        passphrase="correct horse", slug=slug,
    )  # fmt: skip
    return slug


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_units_are_read_stored_and_counted(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, TRIGGER)
    path = write(
        tmp_path,
        "person_id,section,membership_number,status,unit",
        "P1,members,N1,active,Hollins Ward",
        "P2,members,N2,active, Hollins Ward ",
        "P3,members,N3,lapsed,Castle Ward",
        "P4,affiliates,A4,active,GMB Hollins",
    )
    done = register_service.import_register(store, slug, path, actor="ro")
    assert (done.stored, done.eligible) == (4, 3)
    entry = register_service.find_entry(store, slug, "members/N2")
    assert entry.fields["unit"] == "Hollins Ward"
    election = election_service.get_election(store, slug)
    with store.begin() as conn:
        units = register.eligible_by_unit(conn, election.id, ["members", "affiliates"])
        only = register.eligible_by_unit(conn, election.id, ["affiliates"])
    assert units == {("members", "Hollins Ward"): 2, ("affiliates", "GMB Hollins"): 1}
    assert only == {("affiliates", "GMB Hollins"): 1}


def test_a_contest_counted_by_unit_needs_the_column(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, TRIGGER)
    path = write(tmp_path, "person_id,section,membership_number,status", "P1,members,N1,active")
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, slug, path, actor="ro")
    assert "unit: no such column in the header (a contest is counted by unit" in str(caught.value)


def test_bad_units_are_each_named_and_nothing_is_stored(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, TRIGGER)
    path = write(
        tmp_path,
        "person_id,section,membership_number,status,unit",
        "P1,members,N1,active,",
        "P2,members,N2,active,Hollins\u202eWard",
        f"P3,affiliates,A3,active,{'x' * 65}",
        "P4,members,N4,active,Castle Ward",
    )
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, slug, path, actor="ro")
    text = str(caught.value)
    assert "register.csv:2: unit: is empty: a contest is counted by unit in this section" in text
    assert "register.csv:3: unit: holds an invisible formatting character" in text
    assert "register.csv:4: unit: a unit is at most 64 characters" in text
    assert register_service.register_summary(store, slug).count("members", "eligible") == 0


def test_without_units_the_column_is_optional(store: Store, tmp_path: Path) -> None:
    slug = make(store, tmp_path, MOTION)
    path = write(tmp_path, "person_id,section,membership_number,status", "P1,members,N1,active")
    assert register_service.import_register(store, slug, path, actor="ro").eligible == 1
    entry = register_service.find_entry(store, slug, "members/N1")
    assert "unit" not in entry.fields  # nothing added to registers without one
