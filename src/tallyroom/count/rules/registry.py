"""Counting rules by name, for the CLI and the services: one entry per rule family member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.constraints import BallotRule, SeatConstraint
from tallyroom.count.options import RctabOptions, TiebreakMode, WinnerMode
from tallyroom.count.record import Count
from tallyroom.errors import ConfigError

__all__ = ["RULES", "Rule", "RuleParams", "get_rule"]


@dataclass(frozen=True, slots=True)
class RuleParams:
    """What a caller may set for any rule; each rule reads the parts it understands."""

    seats: int = 1
    decimal_places: int = 4
    seed: int | None = None
    constraints: tuple[SeatConstraint, ...] = ()  # who may be elected (constrainable rules)
    ballot_rules: tuple[BallotRule, ...] = ()  # what a valid ballot marks (constrainable rules)

    @property
    def constrained(self) -> bool:
        return bool(self.constraints or self.ballot_rules)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule by name. ``constrainable`` rules count under seat constraints and ballot rules
    (``docs/rules/constraints.md``); :meth:`count` refuses them for any other rule."""

    name: str
    summary: str
    run: Callable[[BallotStore, CandidateTable, RuleParams], Count]
    multi_seat: bool
    constrainable: bool = False

    def count(self, store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
        if params.constrained and not self.constrainable:
            able = ", ".join(r.name for r in RULES.values() if r.constrainable)
            raise ConfigError(
                f"rule {self.name!r} cannot apply seat constraints or ballot rules; "
                f"rules that can: {able}",
                field="constraint",
                value=self.name,
            )
        return self.run(store, candidates, params)


def _tiebreak(p: RuleParams) -> TiebreakMode:
    return TiebreakMode.RANDOM if p.seed is not None else TiebreakMode.USE_CANDIDATE_ORDER


def _rctab(
    store: BallotStore, cands: CandidateTable, p: RuleParams, opts: RctabOptions, name: str
) -> Count:
    if p.constrained:
        from tallyroom.count.rules.constrained_stv import count_constrained_stv

        return count_constrained_stv(
            store,
            cands,
            opts,
            constraints=p.constraints,
            ballot_rules=p.ballot_rules,
            rule_name=f"constrained {name}",
        )
    from tallyroom.count.rules.rctab import tabulate

    return tabulate(store, cands, opts, rule_name=name)


def _irv(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    opts = RctabOptions(
        tiebreak_mode=_tiebreak(p), random_seed=p.seed, decimal_places=p.decimal_places
    )
    return _rctab(store, cands, p, opts, "irv")


def _stv(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    opts = RctabOptions(
        winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
        seats=p.seats,
        tiebreak_mode=_tiebreak(p),
        random_seed=p.seed,
        decimal_places=p.decimal_places,
    )
    return _rctab(store, cands, p, opts, "stv")


def _plurality(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.plurality import count_plurality

    return count_plurality(store, cands, seats=p.seats, seed=p.seed)


def _block(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    if p.constrained:
        from tallyroom.count.rules.constrained_block import count_constrained_block

        return count_constrained_block(
            store,
            cands,
            seats=p.seats,
            constraints=p.constraints,
            ballot_rules=p.ballot_rules,
            seed=p.seed,
        )
    from tallyroom.count.rules.plurality import count_block

    return count_block(store, cands, seats=p.seats, seed=p.seed)


def _scottish(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.scottish_stv import count_scottish_stv

    return count_scottish_stv(store, cands, p.seats, seed=p.seed)


def _wigm(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.gregory import Lot
    from tallyroom.count.rules.wigm import WigmOptions, count_wigm

    opts = WigmOptions(seats=p.seats, places=p.decimal_places, lot=Lot(seed=p.seed))
    return count_wigm(store, cands, opts)


def _ers97(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.ers97 import count_ers97

    return count_ers97(store, cands, p.seats, seed=p.seed)


def _meek(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.meek import count_meek

    return count_meek(store, cands, p.seats)


def _wright(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    from tallyroom.count.rules.wright import count_wright

    return count_wright(store, cands, p.seats)


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "irv",
            "instant-runoff voting, one seat (RCTab singleWinnerMajority)",
            _irv,
            False,
            constrainable=True,
        ),
        Rule(
            "stv",
            "single transferable vote, Droop quota, fractional surplus (RCTab)",
            _stv,
            True,
            constrainable=True,
        ),
        Rule("plurality", "first past the post; the most first preferences win", _plurality, True),
        Rule(
            "block",
            "block vote: up to N marks, the N most-marked win",
            _block,
            True,
            constrainable=True,
        ),
        Rule("scottish-stv", "Scottish local government STV (SSI 2007/42 Sch. 1)", _scottish, True),
        Rule("wigm", "weighted inclusive Gregory STV at --decimals places", _wigm, True),
        Rule("ers97", "Electoral Reform Society 1997 model STV rules", _ers97, True),
        Rule(
            "meek", "Meek STV (NZ Sch. 1A / Hill, Wichmann & Woodall 1987), 9 places", _meek, True
        ),
        Rule("wright", "Wright STV: restart the count after each exclusion", _wright, True),
    )
}


def get_rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        known = ", ".join(sorted(RULES))
        raise ConfigError(f"unknown rule; known rules: {known}", field="rule", value=name) from None
