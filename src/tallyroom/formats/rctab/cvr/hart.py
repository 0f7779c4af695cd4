"""Hart cast vote records: a folder with one XML file per ballot sheet.

Following RCTab's ``HartCvrReader``:

* Every ``*.xml`` file of the folder except ``*.sig.xml`` signatures is read, in file-name
  order (RCTab takes the directory listing order, which the platform leaves unspecified).
* Each ``Contests/Contest`` whose ``Id`` is ``contestId`` is one record (a sheet without the
  contest yields none; one with the contest and no option is an undervote).
* Each ``Option`` is a token by its ``Id`` -- so config aliases hold Hart ids -- or, when the
  id is not known, by its ``Name``; an id equal to ``undeclaredWriteInLabel`` is a write-in.
  The same id with two different names in the folder is refused, as in RCTab.
* ``Value`` is a string of digits read left to right, one per rank: ``"0100"`` ranks the option
  second, ``"0101"`` second and fourth. Options sharing a rank form an overvote set.
* Record id: ``CvrGuid``; batch: ``BatchNumber``; precinct: ``PrecinctSplit/Name``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from tallyroom.count.ballots import CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import CandidateConfig, CvrSource
from tallyroom.formats.rctab.cvr.provider import CvrProvider, SourceReading
from tallyroom.formats.rctab.cvr.records import located
from tallyroom.formats.rctab.cvr.tokens import TokenError, TokenResolver

__all__ = ["PROVIDER", "cvr_files", "declared_candidates", "read"]


def read(reading: SourceReading) -> CastVoteRecords:
    """Read the records of ``source.contest_id`` from a folder of Hart CVR files."""
    source, folder, resolver = reading.source, reading.path, reading.resolver
    builder = reading.builder()
    names_of: dict[str, tuple[str | None, Path]] = {}
    for path in cvr_files(folder):
        root = _parse(path)
        builder.path = path  # errors name the sheet file being read
        for contest in _contests(root, source.contest_id):
            marks: list[tuple[int, int]] = []
            for option in contest.iterfind("{*}Options/{*}Option"):
                oid = (option.findtext("{*}Id") or "").strip()
                name = option.findtext("{*}Name")
                field = f"Option {oid or name!r}"
                _same_name(oid, name, path, names_of, field)
                try:
                    code = _token(oid, name, resolver, source)
                except TokenError as err:
                    raise located(err, path, field=field) from None
                value = (option.findtext("{*}Value") or "").strip()
                for rank, digit in enumerate(value, start=1):
                    if digit == "1":
                        builder.check_rank(rank, field=f"{field} Value {value}")
                        marks.append((rank, code))
            builder.add(
                marks,
                field=path.name,
                precinct=root.findtext("{*}PrecinctSplit/{*}Name"),
                batch=root.findtext("{*}BatchNumber"),
                record_id=root.findtext("{*}CvrGuid"),
            )
    builder.path = folder
    return builder.build()


def cvr_files(folder: Path) -> list[Path]:
    """The folder's ``*.xml`` files, signatures (``*.sig.xml``) excluded, by name."""
    if not folder.is_dir():
        raise BallotFileError("a Hart source must be a folder", path=str(folder))
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.name.lower().endswith("xml")
        and not p.name.lower().endswith(".sig.xml")
    )
    if not files:
        raise BallotFileError("no XML files in the folder", path=str(folder))
    return files


def declared_candidates(source: CvrSource) -> list[CandidateConfig]:
    """The contest's options in order of appearance: name, with the Hart id as alias."""
    out: dict[str, CandidateConfig] = {}
    for path in cvr_files(source.file_path):
        for contest in _contests(_parse(path), source.contest_id):
            for option in contest.iterfind("{*}Options/{*}Option"):
                oid = (option.findtext("{*}Id") or "").strip()
                if not oid or oid == source.undeclared_write_in_label:
                    continue
                name = option.findtext("{*}Name") or oid
                if name not in out:
                    out[name] = CandidateConfig(name=name, aliases=(oid,) if oid != name else ())
    return list(out.values())


PROVIDER = CvrProvider(read_records=read, read_candidates=declared_candidates)


def _token(oid: str, name: str | None, resolver: TokenResolver, source: CvrSource) -> int:
    if oid and oid == source.undeclared_write_in_label:
        return resolver.write_in()
    try:
        return resolver.token(oid)
    except TokenError:
        if name:
            return resolver.token(name.strip())
        raise


def _same_name(
    oid: str,
    name: str | None,
    path: Path,
    names_of: dict[str, tuple[str | None, Path]],
    field: str,
) -> None:
    if not oid:
        return
    known = names_of.setdefault(oid, (name, path))
    if known[0] != name and known[0] is not None and name is not None:
        raise BallotFileError(
            f"option id has the name {known[0]!r} in {known[1].name} and another here",
            path=str(path),
            field=field,
            value=name,
        )


def _contests(root: Any, contest_id: str) -> list[Any]:
    return [
        c
        for c in root.iterfind("{*}Contests/{*}Contest")
        if (c.findtext("{*}Id") or "").strip() == contest_id
    ]


def _parse(path: Path) -> Any:
    try:
        return etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise BallotFileError(f"not readable XML ({exc})", path=str(path)) from exc
