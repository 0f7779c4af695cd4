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
overvote set at that rank (see :mod:`tallyroom.count.ballots`), its candidates in the file's
order (``2=3`` and ``3=2`` are different sets), a candidate named twice kept once; ballot ids
are checked for form and dropped, since the store groups identical ballots.

Speed: the header and the names are read here, line by line; the ballot section, which is
nearly all of a large file, is read in one of three ways. A section of plain, well-formed lines
(weight, candidate numbers, closing 0) goes to the compiled scan
(:mod:`tallyroom.formats.blt_native`, C): one pass over the bytes, identical lines counted in a
hash table, each distinct line parsed once. Any other section (a problem to report, a
tolerance to apply, a dialect feature) comes back from it untouched and is read by the numpy
scan (:mod:`tallyroom.formats.blt_scan`: tokenised in cache-sized chunks, each ballot packed
into one integer key, the keys grouped with ``bincount``), the reference the compiled scan is
tested against, which names every bad line. Files using the dialect features (ids, ``=``,
``-``, nicknames, comments) go through ``Counter`` over the raw lines, so each distinct line is
parsed once; the plain distinct lines still take the vectorised path.

Tolerances (``strict=False``, the default), each reported as a :class:`ReadNote` in
:attr:`BltElection.notes` and never applied silently; ``strict=True`` refuses them all:

* a ballot line without its closing ``0`` (EVE Online's published CSM ballots) is read as if
  closed: ``1 4 2`` is ``1 4 2 0``;
* zeros after the closing ``0`` (blank ranking slots padded out, as in Stack Exchange's election
  downloads) are dropped: ``1 1 2 0 0`` is ``1 1 2 0``; a candidate after a zero stays an error;
* after the title, further quoted strings (Droop reads two: the source and a comment) and any
  unquoted text (Droop ignores it) are passed over;
* a missing title, and a second quoted string on the title line, are noted in either mode;
* Droop's ``/* */`` comments (over lines, nested) are passed over, and Droop's ballot ids in
  place of the weight (``(b17) 2 4 0``: one ballot ranking 2 then 4) are read as weight 1 when
  the file can only be Droop's (every line has an id, some id is not followed by 1, every line
  is a valid ranking read that way; else the id precedes the weight, as OpenSTV writes it):
  :mod:`tallyroom.formats.blt_droop`.

Problems in ballot lines are collected, each naming file, line, field and value; by default
the first is raised, saying how many others there are, and with ``skip_bad_lines=True`` the bad
lines are left out and listed in :attr:`BltElection.errors`. A ballot file never gives a
traceback: numbers too large, fields longer than 131,072 characters, a file that ends early
each give one line naming the file, line and (shortened) value.
"""

from __future__ import annotations

import codecs
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

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
from tallyroom.formats.blt_native import grouped_plain
from tallyroom.formats.reading import MAX_FIELD, ReadNote, shown

if TYPE_CHECKING:
    from tallyroom.formats.blt_droop import BlockComments, DroopIds

__all__ = [
    "BltElection",
    "first_problem",
    "parse_blt",
    "read_blt",
    "write_blt",
]

Weights = npt.NDArray[np.int64]

_INT64_LIMIT = 2**63
_ID_PREFIX = re.compile(rb"(?m)^[ \t]*\([^)\n]*\)")
_LONE_ZERO = re.compile(rb"(?m)^[ \t]*0+[ \t]*(?:#[^\n]*)?\r?$")
_MAX_DIGITS = 18  # every 18-digit number fits an int64
# the problems a lenient read mends by rewriting the line (the scan's and the careful reader's)
_UNCLOSED = "a ballot line must end with 0"
_PADDED = "text after the closing 0"


@dataclass(frozen=True, slots=True)
class BltElection:
    """What a BLT file holds.

    ``tie_order`` is Droop's ``[tie ...]`` option: candidate codes in tie-break order, best
    first (``None`` when absent). ``affiliations`` has one entry per candidate (``""`` when
    the file gives none). ``errors`` lists the ballot lines left out (``skip_bad_lines``
    only); ``notes`` what was read leniently.
    """

    title: str
    seats: int
    candidates: CandidateTable
    ballots: BallotStore
    affiliations: tuple[str, ...] = ()
    tie_order: tuple[int, ...] | None = None
    errors: tuple[BallotFileError, ...] = ()
    notes: tuple[ReadNote, ...] = ()


# -- reading -----------------------------------------------------------------------------------
def read_blt(
    path: str | os.PathLike[str], *, strict: bool = False, skip_bad_lines: bool = False
) -> BltElection:
    """Read a BLT file (see the module docstring for the dialects and tolerances)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BallotFileError(f"cannot read the file: {exc.strerror}", path=str(path)) from exc
    return parse_blt(data, path=str(path), strict=strict, skip_bad_lines=skip_bad_lines)


