"""Droop's reference counts (``droop_reference/*.json``) as test cases.

Each JSON holds ballot files (Droop's ``test/blt``) and, per case, the action-by-action dump
of Droop's own count (``test/ref/dump``): a header ``R, Action, Quota, ...`` and then, per
candidate, ``name, state, vote`` (and ``kf`` for Meek and Warren; QPQ's dumps give the
``quotient`` for the ``vote``). States: ``H`` hopeful, ``e`` elected with a surplus transfer
pending, ``E`` elected, ``D`` defeated, ``W`` withdrawn. Only the rows of actions remain
(log and round lines dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from tallyroom.formats.blt import BltElection, read_blt

DATA = Path(__file__).resolve().parent / "droop_reference"


@dataclass(frozen=True)
class Row:
    action: str
    quota: Fraction | None
    states: dict[str, str]
    votes: dict[str, Fraction]
    kf: dict[str, Fraction]
    nontransferable: Fraction | None = None  # WIGM-family dumps' "Non-Transferable"


@dataclass(frozen=True)
class Case:
    name: str
    ballots: str  # the BLT text
    variant: str  # e.g. "wigm-prf-batch-fixed-p4-d4"
    rows: tuple[Row, ...]

    def election(self, tmp: Path) -> BltElection:
        path = tmp / "ballots.blt"
        path.write_text(self.ballots, encoding="utf-8")
        return read_blt(path)

    @property
    def places(self) -> int:
        """The places the dump shows (``-dN``)."""
        return int(self.variant.rsplit("-d", 1)[1])


def _num(text: str) -> Fraction:
    return Fraction(Decimal(text))


def _row(header: list[str], cells: list[str]) -> Row:
    fields = dict(zip(header, cells, strict=False))
    states: dict[str, str] = {}
    votes: dict[str, Fraction] = {}
    kf: dict[str, Fraction] = {}
    for column in header:
        if not column.endswith(".name") or column not in fields:
            continue
        i = column[: -len(".name")]
        name = fields[column]
        states[name] = fields[f"{i}.state"]
        # QPQ's dumps give each candidate's quotient where the others give the vote
        votes[name] = _num(fields.get(f"{i}.vote", fields.get(f"{i}.quotient", "0")))
        if f"{i}.kf" in fields:
            kf[name] = _num(fields[f"{i}.kf"])
    quota = fields.get("Quota")
    try:
        q = _num(quota) if quota is not None else None
    except ArithmeticError:
        q = None  # a message row ("Iterate (omega)")
    nt = fields.get("Non-Transferable")
    return Row(cells[1], q, states, votes, kf, None if nt is None else _num(nt))


@cache
def load(family: str) -> dict[str, Case]:
    data = json.loads((DATA / f"{family}.json").read_text(encoding="utf-8"))
    out = {}
    for name, case in data["cases"].items():
        header = case["header"]
        rows = tuple(_row(header, cells) for cells in case["rows"])
        out[name] = Case(name, data["ballots"][case["ballots"]], case["variant"], rows)
    return out


def params(family: str, variant: str) -> list[object]:
    """``pytest.param`` per case of ``family`` whose variant starts with ``variant``."""
    return [
        pytest.param(case, id=name)
        for name, case in sorted(load(family).items())
        if case.variant.startswith(variant)
    ]
