"""What a caller may set for any rule: the one parameter record every rule's entry takes,
and the option types it holds (:mod:`.choices`: closed enums, no strings, no aliases).

A rule reads the parts it understands; the registry (:mod:`.registry`) says which options
each rule takes and refuses any other by name, so that ``--quota hare`` under a rule with a
fixed quota is an error, not silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tallyroom.count.rules.choices import Arithmetic, DefeatBatch, QuotaRule
from tallyroom.errors import ConfigError

if TYPE_CHECKING:  # a count without constraints does not load them
    from tallyroom.count.constraints import BallotRule, SeatConstraint
    from tallyroom.count.rules.motion_options import MotionRule

__all__ = ["Arithmetic", "DefeatBatch", "QuotaRule", "RuleParams"]


@dataclass(frozen=True, slots=True)
class RuleParams:
    """Seats, arithmetic, the seed for lots, and constraints; each rule reads the parts it
    understands (a rule that cannot apply constraints, or take an option, refuses it in the
    registry). ``None`` for an option means the rule's own default.

    ``tie_order`` is a ballot file's tie-break order (Droop's ``[tie ...]``): candidate codes,
    the first listed losing a tie for defeat; rules that break ties by such an order use it,
    others ignore it (a file property, not a choice made for the count).
    """

    seats: int = 1
    decimal_places: int | None = None  # None: the rule's own (4 where the rule takes it)
    seed: int | None = None
    constraints: tuple[SeatConstraint, ...] = ()  # who may be elected (constrainable rules)
    ballot_rules: tuple[BallotRule, ...] = ()  # what a valid ballot marks (constrainable rules)
    quota: QuotaRule | None = None
    arithmetic: Arithmetic | None = None
    defeat_batch: DefeatBatch | None = None
    tie_order: tuple[int, ...] = ()
    motion: MotionRule | None = None  # how a motion is decided (the motion rule only)
    electorate: int | None = None  # everyone entitled to vote (a motion's base or quorum)
    spoilt: int = 0  # papers spoilt outside the ballots counted (a motion's quorum counts them)

    def __post_init__(self) -> None:
        if len(set(self.tie_order)) != len(self.tie_order):
            raise ConfigError(
                "a tie order lists a candidate twice", field="tie", value=self.tie_order
            )

    def places(self, default: int = 4) -> int:
        """The decimal places asked for, else ``default``."""
        return default if self.decimal_places is None else self.decimal_places

    @property
    def constrained(self) -> bool:
        return bool(self.constraints or self.ballot_rules)
