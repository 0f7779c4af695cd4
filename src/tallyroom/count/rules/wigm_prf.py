"""The Proportional Representation Foundation's reference WIGM rule ("PRF WIGM Reference STV").

Source: the PR Foundation, "Reference WIGM Rule" (prfound.org/resources/reference/
reference-wigm-rule/), as Droop implements it (rules ``wigm-prf`` and ``wigm-prf-batch``). It
is the weighted inclusive Gregory method of :mod:`~tallyroom.count.rules.wigm` with these
parameters, clause by clause:

* [A.1] "Set the quota ... to the total number of valid ballots, divided by one more than the
  number of seats to be filled, plus 0.0001" (:attr:`QuotaRule.DROOP_FRACTIONAL` at 4 places;
  [D.4] the division truncated).
* [A.4, A.5] every ballot at weight one to its top-ranked hopeful.
* [B.1] elect each hopeful at or over the quota, surplus transfer pending.
* [B.2] (optional, ``defeat_batch=safe``: Droop's ``wigm-prf-batch``) "Defeat sure losers":
  the largest set of hopefuls that leaves enough hopefuls for the seats left [B.2.a], holds
  every hopeful with "the same vote or lower" [B.2.b], and whose votes plus "all the current
  surpluses" are "less than the lowest vote of the hopeful candidates not in the set" [B.2.c];
  all defeated together, their ballots transferred [D.2].
* [B.3] transfer the largest surplus: each ballot's "new weight to the ballot's current weight
  multiplied by the candidate's surplus ..., then divided by the candidate's total vote"
  (:attr:`TransferRounding.STEPWISE`: [D.4] "Truncate, with no rounding, the result of each
  multiplication or division to four decimal places").
* [B.4] else defeat the lowest hopeful and transfer their ballots at their current weight.
* [D.1] ties (surplus order, defeat): "the tied candidate who is earliest in a predetermined
  random tiebreaking order": as Droop, the ballot file's ``[tie ...]`` order, else the
  candidate order.
* [D.3, C] the count is complete when the elected and pending fill the seats, or the elected,
  pending and hopeful are no more than the seats (then all elected).

Known deviations (the same candidates are elected; Droop's report shows different steps):
a surplus of zero makes no stage (B.3 "transfers" it: nothing moves); when a defeat completes
the count [B.4 "test count complete (D.3)"], tallyroom still transfers the defeated
candidate's ballots before electing the rest.
"""

from __future__ import annotations

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.record import Count
from tallyroom.count.rules.params import DefeatBatch, QuotaRule, RuleParams
from tallyroom.count.rules.wigm import TransferRounding, WigmOptions, count_wigm

__all__ = ["RULE_NAME", "wigm_prf_options", "wigm_prf_rule"]

RULE_NAME = "wigm-prf"


def wigm_prf_options(
    seats: int, tie_order: tuple[int, ...] = (), batch: DefeatBatch = DefeatBatch.NONE
) -> WigmOptions:
    """The reference rule's parameters as :class:`WigmOptions`."""
    return WigmOptions(
        seats=seats,
        places=4,  # [D.4] "to four decimal places"
        quota=QuotaRule.DROOP_FRACTIONAL,  # [A.1] V / (S + 1) + 0.0001
        transfer=TransferRounding.STEPWISE,  # [B.3, D.4] each product and quotient truncated
        lot=Lot(),
        tie_order=tie_order,  # [D.1] the predetermined order, else candidate order
        defeat_batch=batch,  # [B.2] optional
    )


def wigm_prf_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: the reference rule, sure losers defeated together when
    ``params.defeat_batch`` is ``SAFE``, ties by the ballot file's tie order."""
    opts = wigm_prf_options(params.seats, params.tie_order, params.defeat_batch or DefeatBatch.NONE)
    return count_wigm(store, candidates, opts, rule=RULE_NAME)
