"""Casting: a voter's ballots checked, sealed and cast in one transaction; postal returns.

:func:`cast_ballot` is the casting contract of ``docs/architecture-store.md``:

1. in one write transaction: the poll must be open; every contest's ballot is checked against
   its rule (nothing is written before all of them pass); the credential is authenticated;
   each ballot is serialised canonically, sealed to the election's public key and cast;
2. the receipts are returned only once the transaction has committed.

An error anywhere rolls the whole transaction back: no contest is half cast.

The canonical plaintext of a ballot is JSON with sorted keys and no spaces,
``{"contest":"leader","ranking":[1,0],"v":1}`` (candidate indexes in ballot order, best first),
padded with spaces to the length of the longest possible ballot of the contest, so that the
sealed box's length does not tell a database reader how many preferences a voter gave.

Validation by rule (``Contest.rule``):

* ranked rules (``irv``, ``stv`` and the STV variants): distinct candidates of the contest,
  at most as many as there are candidates;
* ``plurality``: exactly one candidate (the rule reads only the first preference, so more
  marks would be silently ignored: refused instead);
* ``block``: distinct candidates, at most ``seats`` of them;
* ``motion``: exactly one of the motion's answers (``Yes``/``No``, or ``For``/``Against``/
  ``Abstain``); two answers, or an answer the paper does not offer, is refused online and
  spoilt (``invalid_marks``) on a postal paper.

A contest's ballot rules (``[[contests.ballot_rules]]``: "a valid ballot marks at least 6
women") are checked here too: online such a ballot is refused with the rule in words, so the
voter can mend it; on a postal paper it is spoilt (``invalid_marks``).

Online, an empty ballot is refused (to abstain, leave the contest out). On a postal paper an
empty contest is a spoilt ballot (reason ``blank``).

On the verifiable path (a definition with ``[verifiable]``) every ballot that would be sealed
is instead encrypted under the election key with its proof, checked, and stored as its bytes
(:mod:`tallyroom.services.ballot_encryption`): the same checks first, the same receipts (the
SHA-256 of the stored bytes), the same box. A spoilt postal ballot cannot carry its reason in
a ciphertext: it is encrypted as a blank ballot (the encoding's code 0), and its reason is
counted in the batch's audit event as on the sealed path.
"""

from __future__ import annotations

import csv
import functools
import json
import threading
import unicodedata
import weakref
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.count.rules.registry import get_rule
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.credentials import normalise_credential
from tallyroom.crypto.sealing import seal_ballot
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.errors import (
    AlreadyCast,
    CredentialRejected,
    InputError,
    LifecycleError,
    NotInContest,
    TallyroomError,
    TooManyAttempts,
)
from tallyroom.services.attempts import (
    Attempt,
    Claim,
    admit_places,
    counts_as_failure,
    settle_places,
    take_places,
)
from tallyroom.services.ballot_encryption import CastingKey, casting_key, encrypt_contest
from tallyroom.services.elections import ballot_definition
from tallyroom.store import audit, ballots, elections, postal
from tallyroom.store.ballots import Receipt
from tallyroom.store.engine import Store
from tallyroom.store.schema import CastChannel, ElectionState

__all__ = [
    "BALLOT_FORMAT_VERSION",
    "CastOutcome",
    "CastRequest",
    "PostalImport",
    "Receipt",
    "SpoiltReason",
    "ballot_plaintext",
    "ballot_rule_broken",
    "cast_ballot",
    "cast_ballots",
    "import_postal_batch",
    "mark_limit",
    "validate_ranking",
]

BALLOT_FORMAT_VERSION = 1
# The separator between preferences in a postal CSV cell, best first: "Ann>Bob".
POSTAL_SEPARATOR = ">"


class SpoiltReason:
    """Why a postal ballot is spoilt (the keys of :attr:`PostalImport.spoilt`)."""

    BLANK = "blank"
    UNREADABLE_CREDENTIAL = "unreadable_credential"
    INVALID_MARKS = "invalid_marks"
    ALL = (BLANK, UNREADABLE_CREDENTIAL, INVALID_MARKS)


def mark_limit(contest: Contest) -> int:
    """How many candidates a ballot of ``contest`` may mark (see the module docstring)."""
    return get_rule(contest.rule).mark_limit(contest.seats, len(contest.candidate_names))


