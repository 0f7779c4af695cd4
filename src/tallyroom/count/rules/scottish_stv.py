"""Scottish STV: the count of Scottish local government elections.

Source: The Scottish Local Government Elections Order 2007 (SSI 2007/42), Schedule 1, rules
45-52 (https://www.legislation.gov.uk/ssi/2007/42/schedule/1), re-made without change of
substance as rules 46-53 of The Scottish Local Government Elections Order 2011 (SSI 2011/399),
in force for the elections of 2012 on; rule 53(2) of the 2011 Order was amended by SSI
2021/437 ("no further transfer ... is required"). Below, ``[r.N]`` is the 2007 numbering
(2011: N + 1). The counting rules, as made::

    45.(1) The returning officer shall sort the valid ballot papers into parcels according to
       the candidates for whom first preference votes are given.
       (2) The returning officer shall then- (a) count the number of ballot papers in each
       parcel; (b) credit the candidate receiving the first preference vote with one vote for
       each ballot paper; and (c) record those numbers.
       (3) The returning officer shall also ascertain and record the total number of valid
       ballot papers.
    46.(1) The returning officer shall divide the total number of valid ballot papers for the
       electoral ward by a number exceeding by one the number of councillors to be elected at
       the election for that electoral ward.
       (2) The result of the division under paragraph (1) (ignoring any decimal places),
       increased by one, is the number of votes needed to secure the return of a candidate as
       a councillor (in these rules referred to as the "quota").
    47.(1) Where, at any stage of the count, the number of votes for a candidate equals or
       exceeds the quota, the candidate is deemed to be elected.
    48.(1) Where, at the end of any stage of the count, the number of votes credited to any
       candidate exceeds the quota and, subject to rules 49 and 52, one or more vacancies
       remain to be filled, the returning officer shall sort the ballot papers received by
       that candidate into further parcels so that they are grouped- (a) according to the
       next available preference given on those papers; and (b) where no such preference is
       given, as a parcel of non-transferable papers.
       (2) The returning officer shall, in accordance with this rule and rule 49, transfer each
       parcel of ballot papers referred to in paragraph (1)(a) to the continuing candidate for
       whom the next available preference is given on those papers and shall credit such
       continuing candidates with an additional number of votes calculated in accordance with
       paragraph (3).
       (3) The vote on each ballot paper transferred under paragraph (2) shall have a value
       ("the transfer value") calculated as follows- A divided by B, where A = the value which
       is calculated by multiplying the surplus of the transferring candidate by the value of
       the ballot paper when received by that candidate; and B = the total number of votes
       credited to that candidate, the calculation being made to five decimal places (any
       remainder being ignored).
       (4) ... "the value of the ballot paper" means- (i) for a ballot paper on which a first
       preference vote is given for the transferring candidate, one; and (ii) in all other
       cases, the transfer value of the ballot paper when received by the transferring
       candidate.
    49.(1) If, at the end of any stage of the count, the number of votes credited to two or
       more candidates exceeds the quota the returning officer shall- (a) first sort the
       ballot papers of the candidate with the highest surplus; and (b) then transfer the
       transferable papers of that candidate.
       (2) If the surpluses determined in respect of two or more candidates are equal, the
       transferable papers of the candidate who had the highest number of votes at the end of
       the most recent preceding stage at which they had unequal numbers of votes shall be
       transferred first.
       (3) If the numbers of votes credited to two or more candidates were equal at all stages
       of the count, the returning officer shall decide, by lot, which candidate's
       transferable papers are to be transferred first.
    50.(1) If, one or more vacancies remain to be filled and- (a) the returning officer has
       transferred all ballot papers which are required by rule 48 or this rule to be
       transferred; or (b) there are no ballot papers to be transferred under rule 48 or this
       rule, the returning officer shall exclude from the election at that stage the candidate
       with the then lowest number of votes.
       (2)-(3) [the excluded candidate's papers are sorted and transferred as in rule 48(1)-(2)]
       (4) The vote on each ballot paper transferred under paragraph (3) shall have a transfer
       value of one unless the vote was transferred to the excluded candidate in which case it
       shall have the same transfer value as when transferred to the candidate excluded under
       paragraph (1).
    51.(1) If, when a candidate has to be excluded under rule 50- (a) two or more candidates
       each have the same number of votes; and (b) no other candidate has fewer votes,
       paragraph (2) applies.
       (2) Where this paragraph applies- (a) regard shall be had to the total number of votes
       credited to those candidates at the end of the most recently preceding stage of the
       count at which they had an unequal number of votes and the candidate with the lowest
       number of votes at that stage shall be excluded; and (b) where the number of votes
       credited to those candidates was equal at all stages, the returning officer shall
       decide, by lot, which of those candidates is to be excluded.
    52.(1) Where the number of continuing candidates is equal to the number of vacancies
       remaining unfilled, the continuing candidates are deemed to be elected.
       (2) Where the last vacancies can be filled under this rule, no further transfer shall
       be made.

That is WIGM (:mod:`~tallyroom.count.rules.wigm`, where each step is tagged with the rule it
implements) with these parameters: five decimal places; the quota of rule 46
(``QuotaRule.DROOP``); the transfer value of rule 48(3) truncated per paper
(``TransferRounding.PER_PAPER``); ties by the most recent preceding stage
(``PriorStages.MOST_RECENT``), then by lot.

Practice followed, as in the official count sheets: a candidate elected with exactly the quota
has a surplus of nothing, and no stage transfers it; a lot is one draw of
``java.util.Random(seed)`` (the seed is recorded in ``Count.options``) or an operator's
decision. Known deviations from the statute: see ``docs/rules/scottish-stv.md`` (withdrawn
candidates and the one-pass "deemed elected" order).
"""

from __future__ import annotations

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.options import TieDecider
from tallyroom.count.record import Count
from tallyroom.count.rules.gregory import PriorStages
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.wigm import QuotaRule, TransferRounding, WigmOptions, count_wigm

__all__ = ["RULE_NAME", "count_scottish_stv", "scottish_options"]

RULE_NAME = "scottish-stv"


def scottish_options(
    seats: int, *, seed: int | None = None, decider: TieDecider | None = None
) -> WigmOptions:
    """The statutory parameters of rules 45-52 as :class:`WigmOptions`."""
    return WigmOptions(
        seats=seats,
        places=5,  # [r.48(3)] "to five decimal places"
        quota=QuotaRule.DROOP,  # [r.46] floor(valid / (seats + 1)) + 1
        transfer=TransferRounding.PER_PAPER,  # [r.48(3)] "A divided by B", remainder ignored
        prior_stages=PriorStages.MOST_RECENT,  # [r.49(2), r.51(2)(a)]
        lot=Lot(seed=seed, decider=decider),  # [r.49(3), r.51(2)(b)] "by lot"
    )


def count_scottish_stv(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    *,
    seed: int | None = None,
    decider: TieDecider | None = None,
) -> Count:
    """Count ``store`` under the Scottish local government rules for ``seats`` councillors."""
    options = scottish_options(seats, seed=seed, decider=decider)
    return count_wigm(store, candidates, options, rule=RULE_NAME)


def scottish_stv_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_scottish_stv` for ``params.seats``."""
    return count_scottish_stv(store, candidates, params.seats, seed=params.seed)
