"""The register import pinned byte for byte: the stored rows, the eligibility digest, the
audit payload and every problem's text, for a small register exercising each path of the
reader (quoted cells, non-ASCII text, spaces to strip, dates in and out of the election's
zone, an optional unit column, blank lines). Speed work on the import must leave all of
these unchanged, on both backends."""

from __future__ import annotations

import gc
from importlib.resources import files
from pathlib import Path

import pytest
import sqlalchemy as sa

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import Store, audit, elections
from tallyroom.store.eligibility import eligibility_digest
from tallyroom.store.schema import register_entries

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
REGISTER = (
    "\ufeffperson_id,section,membership_number,status,joined,registered,unit\n"
    "P1,members,N1,active,2015-03-01,,Islington North\n"
    "P2,members,N2,lapsed,2015-03-01,,\n"
    "P3, members ,N3,active,2016-02-01,,\n"
    "P4,registered,R4,active,,2016-07-19T12:00:00+01:00,\n"
    "P5,registered,R5,active,,2016-07-20 09:30,\n"
    "\n"
    "P1,affiliated,A1,active,2015-01-01,2016-08-01,\n"
    '"Zoë, ""Z""",affiliated,A2,active,2015-01-01,2016-07-31T23:59:59Z,Unite\n'
    "P7,members,N7,ACTIVE,2016-01-12,,\n"
    "P8,members,Ñ8,active,2016-01-12T00:00:01,,\n"
)
ROWS = [
    ("members/N1", "members",
     '{"joined":"2015-03-01","number":"N1","person":"P1","registered":"",'
     '"status":"active","unit":"Islington North"}', True, None),
    ("members/N2", "members",
     '{"joined":"2015-03-01","number":"N2","person":"P2","registered":"","status":"lapsed"}',
     False, "STATUS_NOT_ALLOWED"),
    ("members/N3", "members",
     '{"joined":"2016-02-01","number":"N3","person":"P3","registered":"","status":"active"}',
     False, "JOINED_AFTER_FREEZE"),
    ("registered/R4", "registered",
     '{"joined":"","number":"R4","person":"P4","registered":"2016-07-19T12:00:00+01:00",'
     '"status":"active"}', True, None),
    ("registered/R5", "registered",
     '{"joined":"","number":"R5","person":"P5","registered":"2016-07-20 09:30",'
     '"status":"active"}', True, None),
    ("affiliated/A1", "affiliated",
     '{"joined":"2015-01-01","number":"A1","person":"P1","registered":"2016-08-01",'
     '"status":"active"}', False, "DUPLICATE_IN_HIGHER_SECTION"),
    ("affiliated/A2", "affiliated",
     '{"joined":"2015-01-01","number":"A2","person":"Zoë, \\"Z\\"",'
     '"registered":"2016-07-31T23:59:59Z","status":"active","unit":"Unite"}', True, None),
    ("members/N7", "members",
     '{"joined":"2016-01-12","number":"N7","person":"P7","registered":"","status":"ACTIVE"}',
     False, "STATUS_NOT_ALLOWED"),
    ("members/Ñ8", "members",
     '{"joined":"2016-01-12T00:00:01","number":"Ñ8","person":"P8","registered":"",'
     '"status":"active"}', True, None),
]  # fmt: skip
DIGEST = "669727c4f5ad1eb495cbc64507e6b9a8e6408f35732158c2eacf3bfe8e5f2692"
BAD = (
    "person_id,section,membership_number,status,joined,registered\n"
    "P1,members,N1,active,2015-03-01,\n"
    ",directors,,active,2015-13-01,\n"
    "P3,members,N1,active,2015-03-01,yesterday\n"
    "P4,members\n"
    "P5,members,N5,active,2015-03-01,2016-07-19T25:00\n"
)
PROBLEMS = """{path}: 8 problems in the register:
  {path}:3: person: is empty ('')
  {path}:3: section: not a section of the election (affiliated, members, registered) ('directors')
  {path}:3: number: is empty ('')
  {path}:3: joined: not an ISO 8601 date or date and time ('2015-13-01')
  {path}:4: number: listed twice in this section (first on line 2) ('N1')
  {path}:4: registered: not an ISO 8601 date or date and time ('yesterday')
  {path}:5: has 2 cells where 6 are needed (2)
  {path}:6: registered: not an ISO 8601 date or date and time ('2016-07-19T25:00')"""


def _make(store: Store, tmp_path: Path) -> str:
    election_service.create_election(
        store,
        DEFINITION,
        actor="ro",
        private_key_path=tmp_path / "pin.key",
        passphrase="correct horse",
        slug="pin",
    )
    return "pin"


def test_import_stores_the_pinned_rows_and_digest(store: Store, tmp_path: Path) -> None:
    slug = _make(store, tmp_path)
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    result = register_service.import_register(store, slug, path, actor="ro")
    assert (result.stored, result.eligible) == (9, 5)
    c = register_entries.c
    with store.read() as conn:
        record = elections.find_election(conn, slug)
        assert record is not None
        rows = [
            tuple(r)
            for r in conn.execute(
                sa.select(c.person_id, c.section, c.fields, c.eligible, c.eligibility_reason)
                .where(c.election_id == record.id)
                .order_by(c.id)
            )
        ]
        digest = eligibility_digest(conn, record.id)
        payloads = [
            e.event.payload
            for e in audit.events(conn, record.id)
            if e.event.action.value == "register_import"
        ]
    assert rows == ROWS
    assert digest == DIGEST
    assert payloads == ['{"eligible_at_import":5,"entries":9,"source":"register.csv"}']


def test_every_problem_is_pinned_and_nothing_stored(store: Store, tmp_path: Path) -> None:
    slug = _make(store, tmp_path)
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        register_service.import_register(store, slug, path, actor="ro")
    assert str(caught.value) == PROBLEMS.replace("{path}", str(path))
    with store.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(register_entries))
        assert stored.scalar() == 0


def test_the_cycle_collector_is_back_on_after_an_import_however_it_ends(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """The import pauses Python's cycle collector for its own speed and must not leave it
    off: not after a success, not after a refused file."""
    slug = _make(sqlite_store, tmp_path)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(REGISTER, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    assert gc.isenabled()
    with pytest.raises(InputError):
        register_service.import_register(sqlite_store, slug, bad, actor="ro")
    assert gc.isenabled()
    register_service.import_register(sqlite_store, slug, good, actor="ro")
    assert gc.isenabled()
    gc.disable()  # and one that was off stays off
    try:
        with pytest.raises(InputError):
            register_service.import_register(sqlite_store, slug, good, actor="ro")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_date_column_first_in_the_file_is_read(store: Store, tmp_path: Path) -> None:
    """``joined`` as the file's first column (index 0) is read like any other: a bad date
    there is a problem, and a good one is stored (it was once skipped as "no column")."""
    slug = _make(store, tmp_path)
    path = tmp_path / "joined-first.csv"
    path.write_text(
        "joined,person_id,section,membership_number,status,registered\n2015-13-01,P1,members,N1,active,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"joined-first.csv:2: joined: not an ISO 8601 date"):
        register_service.import_register(store, slug, path, actor="ro")
    path.write_text(
        "joined,person_id,section,membership_number,status,registered\n2015-03-01,P1,members,N1,active,\n",
        encoding="utf-8",
    )
    register_service.import_register(store, slug, path, actor="ro")
    with store.read() as conn:
        fields = conn.execute(sa.select(register_entries.c.fields)).scalar_one()
    assert '"joined":"2015-03-01"' in fields
