"""The recount: each contest's rule run on the record's decoded ballots, every figure of the
declaration recomputed and compared, naming the figure that differs.

As the count does it (services/counting.py, which this package may not import: the steps
are the same, each written here from the definition and the count's own functions):

* a contest's ballots are the decoded ballots of all its mix groups; a ballot with at least
  one mark is **valid**, unless the booth would have refused it (more marks than the rule
  allows, a ballot rule broken); such a ballot, a blank one and an invalid plaintext are
  **spoilt**, and so are the postal papers the audit log's postal batches record as spoilt
  before they could be tied to a voter (services/counting.py adds the same);
* a candidate's **votes** are first preferences, or every mark under the block vote; each
  percentage is ``percent(votes, total)`` (report/suppression.py);
* the rule is the registry's (count/rules/registry.py) with the contest's seats, seat
  constraints and ballot rules; a motion's rule also takes the declared electorate and
  spoilt papers (the register is not in the record), and its ``motion`` record is rebuilt;
* each **section** is published or withheld as ``withheld_sections`` decides from the
  ballots per section; a published section's ballots and candidates' votes are compared;
* the election's name and each contest's title, rule and seats are the definition's;
* ``rounds``, the winners and the RCTab report of the count (``report``) are compared,
  so every round's tally and transfer is; turnout is recomputed from the declared
  electorate by the definition's ``[turnout]``.

Each decoded ballot carries its mix group's key (record_format.py ``GroupKey``): its section,
its weight and its unit, as the count takes them (services/tally.py), so:

* an **electoral college** (``[contests.college]``) is counted with each valid ballot in its
  section, the sections weighed as the definition says (count/rules/college.py
  ``count_college``); each section's weight, publication and round-by-round votes and shares
  (``college``) are compared, and the college's count is the contest's;
* a **weighted** contest (``[weights]``, the contest not ``weighted = false``) counts each
  valid ballot its group's weight in units of the weights' last place (count/weighting.py:
  ``parse_weight``, ``weight_units``, ``weighted_store``, ``weighted_count``); each
  candidate's ``weight`` and ``weight_percent``, in the contest and in each published
  section, and ``weights`` (places and total) are compared; a weight that does not parse is
  a finding;
* a **contest counted by unit** (``[contests.units]``) gathers each unit's for, against,
  abstain and spoilt papers from its groups' ballots and decides the units and the groups
  (count/rules/units.py ``decide_units``); the declared ``motion`` record is rebuilt and
  compared, and the contest's count records the units' decision as the count does. The
  record does not hold the register: the units are those the declaration lists (a unit
  with no ballot is listed as such) plus any with ballots, as the contest's electorate is
  the declared one; a unit's own electorate is never needed, since the definition refuses
  a contest counted by unit whose motion rule would need it (election/verifiable.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from tallyroom.audit.events import Action, AuditEvent
from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count, Decision, DecisionKind
from tallyroom.count.rules.college import CollegeOptions, CollegeSection, count_college
from tallyroom.count.rules.motion import MotionTally, count_decision
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.registry import BallotKind, get_rule
from tallyroom.count.rules.units import decide_units
from tallyroom.count.weighting import parse_weight, weight_units, weighted_count, weighted_store
from tallyroom.crypto.ballot_encoding import InvalidBallot
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.errors import TallyroomError
from tallyroom.report.declaration import CollegeSectionResult
from tallyroom.report.motion_declaration import motion_json, motion_result
from tallyroom.report.rctab_json import ReportLabels, count_to_json
from tallyroom.report.suppression import percent, withheld_sections
from tallyroom.verify.record_files import DECLARATION
from tallyroom.verify.record_format import DecodedBallot, GroupKey
from tallyroom.verify.report import Finding

__all__ = ["postal_spoilt", "recount"]


def _finding(contest: str, figure: str, declared: object, recounted: object) -> Finding:
    return Finding(
        DECLARATION,
        f"contest {contest!r} {figure.strip()}",
        f"declared {declared!r}, the recount gives {recounted!r}",
    )


def _tally(
    contest: Contest, rankings: Sequence[tuple[int, ...]], units: Sequence[int] | None = None
) -> list[int]:
    """First preferences (every mark under the block vote), or with ``units`` (each ballot's
    weight in units) those ballots' weights added up instead."""
    tally = [0] * len(contest.candidates)
    every = get_rule(contest.rule).ballot is BallotKind.MULTI
    for k, ranking in enumerate(rankings):
        for code in ranking if every else ranking[:1]:
            tally[code] += 1 if units is None else units[k]
    return tally


