"""Motions: a yes/no (or for/against/abstain) question carried or lost by a declared threshold.

The decision is exact: every threshold is a :class:`~fractions.Fraction` and every comparison
is between integers (``votes * q`` against ``p * base``); no float enters it. A motion is
decided from four figures, the votes **for**, **against**, **abstain** (the third choice, when
the paper offers it), the **spoilt** papers, and the **electorate** (everyone entitled to
vote), under a :class:`MotionRule`:

* ``threshold``: the share of the base the votes for must reach. **"At least"** for every
  fraction: two thirds carries with exactly two thirds. The one exception is a **simple
  majority**, which is **more than half** (a tie loses). [RONR (12th ed.) 1:6] "a majority
  vote ... means more than half of the votes cast by persons entitled to vote, excluding
  blanks or abstentions"; [RONR 44:3] "a two-thirds vote ... means at least two thirds of
  the votes cast by persons entitled to vote, excluding blanks or abstentions".
* ``base`` (:class:`ThresholdBase`): what the share is of. ``votes``: for + against, the
  abstentions and spoilt papers left out, as [RONR 44:1, 44:3] says ("excluding blanks or
  abstentions"), which is the default; ``votes-and-abstentions``: for + against + abstain
  (an abstention then counts as a vote against, which some rule books want and Robert's does
  not); ``electorate``: everyone entitled to vote, so that not voting also counts against.
  The Labour Party's rule book requires a two-thirds majority of conference for some rule
  changes (Chapter 3, Clause III, procedural rules for Party Conference: a rule change
  "must ... be carried by a two-thirds majority" where the NEC does not support it; the
  wording is ASSUMED from reporting, not from a stored copy of the rule book).
* ``electorate_support``: optionally, also at least this share of the **electorate** must
  vote for. [Trade Union Act 2016, s.3, inserting TULRCA 1992 s.226(2A)-(2F)] in "important
  public services" industrial action needs, besides a majority of the votes, the support of
  "at least 40% of those who were entitled to vote in the ballot".
* ``quorum`` (:class:`Quorum`): optionally, a minimum turnout, as a share of the electorate
  or a number of papers. Turnout for a quorum counts every paper returned, spoilt ones and
  abstentions included: those people voted (as the declaration's turnout does, postal papers
  spoilt before they could be tied to a voter included). [Trade Union Act 2016, s.2, amending TULRCA
  1992 s.226(2)(a)] industrial action is supported only if "at least 50% of those who were
  entitled to vote in the ballot did so". Below the quorum the motion is not carried,
  whatever the votes.

A motion with no votes in its base is not carried (nothing supports it). Deviations and
choices tallyroom makes where the sources are silent: a quorum counts spoilt papers (TULRCA
does not say; Robert's counts a quorum of members present, who need not vote); when the base
is the electorate, the abstentions and spoilt papers are simply people who did not vote for.

The registry's entry, :func:`motion_rule`, reads the tally of a single-mark ballot (the
choices are the contest's "candidates", the choice *for* first) and returns a one-round
:class:`~tallyroom.count.record.Count` whose winner is the choice for when the motion is
carried, and nobody when it is not; :func:`decide` gives the full :class:`MotionDecision`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, Decision, DecisionKind, InactiveReason, Round
from tallyroom.count.rules.motion_options import (
    ChoiceSet,
    MotionRule,
    Quorum,
    Threshold,
    ThresholdBase,
    percent_text,
)
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.plurality import count_plurality
from tallyroom.errors import CountError

__all__ = [
    "ChoiceSet",
    "MotionDecision",
    "MotionRule",
    "MotionTally",
    "Quorum",
    "Threshold",
    "ThresholdBase",
    "count_decision",
    "decide",
    "motion_rule",
    "tally_of",
]


@dataclass(frozen=True, slots=True)
class MotionTally:
    """The figures a motion is decided on."""

    votes_for: int
    against: int
    abstain: int = 0
    spoilt: int = 0
    electorate: int | None = None

    def __post_init__(self) -> None:
        figures = (self.votes_for, self.against, self.abstain, self.spoilt)
        if any(f < 0 for f in figures):
            raise CountError(f"a motion's figures cannot be negative ({figures})")
        if self.electorate is not None and self.electorate < 0:
            raise CountError(f"an electorate cannot be negative ({self.electorate})")

    @property
    def returned(self) -> int:
        return self.votes_for + self.against + self.abstain + self.spoilt


@dataclass(frozen=True, slots=True)
class MotionDecision:
    """A motion decided, with every figure behind it and the reason in words."""

    carried: bool
    tally: MotionTally
    base: int  # the votes (or electors) the threshold is a share of
    required: int  # votes for needed out of ``base``
    quorum_required: int | None  # papers needed; None: no quorum
    support_required: int | None  # votes for needed out of the electorate; None: no such rule
    reason: str

    @property
    def quorum_met(self) -> bool:
        return self.quorum_required is None or self.tally.returned >= self.quorum_required

    @property
    def outcome(self) -> str:
        return "CARRIED" if self.carried else "NOT CARRIED"


def _pct(part: int, whole: int) -> str:
    """``part / whole`` as a percentage at one place, halves up, exact (integers only)."""
    if whole == 0:
        return "0.0%"
    tenths = (2000 * part + whole) // (2 * whole)  # round half up of 1000 * part / whole
    return f"{tenths // 10}.{tenths % 10}%"


def decide(tally: MotionTally, rule: MotionRule) -> MotionDecision:
    """Carried or not, and why (see the module docstring for every clause)."""
    if rule.needs_electorate and tally.electorate is None:
        raise CountError("this motion's rule needs the electorate's size")
    electorate = tally.electorate or 0
    if rule.base is ThresholdBase.VOTES:
        base = tally.votes_for + tally.against
    elif rule.base is ThresholdBase.VOTES_AND_ABSTENTIONS:
        base = tally.votes_for + tally.against + tally.abstain
    else:
        base = electorate
    required = rule.threshold.required(base)
    quorum = None if rule.quorum is None else rule.quorum.required(electorate)
    support = None
    if rule.electorate_support is not None:
        support = Threshold(rule.electorate_support).required(electorate)
    figures = (
        f"for {tally.votes_for:,} ({_pct(tally.votes_for, tally.votes_for + tally.against)}),"
        f" against {tally.against:,}"
    )
    if tally.abstain:
        figures += f", abstain {tally.abstain:,}"
    need = (
        f"{rule.threshold.describe()} required ({required:,} of {base:,} "
        f"{'electors' if rule.base is ThresholdBase.ELECTORATE else 'votes'})"
    )
    why: list[str] = []
    carried = True
    if rule.quorum is not None and quorum is not None and tally.returned < quorum:
        carried = False
        turnout = _pct(tally.returned, electorate) if electorate else "turnout"
        why.append(
            f"turnout {turnout} ({tally.returned:,} papers) below {rule.quorum.describe()}"
            f" ({quorum:,} papers)"
        )
    if base == 0:
        carried = False
        why.append("no votes were cast for or against")
    elif tally.votes_for < required:
        carried = False
        why.append(f"{tally.votes_for:,} for, {required - tally.votes_for:,} short")
    share = rule.electorate_support
    if share is not None and support is not None and tally.votes_for < support:
        carried = False
        why.append(
            f"{tally.votes_for:,} for, below {percent_text(share)}"
            f" of the electorate ({support:,} of {electorate:,})"
        )
    verdict = "carried" if carried else "not carried"
    reason = f"{figures}; {need}; " + ("; ".join(why) + ": " if why else "") + verdict
    return MotionDecision(carried, tally, base, required, quorum, support, reason)


def tally_of(count: Count, spoilt: int = 0, electorate: int | None = None) -> MotionTally:
    """A motion's figures from its one-round count (choices in :class:`ChoiceSet` order)."""
    votes = [v for _, v in count.rounds[0].tally] if count.rounds else []
    if len(votes) not in (2, 3):
        raise CountError(f"a motion has two or three choices, not {len(votes)}")
    abstain = votes[2] if len(votes) == 3 else 0
    return MotionTally(votes[0], votes[1], abstain, spoilt, electorate)


