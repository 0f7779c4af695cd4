"""Constraints on who may be elected, and on what a valid ballot must mark.

Two kinds of rule, each a frozen value checked against the contest's candidates:

* a **seat constraint** (:class:`SeatConstraint`): at least ``minimum`` and at most ``maximum``
  of the elected must belong to a :class:`Group` ("at least 6 of the 19 places to women",
  Labour's 2010 Shadow Cabinet rule; see ``docs/rules/constraints.md``);
* a **ballot rule** (:class:`BallotRule`): a ballot is valid only if it marks at least
  ``at_least`` (and at most ``at_most``) members of a group ("a ballot is valid only if it
  includes votes for at least six women and at least six men", the same election).

Seat constraints are applied through a :class:`SeatPlan`, which answers the one question the
rules ask of them (I. D. Hill, "STV with constraints", *Voting matters* 9, 1998): given who is
elected and who can still be, can every constraint still be met? From it come Hill's two
marks: a candidate is **doomed** when electing them would leave the constraints unmeetable,
and **guarded** when excluding them would. Hill answers the question by listing every
conformant composition; for constraints on *disjoint* groups the list collapses into a closed
form (below), so the groups of a plan must not overlap (J. Otten, "STV with multiple
constraints", *Voting matters* 13, 2001, shows why overlapping groups need more).

Feasibility, for ``L`` seats left and each constrained group ``g`` with ``e_g`` elected,
``a_g`` still available and bounds ``[m_g, M_g]`` (``a_0``: available candidates in no
group)::

    need_g = max(0, m_g - e_g)        cap_g = min(a_g, M_g - e_g)
    feasible  <=>  e_g <= M_g and need_g <= cap_g for every g,
                   sum(need_g) <= L <= sum(cap_g) + a_0

(the ``L`` seats are filled by choosing ``x_g`` in ``[need_g, cap_g]`` from each group and the
rest from ``a_0``; such a choice exists exactly when the interval sums bracket ``L``).

Ballot rules are applied by :func:`screen_ballots` before a count: a ballot marking no
candidate is blank and left to the rule (it is not rejected); any other ballot failing a rule
is rejected, counted once under the first rule it fails (rules in declared order), and
reported by that rule's :attr:`BallotRule.reason`. A ballot *marks* every candidate it names
at any rank, members of a named overvote included; candidates excluded before the count are
not on the paper and do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import OVERVOTE, OVERVOTE_SET_BASE, BallotStore, CandidateTable
from tallyroom.errors import ConfigError

__all__ = [
    "BallotRule",
    "Group",
    "Screening",
    "SeatConstraint",
    "SeatPlan",
    "marked_candidates",
    "screen_ballots",
]


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of candidates (by name), such as the women standing."""

    name: str
    members: frozenset[str]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigError("a group needs a name", field="group", value=self.name)
        if not self.members:
            raise ConfigError("a group needs at least one member", field="group", value=self.name)

    @staticmethod
    def of(name: str, members: Iterable[str]) -> Group:
        return Group(name, frozenset(members))

    def codes(self, candidates: CandidateTable) -> tuple[int, ...]:
        """The members' candidate codes, in candidate order; an unknown name is an error."""
        unknown = sorted(m for m in self.members if m not in candidates.names)
        if unknown:
            raise ConfigError(
                f"group {self.name!r} names candidates not standing", field="group", value=unknown
            )
        return tuple(c for c, name in enumerate(candidates.names) if name in self.members)


@dataclass(frozen=True, slots=True)
class SeatConstraint:
    """At least ``minimum``, at most ``maximum`` (``None``: no limit) elected from ``group``."""

    group: Group
    minimum: int = 0
    maximum: int | None = None

    def __post_init__(self) -> None:
        if self.minimum < 0:
            raise ConfigError("a minimum cannot be negative", field="minimum", value=self.minimum)
        if self.maximum is not None and self.maximum < self.minimum:
            raise ConfigError(
                f"the maximum for {self.group.name!r} is below its minimum ({self.minimum})",
                field="maximum",
                value=self.maximum,
            )

    def describe(self, seats: int) -> str:
        parts = []
        if self.minimum:
            parts.append(f"at least {self.minimum}")
        if self.maximum is not None:
            parts.append(f"at most {self.maximum}")
        bounds = " and ".join(parts) or "any number"
        return f"{bounds} of {seats} from {self.group.name}"

    def met_by(self, elected: Iterable[str]) -> bool:
        n = sum(1 for name in elected if name in self.group.members)
        return n >= self.minimum and (self.maximum is None or n <= self.maximum)