def _candidates(
    contest: Contest,
    rankings: Sequence[tuple[int, ...]],
    units: Sequence[int] | None = None,
    places: int | None = None,
) -> list[dict[str, Any]]:
    """Each candidate's votes and share; weighted (``units`` and ``places``), also their
    weight (exact decimal text) and its share, as the declaration writes them."""
    tally = _tally(contest, rankings)
    total = sum(tally)
    out = [
        {"name": name, "votes": votes, "percent": str(percent(votes, total))}
        for name, votes in zip(contest.candidate_names, tally, strict=True)
    ]
    if units is None or places is None:
        return out
    weighed = _tally(contest, rankings, units)
    whole = sum(weighed)
    for entry, w in zip(out, weighed, strict=True):
        entry["weight"] = format(Decimal(w).scaleb(-places), "f")
        entry["weight_percent"] = format(percent(w, whole), "f")
    return out


def _compare_candidates(
    name: str, where: str, declared: object, recounted: list[dict[str, Any]]
) -> list[Finding]:
    if not isinstance(declared, list) or len(declared) != len(recounted):
        return [_finding(name, f"{where} candidates", declared, recounted)]
    out = []
    for mine, theirs in zip(recounted, declared, strict=True):
        if not isinstance(theirs, dict):
            out.append(_finding(name, f"{where} candidate", theirs, mine))
            continue
        for key in mine:
            if theirs.get(key) != mine[key]:
                out.append(
                    _finding(
                        name,
                        f"{where} candidate {mine['name']!r} {key}",
                        theirs.get(key),
                        mine[key],
                    )
                )
    return out


def _no_ballot(contest: Contest, ballot: tuple[int, ...]) -> bool:
    """Marks that no decoding gives: a candidate out of range or marked twice."""
    n = len(contest.candidates)
    return any(c >= n for c in ballot) or len(set(ballot)) != len(ballot)


def _refused(contest: Contest, ballot: tuple[int, ...]) -> bool:
    """A decoded ballot the booth would have refused: more marks than the rule allows, or a
    contest's ballot rule broken. It is spoilt (invalid), as the tally counts it."""
    limit = get_rule(contest.rule).mark_limit(contest.seats, len(contest.candidates))
    if len(ballot) > limit:
        return True
    for rule in contest.ballot_rules:
        marked = sum(1 for c in ballot if rule.group in contest.candidates[c].groups)
        if marked < rule.at_least or (rule.at_most is not None and marked > rule.at_most):
            return True
    return False


def postal_spoilt(events: Iterable[AuditEvent]) -> Counter[str]:
    """Per contest, the postal papers spoilt before they could be tied to a voter, as the
    postal batches' audit events record them (``spoilt`` -> contest ->
    ``unreadable_credential``): the count adds them to the contest's spoilt papers."""
    out: Counter[str] = Counter()
    for event in events:
        if event.action is not Action.POSTAL_BATCH:
            continue
        payload = json.loads(event.payload)
        spoilt = payload.get("spoilt") if isinstance(payload, dict) else None
        for contest, reasons in (spoilt or {}).items():
            if isinstance(reasons, dict):
                out[str(contest)] += int(reasons.get("unreadable_credential", 0))
    return out


def _declared_contests(document: Any) -> dict[str, dict[str, Any]]:
    contests = document.get("contests") if isinstance(document, dict) else None
    if not isinstance(contests, list):
        return {}
    return {str(c.get("contest")): c for c in contests if isinstance(c, dict)}


