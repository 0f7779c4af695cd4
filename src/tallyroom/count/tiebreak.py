"""Tie-break policies of the RCTab rule family; every use is recorded in its round.

Ties are resolved exactly as RCTab resolves them (``Tiebreak.java`` semantics, per its config
documentation): the tied names are sorted (Java ``String`` order, the same as Python's for the
Basic Multilingual Plane), then

* ``random``: index ``floor(nextDouble() * k)`` of ``java.util.Random(seed)``, one generator
  for the whole count;
* ``useCandidateOrder``: a winner is the tied candidate listed first, a loser the one listed
  last;
* ``generatePermutation``: as above in an order made once by sorting the names and applying
  ``Collections.shuffle`` with ``java.util.Random(seed)``;
* ``previousRoundCounts...``: earlier rounds, newest first, keep only the most (when electing)
  or fewest (when eliminating) votes until one is left; still tied: random, or ask, among
  those still in contention. RCTab gathers each earlier round's contenders by iterating a
  ``java.util.HashSet`` built from the previous list, so after at least one earlier round the
  list drawn from is in ``HashSet`` iteration order (:func:`java_hash_set_order`), not sorted;
  with no earlier round (a tie in round 1) it is the sorted list;
* ``stopCountingAndAsk``: a :data:`TieDecider` supplied by the caller (a file of decisions,
  a prompt) chooses; without one the count stops with :class:`TieUnresolved`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tallyroom.count.javarandom import JavaRandom, java_shuffle
from tallyroom.count.options import TiebreakMode, TieDecider
from tallyroom.count.record import DecisionKind, TieBreak
from tallyroom.errors import CountError, TieUnresolved

__all__ = ["TieBreaker", "java_hash_set_order"]


class TieBreaker:
    """Chooses among tied candidates under one :class:`TiebreakMode` for a whole count."""

    def __init__(
        self,
        mode: TiebreakMode,
        candidate_order: Sequence[str],
        *,
        seed: int | None = None,
        decider: TieDecider | None = None,
    ) -> None:
        self.mode = mode
        self.decider = decider
        self._random: JavaRandom | None = None
        self.order: tuple[str, ...] = tuple(candidate_order)
        if mode.needs_seed:
            if seed is None:
                raise CountError(f"tie-break mode {mode.value} needs a random seed")
            rnd = JavaRandom(seed)
            if mode is TiebreakMode.GENERATE_PERMUTATION:
                perm = sorted(self.order)
                java_shuffle(perm, rnd)
                self.order = tuple(perm)
            else:
                self._random = rnd

    def choose(
        self,
        round_number: int,
        tied: Sequence[str],
        purpose: DecisionKind,
        history: Sequence[dict[str, int]],
    ) -> TieBreak:
        """Pick one of ``tied``. ``history[i]`` is the tally of round ``i + 1``."""
        names = sorted(tied)
        winner = purpose is DecisionKind.ELECTED
        mode = self.mode
        if mode in (TiebreakMode.USE_CANDIDATE_ORDER, TiebreakMode.GENERATE_PERMUTATION):
            rank = {name: i for i, name in enumerate(self.order)}
            pick = (min if winner else max)(names, key=lambda n: rank.get(n, len(rank)))
            where = "earliest" if winner else "latest"
            listing = "config" if mode is TiebreakMode.USE_CANDIDATE_ORDER else "permutation"
            return self._record(
                round_number,
                purpose,
                names,
                pick,
                mode.value,
                f"the selected candidate appears {where} in the {listing} order",
            )
        if mode is TiebreakMode.RANDOM:
            pick = self._draw(names)
            return self._record(round_number, purpose, names, pick, mode.value, "drawn by lot")
        if mode is TiebreakMode.STOP_COUNTING_AND_ASK:
            pick = self._ask(round_number, winner, names)
            return self._record(
                round_number, purpose, names, pick, mode.value, "chosen by the operator"
            )
        # previous round counts, then random or ask
        contention = names
        for r in range(round_number - 1, 0, -1):
            tally = history[r - 1]
            # Tiebreak.java: tallies gathered over new HashSet<>(contention), so the survivors
            # come out in that set's iteration order (the random draw indexes this list)
            contention = java_hash_set_order(contention)
            votes = {n: tally.get(n, 0) for n in contention}
            target = max(votes.values()) if winner else min(votes.values())
            contention = [n for n in contention if votes[n] == target]
            if len(contention) == 1:
                return self._record(
                    round_number,
                    purpose,
                    names,
                    contention[0],
                    mode.value,
                    f"{'most' if winner else 'fewest'} votes in round {r}",
                )
        if mode is TiebreakMode.PREVIOUS_ROUND_COUNTS_THEN_RANDOM:
            pick = self._draw(contention)
            how = "still tied in earlier rounds; drawn by lot"
        else:
            pick = self._ask(round_number, winner, sorted(contention))
            how = "still tied in earlier rounds; chosen by the operator"
        return self._record(round_number, purpose, names, pick, mode.value, how)

    def _draw(self, names: Sequence[str]) -> str:
        assert self._random is not None
        return names[self._random.next_index(len(names))]

    def _ask(self, round_number: int, winner: bool, names: Sequence[str]) -> str:
        purpose = "election" if winner else "elimination"
        if self.decider is None:
            raise TieUnresolved(list(names), f"{purpose} in round {round_number}")
        pick = self.decider(round_number, winner, list(names))
        if pick not in names:
            raise CountError(f"tie decision {pick!r} is not one of the tied: {', '.join(names)}")
        return pick

    @staticmethod
    def _record(
        round_number: int,
        purpose: DecisionKind,
        names: Sequence[str],
        pick: str,
        method: str,
        explanation: str,
    ) -> TieBreak:
        return TieBreak(
            round=round_number,
            purpose=purpose,
            tied=tuple(names),
            chosen=pick,
            method=method,
            explanation=explanation,
        )


# -- java.util.HashSet iteration order (OpenJDK 21, the JDK RCTab is built with) ---------------
_TREEIFY_THRESHOLD = 8  # HashMap: a bin this long (plus one) is treeified, or the table grows
_MIN_TREEIFY_CAPACITY = 64


def _java_string_hash(text: str) -> int:
    """``String.hashCode()``: s[0]*31^(n-1) + ... over UTF-16 code units, in 32 bits."""
    h = 0
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = (31 * h + int.from_bytes(units[i : i + 2], "little")) & 0xFFFFFFFF
    return h


def _table_size_for(cap: int) -> int:
    """``HashMap.tableSizeFor``: the least power of two at or above ``cap``."""
    n = 1
    while n < cap:
        n *= 2
    return n


def java_hash_set_order(items: Sequence[str]) -> list[str]:
    """The iteration order of ``new HashSet<>(items)`` (distinct strings) in OpenJDK 21.

    ``HashSet(Collection)`` sizes its map with ``HashMap.newHashMap(max(n, 12))``: a table of
    ``tableSizeFor(ceil(max(n, 12) / 0.75))`` buckets, so no resize follows from size. Each
    string goes to bucket ``(h ^ (h >>> 16)) & (capacity - 1)``, ``h`` its ``hashCode``;
    iteration walks the buckets in order, each bucket in insertion order. A ninth string in
    one bucket of a table under 64 buckets doubles the table (``treeifyBin``), which keeps each
    bucket's order; a treeified bin (nine colliding names in a table of 64 or more) is not
    modelled and raises :class:`CountError` rather than guess.
    """
    size = max(len(items), 12)
    capacity = _table_size_for(-(-size * 4 // 3))  # ceil(size / 0.75)
    placed: list[tuple[str, int]] = []
    for name in items:
        h = _java_string_hash(name)
        h ^= h >> 16
        already = sum(1 for _, other in placed if (other ^ h) & (capacity - 1) == 0)
        placed.append((name, h))
        if already >= _TREEIFY_THRESHOLD:  # putVal: binCount >= TREEIFY_THRESHOLD - 1
            if capacity >= _MIN_TREEIFY_CAPACITY:
                raise CountError(
                    "cannot reproduce RCTab's order for a tie among more than "
                    f"{_TREEIFY_THRESHOLD} names that share a hash bucket"
                )
            capacity *= 2  # a resize keeps each bucket's order: re-bucketing the list is exact
    by_bucket = sorted(range(len(placed)), key=lambda i: (placed[i][1] & (capacity - 1), i))
    return [placed[i][0] for i in by_bucket]
