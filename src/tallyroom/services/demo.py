"""The demo: a bundled example contest counted end to end.

Until the election service lands (issue 4) the demo is a deterministic example membership
ballot: a leadership contest counted by IRV and a committee elected by STV, from ballots made
by a seeded generator (the same ballots on every machine), shown as the declaration and the
round-by-round table.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable
from tallyroom.count.options import RctabOptions, TiebreakMode, WinnerMode
from tallyroom.count.record import Count
from tallyroom.count.rules.rctab import tabulate
from tallyroom.report.text import count_to_text

__all__ = ["example_ballots", "run_demo"]

LEADER = ("Ada Ashworth", "Ben Okafor", "Carys Llewellyn", "Dev Patel", "Eilidh MacRae")
COMMITTEE = (
    "Farah Ahmed",
    "Gareth Hughes",
    "Hana Novak",
    "Iain Fraser",
    "Joy Mensah",
    "Kit Lawson",
    "Lena Berg",
    "Marek Nowak",
)
SEED = 2016


def example_ballots(n: int, weights: tuple[float, ...], max_ranks: int, seed: int) -> BallotStore:
    """Rankings drawn from a Plackett-Luce model (seeded): ballot i ranks up to ``max_ranks``."""
    rng = np.random.default_rng(seed)
    k = len(weights)
    w = np.asarray(weights)
    # Gumbel trick: sorting log-weights plus Gumbel noise samples Plackett-Luce rankings
    keys = np.log(w)[None, :] + rng.gumbel(size=(n, k))
    order = np.argsort(-keys, axis=1)[:, :max_ranks].astype(np.int32)
    lengths = rng.integers(1, max_ranks + 1, size=n)
    order[np.arange(max_ranks)[None, :] >= lengths[:, None]] = SKIP
    return BallotStore.from_rows(order)


def _leader() -> Count:
    store = example_ballots(200_000, (0.34, 0.27, 0.2, 0.12, 0.07), 5, SEED)
    opts = RctabOptions(tiebreak_mode=TiebreakMode.RANDOM, random_seed=SEED)
    return tabulate(store, CandidateTable(LEADER), opts, rule_name="irv")


def _committee() -> Count:
    store = example_ballots(20_000, (0.2, 0.16, 0.14, 0.13, 0.11, 0.1, 0.09, 0.07), 6, SEED + 1)
    opts = RctabOptions(
        winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
        seats=3,
        tiebreak_mode=TiebreakMode.RANDOM,
        random_seed=SEED,
        decimal_places=4,
    )
    return tabulate(store, CandidateTable(COMMITTEE), opts, rule_name="stv")


def run_demo(json_out: Path | None = None) -> str:
    leader, committee = _leader(), _committee()
    text = count_to_text(leader, title="Example leadership ballot (IRV, 200,000 ballots)")
    text += "\n" + count_to_text(
        committee, title="Example committee (STV, 3 seats, 20,000 ballots)"
    )
    if json_out is not None:
        from tallyroom.report.rctab_json import ReportLabels, count_to_json

        doc = {
            "leader": count_to_json(leader, ReportLabels(contest="Example leadership ballot")),
            "committee": count_to_json(committee, ReportLabels(contest="Example committee")),
        }
        json_out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return text
