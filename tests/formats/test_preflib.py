"""PrefLib reading: the real Labour 2010 MPs' ballots, ties, the old format, and errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tallyroom.count.ballots import SKIP
from tallyroom.errors import BallotFileError
from tallyroom.formats.preflib import parse_preflib, read_preflib

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "official"
LABOUR_2010 = OFFICIAL / "preflib_00030-00000001_uklabour2010_mps.soi"
needs_official = pytest.mark.skipif(not LABOUR_2010.is_file(), reason="../shared missing")

# PrefLib abbreviates; the official results use full names.
FULL_NAMES = {
    "D.Abbott": "Diane Abbott",
    "E.Balls": "Ed Balls",
    "A.Burnhm": "Andy Burnham",
    "D.Milbnd": "David Miliband",
    "E.Milbnd": "Ed Miliband",
}


def first_preferences(
    rows: list[list[int]], weights: list[int], names: tuple[str, ...]
) -> dict[str, int]:
    out: Counter[str] = Counter()
    for row, weight in zip(rows, weights, strict=True):
        out[names[row[0]]] += weight
    return dict(out)


@needs_official
def test_labour_2010_mps_ballots_give_the_official_first_round() -> None:
    election = read_preflib(LABOUR_2010)
    assert election.title == "2010 UK Labor Leadership"
    assert election.data_type == "soi"
    assert election.ballots.total == 266
    assert len(election.ballots) == 76
    contests = json.loads((OFFICIAL / "official_results.json").read_text())
    labour = next(c for c in contests if c["id"] == "labour-leader-2010")
    official = labour["rounds"][0]["by_section"]["MPs and MEPs"]["votes"]
    names = tuple(FULL_NAMES[n] for n in election.candidates.names)
    got = first_preferences(
        election.ballots.rows.tolist(), election.ballots.weights.tolist(), names
    )
    assert got == official
    assert sum(official.values()) == labour["sections"][0]["valid_votes"]


@needs_official
def test_metadata_is_kept_in_order() -> None:
    election = read_preflib(LABOUR_2010)
    keys = [k for k, _ in election.metadata]
    assert keys[:3] == ["FILE NAME", "TITLE", "DESCRIPTION"]
    assert ("NUMBER VOTERS", "266") in election.metadata


HEADER = (
    "# DATA TYPE: {kind}\n# NUMBER ALTERNATIVES: 3\n"
    "# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Bob\n# ALTERNATIVE NAME 3: Cy\n"
)


def test_ties_become_overvote_sets_at_their_rank() -> None:
    election = parse_preflib(HEADER.format(kind="toi") + "3: 1,{2,3}\n2: {1,3}\n1: 2\n")
    sets = election.ballots.overvote_sets
    rows = election.ballots.rows.tolist()
    assert sets == ((1, 2), (0, 2))
    assert rows == [[0, -3], [-4, SKIP], [1, SKIP]]
    assert election.ballots.weights.tolist() == [3, 2, 1]


def test_identical_orders_are_grouped() -> None:
    election = parse_preflib(HEADER.format(kind="soi") + "3: 1,2\n2: 1, 2\n")
    assert election.ballots.rows.tolist() == [[0, 1]]
    assert election.ballots.weights.tolist() == [5]


def test_the_old_format_reads_the_same() -> None:
    old = "3\n1,Ann\n2,Bob\n3,Cy\n5,5,2\n3,1,2,3\n2,3,1,2\n"
    new = HEADER.format(kind="soc") + "3: 1,2,3\n2: 3,1,2\n"
    a, b = parse_preflib(old, data_type="soc"), parse_preflib(new)
    assert a.candidates == b.candidates
    assert a.ballots.rows.tolist() == b.ballots.rows.tolist()
    assert a.ballots.weights.tolist() == b.ballots.weights.tolist()


def test_suffix_gives_the_data_type(tmp_path: Path) -> None:
    path = tmp_path / "x.toc"
    path.write_text("3\n1,Ann\n2,Bob\n3,Cy\n1,1,1\n1,{1,2},3\n")
    assert read_preflib(path).data_type == "toc"


@pytest.mark.parametrize(
    ("body", "line", "field", "value", "words"),
    [
        ("3: 1,4\n", 6, "order", "4", "not an alternative"),
        ("3: 1,1\n", 6, "order", 1, "ranked twice"),
        ("x: 1\n", 6, "count", "x: 1", "expected 'count: order'"),
        ("3: 1,{2,3}\n", 6, "order", "2,3", "a tie in a strict-order"),
        ("3: 1,2\n# NUMBER VOTERS: 4\n", 7, "number voters", 4, "declared 4 but"),
    ],
)
def test_errors_name_file_line_field_and_value(
    tmp_path: Path, body: str, line: int, field: str, value: object, words: str
) -> None:
    path = tmp_path / "bad.soi"
    path.write_text(HEADER.format(kind="soi") + body)
    with pytest.raises(BallotFileError) as caught:
        read_preflib(path)
    err = caught.value
    assert (err.path, err.line, err.field, err.value) == (str(path), line, field, value)
    assert words in str(err)


def test_complete_orders_must_rank_everyone() -> None:
    with pytest.raises(BallotFileError, match="must rank all 3"):
        parse_preflib(HEADER.format(kind="soc") + "1: 1,2\n", path="c.soc")


def test_every_problem_is_counted() -> None:
    with pytest.raises(BallotFileError, match=r"\(and 1 more problem\)"):
        parse_preflib(HEADER.format(kind="soi") + "1: 9\n1: 1,1\n", path="m.soi")


def test_names_must_be_given_and_unique() -> None:
    missing = "# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: Ann\n1: 1\n"
    with pytest.raises(BallotFileError, match="without a name"):
        parse_preflib(missing)
    twice = "# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: Ann\n"
    with pytest.raises(BallotFileError, match="unique") as caught:
        parse_preflib(twice + "1: 1\n", path="t.soi")
    assert caught.value.line == 3
