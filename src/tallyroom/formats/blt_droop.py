"""Droop's extensions to BLT: ``/* */`` comments, and ballot ids that stand in for the weight.

Droop (J. Lundell's STV counter) reads a BLT file as whitespace-separated tokens and adds two
things other readers do not take:

* a comment opens with a token that starts ``/*`` and closes with a token that ends ``*/``; it
  may span lines and nest (each opening token needs its own closing one); inside a quoted name
  nothing opens a comment;
* a ballot line may start with an id in parentheses *instead of* its weight, the ballot then
  counting once: Droop's ``(b17) 1 4 0`` is a ballot ranking candidates 1 and 4. OpenSTV's
  ids come *before* the weight (``(b17) 1 4 0``: weight 1, candidate 4), and with ids every
  weight is 1. A file is read in Droop's way when some id is followed by anything but ``1``
  (so not a weight), and in OpenSTV's way otherwise; an all-``1`` Droop file (every ballot's
  first preference candidate 1) reads the same either way only if no ranking starts with
  candidate 1 twice, which is why the choice is noted.

Both are tolerances of :mod:`tallyroom.formats.blt`: read, and reported as a
:class:`~tallyroom.formats.reading.ReadNote`, by default; refused under ``strict``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BlockComments", "DroopIds", "droop_ids", "strip_block_comments"]

_TOKEN = re.compile(rb"\S+")
_ID_THEN = re.compile(rb"[ \t]*(\([^)\n]*\))[ \t]*(\S*)")


@dataclass(frozen=True, slots=True)
class BlockComments:
    """The ``/* */`` comments of a file: how many, the line the first opens on (1-based) and
    its first token; ``unclosed`` when the file ends inside one."""

    count: int
    first_line: int
    first_token: str
    unclosed: bool = False


def strip_block_comments(data: bytes) -> tuple[bytes, BlockComments | None]:
    """``data`` with every ``/* */`` comment blanked (line breaks kept, so that every line
    keeps its number), and what was found (``None``: no comment)."""
    if not _has_block_comment(data):
        return data, None
    out = bytearray(data)
    depth = 0
    in_quote = False
    count = 0
    first_at = -1
    first_token = b""
    skip_to = 0  # the end of a "#" comment: nothing in it opens a comment
    for match in _TOKEN.finditer(data):
        if match.start() < skip_to:
            continue
        token = match.group()
        if not depth and not in_quote and token.startswith(b"#"):
            end = data.find(b"\n", match.start())
            skip_to = len(data) if end < 0 else end
            continue
        if not depth and not in_quote and token.startswith(b'"'):
            in_quote = not (len(token) > 1 and token.endswith(b'"'))
            continue
        if in_quote:
            in_quote = not token.endswith(b'"')
            continue
        if token.startswith(b"/*"):
            if not depth:
                count += 1
                if first_at < 0:
                    first_at, first_token = match.start(), token
            depth += 1
        if depth:
            out[match.start() : match.end()] = b" " * (match.end() - match.start())
            if token.endswith(b"*/") and len(token) >= (4 if token.startswith(b"/*") else 2):
                depth -= 1
    if not count:
        return data, None
    found = BlockComments(
        count,
        data.count(b"\n", 0, first_at) + 1,
        first_token.decode("utf-8", "replace"),
        unclosed=depth > 0,
    )
    return bytes(out), found


def _has_block_comment(data: bytes) -> bool:
    """Whether ``data`` holds ``/*``: a few ``memchr`` jumps from one ``/`` to the next when
    slashes are rare (a BLT file's ballots hold none), 25x faster than a substring search of
    a large file; the substring search when they are not."""
    at = data.find(b"/")
    for _ in range(64):
        if at < 0:
            return False
        if data[at + 1 : at + 2] == b"*":
            return True
        at = data.find(b"/", at + 1)
    return data.find(b"/*", at) >= 0


@dataclass(frozen=True, slots=True)
class DroopIds:
    """Ballot lines whose id stands in for the weight: how many, the first's index among the
    section's lines (0-based) and its id."""

    count: int
    first_index: int
    first_id: str


def droop_ids(section: bytes, n: int) -> DroopIds | None:
    """Whether the ballot ids of ``section`` (``n`` candidates) replace weights (Droop) rather
    than precede them (OpenSTV). Droop's way when all of these hold: every ballot line has an
    id (Droop refuses a file that mixes them), some id is followed by something other than a
    weight of 1, and every line read Droop's way is a valid ranking (candidates ``1..n``, none
    twice, a closing 0); otherwise OpenSTV's."""
    lines = [line for line in section.split(b"\n") if _body(line)]
    found = [_ID_THEN.match(line) for line in lines]
    if not found or any(m is None for m in found):
        return None
    matches = [m for m in found if m is not None]
    if all(m.group(2) == b"1" for m in matches):
        return None
    for line, m in zip(lines, matches, strict=True):
        if not _ranking(_body(line[m.end(1) :]).split(), n):
            return None
    first = matches[0]
    return DroopIds(
        len(matches),
        section.split(b"\n").index(lines[0]),
        first.group(1).decode("utf-8", "replace"),
    )


def _body(line: bytes) -> bytes:
    cut = line.find(b"#")
    return (line[:cut] if cut >= 0 else line).strip()


def _ranking(tokens: list[bytes], n: int) -> bool:
    """A ranking closed by 0: candidate numbers (``a=b`` for equal ones), each once."""
    if not tokens or tokens[-1] != b"0":
        return False
    seen: set[int] = set()
    for token in tokens[:-1]:
        for part in token.split(b"="):
            if not part.isdigit() or not 1 <= int(part) <= n or int(part) in seen:
                return False
            seen.add(int(part))
    return True
