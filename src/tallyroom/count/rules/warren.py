"""Warren STV: Meek's iteration with Warren's rule for what a candidate keeps of a ballot.

Sources: C.H.E. Warren, "Counting in STV elections", *Voting matters* 1 (1994); I.D. Hill and
C.H.E. Warren, "Meek versus Warren", *Voting matters* 20 (2005); Droop (J. Lundell), rule
``warren`` ("Warren Parametric"), whose steps are tagged as in :mod:`.meek` ([Droop B]-[Droop
D.8]) and whose reference counts ``tests/count/test_warren.py`` reproduces.

Warren's method differs from Meek's in one clause, the ballot's walk:

* [Warren] every candidate has a *keep value* ``k`` (1 while hopeful, 0 once defeated); a
  ballot arriving at a candidate with value ``v`` gives them ``min(k, v)`` - the same amount
  from every ballot that still has it, not Meek's same *proportion* ``v x k`` - and passes
  ``v - min(k, v)`` on to its next preference [Hill & Warren 2005: "under Warren each voter
  pays the same price ... so long as the voter has enough left"].

Everything else is Meek's iteration as Droop runs it, and is the code of :mod:`.meek`:
[Droop D.3] the quota ``(ballots - residual) / (seats + 1)`` (+ one unit of the last place in
fixed point); [Droop D.4] elect at the quota (``>`` in exact arithmetic); [Droop D.6] the total
surplus; [Droop D.7] stop on an election, a surplus ``<= omega``, or a surplus that did not
decrease (or, with ``DefeatBatch.SAFE``, sure losers found); [Droop D.8] ``k := k x quota /
votes``, both steps rounded up; [Droop D] defeat the lowest, hopefuls within the surplus of it
tied and broken by the ballot file's tie order else candidate order (or a seeded lot).

Equal preferences (``a=b``) follow Droop's descent: the value reaching a rank is split evenly
among its candidates still standing, each keeping ``min(k, share)``; the "equalized" reading is
defined for Meek only and is refused.

Arithmetic: ``FIXED`` (9 places, keep values and transfers as integers of ``10**-9``; the
``min`` and the difference are exact), ``GUARDED`` (Droop's guarded arithmetic, 18 + 9 places)
or ``RATIONAL`` (exact values, keep values rounded up to ``places``), with Droop's omega for
each (:func:`.meek.meek_options`). Droop's defaults for ``warren`` are its guarded arithmetic
and ``defeat_batch=safe``; tallyroom's default is fixed point and one defeat a round, as for
Meek.
"""

from __future__ import annotations

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.meek import count_meek, meek_options
from tallyroom.count.rules.meek_options import KeepRule, MeekOptions
from tallyroom.count.rules.params import RuleParams

__all__ = ["warren_options", "warren_rule"]


def warren_options(params: RuleParams) -> MeekOptions:
    """Meek's options for ``params`` with Warren's keep rule."""
    base = meek_options(params)
    return MeekOptions(
        arithmetic=base.arithmetic,
        places=base.places,
        guard=base.guard,
        omega_places=base.omega_places,
        tie=base.tie,
        defeat_batch=base.defeat_batch,
        keep=KeepRule.WARREN,  # [Warren] min(k, v)
    )


def warren_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: Warren STV with the arithmetic and batch defeats ``params``
    choose, ties by the ballot file's tie order (else a seeded lot, else candidate order)."""
    return count_meek(store, candidates, params.seats, warren_options(params))
