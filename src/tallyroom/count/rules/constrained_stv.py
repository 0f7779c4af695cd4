"""STV (and IRV) with seat constraints: Hill's doomed and guarded candidates.

Sources:

* I. D. Hill, "STV with constraints", *Voting matters* 9 (May 1998), pp. 2-4. Hill sets out
  the traditional rules (the ERS booklet of Grey and Fitzgerald, the Church of England's 1981
  STV regulations): [max] once the maximum number of a constrained type is elected, every
  other candidate of that type is excluded as soon as possible; [min] once the candidates of
  a type not yet excluded are as few as its minimum, they are *guarded*: when a candidate is
  to be excluded, the lowest non-guarded one is chosen. He generalises both into marking as
  *doomed* every candidate who cannot be elected in any result meeting the constraints
  (excluded at once) and as *guarded* every one who must be.
* J. Otten, "STV with multiple constraints", *Voting matters* 13 (April 2001): the general
  case (overlapping groups) needs more than a per-group count; this module requires the
  constrained groups to be disjoint, where a closed-form test is exact
  (:class:`~tallyroom.count.constraints.SeatPlan`).
* For a minimum, the rule the issue names ("when the seats left equal the places still
  reserved for the group, continuing candidates outside it are excluded") is exactly Hill's
  doomed test: electing a non-member with ``L`` seats left and ``R`` places reserved leaves
  ``L - 1`` seats for ``R`` reserved places, impossible when ``L == R``.

The count is the RCTab rule family's count (:mod:`tallyroom.count.rules.rctab`: the quota,
surpluses, the walk, ties and rounding all as there) with two steps replaced, through the
count's public extension point (:mod:`tallyroom.count.rules.rctab_hooks`):

1. **Elect** [doomed]: while any continuing candidate is doomed, nobody is elected; the round
   excludes the doomed instead (step 2). Otherwise the RCTab winners of the round are taken
   in order of votes, highest first, each only if the constraints can still be met with them
   elected; one passed over is doomed from then on and is excluded in the next round. (A
   candidate at the quota stays at it when others are excluded, so the delay costs nothing.)
2. **Exclude** [max], [min]: every doomed candidate, all at once, in one round. Otherwise the
   RCTab choice (the lowest, or a batch) if excluding it leaves the constraints meetable;
   failing that, the lowest candidate who is not guarded, ties broken by the configured
   tie-break policy.

A round where a constraint acted carries a ``label`` naming it and the candidates concerned;
``Count.options`` lists the constraints (``"constraints"``), everyone doomed (``"doomed"``) and
every round's guarded candidates (``"guarded"``). Ballot rules
(:class:`~tallyroom.count.constraints.BallotRule`) reject ballots before the count: they are
reported every round as :attr:`InactiveReason.INVALID` and by reason in ``options["rejected"]``.

Deviations: Hill excludes a doomed candidate "immediately"; here a candidate doomed by an
election in a round is excluded in the next round, after that round's surplus transfer (the
RCTab loop elects or excludes in a round, never both). ``continueUntilTwoCandidatesRemain``
and the bottoms-up and multi-pass modes are refused (their winners are not a count's last
seats). Overlapping groups are refused (see Otten, above).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.constraints import BallotRule, SeatConstraint, SeatPlan, screen_ballots
from tallyroom.count.options import RctabOptions, WinnerMode
from tallyroom.count.record import Count, DecisionKind, InactiveReason, Round
from tallyroom.count.rules.rctab import tabulate
from tallyroom.count.rules.rctab_hooks import RoundContext
from tallyroom.errors import ConfigError, CountError

__all__ = ["count_constrained_stv"]

_MODES = (
    WinnerMode.SINGLE_WINNER_MAJORITY,
    WinnerMode.MULTI_WINNER_ALLOW_ONLY_ONE_WINNER_PER_ROUND,
    WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
)


def count_constrained_stv(
    store: BallotStore,
    candidates: CandidateTable,
    options: RctabOptions,
    *,
    constraints: Sequence[SeatConstraint] = (),
    ballot_rules: Sequence[BallotRule] = (),
    rule_name: str = "constrained stv",
) -> Count:
    """Count ``store`` by the RCTab rules of ``options`` with ``constraints`` enforced."""
    if options.winner_mode not in _MODES:
        raise ConfigError(
            "seat constraints need an IRV or STV winner mode",
            field="winner_mode",
            value=options.winner_mode.value,
        )
    if options.continue_until_two_candidates_remain:
        raise ConfigError(
            "seat constraints cannot be combined with continueUntilTwoCandidatesRemain",
            field="continue_until_two_candidates_remain",
            value=True,
        )
    plan = SeatPlan.build(candidates, options.seats, constraints)
    screening = screen_ballots(store, candidates, ballot_rules)
    run = _Guarded(plan)
    count = tabulate(screening.valid, candidates, options, rule_name=rule_name, decisions=run)
    one = count.scale.one
    invalid = screening.total_rejected * one
    rounds: list[Round] = []
    for rnd in count.rounds:
        inactive = rnd.inactive
        if ballot_rules:
            inactive = (*inactive, (InactiveReason.INVALID, invalid))
        rounds.append(
            dataclasses.replace(rnd, inactive=inactive, label=run.notes.get(rnd.number, rnd.label))
        )
    return dataclasses.replace(
        count,
        rounds=tuple(rounds),
        total_ballots=store.total,
        options={
            **count.options,
            "constraints": plan.describe(),
            "ballot_rules": tuple(r.reason for r in ballot_rules),
            "rejected": screening.rejected,
            "doomed": tuple(candidates.names[c] for c in run.doomed_log),
            "guarded": tuple(
                (r, tuple(candidates.names[c] for c in cs)) for r, cs in run.guarded_log
            ),
        },
    )


class _Guarded:
    """Hill's doomed and guarded steps as the RCTab count's decisions (see the docstring)."""

    def __init__(self, plan: SeatPlan) -> None:
        self.plan = plan
        self.notes: dict[int, str] = {}
        self.doomed_log: list[int] = []
        self.guarded_log: list[tuple[int, tuple[int, ...]]] = []

    def elect(self, ctx: RoundContext) -> list[int]:
        if ctx.write_in_holds_votes:
            return []
        elected, continuing = list(ctx.elected), ctx.continuing
        if self.plan.doomed(elected, continuing):
            return []  # [doomed] excluded first, this round (see exclude)
        selected = ctx.standard_winners()
        tally = ctx.tally
        admitted: list[int] = []
        for c in sorted(selected, key=lambda c: (-tally[c], c)):
            rest = [d for d in continuing if d != c and d not in admitted]
            if self.plan.feasible([*elected, *admitted, c], rest):
                admitted.append(c)
        skipped = [c for c in selected if c not in admitted]
        if skipped:
            self.notes[ctx.number] = (
                f"not elected, their election would break a constraint: {_names(ctx, skipped)}"
            )
        return [c for c in selected if c in admitted]

    def exclude(self, ctx: RoundContext) -> list[int]:
        if ctx.write_in_holds_votes:
            return ctx.standard_exclusions()
        elected, continuing = list(ctx.elected), ctx.continuing
        doomed = self.plan.doomed(elected, continuing)
        if doomed:
            # [max] / [doomed]: they cannot be elected in any conformant result
            self.doomed_log.extend(doomed)
            self.notes[ctx.number] = (
                f"excluded, as no result meeting the constraints can elect them: "
                f"{_names(ctx, doomed)} ({'; '.join(self.plan.describe())})"
            )
            return doomed
        guarded = self.plan.guarded(elected, continuing)
        if not guarded:
            plain = ctx.standard_exclusions()
            if self.plan.feasible(elected, [c for c in continuing if c not in plain]):
                return plain
            # a batch that would break a constraint (a batch draws no lots): one at a time
            self.notes[ctx.number] = "batch exclusion would break a constraint; lowest excluded"
        else:
            self.guarded_log.append((ctx.number, tuple(guarded)))
            self.notes[ctx.number] = (
                f"guarded from exclusion to meet the constraints: {_names(ctx, guarded)}"
            )
        # [min] the lowest candidate who is not guarded
        open_ = [c for c in continuing if c not in guarded]
        if not open_:
            raise CountError(f"round {ctx.number}: every continuing candidate is guarded")
        low = min(ctx.tally[c] for c in open_)
        last = [c for c in open_ if ctx.tally[c] == low]
        if len(last) > 1:
            return [ctx.break_tie(last, DecisionKind.ELIMINATED)]
        return last


def _names(ctx: RoundContext, codes: Sequence[int]) -> str:
    return ", ".join(ctx.names[c] for c in codes)
