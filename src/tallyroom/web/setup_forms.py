"""The set-up forms' fields <-> the definition document, and the reader's problems -> fields.

The forms hold text as a secretary types it; this module turns it into the document the TOML
reader reads (:mod:`tallyroom.election.toml_text`), and back for editing. It judges nothing
itself beyond the size of what it was sent: every other check is the reader's, whose problems
(``contests[1].seats: more seats than candidates``) are placed beside the field they name.

Lists typed one per line:

* sections: ``name | label`` (``branch | Branch members``);
* candidates: ``Name | group, group`` (``Ann Lee | women``), ``*`` before a name for the
  incumbent;
* constraints: ``at least 2 women`` or ``at most 3 men``;
* trustees (the verifiable path): one name a line, in the order that numbers them.

How ballots are kept (``ballots``): ``verifiable`` writes ``[verifiable]`` (the trustees, the
threshold, the mixers: :mod:`tallyroom.election.verifiable`), ``sealed`` removes it. A new
election's form offers the verifiable path first (issue 15: the default for new elections);
a form without the field leaves the definition's choice as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tallyroom.count.rules.registry import RULES
from tallyroom.election.definition import Problem
from tallyroom.election.toml_text import Document

__all__ = [
    "BALLOT_PATHS",
    "ELECTION_FIELDS",
    "MAX_FIELD",
    "TIMES",
    "FieldProblems",
    "contest_fields",
    "contest_table",
    "election_fields",
    "place",
    "rule_choices",
    "set_election",
    "too_long",
    "words",
]

MAX_FIELD = 20_000  # characters in one field: a long list of candidates, never megabytes
TIMES = ("nominations_open", "nominations_close", "ballot_open", "ballot_close")
ELECTION_FIELDS = (
    "name",
    "organisation",
    "timezone",
    *TIMES,
    "declaration",
    "sections",
    "statuses",
    "joined_on_or_before",
    "ballots",
    "trustees",
    "threshold",
    "mixers",
)
BALLOT_PATHS = ("verifiable", "sealed")
_CONSTRAINT = re.compile(r"^\s*at (least|most)\s+(\d+)\s+(.+?)\s*$", re.IGNORECASE)


@dataclass
class FieldProblems:
    """Problems placed by form field; ``other`` holds those no field of this form names."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)

    def add(self, name: str | None, text: str) -> None:
        if name is None:
            self.other.append(text)
        else:
            self.by_field.setdefault(name, []).append(text)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.other)

    def get(self, name: str) -> list[str]:
        return self.by_field.get(name, [])