def parse_blt(
    data: bytes,
    *,
    path: str | None = None,
    strict: bool = False,
    skip_bad_lines: bool = False,
    compiled: bool = True,
) -> BltElection:
    """Parse the bytes of a BLT file; ``path`` only names the file in error messages.

    ``strict`` refuses what is otherwise read leniently (and noted); ``skip_bad_lines`` leaves
    out bad ballot lines (listed in ``errors``) instead of raising the first. ``compiled=False``
    reads every ballot section with the numpy scan alone, the reference the compiled scan is
    tested against (:mod:`tallyroom.formats.blt_native`); the result is the same.
    """
    comments: BlockComments | None = None
    if data.find(b"/") >= 0:  # a /* comment */ (Droop) needs a slash
        from tallyroom.formats.blt_droop import strip_block_comments

        data, comments = strip_block_comments(data)
    if comments is not None and (strict or comments.unclosed):
        problem = (
            "a /* comment */ (Droop's extension; not read under --strict)"
            if not comments.unclosed
            else "a /* comment is never closed with */"
        )
        raise BallotFileError(
            problem,
            path=path,
            line=comments.first_line,
            field="comment",
            value=shown(comments.first_token),
        )
    election = _BltReader(data, path, strict, compiled).read(skip_bad_lines=True)
    mendable = [e for e in election.errors if e.problem in (_UNCLOSED, _PADDED)]
    if mendable and not strict:
        mended, notes = _mend(data, mendable, path)
        again = _BltReader(mended, path, strict, compiled).read(skip_bad_lines=True)
        election = replace(again, notes=(*notes, *again.notes))
    if election.errors and not skip_bad_lines:
        raise first_problem(election.errors)
    if comments is not None:
        note = ReadNote(
            path,
            "/* */ comments (Droop's extension) passed over",
            comments.count,
            comments.first_line,
        )
        election = replace(election, notes=(note, *election.notes))
    return election


def _mend(
    data: bytes, errors: Sequence[BallotFileError], path: str | None
) -> tuple[bytes, list[ReadNote]]:
    """The file with each unclosed ballot line closed and each zero-padded one trimmed.

    Lines keep their numbers. A line is mended only when that is all it lacks: an unclosed
    line gets " 0"; a closed one loses the zeros after its closing 0 if nothing else follows.
    """
    lines = data.split(b"\n")
    closed: list[int] = []
    trimmed: list[int] = []
    for err in errors:
        if err.line is None:
            continue
        raw = lines[err.line - 1]
        cut = raw.find(b"#")
        body, comment = (raw[:cut], raw[cut:]) if cut >= 0 else (raw, b"")
        tokens = body.split()
        start = 1 if tokens and tokens[0].startswith(b"(") else 0  # an OpenSTV ballot id
        marks = tokens[start + 1 :]  # after the weight
        if 0 in [_zero_or_none(t) for t in marks]:
            first = [_zero_or_none(t) for t in marks].index(0)
            if any(_zero_or_none(t) != 0 for t in marks[first:]):
                continue  # a preference after a zero: not padding, still an error
            tokens = tokens[: start + 1 + first + 1]
            trimmed.append(err.line)
        else:
            tokens = [*tokens, b"0"]
            closed.append(err.line)
        ending = b"\r" if raw.endswith(b"\r") else b""
        lines[err.line - 1] = b" ".join(tokens) + (b" " + comment if comment else b"") + ending
    notes = []
    if closed:
        notes.append(
            ReadNote(
                path, "ballot lines without the closing 0, read as closed", len(closed), closed[0]
            )
        )
    if trimmed:
        notes.append(
            ReadNote(
                path,
                "zeros after a ballot's closing 0 (blank slots), dropped",
                len(trimmed),
                trimmed[0],
            )
        )
    return b"\n".join(lines), notes


