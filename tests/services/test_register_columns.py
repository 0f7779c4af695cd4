"""The register file's date columns are needed only where a rule reads them: ``registered``
where a section has a registration window, ``joined`` where it has a joining cut-off."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from tallyroom.errors import InputError
from tallyroom.services import elections as election_service
from tallyroom.services import register as register_service
from tallyroom.store import Store

LABOUR = Path(str(files("tallyroom").joinpath("examples", "labour-2016.toml"))).read_text(
    encoding="utf-8"
)


def definition(tmp_path: Path, *, window: bool, cutoff: bool) -> Path:
    text = LABOUR
    if not window:
        text = re.sub(r"(?m)^registered_(from|on_or_before) = .*\n", "", text)
    if not cutoff:
        text = re.sub(r"(?m)^joined_on_or_before = .*\n", "", text)
    path = tmp_path / f"def-{window}-{cutoff}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def election(store: Store, tmp_path: Path, *, window: bool, cutoff: bool) -> str:
    slug = f"e-{int(window)}{int(cutoff)}"
    election_service.create_election(
        store, definition(tmp_path, window=window, cutoff=cutoff), actor="ro",
        private_key_path=tmp_path / f"{slug}.key", passphrase="correct horse", slug=slug,
    )  # fmt: skip
    return slug


def register(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_no_registered_column_without_a_registration_window(
    sqlite_store: Store, tmp_path: Path
) -> None:
    slug = election(sqlite_store, tmp_path, window=False, cutoff=True)
    path = register(tmp_path, "person_id,section,membership_number,status,joined",
                    "P1,members,N1,active,2015-03-01", "P2,registered,R2,active,")  # fmt: skip
    done = register_service.import_register(sqlite_store, slug, path, actor="ro")
    assert (done.stored, done.eligible) == (2, 2)


def test_no_date_column_at_all_without_any_date_rule(sqlite_store: Store, tmp_path: Path) -> None:
    slug = election(sqlite_store, tmp_path, window=False, cutoff=False)
    path = register(tmp_path, "person_id,section,membership_number,status",
                    "P1,members,N1,active", "P2,affiliated,A2,active")  # fmt: skip
    assert register_service.import_register(sqlite_store, slug, path, actor="ro").eligible == 2


def test_a_date_column_a_rule_reads_is_still_required(sqlite_store: Store, tmp_path: Path) -> None:
    slug = election(sqlite_store, tmp_path, window=True, cutoff=True)
    path = register(tmp_path, "person_id,section,membership_number,status,joined",
                    "P1,members,N1,active,2015-03-01")  # fmt: skip
    with pytest.raises(InputError) as refused:
        register_service.import_register(sqlite_store, slug, path, actor="ro")
    text = str(refused.value)
    assert "registered: no such column in the header (a section's rule has a registration" in text
    slug = election(sqlite_store, tmp_path, window=False, cutoff=True)
    path = register(tmp_path, "person_id,section,membership_number,status",
                    "P1,members,N1,active")  # fmt: skip
    with pytest.raises(InputError, match=r"joined: no such column in the header .*joining cut-off"):
        register_service.import_register(sqlite_store, slug, path, actor="ro")


def test_the_documented_example_register(sqlite_store: Store, tmp_path: Path) -> None:
    """docs/register.md's example file gives the outcomes the page's table lists."""
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "register.csv"
    slug = election(sqlite_store, tmp_path, window=True, cutoff=True)
    done = register_service.import_register(sqlite_store, slug, example, actor="ro")
    summary = done.summary
    assert (done.stored, done.eligible) == (7, 3)
    assert summary.count("members", "eligible") == 1
    assert summary.count("members", "STATUS_NOT_ALLOWED") == 1
    assert summary.count("members", "JOINED_AFTER_FREEZE") == 1
    assert summary.count("registered", "eligible") == 1
    assert summary.count("registered", "REGISTERED_OUTSIDE_WINDOW") == 1
    assert summary.count("affiliated", "eligible") == 1
    assert summary.count("affiliated", "DUPLICATE_IN_HIGHER_SECTION") == 1