def validate_ranking(contest: Contest, ranking: Sequence[str]) -> tuple[int, ...]:
    """The ballot's candidate indexes, or InputError naming the contest, field and value."""
    names = contest.candidate_names
    where = f"choices[{contest.name}]"
    if isinstance(ranking, str):
        raise InputError("a ballot is a list of candidate names", field=where, value=ranking)
    if not ranking:
        raise InputError("the ballot marks no candidate", field=where, value=[])
    limit = mark_limit(contest)
    if contest.motion is not None and len(ranking) > 1:
        answers = ", ".join(contest.motion.answers)
        raise InputError(
            f"a motion takes exactly one answer ({answers})", field=where, value=list(ranking)
        )
    if len(ranking) > limit:
        raise InputError(
            f"at most {limit} candidate(s) may be marked under rule {contest.rule!r}",
            field=where,
            value=list(ranking),
        )
    codes: list[int] = []
    for k, given in enumerate(ranking):
        # Names are stored in NFC: a device that sends "Seán" decomposed means the same name.
        name = unicodedata.normalize("NFC", given) if isinstance(given, str) else given
        if name not in names:
            what = "a candidate in this contest"
            if contest.motion is not None:
                what = "an answer to this motion"
            raise InputError(f"not {what}", field=f"{where}[{k}]", value=name)
        code = names.index(name)
        if code in codes:
            raise InputError("the candidate is marked twice", field=f"{where}[{k}]", value=name)
        codes.append(code)
    broken = ballot_rule_broken(contest, codes)
    if broken is not None:
        raise InputError(f"the ballot is not valid: {broken}", field=where, value=list(ranking))
    return tuple(codes)


def ballot_rule_broken(contest: Contest, codes: Sequence[int]) -> str | None:
    """The first of the contest's ballot rules (``[[contests.ballot_rules]]``) that a ballot
    marking ``codes`` fails, in words, or ``None``."""
    for rule in contest.ballot_rules:
        marked = sum(1 for c in codes if rule.group in contest.candidates[c].groups)
        if marked < rule.at_least or (rule.at_most is not None and marked > rule.at_most):
            return f"{rule.describe()}; it marks {marked}"
    return None


def _canonical(contest: str, codes: Sequence[int], spoilt: str | None = None) -> str:
    doc: dict[str, object] = {
        "contest": contest,
        "ranking": list(codes),
        "v": BALLOT_FORMAT_VERSION,
    }
    if spoilt is not None:
        doc["spoilt"] = spoilt
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_LONGEST_REASON = max(len(r) for r in SpoiltReason.ALL)


@functools.lru_cache(maxsize=256)
def _padded_length(contest: str, candidates: int) -> int:
    """Every plaintext of a contest is padded to its longest possible one (a full ranking, or
    a spoilt ballot with the longest reason), so a sealed ballot's size tells nothing."""
    n = candidates
    return max(
        len(_canonical(contest, [n - 1] * n).encode("utf-8")),
        len(_canonical(contest, [], "x" * _LONGEST_REASON).encode("utf-8")),
    )


def ballot_plaintext(contest: Contest, codes: Sequence[int], *, spoilt: str | None = None) -> bytes:
    """The canonical, padded plaintext that is sealed (see the module docstring)."""
    longest = _padded_length(contest.name, len(contest.candidate_names))
    text = _canonical(contest.name, codes, spoilt).encode("utf-8")
    return text + b" " * (longest - len(text))


def _validate_all(
    definition: ElectionDefinition, choices: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, ...]]:
    if not choices:
        raise InputError("no contest was voted in", field="choices", value={})
    known = {c.name for c in definition.contests}
    out: dict[str, tuple[int, ...]] = {}
    for given, ranking in choices.items():
        name = unicodedata.normalize("NFC", given) if isinstance(given, str) else given
        if name not in known:
            raise InputError("no such contest in this election", field="choices", value=name)
        out[name] = validate_ranking(definition.contest(name), ranking)
    return out


@dataclass(frozen=True, slots=True)
class CastRequest:
    """One voter's ballots: the credential as typed, and per contest the names best first."""

    credential: str
    choices: Mapping[str, Sequence[str]]


