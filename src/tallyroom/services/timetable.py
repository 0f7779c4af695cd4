"""The timetable that holds: extensions with a reason, and the poll opened and closed on time.

* :func:`extend` moves ``ballot_close`` (until the poll is closed) or ``nominations_close``
  (until nominations are closed) **later**, never earlier, with a reason: the definition is
  changed through the one reader's checks and the audit log records the old and the new time
  and the reason (a ``definition`` event: its digest is what ``audit verify`` checks the
  stored definition against). The public page shows the new close, since it reads the
  definition.
* :func:`run_schedule` is what ``serve`` runs every ``schedule_interval`` seconds: an
  election whose credentials are issued is opened once ``ballot_open`` has come (and
  ``ballot_close`` has not), an open poll is closed once ``ballot_close`` has passed, each
  through the same service calls as the officer's command, logged with actor ``schedule``
  and the timetable's time as the reason. Nominations are closed by the officer (a paper
  received after ``nominations_close`` is kept as late in any case).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

from tallyroom.election.reader import parse_definition
from tallyroom.election.toml_text import read_document, write_document
from tallyroom.errors import ConfigError, InputError, LifecycleError, TallyroomError
from tallyroom.services import polling
from tallyroom.services.elections import definition_of, get_election, list_elections
from tallyroom.store import ElectionState, Store, elections
from tallyroom.store.elections import states_before

__all__ = [
    "SCHEDULE_ACTOR",
    "Extension",
    "Moment",
    "ScheduledStep",
    "extend",
    "instant_in",
    "run_schedule",
]

log = logging.getLogger("tallyroom.schedule")
SCHEDULE_ACTOR = "schedule"


class Moment(Enum):
    """A close the officer may extend, and the state from which it can no longer move."""

    BALLOT_CLOSE = "ballot_close"
    NOMINATIONS_CLOSE = "nominations_close"

    @property
    def until_state(self) -> ElectionState:
        if self is Moment.BALLOT_CLOSE:
            return ElectionState.CLOSED
        return ElectionState.NOMINATIONS_CLOSED


def instant_in(text: str, timezone: str, *, field: str = "until") -> datetime:
    """``text`` (ISO 8601: ``2026-03-01T17:00``, with or without an offset) as an instant; a
    time without an offset is on the election's clock (``timezone``)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            "not a date and time (write 2026-03-01T17:00, or with an offset)",
            field=field,
            value=text,
        ) from None
    if value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


@dataclass(frozen=True, slots=True)
class Extension:
    """A close moved later: which one, from when, to when, and why."""

    slug: str
    moment: Moment
    old: datetime
    new: datetime
    reason: str

    def render(self) -> str:
        return (
            f"{self.slug}: {self.moment.value} moved from {self.old.isoformat()} to "
            f"{self.new.isoformat()} ({self.reason})"
        )


def extend(
    store: Store,
    slug: str,
    moment: Moment,
    until: datetime,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Extension:
    """Move ``moment`` to ``until`` (later than now and than the current time), logged with
    ``reason``. Refused, nothing changed, once the period has ended in the lifecycle (the
    poll closed, nominations closed), for an earlier time, or without a reason."""
    if not reason.strip():
        raise InputError("an extension needs a reason", field="reason", value=reason)
    if until.utcoffset() is None:
        raise InputError("the new time needs a UTC offset", field="until", value=until.isoformat())
    record = get_election(store, slug)
    allowed = states_before(moment.until_state)
    if record.state not in allowed:  # said first: the period is over, whatever the time
        raise LifecycleError(
            f"cannot extend {moment.value} while the election is {record.state.words}",
            election=slug,
        )
    old: datetime = getattr(definition_of(record).timetable, moment.value)
    when = now or datetime.now(UTC)
    if until <= old:
        raise InputError(
            f"must be later than the current {moment.value} ({old.isoformat()})",
            field="until",
            value=until.isoformat(),
        )
    if until <= when:
        raise InputError(
            f"must be in the future (it is now {when.astimezone(old.tzinfo).isoformat()})",
            field="until",
            value=until.isoformat(),
        )
    doc = read_document(record.definition)
    doc.setdefault("timetable", {})[moment.value] = until.astimezone(old.tzinfo)
    text = write_document(doc)
    try:
        parse_definition(text, path=Path(f"{slug}.toml"))
    except ConfigError as exc:  # a declaration day before the new close, say
        raise InputError(f"the timetable would not hold: {exc}", field="until") from None
    with store.begin() as conn:
        elections.amend_definition(
            conn,
            record.id,
            text,
            *allowed,
            doing=f"extend {moment.value}",
            actor=actor,
            reason=reason.strip(),
            payload={
                "timetable": {
                    moment.value: {"old": old.isoformat(), "new": until.isoformat()},
                }
            },
        )
    return Extension(slug, moment, old, until, reason.strip())


@dataclass(frozen=True, slots=True)
class ScheduledStep:
    """What the schedule did (or tried) for one election."""

    slug: str
    step: str
    problem: str | None = None


def run_schedule(store: Store, now: datetime | None = None) -> list[ScheduledStep]:
    """Open and close every poll whose time has come (see the module docstring). A refusal
    (no ballot key, another worker got there first) is logged and reported, never raised."""
    when = now or datetime.now(UTC)
    done: list[ScheduledStep] = []
    for record in list_elections(store):
        if record.state not in (ElectionState.CREDENTIALS_ISSUED, ElectionState.OPEN):
            continue
        tt = definition_of(record).timetable
        try:
            if record.state is ElectionState.CREDENTIALS_ISSUED and tt.ballot_open <= when:
                if when > tt.ballot_close:
                    continue  # a poll that never opened is the officer's to explain
                reason = f"scheduled: ballot_open {tt.ballot_open.isoformat()}"
                polling.open_voting(
                    store, record.slug, actor=SCHEDULE_ACTOR, reason=reason, now=when
                )
                done.append(ScheduledStep(record.slug, "open"))
            elif record.state is ElectionState.OPEN and when >= tt.ballot_close:
                reason = f"scheduled: ballot_close {tt.ballot_close.isoformat()}"
                polling.close_voting(store, record.slug, actor=SCHEDULE_ACTOR, reason=reason)
                done.append(ScheduledStep(record.slug, "close"))
        except LifecycleError as exc:  # another worker's schedule moved it first
            done.append(ScheduledStep(record.slug, "none", str(exc)))
        except TallyroomError as exc:
            log.error("election %s: the schedule could not act: %s", record.slug, exc)
            done.append(ScheduledStep(record.slug, "none", str(exc)))
        else:
            if done and done[-1].slug == record.slug:
                log.warning("election %s: poll %s on schedule", record.slug, done[-1].step)
    return done
