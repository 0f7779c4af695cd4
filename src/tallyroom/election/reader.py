"""Reading an election definition from its TOML file (see :mod:`.definition` for the records).

Every problem in a file is collected and reported at once, each naming its key path (such as
``contests[0].seats``) and the bad value; misspelt keys are errors; TOML syntax errors give
their line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tallyroom.count.rules.motion import ChoiceSet, MotionRule, Quorum, Threshold, ThresholdBase
from tallyroom.count.rules.units import Combine, UnitBase, UnitGroup, UnitsRule
from tallyroom.election.definition import (
    DEFAULT_MIN_PUBLISHED_SIZE,
    DEFAULT_STATUSES,
    BallotRequirement,
    Candidate,
    College,
    Contest,
    E,
    ElectionDefinition,
    GroupConstraint,
    PreviousContest,
    Problem,
    Section,
    T,
    Timetable,
    Turnout,
    TurnoutBasis,
    _check_contest,
    _check_timetable,
    _cross_problems,
    _error,
    _join,
    _zone,
)
from tallyroom.election.eligibility import Cutoff, EligibilityRules, PersonId, SectionRule, Window
from tallyroom.election.motion import Motion
from tallyroom.election.names import name_problem
from tallyroom.election.nominations import (
    AbsoluteThreshold,
    NominationRule,
    Rounding,
    ShareThreshold,
)
from tallyroom.election.verifiable import Verifiable, trustee_problems, verifiable_problems
from tallyroom.election.weights import Weights, weight_problems
from tallyroom.errors import ConfigError

__all__ = ["definition_problems", "load_definition", "parse_definition", "read_exclusion_list"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _shown(value: object) -> object:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


class _Table:
    """One TOML table being read: typed getters that record problems, and the keys used."""

    def __init__(self, problems: list[Problem], data: Mapping[str, Any], key: str) -> None:
        self.problems = problems
        self.data = data
        self.key = key
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return _join(self.key, key if _BARE_KEY.fullmatch(key) or not key else f'"{key}"')

    def fail(self, key: str, problem: str, value: object = None) -> None:
        self.problems.append(Problem(self.where(key), problem, _shown(value)))

    def raw(self, key: str) -> Any:
        self.used.add(key)
        return self.data.get(key)

    def finish(self) -> None:
        """Report the keys nobody asked for: most often a misspelling."""
        for k in self.data:
            if k not in self.used:
                self.fail(k, "unknown key")

    def text(self, key: str, default: str | None = None) -> str | None:
        v = self.raw(key)
        if v is None and default is None:
            self.fail(key, "is required")
        if v is None:
            return default
        if isinstance(v, str) and v.strip():
            # every text is shown somewhere: names, titles and labels above all (.names)
            bad = name_problem(v.strip())
            if bad is None:
                return v.strip()
            self.fail(key, bad, v)
            return None
        self.fail(key, "must be non-empty text", v)
        return None

    def integer(self, key: str, default: int | None, *, low: int | None = 0) -> int | None:
        v = self.raw(key)
        if v is None:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(key, "must be a whole number", v)
        elif low is not None and v < low:
            self.fail(key, f"must be at least {low}", v)
        else:
            return v
        return None

    def flag(self, key: str, default: bool) -> bool:
        v = self.raw(key)
        if v is not None and not isinstance(v, bool):
            self.fail(key, "must be true or false", v)
        return v if isinstance(v, bool) else default

    def strings(self, key: str) -> tuple[str, ...] | None:
        v = self.raw(key)
        if v is None:
            return None
        if not isinstance(v, list) or not all(isinstance(s, str) and s.strip() for s in v):
            self.fail(key, "must be a list of non-empty text", v)
        elif len(set(v)) != len(v):
            self.fail(key, "lists a name twice", v)
        else:
            return tuple(v)
        return None

    def choice(self, key: str, kind: type[E], default: E | None) -> E | None:
        v = self.raw(key)
        if v is None and default is None:
            self.fail(key, "is required")
        if v is None:
            return default
        for member in kind:
            if member.value == v:
                return member
        self.fail(key, f"must be one of {', '.join(repr(m.value) for m in kind)}", v)
        return None

    def percent(self, key: str) -> Decimal | None:
        """A percentage written as text, "20%": exact, where a TOML float would not be."""
        v = self.raw(key)
        if v is None:
            return None
        d = Decimal("NaN")
        if isinstance(v, str) and v.strip().endswith("%"):
            with contextlib.suppress(InvalidOperation):
                d = Decimal(v.strip()[:-1])
        if d.is_finite() and 0 <= d <= 100:
            return d
        self.fail(key, 'must be a percentage written as text, such as "20%"', v)
        return None

    def when(self, key: str, *, days: bool, instants: bool) -> date | datetime | None:
        """A TOML date or offset date-time (or the same as ISO 8601 text), as allowed."""
        v = self.raw(key)
        if isinstance(v, str):
            with contextlib.suppress(ValueError):
                v = date.fromisoformat(v) if len(v) == 10 else datetime.fromisoformat(v)
        if v is None:
            return None
        if isinstance(v, datetime):
            if instants and v.utcoffset() is not None:
                return v
            if instants:
                self.fail(key, "needs a UTC offset, such as 2016-07-20T17:00:00+01:00", v)
                return None
        elif isinstance(v, date) and days:
            return v
        wanted = " or ".join(w for w, ok in (("a date", days), ("a date-time", instants)) if ok)
        self.fail(key, f"must be {wanted}", v)
        return None

    def instant(self, key: str) -> datetime | None:
        v = self.when(key, days=False, instants=True)
        if v is None and key not in self.data:
            self.fail(key, "is required")
        return v if isinstance(v, datetime) else None

    def day(self, key: str) -> date | None:
        v = self.when(key, days=True, instants=False)
        return v if isinstance(v, date) and not isinstance(v, datetime) else None

    def table(self, key: str, *, required: bool = False) -> _Table | None:
        v = self.raw(key)
        if v is None and required:
            self.fail(key, "is required")
        elif v is not None and not isinstance(v, dict):
            self.fail(key, "must be a table", v)
        elif v is not None:
            return _Table(self.problems, v, self.where(key))
        return None

    def tables(self, key: str) -> list[_Table]:
        v = self.raw(key)
        if v is not None and not isinstance(v, list):
            self.fail(key, "must be an array of tables ([[...]])", v)
            return []
        out = []
        for i, item in enumerate(v or []):
            where = f"{self.where(key)}[{i}]"
            if isinstance(item, dict):
                out.append(_Table(self.problems, item, where))
            else:
                self.problems.append(Problem(where, "must be a table", item))
        return out


def _build(
    t: _Table, check: Callable[..., list[Problem]] | None, make: type[T], **fields: Any
) -> T | None:
    """``make(**fields)``, unless a required field is missing (its problem is already recorded)
    or ``check`` or the record itself finds problems (recorded under the table's key)."""
    # None stands for a value that could not be read (and was reported) unless the field's
    # default is None
    needed = (f.name for f in dataclasses.fields(make) if f.default is not None)  # type: ignore[arg-type]
    if any(fields[name] is None for name in needed):
        return None
    found = check(**fields) if check is not None else []
    if not found:
        try:
            return make(**fields)
        except ConfigError as exc:
            found = [Problem(exc.field or "", exc.problem, _shown(exc.value))]
    t.problems.extend(Problem(_join(t.key, p.key), p.problem, p.value) for p in found)
    return None


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _upper(t: _Table, stem: str, zone: ZoneInfo) -> Cutoff | None:
    """``<stem>_on_or_before`` (inclusive) or ``<stem>_before`` (exclusive); a date is a day."""
    on_or_before = t.when(f"{stem}_on_or_before", days=True, instants=True)
    before = t.when(f"{stem}_before", days=True, instants=True)
    if on_or_before is not None and before is not None:
        t.fail(f"{stem}_before", f"give {stem}_on_or_before or {stem}_before, not both", before)
    elif isinstance(on_or_before, datetime):
        return Cutoff(on_or_before, inclusive=True)
    elif on_or_before is not None:  # the whole day: up to the start of the next
        return Cutoff(_start_of(on_or_before + timedelta(days=1), zone), inclusive=False)
    elif before is not None:
        at = before if isinstance(before, datetime) else _start_of(before, zone)
        return Cutoff(at, inclusive=False)
    return None


def _statuses(t: _Table) -> tuple[str, ...] | None:
    own = t.strings("statuses")
    if own == ():
        t.fail("statuses", "at least one status must be allowed to vote", [])
    return own or None


def _read_section_rule(
    t: _Table | None, section: str, statuses: tuple[str, ...], zone: ZoneInfo
) -> SectionRule | None:
    if t is None:
        return SectionRule(section, statuses)
    own = _statuses(t)
    freeze = _upper(t, "joined", zone)
    opens = t.when("registered_from", days=True, instants=True)
    if opens is not None and not isinstance(opens, datetime):
        opens = _start_of(opens, zone)
    closes = _upper(t, "registered", zone)
    t.finish()
    window = None
    if opens is not None and closes is not None and not closes.admits(opens):
        t.fail("registered_from", "is not before the registration closes", opens)
        return None
    if opens is not None or closes is not None:
        window = Window(opens, closes)
    return _build(
        t,
        None,
        SectionRule,
        section=section,
        statuses=own or statuses,
        freeze=freeze,
        registration=window,
    )


def _read_eligibility(
    top: _Table, declared: list[str], zone: ZoneInfo, base: Path
) -> EligibilityRules | None:
    t = top.table("eligibility") or _Table(top.problems, {}, "eligibility")
    statuses = _statuses(t) or DEFAULT_STATUSES
    names = list(dict.fromkeys(declared))
    precedence = t.strings("precedence") or tuple(names)
    ok = sorted(precedence) == sorted(names)
    if not ok:
        t.fail("precedence", f"must name each section once ({', '.join(names)})", precedence)
    exclusion: Path | None = None
    listed = t.text("exclusion_list", default="")
    if listed:
        exclusion = (base / listed).resolve()
        if not exclusion.is_file():
            t.fail("exclusion_list", "no such file", listed)
    per = t.table("sections") or _Table(top.problems, {}, "eligibility.sections")
    for k in per.data:
        if k not in names:
            per.fail(k, "is not a declared section")
    rules = [_read_section_rule(per.table(n), n, statuses, zone) for n in names]
    per.used.update(per.data)
    t.finish()
    if not ok or None in rules:
        return None
    return _build(
        t,
        None,
        EligibilityRules,
        sections=tuple(r for r in rules if r),
        precedence=precedence,
        exclusion_list=exclusion,
    )


def _read_nominations(t: _Table | None) -> NominationRule | None:
    if t is None:
        return None
    body = t.text("body")
    size = t.integer("body_size", None, low=1)
    if "body_size" not in t.data:
        t.fail("body_size", "is required")
    share = t.percent("share")
    absolute = t.integer("absolute", None, low=1)
    given = "rounding" in t.data or share is not None
    rounding = t.choice("rounding", Rounding, None) if given else None
    automatic = t.flag("incumbent_automatic", False)
    per_nominator = t.integer("per_nominator", 1, low=1)
    t.finish()
    threshold: ShareThreshold | AbsoluteThreshold | None = None
    if share is not None and absolute is not None:
        t.fail("absolute", "give share or absolute, not both", absolute)
    elif share == 0:
        t.fail("share", "must be above 0%", "0%")
    elif share is not None and rounding is not None:
        threshold = ShareThreshold(share, rounding)
    elif absolute is not None and rounding is not None:
        t.fail("rounding", "applies to a share only", rounding.value)
    elif absolute is not None:
        threshold = AbsoluteThreshold(absolute)
    elif "share" not in t.data and "absolute" not in t.data:
        t.fail("share", "give the threshold: share (with rounding) or absolute")
    return _build(
        t,
        None,
        NominationRule,
        body=body,
        body_size=size,
        threshold=threshold,
        incumbent_automatic=automatic,
        per_nominator=per_nominator,
    )


def _read_figures(t: _Table | None, read: Callable[[_Table, str], T | None]) -> list[tuple[str, T]]:
    """A table of candidate -> figure, in the file's order."""
    out: list[tuple[str, T]] = []
    if t is not None:
        for cand in t.data:
            v = read(t, cand)
            if v is not None:
                out.append((cand, v))
    return out


def _read_previous(t: _Table | None) -> PreviousContest | None:
    if t is None:
        return None
    name = t.text("name")
    held = t.day("date")
    shares = _read_figures(t.table("shares"), lambda s, k: s.percent(k))
    votes = _read_figures(t.table("votes"), lambda s, k: s.integer(k, None))
    valid = t.integer("valid_votes", None)
    turnout = t.percent("turnout")
    t.finish()
    return _build(
        t,
        None,
        PreviousContest,
        name=name,
        held=held,
        shares=tuple(shares),
        votes=tuple(votes),
        valid_votes=valid,
        turnout=turnout,
    )


def _read_contest(
    t: _Table, declared: list[str], default_rule: NominationRule | None
) -> Contest | None:
    name = t.text("name")
    title = t.text("title", default=name or "")
    rule = t.text("rule", default="motion" if "motion" in t.data else None)
    seats = t.integer("seats", 1, low=None)  # below 1: reported by the contest's own check
    voters = t.strings("sections")
    candidates = []
    for ct in t.tables("candidates"):
        cname, incumbent = ct.text("name"), ct.flag("incumbent", False)
        groups = ct.strings("groups") or ()
        ct.finish()
        if cname is not None:
            candidates.append(Candidate(cname, incumbent, groups))
    motion = _read_motion(t.table("motion"), t.table("units"))
    if motion is not None or "motion" in t.data:
        if "candidates" in t.data:
            t.fail("candidates", "a motion's answers are its choices; it takes no candidates")
        candidates = [Candidate(a) for a in motion.answers] if motion is not None else []
        default_rule = None  # a motion has no nominations
    elif "candidates" not in t.data:
        t.fail("candidates", "at least one candidate is needed")
    constraints = []
    for gt in t.tables("constraints"):
        group, minimum = gt.text("group"), gt.integer("minimum", 0)
        maximum = gt.integer("maximum", None)
        gt.finish()
        gc = _build(gt, None, GroupConstraint, group=group, minimum=minimum, maximum=maximum)
        if gc is not None:
            constraints.append(gc)
    ballot_rules = []
    for bt in t.tables("ballot_rules"):
        group, at_least = bt.text("group"), bt.integer("at_least", 0)
        at_most = bt.integer("at_most", None)
        bt.finish()
        br = _build(bt, None, BallotRequirement, group=group, at_least=at_least, at_most=at_most)
        if br is not None:
            ballot_rules.append(br)
    college = _read_college(t.table("college"))
    weighted = t.raw("weighted")
    if weighted is not None and not isinstance(weighted, bool):
        t.fail("weighted", "must be true or false", weighted)
        weighted = None
    own = t.table("nominations")
    nominations = _read_nominations(own) if own is not None else default_rule
    previous = _read_previous(t.table("previous"))
    t.finish()
    if voters is None:
        voters = tuple(dict.fromkeys(declared))
    return _build(
        t,
        _check_contest,
        Contest,
        name=name,
        title=title,
        rule=rule,
        seats=seats,
        candidates=tuple(candidates),
        sections=voters,
        constraints=tuple(constraints),
        nominations=nominations,
        previous=previous,
        ballot_rules=tuple(ballot_rules),
        college=college,
        weighted=weighted,
        motion=motion,
    )


_WEIGHT = re.compile(r"^\s*(\d+(/\d+)?|\d*\.\d+)\s*$")


def _read_college(t: _Table | None) -> College | None:
    """``[contests.college]``: ``weights`` (section = "1/3", exact text, never a float) and
    ``display_places``."""
    if t is None:
        return None
    places = t.integer("display_places", 3)
    raw = t.raw("weights")
    weights: list[tuple[str, Fraction]] = []
    if not isinstance(raw, dict) or not raw:
        t.fail("weights", 'is required: a table of section = "1/3"', raw)
    else:
        for section, text in raw.items():
            weight = None
            if isinstance(text, str) and _WEIGHT.match(text):
                with contextlib.suppress(ZeroDivisionError):
                    weight = Fraction(text.strip())
            if weight is None:
                where = _join(t.where("weights"), section)
                t.problems.append(
                    Problem(where, 'must be a fraction or decimal written as text ("1/3")', text)
                )
            else:
                weights.append((section, weight))
    t.finish()
    if len(weights) != len(raw or {}):
        return None
    return _build(t, None, College, weights=tuple(weights), display_places=places)


def _trustee_check(
    trustees: tuple[str, ...], threshold: int, mixers: tuple[str, ...]
) -> list[Problem]:
    """Every problem of ``[verifiable]`` at once, each under its own key."""
    return [Problem(k, p, _shown(v)) for k, p, v in trustee_problems(trustees, threshold, mixers)]


def _read_verifiable(t: _Table | None) -> Verifiable | None:
    """``[verifiable]``: the ``trustees`` (names), their ``threshold`` and the ``mixers``."""
    if t is None:
        return None
    trustees = t.strings("trustees")
    if trustees is None and "trustees" not in t.data:
        t.fail("trustees", "is required: the trustees' names")
    for name in trustees or ():
        bad = name_problem(name.strip())
        if bad is not None:
            t.fail("trustees", bad, name)
            trustees = None
    threshold = t.integer("threshold", None, low=1)
    if threshold is None and "threshold" not in t.data:
        t.fail("threshold", "is required: how many trustees must agree to decrypt")
    mixers = t.strings("mixers") if "mixers" in t.data else ()
    t.finish()
    if trustees is None or threshold is None or mixers is None:
        return None
    return _build(
        t,
        _trustee_check,
        Verifiable,
        trustees=tuple(n.strip() for n in trustees),
        threshold=threshold,
        mixers=tuple(n.strip() for n in mixers),
    )


def _read_weights(t: _Table | None) -> Weights | None:
    """``[weights]``: the register's weight ``column`` and the weights' ``decimal_places``."""
    if t is None:
        return None
    column = t.text("column", default="weight")
    places = t.integer("decimal_places", 0)
    t.finish()
    return _build(t, None, Weights, column=column, decimal_places=places)


_SHARE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_NAMED_SHARES = {"two-thirds": Fraction(2, 3), "three-quarters": Fraction(3, 4)}


def _share(t: _Table, key: str, *, named: bool = False) -> Fraction | None:
    """A share written as text: "2/3" or "40%" (exact), or with ``named`` "two-thirds" or
    "three-quarters"; above 0 and at most 1. ``None`` when absent or wrong (reported)."""
    v = t.raw(key)
    if v is None:
        return None
    share: Fraction | None = None
    if isinstance(v, str):
        text = v.strip()
        m = _SHARE.match(text)
        if named and text in _NAMED_SHARES:
            share = _NAMED_SHARES[text]
        elif m is not None and int(m.group(2)) > 0:
            share = Fraction(int(m.group(1)), int(m.group(2)))
        elif text.endswith("%"):
            pct = t.percent(key)
            share = None if pct is None else Fraction(pct) / 100
            if pct is None:
                return None
    if share is None or not 0 < share <= 1:
        names = '"two-thirds", "three-quarters", ' if named else ""
        t.fail(key, f'must be a share above 0 and at most 1: {names}"2/3" or "40%"', v)
        return None
    return share


def _read_motion(t: _Table | None, units: _Table | None) -> Motion | None:
    """``[contests.motion]``: ``question``, ``choices``, ``threshold``, ``threshold_of``,
    ``quorum``, ``electorate_support``; and ``[contests.units]`` with it."""
    if t is None:
        if units is not None:
            units.fail("", "only a motion ([contests.motion]) is counted by unit")
        return None
    question = t.text("question")
    choices = t.choice("choices", ChoiceSet, ChoiceSet.YES_NO)
    base = t.choice("threshold_of", ThresholdBase, ThresholdBase.VOTES)
    raw = t.raw("threshold")
    threshold: Threshold | None = None
    if raw == "majority":
        threshold = Threshold.majority()
    elif raw is None:
        t.fail("threshold", 'is required: "majority", "two-thirds", "2/3" or "40%"')
    else:
        share = _share(t, "threshold", named=True)
        threshold = None if share is None else Threshold(share)
    quorum: Quorum | None = None
    q = t.raw("quorum")
    if isinstance(q, int) and not isinstance(q, bool):
        quorum = Quorum(ballots=q) if q >= 1 else None
        if q < 1:
            t.fail("quorum", "a number of papers must be at least 1", q)
    elif q is not None:
        share = _share(t, "quorum")
        quorum = None if share is None else Quorum(share=share)
    support = _share(t, "electorate_support")
    t.finish()
    unit_rule = _read_units(units)
    if question is None or choices is None or base is None or threshold is None:
        return None
    if (q is not None and quorum is None) or (units is not None and unit_rule is None):
        return None
    rule = MotionRule(threshold, base, quorum, support)
    return _build(t, None, Motion, question=question, choices=choices, rule=rule, units=unit_rule)


def _read_units(t: _Table | None) -> UnitsRule | None:
    """``[contests.units]``: ``combine`` and ``[[contests.units.groups]]``, each ``name``,
    ``label``, ``sections``, ``share`` and ``of``."""
    if t is None:
        return None
    combine = t.choice("combine", Combine, Combine.ANY)
    groups: list[UnitGroup] = []
    tables = t.tables("groups")
    if not tables:
        t.fail("groups", "at least one unit group is needed ([[contests.units.groups]])")
    for gt in tables:
        name = gt.text("name")
        label = gt.text("label", default=name or "")
        sections = gt.strings("sections")
        if sections is None and "sections" not in gt.data:
            gt.fail("sections", "is required: the sections whose voters' units these are")
        share = _share(gt, "share")
        if share is None and "share" not in gt.data:
            gt.fail("share", 'is required: the share of units that must vote yes ("1/3")')
        of = gt.choice("of", UnitBase, UnitBase.ALL)
        gt.finish()
        group = _build(
            gt, None, UnitGroup, name=name, label=label, sections=sections, share=share, base=of
        )
        if group is not None:
            groups.append(group)
    t.finish()
    if combine is None or len(groups) != len(tables) or not groups:
        return None
    return _build(t, None, UnitsRule, groups=tuple(groups), combine=combine)


def _nfc(value: Any) -> Any:
    """Every text of the file, keys included, in Unicode Normalization Form C: a name typed
    with combining accents is the same name as one typed with precomposed letters."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    return value


def parse_definition(text: str, *, path: Path | None = None) -> ElectionDefinition:
    """Read a definition from TOML ``text``. ``path`` names it in messages and anchors the
    file names inside it (default: the current directory)."""
    definition, problems = _read(text, path)
    if definition is None:
        raise _error(problems, path)
    return definition


def definition_problems(text: str, *, path: Path | None = None) -> list[Problem]:
    """Every problem :func:`parse_definition` would report, one record each (key path,
    problem, value): what a form shows beside each field. Empty when the text is sound."""
    return _read(text, path)[1]


def _read(text: str, path: Path | None) -> tuple[ElectionDefinition | None, list[Problem]]:
    where = str(path) if path is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.search(str(exc))
        line = int(m.group(1)) if m else None
        problem = f"not valid TOML: {_TOML_AT.sub('', str(exc))}"
        raise ConfigError(problem, path=where, line=line) from None
    except RecursionError:
        raise ConfigError(
            "not a definition: arrays or tables nested too deeply", path=where
        ) from None
    data = _nfc(data)
    problems: list[Problem] = []
    top = _Table(problems, data, "")

    el = top.table("election", required=True) or _Table(problems, {}, "election")
    name, organisation = el.text("name"), el.text("organisation", default="")
    zone_name = el.text("timezone", default="UTC") or "UTC"
    zone = _zone(zone_name)
    if zone is None:
        el.fail("timezone", "unknown time zone (an IANA name such as Europe/London)", zone_name)
    el.finish()

    tt = top.table("timetable", required=True) or _Table(problems, {}, "timetable")
    timetable = _build(
        tt,
        _check_timetable,
        Timetable,
        nominations_open=tt.instant("nominations_open"),
        nominations_close=tt.instant("nominations_close"),
        ballot_open=tt.instant("ballot_open"),
        ballot_close=tt.instant("ballot_close"),
        declaration=tt.day("declaration"),
    )
    tt.finish()

    sections: list[Section] = []
    declared: list[str] = []  # names read, even of sections with other problems
    for st in top.tables("sections"):
        sname = st.text("name")
        declared += [sname] if sname else []
        label = st.text("label", default=sname or "")
        size = st.integer("min_published_size", DEFAULT_MIN_PUBLISHED_SIZE)
        st.finish()
        s = _build(st, None, Section, name=sname, label=label, min_published_size=size)
        sections += [s] if s is not None else []

    default_rule = _read_nominations(top.table("nominations"))
    contest_tables = top.tables("contests")
    contests = [_read_contest(ct, declared, default_rule) for ct in contest_tables]
    for key, given in (("sections", "sections" in data), ("contests", contest_tables)):
        if not given:
            top.fail(key, "at least one is needed")
    base = path.parent if path is not None else Path.cwd()
    eligibility = _read_eligibility(top, declared, zone or ZoneInfo("UTC"), base)

    tu = top.table("turnout") or _Table(problems, {}, "turnout")
    basis = tu.choice("basis", TurnoutBasis, TurnoutBasis.RETURNED)
    places = tu.integer("decimal_places", 1)
    tu.finish()
    turnout = _build(tu, None, Turnout, basis=basis, decimal_places=places)
    weights = _read_weights(top.table("weights"))
    verifiable = _read_verifiable(top.table("verifiable"))
    top.finish()

    # contests that failed their own checks are left out here; their problems are recorded
    problems += _cross_problems(declared, tuple(c for c in contests if c is not None))
    if weights is not None or "weights" not in data:
        problems += [
            Problem(*p)
            for p in weight_problems(weights, tuple(c for c in contests if c is not None))
        ]
    problems += [
        Problem(*p)
        for p in verifiable_problems(verifiable, tuple(c for c in contests if c is not None))
    ]
    definition = None
    if not problems:
        definition = _build(
            top,
            None,
            ElectionDefinition,
            name=name,
            organisation=organisation,
            timezone=zone_name,
            timetable=timetable,
            sections=tuple(sections),
            contests=tuple(c for c in contests if c is not None),
            eligibility=eligibility,
            turnout=turnout,
            source=path,
            weights=weights,
            verifiable=verifiable,
        )
    return definition, problems


def load_definition(path: str | Path) -> ElectionDefinition:
    """Read and check the election definition at ``path`` (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the definition: {exc.strerror}", path=str(p)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", path=str(p)) from None
    return parse_definition(text, path=p)


def read_exclusion_list(path: str | Path) -> frozenset[PersonId]:
    """The people on an exclusion list file: one person id a line; blank lines and ``#``
    comments are ignored."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the exclusion list: {exc.strerror}", path=str(p)) from None
    ids = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(PersonId(i) for i in ids if i)
