"""The contest config reader: every problem reported at once, and the counting options read
straight into the engine's :class:`RctabOptions`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cvr_testkit import CASES

from tallyroom.count.options import OvervoteRule, RctabOptions, TiebreakMode, WinnerMode
from tallyroom.errors import ConfigError
from tallyroom.formats.rctab.config import load_config, parse_config


def _config(tmp_path: Path, rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    cvr = tmp_path / "cvr.csv"
    cvr.write_text("id,A,B\n1,1,2\n", encoding="utf-8")
    raw: dict[str, Any] = {
        "outputSettings": {"contestName": "Options"},
        "cvrFileSources": [
            {"provider": "genericCsv", "filePath": str(cvr), "firstVoteColumnIndex": 2}
        ],
        "candidates": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        "rules": rules,
    }
    raw.update(extra)
    return raw


def test_every_problem_is_reported_at_once_with_its_key_and_value() -> None:
    path = CASES / "invalid_params_test" / "invalid_params_test_config.json"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.path == str(path)
    assert err.problem.split("; ") == [
        "rules.winnerElectionMode: is required",
        "rules.tiebreakMode: must be one of random, stopCountingAndAsk, "
        "previousRoundCountsThenRandom, previousRoundCountsThenAsk, useCandidateOrder, "
        "generatePermutation ('whatever')",
        "rules.overvoteRule: must be one of alwaysSkipToNextRank, exhaustImmediately, "
        "exhaustIfMultipleContinuing ('invalidOption')",
        "rules.decimalPlacesForVoteArithmetic: must be in [1..20] (-1)",
        "rules.maxSkippedRanksAllowed: must be in [0..] (-3)",
        "rules.maxRankingsAllowed: must be in [1..] (-1)",
        "rules.batchElimination: must be true or false ('True')",
        "rules.continueUntilTwoCandidatesRemain: must be true or false ('false')",
        "cvrFileSources: at least one CVR source is required",
    ]


def test_rule_problems_found_against_the_contest_are_reported_together(tmp_path: Path) -> None:
    rules = {
        "winnerElectionMode": "multiWinnerAllowOnlyOneWinnerPerRound",
        "tiebreakMode": "random",
        "overvoteRule": "alwaysSkipToNextRank",
        "numberOfWinners": 1,
        "maxSkippedRanksAllowed": "unlimited",
        "maxRankingsAllowed": "max",
        "batchElimination": True,
        "hareQuota": True,
        "nonIntegerWinningThreshold": True,
    }
    with pytest.raises(ConfigError) as info:
        parse_config(_config(tmp_path, rules), tmp_path / "c.json")
    assert info.value.problem.split("; ") == [
        "rules.randomSeed: is required with tiebreakMode random",
        "rules.numberOfWinners: must be more than 1 for multiWinnerAllowOnlyOneWinnerPerRound (1)",
        "rules.batchElimination: is not allowed with multiWinnerAllowOnlyOneWinnerPerRound",
        "rules.hareQuota: cannot be combined with nonIntegerWinningThreshold",
    ]


def test_every_counting_key_lands_in_its_option(tmp_path: Path) -> None:
    """Each rules key set away from its default, read straight into RctabOptions."""
    rules = {
        "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
        "tiebreakMode": "generatePermutation",
        "overvoteRule": "exhaustImmediately",
        "numberOfWinners": "0",
        "decimalPlacesForVoteArithmetic": "6",
        "randomSeed": "-42",
        "maxSkippedRanksAllowed": "2",
        "maxRankingsAllowed": "3",
        "exhaustOnDuplicateCandidate": True,
        "doesFirstRoundDetermineThreshold": True,
        "nonIntegerWinningThreshold": True,
        "cutoffElimination": True,
        "multiSeatBottomsUpPercentageThreshold": "12.5",
        "stopTabulationEarlyAfterRound": 7,
        "rulesDescription": "all set",
    }
    config = parse_config(_config(tmp_path, rules), tmp_path / "c.json")
    assert config.rules.counting == RctabOptions(
        winner_mode=WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD,
        seats=0,
        tiebreak_mode=TiebreakMode.GENERATE_PERMUTATION,
        random_seed=-42,
        overvote_rule=OvervoteRule.EXHAUST_IMMEDIATELY,
        decimal_places=6,
        max_skipped_ranks_allowed=2,
        exhaust_on_duplicate_candidate=True,
        first_round_determines_threshold=True,
        non_integer_winning_threshold=True,
        cutoff_elimination=True,
        percentage_threshold=Decimal("12.5"),
        stop_after_round=7,
    )
    assert config.rules.max_rankings_allowed == 3
    assert config.rules.description == "all set"
    flags = {
        "batchElimination": "batch_elimination",
        "continueUntilTwoCandidatesRemain": "continue_until_two_candidates_remain",
        "hareQuota": "hare_quota",
    }
    for key, option in flags.items():
        irv = {
            "winnerElectionMode": "singleWinnerMajority",
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "alwaysSkipToNextRank",
            "numberOfWinners": 1,
            "maxSkippedRanksAllowed": "unlimited",
            "maxRankingsAllowed": "max",
            key: True,
        }
        counting = parse_config(_config(tmp_path, irv), tmp_path / "c.json").rules.counting
        assert getattr(counting, option) is True, key
        assert counting.max_skipped_ranks_allowed is None


def test_older_option_names_are_read(tmp_path: Path) -> None:
    rules = {
        "winnerElectionMode": "multiSeatSequentialWinnerTakesAll",
        "tiebreakMode": "usePermutationInConfig",
        "overvoteRule": "alwaysSkipToNextRank",
        "numberOfWinners": 2,
        "maxSkippedRanksAllowed": 0,
        "maxRankingsAllowed": "max",
    }
    counting = parse_config(_config(tmp_path, rules), tmp_path / "c.json").rules.counting
    assert counting.winner_mode is WinnerMode.MULTI_PASS_IRV
    assert counting.tiebreak_mode is TiebreakMode.USE_CANDIDATE_ORDER
    assert (counting.seats, counting.max_skipped_ranks_allowed) == (2, 0)
