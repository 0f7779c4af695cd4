"""An election's timetable as its public page shows it: each step in the election's time zone,
whether it is past, and where the poll stands ("open now: closes in 3 days").

The timetable is the plan the definition gives; the lifecycle (``ElectionState``) is what has
happened. The page shows both: each step's time and whether that time has passed, and, while
the poll is open, how long is left before the timetable closes it. Relative times ("in 3
days", "ymhen 3 diwrnod") and dates are worded by Babel for the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from babel.dates import format_timedelta

from tallyroom.election import ElectionDefinition
from tallyroom.election.lifecycle import ElectionState
from tallyroom.web.locale_format import CLDR_LOCALES, day, moment

__all__ = ["Step", "poll_status", "timetable_steps"]


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the timetable: ``key`` names the step (the template words it), ``when``
    its time as people read it, ``past`` whether that time has gone by."""

    key: str
    when: str
    past: bool


def timetable_steps(
    definition: ElectionDefinition, locale: str, now: datetime | None = None
) -> list[Step]:
    """Nominations open and close, the poll opens and closes, the declaration (a day)."""
    at = now or datetime.now(UTC)
    tt = definition.timetable
    zone = definition.timezone
    steps = [
        Step(key, moment(when, zone, locale), when <= at)
        for key, when in (
            ("nominations_open", tt.nominations_open),
            ("nominations_close", tt.nominations_close),
            ("ballot_open", tt.ballot_open),
            ("ballot_close", tt.ballot_close),
        )
    ]
    if tt.declaration is not None:
        steps.append(Step("declaration", day(tt.declaration, locale), tt.declaration < at.date()))
    return steps


def poll_status(
    definition: ElectionDefinition, state: ElectionState, locale: str, now: datetime | None = None
) -> dict[str, str] | None:
    """While the poll is open: ``{"closes_in": "in 3 days", "closes": <time>}``; else
    ``None``. A poll the officer has not closed after the timetable's close says ``overdue``."""
    if state is not ElectionState.OPEN:
        return None
    at = now or datetime.now(UTC)
    closes = definition.timetable.ballot_close
    return {
        "closes": moment(closes, definition.timezone, locale),
        "closes_in": format_timedelta(
            closes - at, locale=CLDR_LOCALES.get(locale, "en_GB"), add_direction=True
        ),
        "overdue": "yes" if closes <= at else "",
    }
