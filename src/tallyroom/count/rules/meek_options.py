"""How a Meek count runs: its options, the states and actions of its transcript, and ties.

See :mod:`tallyroom.count.rules.meek` for the rule; the defaults are Droop.py's ``meek``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from tallyroom.count.lot import Lot, LotDrawer
from tallyroom.count.rules.params import Arithmetic, DefeatBatch
from tallyroom.errors import ConfigError

__all__ = [
    "Action",
    "Arithmetic",
    "DefeatBatch",
    "EqualRanking",
    "IterationEnd",
    "KeepRule",
    "Lot",
    "MeekOptions",
    "Status",
    "TieOrder",
    "TiePolicy",
    "TransferRounding",
    "break_tie",
]


class TransferRounding(enum.Enum):
    DOWN = "down"  # Droop.py / OpenSTV: kept and passed-on parts both rounded down
    UP = "up"  # NZ Schedule 1A: both rounded up
    HILL = "hill"  # PRF Meek B.2.a, Hill 1987: the kept part rounded up, the rest passed on


class KeepRule(enum.Enum):
    """What a candidate with keep factor ``k`` keeps of a value ``v`` reaching them."""

    MEEK = "meek"  # v x k: a proportion of what reaches them
    WARREN = "warren"  # min(k, v): the same amount from every ballot that can give it


class EqualRanking(enum.Enum):
    DROOP = "droop"  # Droop.py's recursive descent
    EQUALIZE = "equalize"  # the average over every order of the equally ranked candidates


class Status(enum.Enum):
    HOPEFUL = "hopeful"
    ELECTED = "elected"
    DEFEATED = "defeated"
    WITHDRAWN = "withdrawn"


class Action(enum.Enum):
    BEGIN = "begin count"
    ELECT = "elect"
    ITERATE = "iterate"
    BREAK_TIE = "break tie"
    DEFEAT = "defeat"
    ELECT_REMAINING = "elect remaining"
    DEFEAT_REMAINING = "defeat remaining"
    COMPLETE = "count complete"


class IterationEnd(enum.Enum):
    ELECTED = "elected"
    OMEGA = "omega"
    STABLE = "stable"
    BATCH = "batch"  # sure losers found (DefeatBatch.SAFE)


@dataclass(frozen=True, slots=True)
class TieOrder:
    """Ties go to the tied candidate listed first in ``order`` (codes); unlisted candidates
    follow in candidate order. Empty: the candidate order (Droop.py's default)."""

    order: tuple[int, ...] = ()


TiePolicy = TieOrder | Lot


@dataclass(frozen=True, slots=True)
class MeekOptions:
    """How a Meek count runs. The defaults are Droop.py's ``meek fixed precision=9 omega=6
    defeat_batch=none``, which the stv-rs transcripts reproduce."""

    arithmetic: Arithmetic = Arithmetic.FIXED
    places: int = 9  # FIXED: places of every value; RATIONAL: places of the keep factors
    omega_places: int = 6  # omega = 10**-omega_places
    transfer_rounding: TransferRounding = TransferRounding.DOWN
    equal_ranking: EqualRanking = EqualRanking.DROOP
    force_positive_surplus: bool = False
    tie: TiePolicy = TieOrder()
    defeat_batch: DefeatBatch = DefeatBatch.NONE  # SAFE: Droop.py's defeat_batch=safe
    keep: KeepRule = KeepRule.MEEK
    omega_inclusive: bool = True  # iteration ends at surplus <= omega (Droop); False: < omega
    guard: int = 0  # GUARDED: guard digits beyond ``places`` (0: the same as FIXED)

    @property
    def unit_places(self) -> int:
        """The places of the integer units values are held in (FIXED and GUARDED)."""
        return self.places + (self.guard if self.arithmetic is Arithmetic.GUARDED else 0)

    def __post_init__(self) -> None:
        if not 0 <= self.guard <= 30:
            raise ConfigError("guard digits must be in [0..30]", field="guard", value=self.guard)
        if self.equal_ranking is EqualRanking.EQUALIZE and (
            self.keep is KeepRule.WARREN or self.transfer_rounding is TransferRounding.HILL
        ):
            raise ConfigError(
                "equalized equal preferences are defined for Meek's proportional keep with "
                "both parts rounded alike only",
                field="equal_ranking",
                value=self.equal_ranking.value,
            )
        if not 0 <= self.places <= 30:
            raise ConfigError(
                "decimal places must be in [0..30]", field="places", value=self.places
            )
        if not 0 <= self.omega_places <= 30:
            raise ConfigError(
                "omega's decimal places must be in [0..30]",
                field="omega_places",
                value=self.omega_places,
            )


def break_tie(
    policy: TiePolicy, tied: Sequence[int], lots: LotDrawer | None
) -> tuple[int, str, str]:
    """The candidate chosen among ``tied`` (in candidate order), the method and why."""
    if isinstance(policy, Lot):
        assert lots is not None
        return lots.draw(tied), "lot", f"drawn by lot (seed {policy.seed})"
    rank = {c: i for i, c in enumerate(policy.order)}
    pick = min(tied, key=lambda c: (rank.get(c, len(rank)), c))
    where = "the tie order" if policy.order else "candidate order"
    return pick, "tie order", f"listed first in {where}"
