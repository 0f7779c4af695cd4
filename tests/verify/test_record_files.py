"""The record's file encodings: each reads back what was written, and refuses any other bytes
(a file has one byte string), naming the file and where."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.audit.board import BoardEntry, chain_board
from tallyroom.crypto.ballot_encoding import InvalidBallot, InvalidReason
from tallyroom.errors import InputError, RecordUnreadable
from tallyroom.verify.record_files import (
    BOARD,
    Manifest,
    ManifestFile,
    ballots_bytes,
    board_bytes,
    read_ballots,
    read_board,
)
from tallyroom.verify.record_format import DecodedBallot, PostedBallot

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
sections = st.one_of(st.none(), names)
ballots: st.SearchStrategy[DecodedBallot] = st.one_of(
    st.lists(st.integers(0, 60), max_size=8).map(tuple),
    st.builds(
        InvalidBallot,
        st.sampled_from(list(InvalidReason)),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")),
    ),
)


def _posted(entries: list[BoardEntry]) -> tuple[PostedBallot, ...]:
    links = list(chain_board(entries))
    return tuple(
        PostedBallot(k, e, e.receipt, link)
        for k, (e, link) in enumerate(zip(entries, links, strict=True), start=1)
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(names, sections, st.binary(max_size=300)), max_size=6))
def test_the_board_reads_back_as_written(items: list[tuple[str, str | None, bytes]]) -> None:
    posted = _posted([BoardEntry(c, s, b) for c, s, b in items])
    assert read_board(b"".join(board_bytes(posted))) == posted


@settings(max_examples=50, deadline=None)
@given(st.lists(ballots, max_size=10))
def test_decoded_ballots_read_back_as_written(decoded: list[DecodedBallot]) -> None:
    data = b"".join(ballots_bytes(decoded))
    assert read_ballots(data, "b.jsonl") == tuple(decoded)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'{"marks":[0]}', None),  # no newline at the end
        (b'{"marks": [0]}\n', "line 1"),  # not canonical
        (b'{"marks":[0]}\n{"marks":[-1]}\n', "line 2"),
        (b'{"invalid":"bogus","detail":""}\n', "line 1"),
        (b'{"marks":[0],"extra":1}\n', "line 1"),
    ],
)
def test_decoded_ballots_in_another_form_are_refused(data: bytes, where: str | None) -> None:
    with pytest.raises(RecordUnreadable) as caught:
        read_ballots(data, "mix/1/ballots.jsonl")
    assert caught.value.path == "mix/1/ballots.jsonl" and caught.value.field == where


def _board_file(*encoded: bytes) -> bytes:
    return b"TRBOARD1" + b"".join(len(e).to_bytes(4, "big") + e + bytes(32) for e in encoded)


def test_a_board_entry_keeps_its_weight_and_unit() -> None:
    entries = [
        BoardEntry("c", "s", b"x", weight="1.5"),
        BoardEntry("c", "s", b"y", unit="Ward 3"),
        BoardEntry("c", None, b"z", weight="2", unit="Ward 4"),
        BoardEntry("c", "s", b"plain"),
    ]
    read = read_board(b"".join(board_bytes(_posted(entries))))
    assert [p.entry for p in read] == entries


@pytest.mark.parametrize(
    "tail",
    [
        b"!",  # a byte after the ballot that is no field
        b"u" + (2).to_bytes(4, "big") + b"U1" + b"w" + (1).to_bytes(4, "big") + b"2",  # unit first
        b"w" + (1).to_bytes(4, "big") + b"2" + b"w" + (1).to_bytes(4, "big") + b"3",  # twice
        b"w" + (1).to_bytes(4, "big") + "é".encode(),  # a weight not ASCII
    ],
)
def test_a_board_entry_not_in_its_one_encoding_is_refused(tail: bytes) -> None:
    encoded = BoardEntry("c", "s", b"x").encode() + tail
    with pytest.raises(RecordUnreadable) as caught:
        read_board(_board_file(encoded))
    assert caught.value.path == BOARD and caught.value.field == "position 1 (byte 8)"


def test_a_truncated_board_is_refused() -> None:
    good = b"".join(board_bytes(_posted([BoardEntry("c", "s", b"ballot")])))
    with pytest.raises(RecordUnreadable) as caught:
        read_board(good[:-1])
    assert caught.value.path == BOARD and caught.value.field == "position 1 (byte 8)"


def test_the_writer_refuses_a_receipt_that_is_not_the_ballots() -> None:
    posted = _posted([BoardEntry("c", "s", b"ballot")])
    wrong = (dataclasses.replace(posted[0], receipt=bytes(32)),)
    with pytest.raises(InputError, match="receipt"):
        b"".join(board_bytes(wrong))


def test_the_manifest_has_one_encoding_and_safe_names() -> None:
    digest = hashlib.sha256(b"").hexdigest()
    manifest = Manifest(
        "e", (ManifestFile("a.json", digest, 0), ManifestFile("b/c.bin", digest, 0))
    )
    assert Manifest.from_json(manifest.to_json()) == manifest
    for name in ("../x", "/abs", "A.json", "a//b", "manifest.json", "a/b/c/d"):
        bad = Manifest("e", (ManifestFile(name, digest, 0),))
        with pytest.raises(RecordUnreadable, match="not a file name"):
            Manifest.from_json(bad.to_json())
    unsorted = Manifest("e", tuple(reversed(manifest.files)))
    with pytest.raises(RecordUnreadable, match="sorted"):
        Manifest.from_json(unsorted.to_json())
