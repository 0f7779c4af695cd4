"""Every RCTab conformance case read by the CVR readers and checked against RCTab's summary.

For each case whose config loads, ``read_contest`` must produce ``summary.totalNumBallots``
records, of which ``summary.undervotes`` rank nobody (all-SKIP rows), and a candidate table of
``summary.numCandidates`` (declared + "Undeclared Write-ins"). The must-fail cases must fail
with an error that names the file and the bad value.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cvr_testkit import CASES, case_config, expected_summary

from tallyroom.count.ballots import SKIP
from tallyroom.errors import BallotFileError, ConfigError, InputError
from tallyroom.formats.rctab.config import Provider
from tallyroom.formats.rctab.cvr import candidate_table, read_contest

FAILS_ON_CONFIG = {"invalid_params_test", "invalid_sources_test"}
FAILS_ON_READ = {"max_ranking_enforcement"}


def _cases() -> list[str]:
    if not CASES.is_dir():
        return []
    return sorted(p.name for p in CASES.iterdir() if p.is_dir() and list(p.glob("*_config.json")))


def _missing_cvr_files(case: str) -> str | None:
    """Why the case cannot be read here (its CVR files are not shipped), or None."""
    raw = json.loads(next((CASES / case).glob("*_config.json")).read_text())
    for src in raw.get("cvrFileSources", []):
        path = (CASES / case / str(src.get("filePath", ""))).resolve()
        if not src.get("filePath"):
            continue
        if not path.exists():
            return f"CVR file {src['filePath']} is not in the suite"
        if src.get("provider") == "dominion" and not list(path.glob("CvrExport*.json")):
            return f"Dominion folder {src['filePath']} has no CvrExport*.json"
    return None


@pytest.mark.skipif(not CASES.is_dir(), reason=f"conformance cases not found at {CASES}")
@pytest.mark.parametrize("case", _cases())
def test_case_reads_as_rctab_counts_it(case: str) -> None:
    if case in FAILS_ON_CONFIG:
        pytest.skip("must fail when the config is loaded: see test_invalid_configs_fail")
    missing = _missing_cvr_files(case)
    if missing:
        pytest.skip(f"{case}: {missing}")
    config = case_config(case)
    if case in FAILS_ON_READ:
        with pytest.raises(BallotFileError):
            read_contest(config, workers=1)
        return
    records = read_contest(config)
    summary = expected_summary(case)
    table = candidate_table(config)
    assert records.candidates == table
    assert records.ranks.dtype == np.int32
    assert records.ranks.shape[0] == len(records)
    if summary is None:  # conversion-only cases: just readable
        return
    undervotes = int((records.ranks == SKIP).all(axis=1).sum())
    assert len(records) == int(summary["totalNumBallots"])
    assert undervotes == summary["undervotes"]
    assert len(table) == summary["numCandidates"]


def test_max_ranking_enforcement_names_file_line_and_value() -> None:
    config = case_config("max_ranking_enforcement")
    with pytest.raises(BallotFileError) as info:
        read_contest(config, workers=1)
    err = info.value
    assert err.path is not None and err.path.endswith("max_ranking_enforcement_cvr.csv")
    assert err.line == 2  # the first record ranks Candidate D 4th; the limit is 3
    assert err.value == 4
    assert err.field is not None and "Candidate D" in err.field
    assert "maxRankingsAllowed" in str(err)


@pytest.mark.parametrize(
    ("case", "named"),
    [("invalid_sources_test", "nonexistent_path"), ("invalid_params_test", "winnerElectionMode")],
)
def test_invalid_configs_fail(case: str, named: str) -> None:
    with pytest.raises(ConfigError) as info:
        case_config(case)
    assert case in str(info.value)
    assert named in str(info.value)


def test_csv_missing_header_reads_like_generic_csv_test() -> None:
    """A blank header over the id column is fine; the case has an expected report."""
    a = read_contest(case_config("csv_missing_header_test"))
    b = read_contest(case_config("generic_csv_test"))
    assert len(a) == len(b) == 26
    assert np.array_equal(a.ranks, b.ranks)


def test_tabulate_by_precinct_without_precincts_reads_no_precinct() -> None:
    """Its Dominion export has no PrecinctManifest: the records carry no precinct, so the
    count (not the reader) must refuse per-precinct tabulation, as RCTab does."""
    config = case_config("tabulate_by_precinct_without_precincts")
    assert config.output.tabulate_by_precinct
    records = read_contest(config)
    assert len(records) == 1000
    assert records.precincts is None


def test_first_round_determines_threshold_counts_empty_rows() -> None:
    """LibreOffice wrote three empty <row> elements (18, 1048575, 1048576): RCTab counts each
    as a ballot with no rankings, and so must we."""
    records = read_contest(case_config("first_round_determines_threshold_test"))
    assert len(records) == 19
    assert (records.ranks[-3:] == SKIP).all()


def test_precincts_and_missing_precinct_label() -> None:
    records = read_contest(case_config("missing_precinct_example"))
    assert records.precincts is not None
    labels = [records.precinct_names[k] for k in records.precincts]
    assert labels == [
        "MINNEAPOLIS W-13 P-13",
        "MINNEAPOLIS W-3 P-02",
        "missing_precinct_id",
        "MINNEAPOLIS W-6 P-04",
    ]


def test_precincts_agree_with_rctab_cdf_dump() -> None:
    """RCTab's CDF dump of precinct_example names each CVR's precinct (BallotStyleUnitId)."""
    records = read_contest(case_config("precinct_example"))
    dump = json.loads(
        (CASES / "precinct_example" / "precinct_example_expected_cdf_cvr.json").read_text()
    )
    units = {u["@id"]: u["Name"] for u in dump["GpUnit"]}
    want = [units[c["BallotStyleUnitId"]] for c in dump["CVR"]]
    assert records.precincts is not None
    assert [records.precinct_names[k] for k in records.precincts] == want


def test_generic_csv_precinct_and_batch_labels() -> None:
    records = read_contest(case_config("generic_csv_test"))
    assert records.precincts is not None and records.batches is not None
    assert records.precinct_names == ("p1", "p2", "no precinct id")
    assert records.batch_names == ("b1", "b2", "no batch id")
    assert records.ids is not None and records.ids[0] == "R_3QEQ85E7gV2DuyG"


def test_ess_batch_column() -> None:
    records = read_contest(case_config("batch_example"))
    assert records.batches is not None and records.precincts is None
    assert "MINNEAPOLIS W-1 P-04" in records.batch_names


@pytest.mark.parametrize(
    "case",
    ["dominion_alaska", "hart_cedar_park_school_board", "unisyn_xml_cdf_city_coroner"],
)
def test_record_ids_and_sources(case: str) -> None:
    config = case_config(case)
    records = read_contest(config)
    assert records.ids is not None and len(records.ids) == len(records)
    assert all(records.ids)
    assert records.sources == (str(config.sources[0].file_path),)
    assert records.source_index is not None and not records.source_index.any()


def test_multi_source_contest_keeps_config_order() -> None:
    config = case_config("test_set_8_multi_cdf")
    records = read_contest(config)
    assert records.sources == tuple(str(s.file_path) for s in config.sources)
    assert records.source_index is not None
    assert records.source_index.tolist() == [0] * 12 + [1] * 12


def test_every_provider_is_exercised() -> None:
    providers = {
        s.provider
        for case in _cases()
        if case not in FAILS_ON_CONFIG
        if not _missing_cvr_files(case)
        for s in case_config(case).sources
    }
    assert providers == set(Provider)


def test_errors_are_input_errors() -> None:
    assert issubclass(BallotFileError, InputError)
    assert Path(CASES).is_dir()
