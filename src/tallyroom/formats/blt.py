"""BLT ballot files (OpenSTV, ERS, Droop) read into a grouped ballot store, and written back.

The layout, one item a line::

    4 2                  number of candidates, number of seats
    -2 -4                optional: withdrawn candidates, as negative numbers
    [nick a b c d]       optional Droop options: [nick ...] [withdrawn ...] [tie ...]
    3 1 2 0              a ballot: weight, candidates best first (1-based), closing 0
    1 2=3 - 4 0          equal preferences ``2=3``; a skipped rank ``-``
    (b17) 1 4 0          a ballot id in parentheses before the weight
    0                    end of the ballots
    "Anne Smith"         one line per candidate: quoted, or unquoted (kept verbatim);
    "Bob Jones" "Party"  a second quoted string is the affiliation (Glasgow's dialect)
    "Title"              the election's title

Comments run from ``#`` to the end of a line (not inside a quoted name); blank lines are
ignored; CRLF line ends and a UTF-8 byte order mark are accepted. Equal preferences become an
overvote set at that rank (see :mod:`tallyroom.count.ballots`); ballot ids are checked for
form and dropped, since the store groups identical ballots.

Speed: a million-line file of plain numeric ballots is parsed without a Python loop over its
lines. The ballot section is tokenised with numpy in cache-sized chunks, each ballot packed
into one integer key, and the keys grouped with ``bincount``. Files using the dialect features
(ids, ``=``, ``-``, nicknames, comments) go through ``Counter`` over the raw lines, so each
distinct line is parsed once; the plain distinct lines still take the vectorised path.

Problems in ballot lines are collected, each naming file, line, field and value; with
``strict=True`` (the default) the first is raised, saying how many others there are, and
with ``strict=False`` the bad lines are left out and listed in :attr:`BltElection.errors`.
"""

from __future__ import annotations

import codecs
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import (
    OVERVOTE_SET_BASE,
    SKIP,
    BallotStore,
    CandidateTable,
    Codes,
    overvote_set_code,
)
from tallyroom.errors import BallotFileError, FormatError

__all__ = [
    "BltElection",
    "first_problem",
    "merge_weighted_rows",
    "parse_blt",
    "read_blt",
    "write_blt",
]

Weights = npt.NDArray[np.int64]
_Numbers = npt.NDArray[np.signedinteger[Any]]  # token values: int32, or int64 for long ones

_PLAIN_BYTES = b"0123456789 \t\r\n"
_CHUNK_BYTES = 1 << 16  # 64 KiB: numpy temporaries stay in cache
_MAX_DIGITS = 18  # every 18-digit number fits an int64
_LOOKAHEAD = 3  # bytes the scan may read past a token: two digits and a separator
_INT64_LIMIT = 2**63
_BINCOUNT_KEYS = 1 << 22  # largest key space grouped with bincount (32 MiB of counters)
_ID_PREFIX = re.compile(rb"(?m)^[ \t]*\([^)\n]*\)")
_LONE_ZERO = re.compile(rb"(?m)^[ \t]*0+[ \t]*(?:#[^\n]*)?\r?$")


@dataclass(frozen=True, slots=True)
class BltElection:
    """What a BLT file holds.

    ``tie_order`` is Droop's ``[tie ...]`` option: candidate codes in tie-break order, best
    first (``None`` when absent). ``affiliations`` has one entry per candidate (``""`` when
    the file gives none). ``errors`` lists the ballot lines left out (``strict=False`` only).
    """

    title: str
    seats: int
    candidates: CandidateTable
    ballots: BallotStore
    affiliations: tuple[str, ...] = ()
    tie_order: tuple[int, ...] | None = None
    errors: tuple[BallotFileError, ...] = ()


