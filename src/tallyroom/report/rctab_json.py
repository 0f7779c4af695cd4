"""A :class:`Count` as RCTab's detailed report JSON (``jsonFormatVersion`` "1").

The schema is the one RCTab writes and the rcvis visualiser reads (see ``docs/formats.md``):
decimals are JSON strings, keys sorted, one ``results`` entry per round whose
``tallyResults`` lists the decisions taken at the end of that round with their transfers,
``inactiveBallots`` cumulative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tallyroom import __version__
from tallyroom.count.record import Count, Round, SliceCount

__all__ = ["ReportLabels", "count_to_json"]


@dataclass(frozen=True, slots=True)
class ReportLabels:
    """The contest's descriptive labels, as in RCTab's ``config`` block."""

    contest: str = ""
    date: str = ""
    jurisdiction: str = ""
    office: str = ""


def _rounds_json(count: Count, rounds: tuple[Round, ...]) -> list[dict[str, Any]]:
    fmt = count.scale.format_plain
    out: list[dict[str, Any]] = []
    for rnd in rounds:
        results: list[dict[str, Any]] = []
        for d in rnd.decisions:
            results.append(
                {d.kind.value: d.candidate, "transfers": {t: fmt(v) for t, v in d.transfers}}
            )
        out.append(
            {
                "inactiveBallots": {r.value: fmt(v) for r, v in rnd.inactive},
                "round": rnd.number,
                "tally": {name: fmt(v) for name, v in rnd.tally},
                "tallyResults": results,
                "threshold": fmt(rnd.threshold) if rnd.threshold is not None else "0",
            }
        )
    return out


def count_to_json(
    count: Count,
    labels: ReportLabels,
    *,
    seats: int | None = None,
    slice_count: SliceCount | None = None,
) -> dict[str, Any]:
    """The detailed report of ``count`` (or of one of its precinct/batch slices)."""
    fmt = count.scale.format_plain
    config: dict[str, Any] = {
        "contest": labels.contest,
        "date": labels.date,
        "generatedBy": f"tallyroom {__version__}",
        "jurisdiction": labels.jurisdiction,
        "office": labels.office,
    }
    rounds = count.rounds
    total, under = count.total_ballots, count.undervotes
    if slice_count is not None:
        config[slice_count.kind] = slice_count.name
        rounds = slice_count.rounds
        total, under = slice_count.total_ballots, slice_count.undervotes
    final = count.final_threshold
    return {
        "config": config,
        "jsonFormatVersion": "1",
        "results": _rounds_json(count, rounds),
        "summary": {
            "finalThreshold": fmt(final) if final is not None else "0",
            "numCandidates": len(count.candidates),
            "numWinners": count.seats if seats is None else seats,
            "totalNumBallots": str(total),
            "undervotes": under,
        },
    }
