"""What observers look for on the results page, read from the published declaration: the rule
and its page, the quota and how it was computed, the non-transferable (exhausted) ballots
round by round, and when the result was declared.

Everything here is read from the declaration document (``report`` is RCTab's detailed report:
each round's ``threshold`` and cumulative ``inactiveBallots``) and the election's definition;
nothing is counted again. Figures stay the exact decimal strings the count published.

The quota: the count records the threshold it used, not the formula. :func:`quota_of` tries
the published formulas against the first round's valid votes and seats and names the one that
gives exactly the recorded threshold (Droop: ``floor(V / (S + 1)) + 1``; a majority, its
one-seat case; the exact Droop ``V / (S + 1)`` rounded down or up to the rule's places; Hare
``V / S``; the PR Foundation's ``V / (S + 1) + 0.0001``); when none does, the page gives the
threshold as the rule computed it and sends the reader to the rule's page, rather than a
formula that is not the one used.

The declaration time: the store records when the declaration was made. An election run after
its own timetable (a historical election replayed, such as the 2016 demo) would show the day
it was replayed; :func:`declared_when` shows the timetable's declaration day instead, and says
when this copy was declared, so neither date is passed off as the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from tallyroom.count.rules.registry import RULES, BallotKind
from tallyroom.election import ElectionDefinition
from tallyroom.web.locale_format import day, moment, parse_instant

__all__ = [
    "RULE_PAGES",
    "DeclaredWhen",
    "Quota",
    "declared_when",
    "exhausted_by_round",
    "quota_of",
    "rule_facts",
]

# the documentation page of each rule (docs/rules/<page>.md); the block vote and plurality
# have none of their own: their page says all there is
RULE_PAGES = {
    "irv": "rctab",
    "stv": "rctab",
    "scottish-stv": "scottish-stv",
    "wigm": "wigm",
    "wigm-prf": "wigm-prf",
    "minneapolis": "minneapolis",
    "cfer": "cfer",
    "qpq": "qpq",
    "ers97": "ers97",
    "meek": "meek",
    "meek-prf": "meek-prf",
    "warren": "warren",
    "wright": "wright",
    "irish-dail": "irish-dail",
    "supplementary-vote": "supplementary-vote",
    "college": "college",
}


@dataclass(frozen=True, slots=True)
class Quota:
    """The first round's threshold and the formula that gives it (``kind``: ``droop``,
    ``majority``, ``droop-exact`` (rounded down to ``places``), ``droop-up`` (rounded up),
    ``hare``, ``prf`` or ``rule`` when no formula matched).
    ``changes``: the threshold differs between rounds (the table has each round's)."""

    kind: str
    value: str
    votes: str
    seats: int
    divisor: int
    changes: bool
    places: int = 0  # the decimal places a rounded formula keeps


@dataclass(frozen=True, slots=True)
class DeclaredWhen:
    """When the result was declared, as the page states it. ``timetable_day`` is set when the
    declaration was made after the day the election's timetable gives (a historical election
    run again): the page shows that day, and ``recorded`` as when this copy was declared."""

    recorded: str
    timetable_day: str | None


def _decimal(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _rounds(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rounds: list[Mapping[str, Any]] = list(report.get("results", []))
    return rounds


def quota_of(rule: str, seats: int, report: Mapping[str, Any]) -> Quota | None:
    """The quota of a count whose rule uses one (``None`` for plurality and the block vote,
    or a report without thresholds)."""
    known = RULES.get(rule)
    if known is not None and known.ballot is not BallotKind.RANKED:
        return None
    rounds = _rounds(report)
    if not rounds:
        return None
    thresholds = [_decimal(r.get("threshold")) for r in rounds]
    first = thresholds[0]
    if first is None or first <= 0:
        return None
    votes = sum(
        (_decimal(v) or Decimal(0) for v in rounds[0].get("tally", {}).values()), Decimal(0)
    )
    s = max(1, seats)
    kind = "rule"
    shown = 0
    if first == (votes / (s + 1)).to_integral_value(rounding=ROUND_DOWN) + 1:
        kind = "majority" if s == 1 else "droop"
    else:
        for places in range(10):
            step = Decimal(1).scaleb(-places)
            if first == (votes / (s + 1)).quantize(step, rounding=ROUND_DOWN):
                kind = "droop-exact"
            elif places == 4 and first == (votes / (s + 1)).quantize(step, ROUND_DOWN) + step:
                kind = "prf"  # (where it equals the rounded-up Droop, both are true)
            elif first == (votes / (s + 1)).quantize(step, rounding=ROUND_UP):
                kind = "droop-up"
            elif first == (votes / s).quantize(step, rounding=ROUND_DOWN):
                kind = "hare"
            if kind != "rule":
                shown = places
                break
    return Quota(
        kind=kind,
        value=_plain(first),
        votes=_plain(votes),
        seats=s,
        divisor=s + 1 if kind != "hare" else s,
        places=shown,
        changes=len({t for t in thresholds if t is not None}) > 1,
    )


def exhausted_by_round(report: Mapping[str, Any]) -> list[str]:
    """The ballots counting for nobody at each round (cumulative, every reason: exhausted
    preferences, overvotes, skipped or repeated rankings), as exact decimal strings."""
    out = []
    for rnd in _rounds(report):
        inactive = rnd.get("inactiveBallots", {})
        total = sum((_decimal(v) or Decimal(0) for v in inactive.values()), Decimal(0))
        out.append(_plain(total))
    return out


def rule_facts(rule: str) -> dict[str, Any]:
    """The rule's name, its one-line summary and its page, for the results and ballot pages."""
    known = RULES.get(rule)
    return {
        "name": rule,
        "summary": known.summary if known is not None else rule,
        "page": f"/rules/{rule}",
        "kind": known.ballot.value if known is not None else "ranked",
        "max_marks": known.max_marks if known is not None else None,
    }


def declared_when(declared_at: str, definition: ElectionDefinition, locale: str) -> DeclaredWhen:
    """The declaration's time in the election's time zone, and the timetable's declaration day
    when the declaration was made after it (see the module docstring)."""
    when = parse_instant(declared_at)
    recorded = moment(when, definition.timezone, locale)
    planned = definition.timetable.declaration
    local_day = when.astimezone(ZoneInfo(definition.timezone)).date()
    if planned is not None and local_day > planned:
        return DeclaredWhen(recorded=recorded, timetable_day=day(planned, locale))
    return DeclaredWhen(recorded=recorded, timetable_day=None)


def round_rows(rounds: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each round's threshold as published ("" where the report gives none)."""
    return [str(r.get("threshold", "")) for r in rounds]
