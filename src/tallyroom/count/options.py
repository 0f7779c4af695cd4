"""Options of the RCTab rule family, as types (the contest config maps onto these)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only the percentage threshold is one; a count of IRV does not load it
    from decimal import Decimal

__all__ = [
    "OvervoteRule",
    "RctabOptions",
    "TieDecider",
    "TiebreakMode",
    "WinnerMode",
]


class WinnerMode(enum.Enum):
    SINGLE_WINNER_MAJORITY = "singleWinnerMajority"
    MULTI_WINNER_ALLOW_ONLY_ONE_WINNER_PER_ROUND = "multiWinnerAllowOnlyOneWinnerPerRound"
    MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND = "multiWinnerAllowMultipleWinnersPerRound"
    BOTTOMS_UP = "bottomsUp"
    BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD = "bottomsUpUsingPercentageThreshold"
    MULTI_PASS_IRV = "multiPassIrv"

    @property
    def is_stv(self) -> bool:
        return self in (
            WinnerMode.MULTI_WINNER_ALLOW_ONLY_ONE_WINNER_PER_ROUND,
            WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
        )


class TiebreakMode(enum.Enum):
    RANDOM = "random"
    STOP_COUNTING_AND_ASK = "stopCountingAndAsk"
    PREVIOUS_ROUND_COUNTS_THEN_RANDOM = "previousRoundCountsThenRandom"
    PREVIOUS_ROUND_COUNTS_THEN_ASK = "previousRoundCountsThenAsk"
    USE_CANDIDATE_ORDER = "useCandidateOrder"
    GENERATE_PERMUTATION = "generatePermutation"

    @property
    def needs_seed(self) -> bool:
        return self in (
            TiebreakMode.RANDOM,
            TiebreakMode.PREVIOUS_ROUND_COUNTS_THEN_RANDOM,
            TiebreakMode.GENERATE_PERMUTATION,
        )


class OvervoteRule(enum.Enum):
    ALWAYS_SKIP_TO_NEXT_RANK = "alwaysSkipToNextRank"
    EXHAUST_IMMEDIATELY = "exhaustImmediately"
    EXHAUST_IF_MULTIPLE_CONTINUING = "exhaustIfMultipleContinuing"


# An operator's decision for the "ask" tie-break modes: given the round, whether a winner
# (True) or a loser (False) is being chosen, and the tied candidates (sorted), return one.
TieDecider = Callable[[int, bool, Sequence[str]], str]


@dataclass(frozen=True, slots=True)
class RctabOptions:
    """How an RCTab-family count runs. Defaults give plain IRV (one seat, skip overvotes).

    The contest config reader (:mod:`tallyroom.formats.rctab.config`) reads the ``rules``
    section straight into this record; each field's key there is noted beside it.
    """

    winner_mode: WinnerMode = WinnerMode.SINGLE_WINNER_MAJORITY  # winnerElectionMode
    seats: int = 1  # numberOfWinners
    tiebreak_mode: TiebreakMode = TiebreakMode.USE_CANDIDATE_ORDER  # tiebreakMode
    random_seed: int | None = None  # randomSeed
    overvote_rule: OvervoteRule = OvervoteRule.ALWAYS_SKIP_TO_NEXT_RANK  # overvoteRule
    decimal_places: int = 4  # decimalPlacesForVoteArithmetic
    max_skipped_ranks_allowed: int | None = None  # maxSkippedRanksAllowed; None: unlimited
    exhaust_on_duplicate_candidate: bool = False  # exhaustOnDuplicateCandidate
    batch_elimination: bool = False  # batchElimination
    continue_until_two_candidates_remain: bool = False  # continueUntilTwoCandidatesRemain
    first_round_determines_threshold: bool = False  # doesFirstRoundDetermineThreshold
    non_integer_winning_threshold: bool = False  # nonIntegerWinningThreshold
    hare_quota: bool = False  # hareQuota
    cutoff_elimination: bool = False  # cutoffElimination
    percentage_threshold: Decimal | None = None  # multiSeatBottomsUpPercentageThreshold
    stop_after_round: int | None = None  # stopTabulationEarlyAfterRound
    tie_decider: TieDecider | None = None  # not in the config: given when the count runs

    @property
    def uses_surpluses(self) -> bool:
        return self.seats > 1 and self.winner_mode.is_stv
