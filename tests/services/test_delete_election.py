"""Deleting a draft election on both backends: every row it owned goes, nothing of another
election's does, and an election past the draft is refused with its state in words."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
import sqlalchemy as sa

from tallyroom.errors import LifecycleError, NotFound
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import Store
from tallyroom.store.schema import elections, metadata

DEFINITION = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml")))
REGISTER = (
    "person_id,section,membership_number,status,joined,registered\n"
    "P1,members,N1,active,2015-03-01,\n"
    "P2,members,N2,lapsed,2015-03-01,\n"
)


def _rows(store: Store, election_id: int) -> dict[str, int]:
    with store.read() as conn:
        return {
            t.name: conn.execute(
                sa.select(sa.func.count()).select_from(t).where(t.c.election_id == election_id)
            ).scalar_one()
            for t in metadata.sorted_tables
            if "election_id" in t.c
        }


def test_a_draft_goes_with_everything_it_owned(store: Store, tmp_path: Path) -> None:
    ids = {}
    for slug in ("keep", "drop"):
        election_service.create_election(
            store, DEFINITION, actor="ro", private_key_path=tmp_path / f"{slug}.key",
            passphrase="correct horse", slug=slug,
        )  # fmt: skip
        path = tmp_path / f"{slug}.csv"
        path.write_text(REGISTER, encoding="utf-8")
        register_service.import_register(store, slug, path, actor="ro")
        ids[slug] = election_service.get_election(store, slug).id
    kept_before = _rows(store, ids["keep"])
    assert _rows(store, ids["drop"])["register_entries"] == 2

    done = election_service.delete_election(store, "drop", actor="ro")
    assert (done.slug, done.entries, done.audit_events) == ("drop", 2, 3)
    assert set(_rows(store, ids["drop"]).values()) == {0}
    assert _rows(store, ids["keep"]) == kept_before
    with store.read() as conn:
        assert conn.execute(sa.select(elections.c.slug)).scalars().all() == ["keep"]
    with pytest.raises(NotFound, match="no such election"):
        election_service.delete_election(store, "drop", actor="ro")

    register_service.freeze_register(store, "keep", actor="ro")
    with pytest.raises(LifecycleError) as refused:
        election_service.delete_election(store, "keep", actor="ro")
    assert str(refused.value) == (
        "election keep: cannot delete the election while the election is register frozen "
        "(needs draft)"
    )
    assert _rows(store, ids["keep"])["register_entries"] == 2
