"""QPQ (Woodall 2003): Droop's reference counts, hand-worked paragraphs, properties."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from droop_cases import Case, params
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.record import DecisionKind
from tallyroom.count.rules.qpq import QpqOptions, count_qpq
from tallyroom.count.rules.registry import RuleParams, get_rule
from tallyroom.errors import ConfigError, TieUnresolved

NAMES = tuple("abcdefg")
UNIT = Fraction(1, 10**9)
CLOSE = Fraction(1, 10**9)


@pytest.mark.parametrize("case", params("qpq", "qpq"))
def test_matches_droop_s_qpq(case: Case, tmp_path: Path) -> None:
    """Every election and exclusion in order (the remaining elections last), and at each, the
    quota and every hopeful candidate's quotient to within 10**-9 (Droop's guarded arithmetic
    shows 9 places); who is elected."""
    election = case.election(tmp_path)
    opts = QpqOptions(seats=election.seats, tie_order=election.tie_order or ())
    count = count_qpq(election.ballots, election.candidates, opts)
    rows = case.rows
    main = [
        r
        for i, r in enumerate(rows[:-1])
        if r.action in ("elect", "defeat") and rows[i + 1].action == "transfer"
    ]
    assert len(count.rounds) == len(main)
    states = {n: "H" for n in main[0].states} if main else {}
    restart = False
    for rnd, row in zip(count.rounds, main, strict=True):
        if restart:  # [2.5b] the count restarts: every election undone
            states = {n: "H" if s == "E" else s for n, s in states.items()}
        decision = rnd.decisions[0]
        elected = decision.kind is DecisionKind.ELECTED
        states[decision.candidate] = "E" if elected else "D"
        restart = not elected
        assert row.action == ("elect" if elected else "defeat"), rnd.label
        assert states == row.states, rnd.label
        assert row.quota is not None
        assert abs(rnd.threshold * UNIT - row.quota) <= CLOSE, rnd.label
        tally = dict(rnd.tally)
        for name, state in row.states.items():
            if state == "H" or name == decision.candidate:
                assert abs(tally[name] * UNIT - row.votes[name]) <= CLOSE, (rnd.label, name)
    end = rows[-1]
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")


def test_woodall_s_paragraphs_worked_by_hand() -> None:
    """Droop's qpq1: a>b 16, b 12, c 12, d 12, e>b 8; 60 ballots, 3 seats.

    Stage 1 [2.3, 2.4]: quotients 16, 12, 12, 12, 8; quota 60 / (1 + 3 - 0) = 15: a (16 > 15)
    is elected [2.5a]; its 16 ballots have elected 1/16 each and now contribute to b.
    Stage 2: b (12 + 16) / (1 + 1) = 14, c 12, d 12, e 8; quota 15: nobody over it; e, the
    smallest, is excluded [2.5b] and the count restarts.
    Stage 3: a 16, b 12 + 8 = 20, c 12, d 12; quota 15: b (20) elected; its 20 ballots 1/20.
    Stage 4: a 16 (the a>b ballots, which elected 0 after the restart, are at a); quota
    60 / (1 + 3) = 15... the b and e>b ballots are now inactive having elected 1/20 each:
    tx = 1, va = 40, quota 40 / 3 = 13.33...: a elected.
    Stage 5: c 12, d 12, quota (24) / (1 + 3 - 2) = 12: nobody over; c and d tie for smallest:
    by lot; the other fills the last seat."""
    a, b, c, d, e = range(5)
    store = BallotStore.from_rankings([[a, b], [b], [c], [d], [e, b]], [16, 12, 12, 12, 8])
    count = count_qpq(store, CandidateTable(NAMES[:5]), QpqOptions(3, lot=Lot(seed=5)))
    labels = [r.label for r in count.rounds]
    assert labels[:4] == ["elect a", "exclude e", "elect b", "elect a"]
    assert count.rounds[1].threshold == 15 * 10**9
    assert dict(count.rounds[1].tally)["b"] == 14 * 10**9
    assert count.rounds[3].threshold == 13333333333
    assert count.rounds[4].threshold == 12 * 10**9 and count.rounds[4].ties
    assert set(count.winners) >= {"a", "b"} and len(count.winners) == 3
    with pytest.raises(TieUnresolved):
        count_qpq(store, CandidateTable(NAMES[:5]), QpqOptions(3))


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError):
        QpqOptions(seats=0)


@st.composite
def elections(draw: st.DrawFn) -> tuple[BallotStore, CandidateTable, int]:
    k = draw(st.integers(2, 6))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=20))
    weights = draw(st.lists(st.integers(1, 30), min_size=len(rows), max_size=len(rows)))
    return (
        BallotStore.from_rankings(rows, weights),
        CandidateTable(NAMES[:k]),
        draw(st.integers(1, k)),
    )


@settings(max_examples=300, deadline=None)
@given(elections(), st.integers(0, 2**31))
def test_seats_filled_candidates_elected_once_order_irrelevant(
    election: tuple[BallotStore, CandidateTable, int], seed: int
) -> None:
    """The right number elected, each once; every election is over the quota shown; ballot
    order irrelevant."""
    store, cands, seats = election
    count = get_rule("qpq").count(store, cands, RuleParams(seats=seats, seed=seed))
    assert len(count.winners) == seats == len(set(count.winners))
    for rnd in count.rounds:
        for d in rnd.decisions[:1]:
            if d.kind is DecisionKind.ELECTED and "remaining" not in rnd.label:
                assert dict(rnd.tally)[d.candidate] >= rnd.threshold
    order = list(range(len(store.weights)))[::-1]
    shuffled = BallotStore.from_rankings(
        [[int(x) for x in store.rows[i] if x >= 0] for i in order],
        [int(store.weights[i]) for i in order],
    )
    assume(not any(r.ties for r in count.rounds))
    assert get_rule("qpq").count(shuffled, cands, RuleParams(seats=seats)).winners == (
        count.winners
    )
