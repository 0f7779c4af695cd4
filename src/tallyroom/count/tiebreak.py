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
  or fewest (when eliminating) votes until one is left; still tied: random, or ask;
* ``stopCountingAndAsk``: a :data:`TieDecider` supplied by the caller (a file of decisions,
  a prompt) chooses; without one the count stops with :class:`TieUnresolved`.
"""

from __future__ import annotations

from collections.abc import Sequence

from tallyroom.count.javarandom import JavaRandom, java_shuffle
from tallyroom.count.options import TiebreakMode, TieDecider
from tallyroom.count.record import DecisionKind, TieBreak
from tallyroom.errors import CountError, TieUnresolved

__all__ = ["TieBreaker"]


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
            votes = {n: tally.get(n, 0) for n in contention}
            target = max(votes.values()) if winner else min(votes.values())
            contention = sorted(n for n in contention if votes[n] == target)
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
            pick = self._ask(round_number, winner, contention)
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
