"""Contact columns of a register: mapped at import, checked line by line, kept beside entries."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import Store, register
from tallyroom.store.contacts import Contact, contacts_of
from tallyroom.store.schema import ContactChannel

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
HEADER = "person_id,section,membership_number,status,joined,registered,Name,E-mail,Address,Via\n"
MAPPING = register_service.ColumnMapping.parse(
    ["name=Name", "email=E-mail", "address=Address", "channel=Via"]
)


def _election(store: Store, tmp_path: Path) -> int:
    record = election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / "leader.key",
        passphrase="correct horse",
        slug="leader",
    )
    return record.id


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_contacts_are_stored_with_their_channel(store: Store, tmp_path: Path) -> None:
    election_id = _election(store, tmp_path)
    path = _write(
        tmp_path,
        "P1,members,N1,active,2015-03-01,,Ann Ames,ann@example.org,,\n"
        'P2,members,N2,active,2015-03-01,,Bob Bell,,"1 High St|Leeds|LS1 1AA",\n'
        'P3,members,N3,active,2015-03-01,,Cy Cole,cy@example.org,"2 Low Rd|York",post\n'
        "P4,members,N4,active,2015-03-01,,,,,\n",
    )
    register_service.import_register(store, "leader", path, actor="ro", mapping=MAPPING)
    with store.read() as conn:
        keys = {e.id: e.person_id for e in register.iter_entries(conn, election_id)}
        found = {keys[i]: c for i, c in contacts_of(conn, election_id)}
    assert found == {
        "members/N1": Contact("Ann Ames", "ann@example.org", None, ContactChannel.EMAIL),
        "members/N2": Contact("Bob Bell", None, "1 High St|Leeds|LS1 1AA", ContactChannel.POST),
        "members/N3": Contact("Cy Cole", "cy@example.org", "2 Low Rd|York", ContactChannel.POST),
    }
    # contact details are not part of the register's fields (nor of its fingerprint)
    with store.read() as conn:
        assert "email" not in register.get_entry(conn, election_id, "members/N1").fields


@pytest.mark.parametrize(
    ("cells", "field", "value"),
    [
        ("Ann,ann@@example.org,,", "email", "ann@@example.org"),
        ("Ann,Ann <ann@example.org>,,", "email", "Ann <ann@example.org>"),
        ("Ann,ann@example,,", "email", "ann@example"),
        ("Ann,a@b.org;c@d.org,,", "email", "a@b.org;c@d.org"),
        ("Ann,,,email", "channel", "email"),
        ("Ann,ann@example.org,,pigeon", "channel", "pigeon"),
        ("Ann,ann@example.org,,post", "channel", "post"),
    ],
)
def test_a_bad_contact_names_file_line_field_and_value(
    store: Store, tmp_path: Path, cells: str, field: str, value: str
) -> None:
    election_id = _election(store, tmp_path)
    path = _write(
        tmp_path,
        "P1,members,N1,active,2015-03-01,,Ann,ann@example.org,,\n"
        f"P2,members,N2,active,2015-03-01,,{cells}\n",
    )
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, "leader", path, actor="ro", mapping=MAPPING)
    error = caught.value
    assert (error.path, error.line, error.field, error.value) == (str(path), 3, field, value)
    assert str(path) in str(error) and value in str(error)
    with store.read() as conn:  # nothing stored
        assert register.count_entries(conn, election_id) == 0
        assert list(contacts_of(conn, election_id)) == []


def test_a_later_file_replaces_a_voters_contact(store: Store, tmp_path: Path) -> None:
    election_id = _election(store, tmp_path)
    first = _write(tmp_path, "P1,members,N1,active,2015-03-01,,Ann,ann@example.org,,\n")
    register_service.import_register(store, "leader", first, actor="ro", mapping=MAPPING)
    second = tmp_path / "later.csv"
    second.write_text(
        HEADER + "P1,members,N1,active,2015-03-01,,Ann,ann@new.example.org,,\n", encoding="utf-8"
    )
    register_service.import_register(
        store, "leader", second, actor="ro", mapping=MAPPING, reason="new address"
    )
    with store.read() as conn:
        ((_, contact),) = list(contacts_of(conn, election_id))
    assert contact.email == "ann@new.example.org"
