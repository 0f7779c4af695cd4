"""Dominion cast vote records: a folder of JSON manifests and ``CvrExport*.json`` files.

Following RCTab's ``DominionCvrReader`` (and the RCTab test data):

* ``ContestManifest.json`` must list ``contestId``; ``CandidateManifest.json`` lists the
  candidates (``Id``, ``Description``, ``ContestId``). ``PrecinctManifest.json`` is optional
  (older exports lack it); ``OutstackConditionManifest.json`` is optional.
* Records come from ``CvrExport.json`` or, when it is absent, from every ``CvrExport_N.json``
  in increasing ``N`` (numbers may have gaps, e.g. 1, 2, 3, 6).
* Each session uses ``Original`` when ``IsCurrent`` is true, else ``Modified`` (no
  ``Modified``: the session is skipped, as RCTab does). Every card's contest whose ``Id`` is
  ``contestId`` is one record, except a contest flagged with the ``InvalidContest`` outstack
  condition (Dominion's marker for a contest not on that ballot; RCTab's test
  ``2024_alaska_dominion`` shows those are not records).
* Marks with ``IsAmbiguous`` are ignored; ``CandidateId`` is the token (so config aliases hold
  Dominion ids), ``undeclaredWriteInLabel`` matching it means a write-in, and a candidate that
  the manifest does not place in this contest is refused. Marks sharing a rank form an
  overvote set.
* The ranking limit is the contest's ``NumOfRanks`` when the manifest gives one (RCTab lets a
  Dominion contest override ``maxRankingsAllowed``), else the config's.
* Record ids are ``TabulatorId-BatchId-RecordId``; the batch is ``BatchId``; the precinct is
  the ``PrecinctManifest`` description of ``PrecinctId`` (none when the session has none).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tallyroom.count.ballots import CastVoteRecords
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import CandidateConfig, CvrSource
from tallyroom.formats.rctab.cvr.provider import CvrProvider, SourceReading
from tallyroom.formats.rctab.cvr.records import RecordsBuilder, located
from tallyroom.formats.rctab.cvr.tokens import TokenError, TokenResolver

__all__ = ["PROVIDER", "cvr_files", "declared_candidates", "read"]

_INVALID_CONTEST = "InvalidContest"
_EXPORT_N = re.compile(r"CvrExport_(\d+)\.json")


def read(reading: SourceReading) -> CastVoteRecords:
    """Read the records of ``source.contest_id`` from one Dominion export folder."""
    source, folder = reading.source, reading.path
    contest_id = source.contest_id
    contests = {str(c.get("Id")): c for c in _manifest(folder, "ContestManifest.json")}
    contest = contests.get(contest_id)
    if contest is None:
        raise BallotFileError(
            "contestId is not in ContestManifest.json",
            path=str(folder / "ContestManifest.json"),
            field="contestId",
            value=contest_id,
        )
    in_contest = {
        str(c.get("Id"))
        for c in _manifest(folder, "CandidateManifest.json")
        if str(c.get("ContestId")) == contest_id
    }
    precincts: dict[str, str] | None = None
    if (folder / "PrecinctManifest.json").exists():
        precincts = {
            str(p.get("Id")): str(p.get("Description"))
            for p in _manifest(folder, "PrecinctManifest.json")
        }
    invalid: set[int] = set()
    if (folder / "OutstackConditionManifest.json").exists():
        invalid = {
            int(o["Id"])
            for o in _manifest(folder, "OutstackConditionManifest.json")
            if o.get("Description") == _INVALID_CONTEST and isinstance(o.get("Id"), int)
        }
    # the contest's own ranking limit overrides the config's (RCTab: isRankingAllowed)
    own_limit = contest.get("NumOfRanks")
    limit = own_limit if isinstance(own_limit, int) and own_limit >= 1 else None

    exports = cvr_files(folder)
    builder = reading.builder(path=exports[0], limit=limit)
    codes: dict[str, int] = {}
    for export in exports:
        _read_export(
            export,
            builder,
            reading.resolver,
            contest_id,
            in_contest,
            precincts,
            invalid,
            source.undeclared_write_in_label,
            codes,
        )
    return _with_source(builder.build(), folder)


def cvr_files(folder: Path) -> list[Path]:
    """``CvrExport.json``, or every ``CvrExport_N.json`` by increasing ``N``."""
    single = folder / "CvrExport.json"
    if single.exists():
        return [single]
    numbered: list[tuple[int, Path]] = []
    if folder.is_dir():
        for p in folder.iterdir():
            m = _EXPORT_N.fullmatch(p.name)
            if m:
                numbered.append((int(m.group(1)), p))
    if not numbered:
        raise BallotFileError(
            "neither CvrExport.json nor CvrExport_N.json files are in the folder",
            path=str(folder),
        )
    return [p for _, p in sorted(numbered)]


def declared_candidates(source: CvrSource) -> list[CandidateConfig]:
    """The manifest's candidates of the contest (file order), with their Dominion id as alias."""
    out: list[CandidateConfig] = []
    for c in _manifest(source.file_path, "CandidateManifest.json"):
        cid = str(c.get("Id"))
        if str(c.get("ContestId")) != source.contest_id or cid == source.undeclared_write_in_label:
            continue
        out.append(CandidateConfig(name=str(c.get("Description") or cid), aliases=(cid,)))
    return out


