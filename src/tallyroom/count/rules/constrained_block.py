"""The block vote with seat constraints and ballot rules: Labour's Shadow Cabinet election.

Source: the rules of the Parliamentary Labour Party (PLP) for its 2010 Shadow Cabinet
election, as recorded in ``../shared/conformance/official`` (``NOTES.md`` section 5 and
``official_results.json``, record ``labour-shadow-cabinet-2010``, ``method``), from the
PLP's September 2010 decisions as reported at the time:

[validity]  "a ballot is valid only if it includes votes for at least six women and at least
            six men (raised from four in Sept 2010)"
[minimum]   "at least 6 of the 19 places to women ... even if women poll fewer votes"
[votes]     "up to 19 (one per place)"; whether exactly 19 were required is not confirmed,
            so ``max_marks`` defaults to one per seat and no minimum number of marks is set.

The count, step by step:

1. [validity] Ballots failing a :class:`~tallyroom.count.constraints.BallotRule` are rejected
   (:func:`~tallyroom.count.constraints.screen_ballots`): reported as
   :attr:`InactiveReason.INVALID`, with each reason and its count in ``Count.options``
   (``"rejected"``), together with the block vote's own invalid ballots (too many marks).
2. [votes] The remaining ballots are counted by the block vote rule
   (:func:`tallyroom.count.rules.plurality.count_block`): every candidate marked gets one
   vote; whole votes, exact integer sums.
3. [minimum] Places are filled in order of votes. Labour's rule fills the places with the
   candidates polling most, then replaces the lowest-placed elected candidates outside the
   group by the highest-placed group members not elected, until the minimum is met. This
   module applies the equivalent, general form (Hill's "doomed" candidates, see
   :mod:`tallyroom.count.constraints`): going down the order of votes, a candidate is elected
   unless electing them would leave a constraint unmeetable, in which case they are *passed
   over*. For one minimum the two agree exactly (``docs/rules/constraints.md`` gives the
   proof): both elect the ``m`` highest-polling group members and fill the other places with
   the highest-polling of the rest. The general form also handles maxima and several disjoint
   groups (say, at least 6 women and at least 6 men).
4. Ties: candidates with equal votes are taken in candidate order; where the tie decides who
   is elected, it is broken as :func:`count_block` breaks it (:class:`TieMethod`: by lot from
   a recorded seed, one draw of :class:`~tallyroom.count.lot.Lot` per place, or candidate
   order), and every such tie is recorded.

The record is one round: the tally of valid votes, an ``ELECTED`` decision per winner in the
order of election, blank and invalid ballots, the ties; its ``label`` names the constraints
and the candidates passed over. ``Count.options`` repeats these as data.

Deviations: none known from the rule as recorded; the source says nothing about ties, and
the replacement wording of step 3 is this module's reading of "even if women poll fewer
votes" (no captured source spells out the mechanism). Unlike :func:`count_block`, every
place must be fillable within the constraints, or the count is refused
(:class:`~tallyroom.errors.ConfigError`) rather than electing fewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.constraints import BallotRule, SeatConstraint, SeatPlan, screen_ballots
from tallyroom.count.lot import Lot, LotDrawer
from tallyroom.count.record import Count, Decision, DecisionKind, InactiveReason, Round, TieBreak
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.plurality import TieMethod, count_block
from tallyroom.errors import CountError

__all__ = ["BlockSelection", "count_constrained_block", "select_constrained"]

RULE_NAME = "constrained block"


@dataclass(frozen=True, slots=True)
class BlockSelection:
    """Who is elected from a tally, in order of election, who was passed over, and the ties."""

    elected: tuple[str, ...]
    passed_over: tuple[str, ...]
    ties: tuple[TieBreak, ...]


def count_constrained_block(
    store: BallotStore,
    candidates: CandidateTable,
    *,
    seats: int,
    constraints: Sequence[SeatConstraint] = (),
    ballot_rules: Sequence[BallotRule] = (),
    max_marks: int | None = None,
    seed: int | None = None,
    tiebreak: TieMethod | None = None,
) -> Count:
    """Block vote for ``seats`` places under ``constraints``, after ``ballot_rules``."""
    plan = SeatPlan.build(candidates, seats, constraints)
    screening = screen_ballots(store, candidates, ballot_rules)
    base = count_block(
        screening.valid,
        candidates,
        seats=seats,
        seed=seed,
        tiebreak=tiebreak,
        max_marks=max_marks,
    )
    first = base.rounds[0]
    votes = first.tally_map
    method = TieMethod(str(base.options["tiebreak"]))
    selection = select_constrained(votes, candidates, plan, method=method, seed=seed)
    own_invalid = first.inactive_map.get(InactiveReason.INVALID, 0)
    limit = base.options["max_marks"]
    rejected = (
        *screening.rejected,
        (f"more than {limit} marks, or an overvote naming no candidate", own_invalid),
    )
    invalid = screening.total_rejected + own_invalid
    blank = first.inactive_map.get(InactiveReason.NO_RANKINGS, 0)
    label = _label(plan, selection, votes)
    round_one = Round(
        number=1,
        threshold=None,
        tally=first.tally,
        decisions=tuple(Decision(DecisionKind.ELECTED, name) for name in selection.elected),
        inactive=((InactiveReason.NO_RANKINGS, blank), (InactiveReason.INVALID, invalid)),
        ties=selection.ties,
        label=label,
    )
    return Count(
        rule=RULE_NAME,
        candidates=candidates.names,
        seats=seats,
        scale=base.scale,
        rounds=(round_one,),
        winners=selection.elected,
        total_ballots=store.total,
        undervotes=blank,
        options={
            **base.options,
            "constraints": plan.describe(),
            "ballot_rules": tuple(r.reason for r in ballot_rules),
            "rejected": rejected,
            "passed_over": selection.passed_over,
        },
    )


def select_constrained(
    votes: Mapping[str, int],
    candidates: CandidateTable,
    plan: SeatPlan,
    *,
    method: TieMethod = TieMethod.CANDIDATE_ORDER,
    seed: int | None = None,
) -> BlockSelection:
    """Fill ``plan.seats`` places from ``votes`` in order of votes under the plan (step 3).

    ``votes`` maps candidate names to votes; a standing candidate missing from it has none.
    Excluded candidates and the undeclared write-in are never elected.
    """
    if method is TieMethod.LOT and seed is None:
        raise CountError("a tie broken by lot needs a random seed")
    lots = Lot(seed=seed).drawer() if method is TieMethod.LOT else None
    names = candidates.names
    pool = [
        c
        for c in range(len(names))
        if c not in candidates.excluded and c != candidates.undeclared_write_in
    ]
    levels: dict[int, list[int]] = {}
    for c in pool:  # candidate order within a level
        levels.setdefault(votes.get(names[c], 0), []).append(c)
    below = list(pool)  # candidates not yet reached
    elected: list[int] = []
    passed: list[int] = []
    ties: list[TieBreak] = []
    for level_votes in sorted(levels, reverse=True):
        if len(elected) == plan.seats:
            break
        level = levels[level_votes]
        below = [c for c in below if c not in level]
        contest = list(level)
        while contest and len(elected) < plan.seats:
            # [minimum] a candidate whose election would leave a constraint unmeetable is passed
            # over; once passed over always passed over, as electing others never frees a place
            unelected = [d for d in level if d not in elected]
            able = [
                c
                for c in contest
                if plan.feasible([*elected, c], [d for d in unelected if d != c] + below)
            ]
            passed.extend(c for c in contest if c not in able)
            contest = able
            if not contest:
                break
            rest = [d for d in unelected if d not in contest]
            if plan.feasible([*elected, *contest], rest + below):
                elected.extend(contest)  # everyone electable in the level fits: no tie to break
                break
            pick, tie = _draw(contest, names, level_votes, plan.seats - len(elected), method, lots)
            ties.append(tie)
            elected.append(pick)
            contest.remove(pick)
    if len(elected) != plan.seats:
        raise CountError(f"only {len(elected)} of {plan.seats} places could be filled")
    return BlockSelection(
        elected=tuple(names[c] for c in elected),
        passed_over=tuple(names[c] for c in passed),
        ties=tuple(ties),
    )


def _draw(
    contest: list[int],
    names: tuple[str, ...],
    votes: int,
    free: int,
    method: TieMethod,
    lots: LotDrawer | None,
) -> tuple[int, TieBreak]:
    """One place from a tie, as :func:`count_block` breaks it."""
    if method is TieMethod.LOT:
        assert lots is not None
        pick = lots.draw(contest)
        how = "drawn by lot"
    else:
        pick = contest[0]
        how = "listed first among the tied candidates"
    return pick, TieBreak(
        round=1,
        purpose=DecisionKind.ELECTED,
        tied=tuple(names[c] for c in contest),
        chosen=names[pick],
        method=method.value,
        explanation=f"{len(contest)} tied on {votes} votes for {free} seat(s); {how}",
    )


def _label(plan: SeatPlan, selection: BlockSelection, votes: Mapping[str, int]) -> str:
    text = "block vote"
    if plan.constraints:
        text += "; " + "; ".join(plan.describe())
    if selection.passed_over:
        who = ", ".join(f"{n} ({votes.get(n, 0)})" for n in selection.passed_over)
        text += f"; passed over to meet the constraints: {who}"
    return text


def block_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: the block vote, under seat constraints and ballot rules when the
    parameters give any."""
    if params.constrained:
        return count_constrained_block(
            store,
            candidates,
            seats=params.seats,
            constraints=params.constraints,
            ballot_rules=params.ballot_rules,
            seed=params.seed,
        )
    return count_block(store, candidates, seats=params.seats, seed=params.seed)
