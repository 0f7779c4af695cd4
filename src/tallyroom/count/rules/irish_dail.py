"""Irish Dáil STV: the count of a Dáil election under the Electoral Act 1992, Part XIX.

Source: Electoral Act 1992 (No. 23 of 1992), Part XIX "Counting of votes", sections 118-124
(www.irishstatutebook.ie/eli/1992/act/23), as amended by the Electoral (Amendment) Act 2001
s.31 (s.124(1A)). ``[s.121(9)]`` tags a step with its section. Sections 118, 119 and 124
were read in the published text and 121(9) as quoted by others; the other subsection numbers
follow the Act's arrangement, unverified, as ``docs/rules/irish-dail.md`` says.
What the steps do::

    118  "continuing candidate": not deemed elected and not excluded. "non-transferable
         paper": no second or subsequent preference for a continuing candidate, or two equal
         marks next, or a next mark that does not follow consecutively. "determine by lot":
         names on slips, mixed and drawn; for equal fractions the one drawn first is larger.
    119  After the papers have been mixed (s.114) they are arranged in parcels by first
         preference, and each candidate is credited with a vote per valid paper.
    120  The quota: the number of valid papers divided by one more than the members to be
         elected, any fractional remainder disregarded, increased by one. A candidate whose
         votes at the end of any count equal or exceed the quota is deemed elected.
    121  A surplus is transferred. Original votes only: all the papers of the parcel are
         examined (a); otherwise only the sub-parcel last received (b), sorted into
         sub-parcels by next available preference, non-transferable papers apart. If the
         transferable papers do not exceed the surplus, they all move (3). Otherwise from
         each sub-parcel the number that bears to it the proportion the surplus bears to all
         the transferable papers, fractions noted; the largest fractions count as one until
         the surplus is made up (equal fractions: the larger sub-parcel, then the more
         original votes, then lot) (4); the papers moved are those last filed in the
         sub-parcel (5). The greatest surplus is transferred first (9); equal surpluses: the
         one arising first, then the candidate with more votes at the earliest count where
         they differed, then lot. A surplus is not transferred while it could not elect a
         continuing candidate, save the lowest from exclusion, or lift the lowest above a
         quarter of the quota (the recoupment of expenses, s.124(3)).
    122  When no surplus is transferred, the lowest continuing candidate is excluded and all
         their papers go to the next available preferences in one count; two or more lowest
         are excluded together when their total votes, with any surplus not transferred, are
         less than the votes of the next highest. Equal lowest: the fewer votes at the
         earliest count where they differed, then lot.
    124  (1) As many continuing candidates as vacancies: all deemed elected. (1A) One more
         continuing candidate than vacancies and the lowest, with the surpluses not
         transferred, below the next: all but the lowest deemed elected. (2) One vacancy and
         one candidate's votes exceed all the others' with any surplus not transferred: that
         candidate deemed elected. (3) Then no further transfer is made [except to find
         whether a candidate could pass a quarter of the quota: not done, see the docs].

Arithmetic: whole votes (``Scale(0)``), no fractions anywhere: a paper is one vote and moves
whole. The record: one round per *count*, labelled ``first preferences``, ``surplus of NAME``
or ``exclusion of NAME[, NAME...]``; ``threshold`` is the quota. The non-transferable papers
(and the part of a surplus no transferable paper carries) are ``EXHAUSTED_CHOICES``. Which
papers move in a surplus is drawn by lot from ``java.util.Random(seed)`` through
:mod:`tallyroom.count.lot` (:mod:`~tallyroom.count.rules.irish_parcels`); every draw is listed
in ``Count.options["paper draws"]`` with the seed. Known deviations: ``docs/rules/irish-dail.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.lot import Lot
from tallyroom.count.numbers import Scale
from tallyroom.count.options import TieDecider
from tallyroom.count.record import Count, DecisionKind, TieBreak
from tallyroom.count.rules.gregory import Papers, PriorStages, Stages, Ties, Transfers
from tallyroom.count.rules.irish_parcels import SubParcel, take
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError

__all__ = ["RULE_NAME", "count_irish_dail", "irish_dail_rule"]

RULE_NAME = "irish-dail"


def count_irish_dail(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    *,
    seed: int | None = None,
    decider: TieDecider | None = None,
) -> Count:
    """Count ``store`` under Part XIX for ``seats`` members; lots (ties, and the papers a
    surplus moves) by ``seed``, ties also by ``decider``."""
    if seats < 1:
        raise ConfigError("at least one seat is needed", field="seats", value=seats)
    return _Dail(store, candidates, seats, Lot(seed, decider)).run()


class _Dail:
    """One count (mutable working state; the result is a frozen Count)."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, seats: int, lot: Lot
    ) -> None:
        self.seats = seats
        self.lot = lot
        self.names = candidates.names
        self.n = len(candidates)
        self.papers = Papers(store, candidates, 1)
        self.continuing = np.ones(self.n, dtype=bool)
        for c in candidates.excluded:
            self.continuing[c] = False  # withdrawn: never in the count
        self.parcels: list[list[SubParcel]] = [[] for _ in range(self.n)]
        self.votes = [0] * self.n
        self.original = [0] * self.n
        self.exhausted = 0
        self.quota = 0
        self.pending: list[tuple[int, int]] = []  # (candidate, count it arose at)
        self.ties = Ties(self.names, PriorStages.EARLIEST, lot)
        self.draws: list[str] = []
        papers = self.papers
        self.blank = papers.count_of(papers.blank)
        invalid = papers.count_of(~papers.valid & ~papers.blank)
        self.stages = Stages(candidates, Scale(0), invalid)
        self.total = int(store.weights.sum())

    @property
    def elected(self) -> int:
        return len(self.stages.winners)

    def _continuing(self) -> list[int]:
        return [c for c in range(self.n) if self.continuing[c]]

    def _pending_surplus(self) -> int:
        """Surpluses not (yet) transferred."""
        return sum(self.votes[c] - self.quota for c, _ in self.pending)

    # -- the count ------------------------------------------------------------------------------
    def run(self) -> Count:
        papers = self.papers
        # [s.119(1)] parcels by first preference (invalid papers rejected)
        groups = np.flatnonzero(papers.valid)
        recipient, column = papers.walk(groups, np.zeros(groups.size, np.int32), self.continuing)
        weights = papers.papers[groups].astype(np.int64)
        for c in range(self.n):
            mine = recipient == c
            self.parcels[c].append(SubParcel(1, groups[mine], weights[mine], column[mine]))
            self.votes[c] = int(weights[mine].sum())  # [s.119(2)]
        self.exhausted = int(weights[recipient < 0].sum())
        self.original = list(self.votes)
        valid = papers.count_of(papers.valid)
        self.quota = valid // (self.seats + 1) + 1  # [s.120] remainder disregarded, plus one
        self.stages.open("first preferences")
        self.ties.remember("count 1", self.votes)
        self._deem_elected()
        self._close()
        while self._count():
            pass
        return self.stages.finish(
            RULE_NAME,
            self.seats,
            self.total,
            self.blank,
            {"seed": self.lot.seed, "quota": self.quota, "paper draws": tuple(self.draws)},
        )

    def _close(self) -> None:
        self.stages.close(self.votes, self.quota, self.exhausted, 0)

    def _deem_elected(self) -> None:
        """[s.120] Votes equal to or above the quota at the end of a count: deemed elected
        (in order of votes; the quota lets no more reach it than there are seats)."""
        count = self.stages.number
        reached = [c for c in self._continuing() if self.votes[c] >= self.quota]
        for c in sorted(reached, key=lambda c: (-self.votes[c], c)):
            if self.elected < self.seats:
                self._deem(c, count)

    def _deem(self, candidate: int, count: int) -> None:
        self.continuing[candidate] = False
        self.stages.elect(candidate)
        if self.votes[candidate] > self.quota:
            self.pending.append((candidate, count))

    def _elect_all(self, candidates: Sequence[int]) -> None:
        for c in sorted(candidates, key=lambda c: (-self.votes[c], c)):
            self._deem(c, self.stages.number)

    def _count(self) -> bool:
        """Run the next count; False when the count is over."""
        remaining = self.seats - self.elected
        if remaining <= 0:
            return False  # [s.124(3)] no further transfer
        continuing = self._continuing()
        if len(continuing) <= remaining:
            self._elect_all(continuing)  # [s.124(1)]
            return False
        held = self._pending_surplus()
        low = sorted(continuing, key=lambda c: (self.votes[c], c))
        if len(continuing) == remaining + 1 and (self.votes[low[0]] + held < self.votes[low[1]]):
            self._elect_all(low[1:])  # [s.124(1A)] all but the lowest
            return False
        if remaining == 1:
            top = low[-1]
            others = sum(self.votes[c] for c in low[:-1])
            if self.votes[top] > others + held:
                self._elect_all([top])  # [s.124(2)]
                return False
        count = self.stages.number + 1
        ties: list[TieBreak] = []
        if self.pending and not self._deferred(continuing, held, remaining):
            self._transfer_surplus(self._next_surplus(count, ties), count, ties)
            return True
        self._exclude(self._exclusion_group(continuing, held, remaining, count, ties), count, ties)
        return True

    # -- decisions ------------------------------------------------------------------------------
    def _next_surplus(self, count: int, ties: list[TieBreak]) -> int:
        """[s.121(9)] The greatest surplus first; equal: the one arising first, then the more
        votes at the earliest count where they differed, then lot."""
        top = max(self.votes[c] for c, _ in self.pending)
        first = min(k for c, k in self.pending if self.votes[c] == top)
        tied = [c for c, k in self.pending if self.votes[c] == top and k == first]
        if len(tied) == 1:
            return tied[0]
        chosen, record = self.ties.choose(count, tied, DecisionKind.ELECTED, most=True)
        ties.append(record)
        return chosen

    def _group_size(self, continuing: list[int], held: int, remaining: int) -> int:
        """[s.122] How many of the lowest go together: the most whose total votes, with the
        surpluses not transferred, are less than the votes of the next highest (leaving at
        least as many candidates as vacancies)."""
        low = sorted(self.votes[c] for c in continuing)
        size, running = 1, low[0]
        for k in range(2, len(low) - remaining + 1):
            running += low[k - 1]
            if running + held < low[k]:
                size = k
        return size

    def _deferred(self, continuing: list[int], held: int, remaining: int) -> bool:
        """[s.121] Whether the surpluses (``held`` in all) wait: they could not elect the
        highest continuing candidate, nor change who is excluded next, nor lift the lowest
        above a quarter of the quota."""
        votes = sorted(self.votes[c] for c in continuing)
        if votes[-1] + held >= self.quota:
            return False  # could elect a candidate
        size = self._group_size(continuing, held, remaining)
        if size >= len(votes) or sum(votes[:size]) + held >= votes[size]:
            return False  # could save the lowest from exclusion
        lowest = votes[0]
        # [s.124(3)] "exceeding one quarter of the quota": 4 * votes > quota, in integers
        return not (4 * lowest <= self.quota < 4 * (lowest + held))

    def _exclusion_group(
        self,
        continuing: list[int],
        held: int,
        remaining: int,
        count: int,
        ties: list[TieBreak],
    ) -> list[int]:
        """[s.122] The lowest (several together when the Act allows); equal lowest: fewer votes
        at the earliest count where they differed, then lot."""
        size = self._group_size(continuing, held, remaining)
        return self.ties.lowest(count, self.votes, continuing, size, ties)

    # -- transfers ------------------------------------------------------------------------------
    def _transfer_surplus(self, candidate: int, count: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        surplus = self.votes[candidate] - self.quota
        mine = self.parcels[candidate]
        if all(p.count == 1 for p in mine):
            examined = SubParcel.join(1, mine)  # [s.121(2)(a)] original votes only: all papers
            self.parcels[candidate] = [examined]
        else:
            examined = mine[-1]  # [s.121(2)(b)] the sub-parcel last received
        # [s.121(2)] sorted by next available preference; non-transferable papers apart
        recipient, column = papers.walk(examined.groups, examined.pos + 1, self.continuing)
        sizes = [int(examined.papers[recipient == c].sum()) for c in range(self.n)]
        transferable = sum(sizes)
        if transferable <= surplus:
            shares = sizes  # [s.121(3)] every transferable paper moves
        else:
            shares = self._apportion(sizes, surplus, transferable, count, ties)  # [s.121(4)]
        sent = [0] * self.n
        who = self.names[candidate]
        for c in range(self.n):
            if not shares[c]:
                continue
            rows = np.flatnonzero(recipient == c)
            moved, drawn = take(
                examined.papers[rows],
                shares[c],
                self.ties.drawer,
                what=f"which of {who}'s papers go to {self.names[c]} at count {count}",
            )
            if drawn:  # [s.121(5)] "those last filed": the papers were mixed (s.119(1))
                self.draws.append(
                    f"count {count}: {shares[c]} of {sizes[c]} papers of {who}'s sub-parcel "
                    f"for {self.names[c]} drawn by lot (java.util.Random seed {self.lot.seed})"
                )
            examined.papers[rows] -= moved
            keep = moved > 0
            self.parcels[c].append(
                SubParcel(count, examined.groups[rows][keep], moved[keep], column[rows][keep])
            )
            sent[c] = int(moved.sum())
            self.votes[c] += sent[c]
        left_over = surplus - sum(sent)  # no transferable paper carries it
        self.exhausted += left_over
        self.votes[candidate] = self.quota
        self.pending = [(c, k) for c, k in self.pending if c != candidate]
        self.stages.open(f"surplus of {who}", ties)
        self.stages.book(DecisionKind.ELECTED, candidate, sent, exhausted=left_over)
        self.ties.remember(f"count {count}", self.votes)
        self._deem_elected()
        self._close()

    def _apportion(
        self, sizes: list[int], surplus: int, transferable: int, count: int, ties: list[TieBreak]
    ) -> list[int]:
        """[s.121(4)] ``size * surplus / transferable`` papers from each sub-parcel, fractions
        noted; the largest fractions count as one until the surplus is made up. Equal
        fractions: the larger sub-parcel, then the more original votes, then lot [s.118]."""
        shares = [s * surplus // transferable for s in sizes]
        fraction = [s * surplus % transferable for s in sizes]
        need = surplus - sum(shares)
        order = sorted(
            (c for c in range(self.n) if fraction[c]),
            key=lambda c: (-fraction[c], -sizes[c], -self.original[c], c),
        )
        while need > 0:
            head = order[0]
            block = [
                c
                for c in order
                if (fraction[c], sizes[c], self.original[c])
                == (fraction[head], sizes[head], self.original[head])
            ]
            if len(block) <= need:
                chosen = block
            else:  # more equal fractions than papers left to give: lot
                names = [self.names[c] for c in block]
                drawer = self.ties.drawer
                chosen = []
                pool = list(block)
                while len(chosen) < need:
                    pick = drawer.choose(
                        pool,
                        [self.names[c] for c in pool],
                        stage=count,
                        winner=True,
                        what=f"equal fractions at count {count}",
                    )
                    chosen.append(pick)
                    pool.remove(pick)
                    ties.append(
                        TieBreak(
                            count,
                            DecisionKind.ELECTED,
                            tuple(names),
                            self.names[pick],
                            "lot",
                            "equal fractions of the surplus, equal sub-parcels and original "
                            "votes; the name drawn first counts as the larger [s.118]",
                        )
                    )
            for c in chosen:
                shares[c] += 1
                order.remove(c)
            need -= len(chosen)
        return shares

    def _exclude(self, group: list[int], count: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        for c in group:
            self.continuing[c] = False
        label = ", ".join(self.names[c] for c in group)
        self.stages.open(f"exclusion of {label}", ties)
        # [s.122] all the papers of the excluded, to their next available preferences
        parcels = [p for c in group for p in self.parcels[c]]
        source = np.concatenate(
            [np.full(p.groups.size, c, np.int32) for c in group for p in self.parcels[c]]
            or [np.empty(0, np.int32)]
        )
        every = SubParcel.join(count, parcels)
        recipient, column = papers.walk(every.groups, every.pos + 1, self.continuing)
        for c in range(self.n):
            mine = recipient == c
            if mine.any():
                self.parcels[c].append(
                    SubParcel(count, every.groups[mine], every.papers[mine], column[mine])
                )
        sent = Transfers.of(self.n, source, recipient, every.papers, np.int64)
        for c, v in enumerate(sent.to):
            self.votes[c] += v
        for c in group:
            self.votes[c] = 0
            self.parcels[c] = []
        self.exhausted += sent.exhausted
        for i, c in enumerate(group):
            row = sent.by_source.get(c, [0] * (self.n + 1))
            self.stages.book(
                DecisionKind.ELIMINATED, c, row[: self.n], exhausted=row[self.n], index=i
            )
        self.ties.remember(f"count {count}", self.votes)
        self._deem_elected()
        self._close()


def irish_dail_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_irish_dail` for ``params.seats``, lots by its seed."""
    return count_irish_dail(store, candidates, params.seats, seed=params.seed)
