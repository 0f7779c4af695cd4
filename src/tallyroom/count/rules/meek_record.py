"""The record of a Meek count: one :class:`MeekStage` per action, exact in the rule's
arithmetic, and its conversion to the common :class:`~tallyroom.count.record.Count`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.count.ballots import CandidateTable
from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, Decision, DecisionKind, InactiveReason, Round, TieBreak
from tallyroom.count.rules.meek_arithmetic import Num
from tallyroom.count.rules.meek_options import (
    Action,
    IterationEnd,
    KeepRule,
    Lot,
    MeekOptions,
    Status,
    TiePolicy,
)

__all__ = ["MeekRecord", "MeekStage"]


@dataclass(frozen=True, slots=True)
class MeekStage:
    """One action of the count, with the state it left (as a transcript prints it).

    ``round`` is the Meek round (0 before the first); ``votes`` and ``keep`` (the keep
    factors the votes were counted with, or set since) have one entry per candidate (withdrawn
    ones 0 and 1); ``surplus`` is the total surplus as last computed; ``tied`` lists the tied
    candidates of a tie broken here, ``tie`` how it was broken.
    """

    round: int
    action: Action
    candidate: int | None
    end: IterationEnd | None
    statuses: tuple[Status, ...]
    votes: tuple[Num, ...]
    exhausted: Num
    threshold: Num
    surplus: Num
    keep: tuple[Num, ...] = ()
    tied: tuple[int, ...] = ()
    tie: TieBreak | None = None


@dataclass(frozen=True, slots=True)
class MeekRecord:
    """The complete record of a Meek count, exact in its own arithmetic."""

    candidates: CandidateTable
    seats: int
    options: MeekOptions
    counted: int  # ballots counted (naming a candidate still standing)
    total_ballots: int
    initial_threshold: Num
    omega: Num
    stages: tuple[MeekStage, ...]
    winners: tuple[int, ...]

    @property
    def ties(self) -> tuple[TieBreak, ...]:
        return tuple(s.tie for s in self.stages if s.tie is not None)

    def to_count(self) -> Count:
        """The record as a :class:`Count`. FIXED values are exact; RATIONAL values are shown
        in units of ``10**-places`` (the keep factors' places), each rounded down."""
        scale = Scale(self.options.unit_places)
        one = scale.one
        names = self.candidates.names

        def units(x: Num) -> int:
            if isinstance(x, int):
                return x
            return (x.numerator * one) // x.denominator  # rounded down (toward -inf)

        rounds: list[Round] = []
        for i, st in enumerate(self.stages, start=1):
            decisions: tuple[Decision, ...] = ()
            if st.candidate is not None and st.action in _DECIDES:
                decisions = (Decision(_DECIDES[st.action], names[st.candidate]),)
            tie = st.tie
            if tie is not None:
                tie = TieBreak(i, tie.purpose, tie.tied, tie.chosen, tie.method, tie.explanation)
            rounds.append(
                Round(
                    number=i,
                    threshold=units(st.threshold),
                    tally=tuple(
                        (names[c], units(st.votes[c]))
                        for c in range(len(names))
                        if st.statuses[c] is not Status.WITHDRAWN
                    ),
                    decisions=decisions,
                    inactive=((InactiveReason.EXHAUSTED_CHOICES, units(st.exhausted)),),
                    ties=() if tie is None else (tie,),
                    label=_label(st, names),
                )
            )
        opts = self.options
        return Count(
            rule="warren" if opts.keep is KeepRule.WARREN else "meek",
            candidates=names,
            seats=self.seats,
            scale=scale,
            rounds=tuple(rounds),
            winners=tuple(names[c] for c in self.winners),
            total_ballots=self.total_ballots,
            undervotes=self.total_ballots - self.counted,
            options={
                "arithmetic": opts.arithmetic.value,
                "places": opts.places,
                "omega": f"1/10^{opts.omega_places}",
                "transfer_rounding": opts.transfer_rounding.value,
                "equal_ranking": opts.equal_ranking.value,
                "force_positive_surplus": opts.force_positive_surplus,
                "tie": _tie_text(opts.tie),
            },
        )


_DECIDES = {
    Action.ELECT: DecisionKind.ELECTED,
    Action.ELECT_REMAINING: DecisionKind.ELECTED,
    Action.DEFEAT: DecisionKind.ELIMINATED,
    Action.DEFEAT_REMAINING: DecisionKind.ELIMINATED,
}


def _label(st: MeekStage, names: Sequence[str]) -> str:
    """The stage's action in words: "elect Ann", "iterate (omega)", "defeat Bo (stable)"."""
    who = "" if st.candidate is None else names[st.candidate]
    if st.action is Action.ITERATE and st.end is not None:
        return f"iterate ({st.end.value})"
    if st.action is Action.BREAK_TIE:
        return f"break tie: {', '.join(names[c] for c in st.tied)} -> {who}"
    if st.action is Action.DEFEAT and st.end is not None:
        why = {
            IterationEnd.OMEGA: "surplus below omega",
            IterationEnd.BATCH: "certain loser",
        }.get(st.end, "stable surplus")
        return f"defeat {who} ({why})"
    return f"{st.action.value} {who}".rstrip()


def _tie_text(tie: TiePolicy) -> str:
    if isinstance(tie, Lot):
        return f"lot (seed {tie.seed})"
    return "tie order" if tie.order else "candidate order"
