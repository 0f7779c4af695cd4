"""Provider behaviour beyond the conformance counts: refused input, candidates derived from the
files, parallel reading and progress. Bad files are real files, made from RCTab's own."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cvr_testkit import CASES, by_name, case_config, decoded, with_source, write_xlsx

from tallyroom.count.ballots import SKIP
from tallyroom.errors import BallotFileError
from tallyroom.formats.rctab.config import ContestConfig, Provider
from tallyroom.formats.rctab.cvr import candidate_table, read_contest, read_source
from tallyroom.formats.rctab.cvr.registry import PROVIDERS


def _read(config: ContestConfig) -> object:
    return read_source(config.sources[0], candidate_table(config), config)


# --- ES&S -------------------------------------------------------------------------------------


def _ess(
    tmp_path: Path, rows: dict[int, list[str | int | None]], **source: object
) -> ContestConfig:
    """conversions_from_ess' contest (Mookie Blaylock, Yinka Dare, George Gervin, Sedale
    Threatt; labels overvote/undervote; 3 ranks) over a workbook of ``rows``."""
    path = write_xlsx(tmp_path / "cvr.xlsx", {1: ["id", "r1", "r2", "r3"], **rows})
    return with_source(case_config("conversions_from_ess"), file_path=path, **source)


def test_ess_unknown_candidate_names_file_row_column_and_value(tmp_path: Path) -> None:
    config = _ess(tmp_path, {2: [1, "Yinka Dare"], 3: [2, "Mookie Blaylock", "Nobody"]})
    with pytest.raises(BallotFileError) as info:
        _read(config)
    err = info.value
    assert err.path == str(tmp_path / "cvr.xlsx")
    assert err.line == 3
    assert err.field == "column C (rank 2)"
    assert err.value == "Nobody"


def test_ess_columns_past_the_limit_are_ignored(tmp_path: Path) -> None:
    config = _ess(tmp_path, {2: [1, "Yinka Dare", "undervote", "overvote", "COUNT", "junk"]})
    records = read_contest(config)
    assert by_name(records) == [["Yinka Dare", -1, -2]]


def test_ess_missing_record_id_is_refused(tmp_path: Path) -> None:
    config = _ess(tmp_path, {2: [1, "Yinka Dare"], 3: [None, "Yinka Dare"]}, id_column_index=1)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert info.value.line == 3
    assert "identifier" in str(info.value)


def test_ess_ids_precincts_and_empty_rows(tmp_path: Path) -> None:
    config = _ess(
        tmp_path,
        {2: [7, "Yinka Dare"], 3: [8], 5: [9, "George Gervin", "Yinka Dare"]},
        id_column_index=1,
        precinct_column_index=1,
    )
    records = read_contest(config)
    assert records.ids == ("7", "8", "9")
    assert records.precinct_names == ("7", "8", "9")
    assert by_name(records) == [["Yinka Dare"], [], ["George Gervin", "Yinka Dare"]]


def test_ess_overvote_label_inside_a_delimited_cell_is_refused(tmp_path: Path) -> None:
    config = _ess(tmp_path, {2: [1, "Yinka Dare|overvote"]}, overvote_delimiter="|")
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert info.value.line == 2
    assert info.value.value == "Yinka Dare|overvote"


def test_ess_blank_as_write_in_fills_every_blank_rank_up_to_the_limit(tmp_path: Path) -> None:
    base = case_config("test_set_treat_blank_as_undeclared_write_in")  # A-D, UWI, 4 ranks
    path = write_xlsx(
        tmp_path / "b.xlsx", {1: ["#", "1", "2", "3", "4"], 2: [1, "A"], 3: [2, None, "B"], 4: [3]}
    )
    records = read_contest(with_source(base, file_path=path))
    assert records.max_rank == 4
    assert decoded(records) == [[0, 4, 4, 4], [4, 1, 4, 4], [4, 4, 4, 4]]


def test_ess_delimited_overvotes_keep_duplicates(tmp_path: Path) -> None:
    base = case_config("exhaust_if_multiple_continuing")  # delimiter "|"
    path = write_xlsx(tmp_path / "d.xlsx", {1: ["#", "1", "2"], 2: [1, "A|D", "C"], 3: [2, "A|A"]})
    records = read_contest(with_source(base, file_path=path))
    a, d, c = (records.candidates.code(n) for n in ("A", "D", "C"))
    assert decoded(records) == [[tuple(sorted((a, d))), c], [(a, a)]]


# --- generic CSV and Clear Ballot -------------------------------------------------------------


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.mark.parametrize(
    ("cell", "problem"), [("two", "whole number"), ("0", "start at 1"), ("5", "maxRankings")]
)
def test_generic_csv_bad_rank(tmp_path: Path, cell: str, problem: str) -> None:
    header = ["id", "Candidate A", "Candidate B", "Candidate C", "Candidate D"]
    path = _write_csv(tmp_path / "g.csv", [header, ["1", "1", "2", "", ""], ["2", "1", cell]])
    config = with_source(case_config("max_ranking_enforcement"), file_path=path)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 3, "column 3 (Candidate B)")
    assert problem in str(err)
    assert str(err.value) == cell or err.value == int(cell)


def test_generic_csv_unknown_candidate_header(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "g.csv", [["id", "Candidate A", "Candidate Z"], ["1", "1", "2"]])
    config = with_source(case_config("max_ranking_enforcement"), file_path=path)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert (info.value.line, info.value.value) == (1, "Candidate Z")


def test_generic_csv_shared_rank_is_an_overvote(tmp_path: Path) -> None:
    header = ["id", "Candidate A", "Candidate B", "Candidate C", "Candidate D"]
    path = _write_csv(tmp_path / "g.csv", [header, ["1", "1", "1", "2", ""], ["2", "", "", "", ""]])
    records = read_contest(with_source(case_config("max_ranking_enforcement"), file_path=path))
    a, b, c = (records.candidates.code(f"Candidate {x}") for x in "ABC")
    assert decoded(records) == [[tuple(sorted((a, b))), c], []]


def test_clear_ballot_rank_beyond_limit_is_refused_on_the_header(tmp_path: Path) -> None:
    source = CASES / "clear_ballot_kansas_primary" / "clear_ballot_kansas_primary.cvr.csv"
    rows = list(csv.reader(source.open(newline="")))
    rows[0][-1] = rows[0][-1].replace(":5:", ":6:")
    path = _write_csv(tmp_path / "cb.csv", rows[:1])
    config = with_source(case_config("clear_ballot_kansas_primary"), file_path=path)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert (info.value.line, info.value.value) == (1, 6)


# --- CDF --------------------------------------------------------------------------------------


def _cdf_copy(tmp_path: Path, case: str, edit: object) -> ContestConfig:
    config = case_config(case)
    doc = json.loads(config.sources[0].file_path.read_text())
    assert callable(edit)
    edit(doc)
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(doc))
    return with_source(config, file_path=path)


def test_cdf_unknown_candidate_name(tmp_path: Path) -> None:
    def rename(doc: dict[str, object]) -> None:
        doc["Election"][0]["Candidate"][1]["Name"] = "Nobody"  # type: ignore[index]

    config = _cdf_copy(tmp_path, "test_set_0_skipped_first_choice", rename)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert info.value.value == "Nobody"
    assert info.value.field is not None and info.value.field.startswith("CVR #")


def test_cdf_rank_beyond_limit(tmp_path: Path) -> None:
    def deepen(doc: dict[str, object]) -> None:
        cvr = doc["CVR"][0]  # type: ignore[index]
        sel = cvr["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"][0]
        sel["SelectionPosition"][0]["Rank"] = 9

    config = _cdf_copy(tmp_path, "test_set_0_skipped_first_choice", deepen)
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert info.value.value == 9
    assert "CVR #1" in str(info.value.field)


def test_cdf_unknown_contest(tmp_path: Path) -> None:
    config = with_source(case_config("nist_xml_cdf_2"), contest_id="For Dogcatcher")
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert (info.value.field, info.value.value) == ("contestId", "For Dogcatcher")


def test_cdf_xml_unknown_gp_unit(tmp_path: Path) -> None:
    config = case_config("unisyn_xml_cdf_city_coroner")
    text = (
        config.sources[0]
        .file_path.read_text()
        .replace(
            "<BallotStyleUnitId>PREC_01000</BallotStyleUnitId>",
            "<BallotStyleUnitId>NOWHERE</BallotStyleUnitId>",
            1,
        )
    )
    path = tmp_path / "u.xml"
    path.write_text(text)
    with pytest.raises(BallotFileError) as info:
        _read(with_source(config, file_path=path))
    assert info.value.value == "NOWHERE"


def test_unisyn_write_ins_and_precincts() -> None:
    records = read_contest(case_config("unisyn_xml_cdf_city_coroner"))
    uwi = records.candidates.undeclared_write_in
    assert uwi is not None and (records.ranks == uwi).any()
    assert records.precincts is not None and records.precinct_names


# --- Dominion and Hart ------------------------------------------------------------------------


def test_dominion_candidate_outside_the_contest(tmp_path: Path) -> None:
    config = case_config("dominion_alaska")
    folder = tmp_path / "export"
    shutil.copytree(config.sources[0].file_path, folder)
    export = folder / "CvrExport.json"
    doc = json.loads(export.read_text())
    doc["Sessions"][3]["Original"]["Cards"][0]["Contests"][0]["Marks"][0]["CandidateId"] = 999
    export.write_text(json.dumps(doc))
    with pytest.raises(BallotFileError) as info:
        _read(with_source(config, file_path=folder))
    err = info.value
    assert err.path == str(export)
    assert err.value == "999"
    assert err.field is not None and "session #4" in err.field


def test_dominion_unknown_contest() -> None:
    config = with_source(case_config("dominion_alaska"), contest_id="77")
    with pytest.raises(BallotFileError) as info:
        _read(config)
    assert (info.value.field, info.value.value) == ("contestId", "77")


def test_hart_unknown_option(tmp_path: Path) -> None:
    config = case_config("hart_cedar_park_school_board")
    folder = tmp_path / "hart"
    shutil.copytree(config.sources[0].file_path, folder)
    sheet = folder / "1_3f078997-6eee-48a0-8c32-71288748d187.xml"
    text = sheet.read_text(encoding="utf-8-sig")
    text = text.replace("24483a8b-b4c9-4f2f-8aa9-c1e867c9d88e", "not-a-candidate")
    sheet.write_text(text.replace("Steve Carlson", "Nobody"), encoding="utf-8-sig")
    with pytest.raises(BallotFileError) as info:
        _read(with_source(config, file_path=folder))
    assert info.value.path == str(sheet)
    assert info.value.value == "Nobody"


# --- candidates derived from the files --------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "test_set_0_skipped_first_choice",
        "unisyn_xml_cdf_city_coroner",
        "dominion_alaska",
        "hart_cedar_park_school_board",
        "clear_ballot_kansas_primary",
        "generic_csv_test",
        "conversions_from_ess",
    ],
)
def test_candidates_derived_from_the_source_when_the_config_has_none(case: str) -> None:
    config = case_config(case)
    bare = replace(config, candidates=())
    derived = candidate_table(bare)
    declared = candidate_table(config)
    assert set(derived.names) == set(declared.names)
    assert derived.undeclared_write_in == (
        None if declared.undeclared_write_in is None else len(derived) - 1
    )
    if case == "conversions_from_ess":  # first appearance in the file, not the config's order
        assert derived.names == ("Mookie Blaylock", "Yinka Dare", "George Gervin", "Sedale Threatt")
    assert by_name(read_contest(bare)) == by_name(read_contest(config))


# --- the table of providers -------------------------------------------------------------------


def test_every_provider_value_is_read_by_its_own_module() -> None:
    assert set(PROVIDERS) == set(Provider)
    for value, provider in PROVIDERS.items():
        module = provider.read_records.__module__
        assert module == provider.read_candidates.__module__
        assert module.rsplit(".", 1)[1] == value.name.lower(), value


# --- parallel reading and progress ------------------------------------------------------------


@pytest.mark.parametrize("case", ["test_set_8_multi_cdf", "aliases_cdf_json"])
def test_parallel_read_equals_serial(case: str) -> None:
    config = case_config(case)
    serial = read_contest(config, workers=1)
    parallel = read_contest(config, workers=2)
    assert np.array_equal(serial.ranks, parallel.ranks)
    assert serial.ids == parallel.ids
    assert serial.sources == parallel.sources
    assert serial.overvote_sets == parallel.overvote_sets


def test_errors_cross_the_process_boundary_intact() -> None:
    config = case_config("max_ranking_enforcement")
    doubled = replace(config, sources=config.sources * 2)
    with pytest.raises(BallotFileError) as info:
        read_contest(doubled, workers=2)
    err = info.value
    assert err.path is not None and err.path.endswith("max_ranking_enforcement_cvr.csv")
    assert (err.line, err.value) == (2, 4)


def test_a_worker_s_error_arrives_as_itself(tmp_path: Path) -> None:
    """Three ES&S workbooks read by two worker processes; the second has an unknown name."""
    good = {2: [1, "Yinka Dare"], 3: [2, "Mookie Blaylock", "George Gervin"]}
    bad = {2: [1, "Yinka Dare"], 3: [2, "Sedale Threatt"], 4: [3, "Mookie Blaylock", "Nobody"]}
    config = _ess(tmp_path, good)
    paths = [tmp_path / "cvr.xlsx", write_xlsx(tmp_path / "bad.xlsx", {1: ["id"], **bad})]
    paths.append(write_xlsx(tmp_path / "more.xlsx", {1: ["id"], **good}))
    sources = tuple(replace(config.sources[0], file_path=p) for p in paths)
    contest = replace(config, sources=sources)
    with pytest.raises(BallotFileError) as info:
        read_contest(contest, workers=2)
    err = info.value
    assert type(err) is BallotFileError
    assert (err.path, err.line, err.field, err.value) == (
        str(tmp_path / "bad.xlsx"),
        4,
        "column C (rank 2)",
        "Nobody",
    )
    # raised in a worker: the pool chains the worker's own traceback, which shows the reader
    remote = err.__cause__
    assert type(remote).__name__ == "_RemoteTraceback"
    assert "ess.py" in str(remote)
    # and the same error, field for field, when read in this process
    with pytest.raises(BallotFileError) as serial:
        read_contest(contest, workers=1)
    assert str(serial.value) == str(err)
    assert serial.value.__cause__ is None


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reports_records_read(workers: int) -> None:
    config = case_config("test_set_8_multi_cdf")
    seen: list[int] = []
    records = read_contest(config, workers=workers, progress=seen.append)
    assert seen and seen[-1] == len(records) == 24
    assert seen == sorted(seen)


def test_no_rankings_is_an_all_skip_row() -> None:
    records = read_contest(case_config("dominion_multi_file"))
    empty = (records.ranks == SKIP).all(axis=1)
    assert int(empty.sum()) == 8
    assert {s.provider for s in case_config("dominion_multi_file").sources} == {Provider.DOMINION}


@pytest.mark.parametrize("case", ["generic_csv_test", "clear_ballot_kansas_primary"])
def test_a_csv_source_that_is_not_utf8_is_one_error_naming_it(case: str, tmp_path: Path) -> None:
    """Reading the records and reading the candidate list both refuse a CSV that cannot be
    decoded, with the file's path, never a traceback (the shared header reader)."""
    config = case_config(case)
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(config.sources[0].file_path.read_bytes().replace(b",", b"\xe9,", 3) + b"\xff")
    broken = with_source(config, file_path=bad)
    with pytest.raises(BallotFileError, match="cannot read the CSV") as err:
        read_source(broken.sources[0], candidate_table(config), broken)
    assert err.value.path == str(bad)
    nameless = replace(broken, candidates=())
    with pytest.raises(BallotFileError, match="cannot read the CSV") as err:
        candidate_table(nameless)
    assert err.value.path == str(bad)
