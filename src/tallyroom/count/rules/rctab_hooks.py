"""The RCTab count's extension point: a rule that changes who is elected or excluded.

:func:`tallyroom.count.rules.rctab.tabulate` runs RCTab's round loop (tally, threshold, elect
or exclude, surplus, record). A rule that keeps all of that but decides differently who is
elected or who is excluded in a round (seat constraints, :mod:`.constrained_stv`) passes a
:class:`RoundDecisions` as ``decisions=``; it is asked, every round that needs it:

* :meth:`RoundDecisions.elect`: who is elected this round (candidate codes, in the order of
  election); an empty list means nobody, and the round excludes instead (while seats are
  unfilled);
* :meth:`RoundDecisions.exclude`: who is excluded this round (at least one).

Each gets a :class:`RoundContext`: the round's number, the continuing candidates' votes, the
threshold, who is already elected, and three services of the standard count:
:meth:`RoundContext.standard_winners` and :meth:`RoundContext.standard_exclusions` (what RCTab
would decide, computed only when asked, since they may break a tie, record it and draw a
lot), and :meth:`RoundContext.break_tie` (a tie broken by the count's configured policy and
recorded in the round). A hook may keep its own notes (round labels, logs); it cannot touch
the ballots, the tallies or the arithmetic, so every surplus and transfer stays RCTab's.

Without a hook the count is RCTab's, bit for bit: the default decisions are the standard ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tallyroom.count.record import DecisionKind

__all__ = ["RoundContext", "RoundDecisions"]


@dataclass(frozen=True, slots=True)
class RoundContext:
    """One round's state, as a :class:`RoundDecisions` sees it (codes index ``names``).

    ``tally`` holds the continuing candidates' votes (in units of the count's scale), the
    undeclared write-in included when it is in the count (code ``write_in``); ``elected``
    lists the candidates elected in earlier rounds, in order of election.
    """

    number: int
    tally: Mapping[int, int]
    threshold: int
    elected: tuple[int, ...]
    names: tuple[str, ...]
    write_in: int | None
    _standard_winners: Callable[[], list[int]]
    _standard_exclusions: Callable[[], list[int]]
    _break_tie: Callable[[Sequence[int], DecisionKind], int]

    @property
    def continuing(self) -> list[int]:
        """The continuing candidates in candidate order, the undeclared write-in left out."""
        return [c for c in sorted(self.tally) if c != self.write_in]

    @property
    def write_in_holds_votes(self) -> bool:
        """Whether undeclared write-ins hold votes (RCTab then elects nobody and excludes them)."""
        return self.write_in is not None and self.tally.get(self.write_in, 0) > 0

    def standard_winners(self) -> list[int]:
        """Who RCTab elects this round (may break and record a tie)."""
        return self._standard_winners()

    def standard_exclusions(self) -> list[int]:
        """Who RCTab excludes this round (may break and record a tie, or draw a lot)."""
        return self._standard_exclusions()

    def break_tie(self, tied: Sequence[int], purpose: DecisionKind) -> int:
        """One of ``tied`` by the count's tie-break policy; the tie is recorded in the round."""
        return self._break_tie(tied, purpose)


class RoundDecisions(Protocol):
    """Who is elected and who is excluded in a round (see the module docstring)."""

    def elect(self, ctx: RoundContext) -> list[int]: ...

    def exclude(self, ctx: RoundContext) -> list[int]: ...
