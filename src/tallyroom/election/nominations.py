"""Nominations: who reaches the ballot paper, as a book of frozen records and pure functions.

A contest's :class:`NominationRule` names the nominating body (Labour's MPs and MEPs, "PLP
and EPLP"), its size, and the threshold: a share of the body rounded as stated, or an absolute
number. Labour's rule book asks for "20% of the combined PLP + EPLP" from a challenger when
there is no vacancy (2016: 51 of 251; NOTES.md section 1) and 15% when there is one (2015:
35 of 232); both are shares rounded **up**, since a nominee must reach *at least* the share.

The book (:class:`NominationBook`) is opened with the declared candidates and the period; each
nomination paper or withdrawal gives a new book (:func:`nominate`, :func:`withdraw`). A paper
that cannot count is kept with its :class:`NominationProblem`, never dropped. Closing
(:func:`close_nominations`) fixes the ballot: the incumbent when the rule puts them on
automatically (Labour's NEC, 12 July 2016, upheld in *Foster v McNicol*), and every candidate
at or above the threshold, less those who withdrew, in declared order.

A withdrawal frees the withdrawn candidate's nominators to nominate someone else before the
close (LabourList's summary of the 2020 procedure: "Those who have nominated the MP who has
withdrawn can then submit a new nomination (before the deadline)").
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import NewType

from tallyroom.errors import ConfigError, InputError

__all__ = [
    "AbsoluteThreshold",
    "Ballot",
    "CandidateStanding",
    "Nomination",
    "NominationBook",
    "NominationProblem",
    "NominationRule",
    "NominatorId",
    "RejectedNomination",
    "Rounding",
    "ShareThreshold",
    "Standing",
    "Withdrawal",
    "close_nominations",
    "nominate",
    "open_nominations",
    "standings",
    "withdraw",
]

NominatorId = NewType("NominatorId", str)


class Rounding(enum.Enum):
    """How a share of the body becomes a whole number of nominations."""

    UP = "up"  # any fraction counts as a whole nomination: "at least 20%"
    DOWN = "down"  # any fraction ignored
    HALF_UP = "half-up"  # to the nearest, a half going up

    def apply(self, value: Fraction) -> int:
        if self is Rounding.UP:
            return -((-value.numerator) // value.denominator)
        if self is Rounding.DOWN:
            return value.numerator // value.denominator
        return (2 * value.numerator + value.denominator) // (2 * value.denominator)


@dataclass(frozen=True, slots=True)
class ShareThreshold:
    """``percent`` of the body (an exact decimal: ``Decimal("20")`` for 20%), then ``rounding``."""

    percent: Decimal
    rounding: Rounding

    def __post_init__(self) -> None:
        if not self.percent.is_finite() or not 0 < self.percent <= 100:
            raise ConfigError(
                "a share must be above 0% and at most 100%", field="share", value=self.percent
            )

    def required(self, body_size: int) -> int:
        # [rule] share x body, rounded as stated; exact: the percent is a decimal, not a float
        return self.rounding.apply(Fraction(self.percent) * body_size / 100)

    def describe(self) -> str:
        return f"{self.percent.normalize():f}% of the body, rounded {self.rounding.value}"


@dataclass(frozen=True, slots=True)
class AbsoluteThreshold:
    """A fixed number of nominations."""

    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ConfigError("must be at least 1", field="absolute", value=self.count)

    def required(self, body_size: int) -> int:
        return self.count

    def describe(self) -> str:
        return f"{self.count} nominations"


@dataclass(frozen=True, slots=True)
class NominationRule:
    """Who nominates, how many nominations a candidate needs, and who needs none.

    ``per_nominator``: how many candidates one member of the body may nominate in the contest
    (Labour's MPs: one). ``incumbent_automatic``: the incumbent is on the ballot without
    nominations.
    """

    body: str
    body_size: int
    threshold: ShareThreshold | AbsoluteThreshold
    incumbent_automatic: bool = False
    per_nominator: int = 1

    def __post_init__(self) -> None:
        if not self.body.strip():
            raise ConfigError("the nominating body needs a name", field="body", value=self.body)
        if self.body_size < 1:
            raise ConfigError("must be at least 1", field="body_size", value=self.body_size)
        if self.per_nominator < 1:
            raise ConfigError("must be at least 1", field="per_nominator", value=self.per_nominator)
        if self.required > self.body_size:
            raise ConfigError(
                f"the threshold ({self.required}) is more than the body has members",
                field="body_size",
                value=self.body_size,
            )

    @property
    def required(self) -> int:
        """Nominations a candidate needs to reach the ballot."""
        return self.threshold.required(self.body_size)


class NominationProblem(enum.Enum):
    """Why a nomination paper does not count."""

    OUTSIDE_PERIOD = "received outside the nomination period"
    NOT_IN_BODY = "the nominator is not a member of the nominating body"
    UNKNOWN_CANDIDATE = "no such candidate in the contest"
    CANDIDATE_WITHDRAWN = "the candidate has withdrawn"
    DUPLICATE = "the nominator has already nominated this candidate"
    OVER_ALLOWANCE = "the nominator has already used every nomination allowed"


@dataclass(frozen=True, slots=True)
class Nomination:
    nominator: NominatorId
    candidate: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RejectedNomination:
    nomination: Nomination
    problem: NominationProblem


@dataclass(frozen=True, slots=True)
class Withdrawal:
    candidate: str
    at: datetime


class Standing(enum.Enum):
    """Where a candidate stands in the nominations."""

    AUTOMATIC = "on the ballot as the incumbent"
    DECLARED = "on the ballot: the contest needs no nominations"
    NOMINATED = "nominated: at or above the threshold"
    SHORT = "below the threshold"
    WITHDRAWN = "withdrawn"

    @property
    def on_ballot(self) -> bool:
        return self in (Standing.AUTOMATIC, Standing.NOMINATED, Standing.DECLARED)


@dataclass(frozen=True, slots=True)
class CandidateStanding:
    candidate: str
    nominators: tuple[NominatorId, ...]
    standing: Standing

    @property
    def count(self) -> int:
        return len(self.nominators)


@dataclass(frozen=True, slots=True)
class NominationBook:
    """The nominations of one contest so far. Build with :func:`open_nominations`."""

    contest: str
    rule: NominationRule
    candidates: tuple[str, ...]
    incumbents: tuple[str, ...]
    opens: datetime
    closes: datetime
    roster: frozenset[NominatorId] | None = None
    accepted: tuple[Nomination, ...] = ()
    rejected: tuple[RejectedNomination, ...] = ()
    withdrawals: tuple[Withdrawal, ...] = ()
    last_event: datetime | None = None

    @property
    def threshold(self) -> int:
        return self.rule.required

    @property
    def withdrawn(self) -> tuple[str, ...]:
        return tuple(w.candidate for w in self.withdrawals)

    def nominators_of(self, candidate: str) -> tuple[NominatorId, ...]:
        return tuple(n.nominator for n in self.accepted if n.candidate == candidate)


def open_nominations(
    contest: str,
    candidates: Sequence[str],
    rule: NominationRule,
    *,
    opens: datetime,
    closes: datetime,
    incumbents: Sequence[str] = (),
    roster: Collection[NominatorId] | None = None,
) -> NominationBook:
    """An empty book for ``contest``; ``roster``, when given, lists the body's members."""
    if opens.utcoffset() is None or closes.utcoffset() is None:
        raise InputError("nomination times need a time zone", field="opens", value=opens)
    if closes <= opens:
        raise InputError("nominations close before they open", field="closes", value=closes)
    if not candidates:
        raise InputError("a contest needs candidates", field="candidates", value=contest)
    if len(set(candidates)) != len(candidates):
        raise InputError("a candidate is listed twice", field="candidates", value=list(candidates))
    strangers = [c for c in incumbents if c not in candidates]
    if strangers:
        raise InputError("an incumbent is not a candidate", field="incumbents", value=strangers)
    members = None
    if roster is not None:
        members = frozenset(roster)
        if len(members) != rule.body_size:
            raise InputError(
                f"the roster of {rule.body} has {len(members)} members but the rule's body size "
                f"is {rule.body_size}",
                field="roster",
                value=len(members),
            )
    return NominationBook(
        contest=contest,
        rule=rule,
        candidates=tuple(candidates),
        incumbents=tuple(incumbents),
        opens=opens,
        closes=closes,
        roster=members,
    )


def _in_order(book: NominationBook, at: datetime) -> None:
    if at.utcoffset() is None:
        raise InputError("an event's time needs a time zone", field="at", value=at)
    if book.last_event is not None and at < book.last_event:
        raise InputError(
            "papers are recorded in the order received: this one is dated before the last "
            f"paper that counted or withdrawal, at {book.last_event.isoformat()}",
            field="at",
            value=at.isoformat(),
        )


def _problem(book: NominationBook, n: Nomination) -> NominationProblem | None:
    if not book.opens <= n.at <= book.closes:
        return NominationProblem.OUTSIDE_PERIOD
    if book.roster is not None and n.nominator not in book.roster:
        return NominationProblem.NOT_IN_BODY
    if n.candidate not in book.candidates:
        return NominationProblem.UNKNOWN_CANDIDATE
    withdrawn = book.withdrawn
    if n.candidate in withdrawn:
        return NominationProblem.CANDIDATE_WITHDRAWN
    live = [
        m.candidate
        for m in book.accepted
        if m.nominator == n.nominator and m.candidate not in withdrawn
    ]
    if n.candidate in live:
        return NominationProblem.DUPLICATE
    if len(live) >= book.rule.per_nominator:
        return NominationProblem.OVER_ALLOWANCE
    return None


def nominate(book: NominationBook, nomination: Nomination) -> NominationBook:
    """The book with ``nomination`` recorded: accepted, or rejected with its problem.

    Only a paper that counts moves the book's clock (``last_event``): a refused paper changes
    nothing that a later paper is judged by, so a paper dated outside the period (say, "now",
    years after a historic timetable) cannot make the correctly dated papers that follow it
    "out of order". A paper outside the period is refused whatever its date; a paper inside
    it must not be dated before the last paper that counted or withdrawal, since its
    judgement (duplicate, allowance) depends on what came before it.
    """
    if nomination.at.utcoffset() is None:
        raise InputError("an event's time needs a time zone", field="at", value=nomination.at)
    if book.opens <= nomination.at <= book.closes:
        _in_order(book, nomination.at)
    problem = _problem(book, nomination)
    if problem is None:
        return dataclasses.replace(
            book, accepted=(*book.accepted, nomination), last_event=nomination.at
        )
    rejected = RejectedNomination(nomination, problem)
    return dataclasses.replace(book, rejected=(*book.rejected, rejected))


def withdraw(book: NominationBook, candidate: str, at: datetime) -> NominationBook:
    """The book with ``candidate`` withdrawn; their nominators may nominate again.

    A withdrawal is the candidate's own act, so one that cannot be made (unknown candidate,
    already withdrawn, outside the period) is an :class:`InputError`, not a record.
    """
    _in_order(book, at)
    if candidate not in book.candidates:
        raise InputError("no such candidate", field="candidate", value=candidate)
    if candidate in book.withdrawn:
        raise InputError("the candidate has already withdrawn", field="candidate", value=candidate)
    if not book.opens <= at <= book.closes:
        raise InputError(
            "withdrawals are made during the nomination period", field="at", value=at.isoformat()
        )
    return dataclasses.replace(
        book, withdrawals=(*book.withdrawals, Withdrawal(candidate, at)), last_event=at
    )


def standings(book: NominationBook) -> tuple[CandidateStanding, ...]:
    """Every declared candidate, in declared order, with valid nominators and standing."""
    withdrawn = book.withdrawn
    out = []
    for c in book.candidates:
        nominators = book.nominators_of(c)
        if c in withdrawn:
            s = Standing.WITHDRAWN
        elif book.rule.incumbent_automatic and c in book.incumbents:
            s = Standing.AUTOMATIC
        elif len(nominators) >= book.threshold:
            s = Standing.NOMINATED
        else:
            s = Standing.SHORT
        out.append(CandidateStanding(c, nominators, s))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Ballot:
    """The nominations closed: the candidates on the ballot paper, in declared order."""

    contest: str
    candidates: tuple[str, ...]
    threshold: int
    standings: tuple[CandidateStanding, ...]
    closed_at: datetime

    @property
    def uncontested(self) -> bool:
        return len(self.candidates) <= 1


def close_nominations(book: NominationBook, at: datetime) -> Ballot:
    """Close the nominations at ``at`` (no earlier than the published close) and fix the ballot."""
    _in_order(book, at)
    if at < book.closes:
        raise InputError(
            f"nominations close at {book.closes.isoformat()}", field="at", value=at.isoformat()
        )
    table = standings(book)
    return Ballot(
        contest=book.contest,
        candidates=tuple(s.candidate for s in table if s.standing.on_ballot),
        threshold=book.threshold,
        standings=table,
        closed_at=at,
    )
