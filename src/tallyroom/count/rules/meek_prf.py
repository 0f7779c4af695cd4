"""The Proportional Representation Foundation's reference Meek rule ("PRF Meek Reference STV").

Source: the PR Foundation, "Reference Meek Rule" (prfound.org/resources/reference/
reference-meek-rule/), as Droop implements it (rule ``meek-prf``). It is Meek's method
(:mod:`~tallyroom.count.rules.meek`) with every parameter fixed; the clauses that fix them:

* [A] "Set each hopeful candidate's keep factor kf to 1, and each withdrawn candidate's keep
  factor to 0. Set omega to 0.000001 (1/10^6)."
* [B.1] count complete when all seats are filled or the elected plus hopeful candidates are
  no more than the seats.
* [B.2.a] "for each candidate, in order of rank on that ballot: add w multiplied by the keep
  factor kf of the candidate (to 9 decimal places, rounded up) to that candidate's vote v, and
  reduce w by the same amount" (:attr:`TransferRounding.HILL`).
* [B.2.b] "Set quota q to the sum of the vote v for all candidates ..., divided by one more
  than the number of seats to be filled, truncated to 9 decimal places, plus 0.000000001".
* [B.2.c] elect each hopeful with ``v >= q``.
* [B.2.d] "the total surplus s, as the sum of the individual surpluses (v - q) of the elected
  candidates but not less than 0" (``force_positive_surplus``).
* [B.2.e] the iteration ends on an election, when "s is less than omega" (strictly:
  ``omega_inclusive=False``), or when ``s`` did not decrease.
* [B.2.f] ``kf := kf x q`` (9 places, rounded up) ``/ v`` (9 places, rounded up).
* [B.3] defeat the lowest hopeful; "each candidate c' is tied with c if vote v' for c' is less
  than or equal to v plus total surplus s"; [T] ties by "the defined tiebreaking procedure":
  as Droop, the ballot file's tie order (``[tie ...]``), else the candidate order.
* [C] elect the remaining hopefuls if seats are unfilled, else defeat them.

Known deviation from Droop's report: after the last round Droop reports the votes of the last
iteration, tallyroom recounts after each "elect remaining"/"defeat remaining" (the same
candidates are elected; only the final tallies shown differ).
"""

from __future__ import annotations

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.meek import count_meek
from tallyroom.count.rules.meek_options import (
    Arithmetic,
    DefeatBatch,
    MeekOptions,
    TieOrder,
    TransferRounding,
)
from tallyroom.count.rules.params import RuleParams

__all__ = ["meek_prf_options", "meek_prf_rule"]


def meek_prf_options(tie_order: tuple[int, ...] = ()) -> MeekOptions:
    """The reference rule's parameters, ties by ``tie_order`` then candidate order."""
    return MeekOptions(
        arithmetic=Arithmetic.FIXED,
        places=9,  # [B.2.a, B.2.b, B.2.f] "to 9 decimal places"
        omega_places=6,  # [A] "omega to 0.000001"
        omega_inclusive=False,  # [B.2.e] "less than omega"
        transfer_rounding=TransferRounding.HILL,  # [B.2.a] kept rounded up, w reduced by it
        force_positive_surplus=True,  # [B.2.d] "but not less than 0"
        tie=TieOrder(tie_order),  # [T]
        defeat_batch=DefeatBatch.NONE,  # [B.3] one defeat a round
    )


def meek_prf_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: the reference rule, ties by the ballot file's tie order."""
    return count_meek(store, candidates, params.seats, meek_prf_options(params.tie_order))
