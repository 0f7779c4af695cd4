"""A Meek count as Droop.py's plain-text election report (the layout stv-rs reproduces).

The layout, rendered from a :class:`~tallyroom.count.rules.meek.MeekRecord`::

    <blank>
    Election: <title>
    <blank>
    <TAB>Implementation: <implementation>[ (equalized counting)]
    <TAB>Rule: Meek Parametric (omega = 1/10^k)
    <TAB>Arithmetic: <description>
    <TAB>Seats: s / Ballots: b / Quota: q / Omega: w      (one a line)
    <blank>
    <TAB>Add eligible: NAME | <TAB>Add withdrawn: NAME     (candidate order)
    Round k:                                              (before a round's first action)
    <TAB>Stable state detected (S)                        (before "Iterate (stable)")
    Action: <action>
    <TAB>Elected:  NAME (v) / Hopeful:  NAME (v) / Defeated: NAME (v)   (full listings only)
    <TAB>Defeated: A, B (0)                               (defeated candidates holding nothing)
    <TAB>Quota: q / Votes: v / Residual: r / Total: t / Surplus: s
    <blank>                                               (after "Count Complete")

Full listings follow every action except "Iterate" and "Break tie"; they list elected (and,
silently, withdrawn) candidates first, then hopefuls, then defeated ones holding votes, each
group in candidate order, and last the defeated ones holding nothing on one line. Fixed-point
values print with every place (``9.000000001``), exact ones as reduced fractions (``8/3``).
As in Droop.py, the residual is shown as 0 at "Begin Count". Only the implementation line
names the program; everything else is the record.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from tallyroom.count.numbers import Scale
from tallyroom.count.rules.meek import (
    Action,
    Arithmetic,
    EqualRanking,
    IterationEnd,
    MeekRecord,
    MeekStage,
    Num,
    Status,
)

__all__ = ["render_droop_log"]

_Fmt = Callable[[Num], str]
_BRIEF = (Action.ITERATE, Action.BREAK_TIE)
_GROUP = {Status.WITHDRAWN: 0, Status.ELECTED: 0, Status.HOPEFUL: 1}
_LABEL = {Status.ELECTED: "Elected: ", Status.HOPEFUL: "Hopeful: ", Status.DEFEATED: "Defeated:"}


def render_droop_log(record: MeekRecord, *, title: str, implementation: str = "tallyroom") -> str:
    """The report of ``record`` for the election called ``title``."""
    opts = record.options
    exact = opts.arithmetic is Arithmetic.RATIONAL
    scale = Scale(opts.unit_places)

    def fmt(x: Num) -> str:
        if exact:
            q = Fraction(x)
            return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
        assert isinstance(x, int)
        return scale.format(x)

    if exact:
        arithmetic = (
            "exact rational arithmetic with rounding of keep factors "
            f"({opts.places} decimal places)"
        )
    elif opts.unit_places != opts.places:
        arithmetic = (
            f"guarded-precision fixed-point decimal arithmetic ({opts.places}+{opts.guard} places)"
        )
    else:
        arithmetic = f"fixed-point decimal arithmetic ({opts.places} places)"
    equalized = " (equalized counting)" if opts.equal_ranking is EqualRanking.EQUALIZE else ""
    names = record.candidates.names
    out = [
        "",
        f"Election: {title}",
        "",
        f"\tImplementation: {implementation}{equalized}",
        f"\tRule: Meek Parametric (omega = 1/10^{opts.omega_places})",
        f"\tArithmetic: {arithmetic}",
        f"\tSeats: {record.seats}",
        f"\tBallots: {record.counted}",
        f"\tQuota: {fmt(record.initial_threshold)}",
        f"\tOmega: {fmt(record.omega)}",
        "",
    ]
    for c, name in enumerate(names):
        kind = "withdrawn" if c in record.candidates.excluded else "eligible"
        out.append(f"\tAdd {kind}: {name}")
    shown_round = 0
    for stage in record.stages:
        if stage.round > shown_round:
            out.append(f"Round {stage.round}:")
            shown_round = stage.round
        if stage.action is Action.ITERATE and stage.end is IterationEnd.STABLE:
            out.append(f"\tStable state detected ({fmt(stage.surplus)})")
        out.append(f"Action: {_action(stage, names, fmt)}")
        if stage.action not in _BRIEF:
            out.extend(_listing(stage, names, fmt))
        residual = stage.exhausted if stage.action is not Action.BEGIN else 0
        votes = sum(stage.votes, 0)
        out += [
            f"\tQuota: {fmt(stage.threshold)}",
            f"\tVotes: {fmt(votes)}",
            f"\tResidual: {fmt(residual)}",
            f"\tTotal: {fmt(votes + residual)}",
            f"\tSurplus: {fmt(stage.surplus)}",
        ]
    out.append("")
    return "\n".join(out) + "\n"


def _action(stage: MeekStage, names: tuple[str, ...], fmt: _Fmt) -> str:
    who = names[stage.candidate] if stage.candidate is not None else ""
    act = stage.action
    if act is Action.BEGIN:
        return "Begin Count"
    if act is Action.ELECT:
        return f"Elect: {who}"
    if act is Action.ITERATE:
        assert stage.end is not None
        return f"Iterate ({stage.end.value})"
    if act is Action.BREAK_TIE:
        return f"Break tie (defeat): [{', '.join(names[c] for c in stage.tied)}] -> {who}"
    if act is Action.DEFEAT:
        if stage.end is IterationEnd.BATCH:
            return f"Defeat certain loser: {who}"
        if stage.end is IterationEnd.STABLE:
            return f"Defeat (stable surplus {fmt(stage.surplus)}): {who}"
        return f"Defeat (surplus {fmt(stage.surplus)} < omega): {who}"
    if act is Action.ELECT_REMAINING:
        return f"Elect remaining: {who}"
    if act is Action.DEFEAT_REMAINING:
        return f"Defeat remaining: {who}"
    return "Count Complete"


def _listing(stage: MeekStage, names: tuple[str, ...], fmt: _Fmt) -> list[str]:
    def group(c: int) -> int:
        status = stage.statuses[c]
        if status is Status.DEFEATED:
            return 2 if stage.votes[c] else 3
        return _GROUP[status]

    order = sorted(range(len(names)), key=group)
    lines: list[str] = []
    empty: list[str] = []
    for c in order:
        status = stage.statuses[c]
        if status is Status.WITHDRAWN:
            continue
        if group(c) == 3:
            empty.append(names[c])
            continue
        lines.append(f"\t{_LABEL[status]} {names[c]} ({fmt(stage.votes[c])})")
    if empty:
        lines.append(f"\tDefeated: {', '.join(empty)} ({fmt(0)})")
    return lines
