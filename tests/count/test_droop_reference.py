"""Meek and WIGM against Droop's own reference counts, action by action.

Droop (J. Lundell's STV counter, the PR Foundation's reference implementation) ships ballot
files and the dump of its count of each under each rule (``droop_cases.py``). Compared here:

* ``meek-prf-o6-fixed-p9``: the PR Foundation's Meek reference rule (tallyroom's
  ``meek-prf``: 9-place fixed point, the kept part rounded up, omega 10^-6, one defeat a
  round), ties by the file's ``[tie]`` order else candidate order. Every elect, defeat, tie and
  the end: the quota, each candidate's state, vote and keep factor, exactly (the votes after
  the last round aside: see ``meek_prf.py``).
* ``meek-o10-rational``: Droop's parametric Meek in exact arithmetic, omega 10^-10, with its
  default batch defeats (``defeat_batch=safe``): the same rows, each value within the last
  shown place (the dump shows 12 places; tallyroom rounds keep factors up at 30).
* ``wigm-prf`` and ``wigm-prf-batch``: the PR Foundation's WIGM reference rule (tallyroom's
  ``wigm-prf``: quota ``V/(S+1)`` truncated to 4 places + 0.0001, transfers truncated step by
  step, ties by the tie order, and sure losers defeated together with ``defeat_batch=safe``),
  through the registry: the tallies after the first count and after every transfer, exactly,
  and who is elected.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from droop_cases import Case, params

from tallyroom.count.rules.meek import (
    Action,
    Arithmetic,
    DefeatBatch,
    MeekOptions,
    Status,
    TieOrder,
    meek_options,
    run_meek,
)
from tallyroom.count.rules.meek_prf import meek_prf_options
from tallyroom.count.rules.registry import QuotaRule, RuleParams, get_rule
from tallyroom.count.rules.wigm import TransferRounding as WigmRounding
from tallyroom.count.rules.wigm import WigmOptions, count_wigm
from tallyroom.count.rules.wigm_prf import wigm_prf_options

_STATE = {Status.HOPEFUL: "H", Status.ELECTED: "E", Status.DEFEATED: "D", Status.WITHDRAWN: "W"}
_ACTION = {
    Action.BEGIN: "begin",
    Action.ELECT: "elect",
    Action.ELECT_REMAINING: "elect",
    Action.DEFEAT: "defeat",
    Action.DEFEAT_REMAINING: "defeat",
    Action.BREAK_TIE: "tie",
    Action.COMPLETE: "end",
}


_AFTER = {Action.ELECT_REMAINING, Action.DEFEAT_REMAINING, Action.COMPLETE}


def _meek(
    case: Case, tmp_path: Path, opts: MeekOptions, tolerance: Fraction, *, settle: bool
) -> None:
    """``settle``: Droop recounts after the last round's elect/defeat remaining (its
    parametric Meek does; the PRF reference rule reports the last iteration's votes)."""
    election = case.election(tmp_path)
    record = run_meek(election.ballots, election.candidates, election.seats, opts)
    names = election.candidates.names
    exact = opts.arithmetic is Arithmetic.RATIONAL
    unit = Fraction(1) if exact else Fraction(1, 10**opts.unit_places)
    expected = [r for r in case.rows if r.action in set(_ACTION.values())]
    ours = [s for s in record.stages if s.action in _ACTION]
    assert [_ACTION[s.action] for s in ours] == [r.action for r in expected]
    for stage, row in zip(ours, expected, strict=True):
        where = f"{case.name}: round {stage.round} {stage.action.value}"
        assert row.quota is not None
        assert abs(Fraction(stage.threshold) * unit - row.quota) <= tolerance, where
        for c, name in enumerate(names):
            if row.states.get(name, "W") == "W":
                assert stage.statuses[c] is Status.WITHDRAWN
                continue
            assert _STATE[stage.statuses[c]] == row.states[name], f"{where}: {name}"
            if stage.action is Action.BEGIN or (stage.action in _AFTER and not settle):
                continue  # Droop shows raw first preferences before the first iteration
            vote, kf = Fraction(stage.votes[c]) * unit, Fraction(stage.keep[c]) * unit
            assert abs(vote - row.votes[name]) <= tolerance, f"{where}: {name}'s vote"
            assert abs(kf - row.kf[name]) <= tolerance, f"{where}: {name}'s keep factor"


@pytest.mark.parametrize("case", params("meek", "meek-prf"))
def test_meek_matches_the_pr_foundation_reference(case: Case, tmp_path: Path) -> None:
    opts = meek_prf_options(case.election(tmp_path).tie_order or ())
    _meek(case, tmp_path, opts, Fraction(0), settle=False)


@pytest.mark.parametrize("case", params("meek", "meek-o10-rational"))
def test_rational_meek_with_batch_defeats_matches_droop(case: Case, tmp_path: Path) -> None:
    tie = TieOrder(case.election(tmp_path).tie_order or ())
    opts = MeekOptions(
        arithmetic=Arithmetic.RATIONAL,
        places=30,
        omega_places=10,
        tie=tie,
        defeat_batch=DefeatBatch.SAFE,
    )
    _meek(case, tmp_path, opts, Fraction(1, 10**12), settle=True)


def _dedupe(tallies: list[dict[str, Fraction]]) -> list[dict[str, Fraction]]:
    """Consecutive equal tallies once (a zero surplus is a Droop action but no stage here)."""
    return [t for i, t in enumerate(tallies) if i == 0 or t != tallies[i - 1]]


