"""ERS97: the Electoral Reform Society's 1997 model rules for STV counts.

Source: Electoral Reform Society, *How to conduct an election by the Single Transferable Vote*,
3rd edition (1997; R. A. Newland and F. S. Britton, revised), sections 5 ("Detailed
instructions for the count") and 6 ("Glossary"), as reproduced by the ERS
(www.electoral-reform.org.uk/votingsystems/stvrules.htm) and in OpenSTV's and OpaVote's
documentation of the rules. ``[5.3.7]`` tags a step with its paragraph. The paragraphs that
decide a result (forms and checking steps omitted)::

    5.1.6 Calculate the quota by dividing the total valid vote by one more than the number of
      places to be filled. Take the division to two decimal places. If the result is exact
      that is the quota. Otherwise ignore the remainder, and add 0.01.
    5.1.7 Considering each candidate in turn in descending order of their votes, deem elected
      any candidate whose vote equals or exceeds (a) the quota, or (b) (on very rare occasions,
      where this is less than the quota), the total active vote, divided by one more than the
      number of places not yet filled, up to the number of places to be filled, subject to
      paragraph 5.6.2.
    5.2.2 If one or more candidates have surpluses, the largest of these should now be
      transferred. However the transfer of a surplus or surpluses is deferred and reconsidered
      at the next stage, if the total of such surpluses does not exceed either: (a) The
      difference between the votes of the two candidates who have the fewest votes, or (b) The
      difference between the total of the votes of two or more candidates with the fewest
      votes who could be excluded under rule 5.2.5, and the vote of the candidate next above.
    5.2.3 ... transfer the largest surplus. If the surpluses of two or more candidates are
      equal, and they have the largest surplus, transfer the surplus of the candidate who had
      the greatest vote at the first stage or at the earliest point in the count, after the
      transfer of a batch of papers, where they had unequal votes. If the votes of such
      candidates have been equal at all such points, the Returning Officer shall decide which
      surplus to transfer by lot.
    5.2.5 If, after all surpluses have been transferred or deferred, one or more places remain
      to be filled, the candidate or candidates with the fewest votes must be excluded.
      Exclude as many candidates together as possible, provided that: (a) Sufficient
      candidates remain to fill all the remaining places (b) The total votes of these
      candidates, together with the total of any deferred surpluses, does not exceed the vote
      of the candidate next above. If the votes of two or more candidates are equal, and those
      candidates have the fewest votes, exclude the candidate who had the fewest votes at the
      first stage or at the earliest point in the count, after the transfer of a batch of
      papers, where they had unequal votes. If the votes of such candidates have been equal at
      all such points the Returning Officer shall decide which candidate to exclude by lot.
    5.3.1 If a surplus arises at the first stage, select for examination all the papers which
      the candidate has received.
    5.3.2 If a surplus arises at a later stage, because of the transfer of another surplus or
      the exclusion of a candidate or candidates, select only the last received batch of
      papers, which gave rise to the surplus.
    5.3.3 ... sort them into their next available preferences for continuing candidates. Set
      aside as non-transferable papers any on which no next available preference is expressed.
    5.3.7 Calculate the total value of the transferable papers. If this exceeds the surplus,
      determine the transfer value of each paper by dividing the surplus by the number of
      transferable papers, to two decimal places, ignoring any remainder. If the total value
      does not exceed the surplus, the transfer value of each paper is its present value.
    5.3.9-10 [credit each candidate papers x transfer value; the non-transferable difference
      arising from the neglected remainder is added to the non-transferable votes]
    5.3.13 [deem elected as in 5.1.7]
    5.4.1 Take together all the bundles of papers which are currently credited to the
      candidate or candidates to be excluded, and arrange them in batches in descending order
      of transfer value.
    5.4.2 First, take the batch of papers with the highest transfer value. Sort them according
      to the next available preferences ... set aside as non-transferable papers any on which
      no next available preference is expressed.
    5.4.8 If any papers have become non-transferable before any candidate has been deemed
      elected, recalculate the quota as in paragraph 5.1.6, ignoring the non-transferable vote.
    5.4.9 [deem elected as in 5.1.7]
    5.4.10 Ensure that no further papers are given to candidates who are no longer continuing
      candidates because they have been deemed to be elected after transferring a batch.
    5.4.11 ... sort and transfer each batch of papers in turn in descending order of transfer
      value ... and deem candidates to be elected as appropriate.
    5.5.1 If a proposed exclusion of one or more candidates would leave only the same number of
      continuing candidates as there are places remaining unfilled, all such continuing
      candidates shall be deemed to be elected.
    5.5.2 If, at any point in the count, the number of candidates deemed to be elected is equal
      to the number of places to be filled, no further transfers of papers are made, and the
      remaining continuing candidate(s) are formally excluded.
    5.6.2 If, when candidates should be deemed elected under sections 5.1.7, 5.3.13 or 5.4.9,
      two or more have the same number of votes, and there are not sufficient places left for
      them all, then the one or more to be deemed elected shall be selected in descending order
      of votes at the first stage or at the earliest point in the count, after the transfer of
      a batch of papers, where they had unequal votes. If, however, their votes have been equal
      at all such points, then none of them shall be deemed elected at that stage.
    6.1 Batch: a bundle containing all the papers of one value in a transfer.
    6.10 Next available preference: ... There is no next available preference where the next
      sequential preference for a continuing candidate is uncertain.
    6.20 Total active vote: the sum of the votes credited to all continuing candidates, plus
      any votes awaiting transfer.

Arithmetic: votes are integers in hundredths (two decimal places); the quota is rounded up to
a hundredth [5.1.6] and a transfer value truncated to a hundredth [5.3.7]; nothing else
rounds. The record: one round per *stage* [6.16] (an exclusion's batches are its sub-stages,
folded into its round); the label is ``first preferences``, ``surplus of NAME`` or
``exclusion of NAME[, NAME...]``; ``threshold`` is the quota at the end of the stage. The
non-transferable vote is split into ``EXHAUSTED_CHOICES`` (papers with no next preference, and
the part of a surplus its transferable papers cannot carry) and ``residual_surplus`` (the
non-transferable difference of 5.3.9). Elected candidates are shown at the quota once their
surplus is transferred; an excluded candidate at 0. Known deviations: ``docs/rules/ers97.md``.
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
from tallyroom.count.rules.params import RuleParams
from tallyroom.errors import ConfigError, CountError

__all__ = ["PLACES", "RULE_NAME", "count_ers97"]

RULE_NAME = "ers97"
PLACES = 2  # [5.1.6, 5.3.7] "to two decimal places"


def count_ers97(
    store: BallotStore,
    candidates: CandidateTable,
    seats: int,
    *,
    seed: int | None = None,
    decider: TieDecider | None = None,
) -> Count:
    """Count ``store`` under the ERS97 rules for ``seats`` places; lots by ``seed`` or
    ``decider``."""
    if seats < 1:
        raise ConfigError("at least one seat is needed", field="seats", value=seats)
    return _Ers97(store, candidates, seats, Lot(seed, decider)).run()


class _Ers97:
    """One ERS97 count (mutable working state; the result is a frozen Count)."""

    def __init__(
        self, store: BallotStore, candidates: CandidateTable, seats: int, lot: Lot
    ) -> None:
        self.seats = seats
        self.lot = lot
        self.scale = Scale(PLACES)
        self.one = self.scale.one
        self.names = candidates.names
        self.n = len(candidates)
        self.papers = Papers(store, candidates, self.one)
        self.continuing = np.ones(self.n, dtype=bool)
        for c in candidates.excluded:
            self.continuing[c] = False  # withdrawn: never in the count
        self.votes = [0] * self.n
        self.exhausted = 0
        self.residual = 0
        self.valid = 0
        self.quota = 0
        self.batch = 0
        self.open_surpluses: list[int] = []  # deemed elected, surplus not yet transferred
        self.ties = Ties(self.names, PriorStages.EARLIEST, lot)
        papers = self.papers
        self.blank = papers.count_of(papers.blank)
        invalid = papers.count_of(~papers.valid & ~papers.blank)
        self.stages = Stages(candidates, self.scale, invalid * self.one)
        self.total = int(store.weights.sum())

    @property
    def elected(self) -> int:
        return len(self.stages.winners)

    def _continuing(self) -> list[int]:
        return [c for c in range(self.n) if self.continuing[c]]

    def _quota(self, non_transferable: int = 0) -> int:
        # [5.1.6] valid / (places + 1) to two decimals; not exact: remainder ignored, plus 0.01
        # (that is, rounded up to a hundredth); [5.4.8] less the non-transferable vote
        return -((non_transferable - self.valid * self.one) // (self.seats + 1))

    # -- the count ------------------------------------------------------------------------------
    def run(self) -> Count:
        papers = self.papers
        # [5.1.2-5.1.5] first preferences; invalid papers (no first preference) set aside
        first = papers.first_preferences(self.continuing)
        self.votes = list(first.to)
        self.exhausted = first.exhausted
        self.valid = papers.count_of(papers.valid)
        self.quota = self._quota()
        initial = self.quota
        self.stages.open("first preferences")
        self.ties.remember("stage 1", self.votes)
        self._deem_elected()  # [5.1.7]
        self._close()
        while self._stage():
            pass
        return self.stages.finish(
            RULE_NAME,
            self.seats,
            self.total,
            self.blank,
            {"seed": self.lot.seed, "initial quota": initial, "quota": self.quota},
        )

    def _close(self) -> None:
        self.stages.close(self.votes, self.quota, self.exhausted, self.residual)

    def _stage(self) -> bool:
        """Run the next stage; False when the count is over."""
        remaining = self.seats - self.elected
        if remaining <= 0:
            return False  # [5.5.2] no further transfers; the rest are formally excluded
        continuing = self._continuing()
        if len(continuing) <= remaining:
            self._elect_all(continuing)  # (only when no more candidates stand than places)
            return False
        stage = self.stages.number + 1
        ties: list[TieBreak] = []
        surpluses = [c for c in self.open_surpluses if self.votes[c] > self.quota]
        total = sum(self.votes[c] - self.quota for c in surpluses)
        if surpluses and not self._deferred(continuing, total, remaining):
            # [5.2.3] the largest surplus; equal: greatest vote at the earliest unequal point
            top = max(self.votes[c] for c in surpluses)
            tied = [c for c in surpluses if self.votes[c] == top]
            chosen = tied[0]
            if len(tied) > 1:
                chosen, record = self.ties.choose(stage, tied, DecisionKind.ELECTED, most=True)
                ties.append(record)
            self._transfer_surplus(chosen, stage, ties)
            return True
        # [5.2.5] exclusion, together with any deferred surpluses
        group = self._exclusion_group(continuing, total, remaining, stage, ties)
        if len(continuing) - len(group) == remaining:
            # [5.5.1] the proposed exclusion would leave as many as there are places
            for record in ties:
                self.stages.tie(record)
            self._elect_all([c for c in continuing if c not in group])
            return False
        self._exclude(group, stage, ties)
        return True

    def _elect_all(self, candidates: Sequence[int]) -> None:
        for c in sorted(candidates, key=lambda c: (-self.votes[c], c)):
            self._deem(c)

    def _deem(self, candidate: int) -> None:
        self.continuing[candidate] = False
        self.stages.elect(candidate)
        if self.votes[candidate] > self.quota:
            self.open_surpluses.append(candidate)

    # -- decisions ------------------------------------------------------------------------------
    def _deem_elected(self) -> None:
        """[5.1.7, 5.3.13, 5.4.9] In descending order of votes, up to the places left."""
        stage = self.stages.number
        while True:
            remaining = self.seats - self.elected
            continuing = self._continuing()
            if remaining <= 0 or not continuing:
                return
            # [6.20] total active vote: continuing candidates plus votes awaiting transfer
            awaiting = sum(max(self.votes[c] - self.quota, 0) for c in self.open_surpluses)
            active = sum(self.votes[c] for c in continuing) + awaiting
            qualified = [
                c
                for c in continuing
                if self.votes[c] >= self.quota  # (a)
                or (self.votes[c] > 0 and self.votes[c] * (remaining + 1) >= active)  # (b)
            ]
            if not qualified:
                return
            qualified.sort(key=lambda c: (-self.votes[c], c))
            if len(qualified) <= remaining:
                for c in qualified:
                    self._deem(c)
                continue  # the total active vote and places left have changed
            # [5.6.2] more qualify than places: the tied block at the boundary
            edge = self.votes[qualified[remaining - 1]]
            above = [c for c in qualified if self.votes[c] > edge]
            block = [c for c in qualified if self.votes[c] == edge]
            for c in above:
                self._deem(c)
            need = remaining - len(above)
            while need > 0:
                left, where = self.ties.look_back(block, most=True)
                if len(left) > 1:
                    self.stages.tie(
                        self.ties.undecided(
                            stage,
                            left,
                            DecisionKind.ELECTED,
                            "equal at every earlier point: none of them deemed elected at "
                            "this stage [5.6.2]",
                        )
                    )
                    return
                names = tuple(self.names[c] for c in sorted(block))
                self.stages.tie(
                    TieBreak(
                        stage,
                        DecisionKind.ELECTED,
                        names,
                        self.names[left[0]],
                        PriorStages.EARLIEST.value,
                        f"most votes at {where} [5.6.2]",
                    )
                )
                self._deem(left[0])
                block.remove(left[0])
                need -= 1
            return

    def _deferred(self, continuing: list[int], surplus: int, remaining: int) -> bool:
        """[5.2.2] Whether the surpluses (``surplus`` in total) are deferred."""
        low = sorted(self.votes[c] for c in continuing)
        if len(low) >= 2 and surplus <= low[1] - low[0]:
            return True  # (a) they cannot lift the lowest past the next
        running = low[0]
        for k in range(2, len(low) - remaining + 1):
            running += low[k - 1]
            if running + surplus <= low[k]:
                return True  # (b) a bulk exclusion they cannot disturb
        return False

    def _exclusion_group(
        self,
        continuing: list[int],
        deferred: int,
        remaining: int,
        stage: int,
        ties: list[TieBreak],
    ) -> list[int]:
        """[5.2.5] As many of the lowest as (a) leave enough and (b) with the deferred
        surpluses do not exceed the next above; ties by the earliest unequal point, then lot."""
        low = sorted(self.votes[c] for c in continuing)
        size, running = 1, low[0]
        for k in range(2, len(low) - remaining + 1):
            running += low[k - 1]
            if running + deferred <= low[k]:
                size = k
        return self.ties.lowest(stage, self.votes, continuing, size, ties)

    # -- transfers ------------------------------------------------------------------------------
    def _transfer_surplus(self, candidate: int, stage: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        surplus = self.votes[candidate] - self.quota
        held = papers.held_by(candidate)
        # [5.3.1-5.3.2] at the first stage all papers; later only the last received batch
        last = held[papers.batch[held] == papers.batch[held].max()]
        values = np.unique(papers.value[last])
        if values.size != 1:
            raise CountError(f"{self.names[candidate]}: the last batch has several values")
        value = int(values[0])
        # [5.3.3] next available preferences for continuing candidates
        recipient, column = papers.walk(last, papers.pos[last] + 1, self.continuing)
        moving = recipient >= 0
        count = int(papers.papers[last[moving]].sum())
        # [5.3.7] the transfer value
        # more than the surplus: surplus / transferable papers, any remainder ignored; else
        # they carry no more than the surplus, at their present value
        rounded = count > 0 and count * value > surplus
        tv = surplus // count if rounded else value
        self.batch += 1
        groups = last[moving]
        moved = papers.move(
            groups,
            recipient[moving],
            column[moving],
            value=np.full(groups.size, tv, dtype=papers.dtype),
            batch=self.batch,
        )
        sent = Transfers.of(self.n, None, recipient[moving], moved, papers.dtype)
        for c, v in enumerate(sent.to):
            self.votes[c] += v  # [5.3.8-5.3.10]
        left_over = surplus - sum(sent.to)
        rounding = left_over if rounded else 0
        self.residual += rounding  # [5.3.9] the non-transferable difference
        self.exhausted += left_over - rounding  # the part no transferable paper carries
        self.votes[candidate] = self.quota
        self.open_surpluses.remove(candidate)
        self.stages.open(f"surplus of {self.names[candidate]}", ties)
        self.stages.book(
            DecisionKind.ELECTED,
            candidate,
            sent.to,
            exhausted=left_over - rounding,
            residual=rounding,
        )
        self.ties.remember(f"stage {stage}", self.votes)
        self._deem_elected()  # [5.3.13]
        self._close()

    def _exclude(self, group: list[int], stage: int, ties: list[TieBreak]) -> None:
        papers = self.papers
        for c in group:
            self.continuing[c] = False
        label = ", ".join(self.names[c] for c in group)
        self.stages.open(f"exclusion of {label}", ties)
        received = {c: [0] * (self.n + 1) for c in group}
        # [5.4.1] all their papers, in batches in descending order of transfer value
        held = papers.held_by_any(group)
        values = sorted({int(v) for v in papers.value[held]}, reverse=True)
        for k, value in enumerate(values, start=1):
            held = papers.held_by_any(group)
            batch = held[papers.value[held] == value]
            source = papers.holder[batch].copy()
            # [5.4.2, 5.4.10] next available preference among those still continuing
            recipient, column = papers.walk(batch, papers.pos[batch] + 1, self.continuing)
            self.batch += 1
            moved = papers.move(batch, recipient, column, batch=self.batch)
            sent = Transfers.of(self.n, source, recipient, moved, papers.dtype)
            for c, v in enumerate(sent.to):
                self.votes[c] += v
            for s, row in sent.by_source.items():
                self.votes[s] -= sum(row)
                received[s] = [a + b for a, b in zip(received[s], row, strict=True)]
            self.exhausted += sent.exhausted
            if self.elected == 0 and self.exhausted:
                self.quota = self._quota(self.exhausted + self.residual)  # [5.4.8]
            where = f"stage {stage}" if len(values) == 1 else f"stage {stage}, batch {k}"
            self.ties.remember(where, self.votes)
            self._deem_elected()  # [5.4.9, 5.4.11]
            if self.elected >= self.seats:
                break  # [5.5.2] no further transfers
        for i, c in enumerate(group):
            row = received[c]
            self.stages.book(
                DecisionKind.ELIMINATED, c, row[: self.n], exhausted=row[self.n], index=i
            )
        if not values:
            self.ties.remember(f"stage {stage}", self.votes)
            self._deem_elected()
        self._close()


def ers97_rule(store: BallotStore, candidates: CandidateTable, params: RuleParams) -> Count:
    """The registry's entry: :func:`count_ers97` for ``params.seats``, lots by its seed."""
    return count_ers97(store, candidates, params.seats, seed=params.seed)
