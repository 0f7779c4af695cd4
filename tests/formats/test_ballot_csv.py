"""Ballot CSV: reading, grouping, errors, and write -> read round trips."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.errors import BallotFileError, FormatError
from tallyroom.formats.ballot_csv import parse_ballot_csv, read_ballot_csv, write_ballot_csv
from tallyroom.formats.reading import CsvLayout

Item = int | frozenset[int] | None


def canonical(store: BallotStore) -> Counter[tuple[Item, ...]]:
    out: Counter[tuple[Item, ...]] = Counter()
    for row, weight in zip(store.rows.tolist(), store.weights.tolist(), strict=True):
        ranking: list[Item] = [
            None if c == SKIP else c if c >= 0 else frozenset(store.overvote_sets[-3 - c])
            for c in row
        ]
        while ranking and ranking[-1] is None:
            ranking.pop()
        out[tuple(ranking)] += weight
    return +out


def test_reads_names_ids_weights_and_groups_identical_rows(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(
        "ID,rank1,rank2,rank3,Weight\n"
        "b1,Anne,Bob,,1\n"
        "b2,Bob,,,3\n"
        "b3, Anne , Bob ,,2\n"
        "\n"
        "b4,,,,1\n"
        "b5,Cat,,Anne,1\n"
    )
    got = read_ballot_csv(path)
    assert got.candidates.names == ("Anne", "Bob", "Cat")
    assert got.ids == ("b1", "b2", "b3", "b4", "b5")
    assert got.rank_columns == ("rank1", "rank2", "rank3")
    assert canonical(got.ballots) == Counter({(0, 1): 3, (1,): 3, (): 1, (2, None, 0): 1})
    assert got.ballots.total == 8


def test_a_given_candidate_list_fixes_the_codes() -> None:
    got = parse_ballot_csv(io.StringIO("r1,r2\nBob,Anne\n"), candidates=["Anne", "Bob", "Cy"])
    assert got.candidates.names == ("Anne", "Bob", "Cy")
    assert got.ballots.rows.tolist() == [[1, 0]]


def test_overvotes_with_a_delimiter() -> None:
    got = parse_ballot_csv(io.StringIO("r1,r2\nAnne|Bob,Cy\nBob|Bob,Cy\n"), overvote_delimiter="|")
    assert got.ballots.overvote_sets == ((0, 1),)
    assert canonical(got.ballots) == Counter({(frozenset({0, 1}), 2): 1, (1, 2): 1})


@pytest.mark.parametrize(
    ("text", "line", "field", "value", "words"),
    [
        ("id,r1\na,X\na,Y\n", 3, "id", "a", "already used on line 2"),
        ("r1,weight\nX,1.5\n", 2, "weight", "1.5", "whole number"),
        ("r1,weight\nX,\n", 2, "weight", "", "whole number"),
        ("r1,r2\nX,Q\n", 2, "r2", "Q", "not one of the candidates"),
        ("r1\nX,Y\n", 2, None, ["X", "Y"], "2 cells but the header has 1"),
    ],
)
def test_errors_name_file_line_column_and_value(
    tmp_path: Path, text: str, line: int, field: str | None, value: object, words: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(BallotFileError) as caught:
        read_ballot_csv(path, candidates=["X", "Y"])
    err = caught.value
    assert (err.path, err.line, err.field, err.value) == (str(path), line, field, value)
    assert words in str(err)


def test_every_problem_is_counted_and_a_repeated_bad_row_once() -> None:
    text = "r1\nQ\nQ\nZ\n"
    expected = r"^p\.csv:2: r1: not one of the candidates \(and 1 more problem\) \('Q'\)$"
    with pytest.raises(BallotFileError, match=expected):
        parse_ballot_csv(io.StringIO(text), path="p.csv", candidates=["X"])


def test_empty_file_and_duplicate_headings() -> None:
    with pytest.raises(BallotFileError, match="empty"):
        parse_ballot_csv(io.StringIO(""), path="e.csv")
    with pytest.raises(BallotFileError, match="same heading"):
        parse_ballot_csv(io.StringIO("r1,Weight,weight\n"), path="h.csv")


def test_many_rows_stream_and_group(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    names = ["Ann", "Bob", "Cy", "Di"]
    rows = [",".join(rng.permutation(names)[: rng.integers(0, 4)]) for _ in range(20_000)]
    path = tmp_path / "many.csv"
    path.write_text("a,b,c\n" + "\n".join(r + "," * (2 - r.count(",")) for r in rows) + "\n")
    got = read_ballot_csv(path, candidates=names)
    assert got.ballots.total == 20_000
    assert len(got.ballots) <= 1 + 4 + 12 + 24
    expected: Counter[tuple[Item, ...]] = Counter(
        tuple(names.index(x) for x in r.split(",") if x) for r in rows
    )
    assert canonical(got.ballots) == expected


@st.composite
def stores(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable]:
    n = draw(st.integers(1, 6))
    sets: list[tuple[int, ...]] = []
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        row = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["cand", "cand", "skip", "set"]))
            if kind == "skip" or (kind == "set" and n < 2):
                row.append(SKIP)
            elif kind == "cand":
                row.append(draw(st.integers(0, n - 1)))
            else:
                members = tuple(sorted(draw(st.sets(st.integers(0, n - 1), min_size=2))))
                if members not in sets:
                    sets.append(members)
                row.append(overvote_set_code(sets.index(members)))
        rows.append(row)
    matrix = np.full((len(rows), 4), SKIP, dtype=np.int32)
    for i, r in enumerate(rows):
        matrix[i, : len(r)] = r
    weights = draw(st.lists(st.integers(1, 50), min_size=len(rows), max_size=len(rows)))
    names = draw(
        st.lists(
            st.text("abcXYZ ,\"'é", min_size=1, max_size=6).map(str.strip).filter(bool),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    store = BallotStore(
        rows=matrix, weights=np.array(weights, dtype=np.int64), overvote_sets=tuple(sets)
    )
    return store, CandidateTable(names=tuple(names))


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(stores(), st.booleans())
def test_write_then_read_gives_the_same_ballots(
    made: tuple[BallotStore, CandidateTable], weighted: bool
) -> None:
    store, table = made
    out = io.StringIO()
    write_ballot_csv(out, store, table, overvote_delimiter="|", weights=weighted)
    out.seek(0)
    if not any(w > 0 for w in store.weights.tolist()):  # a header alone is refused
        with pytest.raises(BallotFileError, match="a header but no ballots"):
            parse_ballot_csv(out, candidates=table.names, overvote_delimiter="|")
        return
    back = parse_ballot_csv(out, candidates=table.names, overvote_delimiter="|")
    assert canonical(back.ballots) == canonical(store)


def test_writer_refuses_what_it_cannot_say(tmp_path: Path) -> None:
    table = CandidateTable(names=("A", "B"))
    unknown = BallotStore(rows=np.array([[OVERVOTE]], dtype=np.int32), weights=np.array([1]))
    with pytest.raises(FormatError, match="candidates unknown"):
        write_ballot_csv(tmp_path / "x.csv", unknown, table)
    both = BallotStore(
        rows=np.array([[overvote_set_code(0)]], dtype=np.int32),
        weights=np.array([1]),
        overvote_sets=((0, 1),),
    )
    with pytest.raises(FormatError, match="overvote_delimiter"):
        write_ballot_csv(tmp_path / "y.csv", both, table)


# -- files that used to be misread --------------------------------------------------------------
def test_a_timestamp_column_is_not_a_preference() -> None:
    text = (
        "Timestamp,Email Address,Rank 1,Rank 2\n"
        "2024/05/01 10:02:11,ann@example.org,Anne,Bob\n"
        "2024/05/01 10:07:45,bob@example.org,Bob,\n"
    )
    got = parse_ballot_csv(io.StringIO(text), path="f.csv")
    assert got.candidates.names == ("Anne", "Bob")
    assert got.rank_columns == ("Rank 1", "Rank 2")
    assert "Timestamp, Email Address" in str(got.notes[0])


def test_timestamps_under_an_unknown_heading_are_an_error() -> None:
    text = "When,Rank 1\n2024-05-01 10:02,Anne\n"
    with pytest.raises(BallotFileError, match=r"f.csv:2: When: a date or time, not a candidate"):
        parse_ballot_csv(io.StringIO(text), path="f.csv")
    got = parse_ballot_csv(io.StringIO(text), path="f.csv", layout=CsvLayout(columns="Rank 1"))
    assert got.candidates.names == ("Anne",)


def test_a_csv_without_a_header_keeps_its_first_ballot() -> None:
    text = "Anne,Bob\nBob,Anne\nAnne,\n"
    got = parse_ballot_csv(io.StringIO(text), path="n.csv")
    assert got.ballots.total == 3
    assert canonical(got.ballots) == Counter({(0, 1): 1, (1, 0): 1, (0,): 1})
    told = parse_ballot_csv(io.StringIO(text), path="n.csv", layout=CsvLayout(header=False))
    assert told.ballots.total == 3


def test_when_it_cannot_tell_it_says_so_and_names_the_option() -> None:
    text = "Zed,Yan\nAnne,Bob\n"
    with pytest.raises(BallotFileError, match=r"n.csv:1: cannot tell .*--header or --no-header"):
        parse_ballot_csv(io.StringIO(text), path="n.csv")
    as_ballot = parse_ballot_csv(io.StringIO(text), path="n.csv", layout=CsvLayout(header=False))
    assert as_ballot.ballots.total == 2
    as_header = parse_ballot_csv(io.StringIO(text), path="n.csv", layout=CsvLayout(header=True))
    assert as_header.ballots.total == 1


def test_a_misspelt_name_is_an_error_or_with_new_names_a_warning() -> None:
    text = "rank1,rank2\nAlice,Bob\nAlice,Bob\nBob,Alice\nAlcie,Bob\n"
    with pytest.raises(
        BallotFileError, match=r"m.csv:5: rank1: looks like a misspelling of 'Alice'"
    ):
        parse_ballot_csv(io.StringIO(text), path="m.csv")
    got = parse_ballot_csv(io.StringIO(text), path="m.csv", layout=CsvLayout(new_names=True))
    assert got.candidates.names == ("Alice", "Bob", "Alcie")
    assert "'Alcie' (1)" in str(got.notes[0])


def test_a_name_not_among_the_given_candidates() -> None:
    text = "rank1,rank2\nAlice,Dave\nDave,\n"
    with pytest.raises(BallotFileError, match=r"c.csv:2: rank2: not one of the candidates"):
        parse_ballot_csv(io.StringIO(text), path="c.csv", candidates=["Alice", "Bob"])
    layout = CsvLayout(candidates=("Alice", "Bob"), new_names=True)
    got = parse_ballot_csv(io.StringIO(text), path="c.csv", layout=layout)
    assert got.candidates.names == ("Alice", "Bob", "Dave")
    assert "new names" in str(got.notes[0]) and "'Dave' (2)" in str(got.notes[0])


def test_google_forms_ranking_grid() -> None:
    text = (
        "Timestamp,Rank your choices [Alice],Rank your choices [Bob],Rank your choices [Carol]\n"
        "5/1/2024 10:02:11,1st choice,2nd choice,\n"
        "5/1/2024 10:03:40,2nd choice,,1st choice\n"
        "5/1/2024 10:04:02,1st choice,1st choice,3rd choice\n"
    )
    got = parse_ballot_csv(io.StringIO(text), path="g.csv")
    assert got.candidates.names == ("Alice", "Bob", "Carol")
    assert canonical(got.ballots) == Counter(
        {(0, 1): 1, (2, 0): 1, (frozenset({0, 1}), None, 2): 1}
    )


def test_microsoft_forms_grid_with_its_respondent_columns() -> None:
    text = (
        "ID,Start time,Completion time,Email,Name,Alice,Bob,Carol\n"
        "1,5/1/24 10:01:02,5/1/24 10:02:03,anonymous,,2,1,3\n"
        "2,5/1/24 10:05:00,5/1/24 10:06:00,anonymous,,1,,\n"
    )
    got = parse_ballot_csv(io.StringIO(text), path="ms.csv")
    assert got.candidates.names == ("Alice", "Bob", "Carol")
    assert canonical(got.ballots) == Counter({(1, 0, 2): 1, (0,): 1})
    assert got.ids == ("1", "2")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rank1,rank2\n", "h.csv:1: header: the file has a header but no ballots"),
        ("rank1\n" + "A" * 140_000 + "\n", "h.csv:2: a field longer than 131,072 characters"),
    ],
)
def test_hostile_csv_gives_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text)
    with pytest.raises(BallotFileError) as caught:
        read_ballot_csv(path)
    assert str(caught.value) == f"{tmp_path}/{expected}"


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"rank1\nRen\xe9e\n")
    with pytest.raises(BallotFileError, match=r"l.csv: not UTF-8 text: byte 0xe9"):
        read_ballot_csv(path)