def _zero_or_none(tok: bytes) -> int | None:
    """0 for a zero token, None for anything else (a candidate, ``-``, ``2=3``, a nickname)."""
    return 0 if tok.isdigit() and not tok.strip(b"0") else None


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

    def __init__(
        self, data: bytes, path: str | None, strict: bool = True, compiled: bool = True
    ) -> None:
        self.data = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        self.path = path
        self.strict = strict
        self.compiled = compiled
        self.notes: list[ReadNote] = []
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
        if isinstance(value, str):
            value = shown(value)
        return BallotFileError(problem, path=self.path, line=line, field=field, value=value)

    # -- the three sections --------------------------------------------------------------------
    def read(self, skip_bad_lines: bool) -> BltElection:
        lines = self._lines(0, 1)
        ballot_line = self._header(lines)
        if ballot_line is None:
            last = self._line_at(len(self.data.rstrip()))
            raise self.error("the file ends before its ballots", last if self.data else None)
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
        if not skip_bad_lines and self.errors:
            raise first_problem(self.errors)
        return BltElection(
            title=title,
            seats=self.seats,
            candidates=table,
            ballots=parsed.store,
            affiliations=tuple(affiliations),
            tie_order=self.tie_order,
            errors=tuple(self.errors),
            notes=tuple(self.notes),
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
        for part in parts:
            if part.isdigit() and len(part) > _MAX_DIGITS:
                raise self.error("number too large", line.number, "header", _decode(part))
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
        trailer: list[int] = []  # lines after the title
        for line in lines:
            raw = self.data[line.start : line.end].strip()
            if not raw or raw.startswith(b"#"):
                continue
            if title is not None:
                if self.strict:
                    raise self.error(
                        "unexpected text after the title",
                        self._line_at(line.start),
                        "title",
                        _decode(raw),
                    )
                trailer.append(line.start)
                continue
            if len(raw) > MAX_FIELD:
                raise self.error(
                    f"a line longer than {MAX_FIELD:,} characters",
                    self._line_at(line.start),
                    "name",
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
                if affiliation:
                    self.notes.append(
                        ReadNote(
                            self.path,
                            "a second quoted string on the title line ignored "
                            f"({shown(affiliation)!r})",
                            1,
                            self._line_at(line.start),
                        )
                    )
        if trailer:
            self.notes.append(
                ReadNote(
                    self.path,
                    "text after the title (Droop's source and comment strings, or a trailer) "
                    "ignored",
                    len(trailer),
                    self._line_at(trailer[0]),
                )
            )
        if title is None and len(names) == self.n:
            self.notes.append(ReadNote(self.path, "no title line; the title is empty"))
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
        if self.compiled:  # plain, well-formed lines: the C scan; anything else comes back
            grouped = grouped_plain(data, start, end, self.n)
            if grouped is not None:
                return _Parsed(grouped, None)
        # the numpy scan, imported only when a file needs it (the C scan took the rest)
        from tallyroom.formats.blt_scan import LOOKAHEAD, empty_store, group_scan, scan_plain

        if end + LOOKAHEAD > len(data):  # the scan reads a few bytes past its end
            data += b"\n" * LOOKAHEAD
        scan = scan_plain(data, start, end, self.n)
        if scan is None:  # not only digits and blanks: read line by line
            return self._dialect_section(data[start:end], start, first_line)
        if scan.early_end is not None:
            return _Parsed(empty_store(), scan.early_end)
        pos, line = start, first_line  # the offsets rise: count newlines once, not per line
        for bad in scan.bad:
            line += data.count(b"\n", pos, bad.offset)
            pos = bad.offset
            self.errors.append(self.error(bad.problem, line, bad.field, bad.value))
        if not scan.blocks:
            return _Parsed(empty_store(), None)
        weights = None if scan.unit_weights else scan.weights
        if weights is not None:
            self._check_total(weights, first_line)
        rows, totals = group_scan(scan, weights)
        return _Parsed(BallotStore(rows=rows, weights=totals), None)

    def _dialect_section(self, section: bytes, start: int, first_line: int) -> _Parsed:
        from tallyroom.formats.blt_scan import (
            LOOKAHEAD,
            PLAIN_BYTES,
            empty_store,
            line_offset,
            merge_weighted_rows,
            pad,
            scan_plain,
            scan_rows,
        )

        # ids go before grouping (each line's is different); an unclosed one stays, reported.
        # An id before the weight (OpenSTV) goes; one in its place (Droop) becomes weight 1.
        stripped = section
        if b"(" in section:
            from tallyroom.formats.blt_droop import droop_ids

            droop = droop_ids(section, self.n)
            if droop is not None:
                self._droop_ids(droop, first_line)
            stripped = _ID_PREFIX.sub(b"1 " if droop is not None else b"", section)
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
            elif not text.translate(None, PLAIN_BYTES):
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
            return _Parsed(empty_store(), start + line_offset(section, early))
        rows: list[Codes] = []
        weights: list[Weights] = []
        orders: list[npt.NDArray[np.int64]] = []
        if plain:
            joined = b"\n".join(plain) + b"\n"
            scan = scan_plain(joined + b"\n" * LOOKAHEAD, 0, len(joined), self.n)
            assert scan is not None  # every line was checked to be plain
            first_at: dict[bytes, int] = {}
            if scan.bad:  # where each distinct plain line first appears, found in one pass
                for i, x in enumerate(lines):
                    first_at.setdefault(_content(x), i)
            for bad in scan.bad:
                index = first_at[plain[bad.segment]]
                self.errors.append(
                    self.error(bad.problem, first_line + index, bad.field, bad.value)
                )
            block, block_weights, kept = scan_rows(scan)
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
            return _Parsed(empty_store(), None)
        width = max(r.shape[1] for r in rows)
        all_weights = np.concatenate(weights)
        self._check_total(all_weights, first_line)
        by_first = np.argsort(np.concatenate(orders), kind="stable")
        sets = tuple(s for s, _ in sorted(self.sets.items(), key=lambda kv: kv[1]))
        all_rows = np.concatenate([pad(r, width) for r in rows])
        return _Parsed(merge_weighted_rows(all_rows[by_first], all_weights[by_first], sets), None)

    def _droop_ids(self, droop: DroopIds, first_line: int) -> None:
        line = first_line + droop.first_index
        if self.strict:
            raise self.error(
                "a ballot id in place of the weight (Droop's extension; not read under --strict)",
                line,
                "id",
                droop.first_id,
            )
        what = "ballot ids in place of weights (Droop's extension): each such line counts once"
        if not any(n.what == what for n in self.notes):  # the section may be read twice
            self.notes.append(ReadNote(self.path, what, droop.count, line))

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
        # dict keys: each candidate once, in the order the file gives them (Meek's equalized
        # count multiplies keep factors in that order, and rounded products do not commute)
        codes: dict[int, None] = {}
        for part in tok.split("="):
            try:
                codes[self._candidate(part)] = None
            except _Problem as p:
                raise _Problem(p.problem, f"preference {rank}", tok) from None
        if len(codes) == 1:
            return next(iter(codes))
        key = tuple(codes)
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
    cannot be written (:class:`FormatError`); nor can a name holding a line break.

    BLT has no escape for a double quote inside a quoted name: Droop and OpenSTV read a name
    up to the next ``"``, and so does :func:`read_blt`. A ``"`` in a name or the title is
    therefore written as two apostrophes, ``''`` (``Fay ''Ffion'' Ferris``), the sequence
    Unicode's confusables data gives as its look-alike (UTS #39), so that the file reads back
    in every BLT reader to the name as it looks. The election definition refuses two
    candidates whose names would be written alike (:mod:`tallyroom.election.names`).
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
        if "\n" in text or "\r" in text:
            raise FormatError(f"a BLT name cannot hold a line break ({text!r})")
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
    for text in (*candidates.names, title):
        quoted = text.replace('"', "''")  # BLT has no escape for '"' (see write_blt)
        out.write(f'"{quoted}"\n')


def _token_table(store: BallotStore, n: int) -> dict[int, str]:
    tokens = {code: str(code + 1) for code in range(n)}
    tokens[SKIP] = "-"
    for k, members in enumerate(store.overvote_sets):
        tokens[OVERVOTE_SET_BASE - k] = "=".join(str(c + 1) for c in members)
    return tokens
