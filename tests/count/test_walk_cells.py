"""The cell-wise walk (every cell judged at once) against a rank-by-rank walk (Hypothesis).

``reference_walk`` is RCTab's per-ballot loop (``Tabulator.computeTalliesForRound``) written
out plainly for one ballot at a time: from the start column, each marked rank in turn is
checked for too many skipped ranks, a repeated candidate, an overvote under the chosen rule,
a continuing candidate, and the last mark. :func:`tallyroom.count.walk.walk` must give the same
recipient, status and resting column for every ballot, whatever the marks, the flags, the
overvote rule, who continues and where the walk starts.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import OVERVOTE, OVERVOTE_SET_BASE, SKIP, overvote_set_code
from tallyroom.count.options import OvervoteRule
from tallyroom.count.walk import CellFlags, Status, cell_flags, walk

SETS = ((0, 1), (1, 2), (2, 2), (0, 1, 3))


def reference_walk(
    row: list[int],
    start: int,
    flags: CellFlags,
    g: int,
    continuing: list[bool],
    rule: OvervoteRule,
) -> tuple[int, int, int]:
    """(recipient, status, column) of one ballot's walk, one rank at a time."""
    width = len(row)
    last = int(flags.last[g])
    p = start
    while p < width:
        code = row[p]
        if code != SKIP:
            if flags.gap is not None and flags.gap[g, p]:
                return -1, Status.SKIPPED_RANKINGS, p
            if flags.repeat is not None and flags.repeat[g, p]:
                return -1, Status.REPEATED_RANKINGS, p
            choice = code
            if code < SKIP and rule is OvervoteRule.EXHAUST_IMMEDIATELY:
                return -1, Status.OVERVOTE, p
            if code <= OVERVOTE_SET_BASE and rule is OvervoteRule.EXHAUST_IF_MULTIPLE_CONTINUING:
                live = [c for c in SETS[OVERVOTE_SET_BASE - code] if continuing[c]]
                if len(live) >= 2:
                    return -1, Status.OVERVOTE, p
                if len(live) == 1:
                    choice = live[0]
            if choice >= 0 and continuing[choice]:
                return choice, Status.ACTIVE, p
            if p == last:
                return -1, Status.EXHAUSTED_CHOICES, p
        p += 1
    return -1, Status.EXHAUSTED_CHOICES, p


@st.composite
def walks(
    draw: st.DrawFn,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[bool], OvervoteRule, int | None, bool]:
    n = 5
    width = draw(st.integers(1, 6))
    cell = st.one_of(
        st.integers(0, n - 1),
        st.just(SKIP),
        st.just(OVERVOTE),
        st.sampled_from([overvote_set_code(k) for k in range(len(SETS))]),
    )
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), min_size=1, max_size=30))
    ranks = np.asarray(rows, dtype=np.int32)
    g = ranks.shape[0]
    groups = np.asarray(
        draw(st.lists(st.integers(0, g - 1), min_size=0, max_size=2 * g)), dtype=np.intp
    )
    start = np.asarray(
        [draw(st.integers(0, width)) for _ in range(groups.shape[0])], dtype=np.int32
    )
    continuing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rule = draw(st.sampled_from(list(OvervoteRule)))
    max_skipped = draw(st.sampled_from([None, 0, 1, 2]))
    repeats = draw(st.booleans())
    return ranks, groups, start, continuing, rule, max_skipped, repeats


@settings(max_examples=600, deadline=None)
@given(walks())
def test_cell_wise_walk_matches_the_rank_by_rank_walk(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, list[bool], OvervoteRule, int | None, bool],
) -> None:
    ranks, groups, start, continuing, rule, max_skipped, repeats = case
    flags = cell_flags(ranks, SETS, 5, max_skipped=max_skipped, check_repeats=repeats)
    got = walk(ranks, flags, groups, start, np.asarray(continuing), SETS, rule)
    for i, g in enumerate(groups.tolist()):
        row = ranks[g].tolist()
        expected = reference_walk(row, int(start[i]), flags, g, continuing, rule)
        actual = (int(got.recipient[i]), int(got.status[i]), int(got.position[i]))
        assert actual == expected, (row, int(start[i]), continuing, rule, max_skipped, repeats)
    assert got.recipient.dtype == np.int32
    assert got.status.dtype == np.int8
    assert got.position.dtype == np.int32


def test_a_walk_of_no_ballots_is_empty() -> None:
    ranks = np.asarray([[0, 1, SKIP]], dtype=np.int32)
    flags = cell_flags(ranks, (), 2, max_skipped=None, check_repeats=False)
    got = walk(
        ranks,
        flags,
        np.empty(0, dtype=np.intp),
        np.empty(0, dtype=np.int32),
        np.ones(2, dtype=bool),
        (),
        OvervoteRule.ALWAYS_SKIP_TO_NEXT_RANK,
    )
    assert got.recipient.shape == got.status.shape == got.position.shape == (0,)


# One ballot per case where two steps end the walk at the same cell: the earlier step names
# the reason (skipped before repeated before overvote before a continuing candidate).
PRECEDENCE = [
    # a gap and a repeat at the same mark: skipped rankings
    ([0, SKIP, SKIP, 0], 3, [False, True, True, True, True], None, 0, True),
    # a repeat that is also a continuing candidate: repeated rankings
    ([0, SKIP, 0, SKIP], 2, [True, True, True, True, True], None, None, True),
    # a gap on a continuing candidate: skipped rankings
    ([1, SKIP, SKIP, 2], 3, [True, True, True, True, True], None, 1, False),
    # a repeated overvote set under exhaustImmediately: repeated rankings
    ([overvote_set_code(0), overvote_set_code(0)], 1, [True] * 5, "imm", None, True),
    # an overvote set with two continuing members, also after a gap: skipped rankings
    ([2, SKIP, overvote_set_code(0)], 2, [True] * 5, "multi", 0, False),
]


def test_the_earlier_step_names_the_reason() -> None:
    rules = {
        None: OvervoteRule.ALWAYS_SKIP_TO_NEXT_RANK,
        "imm": OvervoteRule.EXHAUST_IMMEDIATELY,
        "multi": OvervoteRule.EXHAUST_IF_MULTIPLE_CONTINUING,
    }
    for row, start, continuing, rule_name, max_skipped, repeats in PRECEDENCE:
        ranks = np.asarray([row], dtype=np.int32)
        rule = rules[rule_name]
        flags = cell_flags(ranks, SETS, 5, max_skipped=max_skipped, check_repeats=repeats)
        got = walk(
            ranks,
            flags,
            np.zeros(1, dtype=np.intp),
            np.asarray([start], dtype=np.int32),
            np.asarray(continuing),
            SETS,
            rule,
        )
        expected = reference_walk(row, start, flags, 0, continuing, rule)
        assert expected[1] != Status.ACTIVE
        actual = (int(got.recipient[0]), int(got.status[0]), int(got.position[0]))
        assert actual == expected, row