@dataclass(frozen=True, slots=True)
class BallotRule:
    """A valid ballot marks at least ``at_least`` and at most ``at_most`` members of ``group``."""

    group: Group
    at_least: int = 0
    at_most: int | None = None

    def __post_init__(self) -> None:
        if self.at_least < 0:
            raise ConfigError("at_least cannot be negative", field="at_least", value=self.at_least)
        if self.at_most is not None and self.at_most < self.at_least:
            raise ConfigError("at_most is below at_least", field="at_most", value=self.at_most)

    @property
    def reason(self) -> str:
        """The rejection reason reported for ballots failing this rule."""
        if self.at_most is None:
            return f"fewer than {self.at_least} of {self.group.name} marked"
        if self.at_least == 0:
            return f"more than {self.at_most} of {self.group.name} marked"
        return f"not {self.at_least} to {self.at_most} of {self.group.name} marked"


# -- seat constraints ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeatPlan:
    """Seat constraints resolved against a contest's candidates (see the module docstring).

    ``group_of[c]`` is the index in ``constraints`` of candidate ``c``'s group, or ``-1``.
    Build one with :meth:`build`, which checks that the constraints can be met at all.
    """

    seats: int
    constraints: tuple[SeatConstraint, ...]
    group_of: tuple[int, ...]
    names: tuple[str, ...]

    @staticmethod
    def build(
        candidates: CandidateTable,
        seats: int,
        constraints: Sequence[SeatConstraint],
        *,
        electable: Sequence[int] | None = None,
    ) -> SeatPlan:
        """Check ``constraints`` for ``seats`` among ``electable`` (default: all standing).

        Raises :class:`ConfigError` for a member who is not a candidate, groups that overlap,
        two constraints on one group, or constraints no result can meet.
        """
        if seats < 1:
            raise ConfigError("there must be at least one seat", field="seats", value=seats)
        group_of = [-1] * len(candidates)
        seen: dict[str, int] = {}
        for k, sc in enumerate(constraints):
            if sc.group.name in seen:
                raise ConfigError(
                    "one constraint per group: give both bounds in one SeatConstraint",
                    field="group",
                    value=sc.group.name,
                )
            seen[sc.group.name] = k
            for c in sc.group.codes(candidates):
                if group_of[c] >= 0:
                    other = constraints[group_of[c]].group.name
                    raise ConfigError(
                        f"constrained groups must not overlap: {candidates.names[c]!r} is in "
                        f"{other!r} and {sc.group.name!r}",
                        field="group",
                        value=sc.group.name,
                    )
                group_of[c] = k
        plan = SeatPlan(seats, tuple(constraints), tuple(group_of), candidates.names)
        pool = list(electable) if electable is not None else _standing(candidates)
        if not plan.feasible((), pool):
            raise ConfigError(
                "the seat constraints cannot be met by the candidates standing: "
                + plan.shortfall(pool),
                field="constraints",
                value=[sc.describe(seats) for sc in constraints],
            )
        return plan

    # -- the one question ---------------------------------------------------------------------
    def feasible(self, elected: Iterable[int], available: Iterable[int]) -> bool:
        """Can the seats left be filled from ``available`` with every constraint met?"""
        k = len(self.constraints)
        # per group, elected and available; group_of is -1 outside every group, so the last
        # slot counts the candidates in no group
        e = [0] * (k + 1)
        a = [0] * (k + 1)
        for c in elected:
            e[self.group_of[c]] += 1
        for c in available:
            a[self.group_of[c]] += 1
        left = self.seats - sum(e)
        if left < 0:
            return False
        need_total = 0
        cap_total = a[k]
        for g, sc in enumerate(self.constraints):
            room = a[g] if sc.maximum is None else min(a[g], sc.maximum - e[g])
            need = max(0, sc.minimum - e[g])
            if room < need:
                return False
            need_total += need
            cap_total += room
        return need_total <= left <= cap_total

    def doomed(self, elected: Sequence[int], continuing: Sequence[int]) -> list[int]:
        """Continuing candidates whose election would leave the constraints unmeetable."""
        return [
            c
            for c in continuing
            if not self.feasible([*elected, c], [d for d in continuing if d != c])
        ]

    def guarded(self, elected: Sequence[int], continuing: Sequence[int]) -> list[int]:
        """Continuing candidates whose exclusion would leave the constraints unmeetable."""
        return [
            c for c in continuing if not self.feasible(elected, [d for d in continuing if d != c])
        ]

    def describe(self) -> tuple[str, ...]:
        return tuple(sc.describe(self.seats) for sc in self.constraints)

    def met_by(self, elected: Iterable[str]) -> bool:
        chosen = list(elected)
        return all(sc.met_by(chosen) for sc in self.constraints)

    def shortfall(self, available: Iterable[int]) -> str:
        """Why nothing can be elected within the constraints from ``available`` (for errors)."""
        pool = list(available)
        reasons = []
        for g, sc in enumerate(self.constraints):
            n = sum(1 for c in pool if self.group_of[c] == g)
            if n < sc.minimum:
                reasons.append(f"{n} of {sc.group.name} for a minimum of {sc.minimum}")
        need = sum(sc.minimum for sc in self.constraints)
        if need > self.seats:
            reasons.append(f"minimums add up to {need} for {self.seats} seats")
        return "; ".join(reasons) or "too few candidates to fill the seats within the maximums"


