"""BLT reading and writing: real files, dialects, errors, and write -> read round trips."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.errors import BallotFileError, FormatError
from tallyroom.formats.blt import parse_blt, read_blt, write_blt

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
needs_conformance = pytest.mark.skipif(not CONFORMANCE.is_dir(), reason="../shared missing")

Item = int | frozenset[int] | None  # a candidate, equal preferences, or a skipped rank


# -- a slow, obviously-right reader to check the fast one against -------------------------------
def reference_ballots(
    data: bytes, n: int, nicks: dict[str, int] | None = None
) -> Counter[tuple[Item, ...]]:
    """Ballot lines (after the header) read one at a time, as ranking -> total weight."""
    lines = data.decode("utf-8").splitlines()
    body = [ln.split("#")[0].strip() for ln in lines[1:]]
    out: Counter[tuple[Item, ...]] = Counter()
    for text in body:
        if not text or text.startswith("-") or text.startswith("["):
            continue
        if text.startswith("("):
            text = text[text.index(")") + 1 :].strip()
        tokens = text.split()
        if tokens == ["0"]:
            break
        assert tokens[-1] == "0"
        ranking: list[Item] = []
        names = nicks or {}
        for tok in tokens[1:-1]:
            if tok == "-":
                ranking.append(None)
                continue
            parts = [names[p] if p in names else int(p) - 1 for p in tok.split("=")]
            ranking.append(parts[0] if len(set(parts)) == 1 else frozenset(parts))
        while ranking and ranking[-1] is None:
            ranking.pop()
        out[tuple(ranking)] += int(tokens[0])
    return +out


def canonical(store: BallotStore) -> Counter[tuple[Item, ...]]:
    """A store as ranking -> total weight, rankings in a form independent of codes."""
    out: Counter[tuple[Item, ...]] = Counter()
    for row, weight in zip(store.rows.tolist(), store.weights.tolist(), strict=True):
        ranking: list[Item] = []
        for code in row:
            if code == SKIP:
                ranking.append(None)
            elif code >= 0:
                ranking.append(code)
            else:
                ranking.append(frozenset(store.overvote_sets[-3 - code]))
        while ranking and ranking[-1] is None:
            ranking.pop()
        out[tuple(ranking)] += weight
    return +out


def blt(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# -- real files ----------------------------------------------------------------------------------
SCOTTISH = sorted(CONFORMANCE.glob("scotland/*/*/ballots.blt"))


@needs_conformance
@pytest.mark.parametrize("path", SCOTTISH, ids=lambda p: p.parent.name)
def test_scottish_council_files_match_the_published_counts(path: Path) -> None:
    expected = json.loads((path.parent / "expected.json").read_text())
    election = read_blt(path)
    assert list(election.candidates.names) == expected["candidates"]
    assert election.seats == expected["seats"]
    valid = {expected["valid_ballots"]}
    valid |= {
        e["consistent_value"]
        for e in expected.get("known_source_errors", [])
        if e["field"] == "valid_ballots"
    }
    assert election.ballots.total in valid
    firsts: Counter[str] = Counter()
    rows, weights = election.ballots.rows.tolist(), election.ballots.weights.tolist()
    for row, weight in zip(rows, weights, strict=True):
        if row[0] >= 0:
            firsts[election.candidates.names[row[0]]] += weight
    typos = {
        e["candidate"]
        for e in expected.get("known_source_errors", [])
        if e.get("stage") == 1 and "candidate" in e
    }
    published = expected["stages"][0]["tally"]
    for name, value in published.items():
        if name not in typos:
            assert Decimal(value) == firsts[name], name


@needs_conformance
def test_glasgow_dialect_gives_affiliations_and_keeps_crlf_names_clean() -> None:
    election = read_blt(CONFORMANCE / "scotland/glasgow-2022/glasgow-city-2022-ward1/ballots.blt")
    assert election.candidates.names[0] == "Euan BLOCKLEY"
    assert election.affiliations[0] == "Scottish Conservative and Unionist"
    assert election.affiliations[6] == ""
    assert election.title == "Ward 1 Linn"


MEEK = sorted(CONFORMANCE.glob("meek/ballots/**/*.blt"))


@needs_conformance
@pytest.mark.parametrize("path", MEEK, ids=lambda p: p.stem)
def test_droop_files_with_nicknames_and_equal_preferences(path: Path) -> None:
    data = path.read_bytes()
    election = parse_blt(data, path=str(path))
    header = data.split(b"\n", 2)[1].decode()
    nick_words = header.strip("[]").split()[1:] if header.startswith("[nick") else []
    nicks = {w: i for i, w in enumerate(nick_words)}
    assert canonical(election.ballots) == reference_ballots(data, len(election.candidates), nicks)


@needs_conformance
def test_droop_withdrawn_option_excludes_candidates() -> None:
    election = read_blt(CONFORMANCE / "meek/ballots/vegetables.blt")
    assert election.candidates.excluded == frozenset({1, 5})  # banana, fig
    assert election.title == "Vegetable contest"
    assert election.ballots.total == 45


def test_big_weights_are_exact() -> None:
    election = parse_blt(blt("2 1", "18446744074 1 0", "1 2 0", "0", '"A"', '"B"', '"T"'))
    assert election.ballots.total == 18446744075


def test_total_weight_beyond_63_bits_is_refused() -> None:
    heavy = ["999999999999999999 1 0"] * 10
    with pytest.raises(BallotFileError, match="63 bits"):
        parse_blt(blt("2 1", *heavy, "0", '"A"', '"B"', '"T"'), path="big.blt")
    with pytest.raises(BallotFileError, match="number too large") as caught:
        parse_blt(blt("2 1", "9223372036854775807 1 0", "0", '"A"', '"B"', '"T"'), path="b.blt")
    assert (caught.value.line, caught.value.field) == (2, "weight")


# -- dialects ------------------------------------------------------------------------------------
def test_every_dialect_feature_in_one_file() -> None:
    data = (
        "\ufeff3 2  # three candidates, two seats\r\n"
        "-2\r\n"
        "\r\n"
        "(b1) 2 1 2 0\r\n"
        "(b2)  1 3 - 1 0   # a skipped rank\r\n"
        "1 1=2 3 0\r\n"
        "# a comment line\r\n"
        "3 1 2 0  \r\n"
        "0\r\n"
        '"Anne" "Red"\r\n'
        "Bob SMITH (Ind)\r\n"
        '"Cat # not a comment"\r\n'
        '"The title"\r\n'
    ).encode()
    election = parse_blt(data, path="d.blt")
    assert election.candidates.names == ("Anne", "Bob SMITH (Ind)", "Cat # not a comment")
    assert election.candidates.excluded == frozenset({1})
    assert election.affiliations == ("Red", "", "")
    assert election.title == "The title"
    assert canonical(election.ballots) == Counter(
        {(0, 1): 5, (2, None, 0): 1, (frozenset({0, 1}), 2): 1}
    )


def test_equal_preferences_keep_the_file_order() -> None:
    # Meek's equalized fixed-point count multiplies keep factors in this order
    election = parse_blt(
        blt("3 1", "1 3=1=2 0", "1 2=1 0", "1 1=2 0", "2 2=2=1 3 0", "0", "A", "B", "C", "T")
    )
    store = election.ballots
    assert store.overvote_sets == ((2, 0, 1), (1, 0), (0, 1))  # 2=2=1 is 2=1 again
    first = [overvote_set_code(k) for k in (0, 1, 2, 1)]
    assert store.rows[:, 0].tolist() == first
    assert store.weights.tolist() == [1, 1, 1, 2]


def test_plain_files_with_crlf_or_trailing_blanks_read_the_same() -> None:
    plain = blt("3 1", "1 1 2 0", "2 3 0", "1 2 1 3 0", "0", '"A"', '"B"', '"C"', '"T"')
    expected = canonical(parse_blt(plain).ballots)
    assert canonical(parse_blt(plain.replace(b"\n", b"\r\n")).ballots) == expected
    assert canonical(parse_blt(plain.replace(b" 0\n", b" 0 \t\n")).ballots) == expected
    assert canonical(parse_blt(plain.replace(b" ", b"  ")).ballots) == expected


def test_an_indented_closing_zero_ends_the_ballots() -> None:
    election = parse_blt(blt("2 1", "1 1 0", "   0", '"A"', '"B"', '"T"'))
    assert election.ballots.total == 1
    assert election.title == "T"


def test_no_ballots_and_blank_ballots() -> None:
    empty = parse_blt(blt("2 1", "0", '"A"', '"B"', '"T"'))
    assert empty.ballots.total == 0
    blank = parse_blt(blt("2 1", "4 0", "0", '"A"', '"B"', '"T"'))
    assert blank.ballots.total == 4
    assert blank.ballots.rows.tolist() == [[SKIP]]


def test_large_plain_file_matches_the_reference_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(60_000):  # several 64 KiB chunks
        ranking = rng.permutation(12)[: rng.integers(0, 6)] + 1
        lines.append(f"{rng.integers(0, 4)} " + " ".join(map(str, ranking)) + " 0")
    names = [f'"C{k}"' for k in range(12)]
    data = blt("12 2", *lines, "0", *names, '"T"')
    path = tmp_path / "big.blt"
    path.write_bytes(data)
    election = read_blt(path)
    assert canonical(election.ballots) == reference_ballots(data, 12)
    assert election.ballots.total == sum(int(x.split()[0]) for x in lines)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_formatting_variants_read_like_the_reference(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 14))
    ballots = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, 10**12),
                st.lists(st.integers(1, n), max_size=6),
            ),
            max_size=40,
        )
    )
    sep = data.draw(st.sampled_from([" ", "  ", "\t", " \t "]))
    end = data.draw(st.sampled_from(["\n", "\r\n", " \n"]))
    text = "".join(
        f"{w}{sep}" + sep.join(map(str, r)) + (sep if r else "") + "0" + end for w, r in ballots
    )
    names = "".join(f'"C{k}"{end}' for k in range(n))
    raw = f'{n} 1{end}{text}0{end}{names}"T"{end}'.encode()
    assert canonical(parse_blt(raw).ballots) == reference_ballots(raw, n)


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "line", "field", "value", "words"),
    [
        (["1 1 4 0"], 2, "preference 2", "4", "no candidate numbered 4"),
        (["1 1 2"], 2, "ballot", "1 1 2", "must end with 0"),
        (["1 1 0 2 0"], 2, "ballot", "2 0", "after the closing 0"),
        (["1 1 x 0"], 2, "preference 2", "x", "not a candidate number or nickname"),
        (["1.5 1 0"], 2, "weight", "1.5", "whole number"),
        (["2 1 0", "(b7 1 2 0"], 3, "id", "(b7 1 2 0", "no closing"),
    ],
)
def test_bad_ballot_lines_name_file_line_field_and_value(
    tmp_path: Path, lines: list[str], line: int, field: str, value: str, words: str
) -> None:
    path = tmp_path / "bad.blt"
    path.write_bytes(blt("3 1", *lines, "0", '"A"', '"B"', '"C"', '"T"'))
    with pytest.raises(BallotFileError) as caught:
        read_blt(path, strict=True)
    err = caught.value
    assert (err.path, err.line, err.field, err.value) == (str(path), line, field, value)
    assert words in str(err)
    assert str(err).startswith(f"{path}:{line}: {field}: ")


def test_all_bad_lines_are_listed_when_skipped() -> None:
    data = blt("3 1", "2 1 2 0", "1 4 0", "1 2", "2 1 2 0", "0", '"A"', '"B"', '"C"', '"T"')
    with pytest.raises(BallotFileError, match=r"\(and 1 more problem\)"):
        parse_blt(data, path="x.blt", strict=True)
    election = parse_blt(data, path="x.blt", strict=True, skip_bad_lines=True)
    assert [e.line for e in election.errors] == [3, 4]
    assert canonical(election.ballots) == Counter({(0, 1): 4})


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (blt("3", "0"), 1, "number of candidates and of seats"),
        (blt("3 1", "1 1 0"), 2, "no line holding just 0"),
        (blt("3 1", "-4", "0", '"A"', '"B"', '"C"'), 2, "withdrawn"),
        (blt("2 1", "1 1 0", "0", '"A"'), 5, "names 1 of its 2 candidates"),
        (blt("2 1", "1 1 0", "0", '"A"', '"A"', '"T"'), 5, "must be unique"),
        (blt("2 1", "1 1 0", "0", '"A"', '"B"', '"T"', '"U"'), 7, "after the title"),
        (blt("2 1", "[nick a]", "0", '"A"', '"B"'), 2, "[nick] must give 2"),
        (blt("2 1", "[colour red]", "0", '"A"', '"B"'), 2, "unknown option"),
    ],
)
def test_structural_errors(data: bytes, line: int, words: str) -> None:
    with pytest.raises(BallotFileError) as caught:
        parse_blt(data, path="s.blt", strict=True)
    assert caught.value.line == line
    assert words in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(BallotFileError, match="cannot read"):
        read_blt(tmp_path / "missing.blt")


# -- writing -------------------------------------------------------------------------------------
@st.composite
def stores(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable]:
    n = draw(st.integers(1, 9))
    sets: list[tuple[int, ...]] = []
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = []
        for _ in range(draw(st.integers(0, 5))):
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
    width = max((len(r) for r in rows), default=1) or 1
    matrix = np.full((len(rows), width), SKIP, dtype=np.int32)
    for i, r in enumerate(rows):
        matrix[i, : len(r)] = r
    weights = np.array(
        draw(st.lists(st.integers(1, 10**9), min_size=len(rows), max_size=len(rows))),
        dtype=np.int64,
    )
    names = tuple(
        draw(
            st.lists(
                st.text("abcdefgh XYZ-'é", min_size=1, max_size=8).map(str.strip).filter(bool),
                min_size=n,
                max_size=n,
                unique=True,
            )
        )
    )
    excluded = frozenset(draw(st.sets(st.integers(0, n - 1), max_size=2)))
    store = BallotStore(rows=matrix, weights=weights, overvote_sets=tuple(sets))
    return store, CandidateTable(names=names, excluded=excluded)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(stores(), st.integers(1, 5), st.text("ab cd", max_size=10))
def test_write_then_read_gives_the_same_election(
    tmp_path_factory: pytest.TempPathFactory,
    made: tuple[BallotStore, CandidateTable],
    seats: int,
    title: str,
) -> None:
    store, table = made
    path = tmp_path_factory.mktemp("rt") / "rt.blt"
    write_blt(path, store, table, seats, title.strip())
    back = read_blt(path)
    assert back.candidates == table
    assert back.seats == seats
    assert back.title == title.strip()
    assert canonical(back.ballots) == canonical(store)


def test_writer_refuses_what_blt_cannot_say() -> None:
    table = CandidateTable(names=("A", "B"))
    store = BallotStore(rows=np.array([[0, OVERVOTE]], dtype=np.int32), weights=np.array([1]))
    with pytest.raises(FormatError, match="unknown candidates"):
        write_blt(io.StringIO(), store, table, 1, "T")
    broken = CandidateTable(names=("A\nthe ace", "B"))
    with pytest.raises(FormatError, match="line break"):
        write_blt(io.StringIO(), BallotStore.from_rankings([[0]]), broken, 1, "T")
    # BLT has no escape for a double quote: it is written as two apostrophes, and reads back so
    quoted = CandidateTable(names=('A "the ace"', "B"))
    out = io.StringIO()
    write_blt(out, BallotStore.from_rankings([[0]]), quoted, 1, 'The "T"')
    assert out.getvalue().endswith("\"A ''the ace''\"\n\"B\"\n\"The ''T''\"\n")
    back = parse_blt(out.getvalue().encode(), path="q.blt")
    assert back.candidates.names == ("A ''the ace''", "B")


def test_same_result_under_any_hash_seed(tmp_path: Path) -> None:
    """Grouping, overvote-set numbering and the written file do not depend on hashing."""
    source = tmp_path / "d.blt"
    source.write_bytes(
        blt(
            "4 2",
            "[nick a b c d]",
            "2 a=b c 0",
            "1 d - a 0",
            "3 c=d=a b 0",
            "1 b=a c 0",
            "0",
            '"A"',
            '"B"',
            '"C"',
            '"D"',
            '"T"',
        )
    )
    script = (
        "import sys, io; from tallyroom.formats.blt import read_blt, write_blt;"
        "e = read_blt(sys.argv[1]); out = io.StringIO();"
        "write_blt(out, e.ballots, e.candidates, e.seats, e.title); print(out.getvalue())"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", script, str(source)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1


# -- tolerances of real files (each noted; strict refuses them) ---------------------------------
def test_eve_csm_ballots_without_the_closing_zero(tmp_path: Path) -> None:
    # shaped like EVE Online's published CSM ballots: no closing 0 on any ballot line
    path = tmp_path / "csm.blt"
    path.write_bytes(
        blt(
            "5 2",
            "1 3 1 5",
            "1 2",
            "1 3 1 5 2 4",
            "1 4 2",
            "0",
            *[f'"Pilot {c}"' for c in "ABCDE"],
            '"CSM X"',
        )
    )
    election = read_blt(path)
    assert canonical(election.ballots) == Counter(
        {(2, 0, 4): 1, (1,): 1, (2, 0, 4, 1, 3): 1, (3, 1): 1}
    )
    (note,) = election.notes
    assert (note.lines, note.first_line) == (4, 2)
    assert "without the closing 0" in str(note) and str(path) in str(note)
    with pytest.raises(BallotFileError, match=r"csm.blt:2: ballot: a ballot line must end with 0"):
        read_blt(path, strict=True)


def test_stack_exchange_ballots_padded_with_zeros() -> None:
    # shaped like a Stack Exchange election download: unused ranking slots written as 0
    data = blt(
        "4 2",
        "1 1 2 0 0",
        "1 3 0 0 0",
        "1 4 1 2 3 0",
        "1 0 0 0 0",
        "0",
        '"alice"',
        '"bob"',
        '"carol"',
        '"dave"',
        '"Moderator Election 2024"',
    )
    election = parse_blt(data, path="se.blt")
    assert canonical(election.ballots) == Counter({(0, 1): 1, (2,): 1, (3, 0, 1, 2): 1, (): 1})
    (note,) = election.notes
    assert (note.lines, note.first_line) == (3, 2) and "zeros after" in note.what
    with pytest.raises(BallotFileError, match="text after the closing 0"):
        parse_blt(data, path="se.blt", strict=True)


def test_a_candidate_after_a_zero_is_never_mended() -> None:
    data = blt("3 1", "1 1 0 2 0", "0", '"A"', '"B"', '"C"', '"T"')
    with pytest.raises(BallotFileError, match=r"s.blt:2: ballot: text after the closing 0"):
        parse_blt(data, path="s.blt")


def test_mended_lines_keep_file_order_with_plain_ones_and_dialect() -> None:
    data = blt("3 1", "2 2 0", "(b1) 1 3=1 2", "1 1", "2 2 0", "0", '"A"', '"B"', '"C"', '"T"')
    election = parse_blt(data, path="m.blt")
    assert canonical(election.ballots) == Counter({(1,): 4, (frozenset({0, 2}), 1): 1, (0,): 1})
    assert election.notes[0].lines == 2 and election.notes[0].first_line == 3


def test_no_title_line_is_noted() -> None:
    election = parse_blt(blt("2 1", "1 1 0", "0", '"A"', '"B"'), path="t.blt")
    assert election.title == ""
    assert [n.what for n in election.notes] == ["no title line; the title is empty"]


def test_droop_source_comment_and_trailer_after_the_title() -> None:
    # Droop reads a source and a comment string after the title and ignores unquoted text
    data = blt(
        "2 1",
        "1 1 0",
        "0",
        '"A"',
        '"B"',
        '"Club AGM"',
        '"minutes, p. 3"',
        '"recounted"',
        "generated by votes-export 1.2",
    )
    election = parse_blt(data, path="d.blt")
    assert election.title == "Club AGM"
    (note,) = election.notes
    assert (note.lines, note.first_line) == (3, 7) and "after the title" in note.what
    with pytest.raises(BallotFileError, match=r"d.blt:7: title: unexpected text after the title"):
        parse_blt(data, path="d.blt", strict=True)


# -- no input gives a traceback: one line naming file, line and value ---------------------------
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"3 1\n", "h.blt:1: the file ends before its ballots"),
        (b"99999999999999999999999 1\n1 1 0\n0\n", "h.blt:1: header: number too large"),
        (b"2 99999999999999999999999\n1 1 0\n0\n", "h.blt:1: header: number too large"),
        (
            b'2 1\n1 1 99999999999999999999999999 0\n0\n"A"\n"B"\n',
            "h.blt:2: ballot: number too large",
        ),
        (
            b'2 1\n1 1 0\n0\n"' + b"N" * 140_000 + b'"\n"B"\n',
            "h.blt:4: name: a line longer than 131,072 characters",
        ),
    ],
)
def test_hostile_files_give_one_line(data: bytes, expected: str) -> None:
    with pytest.raises(BallotFileError) as caught:
        parse_blt(data, path="h.blt")
    message = str(caught.value)
    assert message.startswith(expected) and "\n" not in message and len(message) < 300


def test_a_windows_1252_name_is_read() -> None:
    election = parse_blt(b'2 1\n1 1 0\n0\n"Ren\xe9e"\n"B"\n"T"\n', path="w.blt")
    assert election.candidates.names == ("Renée", "B")
