"""The supplementary vote: a first and a second preference, and one elimination of all but two.

Source: Greater London Authority Act 1999, Schedule 2, Part I (election of the Mayor of London
2000-2021; https://www.legislation.gov.uk/ukpga/1999/29/schedule/2), the same count as the
Police and Crime Commissioner Elections Order 2012 (SI 2012/1917), Schedule 3, used until the
Elections Act 2022 replaced it with first past the post. ``[para.4(5)]`` tags a step::

    1  This Part applies where there are three or more candidates.
    2  "first preference vote", "second preference vote": a vote to the extent that it is given
       so as to indicate a voter's first (second) preference from among the candidates.
    3  If one of the candidates receives more than half of all the first preference votes,
       that candidate shall be returned.
    4(1) If none receives more than half of all the first preference votes:
     (2) The two candidates who received the greatest number of first preference votes remain
       in the contest.
     (3) If, by reason of an equality of first preference votes, three or more candidates are
       qualified to remain in the contest by virtue of (2), all of them remain in the contest.
     (4) The other candidates are eliminated from the contest.
     (5) The number of second preference votes for each of the candidates remaining in the
       contest by voters who did not give their first preference vote to any of those
       candidates shall be ascertained.
     (6) That number shall be added to the number of first preference votes given for that
       candidate, to give his total number of preference votes.
     (7) The person to be returned is that one of the candidates remaining in the contest who
       has the greatest total number of preference votes.
     (8) If, by reason of an equality of total number of preference votes, two or more
       candidates remaining in the contest each have the greatest total, the returning officer
       shall decide by lots which of them is to be returned.

A ballot's first mark (rank 1) is its first preference and its second mark (rank 2) its second;
a paper with no first preference (blank, overvoted or skipped at rank 1) is not counted; an
overvoted or skipped second mark, or a second preference for the same candidate as the first,
is no second preference. Marks beyond the second are not read (the registry lets a ballot
carry two). With fewer than three candidates the same steps return the one with more votes,
which is what a two-candidate poll under Part II does. Arithmetic: whole votes. The record:
round 1 the first preferences (a candidate returned under para.3, or every eliminated candidate
with their second preferences for those remaining), round 2 the totals of those remaining.
Lots: ``java.util.Random(seed)`` or an operator's decision (:mod:`tallyroom.count.lot`).
"""

from __future__ import annotations

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.numbers import Scale
from tallyroom.count.options import TieDecider
from tallyroom.count.record import (
    EXHAUSTED,
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    TieBreak,
)
from tallyroom.count.rules.params import RuleParams

__all__ = ["RULE_NAME", "count_supplementary_vote", "supplementary_vote_rule"]

RULE_NAME = "supplementary-vote"


def count_supplementary_vote(
    store: BallotStore,
    candidates: CandidateTable,
    *,
    seed: int | None = None,
    decider: TieDecider | None = None,
) -> Count:
    """Count ``store`` under Schedule 2 Part I; a final tie decided by lot (``seed`` or
    ``decider``)."""
    names = candidates.names
    n = len(names)
    standing = [c for c in range(n) if c not in candidates.excluded]
    rows = store.rows
    weights = store.weights.astype(np.int64)
    width = rows.shape[1] if rows.ndim == 2 else 0
    first = rows[:, 0] if width else np.full(len(store), -1, np.int32)
    second = rows[:, 1] if width > 1 else np.full(len(store), -1, np.int32)
    counted = np.isin(first, np.asarray(standing, dtype=np.int32))
    # [para.3] first preference votes
    firsts = np.bincount(first[counted], weights[counted], minlength=n).astype(np.int64)
    first_votes = [int(firsts[c]) for c in range(n)]
    valid = sum(first_votes)
    invalid = int(weights[~counted].sum())
    blank = int(weights[(rows < 0).all(axis=1)].sum()) if width else int(weights.sum())
    majority = valid // 2 + 1  # "more than half"
    tally1 = tuple((names[c], first_votes[c]) for c in standing)
    inactive = ((InactiveReason.INVALID, invalid - blank), (InactiveReason.NO_RANKINGS, blank))
    lot = Lot(seed, decider)
    options: dict[str, object] = {"seed": seed}

    def finish(rounds: tuple[Round, ...], winner: int) -> Count:
        return Count(
            rule=RULE_NAME,
            candidates=names,
            seats=1,
            scale=Scale(0),
            rounds=rounds,
            winners=(names[winner],),
            total_ballots=int(weights.sum()),
            undervotes=blank,
            options=options,
        )

    top = max(standing, key=lambda c: (first_votes[c], -c))
    if first_votes[top] >= majority:  # [para.3] more than half: returned
        won = Decision(DecisionKind.ELECTED, names[top])
        return finish((Round(1, majority, tally1, (won,), inactive, label="first"),), top)
    # [para.4(2)-(3)] the two with most first preferences remain; a tie for a place: all tied
    ordered = sorted((first_votes[c] for c in standing), reverse=True)
    cut = ordered[1] if len(ordered) > 1 else ordered[0]
    remain = [c for c in standing if first_votes[c] >= cut]
    out = [c for c in standing if c not in remain]  # [para.4(4)] eliminated
    # [para.4(5)] second preferences for those remaining, from voters whose first preference
    # went to none of them (a first preference for an eliminated candidate)
    from_out = counted & np.isin(first, np.asarray(out, dtype=np.int32))
    takes = from_out & np.isin(second, np.asarray(remain, dtype=np.int32))
    moved = np.zeros((n, n), dtype=np.int64)
    np.add.at(moved, (first[takes], second[takes]), weights[takes])
    decisions1 = []
    for c in out:
        row = [(names[r], int(moved[c, r])) for r in remain if moved[c, r]]
        stays = first_votes[c] - sum(v for _, v in row)
        if stays:
            row.append((EXHAUSTED, stays))
        decisions1.append(Decision(DecisionKind.ELIMINATED, names[c], tuple(row)))
    # [para.4(6)] first preferences plus second preferences: the total number of preference votes
    totals = {c: first_votes[c] + int(moved[:, c].sum()) for c in remain}
    exhausted = valid - sum(totals.values())
    best = max(totals.values())
    tied = [c for c in remain if totals[c] == best]
    ties: tuple[TieBreak, ...] = ()
    winner = tied[0]
    if len(tied) > 1:  # [para.4(8)] decided by lots
        tied_names = [names[c] for c in tied]
        winner = lot.drawer().choose(
            tied, tied_names, stage=2, winner=True, what="return of the Mayor (para.4(8))"
        )
        how = "equal totals of preference votes; decided by lot [para.4(8)]"
        ties = (TieBreak(2, DecisionKind.ELECTED, tuple(tied_names), names[winner], "lot", how),)
    round1 = Round(1, majority, tally1, tuple(decisions1), inactive, label="first")
    round2 = Round(
        2,
        None,
        tuple((names[c], totals[c]) for c in remain),
        (Decision(DecisionKind.ELECTED, names[winner]),),
        (*inactive, (InactiveReason.EXHAUSTED_CHOICES, exhausted)),
        ties=ties,
        label="second",
    )
    return finish((round1, round2), winner)


def supplementary_vote_rule(
    store: BallotStore, candidates: CandidateTable, params: RuleParams
) -> Count:
    """The registry's entry: one seat, lots by ``params.seed``."""
    return count_supplementary_vote(store, candidates, seed=params.seed)