PROVIDER = CvrProvider(read_records=read, read_candidates=declared_candidates)


def _read_export(
    export: Path,
    builder: RecordsBuilder,
    resolver: TokenResolver,
    contest_id: str,
    in_contest: set[str],
    precincts: dict[str, str] | None,
    invalid: set[int],
    uwi_label: str,
    codes: dict[str, int],
) -> None:
    doc = _load(export)
    builder.path = export  # errors name the export file being read
    sessions = doc.get("Sessions") if isinstance(doc, dict) else None
    if not isinstance(sessions, list):
        raise BallotFileError("no Sessions list", path=str(export))
    for n, session in enumerate(sessions, start=1):
        ident = f"{session.get('TabulatorId')}-{session.get('BatchId')}-{session.get('RecordId')}"
        where = f"session #{n} ({ident})"
        data = session.get("Original") or {}
        if not data.get("IsCurrent", True):
            data = session.get("Modified")
            if data is None:
                continue
        precinct = None
        pid = data.get("PrecinctId")
        if pid is not None:
            if precincts is None or str(pid) not in precincts:
                raise BallotFileError(
                    "PrecinctId is not in PrecinctManifest.json",
                    path=str(export),
                    field=where,
                    value=pid,
                )
            precinct = precincts[str(pid)]
        cards = data.get("Cards") if "Cards" in data else [data]
        for card in cards or []:
            for contest in card.get("Contests") or []:
                if str(contest.get("Id")) != contest_id:
                    continue
                if invalid and invalid.intersection(contest.get("OutstackConditionIds") or []):
                    continue
                marks: list[tuple[int, int]] = []
                for mark in contest.get("Marks") or []:
                    if mark.get("IsAmbiguous"):
                        continue
                    cid = str(mark.get("CandidateId"))
                    rank = mark.get("Rank")
                    if not isinstance(rank, int) or isinstance(rank, bool):
                        raise BallotFileError(
                            "a mark whose Rank is not a whole number",
                            path=str(export),
                            field=where,
                            value=rank,
                        )
                    builder.check_rank(rank, field=f"{where}, CandidateId {cid}")
                    marks.append(
                        (rank, _code(cid, resolver, codes, in_contest, uwi_label, export, where))
                    )
                builder.add(
                    marks,
                    field=where,
                    precinct=precinct,
                    batch=str(session.get("BatchId")),
                    record_id=ident,
                )


def _code(
    cid: str,
    resolver: TokenResolver,
    codes: dict[str, int],
    in_contest: set[str],
    uwi_label: str,
    export: Path,
    where: str,
) -> int:
    code = codes.get(cid)
    if code is not None:
        return code
    try:
        if cid != uwi_label and cid not in in_contest:
            raise TokenError("CandidateId is not a candidate of this contest in the manifest", cid)
        code = resolver.token(cid)
    except TokenError as err:
        raise located(err, export, field=where) from None
    codes[cid] = code
    return code


def _manifest(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / name
    doc = _load(path)
    items = doc.get("List") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise BallotFileError("a manifest without a List", path=str(path))
    return [i for i in items if isinstance(i, dict)]


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise BallotFileError("file not found", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise BallotFileError(f"not readable JSON ({exc})", path=str(path)) from exc
    except RecursionError:
        raise BallotFileError("not readable JSON (nested too deeply)", path=str(path)) from None


def _with_source(records: CastVoteRecords, folder: Path) -> CastVoteRecords:
    records.sources = (str(folder),)
    return records