# -- reading -----------------------------------------------------------------------------------
def read_blt(path: str | os.PathLike[str], *, strict: bool = True) -> BltElection:
    """Read a BLT file (see the module docstring for the dialects accepted)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BallotFileError(f"cannot read the file: {exc.strerror}", path=str(path)) from exc
    return parse_blt(data, path=str(path), strict=strict)


def parse_blt(data: bytes, *, path: str | None = None, strict: bool = True) -> BltElection:
    """Parse the bytes of a BLT file; ``path`` only names the file in error messages."""
    return _BltReader(data, path).read(strict)


class _Problem(Exception):
    """A problem with one line, before its line number is known."""

    def __init__(self, problem: str, field: str | None = None, value: object = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.field = field
        self.value = value


@dataclass(slots=True)
class _Line:
    number: int  # 1-based
    start: int  # byte offset of the line
    end: int  # byte offset of its newline (or the end of the data)
    text: bytes  # without comment and surrounding whitespace


class _BltReader:
    """One parse of one file (mutable working state; the result is a frozen BltElection)."""

    def __init__(self, data: bytes, path: str | None) -> None:
        self.data = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        self.path = path
        self.n = 0
        self.seats = 0
        self.withdrawn: set[int] = set()
        self.nicks: dict[str, int] = {}
        self.tie_order: tuple[int, ...] | None = None
        self.sets: dict[tuple[int, ...], int] = {}
        self.errors: list[BallotFileError] = []

    def error(
        self, problem: str, line: int | None, field: str | None = None, value: object = None
    ) -> BallotFileError:
        return BallotFileError(problem, path=self.path, line=line, field=field, value=value)

    # -- the three sections --------------------------------------------------------------------
    def read(self, strict: bool) -> BltElection:
        lines = self._lines(0, 1)
        ballot_line = self._header(lines)
        if ballot_line is None:
            raise self.error("the file ends before its ballots", None)
        start, first_number = ballot_line.start, ballot_line.number
        end = self._end_of_ballots(start)
        if end is None:
            raise self.error("no line holding just 0 ends the ballots", first_number)
        while True:
            parsed = self._ballots(start, end, first_number)
            if parsed.early_end is None:
                break
            end = parsed.early_end  # a " 0" line the fast search skipped ends the ballots
            self.errors.clear()
            self.sets.clear()
        names, affiliations, title, where = self._names(end)
        try:
            table = CandidateTable(names=tuple(names), excluded=frozenset(self.withdrawn))
        except ValueError:
            again = next(i for i, name in enumerate(names) if name in names[:i])
            line = self._line_at(where[again])
            raise self.error("candidate names must be unique", line, "name", names[again]) from None
        if strict and self.errors:
            raise first_problem(self.errors)
        return BltElection(
            title=title,
            seats=self.seats,
            candidates=table,
            ballots=parsed.store,
            affiliations=tuple(affiliations),
            tie_order=self.tie_order,
            errors=tuple(self.errors),
        )

    def _lines(self, pos: int, number: int) -> Iterator[_Line]:
        data = self.data
        while pos < len(data):
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            yield _Line(number, pos, end, _content(data[pos:end]))
            pos = end + 1
            number += 1

    def _header(self, lines: Iterator[_Line]) -> _Line | None:
        """Read up to the first ballot line, which is returned."""
        header_seen = False
        for line in lines:
            text = line.text
            if not text:
                continue
            if not header_seen:
                self._counts(line)
                header_seen = True
            elif text.startswith(b"["):
                self._option(line)
            elif text.startswith(b"-"):
                for tok in text.split():
                    number = _int(tok[1:]) if tok.startswith(b"-") else None
                    if number is None or not 1 <= number <= self.n:
                        raise self.error(
                            "a withdrawn candidate must be written -k, k a candidate number",
                            line.number,
                            "withdrawn",
                            tok.decode("latin-1"),
                        )
                    self.withdrawn.add(number - 1)
            else:
                return line
        return None

    def _counts(self, line: _Line) -> None:
        parts = line.text.split()
        values = [_int(p) for p in parts]
        if len(values) != 2 or values[0] is None or values[1] is None:
            raise self.error(
                "the first line must hold the number of candidates and of seats",
                line.number,
                "header",
                line.text.decode("latin-1"),
            )
        self.n, self.seats = values[0], values[1]
        if self.n < 1:
            raise self.error(
                "there must be at least one candidate", line.number, "candidates", self.n
            )
        if self.seats < 1:
            raise self.error("there must be at least one seat", line.number, "seats", self.seats)

    def _option(self, line: _Line) -> None:
        text = _decode(line.text)
        if not text.endswith("]"):
            raise self.error("an option must end with ']'", line.number, "option", text)
        words = text[1:-1].split()
        if not words:
            raise self.error("empty option", line.number, "option", text)
        kind, args = words[0], words[1:]
        if kind == "nick":
            if len(args) != self.n or len(set(args)) != len(args):
                raise self.error(
                    f"[nick] must give {self.n} distinct nicknames", line.number, "nick", text
                )
            self.nicks = {nick: code for code, nick in enumerate(args)}
        elif kind in ("withdrawn", "tie"):
            try:
                codes = [self._candidate(a) for a in args]
            except _Problem as p:
                raise self.error(p.problem, line.number, kind, p.value) from None
            if kind == "withdrawn":
                self.withdrawn.update(codes)
            else:
                self.tie_order = tuple(codes)
        else:
            raise self.error("unknown option", line.number, "option", kind)

    def _end_of_ballots(self, pos: int) -> int | None:
        """Offset of the last line after ``pos`` that holds just ``0``.

        Searching from the end passes over the ballots in a few steps; should an earlier line
        hold just 0, reading the ballots finds it and the section is cut there.
        """
        data = self.data
        at = len(data)
        while True:
            found = data.rfind(b"\n0", pos - 1, at)
            if found < 0:
                indented = _LONE_ZERO.search(data, pos)  # " 0", say
                return indented.start() if indented else None
            at = found + 1
            stop = data.find(b"\n", at)
            if not _content(data[at + 1 : stop if stop >= 0 else len(data)]):
                return at

    def _line_at(self, offset: int) -> int:
        return self.data.count(b"\n", 0, offset) + 1

    def _names(self, end: int) -> tuple[list[str], list[str], str, list[int]]:
        """Names, affiliations, the title, and where each name's line starts."""
        lines = self._lines(end, 0)
        next(lines, None)  # the closing 0
        names: list[str] = []
        affiliations: list[str] = []
        where: list[int] = []
        title: str | None = None
        for line in lines:
            raw = self.data[line.start : line.end].strip()
            if not raw or raw.startswith(b"#"):
                continue
            if title is not None:
                raise self.error(
                    "unexpected text after the title",
                    self._line_at(line.start),
                    "title",
                    _decode(raw),
                )
            try:
                name, affiliation = _name_line(raw)
            except _Problem as p:
                raise self.error(p.problem, self._line_at(line.start), p.field, p.value) from None
            if len(names) < self.n:
                names.append(name)
                affiliations.append(affiliation)
                where.append(line.start)
            else:
                title = name
        if len(names) < self.n:
            raise self.error(
                f"the file names {len(names)} of its {self.n} candidates",
                self._line_at(len(self.data)),
                "name",
            )
        return names, affiliations, title or "", where

    # -- ballots -------------------------------------------------------------------------------
    def _ballots(self, start: int, end: int, first_line: int) -> _Parsed:
        data = self.data
        if end + _LOOKAHEAD > len(data):  # the scan reads a few bytes past its end
            data += b"\n" * _LOOKAHEAD
        scan = _scan_plain(data, start, end, self.n)
        if scan is None:  # not only digits and blanks: read line by line
            return self._dialect_section(data[start:end], start, first_line)
        if scan.early_end is not None:
            return _Parsed(_empty_store(), scan.early_end)
        for bad in scan.bad:
            line = first_line + data.count(b"\n", start, bad.offset)
            self.errors.append(self.error(bad.problem, line, bad.field, bad.value))
        if not scan.blocks:
            return _Parsed(_empty_store(), None)
        weights = None if scan.unit_weights else scan.weights
        if weights is not None:
            self._check_total(weights, first_line)
        rows, totals = _group_scan(scan, weights)
        return _Parsed(BallotStore(rows=rows, weights=totals), None)

    def _dialect_section(self, section: bytes, start: int, first_line: int) -> _Parsed:
        # ids go before grouping (each line's is different); an unclosed one stays, reported
        stripped = _ID_PREFIX.sub(b"", section) if b"(" in section else section
        lines = stripped.split(b"\n")
        plain: list[bytes] = []
        plain_info: list[tuple[int, int]] = []  # (order of first appearance, multiplicity)
        special_rows: list[list[int]] = []
        special_info: list[tuple[int, int]] = []  # (order, weight x multiplicity)
        early: int | None = None
        for order, (raw, times) in enumerate(Counter(lines).items()):
            text = _content(raw)
            if not text:
                continue
            if text.isdigit() and int(text) == 0:
                index = lines.index(raw)
                early = index if early is None else min(early, index)
            elif not text.translate(None, _PLAIN_BYTES):
                plain.append(text)
                plain_info.append((order, times))
            else:
                try:
                    weight, ranking = self._dialect_ballot(_decode(text))
                except _Problem as p:
                    line = first_line + lines.index(raw)
                    self.errors.append(self.error(p.problem, line, p.field, p.value))
                    continue
                if weight:
                    special_rows.append(ranking)
                    special_info.append((order, weight * times))
        if early is not None:
            return _Parsed(_empty_store(), start + _line_offset(section, early))
        rows: list[Codes] = []
        weights: list[Weights] = []
        orders: list[npt.NDArray[np.int64]] = []
        if plain:
            joined = b"\n".join(plain) + b"\n"
            scan = _scan_plain(joined + b"\n" * _LOOKAHEAD, 0, len(joined), self.n)
            assert scan is not None  # every line was checked to be plain
            for bad in scan.bad:
                index = next(i for i, x in enumerate(lines) if _content(x) == plain[bad.segment])
                self.errors.append(
                    self.error(bad.problem, first_line + index, bad.field, bad.value)
                )
            block, block_weights, kept = _scan_rows(scan)
            info = np.array(plain_info, dtype=np.int64).reshape(-1, 2)[kept]
            if info.size and int(block_weights.max()) * int(info[:, 1].max()) >= _INT64_LIMIT:
                self._too_heavy(first_line)
            rows.append(block)
            weights.append(block_weights * info[:, 1])
            orders.append(info[:, 0])
        if special_rows:
            if max(w for _, w in special_info) >= _INT64_LIMIT:
                self._too_heavy(first_line)
            width = max(max(len(r) for r in special_rows), 1)
            block = np.full((len(special_rows), width), SKIP, dtype=np.int32)
            for i, ranking in enumerate(special_rows):
                block[i, : len(ranking)] = ranking
            rows.append(block)
            weights.append(np.array([w for _, w in special_info], dtype=np.int64))
            orders.append(np.array([o for o, _ in special_info], dtype=np.int64))
        if not rows:
            return _Parsed(_empty_store(), None)
        width = max(r.shape[1] for r in rows)
        all_weights = np.concatenate(weights)
        self._check_total(all_weights, first_line)
        by_first = np.argsort(np.concatenate(orders), kind="stable")
        sets = tuple(s for s, _ in sorted(self.sets.items(), key=lambda kv: kv[1]))
        all_rows = np.concatenate([_pad(r, width) for r in rows])
        return _Parsed(merge_weighted_rows(all_rows[by_first], all_weights[by_first], sets), None)

    def _dialect_ballot(self, text: str) -> tuple[int, list[int]]:
        """Weight and ranking codes of one ballot line in any dialect (comment removed)."""
        if text.startswith("("):
            close = text.find(")")
            if close < 0:
                raise _Problem("a ballot id has no closing ')'", "id", text)
            text = text[close + 1 :]
        tokens = text.split()
        if not tokens:
            raise _Problem("a ballot id with no ballot", "ballot", text)
        weight_tok = tokens[0]
        if not (weight_tok.isascii() and weight_tok.isdigit()):
            raise _Problem("the weight must be a whole number", "weight", weight_tok)
        weight = int(weight_tok)
        ranking: list[int] = []
        for i, tok in enumerate(tokens[1:], start=1):
            if tok == "0":
                if i != len(tokens) - 1:
                    raise _Problem("text after the closing 0", "ballot", " ".join(tokens[i:]))
                return weight, ranking
            ranking.append(self._rank(tok, i))
        raise _Problem("a ballot line must end with 0", "ballot", text.strip())

    def _rank(self, tok: str, rank: int) -> int:
        if tok == "-":
            return SKIP
        if "=" not in tok:
            try:
                return self._candidate(tok)
            except _Problem as p:
                raise _Problem(p.problem, f"preference {rank}", p.value) from None
        codes: set[int] = set()
        for part in tok.split("="):
            try:
                codes.add(self._candidate(part))
            except _Problem as p:
                raise _Problem(p.problem, f"preference {rank}", tok) from None
        if len(codes) == 1:
            return codes.pop()
        key = tuple(sorted(codes))
        index = self.sets.setdefault(key, len(self.sets))
        return overvote_set_code(index)

    def _candidate(self, tok: str) -> int:
        if tok.isascii() and tok.isdigit():
            number = int(tok)
            if 1 <= number <= self.n:
                return number - 1
            raise _Problem(f"no candidate numbered {number} (there are {self.n})", value=tok)
        code = self.nicks.get(tok)
        if code is None:
            raise _Problem("not a candidate number or nickname", value=tok)
        return code

    def _check_total(self, weights: Weights, line: int) -> None:
        if weights.size and int(weights.max()) * weights.size >= _INT64_LIMIT:
            total = sum(int(w) for w in weights)
            if total >= _INT64_LIMIT:
                self._too_heavy(line)

    def _too_heavy(self, line: int) -> None:
        raise self.error("the ballots' total weight does not fit 63 bits", line, "weight")


