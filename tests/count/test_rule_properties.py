"""Properties shared by the rules, counted through the registry (Hypothesis).

* One seat: every statutory STV rule elects the IRV winner whenever neither count broke a tie
  (with one seat there is no surplus before the election, and the lowest is excluded each
  round; a bulk exclusion only removes candidates the one-at-a-time order would remove first).
* Seat constraints: whenever the constraints can be met by the candidates standing
  (:meth:`SeatPlan.build` accepts them), a constrained count (``irv``, ``stv``, ``block``)
  succeeds, fills every seat and meets every constraint; and refuses them for other rules.

Each rule's own file checks conservation at every stage, the number elected and that ballot
order is irrelevant (``test_scottish_stv.py``, ``test_wigm.py``, ``test_ers97.py``,
``test_meek.py``, ``test_wright.py``, ``test_constraints.py``, ``test_warren.py``,
``test_minneapolis.py``, ``test_cfer.py``, ``test_qpq.py``; QPQ has quotients, not votes, to
conserve). The rules of the reference counters give the same record under every
``PYTHONHASHSEED``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.constraints import Group, SeatConstraint, SeatPlan
from tallyroom.count.record import Count
from tallyroom.count.rules.registry import RULES, RuleParams, get_rule
from tallyroom.errors import ConfigError

NAMES = tuple("ABCDEFG")
STATUTORY = (
    "scottish-stv",
    "wigm",
    "wigm-prf",
    "ers97",
    "meek",
    "meek-prf",
    "warren",
    "wright",
    "minneapolis",
    "cfer",
    "qpq",
)


@st.composite
def elections(draw: st.DrawFn, max_candidates: int = 6) -> tuple[BallotStore, CandidateTable]:
    k = draw(st.integers(2, max_candidates))
    ranking = st.lists(st.integers(0, k - 1), min_size=1, max_size=k, unique=True)
    rows = draw(st.lists(ranking, min_size=1, max_size=20))
    weights = draw(st.lists(st.integers(1, 30), min_size=len(rows), max_size=len(rows)))
    return BallotStore.from_rankings([list(r) for r in rows], weights), CandidateTable(NAMES[:k])


def tied(count: Count) -> bool:
    return any(r.ties for r in count.rounds)


@pytest.mark.parametrize("rule", STATUTORY)
@settings(max_examples=150, deadline=None)
@given(election=elections())
def test_one_seat_elects_the_irv_winner(
    rule: str, election: tuple[BallotStore, CandidateTable]
) -> None:
    store, cands = election
    params = RuleParams(seats=1, seed=11)
    irv = get_rule("irv").count(store, cands, RuleParams(seats=1))
    stv = get_rule(rule).count(store, cands, params)
    assume(not tied(irv) and not tied(stv))
    assert stv.winners == irv.winners


@st.composite
def constrained(
    draw: st.DrawFn, one_seat: bool = False
) -> tuple[BallotStore, CandidateTable, int, tuple[SeatConstraint, ...]]:
    store, cands = draw(elections(max_candidates=7))
    k = len(cands)
    seats = 1 if one_seat else draw(st.integers(1, k - 1))
    split = draw(st.integers(1, k - 1))
    order = draw(st.permutations(NAMES[:k]))
    low = draw(st.integers(0, seats))
    high = draw(st.one_of(st.none(), st.integers(low, seats)))
    constraints = [SeatConstraint(Group.of("G", order[:split]), low, high)]
    if draw(st.booleans()):
        constraints.append(
            SeatConstraint(Group.of("H", order[split:]), draw(st.integers(0, seats)))
        )
    return store, cands, seats, tuple(constraints)


@pytest.mark.parametrize("rule", ["irv", "stv", "block"])
@settings(max_examples=150, deadline=None)
@given(data=st.data(), seed=st.one_of(st.none(), st.integers(0, 2**31)))
def test_constraints_are_met_whenever_they_can_be(
    rule: str, data: st.DataObject, seed: int | None
) -> None:
    store, cands, seats, constraints = data.draw(constrained(one_seat=rule == "irv"))
    try:
        SeatPlan.build(cands, seats, constraints)
    except ConfigError:
        assume(False)  # no result can meet them: the count must refuse (checked below)
        return
    count = get_rule(rule).count(
        store, cands, RuleParams(seats=seats, seed=seed, constraints=constraints)
    )
    assert len(count.winners) == seats == len(set(count.winners))
    assert all(sc.met_by(count.winners) for sc in constraints)
    assert count.rule.startswith("constrained")


@settings(max_examples=100, deadline=None)
@given(case=constrained())
def test_constraints_that_cannot_be_met_are_refused(
    case: tuple[BallotStore, CandidateTable, int, tuple[SeatConstraint, ...]],
) -> None:
    store, cands, seats, constraints = case
    try:
        SeatPlan.build(cands, seats, constraints)
    except ConfigError:
        with pytest.raises(ConfigError):
            get_rule("stv").count(store, cands, RuleParams(seats=seats, constraints=constraints))
        return


@pytest.mark.parametrize("rule", sorted(r for r in RULES if not RULES[r].constrainable))
def test_other_rules_refuse_constraints(rule: str) -> None:
    store = BallotStore.from_rankings([[0, 1], [1]], [2, 1])
    cands = CandidateTable(("A", "B"))
    group = Group.of("G", ["A"])
    with pytest.raises(ConfigError, match="cannot apply seat constraints"):
        get_rule(rule).count(store, cands, RuleParams(constraints=(SeatConstraint(group, 1),)))


DROOP_RULES = ("wigm-prf", "meek-prf", "warren", "minneapolis", "cfer", "qpq")


def test_the_reference_counters_rules_are_the_same_under_every_hash_seed() -> None:
    """Determinism by construction: the same record, ties and lots included, whatever
    ``PYTHONHASHSEED`` (each rule iterates in candidate order, never over a bare set)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])
    script = "from test_rule_properties import determinism_probe; print(determinism_probe())"
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def determinism_probe() -> str:
    rows = [[0, 1, 2], [1, 0], [2, 3], [3, 2, 4], [4], [5, 4, 0], [2, 0], [1]]
    store = BallotStore.from_rankings(rows, [7, 6, 5, 5, 3, 3, 2, 2])
    cands = CandidateTable(NAMES[:6])
    outs = []
    for rule in DROOP_RULES:
        for seats in (1, 2, 3):
            count = get_rule(rule).count(store, cands, RuleParams(seats=seats, seed=9))
            outs.append(repr((count.winners, count.rounds)))
    return "\n".join(outs)
