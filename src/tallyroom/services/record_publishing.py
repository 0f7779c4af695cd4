"""A declared verifiable election's record, published for anyone to download (issue 15,
item 6): one uncompressed tar of the record's folder (``record/manifest.json`` and every file
it lists, docs/election-record.md), kept under a folder the server serves from
(``DATA_DIR/records``), with its size and SHA-256 beside it.

:func:`publish_record` writes the record (services/election_record.py) into a private
temporary folder, packs it, and only then moves the tar and its facts into place, each with
an atomic rename: a download never sees half a record, and a failed or interrupted run
leaves the previous publication (if any) as it was. :func:`published_record` reads the
facts back for the pages. Anyone then checks it with ``tar xf SLUG-record.tar`` and
``tallyroom verify record``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tallyroom.election.slug import check_slug
from tallyroom.errors import InputError
from tallyroom.services.election_record import write_election_record
from tallyroom.store.engine import Store

__all__ = ["PublishedRecord", "publish_record", "published_record", "record_tar"]

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class PublishedRecord:
    """A published record: its tar's name, size and SHA-256, and the record's file count."""

    name: str
    size: int
    sha256: str
    files: int


def record_tar(root: Path, slug: str) -> Path:
    """Where ``slug``'s published record lives under ``root`` (the slug checked first)."""
    return root / f"{check_slug(slug)}-record.tar"


def _facts(root: Path, slug: str) -> Path:
    return root / f"{check_slug(slug)}-record.json"


def publish_record(
    store: Store, slug: str, root: Path, *, workers: int = 2, say: Say = _quiet
) -> PublishedRecord:
    """Write, pack and publish the record of the declared verifiable election ``slug``
    under ``root``; what was published. Refused (nothing changed) for an election that is
    not a declared verifiable one."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    tar_path, facts_path = record_tar(root, slug), _facts(root, slug)
    work = Path(tempfile.mkdtemp(prefix=".record-", dir=root))
    try:
        manifest = write_election_record(store, slug, work / "record", workers=workers, say=say)
        say("packing the record")
        packed = work / "record.tar"
        with tarfile.open(packed, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted((work / "record").rglob("*")):
                info = tar.gettarinfo(path, arcname=str(path.relative_to(work)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0  # the same record packs to the same bytes
                info.mode = 0o755 if path.is_dir() else 0o644
                if path.is_dir():
                    tar.addfile(info)
                else:
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
        digest = hashlib.sha256()
        with packed.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        done = PublishedRecord(
            tar_path.name, packed.stat().st_size, digest.hexdigest(), len(manifest.files)
        )
        facts = work / "record.json"
        facts.write_text(
            json.dumps(
                {"name": done.name, "size": done.size, "sha256": done.sha256, "files": done.files},
                sort_keys=True,
            ),
            encoding="utf-8",
        )
        packed.chmod(0o644)
        os.replace(packed, tar_path)
        os.replace(facts, facts_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done


def published_record(root: Path, slug: str) -> PublishedRecord | None:
    """The record published for ``slug`` under ``root``, or ``None``."""
    try:
        doc = json.loads(_facts(root, slug).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the published record's facts: {exc}", path=str(root)
        ) from None
    if not record_tar(root, slug).is_file():
        return None
    return PublishedRecord(
        str(doc["name"]), int(doc["size"]), str(doc["sha256"]), int(doc["files"])
    )
