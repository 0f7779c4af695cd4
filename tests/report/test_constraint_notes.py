"""What a constraint did to each candidate (report/constraint_notes.py), read from the
count's record: the block vote's passed over and elected by a constraint, STV's doomed
(in the round that excludes them) and guarded (in the rounds a minimum kept them)."""

from __future__ import annotations

from tallyroom.count.numbers import Scale
from tallyroom.count.record import Count, Decision, DecisionKind, Round
from tallyroom.report.constraint_notes import constraint_notes


def _round(number: int, tally: dict[str, int], *decisions: Decision) -> Round:
    return Round(number, None, tuple(tally.items()), decisions)


def test_block_vote_notes() -> None:
    tally = {"Al": 7, "Bob": 6, "Cy": 6, "Di": 3, "Eve": 3, "Fay": 1}
    count = Count(
        "constrained block", tuple(tally), 3, Scale(0), (_round(1, tally),),
        ("Al", "Di", "Eve"), 10, options={"passed_over": ("Bob", "Cy")},
    )  # fmt: skip
    assert constraint_notes(count) == (
        "",
        "passed over in round 1",
        "passed over in round 1",
        "elected by a constraint in round 1",
        "elected by a constraint in round 1",
        "",  # Fay polled least and was not elected: the constraint did nothing to her
    )


def test_stv_notes() -> None:
    names = {"Ann": 0, "Bob": 0, "Cal": 0, "Dee": 0}
    out = Decision(DecisionKind.ELIMINATED, "Cal")
    dee = Decision(DecisionKind.ELIMINATED, "Dee")
    count = Count(
        "constrained stv", tuple(names), 2, Scale(4),
        (_round(1, names), _round(2, names, dee), _round(3, names, out), _round(4, names)),
        ("Ann", "Bob"), 10,
        options={"doomed": ("Cal",), "guarded": ((2, ("Ann",)), (4, ("Ann",)))},
    )  # fmt: skip
    assert constraint_notes(count) == (
        "guarded from exclusion in rounds 2, 4",
        "",
        "doomed, excluded in round 3",
        "",  # excluded as the lowest, not by a constraint
    )


def test_no_constraint_options_no_notes() -> None:
    count = Count("stv", ("A", "B"), 1, Scale(4), (_round(1, {"A": 1, "B": 0}),), ("A",), 1)
    assert constraint_notes(count) == ("", "")
