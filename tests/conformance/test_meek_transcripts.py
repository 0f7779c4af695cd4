"""Every public Meek transcript, counted by tallyroom and compared line by line.

The expected files (../shared/conformance/meek, from stv-rs, byte-identical with Droop.py's
``meek`` rule) are ``meek/<path>.<variant>.log``; the variant names the command that made
them (the conformance README's table): ``fixed9``/``bigfixed9`` are 9-place fixed point,
``approx`` exact rationals with keep factors rounded up to 6 places, ``equalize`` the
equalized counting of equal preferences; fixed-point runs under ``crashes/`` and the file
``force_positive_surplus`` (ballots ``below_quota``) were made with
``--force-positive-surplus``. Every transcript has omega = 10**-6, and ties follow the BLT
``[tie]`` order, else the candidate order.

Every line is compared exactly, except the one naming the program (``Implementation:``).

A log that stops before "Count Complete" (an empty one included) records a run that failed;
so does an ``.err`` file. tallyroom must then count the ballots correctly with arbitrary
precision or refuse them with a :class:`TallyroomError`. Where the same ballots have a
complete transcript in the big-integer arithmetic (``bigfixed9`` for ``fixed9``), a count
must match it; otherwise a count must at least fill the seats and conserve the votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tallyroom.count.rules.meek import (
    Arithmetic,
    EqualRanking,
    MeekOptions,
    MeekRecord,
    Status,
    TieOrder,
    run_meek,
)
from tallyroom.errors import TallyroomError
from tallyroom.formats.blt import BltElection, read_blt
from tallyroom.report.droop_log import render_droop_log

ROOT = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "meek"
BALLOTS = ROOT / "ballots"
EXPECTED = ROOT / "meek"
ARITHMETIC = {"fixed9", "bigfixed9", "approx"}


@dataclass(frozen=True)
class Case:
    expected: Path
    ballots: Path
    arithmetic: str
    equalize: bool
    force_positive_surplus: bool

    @property
    def id(self) -> str:
        return str(self.expected.relative_to(EXPECTED))

    def options(self, election: BltElection) -> MeekOptions:
        exact = self.arithmetic == "approx"
        return MeekOptions(
            arithmetic=Arithmetic.RATIONAL if exact else Arithmetic.FIXED,
            places=6 if exact else 9,
            omega_places=6,
            equal_ranking=EqualRanking.EQUALIZE if self.equalize else EqualRanking.DROOP,
            force_positive_surplus=self.force_positive_surplus,
            tie=TieOrder(election.tie_order or ()),
        )


def _case(path: Path) -> Case:
    name, *flags, _ = path.name.split(".")
    rel = path.parent.relative_to(EXPECTED)
    arithmetic = next((f for f in flags if f in ARITHMETIC), "fixed9")
    if "droop" in flags:  # Droop.py's own run: meek fixed precision=9 omega=6
        arithmetic = "fixed9"
    force = rel.parts[:1] == ("crashes",) and arithmetic != "approx" and "droop" not in flags
    if name == "force_positive_surplus":
        name, force = "below_quota", True
    return Case(path, BALLOTS / rel / f"{name}.blt", arithmetic, "equalize" in flags, force)


def _cases(suffix: str) -> list[Case]:
    if not EXPECTED.is_dir():
        return []
    return [_case(p) for p in sorted(EXPECTED.rglob(f"*.{suffix}"))]


LOGS = _cases("log")
ERRS = _cases("err")


# -- running and comparing ------------------------------------------------------------------------
def _run(case: Case) -> tuple[BltElection, MeekRecord]:
    election = read_blt(case.ballots)
    record = run_meek(election.ballots, election.candidates, election.seats, case.options(election))
    return election, record


def _compare(expected: str, actual: str) -> None:
    want, got = expected.splitlines(), actual.splitlines()
    for i, (w, g) in enumerate(zip(want, got, strict=False), start=1):
        if w.startswith("\tImplementation: "):
            # the program's name is the only line that may differ
            assert g.startswith("\tImplementation: "), f"line {i}: {g!r}"
            equalized = "(equalized counting)"
            assert w.endswith(equalized) == g.endswith(equalized), f"line {i}: {w!r} / {g!r}"
            continue
        assert g == w, f"line {i} differs:\n expected {w!r}\n   actual {g!r}"
    assert len(got) == len(want), f"{len(got)} lines, expected {len(want)}"


def _complete(text: str) -> bool:
    return "Action: Count Complete" in text


def _check_sound(record: MeekRecord) -> None:
    """A count for which no reference finished: seats filled, votes conserved."""
    final = record.stages[-1]
    standing = sum(1 for s in final.statuses if s is not Status.WITHDRAWN)
    assert len(record.winners) == min(record.seats, standing)
    for stage in record.stages:
        total = sum(stage.votes, 0) + stage.exhausted
        if record.options.arithmetic is Arithmetic.FIXED:
            assert total == record.counted * 10**record.options.places
        else:
            assert total == record.counted
        assert stage.exhausted >= 0


def _sibling(case: Case) -> Path | None:
    """A complete transcript of the same run in big-integer arithmetic, if there is one."""
    if case.arithmetic != "fixed9":
        return None
    other = case.expected.with_name(case.expected.name.replace(".fixed9.", ".bigfixed9."))
    if other.exists() and _complete(other.read_text(encoding="utf-8")):
        return other
    return None


@pytest.mark.skipif(not LOGS, reason="Meek conformance transcripts not present")
@pytest.mark.parametrize("case", LOGS, ids=[c.id for c in LOGS])
def test_transcript(case: Case) -> None:
    expected = case.expected.read_text(encoding="utf-8")
    if _complete(expected):
        election, record = _run(case)
        _compare(expected, render_droop_log(record, title=election.title))
        return
    _failed_reference(case)


@pytest.mark.skipif(not ERRS, reason="no expected-error files in this split")
@pytest.mark.parametrize("case", ERRS, ids=[c.id for c in ERRS])
def test_expected_error(case: Case) -> None:
    _failed_reference(case)


def _failed_reference(case: Case) -> None:
    """The reference run failed: tallyroom refuses clearly, or counts soundly."""
    try:
        election, record = _run(case)
    except TallyroomError as exc:
        assert str(exc)  # a clear message naming the problem
        return
    sibling = _sibling(case)
    if sibling is not None:
        _compare(
            sibling.read_text(encoding="utf-8"), render_droop_log(record, title=election.title)
        )
    else:
        _check_sound(record)


CRASHES = sorted(BALLOTS.glob("crashes/*.blt")) if BALLOTS.is_dir() else []


@pytest.mark.skipif(not CRASHES, reason="Meek conformance ballots not present")
@pytest.mark.parametrize("path", CRASHES, ids=[p.name for p in CRASHES])
@pytest.mark.parametrize("equal_ranking", list(EqualRanking))
def test_inputs_that_crash_droop(path: Path, equal_ranking: EqualRanking) -> None:
    """Droop.py's own settings (no forced positive surplus) on the files that crash it
    (``crashes/X.droop.err``, left out of the split): a clear refusal or a sound count."""
    election = read_blt(path)
    options = MeekOptions(equal_ranking=equal_ranking, tie=TieOrder(election.tie_order or ()))
    try:
        record = run_meek(election.ballots, election.candidates, election.seats, options)
    except TallyroomError as exc:
        assert "round" in str(exc)
        return
    _check_sound(record)
