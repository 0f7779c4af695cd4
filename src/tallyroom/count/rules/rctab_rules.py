"""IRV and STV as an election names them (``rule = "irv"`` / ``"stv"``): RCTab's options for
plain instant-runoff and multi-winner STV, counted under seat constraints when any are given
(:mod:`~tallyroom.count.rules.constrained_stv`), else by the RCTab tabulator."""

from __future__ import annotations

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.options import RctabOptions, TiebreakMode, WinnerMode
from tallyroom.count.record import Count
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.rctab import tabulate

__all__ = ["irv_rule", "stv_rule"]


def _tiebreak(p: RuleParams) -> TiebreakMode:
    return TiebreakMode.RANDOM if p.seed is not None else TiebreakMode.USE_CANDIDATE_ORDER


def _count(
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
    return tabulate(store, cands, opts, rule_name=name)


def irv_rule(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    """Instant-runoff voting, one seat (RCTab ``singleWinnerMajority``)."""
    opts = RctabOptions(tiebreak_mode=_tiebreak(p), random_seed=p.seed, decimal_places=p.places())
    return _count(store, cands, p, opts, "irv")


def stv_rule(store: BallotStore, cands: CandidateTable, p: RuleParams) -> Count:
    """STV with a Droop quota and fractional surplus transfers (RCTab, several winners a
    round)."""
    opts = RctabOptions(
        winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
        seats=p.seats,
        tiebreak_mode=_tiebreak(p),
        random_seed=p.seed,
        decimal_places=p.places(),
    )
    return _count(store, cands, p, opts, "stv")
