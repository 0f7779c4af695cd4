"""How an electoral college's sections are named on the command line: ``NAME=FILE[:WEIGHT]``.

``tallyroom count --rule college --section mps=mps.blt:1/3 --section members=m.blt:1/3 ...``
gives each section a ballot file and a weight, taken exactly (fractions or decimals).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tallyroom.errors import InputError

__all__ = ["SECTION_OPTION", "SectionSpec", "parse_section_specs"]

SECTION_OPTION = "--section"
_WEIGHT = re.compile(r"^(\d+(/\d+)?|\d*\.\d+)$")


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """A section as named on the command line: its name, its ballot file, its weight."""

    name: str
    path: str
    weight: Fraction


def parse_section_specs(specs: Sequence[str], *, option: str = SECTION_OPTION) -> list[SectionSpec]:
    """``NAME=FILE[:WEIGHT]`` values; weights are fractions (``1/3``) or decimals (``0.5``),
    taken exactly. Give every section a weight, or none (then all weigh the same); the weights
    must add up to exactly 1 and the names be unique."""
    parsed: list[tuple[str, str, Fraction | None]] = []
    for spec in specs:
        name, eq, rest = spec.partition("=")
        if not eq or not name.strip() or not rest.strip():
            raise InputError(
                "a section is NAME=FILE or NAME=FILE:WEIGHT (a weight such as 1/3 or 0.25)",
                field=option,
                value=spec,
            )
        path, colon, weight_text = rest.rpartition(":")
        weight: Fraction | None = None
        if colon and _WEIGHT.match(weight_text.strip()):
            try:
                weight = Fraction(weight_text.strip())
            except ZeroDivisionError:
                raise InputError("a weight cannot divide by 0", field=option, value=spec) from None
            if weight <= 0:
                raise InputError("a section's weight must be above 0", field=option, value=spec)
        else:
            path = rest
        parsed.append((name.strip(), path.strip(), weight))
    if not parsed:
        raise InputError("an electoral college needs at least one section", field=option)
    names = [n for n, _, _ in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError("section names must be unique", field=option, value=twice)
    given = [w for _, _, w in parsed if w is not None]
    if given and len(given) != len(parsed):
        missing = [n for n, _, w in parsed if w is None]
        raise InputError(
            "give every section a weight, or none (equal weights)", field=option, value=missing
        )
    if not given:
        return [SectionSpec(n, p, Fraction(1, len(parsed))) for n, p, _ in parsed]
    total = sum(given, Fraction(0))
    if total != 1:
        raise InputError(
            f"section weights must add up to 1, not {total}",
            field=option,
            value=[f"{n}:{w}" for n, _, w in parsed],
        )
    return [SectionSpec(n, p, w) for n, p, w in parsed if w is not None]
