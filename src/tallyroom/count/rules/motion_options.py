"""A motion's options: the answers offered (:class:`ChoiceSet`), the threshold and what it is
a share of, the quorum, and the share of the electorate that must support it
(:class:`MotionRule`). Kept apart from :mod:`.motion` (which decides) so that
:class:`~.params.RuleParams` can hold a :class:`MotionRule` without loading the rule; the
clauses they follow are cited there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

from tallyroom.errors import ConfigError

__all__ = ["ChoiceSet", "MotionRule", "Quorum", "Threshold", "ThresholdBase", "percent_text"]


class ChoiceSet(enum.Enum):
    """The answers a motion's paper offers, the answer *for* first."""

    YES_NO = "yes-no"
    FOR_AGAINST_ABSTAIN = "for-against-abstain"

    @property
    def names(self) -> tuple[str, ...]:
        if self is ChoiceSet.YES_NO:
            return ("Yes", "No")
        return ("For", "Against", "Abstain")


class ThresholdBase(enum.Enum):
    """What the threshold is a share of."""

    VOTES = "votes"  # for + against [RONR 44:3] "excluding blanks or abstentions"
    VOTES_AND_ABSTENTIONS = "votes-and-abstentions"  # for + against + abstain
    ELECTORATE = "electorate"  # everyone entitled to vote


@dataclass(frozen=True, slots=True)
class Threshold:
    """A share of the base: at least ``share``, or more than it when ``strict``."""

    share: Fraction
    strict: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.share <= 1:
            raise ConfigError("a threshold is a share above 0 and at most 1", value=str(self.share))
        if self.strict and self.share == 1:
            raise ConfigError("no share can be more than all of the base", value="more than 1")

    @classmethod
    def majority(cls) -> Threshold:
        """[RONR 1:6] "more than half"."""
        return cls(Fraction(1, 2), strict=True)

    def required(self, base: int) -> int:
        """The fewest votes that meet the threshold out of ``base``: for "at least p/q" the
        smallest ``n`` with ``n * q >= p * base``; for "more than p/q" with ``n * q > p *
        base``. Integers only."""
        p, q = self.share.numerator, self.share.denominator
        if self.strict:
            return p * base // q + 1
        return -(-p * base // q)

    def describe(self) -> str:
        if self.strict and self.share == Fraction(1, 2):
            return "a simple majority (more than half)"
        named = {
            Fraction(2, 3): "two thirds",
            Fraction(3, 4): "three quarters",
            Fraction(1, 3): "one third",
        }
        words = named.get(self.share, f"{self.share.numerator}/{self.share.denominator}")
        return f"{'more than' if self.strict else 'at least'} {words}"


@dataclass(frozen=True, slots=True)
class Quorum:
    """A minimum turnout: papers returned at least ``share`` of the electorate, or at least
    ``ballots`` papers. Exactly one is set."""

    share: Fraction | None = None
    ballots: int | None = None

    def __post_init__(self) -> None:
        if (self.share is None) == (self.ballots is None):
            raise ConfigError("a quorum is a share of the electorate or a number", value=None)
        if self.share is not None and not 0 < self.share <= 1:
            raise ConfigError("a quorum's share is above 0 and at most 1", value=str(self.share))
        if self.ballots is not None and self.ballots < 1:
            raise ConfigError("a quorum is at least 1 paper", value=self.ballots)

    def required(self, electorate: int) -> int:
        """Papers needed: at least ``share`` of ``electorate`` (rounded up), or ``ballots``."""
        if self.share is None:
            assert self.ballots is not None
            return self.ballots
        return -(-self.share.numerator * electorate // self.share.denominator)

    def describe(self) -> str:
        if self.share is None:
            return f"a quorum of {self.ballots} papers"
        return f"a quorum of {percent_text(self.share)} of the electorate"


@dataclass(frozen=True, slots=True)
class MotionRule:
    """How a motion is decided (see the module docstring)."""

    threshold: Threshold
    base: ThresholdBase = ThresholdBase.VOTES
    quorum: Quorum | None = None
    electorate_support: Fraction | None = None

    def __post_init__(self) -> None:
        es = self.electorate_support
        if es is not None and not 0 < es <= 1:
            raise ConfigError("a share of the electorate is above 0 and at most 1", value=str(es))

    @property
    def needs_electorate(self) -> bool:
        return (
            self.base is ThresholdBase.ELECTORATE
            or self.electorate_support is not None
            or (self.quorum is not None and self.quorum.share is not None)
        )

    def describe(self) -> str:
        """The rule in words, as the ballot paper and the declaration state it."""
        of = {
            ThresholdBase.VOTES: "of the votes for and against",
            ThresholdBase.VOTES_AND_ABSTENTIONS: "of the votes, abstentions included",
            ThresholdBase.ELECTORATE: "of the electorate",
        }[self.base]
        parts = [f"{self.threshold.describe()} {of}"]
        if self.electorate_support is not None:
            parts.append(f"at least {percent_text(self.electorate_support)} of the electorate")
        if self.quorum is not None:
            parts.append(self.quorum.describe())
        return "; ".join(parts)


def percent_text(share: Fraction) -> str:
    """A share as a percentage, exact where it is a whole or decimal number ("40%"), else
    the fraction ("2/3")."""
    pct = share * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    if 10**6 % pct.denominator == 0:
        whole, rest = divmod(pct.numerator * (10**6 // pct.denominator), 10**6)
        return f"{whole}.{str(rest).rjust(6, '0').rstrip('0')}%"
    return f"{share.numerator}/{share.denominator}"