CastOutcome = list[Receipt] | TallyroomError


@dataclass(frozen=True, slots=True)
class _Poll:
    definition: ElectionDefinition
    public_key: bytes | None  # the officer's sealing key (the sealed path)
    slug: str = ""
    election_key: CastingKey | None = None  # the verifiable path's key

    @property
    def sections(self) -> dict[str, frozenset[str]]:
        """contest -> the sections whose voters vote in it."""
        return {c.name: frozenset(c.sections) for c in self.definition.contests}

    @property
    def units(self) -> frozenset[str]:
        """The contests counted by unit, whose ballots are stored with the voter's unit."""
        return frozenset(
            c.name for c in self.definition.contests if c.motion is not None and c.motion.units
        )


def _poll(store: Store, election_id: int, held: CastingKey | None = None) -> _Poll:
    """What casting needs from the election, read once per batch (fixed while the poll is
    open); the store checks the state again in the casting transaction. On the verifiable
    path, ``held`` (the poll cache's parsed key) is used if it is the stored key."""
    # a read (no write lock): the casting transaction checks the state again
    with store.read() as conn:
        record = elections.get_election(conn, election_id)
        if record.state is ElectionState.OPEN:
            definition = ballot_definition(conn, record)
    if record.state is not ElectionState.OPEN:
        with store.begin() as conn:  # the refusal, in require_state's own words
            elections.require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
        return _poll(store, election_id, held)  # it opened in between
    return _poll_of(record, definition, held)


# What casting needs from an open election, per store and election. An election only moves
# forward, and its definition, ballot papers and keys are all fixed before its poll opens
# (each store function that writes them requires an earlier state), so what was read once
# the poll was open stays true; the casting transaction still checks the state every time.
_OPEN_POLLS: weakref.WeakKeyDictionary[Store, dict[int, _Poll]] = weakref.WeakKeyDictionary()
_OPEN_POLLS_LOCK = threading.Lock()


def _poll_in(conn: Connection, store: Store, election_id: int, held: CastingKey | None) -> _Poll:
    """:func:`_poll` read in the caller's (casting) transaction, once per open election and
    store (see ``_OPEN_POLLS``)."""
    with _OPEN_POLLS_LOCK:
        known = _OPEN_POLLS.get(store, {}).get(election_id)
    if known is not None:  # its key, if any, is the stored one (casting_key checked it)
        return known
    record = elections.get_election(conn, election_id)
    if record.state is not ElectionState.OPEN:  # the refusal, in require_state's own words
        elections.require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
    poll = _poll_of(record, ballot_definition(conn, record), held)
    with _OPEN_POLLS_LOCK:
        _OPEN_POLLS.setdefault(store, {})[election_id] = poll
    return poll


def _poll_of(
    record: elections.ElectionRecord, definition: ElectionDefinition, held: CastingKey | None
) -> _Poll:
    key = casting_key(record, definition, held)  # never seal a verifiable election's ballots
    if key is None and record.ballot_public_key is None:
        raise LifecycleError("the ballot key is not set", election=record.id)
    return _Poll(definition, record.ballot_public_key, record.slug, key)


def _seal(poll: _Poll, name: str, codes: Sequence[int], spoilt: str | None = None) -> bytes:
    """The bytes stored for a ballot: sealed, or on the verifiable path encrypted and checked
    (a spoilt postal ballot encrypted blank: see the module docstring)."""
    contest = poll.definition.contest(name)
    if poll.election_key is not None:
        return encrypt_contest(poll.election_key, poll.slug, contest, () if spoilt else codes)
    assert poll.public_key is not None  # _poll refuses a sealed election without one
    return seal_ballot(poll.public_key, ballot_plaintext(contest, codes, spoilt=spoilt))


