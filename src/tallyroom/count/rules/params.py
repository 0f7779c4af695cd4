"""What a caller may set for any rule: the one parameter record every rule's entry takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a count without constraints does not load them
    from tallyroom.count.constraints import BallotRule, SeatConstraint

__all__ = ["RuleParams"]


@dataclass(frozen=True, slots=True)
class RuleParams:
    """Seats, arithmetic, the seed for lots, and constraints; each rule reads the parts it
    understands (a rule that cannot apply constraints refuses them in the registry)."""

    seats: int = 1
    decimal_places: int = 4
    seed: int | None = None
    constraints: tuple[SeatConstraint, ...] = ()  # who may be elected (constrainable rules)
    ballot_rules: tuple[BallotRule, ...] = ()  # what a valid ballot marks (constrainable rules)

    @property
    def constrained(self) -> bool:
        return bool(self.constraints or self.ballot_rules)
