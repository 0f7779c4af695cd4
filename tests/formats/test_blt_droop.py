"""Droop's BLT extensions: /* */ comments and ballot ids in place of weights, each read with a
note, refused under strict, and an unclosed comment refused always."""

from __future__ import annotations

import pytest

from tallyroom.errors import BallotFileError
from tallyroom.formats.blt import parse_blt


def rankings(data: bytes, **kw: bool) -> dict[tuple[int, ...], int]:
    election = parse_blt(data, path="x.blt", **kw)
    store = election.ballots
    return {
        tuple(int(c) for c in row if c >= 0): int(w)
        for row, w in zip(store.rows, store.weights, strict=True)
    }


COMMENTED = b"""3 1
/* a comment
   over two lines /* nested */ still inside */
2 1 2 0  /* after a ballot */
1 3 0
0
"Ann /* not a comment" # nor /* this
"Bob"
"Cy"
"Title"
"""


def test_block_comments_are_passed_over_with_a_note() -> None:
    assert rankings(COMMENTED) == {(0, 1): 2, (2,): 1}
    election = parse_blt(COMMENTED, path="x.blt")
    assert election.candidates.names == ("Ann /* not a comment", "Bob", "Cy")
    [note] = election.notes
    assert "/* */ comments" in note.what and note.first_line == 2 and note.lines == 2


def test_a_comment_keeps_later_line_numbers() -> None:
    data = COMMENTED.replace(b"1 3 0", b"1 9 0")
    with pytest.raises(BallotFileError) as err:
        parse_blt(data, path="x.blt")
    assert err.value.line == 5


def test_strict_refuses_a_block_comment_naming_its_line() -> None:
    with pytest.raises(BallotFileError, match="Droop's extension") as err:
        parse_blt(COMMENTED, path="x.blt", strict=True)
    assert err.value.line == 2 and err.value.field == "comment"


def test_an_unclosed_comment_is_refused() -> None:
    with pytest.raises(BallotFileError, match="never closed") as err:
        parse_blt(b'2 1\n1 1 0\n/* open\n0\n"A"\n"B"\n"T"\n', path="x.blt")
    assert err.value.line == 3


DROOP_IDS = b"""3 1
(v1) 2 1 0
(v2) 3 0
(v3) 2 1 0
0
"A"
"B"
"C"
"T"
"""


def test_droop_ids_stand_in_for_the_weight() -> None:
    assert rankings(DROOP_IDS) == {(1, 0): 2, (2,): 1}
    [note] = parse_blt(DROOP_IDS, path="x.blt").notes
    assert "in place of weights" in note.what and note.lines == 3 and note.first_line == 2


def test_strict_refuses_droop_ids_naming_line_and_id() -> None:
    with pytest.raises(BallotFileError, match="in place of the weight") as err:
        parse_blt(DROOP_IDS, path="x.blt", strict=True)
    assert err.value.line == 2 and err.value.value == "(v1)"


def test_openstv_ids_precede_a_weight_of_one() -> None:
    data = DROOP_IDS.replace(b"(v1) 2 1 0", b"(v1) 1 2 1 0").replace(b"(v2) 3 0", b"(v2) 1 3 0")
    data = data.replace(b"(v3) 2 1 0", b"(v3) 1 2 0")
    election = parse_blt(data, path="x.blt", strict=True)
    assert rankings(data) == {(1, 0): 1, (2,): 1, (1,): 1}
    assert election.notes == ()
