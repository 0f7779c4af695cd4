"""NIST SP 1500-103 Common Data Format cast vote records, JSON (``.json``) or XML (``.xml``).

The XML may use any namespace or prefix (NIST's ``cdf:`` files, Unisyn's default namespace).
Following RCTab's ``CommonDataFormatReader``:

* The contest is the ``Election/Contest`` whose ``Name`` equals ``contestId`` (its ``@id`` /
  ``ObjectId`` is accepted too). Its ``ContestSelection``s map to the ``Name`` of their first
  ``CandidateIds`` entry, or to "Undeclared Write-ins" when ``IsWriteIn`` is true; that name is
  then read by :meth:`TokenResolver.token` (``overvoteLabel``, ``undeclaredWriteInLabel``,
  names and aliases).
* Each ``CVR`` is read from its current snapshot (``CurrentSnapshotId``). A CVR whose snapshot
  has no ``CVRContest`` for the contest is not a record of this contest and is skipped; one
  with the contest but no (counted) selections is an undervote.
* A ``CVRContestSelection`` whose ``Status`` is ``needs-adjudication`` is ignored. Its rank is
  its own ``Rank``, else that of each ``SelectionPosition``; a position with
  ``HasIndication`` or ``IsAllocable`` equal to ``no`` is ignored, and one with a
  ``CVRWriteIn`` is a write-in. Selections sharing a rank form an overvote set.
* Record ids: ``UniqueId`` (XML) / ``BallotPrePrintedId`` (JSON, falling back to
  ``UniqueId``). Precinct: the ``Name`` of the ``GpUnit`` named by ``BallotStyleUnitId`` (an
  unknown unit is an error in XML and ignored in JSON, as in RCTab).
* Duplicate ``Candidate``, ``ContestSelection`` or ``GpUnit`` ids are refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from tallyroom.count.ballots import CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import CandidateConfig, CvrSource
from tallyroom.formats.rctab.cvr.provider import CvrProvider, SourceReading
from tallyroom.formats.rctab.cvr.records import located
from tallyroom.formats.rctab.cvr.tokens import TokenError, TokenResolver

__all__ = ["PROVIDER", "declared_candidates", "read"]

_NEEDS_ADJUDICATION = "needs-adjudication"


@dataclass(frozen=True, slots=True)
class _Selection:
    """What one ContestSelection stands for: a candidate name, or a write-in."""

    name: str | None
    write_in: bool


@dataclass(frozen=True, slots=True)
class _Position:
    rank: object  # as written; parsed where the error can name the CVR
    indicated: bool
    allocable: bool
    write_in: bool


@dataclass(frozen=True, slots=True)
class _Mark:
    selection_id: str
    statuses: tuple[str, ...]
    rank: object  # on the CVRContestSelection itself (as written)
    positions: tuple[_Position, ...]


@dataclass(frozen=True, slots=True)
class _Cvr:
    number: int  # 1-based position in the file
    record_id: str | None
    unit_id: str | None
    marks: tuple[_Mark, ...] | None  # None: the CVR has no CVRContest for this contest


@dataclass(frozen=True, slots=True)
class _Report:
    contest_id: str
    selections: dict[str, _Selection]
    units: dict[str, str | None]
    cvrs: Iterator[_Cvr]
    strict_units: bool


def read(reading: SourceReading) -> CastVoteRecords:
    """Read the records of ``source.contest_id`` from one CDF file."""
    path, resolver = reading.path, reading.resolver
    report = _open(path, reading.source.contest_id)
    builder = reading.builder()
    codes: dict[str, int] = {}
    for cvr in report.cvrs:
        if cvr.marks is None:
            continue
        where = f"CVR #{cvr.number}" + (f" (id {cvr.record_id})" if cvr.record_id else "")
        marks: list[tuple[int, int]] = []
        for mark in cvr.marks:
            if _NEEDS_ADJUDICATION in mark.statuses:
                continue
            field = f"{where}, ContestSelection {mark.selection_id}"
            selection = report.selections.get(mark.selection_id)
            if selection is None:
                raise BallotFileError(
                    "ContestSelectionId is not a selection of the contest",
                    path=str(path),
                    line=None,
                    field=field,
                    value=mark.selection_id,
                )
            code = _selection_code(selection, mark.selection_id, resolver, codes, path, cvr, field)
            own_rank = _rank(mark.rank, path, cvr.number, field)
            if own_rank is not None:
                builder.check_rank(own_rank, line=None, field=field)
                marks.append((own_rank, code))
                continue
            for pos in mark.positions:
                if pos.write_in:
                    try:
                        code = resolver.write_in()
                    except TokenError as err:
                        raise located(err, path, line=None, field=field) from None
                if not pos.indicated or not pos.allocable:
                    continue
                rank = _rank(pos.rank, path, cvr.number, field)
                if rank is None:
                    raise BallotFileError(
                        "a SelectionPosition without a Rank",
                        path=str(path),
                        line=None,
                        field=field,
                    )
                builder.check_rank(rank, line=None, field=field)
                marks.append((rank, code))
        precinct = None
        if cvr.unit_id is not None:
            if cvr.unit_id in report.units:
                precinct = report.units[cvr.unit_id]
            elif report.strict_units:
                raise BallotFileError(
                    "BallotStyleUnitId names no GpUnit",
                    path=str(path),
                    line=None,
                    field=where,
                    value=cvr.unit_id,
                )
        builder.add(marks, line=None, field=where, precinct=precinct, record_id=cvr.record_id)
    return builder.build()


def declared_candidates(source: CvrSource) -> list[CandidateConfig]:
    """Candidate names of the contest's selections, in the file's order (write-ins left out)."""
    report = _open(source.file_path, source.contest_id)
    names = dict.fromkeys(
        s.name for s in report.selections.values() if not s.write_in and s.name is not None
    )
    return [CandidateConfig(name=n) for n in names]


PROVIDER = CvrProvider(read_records=read, read_candidates=declared_candidates)


def _selection_code(
    selection: _Selection,
    selection_id: str,
    resolver: TokenResolver,
    codes: dict[str, int],
    path: Path,
    cvr: _Cvr,
    field: str,
) -> int:
    code = codes.get(selection_id)
    if code is not None:
        return code
    try:
        if selection.write_in:
            code = resolver.write_in()
        elif selection.name is None:
            raise TokenError("the selection's candidate has no Name", selection_id)
        else:
            code = resolver.token(selection.name)
    except TokenError as err:
        raise located(err, path, line=None, field=field) from None
    codes[selection_id] = code
    return code


def _open(path: Path, contest: str) -> _Report:
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _open_json(path, contest)
        if suffix == ".xml":
            return _open_xml(path, contest)
    except (OSError, ValueError, etree.XMLSyntaxError) as exc:
        raise BallotFileError(f"cannot read the CDF file ({exc})", path=str(path)) from exc
    except RecursionError:
        raise BallotFileError(
            "cannot read the CDF file (nested too deeply)", path=str(path)
        ) from None
    raise BallotFileError("a CDF file must end in .json or .xml", path=str(path), value=path.name)


def _unique(path: Path, kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise BallotFileError(f"{kind} id appears more than once", path=str(path), value=i)
        seen.add(i)


def _contest_not_found(path: Path, contest: str) -> BallotFileError:
    return BallotFileError(
        "no Contest with this Name (or id) in the file",
        path=str(path),
        field="contestId",
        value=contest,
    )


# --- JSON -----------------------------------------------------------------------------------


def _open_json(path: Path, contest: str) -> _Report:
    with path.open("rb") as fh:
        doc = json.load(fh)
    if not isinstance(doc, dict):
        raise BallotFileError("a CDF JSON file must hold an object", path=str(path))
    elections = _list(doc.get("Election"))
    candidates: dict[str, str | None] = {}
    cand_ids: list[str] = []
    found: dict[str, Any] | None = None
    for election in elections:
        for cand in _list(election.get("Candidate")):
            cid = str(cand.get("@id", ""))
            cand_ids.append(cid)
            name = cand.get("Name")
            candidates[cid] = None if name is None else str(name)
    for election in elections:
        for c in _list(election.get("Contest")):
            if found is None and c.get("Name") == contest:
                found = c
    if found is None:
        for election in elections:
            for c in _list(election.get("Contest")):
                if found is None and c.get("@id") == contest:
                    found = c
    if found is None:
        raise _contest_not_found(path, contest)
    _unique(path, "Candidate", cand_ids)
    sel_ids: list[str] = []
    selections: dict[str, _Selection] = {}
    for sel in _list(found.get("ContestSelection")):
        sid = str(sel.get("@id", ""))
        sel_ids.append(sid)
        selections[sid] = _json_selection(sel, candidates, path)
    _unique(path, "ContestSelection", sel_ids)
    unit_ids = [str(u.get("@id", "")) for u in _list(doc.get("GpUnit"))]
    _unique(path, "GpUnit", unit_ids)
    units = {
        str(u.get("@id", "")): (None if u.get("Name") is None else str(u.get("Name")))
        for u in _list(doc.get("GpUnit"))
    }
    contest_oid = str(found.get("@id", ""))
    return _Report(
        contest_id=contest_oid,
        selections=selections,
        units=units,
        cvrs=_json_cvrs(doc, contest_oid, path),
        strict_units=False,
    )


def _json_selection(
    sel: dict[str, Any], candidates: dict[str, str | None], path: Path
) -> _Selection:
    if _yes(sel.get("IsWriteIn")):
        return _Selection(name=None, write_in=True)
    ids = _list(sel.get("CandidateIds"))
    if not ids:
        raise BallotFileError(
            "a ContestSelection without CandidateIds", path=str(path), value=sel.get("@id")
        )
    first = str(ids[0])
    if first not in candidates:
        raise BallotFileError(
            "CandidateIds names no Candidate",
            path=str(path),
            field=f"ContestSelection {sel.get('@id')}",
            value=first,
        )
    return _Selection(name=candidates[first], write_in=False)


def _json_cvrs(doc: dict[str, Any], contest_oid: str, path: Path) -> Iterator[_Cvr]:
    for number, cvr in enumerate(_list(doc.get("CVR")), start=1):
        snapshot = _current_snapshot(
            _list(cvr.get("CVRSnapshot")), cvr.get("CurrentSnapshotId"), "@id", path, number
        )
        marks: tuple[_Mark, ...] | None = None
        for cc in _list(snapshot.get("CVRContest")) if snapshot else []:
            if str(cc.get("ContestId")) == contest_oid:
                marks = tuple(_json_mark(s) for s in _list(cc.get("CVRContestSelection")))
                break
        record_id = cvr.get("BallotPrePrintedId", cvr.get("UniqueId"))
        unit = cvr.get("BallotStyleUnitId")
        yield _Cvr(
            number=number,
            record_id=None if record_id is None else str(record_id),
            unit_id=None if unit is None else str(unit),
            marks=marks,
        )


def _json_mark(sel: dict[str, Any]) -> _Mark:
    statuses = tuple(str(s) for s in _list(sel.get("Status")))
    positions = tuple(
        _Position(
            rank=p.get("Rank"),
            indicated=not _no(p.get("HasIndication")),
            allocable=not _no(p.get("IsAllocable")),
            write_in="CVRWriteIn" in p,
        )
        for p in _list(sel.get("SelectionPosition"))
    )
    return _Mark(
        selection_id=str(sel.get("ContestSelectionId", "")),
        statuses=statuses,
        rank=sel.get("Rank"),
        positions=positions,
    )


# --- XML ------------------------------------------------------------------------------------


def _open_xml(path: Path, contest: str) -> _Report:
    root = etree.parse(str(path), parser=etree.XMLParser(huge_tree=True)).getroot()
    candidates: dict[str, str | None] = {}
    cand_ids: list[str] = []
    contests: list[Any] = []
    for election in root.iterfind("{*}Election"):
        for cand in election.iterfind("{*}Candidate"):
            cid = cand.get("ObjectId", "")
            cand_ids.append(cid)
            candidates[cid] = cand.findtext("{*}Name")
        contests.extend(election.iterfind("{*}Contest"))
    found = next((c for c in contests if c.findtext("{*}Name") == contest), None)
    if found is None:
        found = next((c for c in contests if c.get("ObjectId") == contest), None)
    if found is None:
        raise _contest_not_found(path, contest)
    _unique(path, "Candidate", cand_ids)
    sel_ids: list[str] = []
    selections: dict[str, _Selection] = {}
    for sel in found.iterfind("{*}ContestSelection"):
        sid = sel.get("ObjectId", "")
        sel_ids.append(sid)
        if _yes(sel.findtext("{*}IsWriteIn")):
            selections[sid] = _Selection(name=None, write_in=True)
            continue
        first = sel.findtext("{*}CandidateIds")
        if first is None:
            raise BallotFileError(
                "a ContestSelection without CandidateIds", path=str(path), value=sid
            )
        if first not in candidates:
            raise BallotFileError(
                "CandidateIds names no Candidate",
                path=str(path),
                field=f"ContestSelection {sid}",
                value=first,
            )
        selections[sid] = _Selection(name=candidates[first], write_in=False)
    _unique(path, "ContestSelection", sel_ids)
    units_el = list(root.iterfind("{*}GpUnit"))
    _unique(path, "GpUnit", [u.get("ObjectId", "") for u in units_el])
    units = {u.get("ObjectId", ""): u.findtext("{*}Name") for u in units_el}
    oid = found.get("ObjectId", "")
    return _Report(
        contest_id=oid,
        selections=selections,
        units=units,
        cvrs=_xml_cvrs(root, oid, path),
        strict_units=True,
    )


def _xml_cvrs(root: Any, contest_oid: str, path: Path) -> Iterator[_Cvr]:
    for number, cvr in enumerate(root.iterfind("{*}CVR"), start=1):
        snapshot = _current_snapshot(
            list(cvr.iterfind("{*}CVRSnapshot")),
            cvr.findtext("{*}CurrentSnapshotId"),
            "ObjectId",
            path,
            number,
        )
        marks: tuple[_Mark, ...] | None = None
        if snapshot is not None:
            for cc in snapshot.iterfind("{*}CVRContest"):
                if cc.findtext("{*}ContestId") == contest_oid:
                    marks = tuple(_xml_mark(s) for s in cc.iterfind("{*}CVRContestSelection"))
                    break
        yield _Cvr(
            number=number,
            record_id=cvr.findtext("{*}UniqueId"),
            unit_id=cvr.findtext("{*}BallotStyleUnitId"),
            marks=marks,
        )


def _xml_mark(sel: Any) -> _Mark:
    positions = tuple(
        _Position(
            rank=p.findtext("{*}Rank"),
            indicated=not _no(p.findtext("{*}HasIndication")),
            allocable=not _no(p.findtext("{*}IsAllocable")),
            write_in=p.find("{*}CVRWriteIn") is not None,
        )
        for p in sel.iterfind("{*}SelectionPosition")
    )
    return _Mark(
        selection_id=sel.findtext("{*}ContestSelectionId") or "",
        statuses=tuple((s.text or "").strip() for s in sel.iterfind("{*}Status")),
        rank=sel.findtext("{*}Rank"),
        positions=positions,
    )


# --- shared helpers -------------------------------------------------------------------------


def _current_snapshot(
    snapshots: list[Any], current: object, id_key: str, path: Path, number: int
) -> Any:
    """The snapshot named by ``CurrentSnapshotId`` (the only one, when none is named)."""
    if current is None:
        if len(snapshots) == 1:
            return snapshots[0]
        if not snapshots:
            return None
        raise BallotFileError(
            "a CVR with several snapshots and no CurrentSnapshotId",
            path=str(path),
            field=f"CVR #{number}",
        )
    for snap in snapshots:
        if snap.get(id_key) == current:
            return snap
    raise BallotFileError(
        "CurrentSnapshotId names no CVRSnapshot of the CVR",
        path=str(path),
        field=f"CVR #{number}",
        value=current,
    )


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _rank(value: object, path: Path, line: int | None, field: str) -> int | None:
    """A Rank as written (JSON number or XML text); ``None`` when absent."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise BallotFileError(
            "a Rank that is not a whole number", path=str(path), line=line, field=field, value=value
        ) from None


def _yes(value: object) -> bool:
    return value is True or (
        isinstance(value, str) and value.strip().lower() in ("true", "1", "yes")
    )


def _no(value: object) -> bool:
    return value is False or (
        isinstance(value, str) and value.strip().lower() in ("no", "false", "0")
    )