def recount(
    definition: ElectionDefinition,
    ballots: Mapping[GroupKey, Sequence[DecodedBallot]] | Mapping[Any, Sequence[DecodedBallot]],
    document: Any,
    postal: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Every difference between the declaration ``document`` (the parsed results document)
    and a recount of ``ballots`` (decoded ballots per mix group: a ``GroupKey``, or a
    (contest, section) pair for a group with no weight and no unit), with ``postal`` papers
    spoilt outside the board per contest (:func:`postal_spoilt`)."""
    groups = {GroupKey(*key): decoded for key, decoded in ballots.items()}
    declared = _declared_contests(document)
    out: list[Finding] = []
    if not declared:
        return [Finding(DECLARATION, "contests", "the declaration lists no contest")]
    if document.get("name") != definition.name:
        out.append(
            Finding(DECLARATION, "name", f"{document.get('name')!r}, not the definition's name")
        )
    known = {c.name for c in definition.contests}
    for extra in sorted(set(declared) - known):
        out.append(Finding(DECLARATION, f"contest {extra!r}", "not a contest of the definition"))
    for contest in definition.contests:
        doc = declared.get(contest.name)
        if doc is None:
            out.append(Finding(DECLARATION, f"contest {contest.name!r}", "not declared"))
            continue
        out.extend(_contest(definition, contest, groups, doc, (postal or {}).get(contest.name, 0)))
    return out


@dataclasses.dataclass
class _Opened:
    """A contest's ballots as the count takes them: the valid ones with their section and
    (weighted) weight in units, the spoilt count, each unit's figures (counted by unit)."""

    rankings: list[tuple[int, ...]] = dataclasses.field(default_factory=list)
    sections: list[str | None] = dataclasses.field(default_factory=list)
    units: list[int] = dataclasses.field(default_factory=list)
    spoilt: int = 0
    # (section, unit) -> [for, against, abstain, spoilt]
    unit_figures: dict[tuple[str, str], list[int]] = dataclasses.field(default_factory=dict)

    def by_section(self) -> dict[str | None, list[tuple[int, ...]]]:
        out: dict[str | None, list[tuple[int, ...]]] = {}
        for ranking, section in zip(self.rankings, self.sections, strict=True):
            out.setdefault(section, []).append(ranking)
        return out


def _weight(key: GroupKey, places: int) -> int | str:
    """A group's weight in units of ``10**-places``, or why it is no weight."""
    if key.weight is None:
        return "a group of a weighted contest has no weight"
    try:
        return weight_units(parse_weight(key.weight, places), places)
    except ValueError as exc:
        return f"weight {key.weight!r}: {exc}"


def _open(
    contest: Contest,
    groups: Mapping[GroupKey, Sequence[DecodedBallot]],
    places: int | None,
    postal: int,
) -> tuple[_Opened, list[Finding]]:
    name = contest.name
    by_unit = contest.motion is not None and contest.motion.units is not None
    opened = _Opened(spoilt=postal)
    out: list[Finding] = []
    for key, decoded in groups.items():
        if key.contest != name:
            continue
        weight: int | str | None = None
        if by_unit and (key.section is None or key.unit is None):
            out.append(Finding(None, key.name, "a group of a contest counted by unit has no unit"))
            continue
        for k, ballot in enumerate(decoded):
            codes = () if isinstance(ballot, InvalidBallot) else tuple(ballot)
            spoilt = not codes
            if not spoilt and _no_ballot(contest, codes):
                where = f"{key.name} ballot {k + 1}"
                out.append(Finding(None, where, f"marks {list(codes)}: no ballot of {name!r}"))
                continue
            spoilt = spoilt or _refused(contest, codes)
            if by_unit and key.section is not None and key.unit is not None:
                row = opened.unit_figures.setdefault((key.section, key.unit), [0, 0, 0, 0])
                row[3 if spoilt else codes[0]] += 1
            if spoilt:
                opened.spoilt += 1
                continue
            if places is not None:
                if weight is None:
                    weight = _weight(key, places)
                if isinstance(weight, str):
                    out.append(Finding(None, key.name, weight))
                    break
                opened.units.append(weight)
            opened.rankings.append(codes)
            opened.sections.append(key.section)
    return opened, out


def _contest(
    definition: ElectionDefinition,
    contest: Contest,
    groups: Mapping[GroupKey, Sequence[DecodedBallot]],
    doc: dict[str, Any],
    postal: int,
) -> list[Finding]:
    name = contest.name
    places = definition.weight_places(contest)
    opened, out = _open(contest, groups, places, postal)
    if out:
        return out
    rankings = opened.rankings
    spoilt = opened.spoilt
    units = opened.units if places is not None else None
    by_section = opened.by_section()
    strays = sorted(str(s) for s in by_section if s not in contest.sections)
    if strays:
        out.append(Finding(None, f"contest {name!r}", f"ballots of no section of it: {strays}"))
    valid = len(rankings)
    for figure, defined in (
        ("title", contest.title),
        ("rule", contest.rule),
        ("seats", contest.seats),
    ):
        if doc.get(figure) != defined:
            out.append(_finding(name, figure, doc.get(figure), defined))
    electorate = doc.get("electorate")
    for figure, mine in (
        ("valid", valid),
        ("spoilt", spoilt),
        ("ballots_returned", valid + spoilt),
    ):
        if doc.get(figure) != mine:
            out.append(_finding(name, figure, doc.get(figure), mine))
    if not isinstance(electorate, int) or isinstance(electorate, bool):
        out.append(_finding(name, "electorate", electorate, "a whole number"))
        electorate = 0
    turnout = str(
        definition.turnout.percent(valid=valid, spoilt=spoilt, electorate=max(electorate, 1))
    )
    if doc.get("turnout_percent") != turnout:
        out.append(_finding(name, "turnout_percent", doc.get("turnout_percent"), turnout))
    out.extend(
        _compare_candidates(
            name, "", doc.get("candidates"), _candidates(contest, rankings, units, places)
        )
    )
    out.extend(_sections(definition, contest, opened, places, doc.get("sections")))
    if places is not None and units is not None:
        total = format(Decimal(sum(units)).scaleb(-places), "f")
        weights = {"decimal_places": places, "total": total}
        if doc.get("weights") != weights:
            out.append(_finding(name, "weights", doc.get("weights"), weights))
    elif "weights" in doc:
        out.append(_finding(name, "weights", doc.get("weights"), "none: not weighted"))
    try:
        count = _count(definition, contest, opened, doc, electorate, out)
    except TallyroomError as exc:
        return [*out, Finding(None, f"contest {name!r}", f"the rule cannot count it: {exc}")]
    if doc.get("winners") != list(count.winners):
        out.append(_finding(name, "winners", doc.get("winners"), list(count.winners)))
    if doc.get("rounds") != len(count.rounds):
        out.append(_finding(name, "rounds", doc.get("rounds"), len(count.rounds)))
    report = json.loads(json.dumps(count_to_json(count, ReportLabels(contest=contest.title))))
    if doc.get("report") != report:
        out.append(Finding(DECLARATION, f"contest {name!r} report", "the count's report differs"))
    return out


def _count(
    definition: ElectionDefinition,
    contest: Contest,
    opened: _Opened,
    doc: dict[str, Any],
    electorate: int,
    out: list[Finding],
) -> Count:
    """The contest's count as the declaration records it (an electoral college's, a weighted
    count read in votes, a motion counted by unit recording the units' decision), adding to
    ``out`` what differs in the college's sections and the motion's record."""
    name = contest.name
    rankings = opened.rankings
    table = CandidateTable(contest.candidate_names)
    if contest.college is not None:
        return _college(definition, contest, opened, doc.get("college"), out)
    params = RuleParams(
        seats=contest.seats,
        constraints=contest.seat_constraints(),
        ballot_rules=contest.count_ballot_rules(),
    )
    if contest.motion is not None:
        params = dataclasses.replace(
            params, motion=contest.motion.rule, electorate=electorate, spoilt=opened.spoilt
        )
    rule = get_rule(contest.rule)
    places = definition.weight_places(contest)
    if places is None:
        count = rule.count(BallotStore.from_rankings(rankings), table, params)
    else:
        scaled = rule.count(weighted_store(rankings, opened.units), table, params)
        count = weighted_count(scaled, places, len(rankings))
    m = contest.motion
    if m is None:
        return count
    decision = count_decision(count, m.rule, electorate, opened.spoilt)
    if m.units is None:
        rebuilt = motion_json(motion_result(m.question, m.describe(), decision, m.answers))
        if doc.get("motion") != rebuilt:
            out.append(_finding(name, "motion", doc.get("motion"), rebuilt))
        return count
    # the units: those the declaration lists (a unit of no ballot among them) and those
    # with ballots; each unit's electorate is never needed (election/verifiable.py)
    electorates = {key: 0 for key in opened.unit_figures}
    motion_doc = doc.get("motion")
    listed = motion_doc.get("units") if isinstance(motion_doc, dict) else None
    first = {g.name: g.sections[0] for g in m.units.groups}
    for unit in listed if isinstance(listed, list) else []:
        if isinstance(unit, dict) and unit.get("group") in first and "unit" in unit:
            electorates.setdefault((first[str(unit["group"])], str(unit["unit"])), 0)
    tallies = {
        key: MotionTally(f, a, ab, sp, electorates[key])
        for key, (f, a, ab, sp) in opened.unit_figures.items()
    }
    across = decide_units(m.units, m.rule, electorates, tallies)
    sizes = {
        g.name: max(definition.section(s).min_published_size for s in g.sections)
        for g in m.units.groups
    }
    rebuilt = motion_json(
        motion_result(m.question, m.describe(), decision, m.answers, across, sizes)
    )
    if motion_doc != rebuilt:
        out.append(_finding(name, "motion", motion_doc, rebuilt))
    winners = (m.answers[0],) if across.carried else ()
    head = count.rounds[0]
    return dataclasses.replace(
        count,
        winners=winners,
        rounds=(
            dataclasses.replace(
                head,
                threshold=None,
                decisions=tuple(Decision(DecisionKind.ELECTED, w) for w in winners),
                label=across.reason,
            ),
        ),
    )


def _college(
    definition: ElectionDefinition,
    contest: Contest,
    opened: _Opened,
    declared: object,
    out: list[Finding],
) -> Count:
    """An electoral college: each valid ballot in its section, the sections weighed as the
    definition says; the declared ``college`` sections compared."""
    college = contest.college
    assert college is not None
    by_section = opened.by_section()
    own = [by_section.get(s, []) for s in contest.sections]
    weights = dict(college.weights)
    table = CandidateTable(contest.candidate_names)
    parts = [
        CollegeSection(s, weights[s], BallotStore.from_rankings(ballots))
        for s, ballots in zip(contest.sections, own, strict=True)
    ]
    result = count_college(parts, table, CollegeOptions(display_places=college.display_places))
    hidden = withheld_sections(
        [len(b) for b in own], [definition.section(s).min_published_size for s in contest.sections]
    )
    rebuilt = {
        "sections": [
            {
                "name": part.name,
                "label": definition.section(part.name).label,
                "weight": str(part.weight),
                "published": not withheld,
                "rounds": CollegeSectionResult(
                    part.name,
                    definition.section(part.name).label,
                    part.weight,
                    not withheld,
                    None if withheld else part.count,
                    college.display_places,
                ).shares(),
            }
            for part, withheld in zip(result.sections, hidden, strict=True)
        ]
    }
    if declared != rebuilt:
        out.append(_finding(contest.name, "college", declared, rebuilt))
    return result.college


def _sections(
    definition: ElectionDefinition,
    contest: Contest,
    opened: _Opened,
    places: int | None,
    declared: object,
) -> list[Finding]:
    name = contest.name
    own: list[list[tuple[int, ...]]] = [[] for _ in contest.sections]
    own_units: list[list[int]] = [[] for _ in contest.sections]
    index = {s: k for k, s in enumerate(contest.sections)}
    for k, (ranking, section) in enumerate(zip(opened.rankings, opened.sections, strict=True)):
        if section in index:
            own[index[section]].append(ranking)
            if places is not None:
                own_units[index[section]].append(opened.units[k])
    hidden = withheld_sections(
        [len(b) for b in own], [definition.section(s).min_published_size for s in contest.sections]
    )
    if not isinstance(declared, list) or len(declared) != len(contest.sections):
        return [_finding(name, "sections", declared, list(contest.sections))]
    out = []
    for section, rankings, units, withheld, theirs in zip(
        contest.sections, own, own_units, hidden, declared, strict=True
    ):
        if not isinstance(theirs, dict) or theirs.get("name") != section:
            out.append(_finding(name, f"section {section!r}", theirs, section))
            continue
        where = f"section {section!r}"
        if theirs.get("published") is withheld:
            out.append(_finding(name, f"{where} published", theirs.get("published"), not withheld))
            continue
        if withheld:
            if theirs.get("ballots") is not None or theirs.get("candidates"):
                out.append(_finding(name, f"{where} (withheld)", theirs, "no figures"))
            continue
        if theirs.get("ballots") != len(rankings):
            out.append(_finding(name, f"{where} ballots", theirs.get("ballots"), len(rankings)))
        mine = _candidates(contest, rankings, None if places is None else units, places)
        out.extend(_compare_candidates(name, where, theirs.get("candidates"), mine))
    return out