def _standing(candidates: CandidateTable) -> list[int]:
    return [
        c
        for c in range(len(candidates))
        if c not in candidates.excluded and c != candidates.undeclared_write_in
    ]


# -- ballot rules ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Screening:
    """The ballots that pass every :class:`BallotRule`, and those rejected, by reason.

    ``rejected`` lists every rule's reason in declared order with the number of ballots whose
    first failed rule it is (zero included), so the counts add up to :attr:`total_rejected`.
    """

    valid: BallotStore
    rejected: tuple[tuple[str, int], ...]

    @property
    def total_rejected(self) -> int:
        return sum(n for _, n in self.rejected)


def marked_candidates(store: BallotStore, candidates: CandidateTable) -> npt.NDArray[np.bool_]:
    """``(groups x candidates)``: which standing candidates each distinct ballot names."""
    n = len(candidates)
    rows = store.rows
    marked = np.zeros((rows.shape[0], n + 1), dtype=bool)
    is_candidate = rows >= 0
    rr, kk = np.nonzero(is_candidate)
    marked[rr, rows[rr, kk]] = True
    for k, members in enumerate(store.overvote_sets):
        hit = np.flatnonzero(np.any(rows == OVERVOTE_SET_BASE - k, axis=1))
        for c in members:
            marked[hit, c] = True
    out = marked[:, :n]
    out[:, sorted(candidates.excluded)] = False
    return out


def screen_ballots(
    store: BallotStore, candidates: CandidateTable, rules: Sequence[BallotRule]
) -> Screening:
    """Apply ``rules`` to every ballot (see the module docstring); blank ballots pass."""
    if not rules:
        return Screening(store, ())
    marked = marked_candidates(store, candidates)
    blank = ~marked.any(axis=1) & ~np.any(store.rows == OVERVOTE, axis=1)
    failed_already = np.zeros(len(store), dtype=bool)
    rejected: list[tuple[str, int]] = []
    for rule in rules:
        members = np.zeros(len(candidates), dtype=bool)
        members[list(rule.group.codes(candidates))] = True
        n = marked[:, members].sum(axis=1)
        bad = n < rule.at_least
        if rule.at_most is not None:
            bad |= n > rule.at_most
        fresh = bad & ~blank & ~failed_already
        rejected.append((rule.reason, int(store.weights[fresh].sum())))
        failed_already |= fresh
    keep = ~failed_already
    valid = BallotStore(
        rows=np.ascontiguousarray(store.rows[keep]),
        weights=np.ascontiguousarray(store.weights[keep]),
        overvote_sets=store.overvote_sets,
        keys=None if store.keys is None else np.ascontiguousarray(store.keys[keep]),
    )
    return Screening(valid, tuple(rejected))
