"""The compiled BLT ballot scan (:mod:`tallyroom.formats._blt_c`, C) as a ballot store.

The C scan reads a BLT file's ballot section in one pass over its bytes and groups identical
rankings in a hash table as it goes, so a million ballot lines never become a million Python
objects or a million-row matrix. It takes only sections of plain, well-formed lines (weight,
candidate numbers, closing ``0``; digits and blanks) and hands every other section back:
:func:`grouped_plain` then returns ``None`` and :mod:`tallyroom.formats.blt` reads it with the
numpy scan (:mod:`tallyroom.formats.blt_scan`), which is the reference, names each bad line's
file, line, field and value, and reads the dialects and the lenient cases. The two give the
same store for every section the C scan takes (tests/formats/test_blt_native.py, a
differential test over generated files).

``pip install -e .`` builds the extension (setup.py); should it be missing (sources run without
installing), :data:`COMPILED` is ``False`` and every section goes to the numpy scan.
"""

from __future__ import annotations

import numpy as np

from tallyroom.count.ballots import BallotStore

try:
    from tallyroom.formats import _blt_c
except ImportError:  # pragma: no cover - the install builds it; test_blt_native checks
    _blt_c = None  # type: ignore[assignment]

__all__ = ["COMPILED", "grouped_plain"]

COMPILED = _blt_c is not None


def grouped_plain(data: bytes, start: int, end: int, n: int) -> BallotStore | None:
    """The distinct rankings of the ballot lines ``data[start:end]`` with their total weights,
    in order of first appearance; ``None`` when the section needs the numpy reader.

    ``n`` is the number of candidates. Rows are candidate codes, :data:`SKIP`-padded to the
    longest ranking; lines of weight 0 are left out.
    """
    if _blt_c is None:  # pragma: no cover - see COMPILED
        return None
    found = _blt_c.scan_plain(data, start, end, n)
    if found is None:
        return None
    rows, weights, count, width = found
    return BallotStore(
        rows=np.frombuffer(rows, dtype=np.int32).reshape(count, width),
        weights=np.frombuffer(weights, dtype=np.int64),
    )