def count_decision(
    count: Count, rule: MotionRule, electorate: int | None, spoilt: int = 0
) -> MotionDecision:
    """The motion decided from a one-round count of its choices: its invalid papers and
    ``spoilt`` more (spoilt outside the count) are papers returned, for a quorum."""
    invalid = count.rounds[0].inactive_map.get(InactiveReason.INVALID, 0) if count.rounds else 0
    return decide(tally_of(count, invalid + spoilt, electorate), rule)


def motion_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: the choices tallied (one mark a paper), the motion decided by
    ``params.motion`` (by default a simple majority of the votes for and against: ``tallyroom
    count --rule motion`` on a published ballot file) over ``params.electorate`` (with
    ``params.spoilt`` papers spoilt outside the ballots given, which a quorum counts); the
    choice for wins when carried."""
    rule = params.motion or MotionRule(Threshold.majority())
    tallied = count_plurality(store, candidates, seats=1)
    decision = count_decision(tallied, rule, params.electorate, params.spoilt)
    names = candidates.names
    first = tallied.rounds[0]
    winners = (names[0],) if decision.carried else ()
    round_one = Round(
        number=1,
        threshold=decision.required,
        tally=first.tally,
        decisions=tuple(Decision(DecisionKind.ELECTED, w) for w in winners),
        inactive=first.inactive,
        label=decision.reason,
    )
    return Count(
        rule="motion",
        candidates=names,
        seats=1,
        scale=Scale(0),
        rounds=(round_one,),
        winners=winners,
        total_ballots=store.total,
        undervotes=tallied.undervotes,
        options={"motion": rule.describe(), "outcome": decision.outcome},
    )