def cast_ballots(
    store: Store,
    election_id: int,
    requests: Sequence[CastRequest],
    *,
    credential_key: CredentialKey,
    claims: Sequence[Sequence[Claim]] | None = None,
    election_key: CastingKey | None = None,
) -> list[CastOutcome]:
    """Cast many voters' ballots in one durable commit; per request its receipts or its error.

    This is the casting path for every voter (the booth casts a batch of one, a busy server
    or an import many): each request is checked against its contests' rules and its
    credential, sealed, and cast all or nothing (:func:`tallyroom.store.ballots.cast_many`).
    A refused request gets :class:`InputError` (a ballot its rule does not allow, an
    unreadable credential), :class:`CredentialRejected` (unknown or revoked) or
    :class:`AlreadyCast`, and stores nothing. Receipts are returned only after the commit.
    A closed poll refuses the whole batch (:class:`LifecycleError`).

    ``claims`` (per request, the attempt budgets its credential counts against: the web's
    JSON cast) are taken for the whole batch before any ballot is cast; a request over a
    budget gets :class:`~tallyroom.errors.TooManyAttempts` whatever its credential and
    stores nothing; the places of every request that did not fail on its credential are
    given back (:mod:`tallyroom.services.attempts`), all inside the casting transaction (one
    commit per batch for both). On SQLite the places are taken before any credential is
    looked up; on PostgreSQL just after the lookup, so that a batch without a guess takes
    no place at all and locks no counter (:func:`_cast_postgresql`); the answers are the
    same (a refused request is told only that the budget is spent).

    On the verifiable path each ballot is encrypted and its proof checked instead of sealed
    (:mod:`tallyroom.services.ballot_encryption`); ``election_key`` is a key parsed before
    (the web's poll cache), used only if it is the election's stored key. A verifiable
    election without a key refuses the batch (:class:`~tallyroom.errors.ElectionKeyMissing`).
    """
    if claims is not None and len(claims) != len(requests):
        raise ValueError(f"{len(claims)} claims for {len(requests)} requests")
    if store.backend == "postgresql":
        return _cast_postgresql(store, election_id, requests, credential_key, claims, election_key)
    poll = _poll(store, election_id, election_key)
    outcomes: list[CastOutcome | None] = [None] * len(requests)
    items, placed = _sealed(poll, requests, credential_key, outcomes)
    if claims is None:
        if items:
            with store.begin() as conn:
                results = ballots.cast_many(
                    conn, election_id, items, sections=poll.sections, units=poll.units
                )
            for k, result in zip(placed, results, strict=True):
                outcomes[k] = result
        return [o for o in outcomes if o is not None]
    with store.begin() as conn:
        taken = take_places(conn, claims)
        _cast_admitted(conn, election_id, poll, items, placed, taken, outcomes)
        settle_places(conn, *_settlement(taken, outcomes))
    return [o for o in outcomes if o is not None]


def _sealed(
    poll: _Poll,
    requests: Sequence[CastRequest],
    credential_key: CredentialKey,
    outcomes: list[CastOutcome | None],
) -> tuple[list[ballots.CastItem], list[int]]:
    """Each request checked against its contests' rules, its credential hashed and its
    ballots sealed: the items to cast and the request each came from; a request refused here
    has its error in ``outcomes``."""
    items: list[ballots.CastItem] = []
    placed: list[int] = []
    for k, request in enumerate(requests):
        try:
            rankings = _validate_all(poll.definition, request.choices)
            digest = credential_key.digest(normalise_credential(request.credential))
            sealed = {name: _seal(poll, name, codes) for name, codes in rankings.items()}
        except TallyroomError as exc:
            outcomes[k] = exc
            continue
        items.append(ballots.CastItem(digest, sealed))
        placed.append(k)
    return items, placed


