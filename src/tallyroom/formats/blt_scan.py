"""The vectorised scan of plain numeric BLT ballot lines, and grouping weighted rows.

A million ballot lines such as ``1 3 1 2 0`` are read without a Python loop over the lines: the
ballot section is tokenised with numpy in cache-sized chunks, each ballot packed into one
integer key, and the keys grouped with ``bincount``. Lines the fast path cannot take (ids,
``=``, ``-``, comments) are left to :mod:`tallyroom.formats.blt`'s careful reader.

A section of plain, well-formed lines is read by the compiled scan instead
(:mod:`tallyroom.formats.blt_native`); this module reads the others, and is the reference the
compiled scan is tested against. It is imported only when a file needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import (
    SKIP,
    BallotStore,
    Codes,
)

__all__ = [
    "LOOKAHEAD",
    "PLAIN_BYTES",
    "empty_store",
    "group_scan",
    "line_offset",
    "merge_weighted_rows",
    "pad",
    "scan_plain",
    "scan_rows",
]

Weights = npt.NDArray[np.int64]
_INT64_LIMIT = 2**63
_Numbers = npt.NDArray[np.signedinteger[Any]]  # token values: int32, or int64 for long ones
PLAIN_BYTES = b"0123456789 \t\r\n"
_CHUNK_BYTES = 1 << 18  # 256 KiB: fewer numpy calls a file, temporaries still cache-sized
_MAX_DIGITS = 18  # every 18-digit number fits an int64
LOOKAHEAD = 3  # bytes the scan may read past a token: two digits and a separator
_BINCOUNT_KEYS = 1 << 22  # largest key space grouped with bincount (32 MiB of counters)


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


def scan_plain(buf: bytes, start: int, end: int, n: int) -> _Scan | None:
    """Tokenise the ballot lines ``buf[start:end]`` chunk by chunk, without copying them.

    The lines must end with a newline and ``buf`` must hold :data:`LOOKAHEAD` bytes after
    them. Returns ``None`` as soon as a chunk holds anything but digits and blanks. Offsets in
    the result are offsets in ``buf``.
    """
    scan = _Scan(n)
    whole = np.frombuffer(buf, dtype=np.uint8)
    segment_base = 0
    for lo, hi in _chunks(buf, start, end):
        if buf[lo:hi].translate(None, PLAIN_BYTES):
            return None
        arr = whole[lo:hi]
        tokens = _short_tokens(arr, whole[lo : hi + LOOKAHEAD])
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
        return pad(block.cands, width, 0)
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


def scan_rows(scan: _Scan) -> tuple[Codes, Weights, npt.NDArray[np.bool_]]:
    """The scanned lines, one row each (codes, SKIP-padded), their weights, and the kept mask."""
    width = _width(scan)
    if not scan.blocks:
        return np.empty((0, width), np.int32), np.empty(0, np.int64), np.empty(0, dtype=bool)
    rows = np.concatenate([_block_cands(b, scan.n + 1, width) for b in scan.blocks]) - 1
    kept = np.concatenate([b.kept for b in scan.blocks])
    return rows.astype(np.int32), scan.weights, kept


def group_scan(scan: _Scan, weights: Weights | None) -> tuple[Codes, Weights]:
    """Group the scanned ballots: distinct rankings (codes) and total weights, in file order.

    ``weights`` are those of every kept line, or ``None`` when each weighs 1.
    """
    if any(b.keys is None for b in scan.blocks):
        rows, all_weights, _ = scan_rows(scan)
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


def pad(block: Codes, width: int, fill: int = SKIP) -> Codes:
    if block.shape[1] == width:
        return block
    out = np.full((block.shape[0], width), fill, dtype=block.dtype)
    out[:, : block.shape[1]] = block
    return out


def line_offset(section: bytes, index: int) -> int:
    """Byte offset of line ``index`` (0-based) of ``section``."""
    pos = 0
    for _ in range(index):
        pos = section.index(b"\n", pos) + 1
    return pos


def empty_store() -> BallotStore:
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
