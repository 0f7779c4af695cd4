"""The register's weight column: each voter's weight, read exactly, for an election whose
definition declares ``[weights]`` (``docs/register.md``, "Weights").

* With ``[weights]``, the column it names (default ``weight``) must be in the header, and
  every line's cell must be a weight: a plain decimal greater than zero with at most the
  declared ``decimal_places`` (``1``, ``2.5``, ``0.333``). A cell that is not is a problem
  naming the file, line, field and value, and the import stores nothing.
* Without ``[weights]``, a column named ``weight`` is refused: counting a register that
  gives weights one voter, one vote, because the definition forgot to say so, would be a
  silent wrong result. Rename or drop the column, or declare ``[weights]``.

The weight is kept with the entry's other fields as its canonical text (``2.50`` is kept as
``2.5``), so it is in the register's fingerprint and a change to it is a recorded change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from tallyroom.count.weighting import parse_weight
from tallyroom.election import ElectionDefinition
from tallyroom.errors import InputError

__all__ = ["WEIGHT_FIELD", "amended_weight", "canonical_weight", "weight_column", "weight_of"]

WEIGHT_FIELD = "weight"
"""The key of the weight in an entry's stored fields."""

Report = Callable[[int | None, str | None, str, object], None]


def canonical_weight(value: Decimal) -> str:
    """A weight as stored: plain decimal text, no exponent, no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def weight_column(
    definition: ElectionDefinition, index: Mapping[str, int], header_line: int, problem: Report
) -> int | None:
    """The index of the weight column in the header, or ``None`` when the election is not
    weighted; a missing column (or a weight column in an unweighted election) is a problem."""
    weights = definition.weights
    if weights is None:
        if WEIGHT_FIELD in index:
            problem(
                header_line,
                WEIGHT_FIELD,
                "the election's definition declares no [weights], so a weight column would "
                "be ignored: declare [weights] or remove the column",
                WEIGHT_FIELD,
            )
        return None
    if weights.column not in index:
        problem(
            header_line,
            WEIGHT_FIELD,
            "no such column in the header (the definition's [weights] names it)",
            weights.column,
        )
        return None
    return index[weights.column]


def weight_of(cell: str, definition: ElectionDefinition, line: int, problem: Report) -> str | None:
    """The cell's weight as canonical text, or ``None`` after reporting what is wrong."""
    weights = definition.weights
    assert weights is not None
    try:
        return canonical_weight(parse_weight(cell, weights.decimal_places))
    except ValueError as exc:
        problem(line, WEIGHT_FIELD, str(exc), cell.strip())
        return None


def amended_weight(definition: ElectionDefinition, changes: Mapping[str, str]) -> str:
    """The weight an amendment gives an entry, checked as an imported one is (canonical
    text), or :class:`InputError` naming the field and value."""
    given = changes[WEIGHT_FIELD]
    if definition.weights is None:
        raise InputError(
            "the election's definition declares no [weights]", field=WEIGHT_FIELD, value=given
        )
    try:
        return canonical_weight(parse_weight(given, definition.weights.decimal_places))
    except ValueError as exc:
        raise InputError(str(exc), field=WEIGHT_FIELD, value=given) from None