@pytest.mark.parametrize("case", params("wigm", "wigm-prf"))
def test_wigm_matches_the_pr_foundation_reference(case: Case, tmp_path: Path) -> None:
    election = case.election(tmp_path)
    batch = DefeatBatch.SAFE if "batch" in case.variant else DefeatBatch.NONE
    p = RuleParams(seats=election.seats, defeat_batch=batch, tie_order=election.tie_order or ())
    count = get_rule("wigm-prf").count(election.ballots, election.candidates, p)
    unit = Fraction(1, 10**4)
    expected = _dedupe(
        [
            {n: v for n, v in r.votes.items() if r.states[n] != "W"}
            for r in case.rows
            if r.action in ("begin", "transfer")
        ]
    )
    ours = _dedupe([{n: v * unit for n, v in rnd.tally} for rnd in count.rounds])
    # Droop ends the count as soon as it is complete, before transferring the last defeated
    # candidate's papers; tallyroom transfers them first (one stage more, at most)
    assert ours[: len(expected)] == expected
    assert len(ours) - len(expected) <= 1
    end = case.rows[-1]
    assert end.action == "end"
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")
    assert count.rounds[0].threshold * unit == end.quota
    assert count.rule == "wigm-prf"


def test_the_wigm_prf_parameters_are_wigm_s_own_options() -> None:
    """``wigm-prf`` is ``wigm`` with the reference parameters: the generic rule with
    ``--quota droop-fractional --decimals 4`` differs only in the step-by-step rounding of
    later transfers."""
    opts = wigm_prf_options(3)
    assert (opts.places, opts.quota, opts.transfer) == (
        4,
        QuotaRule.DROOP_FRACTIONAL,
        WigmRounding.STEPWISE,
    )
    assert opts.tie_order == ()


@pytest.mark.parametrize("case", params("meek", "meek-o9-guarded"))
def test_guarded_meek_matches_droop_s_default(case: Case, tmp_path: Path) -> None:
    """Droop's ``meek`` as it runs by default: guarded arithmetic (18 places + 9 guard
    digits), omega 10^-9, batch defeats; every row to the 18 places shown (rounded)."""
    election = case.election(tmp_path)
    p = RuleParams(
        seats=election.seats,
        arithmetic=Arithmetic.GUARDED,
        defeat_batch=DefeatBatch.SAFE,
        tie_order=election.tie_order or (),
    )
    opts = meek_options(p)
    assert (opts.places, opts.guard, opts.omega_places) == (18, 9, 9)
    _meek(case, tmp_path, opts, Fraction(1, 10**18), settle=True)


@pytest.mark.parametrize("case", params("wigm", "wigm-guarded"))
def test_guarded_wigm_matches_droop_s_default(case: Case, tmp_path: Path) -> None:
    """Droop's generic ``wigm`` as it runs by default (guarded, 18 + 9 places: quota
    ``V/(S+1)`` with no added unit, elected over it, ties within half of 10^-18, each
    product and quotient of a transfer rounded down, ties by the tie order): every tally
    after the first count and after each transfer, to the 18 places shown; who is elected."""
    election = case.election(tmp_path)
    opts = WigmOptions(
        seats=election.seats,
        places=18,
        guard=9,
        arithmetic=Arithmetic.GUARDED,
        quota=QuotaRule.DROOP_FRACTIONAL,
        transfer=WigmRounding.STEPWISE,
        tie_order=election.tie_order or (),
    )
    count = count_wigm(election.ballots, election.candidates, opts)
    unit = Fraction(1, 10**27)
    rows = [r for r in case.rows if r.action in ("begin", "transfer")]
    expected = [{n: v for n, v in r.votes.items() if r.states[n] != "W"} for r in rows]
    ours = [{n: v * unit for n, v in rnd.tally} for rnd in count.rounds]
    close = Fraction(1, 10**18)
    assert len(ours) - len(expected) in (0, 1)  # Droop stops before the last transfer
    for mine, theirs in zip(ours, expected, strict=False):
        assert mine.keys() == theirs.keys()
        assert all(abs(mine[n] - theirs[n]) <= close for n in mine), (mine, theirs)
    end = case.rows[-1]
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")
    assert abs(count.rounds[0].threshold * unit - end.quota) <= close


@pytest.mark.parametrize("case", params("wigm", "wigm-rational"))
def test_rational_wigm_matches_droop(case: Case, tmp_path: Path) -> None:
    """Droop's generic ``wigm`` in exact arithmetic (quota ``V/(S+1)``, elected over it, ties
    by the tie order, else candidate order): every tally after the first count and after each
    transfer, to the 12 places shown; who is elected."""
    election = case.election(tmp_path)
    opts = WigmOptions(
        seats=election.seats,
        places=12,
        quota=QuotaRule.DROOP_FRACTIONAL,
        arithmetic=Arithmetic.RATIONAL,
        tie_order=election.tie_order or (),
    )
    count = count_wigm(election.ballots, election.candidates, opts)
    unit = Fraction(1, 10**12)
    rows = [r for r in case.rows if r.action in ("begin", "transfer")]
    expected = [{n: v for n, v in r.votes.items() if r.states[n] != "W"} for r in rows]
    ours = [{n: v * unit for n, v in rnd.tally} for rnd in count.rounds]
    close = Fraction(1, 10**12)
    assert len(ours) - len(expected) in (0, 1)  # Droop stops before the last transfer
    for mine, theirs in zip(ours, expected, strict=False):
        assert mine.keys() == theirs.keys()
        assert all(abs(mine[n] - theirs[n]) <= close for n in mine), (mine, theirs)
    end = case.rows[-1]
    assert sorted(count.winners) == sorted(n for n, s in end.states.items() if s == "E")
    assert abs(count.rounds[0].threshold * unit - end.quota) <= close