def _cast_postgresql(
    store: Store,
    election_id: int,
    requests: Sequence[CastRequest],
    credential_key: CredentialKey,
    claims: Sequence[Sequence[Claim]] | None,
    election_key: CastingKey | None,
) -> list[CastOutcome]:
    """:func:`cast_ballots` on PostgreSQL: the whole batch in one transaction (one connection,
    one commit): the election read, the ballots sealed, the poll and the credentials checked,
    the budgets decided, the ballots cast, the places settled.

    The budgets (``claims``) are decided once the credentials have been looked up. A batch
    holding a guess (a credential malformed or not live) takes and settles its places in this
    transaction, exactly as on SQLite (the counters' rows then stay locked until the commit,
    which only batches holding guesses wait for). A batch of live credentials only, the busy
    booth's usual batch, cannot keep a place: it makes the same decisions from the committed
    counts and writes none (:func:`~tallyroom.services.attempts.admit_places`), so the batches
    of every worker behind one address neither queue on its row nor see each other's places
    in flight.
    """
    outcomes: list[CastOutcome | None] = [None] * len(requests)
    with store.begin() as conn:
        poll = _poll_in(conn, store, election_id, election_key)
        items, placed = _sealed(poll, requests, credential_key, outcomes)
        voters = ballots.open_poll_voters(conn, election_id, [i.credential_hash for i in items])
        if claims is None:
            _cast_admitted(conn, election_id, poll, items, placed, None, outcomes, voters)
            return [o for o in outcomes if o is not None]
        guessed = any(isinstance(o, TallyroomError) and counts_as_failure(o) for o in outcomes)
        guessed = guessed or any(i.credential_hash not in voters.live for i in items)
        if not guessed:
            admitted = admit_places(conn, claims)
            _cast_admitted(conn, election_id, poll, items, placed, admitted, outcomes, voters)
            return [o for o in outcomes if o is not None]
        taken = take_places(conn, claims)
        _cast_admitted(conn, election_id, poll, items, placed, taken, outcomes, voters)
        settle_places(conn, *_settlement(taken, outcomes))
    return [o for o in outcomes if o is not None]


def _cast_admitted(
    conn: Connection,
    election_id: int,
    poll: _Poll,
    items: Sequence[ballots.CastItem],
    placed: Sequence[int],
    taken: Sequence[Attempt | TooManyAttempts] | None,
    outcomes: list[CastOutcome | None],
    voters: ballots.Voters | None = None,
) -> None:
    """Refuse the requests over a budget; cast the rest of ``items`` (request ``placed[i]``);
    ``voters``: the poll and credentials already checked in this transaction."""
    for k, attempt in enumerate(taken or ()):
        if isinstance(attempt, TooManyAttempts):
            outcomes[k] = attempt
    admitted = [(k, item) for k, item in zip(placed, items, strict=True) if outcomes[k] is None]
    if not admitted:
        return
    results = ballots.cast_many(
        conn,
        election_id,
        [item for _, item in admitted],
        sections=poll.sections,
        units=poll.units,
        voters=voters,
    )
    for (k, _), result in zip(admitted, results, strict=True):
        outcomes[k] = result


def _settlement(
    taken: Sequence[Attempt | TooManyAttempts], outcomes: Sequence[CastOutcome | None]
) -> tuple[list[Attempt], list[bool]]:
    """The attempts admitted, and whether each failed on its credential (it keeps its places;
    the others' go back)."""
    done = [(a, o) for a, o in zip(taken, outcomes, strict=True) if isinstance(a, Attempt)]
    return [a for a, _ in done], [
        isinstance(o, TallyroomError) and counts_as_failure(o) for _, o in done
    ]


def cast_ballot(
    store: Store,
    election_id: int,
    credential_text: str,
    choices: Mapping[str, Sequence[str]],
    *,
    credential_key: CredentialKey,
) -> list[Receipt]:
    """Cast one voter's ballots (contest -> candidate names, best first); receipts after commit.

    Raises :class:`LifecycleError` unless the poll is open, :class:`InputError` for a ballot
    its rule does not allow or an unreadable credential, :class:`CredentialRejected` for an
    unknown or revoked credential, :class:`AlreadyCast` for a second ballot in a contest,
    :class:`NotInContest` for a contest the voter's section does not vote in. Nothing is
    stored when any of them is raised.
    """
    (outcome,) = cast_ballots(
        store, election_id, [CastRequest(credential_text, choices)], credential_key=credential_key
    )
    if isinstance(outcome, TallyroomError):
        raise outcome
    return outcome


@dataclass(frozen=True, slots=True)
class PostalImport:
    """What a postal batch import did: papers cast, spoilt (per contest and reason), refused."""

    batch_id: int
    papers: int
    cast: int
    spoilt: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    refused: Mapping[str, int] = field(default_factory=dict)