@dataclass(slots=True)
class _Parsed:
    store: BallotStore
    early_end: int | None  # data offset of an earlier closing 0: parse again up to it


def first_problem(errors: Sequence[BallotFileError]) -> BallotFileError:
    """The first of a file's problems, its message saying how many more there are."""
    first = errors[0]
    if len(errors) == 1:
        return first
    more = len(errors) - 1
    return BallotFileError(
        f"{first.problem} (and {more} more problem{'s' if more > 1 else ''})",
        path=first.path,
        line=first.line,
        field=first.field,
        value=first.value,
    )


def _content(raw: bytes) -> bytes:
    """A line without its comment and surrounding whitespace."""
    cut = raw.find(b"#")
    return (raw[:cut] if cut >= 0 else raw).strip()


def _int(tok: bytes) -> int | None:
    return int(tok) if tok.isdigit() else None


def _decode(raw: bytes) -> str:
    """Text of a line: UTF-8, else Windows-1252 (older council files), else Latin-1."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _name_line(raw: bytes) -> tuple[str, str]:
    """(name, affiliation) of a candidate or title line."""
    if not raw.startswith(b'"'):
        return _decode(_content(raw)), ""
    close = raw.find(b'"', 1)
    if close < 0:
        raise _Problem("a quoted name has no closing quote", "name", _decode(raw))
    name = _decode(raw[1:close])
    rest = raw[close + 1 :].strip()
    affiliation = ""
    if rest.startswith(b'"'):
        end = rest.find(b'"', 1)
        if end < 0:
            raise _Problem(
                "a quoted affiliation has no closing quote", "affiliation", _decode(rest)
            )
        affiliation = _decode(rest[1:end])
        rest = rest[end + 1 :].strip()
    if rest and not rest.startswith(b"#"):
        raise _Problem("unexpected text after a quoted name", "name", _decode(raw))
    return name, affiliation


# -- the vectorised scan of plain numeric ballot lines -----------------------------------------
@dataclass(slots=True)
class _Bad:
    segment: int  # index of the non-blank line among those scanned
    offset: int  # byte offset of the line in the scanned buffer
    problem: str
    field: str | None
    value: object


@dataclass(slots=True)
class _Block:
    """The ballots of one chunk that were kept, packed or as a matrix."""

    kept: npt.NDArray[np.bool_]  # per non-blank line of the chunk
    weights: Weights | None  # per kept line; None: every one weighs 1
    keys: npt.NDArray[np.signedinteger[Any]] | None  # sum(c_k * (n + 1) ** k), if it fits
    cands: Codes | None  # else (kept lines, width): candidate numbers, 0 = none

    @property
    def size(self) -> int:
        return int(np.count_nonzero(self.kept))

    def weight_array(self) -> Weights:
        return np.ones(self.size, dtype=np.int64) if self.weights is None else self.weights


@dataclass(slots=True)
class _Scan:
    n: int
    blocks: list[_Block] = field(default_factory=list)
    bad: list[_Bad] = field(default_factory=list)
    early_end: int | None = None  # offset of a line holding just 0

    @property
    def unit_weights(self) -> bool:
        return all(b.weights is None for b in self.blocks)

    @property
    def weights(self) -> Weights:
        return np.concatenate([b.weight_array() for b in self.blocks])


@dataclass(slots=True)
class _Tokens:
    starts: npt.NDArray[np.intp]  # byte offset of each token in the chunk
    sep: npt.NDArray[np.uint8]  # the byte just after each token
    values: _Numbers
    after: npt.NDArray[np.uint8] | None = None  # the byte after that, when a CR is seen


def _chunks(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    while pos < end:
        stop = buf.find(b"\n", min(pos + _CHUNK_BYTES, end) - 1, end)
        stop = end if stop < 0 else stop + 1
        yield pos, stop
        pos = stop


def _scan_plain(buf: bytes, start: int, end: int, n: int) -> _Scan | None:
    """Tokenise the ballot lines ``buf[start:end]`` chunk by chunk, without copying them.

    The lines must end with a newline and ``buf`` must hold :data:`_LOOKAHEAD` bytes after
    them. Returns ``None`` as soon as a chunk holds anything but digits and blanks. Offsets in
    the result are offsets in ``buf``.
    """
    scan = _Scan(n)
    whole = np.frombuffer(buf, dtype=np.uint8)
    segment_base = 0
    for lo, hi in _chunks(buf, start, end):
        if buf[lo:hi].translate(None, _PLAIN_BYTES):
            return None
        arr = whole[lo:hi]
        tokens = _short_tokens(arr, whole[lo : hi + _LOOKAHEAD])
        block = None if tokens is None else _fast_block(arr, tokens, n)
        if block is None:
            block = _careful_block(buf, arr, lo, segment_base, scan)
        if scan.early_end is not None:
            break
        scan.blocks.append(block)
        segment_base += block.kept.size
    return scan


def _short_tokens(arr: npt.NDArray[np.uint8], ahead: npt.NDArray[np.uint8]) -> _Tokens | None:
    """The tokens of ``arr`` when none is longer than two digits (else ``None``)."""
    digit = arr >= 48  # the buffer holds only digits and whitespace
    starts = np.flatnonzero(digit[1:] > digit[:-1])
    starts += 1
    if digit[0]:
        starts = np.concatenate((np.zeros(1, dtype=starts.dtype), starts))
    if starts.size == 0:
        return None
    b0, b1, b2 = ahead[starts], ahead[starts + 1], ahead[starts + 2]
    two = b1 >= 48
    if np.any(two & (b2 >= 48)):
        return None
    ones = b0 - np.uint8(48)
    values: _Numbers = np.where(two, ones.astype(np.int32) * 10 + (b1 - np.uint8(48)), ones)
    sep = np.where(two, b2, b1)
    after = ahead[starts + 2 + two] if np.any(sep == 13) else None
    return _Tokens(starts, sep, values, after)


def _tokens(arr: npt.NDArray[np.uint8]) -> tuple[_Tokens, npt.NDArray[np.intp]] | None:
    """The tokens of ``arr``, however long, and the offset just past each."""
    digit = arr >= 48
    edges = np.flatnonzero(digit[1:] != digit[:-1])
    edges += 1
    if digit[0]:
        edges = np.concatenate((np.zeros(1, dtype=edges.dtype), edges))
    if edges.size == 0:
        return None
    starts, ends = edges[0::2], edges[1::2]  # every token ends: the chunk ends with "\n"
    lengths = ends - starts
    longest = int(lengths.max())
    wide = np.int64 if longest > 9 else np.int32  # nine digits always fit 32 bits
    values: _Numbers = (arr[starts] - np.uint8(48)).astype(wide)
    for k in range(1, min(longest, _MAX_DIGITS)):
        more = np.flatnonzero(lengths > k)
        values[more] = values[more] * 10 + (arr[starts[more] + k] - 48)
    return _Tokens(starts, arr[ends], values), ends


def _fast_block(arr: npt.NDArray[np.uint8], tok: _Tokens, n: int) -> _Block | None:
    """The chunk's ballots when every line is well formed; else ``None`` (scan it carefully).

    Taking a token followed by LF (or CR LF) as the end of its line is exact unless a line
    has trailing blanks; such a line runs into the next, which then holds a 0 before its end
    and fails the checks below, so the chunk is scanned again carefully.
    """
    values, sep = tok.values, tok.sep
    last = sep == 10
    if tok.after is not None:  # CR LF line ends
        last |= (sep == 13) & (tok.after == 10)
    seg_last = np.flatnonzero(last)
    if seg_last.size == 0 or seg_last[-1] != values.size - 1:
        return None
    lines = seg_last.size
    seg_first = np.empty_like(seg_last)
    seg_first[0] = 0
    seg_first[1:] = seg_last[:-1] + 1
    ncand = seg_last - seg_first - 1
    weights = values[seg_first]
    big = values > n
    big[seg_first] = False  # weights may be anything
    zeros = np.count_nonzero(values == 0) - np.count_nonzero(weights == 0)
    if ncand.min() < 0 or big.any() or zeros != lines or values[seg_last].any():
        return None  # a malformed line somewhere (or a closing 0 that is not the last token)
    width = max(int(ncand.max()), 1)
    base = n + 1
    kept = weights > 0
    unit = bool((weights == 1).all())
    chosen = None if unit else weights[kept].astype(np.int64)
    if base**width >= _INT64_LIMIT:
        cands = _cand_matrix(values, seg_first, ncand, width)
        return _Block(kept, chosen, None, cands if unit else cands[kept])
    key_type = np.int32 if base**width < 2**31 else np.int64  # narrow keys group faster
    keys: npt.NDArray[np.signedinteger[Any]] = np.zeros(lines, dtype=key_type)
    padded = np.concatenate((values, np.zeros(width, dtype=values.dtype)))
    for k in range(width):
        picked: _Numbers = np.where(ncand > k, padded[seg_first + (k + 1)], 0)
        keys += picked * key_type(base**k)
    return _Block(kept, chosen, keys if unit else keys[kept], None)


def _cand_matrix(
    values: _Numbers,
    seg_first: npt.NDArray[np.intp],
    ncand: npt.NDArray[np.intp],
    width: int,
) -> Codes:
    cands = np.zeros((seg_first.size, width), dtype=np.int32)
    for k in range(width):
        rows = np.flatnonzero(ncand > k)
        cands[rows, k] = values[seg_first[rows] + (k + 1)]
    return cands


def _careful_block(
    buf: bytes,
    arr: npt.NDArray[np.uint8],
    lo: int,
    segment_base: int,
    scan: _Scan,
) -> _Block:
    """The chunk's good ballots, recording each bad line (or an early closing 0) in ``scan``."""
    found = _tokens(arr)
    if found is None:
        return _Block(np.zeros(0, dtype=bool), None, None, np.zeros((0, 1), dtype=np.int32))
    tok, ends = found
    starts, values = tok.starts, tok.values
    # A token ends its line when a newline comes before the next token.
    newlines = np.flatnonzero(arr == 10)
    following = np.append(starts[1:], arr.size)
    last = newlines[np.searchsorted(newlines, ends)] < following
    seg_last = np.flatnonzero(last)
    seg_first = np.empty_like(seg_last)
    seg_first[0] = 0
    seg_first[1:] = seg_last[:-1] + 1
    ncand = seg_last - seg_first - 1
    width = max(int(ncand.max()), 1)
    cands = _cand_matrix(values, seg_first, np.maximum(ncand, 0), width)
    present = np.arange(width)[None, :] < ncand[:, None]
    bad = (ncand < 0) | (values[seg_last] != 0)
    bad |= np.any(present & ((cands < 1) | (cands > scan.n)), axis=1)
    long_tokens = np.flatnonzero(ends - starts > _MAX_DIGITS)
    bad[np.searchsorted(seg_last, long_tokens)] = True
    for s in np.flatnonzero(bad).tolist():
        offset = lo + int(starts[seg_first[s]])
        line_start = buf.rfind(b"\n", 0, offset) + 1
        toks = buf[line_start : buf.find(b"\n", offset)].decode("ascii").split()
        if len(toks) == 1 and not toks[0].strip("0"):
            scan.early_end = line_start
            break
        scan.bad.append(_Bad(segment_base + s, line_start, *_plain_problem(toks, scan.n)))
    weights = values[seg_first].astype(np.int64)
    kept = ~bad & (weights > 0)
    return _Block(kept, weights[kept], None, cands[kept])


