"""Ballots to codes to elements and back: a bijection on valid ballots, reasons for the rest."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.count.rules.registry import BallotKind
from tallyroom.crypto import ballot_encoding as be
from tallyroom.crypto import group
from tallyroom.crypto.group import Element
from tallyroom.errors import InputError


@st.composite
def shapes_and_selections(draw: st.DrawFn) -> tuple[be.BallotShape, be.Selection]:
    kind = draw(st.sampled_from(["ranking", "set", "single", "motion"]))
    n = draw(st.integers(1, 70))
    shape: be.BallotShape
    if kind == "ranking":
        shape = be.Ranking(n, draw(st.integers(0, n)))
        k = shape.max_ranks
        marks = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=k))
        return shape, tuple(marks)
    if kind == "set":
        shape = be.ChoiceSet(n, draw(st.integers(0, n)))
        marks = draw(st.lists(st.integers(0, n - 1), unique=True, max_size=shape.max_choices))
        return shape, tuple(sorted(marks))
    if kind == "single":
        shape = be.SingleChoice(n)
        return shape, tuple(draw(st.lists(st.integers(0, n - 1), max_size=1)))
    shape = be.MotionChoice(max(2, n % 4))
    return shape, tuple(draw(st.lists(st.integers(0, shape.options - 1), max_size=1)))


@settings(max_examples=300, deadline=None)
@given(shapes_and_selections())
def test_every_ballot_shape_round_trips_through_elements(
    case: tuple[be.BallotShape, be.Selection],
) -> None:
    shape, selection = case
    code = shape.code(selection)
    assert 0 <= code < shape.size
    assert shape.selection(code) == selection
    elements = be.encode(shape, selection)
    assert len(elements) == be.width(shape)
    assert all(group.decode_element(e) == e for e in elements)
    assert be.decode(shape, elements) == selection


@pytest.mark.parametrize(
    "shape",
    [
        be.Ranking(5, 5),
        be.Ranking(6, 3),
        be.ChoiceSet(7, 3),
        be.SingleChoice(4),
        be.MotionChoice(3),
    ],
    ids=repr,
)
def test_codes_number_every_valid_ballot_exactly_once(shape: be.BallotShape) -> None:
    """Injective and onto [0, size): every selection enumerated has its own code."""
    codes: dict[int, be.Selection] = {}
    for selection in _all_selections(shape):
        code = shape.code(selection)
        assert code not in codes, (selection, codes.get(code))
        codes[code] = selection
    assert sorted(codes) == list(range(shape.size))
    elements = {be.encode(shape, s) for s in codes.values()}
    assert len(elements) == shape.size


def _all_selections(shape: be.BallotShape) -> list[be.Selection]:
    if isinstance(shape, be.Ranking):
        n, k = shape.candidates, shape.max_ranks
        return [p for r in range(k + 1) for p in itertools.permutations(range(n), r)]
    if isinstance(shape, be.ChoiceSet):
        n, k = shape.candidates, shape.max_choices
        return [c for r in range(k + 1) for c in itertools.combinations(range(n), r)]
    n = shape.candidates if isinstance(shape, be.SingleChoice) else shape.options  # type: ignore[attr-defined]
    return [(), *((c,) for c in range(n))]


def test_invalid_selections_are_refused_naming_the_value() -> None:
    with pytest.raises(InputError, match="marked twice"):
        be.Ranking(5, 5).code((1, 2, 1))
    with pytest.raises(InputError, match="no such candidate"):
        be.Ranking(5, 5).code((5,))
    with pytest.raises(InputError, match="at most 2"):
        be.Ranking(5, 2).code((0, 1, 2))
    with pytest.raises(InputError, match="at most 1"):
        be.SingleChoice(3).code((0, 1))
    with pytest.raises(InputError, match="no such option"):
        be.MotionChoice(2).code((2,))
    with pytest.raises(InputError, match="marked twice"):
        be.ChoiceSet(5, 3).code((2, 2))
    with pytest.raises(InputError, match="below"):
        be.Ranking(3, 3).selection(be.Ranking(3, 3).size)
    with pytest.raises(InputError, match="no such candidate"):
        be.SingleChoice(3).code((True,))  # a bool is not a candidate index
    with pytest.raises(InputError, match="no such candidate"):
        be.Ranking(3, 3).code((0, "1"))  # type: ignore[arg-type]


def test_numpy_integers_from_the_rank_matrix_are_candidates() -> None:
    import numpy as np

    row = np.array([2, 0, 1], dtype=np.int32)
    assert be.Ranking(3, 3).code(row) == be.Ranking(3, 3).code((2, 0, 1))  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 59), unique=True, max_size=60),
    st.lists(st.integers(0, 59), unique=True, max_size=60),
)
def test_different_rankings_have_different_codes(a: list[int], b: list[int]) -> None:
    shape = be.Ranking(60, 60)
    assert (shape.code(a) == shape.code(b)) == (a == b)


def test_a_code_out_of_range_decodes_to_a_reason() -> None:
    shape = be.Ranking(2, 2)  # 5 ballots: (), (0), (1), (0, 1), (1, 0)
    assert shape.size == 5
    out = be.decode(shape, be.code_to_elements(5, 1))
    assert isinstance(out, be.InvalidBallot) and out.reason is be.InvalidReason.RANGE
    assert be.decode(shape, be.code_to_elements(4, 1)) == (1, 0)


def test_an_element_with_a_chosen_counter_is_an_invalid_ballot() -> None:
    """A voter who encrypts a later counter could find their ballot after the shuffle."""
    limb = 3
    first = be.element_for_limb(limb)
    counter = (first[0] >> 1) | (first[31] << 7)
    later = next(
        Element(data)
        for k in range(counter + 1, be.COUNTER_LIMIT)
        if group_valid(
            data := bytes([(k & 0x7F) << 1]) + limb.to_bytes(30, "little") + bytes([k >> 7])
        )
    )
    out = be.decode(be.SingleChoice(5), (later,))
    assert isinstance(out, be.InvalidBallot) and out.reason is be.InvalidReason.COUNTER
    beyond = next(
        Element(data)
        for k in range(be.COUNTER_LIMIT, 1 << 14)
        if group_valid(
            data := bytes([(k & 0x7F) << 1]) + limb.to_bytes(30, "little") + bytes([k >> 7])
        )
    )
    out = be.decode(be.SingleChoice(5), (beyond,))
    assert isinstance(out, be.InvalidBallot) and out.reason is be.InvalidReason.COUNTER
    assert "above any encoder's" in out.detail
    assert be.decode(be.SingleChoice(5), (first,)) == (2,)


def group_valid(data: bytes) -> bool:
    try:
        group.decode_element(data)
    except InputError:
        return False
    return data != group.IDENTITY


@settings(max_examples=60, deadline=None)
@given(st.integers(1, group.ORDER - 1))
def test_a_random_plaintext_decodes_to_a_ballot_or_a_reason_never_an_exception(s: int) -> None:
    element = group.exp_base(s)
    for shape in (be.Ranking(40, 40), be.SingleChoice(2), be.ChoiceSet(10, 3)):
        out = be.decode(shape, (element,))
        if not isinstance(out, be.InvalidBallot):
            assert be.encode(shape, out) == (element,)


def test_identity_and_wrong_width_are_reasons() -> None:
    out = be.decode(be.SingleChoice(2), (group.IDENTITY,))
    assert isinstance(out, be.InvalidBallot) and out.reason is be.InvalidReason.IDENTITY
    two = be.encode(be.SingleChoice(2), (1,)) * 2
    out = be.decode(be.SingleChoice(2), two)
    assert isinstance(out, be.InvalidBallot) and out.reason is be.InvalidReason.WIDTH


def test_the_stated_limits() -> None:
    assert be.width(be.Ranking(2, 2)) == 1
    assert be.width(be.Ranking(40, 40)) == 1
    assert be.width(be.Ranking(54, 54)) == 1
    assert be.width(be.Ranking(55, 55)) == 2
    assert be.width(be.Ranking(100, 100)) == 3
    assert be.width(be.ChoiceSet(240, 240)) == 1
    assert be.width(be.ChoiceSet(241, 241)) == 2
    assert math.log2(be.Ranking(40, 40).size) < 161


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 99), unique=True, max_size=100))
def test_a_wide_ballot_keeps_its_limbs_in_order(marks: list[int]) -> None:
    shape = be.Ranking(100, 100)
    elements = be.encode(shape, marks)
    assert be.decode(shape, elements) == tuple(marks)
    if len(set(elements)) == 3:
        swapped = (elements[1], elements[0], elements[2])
        assert be.decode(shape, swapped) != tuple(marks)


def test_shapes_follow_the_rule_registry() -> None:
    assert be.shape_for(BallotKind.SINGLE, candidates=2, seats=1) == be.SingleChoice(2)
    assert be.shape_for(BallotKind.MULTI, candidates=9, seats=4) == be.ChoiceSet(9, 4)
    assert be.shape_for(BallotKind.RANKED, candidates=9, seats=3) == be.Ranking(9, 9)
    assert be.shape_for(BallotKind.CHOICE, candidates=3, seats=1) == be.MotionChoice(3)


def test_rows_laid_end_to_end_decode_in_order() -> None:
    shape = be.Ranking(100, 100)
    ballots = [tuple(range(99, -1, -1)), (), (5, 3)]
    flat = [e for b in ballots for e in be.encode(shape, b)]
    flat_bad = [*flat[:3], group.IDENTITY, *flat[4:]]
    assert be.decode_rows(shape, flat) == ballots
    out = be.decode_rows(shape, flat_bad)
    assert isinstance(out[1], be.InvalidBallot) and out[1].reason is be.InvalidReason.IDENTITY
    assert out[0] == ballots[0] and out[2] == ballots[2]
    with pytest.raises(InputError, match="rows of 3"):
        be.decode_rows(shape, flat[:-1])
