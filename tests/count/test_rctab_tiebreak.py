"""RCTab's ``previousRoundCountsThenRandom``: the lot drawn among those tied in every round.

The rule, from RCTab's ``Tiebreak.java`` (``doPreviousRounds`` then ``doRandom``): the tied
names are sorted; each earlier round, newest first, gathers the contenders' tallies by iterating
``new HashSet<>(contenders)`` and keeps those with the most (electing) or fewest (eliminating)
votes, in that iteration order; if more than one is left after round 1, the lot is index
``floor(nextDouble() * k)`` of that list, ``java.util.Random(seed)``. A tie in round 1 has no
earlier round, so the lot indexes the sorted list.

Facts used below, from the Java SE documentation: ``String.hashCode`` is
``s[0]*31^(n-1) + ... + s[n-1]`` in 32 bits; a ``HashSet`` of up to 12 strings has 16 buckets,
``(h ^ (h >>> 16)) & 15``, walked in order, each bucket in insertion order.
"""

from __future__ import annotations

import numpy as np

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable
from tallyroom.count.javarandom import JavaRandom
from tallyroom.count.options import RctabOptions, TiebreakMode
from tallyroom.count.record import DecisionKind
from tallyroom.count.rules.rctab import tabulate
from tallyroom.count.tiebreak import TieBreaker, java_hash_set_order


def _bucket16(name: str) -> int:
    n = len(name)
    h = sum(ord(c) * 31 ** (n - 1 - i) for i, c in enumerate(name)) % 2**32
    return (h ^ (h >> 16)) & 15


def test_the_hash_facts_behind_the_case() -> None:
    # "Alice".hashCode() == 63350368 and "Bob".hashCode() == 66965 (as Java prints them)
    assert _bucket16("Bob") == 4 and _bucket16("Alice") == 6
    assert java_hash_set_order(["Alice", "Bob"]) == ["Bob", "Alice"]
    # "Aa" and "BB" share a hashCode (2112): one bucket, insertion order kept
    assert java_hash_set_order(["BB", "Aa"]) == ["BB", "Aa"]
    assert java_hash_set_order(["Aa", "BB"]) == ["Aa", "BB"]


def _two_tied_in_every_round(seed: int) -> tuple[str, ...]:
    """Alice 3, Bob 3, Cy 1 (only Cy ranked): Cy goes, then Alice and Bob are still 3-3."""
    a, b, c = 0, 1, 2
    rows = [[a, b]] * 3 + [[b, a]] * 3 + [[c, SKIP]]
    store = BallotStore.from_rows(np.asarray(rows, dtype=np.int32))
    options = RctabOptions(
        tiebreak_mode=TiebreakMode.PREVIOUS_ROUND_COUNTS_THEN_RANDOM, random_seed=seed
    )
    count = tabulate(store, CandidateTable(("Alice", "Bob", "Cy")), options)
    (tie,) = count.ties
    assert tie.round == 2 and tie.purpose is DecisionKind.ELECTED
    return count.winners


def test_tied_in_every_round_draws_from_the_hash_set_order() -> None:
    # After round 1 (3-3) the contenders are in HashSet order: Bob (bucket 4), Alice (6).
    assert JavaRandom(1).next_index(2) == 1  # second of the list: Alice
    assert _two_tied_in_every_round(1) == ("Alice",)
    assert JavaRandom(12345).next_index(2) == 0  # first of the list: Bob
    assert _two_tied_in_every_round(12345) == ("Bob",)


def test_a_tie_in_round_one_draws_from_the_sorted_names() -> None:
    breaker = TieBreaker(TiebreakMode.PREVIOUS_ROUND_COUNTS_THEN_RANDOM, ("Bob", "Alice"), seed=1)
    tie = breaker.choose(1, ["Bob", "Alice"], DecisionKind.ELIMINATED, [])
    assert tie.chosen == "Bob"  # index 1 of the sorted ["Alice", "Bob"]


def test_an_earlier_round_that_separates_them_decides() -> None:
    breaker = TieBreaker(TiebreakMode.PREVIOUS_ROUND_COUNTS_THEN_RANDOM, ("Alice", "Bob"), seed=1)
    history = [{"Alice": 2, "Bob": 4}, {"Alice": 3, "Bob": 3}]
    assert breaker.choose(3, ["Alice", "Bob"], DecisionKind.ELIMINATED, history).chosen == "Alice"
    assert breaker.choose(3, ["Alice", "Bob"], DecisionKind.ELECTED, history).chosen == "Bob"