def _plain_problem(toks: list[str], n: int) -> tuple[str, str | None, object]:
    if any(len(t) > _MAX_DIGITS for t in toks):
        big = next(t for t in toks if len(t) > _MAX_DIGITS)
        return "number too large", "weight" if big == toks[0] else "ballot", big
    if len(toks) < 2 or int(toks[-1]) != 0:
        return "a ballot line must end with 0", "ballot", " ".join(toks)
    for rank, tok in enumerate(toks[1:-1], start=1):
        number = int(tok)
        if number == 0:
            return "text after the closing 0", "ballot", " ".join(toks[rank + 1 :])
        if number > n:
            return f"no candidate numbered {number} (there are {n})", f"preference {rank}", tok
    return "invalid ballot line", "ballot", " ".join(toks)  # pragma: no cover - unreachable


def _block_cands(block: _Block, base: int, width: int) -> Codes:
    """A block's candidate numbers (0 = none) as a matrix ``width`` wide."""
    if block.cands is not None:
        return _pad(block.cands, width, 0)
    assert block.keys is not None
    powers = base ** np.arange(width, dtype=np.int64)
    return ((block.keys[:, None] // powers[None, :]) % base).astype(np.int32)


def _width(scan: _Scan) -> int:
    """Columns needed for every block (a packed key's width is read off its largest key)."""
    width = 1
    base = scan.n + 1
    for block in scan.blocks:
        if block.cands is not None:
            width = max(width, block.cands.shape[1])
        elif block.keys is not None and block.keys.size:
            top, digits = int(block.keys.max()), 0
            while top:
                top //= base
                digits += 1
            width = max(width, digits)
    return width


def _scan_rows(scan: _Scan) -> tuple[Codes, Weights, npt.NDArray[np.bool_]]:
    """The scanned lines, one row each (codes, SKIP-padded), their weights, and the kept mask."""
    width = _width(scan)
    if not scan.blocks:
        return np.empty((0, width), np.int32), np.empty(0, np.int64), np.empty(0, dtype=bool)
    rows = np.concatenate([_block_cands(b, scan.n + 1, width) for b in scan.blocks]) - 1
    kept = np.concatenate([b.kept for b in scan.blocks])
    return rows.astype(np.int32), scan.weights, kept


def _group_scan(scan: _Scan, weights: Weights | None) -> tuple[Codes, Weights]:
    """Group the scanned ballots: distinct rankings (codes) and total weights, in file order.

    ``weights`` are those of every kept line, or ``None`` when each weighs 1.
    """
    if any(b.keys is None for b in scan.blocks):
        rows, all_weights, _ = _scan_rows(scan)
        store = merge_weighted_rows(rows, all_weights)
        return store.rows, store.weights
    keys = np.concatenate([b.keys for b in scan.blocks if b.keys is not None])
    uniq, totals = _group_keys(keys, weights)
    keep = totals > 0
    grouped = _Block(np.ones(0, dtype=bool), totals[keep], uniq[keep], None)
    rows = _block_cands(grouped, scan.n + 1, _width(scan)) - 1
    return np.ascontiguousarray(rows[:, : _used_width(rows)]), totals[keep]


def _group_keys(
    keys: npt.NDArray[np.signedinteger[Any]], weights: Weights | None
) -> tuple[npt.NDArray[np.int64], Weights]:
    """Distinct keys in order of first appearance, with the summed weight of each.

    ``weights=None`` means every key weighs 1.
    """
    if keys.size == 0:
        return keys.astype(np.int64), np.zeros(0, dtype=np.int64)
    size = int(keys.max()) + 1
    if size <= _BINCOUNT_KEYS:
        counts = np.bincount(keys, minlength=size)
        first = np.full(size, keys.size, dtype=np.int64)
        np.minimum.at(first, keys, np.arange(keys.size, dtype=np.int64))
        present = np.flatnonzero(counts)
        uniq = present[np.argsort(first[present], kind="stable")]
        if weights is None:
            return uniq.astype(np.int64), counts[uniq].astype(np.int64)
        totals = np.zeros(size, dtype=np.int64)
        np.add.at(totals, keys, weights)
        return uniq.astype(np.int64), totals[uniq]
    uniq_keys, first_at, inverse = np.unique(keys, return_index=True, return_inverse=True)
    sums = np.zeros(uniq_keys.size, dtype=np.int64)
    np.add.at(sums, inverse, np.ones(keys.size, dtype=np.int64) if weights is None else weights)
    order = np.argsort(first_at, kind="stable")
    return uniq_keys[order].astype(np.int64), sums[order]


def _pad(block: Codes, width: int, fill: int = SKIP) -> Codes:
    if block.shape[1] == width:
        return block
    out = np.full((block.shape[0], width), fill, dtype=block.dtype)
    out[:, : block.shape[1]] = block
    return out


def _line_offset(section: bytes, index: int) -> int:
    """Byte offset of line ``index`` (0-based) of ``section``."""
    pos = 0
    for _ in range(index):
        pos = section.index(b"\n", pos) + 1
    return pos


def _empty_store() -> BallotStore:
    return BallotStore(rows=np.empty((0, 1), dtype=np.int32), weights=np.empty(0, np.int64))


def merge_weighted_rows(
    rows: Codes, weights: Weights, overvote_sets: tuple[tuple[int, ...], ...] = ()
) -> BallotStore:
    """A store of the distinct ``rows`` with their summed ``weights`` (file order kept).

    Trailing skips do not make rankings differ. Rows of zero total weight are dropped. (This is
    :meth:`BallotStore.from_rows` for rows that already carry weights; every reader here that
    groups before parsing needs it.)
    """
    rows = np.ascontiguousarray(rows, dtype=np.int32)
    if rows.shape[1] == 0:
        rows = np.full((rows.shape[0], 1), SKIP, dtype=np.int32)
    if rows.shape[0] == 0:
        return BallotStore(
            rows=np.empty((0, rows.shape[1]), dtype=np.int32),
            weights=np.empty(0, dtype=np.int64),
            overvote_sets=overvote_sets,
        )
    void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first_at, inverse = np.unique(void, return_index=True, return_inverse=True)
    sums = np.zeros(first_at.size, dtype=np.int64)
    np.add.at(sums, inverse.ravel(), np.asarray(weights, dtype=np.int64))
    order = np.argsort(first_at, kind="stable")
    order = order[sums[order] > 0]
    used = rows[first_at[order]]
    width = _used_width(used)
    return BallotStore(
        rows=np.ascontiguousarray(used[:, :width]),
        weights=sums[order],
        overvote_sets=overvote_sets,
    )


def _used_width(rows: Codes) -> int:
    """Columns up to the last one any row marks (at least one)."""
    marked = np.flatnonzero(np.any(rows != SKIP, axis=0))
    return int(marked[-1]) + 1 if marked.size else 1


# -- writing -----------------------------------------------------------------------------------
def write_blt(
    target: str | os.PathLike[str] | TextIO,
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    title: str,
) -> None:
    """Write ``store`` as a BLT file: one line per distinct ranking, with its weight.

    Overvote sets are written as equal preferences (``2=3``), skipped ranks inside a ranking as
    ``-``, excluded candidates on the withdrawn line. An overvote whose candidates are unknown
    cannot be written (:class:`FormatError`); nor can a name holding a double quote.
    """
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:
            _write(stream, store, candidates, seats, title)
    else:
        _write(target, store, candidates, seats, title)


def _write(
    out: TextIO, store: BallotStore, candidates: CandidateTable, seats: int, title: str
) -> None:
    for text in (*candidates.names, title):
        if '"' in text or "\n" in text or "\r" in text:
            raise FormatError(f"a BLT name cannot hold a quote or a line break ({text!r})")
    out.write(f"{len(candidates)} {seats}\n")
    if candidates.excluded:
        out.write(" ".join(f"-{c + 1}" for c in sorted(candidates.excluded)) + "\n")
    tokens = _token_table(store, len(candidates))
    for row, weight in zip(store.rows.tolist(), store.weights.tolist(), strict=True):
        if weight <= 0:
            continue
        while row and row[-1] == SKIP:
            row.pop()
        try:
            body = " ".join(tokens[code] for code in row)
        except KeyError as exc:
            raise FormatError(
                f"cannot write an overvote of unknown candidates in BLT ({exc.args[0]})"
            ) from None
        out.write(f"{weight} {body} 0\n" if body else f"{weight} 0\n")
    out.write("0\n")
    for name in candidates.names:
        out.write(f'"{name}"\n')
    out.write(f'"{title}"\n')


def _token_table(store: BallotStore, n: int) -> dict[int, str]:
    tokens = {code: str(code + 1) for code in range(n)}
    tokens[SKIP] = "-"
    for k, members in enumerate(store.overvote_sets):
        tokens[OVERVOTE_SET_BASE - k] = "=".join(str(c + 1) for c in members)
    return tokens
