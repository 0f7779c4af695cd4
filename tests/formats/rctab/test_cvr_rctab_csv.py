"""Record-by-record comparison with the CVR tables RCTab itself wrote for four cases.

RCTab's "rctab_cvr" CSV has one line per CVR, in reading order, with a ``Rank k`` column per
rank up to ``maxRankingsAllowed``: a candidate (name, or the raw write-in label), ``undervote``
for a skipped rank, ``overvote`` for an overvote label, and the overvoted candidates joined by
newlines. Every cell must match what we read.
"""

from __future__ import annotations

import csv

import pytest
from cvr_testkit import CASES, case_config

from tallyroom.count.ballots import OVERVOTE, OVERVOTE_SET_BASE, SKIP
from tallyroom.formats.rctab.cvr import declared_candidates, read_contest

TABLES = [
    ("2024_alaska_dominion", "2024_alaska_dominion_expected_rctab_cvr.csv"),
    ("conversions_from_dominion", "conversions_from_dominion_expected.csv"),
    ("conversions_from_cdf", "conversions_from_cdf_expected.csv"),
    ("conversions_from_ess", "conversions_from_ess_expected.csv"),
]


@pytest.mark.parametrize(("case", "table_file"), TABLES)
def test_records_match_rctab_cvr_table(case: str, table_file: str) -> None:
    config = case_config(case)
    records = read_contest(config)
    table = records.candidates
    code = {name: i for i, name in enumerate(table.names)}
    for cand in declared_candidates(config):
        for alias in cand.aliases:
            code[alias] = code[cand.name]
    for source in config.sources:
        if source.undeclared_write_in_label:
            assert table.undeclared_write_in is not None
            code[source.undeclared_write_in_label] = table.undeclared_write_in

    with (CASES / case / table_file).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(records)
    rank_columns = [k for k in rows[0] if k.startswith("Rank ")]
    compared = 0
    for i, row in enumerate(rows):
        for r, column in enumerate(rank_columns):
            cell = row[column]
            want: object
            if cell == "undervote":
                want = SKIP
            elif cell == "overvote":
                want = OVERVOTE
            elif "\n" in cell:
                want = tuple(sorted(code[x] for x in cell.split("\n")))
            else:
                want = code[cell]
            got: object = int(records.ranks[i, r]) if r < records.max_rank else SKIP
            if isinstance(got, int) and got <= OVERVOTE_SET_BASE:
                got = records.overvote_sets[OVERVOTE_SET_BASE - got]
            assert got == want, f"{case} record {i + 1} ({row.get('Record Id')}) {column}"
            compared += 1
    assert compared == len(rows) * len(rank_columns)


def test_dominion_ids_are_tabulator_batch_record() -> None:
    records = read_contest(case_config("conversions_from_dominion"))
    with (CASES / "conversions_from_dominion" / "conversions_from_dominion_expected.csv").open(
        newline=""
    ) as fh:
        want = [row["RCTab CVR Id"] for row in csv.DictReader(fh)]
    assert records.ids == tuple(want)


def test_dominion_skips_contests_flagged_invalid() -> None:
    """2024 Alaska: 197 sessions carry contest 7, but 73 flag it InvalidContest; RCTab's table
    has 124 records, none from tabulator 92302 (whose sessions all carry the flag)."""
    records = read_contest(case_config("2024_alaska_dominion"))
    assert len(records) == 124
    assert records.ids is not None
    assert not any(i.startswith("92302-") for i in records.ids)
