"""Counting the sealed ballots, and declaring the result (the poll is closed by
:func:`tallyroom.services.polling.close_voting`, the one close).

* :func:`count_election`: first checks the stored election against its audit log
  (:func:`tallyroom.services.audit_log.check_record`: the ballot box recomputed from its rows
  against the digest kept while casting and the one recorded at the close, casts = ballots =
  receipts per contest and section, the state, the definition, the register's eligibility)
  and refuses to count, naming the failed check, if it does not verify. Then, with the
  returning officer's private key file and passphrase, opens every sealed ballot, checks each
  one again against its contest's rule and the contest it was sealed for (a ballot that fails
  stops the count: it is never counted), shuffles each contest's ballots with the operating system's
  CSPRNG (``secrets.SystemRandom``: the order of the cast vote records must not reveal the
  order of casting), runs the contest's rule from the registry with the contest's seat
  constraints and ballot rules (``RuleParams``; a rule that cannot honour them was refused
  when the election was created), or, for a contest with ``[contests.college]``, counts the
  electoral college with each ballot in its voter's section (in a weighted contest, each
  ballot counts the weight stored with it: :mod:`tallyroom.count.weighting`; a ballot
  without one, or with one the definition does not allow, stops the count), and builds the
  :class:`~tallyroom.report.declaration.Declaration`. The first count moves the election
  ``closed -> counted``, recording the SHA-256 of the declaration's JSON; counting again
  later (a recount) gives the same figures and changes nothing.
* :func:`declare`: ``counted -> declared``, recording the declaration's digest and figures,
  the SHA-256 of the stored results document and of every download (what the results page
  shows and ``tallyroom audit verify`` recomputes).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action, JsonValue
from tallyroom.count.ballots import BallotStore, CandidateTable
from tallyroom.count.record import Count
from tallyroom.count.rules.college import CollegeOptions, CollegeSection, count_college
from tallyroom.count.rules.registry import BallotKind, RuleParams, get_rule
from tallyroom.count.weighting import parse_weight, weight_units, weighted_count, weighted_store
from tallyroom.crypto.sealing import BallotOpener, load_private_key
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import CountError, InputError
from tallyroom.report.constraint_notes import constraint_notes
from tallyroom.report.declaration import (
    CandidateResult,
    CollegeSectionResult,
    ContestDeclaration,
    Declaration,
    PreviousComparison,
    SectionResult,
    declaration_document,
    declaration_downloads,
    declaration_json,
    percent,
    withheld_sections,
)
from tallyroom.services.audit_log import check_record
from tallyroom.services.counting_motion import UnitBallots, motion_declaration, motion_params
from tallyroom.services.elections import ballot_definition
from tallyroom.services.voting import (
    BALLOT_FORMAT_VERSION,
    SpoiltReason,
    ballot_rule_broken,
    mark_limit,
)
from tallyroom.store import audit, ballots, declarations, elections, register
from tallyroom.store.declarations import DeclarationFile
from tallyroom.store.engine import Store

__all__ = ["OpenedBallot", "count_election", "count_opened", "declaration_digest", "declare"]

_COUNTABLE = (ElectionState.CLOSED, ElectionState.COUNTED, ElectionState.DECLARED)


def _refuse(contest: str, check: str, detail: str) -> CountError:
    return CountError(
        f"the count stopped: a ballot in contest {contest!r} fails the {check!r} check"
        f" ({detail}); nothing was counted"
    )


def _read(contest: Contest, plaintext: bytes) -> tuple[int, ...] | str:
    """An opened ballot's candidate codes, or the reason it is spoilt (a postal paper's
    sealed spoilt ballot); :class:`CountError` naming the check for a ballot that casting
    could not have produced (one sealed by someone else to the public key, or moved)."""
    try:
        doc = json.loads(plaintext.decode("utf-8"))
        ranking = doc["ranking"]
        name = doc["contest"]
        spoilt = doc.get("spoilt")
        version = doc.get("v")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise _refuse(contest.name, "decode", "not a ballot's canonical JSON") from None
    if version != BALLOT_FORMAT_VERSION:
        raise _refuse(contest.name, "version", f"format version {version!r}")
    if name != contest.name:
        raise _refuse(contest.name, "contest", f"sealed for contest {name!r}")
    if not isinstance(ranking, list) or any(
        isinstance(c, bool) or not isinstance(c, int) for c in ranking
    ):
        raise _refuse(contest.name, "decode", "the ranking is not a list of candidate codes")
    codes = tuple(ranking)
    if spoilt is not None:
        if codes or spoilt not in SpoiltReason.ALL:
            raise _refuse(contest.name, "spoilt", f"spoilt {spoilt!r} with marks {list(codes)}")
        return str(spoilt)
    n = len(contest.candidate_names)
    if not codes:
        raise _refuse(contest.name, "empty", "no candidate marked")
    if any(not 0 <= c < n for c in codes):
        raise _refuse(contest.name, "code-range", f"codes {list(codes)} for {n} candidates")
    if len(set(codes)) != len(codes):
        raise _refuse(contest.name, "duplicate-mark", f"codes {list(codes)}")
    limit = mark_limit(contest)
    if len(codes) > limit:
        raise _refuse(
            contest.name, "too-many-marks", f"{len(codes)} marks, {contest.rule} allows {limit}"
        )
    broken = ballot_rule_broken(contest, codes)
    if broken is not None:
        raise _refuse(contest.name, "ballot-rule", broken)
    return codes


def _votes(
    contest: Contest, rankings: Sequence[tuple[int, ...]], units: Sequence[int] | None = None
) -> list[int]:
    """First preferences per candidate, or every mark under the block vote; with ``units``
    (each ballot's weight in units), the weights of those ballots added up instead."""
    tally = [0] * len(contest.candidate_names)
    every = get_rule(contest.rule).ballot is BallotKind.MULTI
    for k, ranking in enumerate(rankings):
        for code in ranking if every else ranking[:1]:
            tally[code] += 1 if units is None else units[k]
    return tally


def _results(
    contest: Contest,
    rankings: Sequence[tuple[int, ...]],
    units: Sequence[int] | None = None,
    places: int | None = None,
) -> tuple[CandidateResult, ...]:
    """Each candidate's votes (ballots) and share; in a weighted contest (``units`` and
    ``places`` given) also their weight (the ballots' weights added, exactly) and its share."""
    tally = _votes(contest, rankings)
    total = sum(tally)
    if units is None or places is None:
        return tuple(
            CandidateResult(name, votes, percent(votes, total))
            for name, votes in zip(contest.candidate_names, tally, strict=True)
        )
    weighed = _votes(contest, rankings, units)
    whole = sum(weighed)
    return tuple(
        CandidateResult(
            name,
            votes,
            percent(votes, total),
            weight=Decimal(w).scaleb(-places),
            weight_percent=percent(w, whole),
        )
        for name, votes, w in zip(contest.candidate_names, tally, weighed, strict=True)
    )


def _units(contest: Contest, weights: Sequence[str | None], places: int) -> list[int]:
    """Each ballot's stored weight in units of ``10**-places``; a ballot without a weight,
    or with one the definition does not allow, stops the count (it was not cast so)."""
    out = []
    for text in weights:
        if text is None:
            raise _refuse(contest.name, "weight", "a ballot of a weighted contest has no weight")
        try:
            out.append(weight_units(parse_weight(text, places), places))
        except ValueError as exc:
            raise _refuse(contest.name, "weight", f"weight {text!r}: {exc}") from None
    return out


def _unattributed_spoilt(conn: Connection, election_id: int) -> Counter[str]:
    """Postal papers spoilt before they could be tied to a voter (an unreadable or dead
    credential), per contest, from the postal batches' audit events. Papers tied to a voter
    are sealed spoilt ballots in the box and are counted when opened."""
    out: Counter[str] = Counter()
    for chained in audit.events(conn, election_id):
        event = chained.event
        if event.action is not Action.POSTAL_BATCH:
            continue
        payload = json.loads(event.payload)
        for contest, reasons in (payload.get("spoilt") or {}).items():
            out[contest] += int(reasons.get(SpoiltReason.UNREADABLE_CREDENTIAL, 0))
    return out


def _contest(
    definition: ElectionDefinition,
    contest: Contest,
    opened: list[tuple[tuple[int, ...], str | None]],
    electorate_by_section: Counter[str],
    spoilt: int,
    weights: Sequence[str | None] | None = None,
) -> ContestDeclaration:
    """One contest counted and declared from its opened ballots (codes, section tag) and,
    in a weighted election, each ballot's stored weight (``weights``, in the same order)."""
    order = list(range(len(opened)))
    secrets.SystemRandom().shuffle(order)
    opened = [opened[k] for k in order]
    rankings = [codes for codes, _ in opened]
    names = contest.candidate_names
    places = definition.weight_places(contest)
    units = None
    if places is not None:
        stored = [None] * len(order) if weights is None else [weights[k] for k in order]
        units = _units(contest, stored, places)
    candidates = _results(contest, rankings, units, places)
    sections = []
    own_of = {s: [codes for codes, tag in opened if tag == s] for s in contest.sections}
    withheld = withheld_sections(
        [len(own_of[s]) for s in contest.sections],
        [definition.section(s).min_published_size for s in contest.sections],
    )
    college: tuple[CollegeSectionResult, ...] = ()
    if contest.college is not None:
        count, college = _college(definition, contest, opened, own_of, withheld)
    else:
        # the contest's seat constraints and ballot rules go to the rule; the registry
        # refuses them for a rule that cannot honour them (the definition already did)
        params = motion_params(
            contest,
            RuleParams(
                seats=contest.seats,
                constraints=contest.seat_constraints(),
                ballot_rules=contest.count_ballot_rules(),
            ),
            electorate_by_section,
            spoilt,
        )
        rule = get_rule(contest.rule)
        if units is None or places is None:
            count = rule.count(BallotStore.from_rankings(rankings), CandidateTable(names), params)
        else:
            # each ballot counts its weight in units: the rule's own count of scaled ballots,
            # read back in votes (count.weighting; the definition refused a rule that cannot)
            store = weighted_store(rankings, units)
            count = weighted_count(
                rule.count(store, CandidateTable(names), params), places, len(rankings)
            )
    for section_name, hidden in zip(contest.sections, withheld, strict=True):
        section = definition.section(section_name)
        own = own_of[section_name]
        if not hidden:
            own_units = (
                None
                if units is None
                else [u for u, (_, tag) in zip(units, opened, strict=True) if tag == section_name]
            )
            sections.append(
                SectionResult(
                    section.name,
                    section.label,
                    True,
                    len(own),
                    _results(contest, own, own_units, places),
                )
            )
        else:
            sections.append(SectionResult(section.name, section.label, False, None, ()))
    electorate = sum(electorate_by_section[s] for s in contest.sections)
    valid = len(rankings)
    previous: list[PreviousComparison] = []
    if contest.previous is not None:
        now = {r.name: r.percent for r in candidates}
        seen = list(names) + [n for n, _ in contest.previous.shares if n not in names]
        for name in seen:
            before = contest.previous.share_of(name)
            current = now.get(name)
            change = None if before is None or current is None else current - before
            previous.append(
                PreviousComparison(name, before, contest.previous.votes_of(name), current, change)
            )
    return ContestDeclaration(
        contest=contest.name,
        title=contest.title,
        rule=contest.rule,
        seats=contest.seats,
        winners=count.winners,
        candidates=candidates,
        count=count,
        electorate=electorate,
        valid=valid,
        spoilt=spoilt,
        turnout_percent=definition.turnout.percent(
            valid=valid, spoilt=spoilt, electorate=max(electorate, 1)
        ),
        sections=tuple(sections),
        previous_name=None if contest.previous is None else contest.previous.name,
        previous=tuple(previous),
        candidate_names=names,
        cvrs=tuple(rankings),
        constraints=contest.requirements,
        constraint_rounds=_constraint_rounds(contest, count),
        college=college,
        candidate_groups=tuple(c.groups for c in contest.candidates),
        constraint_notes=constraint_notes(count) if contest.constraints else (),
        weight_places=places,
        cvr_weights=() if units is None else tuple(units),
    )


def _constraint_rounds(contest: Contest, count: Count) -> tuple[tuple[int, str], ...]:
    """The rounds in which a seat constraint acted, and what it did: the constrained rules
    label those rounds (the block vote labels its one round, naming anyone passed over)."""
    if not contest.constraints:
        return ()
    if get_rule(contest.rule).ballot is BallotKind.MULTI:
        passed = count.options.get("passed_over") or ()
        return tuple((r.number, r.label) for r in count.rounds) if passed else ()
    return tuple((r.number, r.label) for r in count.rounds if r.label)


def _college(
    definition: ElectionDefinition,
    contest: Contest,
    opened: Sequence[tuple[tuple[int, ...], str | None]],
    own_of: dict[str, list[tuple[int, ...]]],
    withheld: Sequence[bool],
) -> tuple[Count, tuple[CollegeSectionResult, ...]]:
    """An electoral college from one poll: each ballot is counted in the section its voter
    voted in (the tag it was cast with), the sections weighed as the definition says."""
    college = contest.college
    assert college is not None
    strays = sorted({str(tag) for _, tag in opened if tag not in own_of})
    if strays:
        raise CountError(
            f"the count stopped: contest {contest.name!r} is an electoral college and holds "
            f"ballots of no section of it ({', '.join(strays)}); nothing was counted"
        )
    weights = dict(college.weights)
    table = CandidateTable(contest.candidate_names)
    parts = [
        CollegeSection(s, weights[s], BallotStore.from_rankings(own_of[s]))
        for s in contest.sections
    ]
    result = count_college(parts, table, CollegeOptions(display_places=college.display_places))
    shown = []
    for part, hidden in zip(result.sections, withheld, strict=True):
        section = definition.section(part.name)
        shown.append(
            CollegeSectionResult(
                part.name,
                section.label,
                part.weight,
                not hidden,
                None if hidden else part.count,
                college.display_places,
                () if hidden else tuple(own_of[part.name]),
            )
        )
    return result.college, tuple(shown)


def declaration_digest(decl: Declaration) -> str:
    """SHA-256 of the declaration's canonical JSON (what the audit chain records)."""
    text = json.dumps(declaration_json(decl), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: One opened ballot of a contest: its candidate codes (or the reason it is spoilt), the
#: voter's section, and the weight and unit stored with it (``None`` when none).
OpenedBallot = tuple[tuple[int, ...] | str, str | None, str | None, str | None]


def _checked_record(conn: Connection, election_id: int) -> elections.ElectionRecord:
    """The election, once its stored record verifies against its log and it may be counted."""
    # Before the state is trusted (it is one of the things checked): the box, the
    # reconciliation, the state, the definition, the register, the published documents.
    checked = check_record(conn, election_id)
    if not checked.ok:
        failed = ", ".join(c.value for c in checked.failed_checks)
        raise CountError(
            f"the count refuses: the election record does not verify (failed: {failed};"
            f" {checked.first_failure}); run 'tallyroom audit verify'"
        )
    elections.require_state(conn, election_id, *_COUNTABLE, doing="count")
    return elections.get_election(conn, election_id)


def _declaration(
    conn: Connection,
    record: elections.ElectionRecord,
    opened_of: Callable[[Contest], Sequence[OpenedBallot]],
) -> Declaration:
    """Every contest counted from its opened ballots (``opened_of``) and declared."""
    election_id = record.id
    definition = ballot_definition(conn, record)
    electorate: Counter[str] = Counter(register.eligible_by_section(conn, election_id))
    spoilt = _unattributed_spoilt(conn, election_id)
    contests = []
    for contest in definition.contests:
        opened: list[tuple[tuple[int, ...], str | None]] = []
        weights: list[str | None] = []
        by_unit = contest.motion is not None and contest.motion.units is not None
        units = UnitBallots()
        for ballot, section, weight, unit in opened_of(contest):
            if by_unit:
                units.add(section, unit, ballot)
            if isinstance(ballot, str):
                spoilt[contest.name] += 1
            else:
                opened.append((ballot, section))
                weights.append(weight)
        declared = _contest(definition, contest, opened, electorate, spoilt[contest.name], weights)
        if contest.motion is not None:
            unit_electorate = None
            if by_unit:
                sections = [s for g in contest.motion.units_groups() for s in g.sections]
                unit_electorate = register.eligible_by_unit(conn, election_id, sections)
            declared = motion_declaration(definition, contest, declared, units, unit_electorate)
        contests.append(declared)
    return Declaration(election_id, record.slug, definition.name, tuple(contests))


def count_election(
    store: Store,
    election_id: int,
    private_key_file: Path,
    passphrase: str,
    *,
    actor: str = "count",
    advance: bool = True,
) -> Declaration:
    """Open, shuffle and count every contest's ballots; the declaration (see module doc).

    The first count of a closed election moves it to ``counted``, unless ``advance`` is
    false (:func:`declare` then makes both moves in its own transaction)."""
    keys = load_private_key(Path(private_key_file), passphrase)
    opener = BallotOpener(keys)
    # A write transaction: reading the box share-locks the election row (FOR SHARE), which a
    # read-only PostgreSQL transaction may not do; the first count also advances the state.
    with store.begin() as conn:
        record = _checked_record(conn, election_id)
        if record.election_key is not None:
            raise InputError(
                "a verifiable election is counted from its trustees' decryption"
                " ('tallyroom tally'), not with a returning officer's key",
                path=str(private_key_file),
            )
        if record.ballot_public_key != keys.public:
            raise InputError(
                "this is not the key the election's ballots are sealed to",
                path=str(private_key_file),
            )

        def opened_of(contest: Contest) -> list[OpenedBallot]:
            box = list(ballots.iter_sealed_tagged(conn, election_id, contest.name))
            plaintexts = opener.open_many([sealed for sealed, _, _, _ in box])
            return [
                (_read(contest, plaintext), section, weight, unit)
                for plaintext, (_, section, weight, unit) in zip(plaintexts, box, strict=True)
            ]

        decl = _declaration(conn, record, opened_of)
        if advance and record.state is ElectionState.CLOSED:
            _counted(conn, election_id, decl, actor)
    return decl


def count_opened(
    store: Store,
    election_id: int,
    opened: Mapping[str, Sequence[OpenedBallot]],
    *,
    actor: str = "count",
    advance: bool = True,
) -> Declaration:
    """Count ballots opened elsewhere (a verifiable election's decrypted, shuffled board:
    services/tally.py), contest name -> its ballots, after the same check of the stored
    record as :func:`count_election`; the first count moves a closed election to
    ``counted``."""
    with store.begin() as conn:
        record = _checked_record(conn, election_id)
        decl = _declaration(conn, record, lambda contest: opened.get(contest.name, ()))
        if advance and record.state is ElectionState.CLOSED:
            _counted(conn, election_id, decl, actor)
    return decl


def _counted(conn: Connection, election_id: int, decl: Declaration, actor: str) -> None:
    elections.advance(
        conn,
        election_id,
        ElectionState.COUNTED,
        actor=actor,
        payload={"declaration_sha256": declaration_digest(decl)},
    )


def declare(store: Store, election_id: int, decl: Declaration, *, actor: str) -> None:
    """Record and publish the declaration: ``counted -> declared`` (from ``closed``, through
    ``counted``), with its digest and headline figures in the audit log, the document and its
    downloads in the store; all in one transaction, after the files are built."""
    if decl.election_id != election_id:
        raise InputError("the declaration is another election's", value=decl.election_id)
    summary: dict[str, JsonValue] = {
        c.contest: {
            "winners": list(c.winners),
            "valid": c.valid,
            "spoilt": c.spoilt,
            "electorate": c.electorate,
            "turnout_percent": str(c.turnout_percent),
        }
        for c in decl.contests
    }
    document = json.dumps(declaration_document(decl), sort_keys=True, separators=(",", ":"))
    # every file is built before anything changes: a declaration that cannot be written
    # leaves the election as it was, and can be retried
    files = [DeclarationFile(*f) for f in declaration_downloads(decl)]
    # The exact bytes stored and served: `sha256sum` of a download gives the same digest.
    hashes: dict[str, JsonValue] = {f.name: hashlib.sha256(f.content).hexdigest() for f in files}
    with store.begin() as conn:
        if elections.get_election(conn, election_id).state is ElectionState.CLOSED:
            _counted(conn, election_id, decl, actor)
        elections.advance(
            conn,
            election_id,
            ElectionState.DECLARED,
            actor=actor,
            payload={
                "declaration_sha256": declaration_digest(decl),
                "document_sha256": hashlib.sha256(document.encode("utf-8")).hexdigest(),
                "files": hashes,
                "contests": summary,
            },
        )
        declarations.publish(conn, election_id, document, files)