def words(p: Problem) -> str:
    """A problem as a sentence for the page (a long value cut short)."""
    shown = "" if p.value is None else repr(p.value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{p.key}: {p.problem}" + (f" ({shown})" if shown else "")


def too_long(values: Mapping[str, str]) -> list[Problem]:
    """Fields past :data:`MAX_FIELD` characters (checked before anything reads them)."""
    return [
        Problem(k, f"is too long ({len(v):,} characters; at most {MAX_FIELD:,})")
        for k, v in values.items()
        if len(v) > MAX_FIELD
    ]


def rule_choices() -> list[dict[str, Any]]:
    """The rule registry's rules with the facts a secretary chooses by."""
    return [
        {
            "name": r.name,
            "summary": r.summary,
            "multi_seat": r.multi_seat,
            "constrainable": r.constrainable,
            "ballot": r.ballot.value,
        }
        for r in RULES.values()
    ]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")  # the reader reports the unknown zone itself


def _instant(text: str, zone: ZoneInfo) -> object:
    """A form's date and time on the election's clock; text the reader will refuse when it
    is not one (so that its message is the one shown)."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return text
    return value if value.utcoffset() is not None else value.replace(tzinfo=zone)


def _day(text: str) -> object:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _split(line: str) -> tuple[str, str]:
    head, _, tail = line.partition("|")
    return head.strip(), tail.strip()


def set_election(doc: Document, form: Mapping[str, str]) -> None:
    """The election form's values into ``doc`` (its contests are kept)."""
    zone_name = form.get("timezone", "").strip() or "UTC"
    zone = _zone(zone_name)
    election: dict[str, Any] = {"name": form.get("name", ""), "timezone": zone_name}
    if form.get("organisation", "").strip():
        election["organisation"] = form["organisation"]
    doc["election"] = election
    timetable = {k: v for k in TIMES if (v := _instant(form.get(k, ""), zone)) is not None}
    declared = _day(form.get("declaration", ""))
    if declared is not None:
        timetable["declaration"] = declared
    doc["timetable"] = timetable
    sections = []
    for line in _lines(form.get("sections", "")):
        name, label = _split(line)
        sections.append({"name": name, "label": label or name})
    doc["sections"] = sections
    statuses = [s.strip() for s in form.get("statuses", "").split(",") if s.strip()]
    eligibility: dict[str, Any] = {"statuses": statuses or ["active"]}
    joined = _day(form.get("joined_on_or_before", ""))
    if joined is not None:
        eligibility["sections"] = {
            s["name"]: {"joined_on_or_before": joined} for s in sections if s["name"]
        }
    doc["eligibility"] = eligibility
    _set_ballots(doc, form)
    # a contest voted on by every section follows the sections as they change
    names = [s["name"] for s in sections]
    for contest in doc.get("contests", []):
        if contest.get("sections") is not None:
            contest["sections"] = [s for s in contest["sections"] if s in names] or names


def _set_ballots(doc: Document, form: Mapping[str, str]) -> None:
    """The ballot path's fields into ``doc``: ``[verifiable]`` written or removed (a form
    without ``ballots`` leaves it); a threshold that is not a whole number is passed on as
    text for the reader to name."""
    path = form.get("ballots")
    if path is None:
        return
    if path != "verifiable":
        doc.pop("verifiable", None)
        return
    verifiable: dict[str, Any] = {"trustees": _lines(form.get("trustees", ""))}
    threshold = form.get("threshold", "").strip()
    if threshold:
        verifiable["threshold"] = int(threshold) if threshold.isdigit() else threshold
    mixers = _lines(form.get("mixers", ""))
    if mixers:
        verifiable["mixers"] = mixers
    doc["verifiable"] = verifiable


def _local(value: object, zone: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    return "" if value is None else str(value)


def election_fields(doc: Document) -> dict[str, str]:
    """The election form's values for ``doc`` (times on the election's clock)."""
    election = doc.get("election", {})
    zone_name = str(election.get("timezone", "UTC"))
    zone = _zone(zone_name)
    timetable = doc.get("timetable", {})
    eligibility = doc.get("eligibility", {})
    per = eligibility.get("sections", {})
    joined = next((v.get("joined_on_or_before") for v in per.values() if v), None)
    return {
        "name": str(election.get("name", "")),
        "organisation": str(election.get("organisation", "")),
        "timezone": zone_name,
        **{k: _local(timetable.get(k), zone) for k in TIMES},
        "declaration": _local(timetable.get("declaration"), zone),
        "sections": "\n".join(
            f"{s.get('name', '')} | {s.get('label', '')}" for s in doc.get("sections", [])
        ),
        "statuses": ", ".join(eligibility.get("statuses", ["active"])),
        "joined_on_or_before": _local(joined, zone),
        **_ballot_fields(doc),
    }


def _ballot_fields(doc: Document) -> dict[str, str]:
    verifiable = doc.get("verifiable")
    if verifiable is None:
        return {"ballots": "sealed", "trustees": "", "threshold": "", "mixers": ""}
    return {
        "ballots": "verifiable",
        "trustees": "\n".join(str(t) for t in verifiable.get("trustees", [])),
        "threshold": str(verifiable.get("threshold", "")),
        "mixers": "\n".join(str(m) for m in verifiable.get("mixers", [])),
    }


def contest_table(form: Mapping[str, str], sections: list[str]) -> dict[str, Any]:
    """A contest form's values as the ``[[contests]]`` table the reader reads."""
    table: dict[str, Any] = {"name": form.get("contest_name", "").strip()}
    if form.get("title", "").strip():
        table["title"] = form["title"].strip()
    table["rule"] = form.get("rule", "").strip()
    seats = form.get("seats", "").strip() or "1"
    table["seats"] = int(seats) if re.fullmatch(r"-?\d{1,9}", seats) else seats
    candidates = []
    for line in _lines(form.get("candidates", "")):
        name, groups = _split(line)
        entry: dict[str, Any] = {"name": name.lstrip("*").strip()}
        if name.startswith("*"):
            entry["incumbent"] = True
        if groups:
            entry["groups"] = [g.strip() for g in groups.split(",") if g.strip()]
        candidates.append(entry)
    table["candidates"] = candidates
    constraints: list[dict[str, Any]] = []
    for line in _lines(form.get("constraints", "")):
        m = _CONSTRAINT.match(line)
        if m is None:  # the reader names it: a group with no bound
            constraints.append({"group": line})
            continue
        bound = "minimum" if m.group(1).lower() == "least" else "maximum"
        constraints.append({"group": m.group(3), bound: int(m.group(2))})
    if constraints:
        table["constraints"] = constraints
    voting = [s for s in sections if form.get(f"section:{s}") == "yes"]
    if voting and voting != sections:
        table["sections"] = voting
    body = form.get("nominating_body", "").strip()
    if body:
        nominations: dict[str, Any] = {"body": body}
        for key in ("body_size", "absolute"):
            text = form.get(key, "").strip()
            nominations[key] = int(text) if text.isdigit() else text or 0
        table["nominations"] = nominations
    return table


def contest_fields(table: Mapping[str, Any], sections: list[str]) -> dict[str, str]:
    """A contest form's values for the ``[[contests]]`` ``table`` (for editing)."""
    lines = []
    for c in table.get("candidates", []):
        groups = ", ".join(c.get("groups", []))
        star = "*" if c.get("incumbent") else ""
        lines.append(f"{star}{c.get('name', '')}" + (f" | {groups}" if groups else ""))
    constraints = []
    for g in table.get("constraints", []):
        if g.get("minimum"):
            constraints.append(f"at least {g['minimum']} {g.get('group', '')}")
        if g.get("maximum") is not None:
            constraints.append(f"at most {g['maximum']} {g.get('group', '')}")
    nominations = table.get("nominations", {})
    voting = table.get("sections", sections)
    return {
        "contest_name": str(table.get("name", "")),
        "title": str(table.get("title", "")),
        "rule": str(table.get("rule", "")),
        "seats": str(table.get("seats", 1)),
        "candidates": "\n".join(lines),
        "constraints": "\n".join(constraints),
        "nominating_body": str(nominations.get("body", "")),
        "body_size": str(nominations.get("body_size", "")),
        "absolute": str(nominations.get("absolute", "")),
        **{f"section:{s}": "yes" if s in voting else "" for s in sections},
    }


_ELECTION_KEYS = (
    ("election.name", "name"),
    ("election.organisation", "organisation"),
    ("election.timezone", "timezone"),
    *((f"timetable.{k}", k) for k in (*TIMES, "declaration")),
    ("timetable", "ballot_close"),
    ("sections", "sections"),
    ("eligibility", "statuses"),
    ("verifiable.trustees", "trustees"),
    ("verifiable.threshold", "threshold"),
    ("verifiable.mixers", "mixers"),
    ("verifiable", "ballots"),
    ("slug", "slug"),
    ("passphrase", "passphrase"),
)
_CONTEST_KEYS = (
    ("name", "contest_name"),
    ("title", "title"),
    ("rule", "rule"),
    ("seats", "seats"),
    ("candidates", "candidates"),
    ("constraints", "constraints"),
    ("ballot_rules", "constraints"),
    ("sections", "sections"),
    ("nominations", "nominating_body"),
)


def _field(key: str, table: tuple[tuple[str, str], ...]) -> str | None:
    for prefix, name in table:
        if key == prefix or key.startswith((prefix + ".", prefix + "[")):
            return name
    return None


def place(problems: list[Problem], contest: int | None = None) -> FieldProblems:
    """Each problem beside its field: the election form's, or (``contest`` given) the
    fields of that contest's form; the rest in ``other``."""
    out = FieldProblems()
    direct = {*ELECTION_FIELDS, *(name for _, name in _CONTEST_KEYS), "slug", "passphrase"}
    for p in problems:
        text = words(p)
        if p.key in direct:  # a form field's own name (too_long)
            out.add(p.key, text)
            continue
        if contest is not None:
            prefix = f"contests[{contest}]"
            if p.key == prefix or p.key.startswith(prefix + "."):
                inner = p.key[len(prefix) + 1 :]
                out.add(_field(inner, _CONTEST_KEYS), text)
                continue
            if p.key.startswith("contests[") and p.key.endswith(".name"):
                out.add("contest_name", text)  # a name the same as another contest's
                continue
        out.add(_field(p.key, _ELECTION_KEYS), text)
    return out
