"""The compiled BLT scan (formats/_blt_c.c via blt_native.py) against the numpy reader.

The numpy reader is the reference: for every file, read with the compiled scan or without it,
the store (rows, weights, dtypes, shapes), the notes, the errors and any refusal (its message,
file, line, field and value) must be the same. The files are generated: well-formed and
malformed, with every lenient feature and dialect, random weights up to the 63-bit limit,
withdrawn candidates, equal preferences, comments, CRLF, NUL bytes and long lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tallyroom.errors import BallotFileError
from tallyroom.formats import _blt_c, blt_native
from tallyroom.formats.blt import BltElection, parse_blt
from tallyroom.formats.blt_native import grouped_plain

SRC = Path(__file__).resolve().parents[2] / "src"


def outcome(data: bytes, compiled: bool, strict: bool, skip: bool) -> object:
    """What reading ``data`` gives, in a form that compares exactly."""
    try:
        election = parse_blt(
            data, path="f.blt", strict=strict, skip_bad_lines=skip, compiled=compiled
        )
    except BallotFileError as exc:
        return ("refused", str(exc), exc.path, exc.line, exc.field, exc.value)
    return described(election)


def described(e: BltElection) -> tuple[object, ...]:
    store = e.ballots
    return (
        e.title,
        e.seats,
        e.candidates,
        e.affiliations,
        e.tie_order,
        store.rows.dtype.str,
        store.rows.shape,
        store.rows.tolist(),
        store.weights.dtype.str,
        store.weights.tolist(),
        store.overvote_sets,
        store.keys,
        [str(x) for x in e.errors],
        e.notes,
    )


def assert_same(data: bytes) -> None:
    for strict in (False, True):
        for skip in (False, True):
            compiled = outcome(data, True, strict, skip)
            reference = outcome(data, False, strict, skip)
            assert compiled == reference, (strict, skip, data[:300])


def section(data: bytes) -> tuple[int, int]:
    """Offsets of the ballot lines of a generated file: after the header, up to the 0 line."""
    start = data.index(b"\n") + 1
    return start, data.rindex(b"\n0\n", start - 1) + 1


# -- the extension is built and is what reads plain files ----------------------------------------
def test_the_extension_is_built_and_used() -> None:
    # CI installs with `pip install -e .`: a build that silently fell back would fail here
    assert blt_native.COMPILED
    assert Path(_blt_c.__file__ or "").suffix in (".so", ".pyd")
    # a plain file is read without the numpy scan ever being imported
    code = (
        "import sys; from tallyroom.formats.blt import parse_blt;"
        'e = parse_blt(b\'3 1\\n2 1 2 0\\n1 3 0\\n0\\n"A"\\n"B"\\n"C"\\n"T"\\n\');'
        "assert e.ballots.total == 3, e;"
        "assert 'tallyroom.formats.blt_scan' not in sys.modules, 'numpy scan imported'"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_the_scan_groups_in_order_of_first_appearance() -> None:
    data = b"3 1\n1 2 3 0\n5 1 0\n0 3 0\n2 2 3 0\n4 0\n1 3 0\n0\n"
    start, end = section(data)
    store = grouped_plain(data, start, end, 3)
    assert store is not None
    assert store.rows.tolist() == [[1, 2], [0, -1], [-1, -1], [2, -1]]
    assert store.weights.tolist() == [3, 5, 4, 1]
    assert store.rows.flags.writeable and store.rows.flags.c_contiguous


@pytest.mark.parametrize(
    "lines",
    [
        b"1 1 2\n",  # unclosed
        b"1 1 2 0 0\n",  # zero padding
        b"1 1 0 2 0\n",  # a candidate after the 0
        b"1 4 0\n",  # no such candidate
        b"0\n",  # a line holding just 0: an early end
        b"00\n",
        b"1 2=3 0\n",  # equal preferences
        b"1 - 2 0\n",  # a skipped rank
        b"(b1) 1 2 0\n",  # a ballot id
        b"1 2 0 # comment\n",
        b"1 2\x00 0\n",  # a NUL byte
        b"1 2 0\x0b\n",  # a vertical tab: blank to Python's split, not to the scan
        b"1234567890123456789 1 0\n",  # 19 digits
        b"1 0000000000000000001 0\n",
        b"0 0\n",  # no ballot of positive weight
        b"\xc3\xa9 1 0\n",
    ],
)
def test_the_scan_hands_over_what_it_is_not_sure_of(lines: bytes) -> None:
    data = b"3 1\n2 1 0\n" + lines + b"0\n"
    if lines == b"0 0\n":
        data = b"3 1\n" + lines + b"0\n"
    start, end = section(data)
    assert grouped_plain(data, start, end, 3) is None
    assert_same(data + b'"A"\n"B"\n"C"\n"T"\n')


def test_the_scan_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="must lie in the data"):
        _blt_c.scan_plain(b"1 1 0\n", 0, 7, 1)
    with pytest.raises(ValueError, match="must lie in the data"):
        _blt_c.scan_plain(b"1 1 0\n", 4, 2, 1)
    with pytest.raises(TypeError):
        _blt_c.scan_plain(bytearray(b"1 1 0\n"), 0, 6, 1)  # type: ignore[arg-type]
    assert _blt_c.scan_plain(b"1 1 0", 0, 5, 1) is None  # no line end: handed over
    assert _blt_c.scan_plain(b"1 1 0\n", 0, 6, 0) is None
    assert _blt_c.scan_plain(b"1 1 0\n", 0, 6, 2**31 - 1) is None  # codes would not fit int32
    assert _blt_c.scan_plain(b"1 1 0\n", 0, 6, 2**31 - 2) is not None


def test_weights_up_to_the_63_bit_limit() -> None:
    big = 10**18 - 1
    for count, refused in ((9, False), (10, True)):
        lines = b"".join(b"%d 1 0\n" % big for _ in range(count))
        data = b"1 1\n" + lines + b'0\n"A"\n"T"\n'
        start, end = section(data)
        store = grouped_plain(data, start, end, 1)
        assert (store is None) == refused
        if store is not None:
            assert store.weights.tolist() == [big * count]
        assert_same(data)


def test_long_rankings_beyond_a_packed_key() -> None:
    # 40 candidates: 41 ** 12 > 2 ** 63, so rankings of 12 or more go to the arena table
    rng = np.random.default_rng(3)
    lines = []
    for _ in range(3000):
        ranking = rng.permutation(40)[: rng.integers(0, 41)] + 1
        lines.append(f"{rng.integers(1, 3)} " + " ".join(map(str, ranking)) + " 0\n")
    lines += lines[:500]  # repeats of long and short ones
    names = "".join(f'"C{k}"\n' for k in range(40))
    data = f'40 2\n{"".join(lines)}0\n{names}"T"\n'.encode()
    start, end = section(data)
    assert grouped_plain(data, start, end, 40) is not None
    assert_same(data)


def test_lines_are_grouped_by_their_bytes_then_by_their_ranking() -> None:
    # 16 bytes and shorter: the line table; 17 and longer: parsed each time. The same ranking
    # spelt differently, or weighing 0 first, is one group placed by its first weighty line.
    lines = [
        b"0 1 2 0",
        b"1 12 3 4 5 6 0",  # 14 bytes
        b"1 12 3 4 5 6 0",
        b"1 12  3 4 5 6 0",  # 15 bytes, same ranking
        b"2 1 2 0",
        b"1 12 3 4 5 6 7 0",  # 16 bytes
        b"1 12 3 4 5 6 7  0",  # 17 bytes, same ranking
        b"1 12 3 4 5 6 8  0",  # 17 bytes, another
        b"   \t ",  # blank
        b"                    ",  # blank, longer
        b"1 12 3 4 5 6 8 0",
        b"3 1 2 0\r",
    ]
    data = b"12 1\n" + b"\n".join(lines) + b"\n0\n" + b"".join(b'"C%d"\n' % k for k in range(12))
    start, end = section(data)
    store = grouped_plain(data, start, end, 12)
    assert store is not None
    assert store.rows.tolist() == [
        [11, 2, 3, 4, 5, -1],
        [0, 1, -1, -1, -1, -1],
        [11, 2, 3, 4, 5, 6],
        [11, 2, 3, 4, 5, 7],
    ]
    assert store.weights.tolist() == [3, 5, 2, 2]
    assert_same(data)


def test_short_lines_alike_in_their_first_eight_bytes() -> None:
    # 1,600 lines that differ only after byte 8 crowd the line table: probes meet other lines
    pairs = [(x, y) for x in range(1, 41) for y in range(1, 41)]
    lines = [b"1 1 2 3 %d %d 0\n" % p for p in pairs]
    data = b"40 1\n" + b"".join(lines + lines[::-1]) + b"0\n"
    start, end = section(data)
    store = grouped_plain(data, start, end, 40)
    assert store is not None
    assert store.rows.tolist() == [[0, 1, 2, x - 1, y - 1] for x, y in pairs]
    assert store.weights.tolist() == [2] * len(pairs)


@pytest.mark.parametrize(
    ("tail", "weights"), [(b"", [2]), (b"1 1 0\n", [3]), (b"12 3 1 0\n", [2, 12])]
)
def test_a_short_line_at_the_very_end_of_the_data(tail: bytes, weights: list[int]) -> None:
    # the 16-byte loads of a short line must not read past the data (nor take bytes after it)
    data = b"3 1\n2 1 0\n" + tail
    found = _blt_c.scan_plain(data, 4, len(data), 3)
    assert found is not None
    assert np.frombuffer(found[1], dtype=np.int64).tolist() == weights


def test_repeated_short_lines_can_reach_the_63_bit_limit() -> None:
    heavy = b"999999999999999999 1 0\n" * 9  # parsed one by one: 9 x (10**18 - 1)
    for count, refused in ((200_000, False), (230_000, True)):
        data = b"1 1\n" + heavy + b"999999999999 1 0\n" * count + b'0\n"A"\n"T"\n'
        start, end = section(data)
        store = grouped_plain(data, start, end, 1)
        assert (store is None) == refused
        if store is not None:
            assert store.weights.tolist() == [9 * (10**18 - 1) + count * (10**12 - 1)]
        assert_same(data)


# -- hostile files: the same one-line error either way -------------------------------------------
NAMES = b'"A"\n"B"\n"C"\n"T"\n'


@pytest.mark.parametrize(
    "data",
    [
        b"3 1\n1 " + b"1" * 10_000_000 + b" 0\n0\n" + NAMES,  # a 10 MB number
        b"3 1\n1 " + b"1 2 3 " * 7_000 + b"0\n2 1 0\n0\n" + NAMES,  # a ranking 21,000 long
        b"3 1\n1 " + b"1 " * 100 + b"9" * 5_000_000 + b" 0\n0\n" + NAMES,
        b"3 1\n1 1 0\n\x00\x00\x00\n0\n" + NAMES,  # NUL bytes
        b"3 1\n1 1\x000\n0\n" + NAMES,
        b'3 1\n1 1 0\n0\n"A"\n"B"\n"C"\n"T"',  # no newline at the end
        b"3 1\n1 1 0\n2 3 1 0",  # nor a closing 0
        b'3 1\r\n1 1 0\r\n2 3 1 0\r\n0\r\n"A"\r\n"B"\r\n"C"\r\n"T"\r\n',  # CRLF
        b'3 1\r\n1 1 0\r\r\n2 3\r1 0\n\r0\r\n"A"\r\n"B"\r\n"C"\r\n"T"\r\n',
        b"999999999999999999 1\n1 1 0\n0\n" + NAMES,  # a huge candidate count
        b"3000000000 1\n1 2999999999 0\n0\n" + NAMES,
        b"2147483647 1\n1 2147483647 0\n0\n" + NAMES,
        b"3 1\n1 18446744073709551617 0\n0\n" + NAMES,  # wraps 64 bits
        b"3 1\n18446744073709551617 1 0\n0\n" + NAMES,
        b"3 1\n999999999999999999 1 0\n" * 20 + b"0\n" + NAMES,
        b"3 1\n1 1 0\n" + b"\n" * 100_000 + b"0\n" + NAMES,
        b"\xef\xbb\xbf3 1\n1 1 0\n0\n" + NAMES,  # a byte order mark
    ],
    ids=lambda d: repr(d[:24]),
)
def test_hostile_files_read_the_same_either_way(data: bytes) -> None:
    assert_same(data)


# -- generated files ------------------------------------------------------------------------------
GOOD_TOKENS = st.sampled_from([" ", "  ", "\t", " \t", "\r"])


@st.composite
def ballot_line(draw: st.DrawFn, n: int, dialects: bool) -> str:
    sep = draw(GOOD_TOKENS)
    weight = draw(
        st.one_of(st.just(1), st.integers(0, 99), st.integers(0, 10**18 - 1), st.just(10**18 - 1))
    )
    ranking = draw(st.lists(st.integers(1, n), max_size=8))
    tokens = [str(weight), *map(str, ranking), "0"]
    if draw(st.integers(0, 9)) == 0:  # leading zeros on some number (too many: too large)
        k = draw(st.integers(0, len(tokens) - 1))
        room = 20 if dialects else 18 - len(tokens[k])
        if room > 0:
            tokens[k] = "0" * draw(st.integers(1, room)) + tokens[k]
    flaw = draw(st.integers(0, 24 if dialects else 0))
    if flaw == 1:
        tokens.pop()  # unclosed
    elif flaw == 2:
        tokens += ["0"] * draw(st.integers(1, 3))  # padded
    elif flaw == 3:
        tokens.insert(draw(st.integers(1, len(tokens))), str(draw(st.integers(n + 1, n + 9))))
    elif flaw == 4 and n > 1:
        tokens.insert(1, "1=2")
    elif flaw == 5:
        tokens.insert(1, "-")
    elif flaw == 6:
        tokens.insert(0, f"(b{draw(st.integers(0, 99))})")
    elif flaw == 7:
        tokens.append("# a comment")
    elif flaw == 8:
        tokens.insert(
            1, draw(st.sampled_from(["x", "1.5", "\x00", "\xe9", "99999999999999999999"]))
        )
    elif flaw == 9:
        tokens = ["0" * draw(st.integers(1, 3))]  # an early closing 0
    elif flaw == 10:
        tokens.insert(draw(st.integers(1, len(tokens))), "0")
    elif flaw == 11:
        tokens.insert(draw(st.integers(0, len(tokens))), "/* a comment */")  # Droop's
    elif flaw == 12:
        tokens.insert(draw(st.integers(1, len(tokens))), draw(st.sampled_from(["1/2", "/*"])))
    lead = draw(st.sampled_from(["", " ", "\t"]))
    trail = draw(st.sampled_from(["", " ", "\r", " \r"]))
    return lead + sep.join(tokens) + trail


@st.composite
def blt_file(draw: st.DrawFn, dialects: bool) -> bytes:
    n = draw(st.one_of(st.integers(1, 6), st.integers(7, 40)))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    head = [f"{n} {draw(st.integers(1, n))}"]
    if draw(st.booleans()):
        head.append(" ".join(f"-{k}" for k in draw(st.sets(st.integers(1, n), min_size=1))))
    if dialects and draw(st.integers(0, 4)) == 0:
        head.append(f"[tie {' '.join(str(k) for k in range(n, 0, -1))}]")
    lines = draw(st.lists(ballot_line(n, dialects), max_size=30))
    repeat = draw(st.booleans())
    if lines and repeat:  # repeats, as in a real file
        lines += draw(st.lists(st.sampled_from(lines), max_size=30))
        lines = draw(st.permutations(lines))
    if draw(st.integers(0, 5)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), "")
    names = [f'"C{k}"' for k in range(n)]
    tail = [] if dialects and draw(st.integers(0, 5)) == 0 else ['"Title"']
    text = end.join([*head, *lines, "0", *names, *tail])
    if draw(st.booleans()):
        text += end
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blt_file(dialects=True))
def test_any_file_reads_the_same_with_or_without_the_compiled_scan(data: bytes) -> None:
    assert_same(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blt_file(dialects=False))
def test_plain_files_are_taken_by_the_compiled_scan(data: bytes) -> None:
    try:
        reference: BltElection | None = parse_blt(data, compiled=False)
    except BallotFileError as exc:
        assert "63 bits" in str(exc)  # plain files fail only so
        reference = None
    start = data.index(b"\n") + 1
    if data[start:].startswith(b"-"):  # a withdrawn line is header
        start = data.index(b"\n", start) + 1
    end = max(data.rfind(b"\n0\n"), data.rfind(b"\n0\r\n")) + 1
    store = grouped_plain(data, start, end, int(data.split()[0]))
    if reference is None or reference.ballots.weights.size == 0:
        assert store is None  # the reader's own refusal, or its own empty store
    else:
        assert store is not None, data[:300]
        assert store.rows.tolist() == reference.ballots.rows.tolist()
        assert store.weights.tolist() == reference.ballots.weights.tolist()
    assert_same(data)
