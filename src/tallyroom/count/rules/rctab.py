"""The RCTab rule family: IRV, multi-seat STV, bottoms-up and multi-pass IRV.

This module reproduces the tabulation rules of RCTab 2.0 (the open-source ranked-choice
tabulator certified for US public elections), as set out in its config documentation and
observed in its test suite; ``docs/rules/rctab.md`` states each rule in prose. A round:

1. **Tally** [walk]: each ballot counts for its highest-ranked continuing candidate (see
   :mod:`tallyroom.count.walk` for overvotes, skipped and repeated rankings).
2. **Threshold**: single seat: ``floor(active / 2) + 1`` every round (round 1 only with
   ``doesFirstRoundDetermineThreshold``). Multi-seat STV, round 1 only: Droop
   ``floor_d(V / (S + 1)) + 10**-d`` with ``d = 0``, or ``d`` decimal places with
   ``nonIntegerWinningThreshold``; Hare ``ceil_d(V / S)``. Percentage mode:
   ``active * X / 100``, truncated to the decimal places.
3. **Elect**: nobody while undeclared write-ins hold votes; everyone continuing when no more
   continue than seats remain; otherwise every candidate at or over the threshold (one per
   round, the highest, with ``multiWinnerAllowOnlyOneWinnerPerRound``); in percentage mode
   everyone once all are strictly over it. A two-way tie with no majority is broken by lot.
4. **Surplus** (STV): fraction ``f = floor_d((votes - quota) / votes)``; each ballot passes on
   ``floor_d(value * f)`` and keeps the rest with the winner. Next round the winner is shown
   at what the ballots kept, capped at the quota; the excess is the *residual surplus*.
5. **Eliminate** when nobody is elected: undeclared write-ins first, alone; then (percentage
   mode with ``cutoffElimination``) everyone under the threshold; then a batch of candidates
   whose combined votes are below the next-lowest tally; else the lowest, ties broken by the
   configured :class:`~tallyroom.count.tiebreak.TieBreaker`.
6. **Stop** when every seat is filled (STV adds one round that moves the last surpluses to
   *final round surplus*), when two candidates remain (``continueUntilTwoCandidatesRemain``),
   or after the round named by ``stopTabulationEarlyAfterRound``.

Arithmetic is exact: values are integers in units of ``10**-d`` votes, every division and
product rounds down to ``d`` places as RCTab's ``BigDecimal`` arithmetic does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tallyroom.count.ballots import BallotStore, CandidateTable, Codes
from tallyroom.count.numbers import Scale, pow10
from tallyroom.count.options import RctabOptions, WinnerMode
from tallyroom.count.record import (
    EXHAUSTED,
    RESIDUAL_SURPLUS,
    Count,
    Decision,
    DecisionKind,
    InactiveReason,
    Round,
    SliceCount,
    TieBreak,
)
from tallyroom.count.tiebreak import TieBreaker
from tallyroom.count.walk import Status, cell_flags, walk
from tallyroom.errors import CountError

if TYPE_CHECKING:  # the extension point is loaded only by a count that is given decisions
    from tallyroom.count.rules.rctab_hooks import RoundContext, RoundDecisions

__all__ = [
    "RoundObserver",
    "RoundState",
    "SliceLabels",
    "tabulate",
]

_REPORTED = (
    (Status.OVERVOTE, InactiveReason.OVERVOTE),
    (Status.SKIPPED_RANKINGS, InactiveReason.SKIPPED_RANKINGS),
    (Status.EXHAUSTED_CHOICES, InactiveReason.EXHAUSTED_CHOICES),
    (Status.REPEATED_RANKINGS, InactiveReason.REPEATED_RANKINGS),
)
_N_STATUS = len(Status)


@dataclass(frozen=True, slots=True)
class SliceLabels:
    """Names for the keys of a keyed :class:`BallotStore` (precincts or batches)."""

    kind: str
    names: tuple[str, ...]


@dataclass(slots=True)
class _Ledger:
    """Accumulators for one round, per slice (the last slice row is "no slice")."""

    tally: npt.NDArray[np.object_] | npt.NDArray[np.int64]
    inactive: npt.NDArray[np.object_] | npt.NDArray[np.int64]
    transfers: dict[tuple[int, int, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoundState:
    """Where every distinct ranking's ballots stand after a round's tally (for observers).

    Per group of the store: ``recipient`` (candidate code, -1 none), ``value`` (units each
    ballot is worth to it), ``status`` (:class:`~tallyroom.count.walk.Status`), and for STV
    ``kept``: per elected candidate, the groups whose ballots helped elect them and the units
    each of those ballots keeps with them.
    """

    round: int
    recipient: Codes
    value: npt.NDArray[Any]
    status: npt.NDArray[np.int8]
    kept: dict[int, tuple[npt.NDArray[np.intp], npt.NDArray[Any]]]


RoundObserver = Callable[[RoundState], None]


def tabulate(
    store: BallotStore,
    candidates: CandidateTable,
    options: RctabOptions,
    *,
    slices: SliceLabels | None = None,
    rule_name: str | None = None,
    observer: RoundObserver | None = None,
    decisions: RoundDecisions | None = None,
) -> Count:
    """Count ``store`` under ``options`` and return the complete round-by-round record.

    ``observer``, if given, sees each round's :class:`RoundState` (used to write per-ballot
    interpreted CVR snapshots); it cannot change the count. ``decisions``, if given, decides
    who is elected and who excluded each round in place of the standard steps 3 and 5 (the
    extension point of :mod:`tallyroom.count.rules.rctab_hooks`; seat constraints use it).
    """
    tab = _Tabulation(store, candidates, options, slices, rule_name)
    tab.observer = observer
    tab.decisions = decisions
    return tab.run()


def _add_at(
    target: npt.NDArray[Any],
    rows: npt.NDArray[Any] | None,
    cols: npt.NDArray[Any],
    values: npt.NDArray[Any],
) -> None:
    """``target[rows, cols] += values``, repeated cells summed, exactly (integers or Python ints);
    ``rows`` ``None``: the first row (a count without slices has only that one).

    ``np.add.at`` with one flat index takes numpy's fast path; with a pair of index arrays it
    is some twenty times slower (2.5 ms against 0.1 ms for 92,049 cells).
    """
    assert target.ndim == 2 and target.flags.c_contiguous
    flat = cols if rows is None else rows.astype(np.intp) * target.shape[1] + cols
    np.add.at(target.reshape(-1), flat, values)


def _part(keys: npt.NDArray[np.intp] | None, mask: npt.NDArray[np.bool_]) -> Any:
    """The slice keys of the groups ``mask`` picks (``None``: a count without slices)."""
    return None if keys is None else keys[mask]


class _Tabulation:
    def __init__(
        self,
        store: BallotStore,
        candidates: CandidateTable,
        options: RctabOptions,
        slices: SliceLabels | None,
        rule_name: str | None,
    ) -> None:
        self.store = store
        self.cands = candidates
        self.opt = options
        self.names = candidates.names
        self.n = len(candidates)
        self.scale = Scale(options.decimal_places)
        self.one = self.scale.one
        self.uwi = candidates.undeclared_write_in
        self.rule_name = rule_name or options.winner_mode.value
        self.seats = options.seats
        # 10**(2d) must fit in int64 for vectorised products; beyond, exact Python ints.
        self.dtype: type = np.int64 if self.one <= 3_000_000_000 else object
        g = len(store)
        self.rows = store.rows
        self.w = store.weights.astype(self.dtype)
        self.val = np.full(g, self.one, dtype=self.dtype)
        self.units = self.w * self.val  # each group's ballots' worth, w x val, kept up to date
        self.rec = np.full(g, -1, dtype=np.int32)
        self.status = np.zeros(g, dtype=np.int8)
        self.pos = np.zeros(g, dtype=np.int32)
        self.slices = slices
        n_slices = len(slices.names) if slices is not None else 0
        self.n_rows = n_slices + 1
        if store.keys is not None and slices is not None:
            self.key = np.where(store.keys >= 0, store.keys, n_slices).astype(np.intp)
        else:
            self.key = np.full(g, n_slices, dtype=np.intp)
        self.flags = cell_flags(
            self.rows,
            store.overvote_sets,
            self.n,
            max_skipped=options.max_skipped_ranks_allowed,
            check_repeats=options.exhaust_on_duplicate_candidate,
        )
        self.excluded = np.zeros(self.n, dtype=bool)
        for c in candidates.excluded:
            self.excluded[c] = True
        self.eliminated: dict[int, int] = {}  # code -> round
        self.winners: dict[int, int] = {}  # code -> round, in order of election
        order = [nm for i, nm in enumerate(self.names) if i != self.uwi]
        if self.uwi is not None:
            order.append(self.names[self.uwi])
        self.tiebreak = TieBreaker(
            options.tiebreak_mode,
            order,
            seed=options.random_seed,
            decider=options.tie_decider,
        )
        self.was_continuing = np.ones(self.n, dtype=bool)
        self.tally_acc = np.zeros((self.n_rows, self.n), dtype=self.dtype)
        self.inactive_acc = np.zeros((self.n_rows, _N_STATUS), dtype=self.dtype)
        self.observer: RoundObserver | None = None
        self.decisions: RoundDecisions | None = None
        self.kept_groups: dict[int, tuple[npt.NDArray[np.intp], npt.NDArray[Any]]] = {}
        self.kept: dict[int, npt.NDArray[np.object_] | npt.NDArray[np.int64]] = {}
        # the number of candidates in the count: excluded ones are never in it
        self.n_in_count = int(self.n - self.excluded.sum())

    # -- candidate status -------------------------------------------------------------------
    def continuing_mask(self) -> npt.NDArray[np.bool_]:
        cont = ~self.excluded.copy()
        for c in self.eliminated:
            cont[c] = False
        if not self.opt.continue_until_two_candidates_remain:
            for c in self.winners:
                cont[c] = False
        return cont

    # -- main loop --------------------------------------------------------------------------
    def run(self) -> Count:
        opt = self.opt
        rounds: list[Round] = []
        ledgers: list[_Ledger] = []
        thresholds: list[int] = []
        history: list[dict[str, int]] = []
        residual_total = 0
        round_no = 0
        decisions_by_round: dict[int, list[tuple[DecisionKind, int]]] = {}
        ties_by_round: dict[int, list[TieBreak]] = {}
        percentage = opt.winner_mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD

        while self.should_continue(round_no):
            round_no += 1
            cont = self.continuing_mask()
            ledger = self.tally_round(round_no, cont)
            if self.observer is not None:
                self.observer(
                    RoundState(
                        round=round_no,
                        recipient=self.rec.copy(),
                        value=self.val.copy(),
                        status=self.status.copy(),
                        kept=dict(self.kept_groups),
                    )
                )
            tally_all = ledger.tally.sum(axis=0)
            active_units = int(sum(int(tally_all[c]) for c in range(self.n) if cont[c]))
            # -- threshold
            if self.recompute_threshold(round_no):
                threshold = self.threshold(active_units)
            else:
                threshold = thresholds[-1]
            thresholds.append(threshold)
            tally = {c: int(tally_all[c]) for c in range(self.n) if cont[c]}
            ties: list[TieBreak] = []
            winners = self._elect(round_no, tally, threshold, history, ties)
            decisions: list[tuple[DecisionKind, int]] = []
            if winners:
                for c in winners:
                    self.winners[c] = round_no
                    decisions.append((DecisionKind.ELECTED, c))
                if opt.uses_surpluses:
                    for c in winners:
                        self.transfer_surplus(c, tally[c], threshold)
            elif (
                len(self.winners) < self.seats
                or (
                    opt.continue_until_two_candidates_remain
                    and len(self.eliminated) < self.n_in_count - 2
                )
                or percentage
            ):
                losers = self._exclude(round_no, tally, threshold, history, ties)
                if not losers:
                    raise CountError(f"round {round_no}: no candidate could be eliminated")
                for c in losers:
                    self.eliminated[c] = round_no
                    decisions.append((DecisionKind.ELIMINATED, c))
            # -- winners of earlier rounds, shown at what their ballots kept
            shown = dict(tally)
            if self.seats > 1:
                for c, r in self.winners.items():
                    if r == round_no:
                        continue
                    if r == round_no - 1 and c in self.kept:
                        kept = self.kept.pop(c)
                        total = int(kept.sum())
                        over = total - threshold
                        if over > 0 and opt.uses_surpluses:
                            residual_total += over
                            total = threshold
                            ledger.transfers[(self.n_rows - 1, c, RESIDUAL_SURPLUS)] = over
                        # [RCTab] a slice shows what its ballots kept, with no cap
                        ledger.tally[:, c] = kept
                        shown[c] = total
                    elif r < round_no:
                        shown[c] = history[-1].get(self.names[c], 0) if history else 0
                        ledger.tally[:, c] = ledgers[-1].tally[:, c]
            named = {self.names[c]: v for c, v in shown.items()}
            history.append(named)
            ledgers.append(ledger)
            decisions_by_round[round_no] = decisions
            ties_by_round[round_no] = ties
            rounds.append(
                Round(
                    number=round_no,
                    threshold=threshold,
                    tally=tuple((self.names[c], shown[c]) for c in range(self.n) if c in shown),
                    inactive=(),
                    residual_surplus=residual_total,
                    ties=tuple(ties),
                )
            )
        return self.finish(rounds, ledgers, decisions_by_round)

    # -- stopping ---------------------------------------------------------------------------
    def should_continue(self, round_no: int) -> bool:
        opt = self.opt
        if round_no == 0:
            return True
        if opt.stop_after_round is not None and round_no >= opt.stop_after_round:
            return False
        if self.seats > 1 and self.seats >= self._electable() and self.winners:
            return False  # more seats than candidates: everyone was elected in round 1
        if opt.continue_until_two_candidates_remain:
            return (
                len(self.eliminated) + len(self.winners) + 1 < self.n_in_count
                or round_no in self.eliminated.values()
            )
        if opt.winner_mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD:
            return not self.winners
        return len(self.winners) < self.seats or (
            self.seats > 1 and opt.uses_surpluses and round_no in self.winners.values()
        )

    def _electable(self) -> int:
        return self.n_in_count - (1 if self.uwi is not None and not self.excluded[self.uwi] else 0)

    def recompute_threshold(self, round_no: int) -> bool:
        if round_no == 1:
            return True
        if self.seats > 1:
            return False
        if self.opt.continue_until_two_candidates_remain and self.winners:
            return False  # [RCTab] the threshold is frozen once the winner is known
        return not self.opt.first_round_determines_threshold

    def threshold(self, active: int) -> int:
        opt = self.opt
        sc = self.scale
        if opt.winner_mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD:
            pct = opt.percentage_threshold
            if pct is None:
                raise CountError("the percentage mode needs a percentage threshold")
            num, den = pct.as_integer_ratio()
            # [RCTab] threshold = active votes x X/100, kept to the arithmetic's places
            return (active * num) // (den * 100)
        seats = max(self.seats, 1)
        divisor = seats if opt.hare_quota else seats + 1
        places = sc.places if opt.non_integer_winning_threshold else 0
        if opt.hare_quota:
            return sc.ceil(-((-active) // divisor), places)
        return sc.truncate(active // divisor, places) + pow10(sc.places - places)

    # -- tallying ---------------------------------------------------------------------------
    def tally_round(self, round_no: int, cont: npt.NDArray[np.bool_]) -> _Ledger:
        # only ballots whose candidate has just left the count move (in round 1: all)
        if round_no == 1:
            moving = np.arange(len(self.rec))
        else:
            departed = [c for c in range(self.n) if self.was_continuing[c] and not cont[c]]
            if not departed:
                moving = np.empty(0, dtype=np.intp)
            elif len(departed) == 1:
                moving = np.flatnonzero(self.rec == departed[0])
            else:
                moving = np.flatnonzero(np.isin(self.rec, departed))
        self.was_continuing = cont
        transfers: dict[tuple[int, int, str], int] = {}
        tally, inactive = self.tally_acc, self.inactive_acc
        if moving.size:
            old = self.rec[moving]
            if round_no == 1:
                empty = self.flags.empty[moving]
                gone = moving[empty]
                self.status[gone] = Status.NO_RANKINGS
                np.add.at(inactive[:, Status.NO_RANKINGS], self.key[gone], self.units[gone])
                moving, old = moving[~empty], old[~empty]
            if self.opt.uses_surpluses and len(self.winners) >= self.seats:
                result_rec = np.full(moving.size, -1, dtype=np.int32)
                result_status = np.full(moving.size, Status.FINAL_ROUND_SURPLUS, dtype=np.int8)
                result_pos = self.pos[moving]
            else:
                start = self.flags.first[moving] if round_no == 1 else self.pos[moving]
                result_rec, result_status, result_pos = self._walk(
                    moving, start, cont, first_round=round_no == 1
                )
            self.rec[moving] = result_rec
            self.status[moving] = result_status
            self.pos[moving] = result_pos
            amount = self.units[moving]
            keys = self.key[moving] if self.n_rows > 1 else None
            # the running tallies change only by what moved: out of the old candidate, into the
            # new one or into an inactive reason (columns of departed candidates are not read)
            src = old >= 0
            if src.any():
                _add_at(tally, _part(keys, src), old[src], -amount[src])
                self._book_transfers(transfers, moving[src], old[src], result_rec[src], amount[src])
            dst = result_rec >= 0
            _add_at(tally, _part(keys, dst), result_rec[dst], amount[dst])
            out = ~dst
            _add_at(inactive, _part(keys, out), result_status[out], amount[out])
        return _Ledger(tally=tally.copy(), inactive=inactive.copy(), transfers=transfers)

    def _walk(
        self,
        moving: npt.NDArray[np.intp],
        start: Codes,
        cont: npt.NDArray[np.bool_],
        *,
        first_round: bool,
    ) -> tuple[Codes, npt.NDArray[np.int8], Codes]:
        """Walk ``moving`` from ``start``. In round 1 most ballots stop at their
        first mark, a continuing candidate; later, every ballot that moves rests on a candidate
        who has just left the count, so each takes the full walk."""
        if not first_round:
            res = walk(
                self.rows,
                self.flags,
                moving,
                start,
                cont,
                self.store.overvote_sets,
                self.opt.overvote_rule,
            )
            return res.recipient, res.status, res.position
        # the cell (moving, start), read from the rankings stored rank by rank
        code = self.flags.columns.reshape(-1)[start.astype(np.intp) * len(self.rows) + moving]
        quick = (code >= 0) & cont[np.maximum(code, 0)]
        if self.flags.gap is not None:
            quick &= ~self.flags.gap[moving, start]
        rec = np.where(quick, code, -1).astype(np.int32)
        status = np.zeros(moving.size, dtype=np.int8)
        pos = start.astype(np.int32, copy=True)
        slow = np.flatnonzero(~quick)
        if slow.size:
            res = walk(
                self.rows,
                self.flags,
                moving[slow],
                start[slow],
                cont,
                self.store.overvote_sets,
                self.opt.overvote_rule,
            )
            rec[slow], status[slow], pos[slow] = res.recipient, res.status, res.position
        return rec, status, pos

    def _book_transfers(
        self,
        transfers: dict[tuple[int, int, str], int],
        groups: npt.NDArray[np.intp],
        source: Codes,
        target: Codes,
        amount: npt.NDArray[np.object_] | npt.NDArray[np.int64],
    ) -> None:
        positive = amount > 0
        if not positive.all():
            groups, source, target, amount = (
                groups[positive],
                source[positive],
                target[positive],
                amount[positive],
            )
        if not groups.size:
            return
        # one row (no slices): every key is 0, broadcast
        keys = self.key[groups] if self.n_rows > 1 else np.zeros(1, dtype=np.intp)
        m = self.n + 1
        tgt = np.where(target >= 0, target, self.n)
        overall = self.n_rows - 1
        if self.n_rows * m * m <= 1 << 20:
            # few slices: sum exactly into a dense (slice, source, target) table
            table: npt.NDArray[Any] = np.zeros((self.n_rows, m, m), dtype=self.dtype)
            row = source if self.n_rows == 1 else keys * m + source
            _add_at(table.reshape(self.n_rows * m, m), row, tgt, amount)
            if self.n_rows > 1:
                table[overall] += table[:overall].sum(axis=0)
            for k, s, t in zip(*np.nonzero(table), strict=True):
                name = self.names[t] if t < self.n else EXHAUSTED
                transfers[(int(k), int(s), name)] = int(table[k, s, t])
            return
        # many slices: sort by (slice, source, target) and sum each run exactly
        combo = (keys * m + source) * m + tgt
        order = np.argsort(combo, kind="stable")
        combo, amount = combo[order], amount[order]
        starts = np.flatnonzero(np.r_[True, combo[1:] != combo[:-1]])
        sums = np.add.reduceat(amount, starts)
        for c, total in zip(combo[starts].tolist(), sums.tolist(), strict=True):
            t, rest = c % m, c // m
            src, key = rest % m, rest // m
            name = self.names[t] if t < self.n else EXHAUSTED
            for k in {int(key), overall}:
                transfers[(k, int(src), name)] = transfers.get((k, int(src), name), 0) + int(total)

    # -- decisions --------------------------------------------------------------------------
    def _elect(
        self,
        round_no: int,
        tally: dict[int, int],
        threshold: int,
        history: list[dict[str, int]],
        ties: list[TieBreak],
    ) -> list[int]:
        if self.decisions is None:
            return self.identify_winners(round_no, tally, threshold, history, ties)
        ctx = self._context(round_no, tally, threshold, history, ties)
        return list(self.decisions.elect(ctx))

    def _exclude(
        self,
        round_no: int,
        tally: dict[int, int],
        threshold: int,
        history: list[dict[str, int]],
        ties: list[TieBreak],
    ) -> list[int]:
        if self.decisions is None:
            return self.eliminate(round_no, tally, threshold, history, ties)
        ctx = self._context(round_no, tally, threshold, history, ties)
        return list(self.decisions.exclude(ctx))

    def _context(
        self,
        round_no: int,
        tally: dict[int, int],
        threshold: int,
        history: list[dict[str, int]],
        ties: list[TieBreak],
    ) -> RoundContext:
        from tallyroom.count.rules.rctab_hooks import RoundContext

        def break_tie(tied: Sequence[int], purpose: DecisionKind) -> int:
            tb = self.tiebreak.choose(round_no, [self.names[c] for c in tied], purpose, history)
            ties.append(tb)
            return self.names.index(tb.chosen)

        return RoundContext(
            number=round_no,
            tally=dict(tally),
            threshold=threshold,
            elected=tuple(self.winners),
            names=self.names,
            write_in=self.uwi,
            _standard_winners=lambda: self.identify_winners(
                round_no, tally, threshold, history, ties
            ),
            _standard_exclusions=lambda: self.eliminate(round_no, tally, threshold, history, ties),
            _break_tie=break_tie,
        )

    def identify_winners(
        self,
        round_no: int,
        tally: dict[int, int],
        threshold: int,
        history: list[dict[str, int]],
        ties: list[TieBreak],
    ) -> list[int]:
        opt = self.opt
        if self.uwi is not None and tally.get(self.uwi, 0) != 0:
            return []
        if opt.winner_mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD:
            if all(v > threshold for v in tally.values()):
                return self._by_votes(tally, list(tally))
            return []
        unfilled = self.seats - len(self.winners)
        selected: list[int] = []
        if unfilled > 0:
            if round_no == 1 and self.seats >= self._electable() and self.seats > 1:
                return self._by_votes(tally, [c for c in tally if c != self.uwi])
            if len(tally) == unfilled:
                selected = self._by_votes(tally, list(tally))
            elif opt.first_round_determines_threshold and len(tally) - 1 == self.seats:
                top = max(tally.values())
                selected = [c for c in tally if tally[c] == top]
            elif opt.winner_mode is not WinnerMode.BOTTOMS_UP:
                selected = self._by_votes(
                    tally, [c for c in tally if tally[c] >= threshold and c != self.uwi]
                )
        several = len(selected) > 1 and (
            opt.winner_mode is WinnerMode.MULTI_WINNER_ALLOW_ONLY_ONE_WINNER_PER_ROUND
            or opt.first_round_determines_threshold
        )
        stalemate = self.seats == 1 and not selected and len(tally) == 2 and unfilled == 1
        if several or stalemate:
            top = max(tally.values())
            selected = [c for c in tally if tally[c] == top]
            if len(selected) > 1:
                tb = self.tiebreak.choose(
                    round_no, [self.names[c] for c in selected], DecisionKind.ELECTED, history
                )
                ties.append(tb)
                selected = [self.names.index(tb.chosen)]
        return selected

    @staticmethod
    def _by_votes(tally: dict[int, int], chosen: Sequence[int]) -> list[int]:
        return sorted(chosen, key=lambda c: (tally[c], c))

    def eliminate(
        self,
        round_no: int,
        tally: dict[int, int],
        threshold: int,
        history: list[dict[str, int]],
        ties: list[TieBreak],
    ) -> list[int]:
        opt = self.opt
        if self.uwi is not None and tally.get(self.uwi, 0) > 0:
            return [self.uwi]
        if (
            opt.cutoff_elimination
            and opt.winner_mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD
        ):
            below = [c for c in tally if tally[c] < threshold]
            if below and len(below) < len(tally):
                return below
        if opt.batch_elimination:
            batch = self._batch(tally)
            if len(batch) > 1:
                return batch
        low = min(tally.values())
        last = [c for c in tally if tally[c] == low]
        if len(last) == 1:
            return last
        tb = self.tiebreak.choose(
            round_no, [self.names[c] for c in last], DecisionKind.ELIMINATED, history
        )
        ties.append(tb)
        return [self.names.index(tb.chosen)]

    def _batch(self, tally: dict[int, int]) -> list[int]:
        """Candidates who together hold fewer votes than the next-lowest candidate."""
        levels: dict[int, list[int]] = {}
        for c in sorted(tally):
            levels.setdefault(tally[c], []).append(c)
        running = 0
        seen: list[int] = []
        chosen: list[int] = []
        previous: list[int] = []
        for votes in sorted(levels):
            grown = list(chosen)
            if running < votes:
                grown.extend(c for c in seen if c not in chosen)
            running += votes * len(levels[votes])
            seen.extend(levels[votes])
            if len(grown) > len(chosen):
                previous, chosen = chosen, grown
        if (
            self.opt.continue_until_two_candidates_remain
            and len(chosen) + len(self.eliminated) == self.n_in_count - 1
        ):
            chosen = previous
        return chosen

    # -- surpluses --------------------------------------------------------------------------
    def transfer_surplus(self, winner: int, votes: int, threshold: int) -> None:
        sc = self.scale
        extra = votes - threshold
        # [RCTab] surplus fraction = (votes - threshold) / votes, rounded down to d places
        fraction = sc.div_down(extra, votes) if extra > 0 else 0
        mine = np.flatnonzero((self.rec == winner) & (self.status == Status.ACTIVE))
        val = self.val[mine]
        # [RCTab] each ballot passes on floor_d(value x fraction) and keeps the rest
        passed = (val * fraction) // self.one
        kept = val - passed
        self.val[mine] = passed
        self.units[mine] = self.w[mine] * passed
        self.kept_groups[winner] = (mine, kept)
        per_slice: npt.NDArray[Any] = np.zeros(self.n_rows, dtype=self.dtype)
        np.add.at(per_slice, self.key[mine], self.w[mine] * kept)
        self.kept[winner] = per_slice

    # -- the record -------------------------------------------------------------------------
    def finish(
        self,
        rounds: list[Round],
        ledgers: list[_Ledger],
        decisions_by_round: dict[int, list[tuple[DecisionKind, int]]],
    ) -> Count:
        final_round = len(rounds)
        out: list[Round] = []
        for i, rnd in enumerate(rounds):
            out.append(
                self._round_record(
                    rnd, ledgers, decisions_by_round, i, final_round, None, rnd.tally
                )
            )
        slices: list[SliceCount] = []
        if self.slices is not None:
            for s, name in enumerate(self.slices.names):
                srounds = []
                for i, rnd in enumerate(rounds):
                    row = ledgers[i].tally[s]
                    shown = tuple((nm, int(row[self.names.index(nm)])) for nm, _ in rnd.tally)
                    srounds.append(
                        self._round_record(
                            rnd, ledgers, decisions_by_round, i, final_round, s, shown
                        )
                    )
                first = ledgers[0]
                total = int(first.tally[s].sum()) + int(first.inactive[s].sum())
                under = int(first.inactive[s][Status.NO_RANKINGS])
                slices.append(
                    SliceCount(
                        kind=self.slices.kind,
                        name=name,
                        rounds=tuple(srounds),
                        total_ballots=total // self.one,
                        undervotes=under // self.one,
                    )
                )
        opening = ledgers[0] if ledgers else None
        total_units = (
            int(opening.tally.sum()) + int(opening.inactive.sum()) if opening is not None else 0
        )
        under_units = (
            int(opening.inactive[:, Status.NO_RANKINGS].sum()) if opening is not None else 0
        )
        winners = tuple(self.names[c] for c, _ in sorted(self.winners.items(), key=lambda x: x[1]))
        return Count(
            rule=self.rule_name,
            candidates=self.names,
            seats=self.seats,
            scale=self.scale,
            rounds=tuple(out),
            winners=winners,
            total_ballots=total_units // self.one,
            undervotes=under_units // self.one,
            slices=tuple(slices),
            options={"rctab": self.opt},
        )

    def _round_record(
        self,
        rnd: Round,
        ledgers: list[_Ledger],
        decisions_by_round: dict[int, list[tuple[DecisionKind, int]]],
        i: int,
        final_round: int,
        slice_row: int | None,
        tally: tuple[tuple[str, int], ...],
    ) -> Round:
        row = self.n_rows - 1 if slice_row is None else slice_row
        ledger = ledgers[i]
        if slice_row is None:
            inactive_vec = ledger.inactive.sum(axis=0)
        else:
            inactive_vec = ledger.inactive[slice_row]
        inactive = [(reason, int(inactive_vec[st])) for st, reason in _REPORTED]
        if self.opt.uses_surpluses and rnd.number == final_round:
            inactive.append(
                (InactiveReason.FINAL_ROUND_SURPLUS, int(inactive_vec[Status.FINAL_ROUND_SURPLUS]))
            )
        nxt = ledgers[i + 1].transfers if i + 1 < len(ledgers) else {}
        decisions = []
        for kind, c in decisions_by_round.get(rnd.number, []):
            moved = [(t, v) for (k, s, t), v in nxt.items() if k == row and s == c]
            moved.sort(key=lambda tv: self._target_order(tv[0]))
            decisions.append(Decision(kind=kind, candidate=self.names[c], transfers=tuple(moved)))
        return Round(
            number=rnd.number,
            threshold=rnd.threshold,
            tally=tally,
            decisions=tuple(decisions),
            inactive=tuple(inactive),
            residual_surplus=rnd.residual_surplus,
            ties=rnd.ties,
        )

    def _target_order(self, target: str) -> tuple[int, str]:
        if target in self.names:
            return (self.names.index(target), target)
        return (self.n + (0 if target == EXHAUSTED else 1), target)
