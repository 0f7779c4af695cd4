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

Electoral colleges are not recounted yet: their contest fails the check with "not
supported yet", never passes silently. Weighted contests and contests counted by unit are
not on the verifiable path at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tallyroom.audit.events import Action, AuditEvent
from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.rules.motion import count_decision
from tallyroom.count.rules.params import RuleParams
from tallyroom.count.rules.registry import BallotKind, get_rule
from tallyroom.crypto.ballot_encoding import InvalidBallot
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.errors import TallyroomError
from tallyroom.report.motion_declaration import motion_json, motion_result
from tallyroom.report.rctab_json import ReportLabels, count_to_json
from tallyroom.report.suppression import percent, withheld_sections
from tallyroom.verify.record_files import DECLARATION
from tallyroom.verify.record_format import DecodedBallot
from tallyroom.verify.report import Finding

__all__ = ["postal_spoilt", "recount"]


def _finding(contest: str, figure: str, declared: object, recounted: object) -> Finding:
    return Finding(
        DECLARATION,
        f"contest {contest!r} {figure.strip()}",
        f"declared {declared!r}, the recount gives {recounted!r}",
    )


def _tally(contest: Contest, rankings: Sequence[tuple[int, ...]]) -> list[int]:
    tally = [0] * len(contest.candidates)
    every = get_rule(contest.rule).ballot is BallotKind.MULTI
    for ranking in rankings:
        for code in ranking if every else ranking[:1]:
            tally[code] += 1
    return tally


def _candidates(contest: Contest, rankings: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    tally = _tally(contest, rankings)
    total = sum(tally)
    return [
        {"name": name, "votes": votes, "percent": str(percent(votes, total))}
        for name, votes in zip(contest.candidate_names, tally, strict=True)
    ]


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
        for key in ("name", "votes", "percent"):
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
    ballots: Mapping[tuple[str, str | None], Sequence[DecodedBallot]],
    document: Any,
    postal: Mapping[str, int] | None = None,
) -> list[Finding]:
    """Every difference between the declaration ``document`` (the parsed results document)
    and a recount of ``ballots`` (decoded ballots per (contest, section) group), with
    ``postal`` papers spoilt outside the board per contest (:func:`postal_spoilt`)."""
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
        out.extend(_contest(definition, contest, ballots, doc, (postal or {}).get(contest.name, 0)))
    return out


def _contest(
    definition: ElectionDefinition,
    contest: Contest,
    groups: Mapping[tuple[str, str | None], Sequence[DecodedBallot]],
    doc: dict[str, Any],
    postal: int,
) -> list[Finding]:
    name = contest.name
    if contest.college is not None:
        return [Finding(DECLARATION, f"contest {name!r}", "electoral colleges: not supported yet")]
    if definition.weight_places(contest) is not None:
        return [Finding(DECLARATION, f"contest {name!r}", "weighted contests are not verifiable")]
    out: list[Finding] = []
    by_section: dict[str | None, list[tuple[int, ...]]] = {}
    spoilt = postal
    for (contest_name, section), decoded in groups.items():
        if contest_name != name:
            continue
        for k, ballot in enumerate(decoded):
            if isinstance(ballot, InvalidBallot) or not ballot:
                spoilt += 1
            elif _no_ballot(contest, ballot):
                where = f"{name}/{section or ''} ballot {k + 1}"
                out.append(Finding(None, where, f"marks {list(ballot)}: no ballot of {name!r}"))
            elif _refused(contest, ballot):
                spoilt += 1
            else:
                by_section.setdefault(section, []).append(ballot)
    if out:
        return out
    rankings = [r for s in by_section.values() for r in s]
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
    out.extend(_compare_candidates(name, "", doc.get("candidates"), _candidates(contest, rankings)))
    out.extend(_sections(definition, contest, by_section, doc.get("sections")))
    params = RuleParams(
        seats=contest.seats,
        constraints=contest.seat_constraints(),
        ballot_rules=contest.count_ballot_rules(),
    )
    if contest.motion is not None:
        params = dataclasses.replace(
            params, motion=contest.motion.rule, electorate=electorate, spoilt=spoilt
        )
    try:
        count = get_rule(contest.rule).count(
            BallotStore.from_rankings(rankings), CandidateTable(contest.candidate_names), params
        )
    except TallyroomError as exc:
        return [*out, Finding(None, f"contest {name!r}", f"the rule cannot count it: {exc}")]
    if doc.get("winners") != list(count.winners):
        out.append(_finding(name, "winners", doc.get("winners"), list(count.winners)))
    if doc.get("rounds") != len(count.rounds):
        out.append(_finding(name, "rounds", doc.get("rounds"), len(count.rounds)))
    report = json.loads(json.dumps(count_to_json(count, ReportLabels(contest=contest.title))))
    if doc.get("report") != report:
        out.append(Finding(DECLARATION, f"contest {name!r} report", "the count's report differs"))
    if contest.motion is not None:
        m = contest.motion
        decision = count_decision(count, m.rule, electorate, spoilt)
        rebuilt = motion_json(motion_result(m.question, m.describe(), decision, m.answers))
        if doc.get("motion") != rebuilt:
            out.append(_finding(name, "motion", doc.get("motion"), rebuilt))
    return out


def _sections(
    definition: ElectionDefinition,
    contest: Contest,
    by_section: Mapping[str | None, Sequence[tuple[int, ...]]],
    declared: object,
) -> list[Finding]:
    name = contest.name
    own = [list(by_section.get(s, ())) for s in contest.sections]
    hidden = withheld_sections(
        [len(b) for b in own], [definition.section(s).min_published_size for s in contest.sections]
    )
    if not isinstance(declared, list) or len(declared) != len(contest.sections):
        return [_finding(name, "sections", declared, list(contest.sections))]
    out = []
    for section, rankings, withheld, theirs in zip(
        contest.sections, own, hidden, declared, strict=True
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
        out.extend(
            _compare_candidates(
                name, where, theirs.get("candidates"), _candidates(contest, rankings)
            )
        )
    return out