def _postal_rows(path: Path, contests: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        header = reader.fieldnames or []
        missing = [c for c in ("credential", *contests) if c not in header]
        if missing:
            raise InputError("missing columns", path=str(path), line=1, value=missing)
        return [(k + 2, dict(row)) for k, row in enumerate(reader)]


def import_postal_batch(
    store: Store,
    election_id: int,
    path_csv: Path,
    *,
    label: str,
    credential_key: CredentialKey,
    actor: str,
) -> PostalImport:
    """Cast the papers of a postal batch CSV, all in one transaction.

    Columns: ``credential`` and one column per contest holding the candidates best first,
    separated by ``>`` (``Ann>Bob``); an empty cell is a blank ballot in that contest.

    A paper whose credential cannot be read or is not a live credential cannot be tied to a
    voter: it is spoilt in every contest (``unreadable_credential``) and counted from the
    batch's audit event. Otherwise each contest on the paper is cast through the voter's
    credential, so the voter cannot also vote online: a valid ballot as usual, a blank cell
    or marks its rule does not allow as a sealed *spoilt* ballot (``blank``,
    ``invalid_marks``), which the count opens and reports by reason. A paper whose voter
    already voted (online or by post) in one of its contests is refused whole
    (``already_cast``), as is a paper marked in a contest its voter's section does not vote
    in (``not_in_contest``). The spoilt counts are recorded in the batch's audit event.
    """
    path = Path(path_csv)
    poll = _poll(store, election_id)
    names = [c.name for c in poll.definition.contests]
    rows = _postal_rows(path, names)
    spoilt: dict[str, Counter[str]] = {n: Counter() for n in names}
    refused: Counter[str] = Counter()
    papers: list[tuple[bytes, dict[str, str]]] = []
    for _line, row in rows:
        try:
            digest = credential_key.digest(normalise_credential(row.get("credential") or ""))
        except InputError:
            for n in names:
                spoilt[n][SpoiltReason.UNREADABLE_CREDENTIAL] += 1
            continue
        papers.append((digest, {n: (row.get(n) or "").strip() for n in names}))
    cast = 0
    with store.begin() as conn:
        batch = postal.open_batch(conn, election_id, label, len(rows), actor=actor)
        section_of = ballots.voter_sections(conn, election_id, [d for d, _ in papers])
        items: list[ballots.CastItem] = []
        reasons: list[dict[str, str]] = []
        for digest, cells in papers:
            section = section_of.get(digest)
            sealed: dict[str, bytes] = {}
            why: dict[str, str] = {}
            for n, cell in cells.items():
                if not cell and section not in poll.sections[n]:
                    continue  # a contest the voter has no vote in, left blank: nothing to cast
                ranking = [part.strip() for part in cell.split(POSTAL_SEPARATOR)] if cell else []
                try:
                    codes = validate_ranking(poll.definition.contest(n), ranking) if cell else None
                except InputError:
                    codes = None
                if codes is None:
                    why[n] = SpoiltReason.BLANK if not cell else SpoiltReason.INVALID_MARKS
                    sealed[n] = _seal(poll, n, (), spoilt=why[n])
                else:
                    sealed[n] = _seal(poll, n, codes)
            items.append(ballots.CastItem(digest, sealed))
            reasons.append(why)
        results = ballots.cast_many(
            conn,
            election_id,
            items,
            channel=CastChannel.POSTAL,
            postal_batch_id=batch.id,
            sections=poll.sections,
            units=poll.units,
        )
        for result, why in zip(results, reasons, strict=True):
            if isinstance(result, CredentialRejected):
                for n in names:
                    spoilt[n][SpoiltReason.UNREADABLE_CREDENTIAL] += 1
            elif isinstance(result, AlreadyCast):
                refused["already_cast"] += 1
            elif isinstance(result, NotInContest):
                refused["not_in_contest"] += 1
            elif isinstance(result, list):
                cast += 1
                for n, reason in why.items():
                    spoilt[n][reason] += 1
        spoilt_json = {n: dict(sorted(c.items())) for n, c in spoilt.items()}
        postal.seal_batch(conn, election_id, batch.id, actor=actor)
        audit.append(
            conn,
            election_id,
            Action.POSTAL_BATCH,
            actor=actor,
            payload={
                "label": label,
                "spoilt": {n: dict(c) for n, c in spoilt_json.items()},
                "refused": dict(refused),
            },
        )
    return PostalImport(batch.id, len(rows), cast, spoilt_json, dict(refused))
