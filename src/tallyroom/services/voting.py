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
* ``block``: distinct candidates, at most ``seats`` of them.

Online, an empty ballot is refused (to abstain, leave the contest out). On a postal paper an
empty contest is a spoilt ballot (reason ``blank``).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.crypto.credentials import normalise_credential
from tallyroom.crypto.sealing import seal_ballot
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.election.reader import parse_definition
from tallyroom.errors import InputError
from tallyroom.store import audit, ballots, credentials, elections, postal
from tallyroom.store.ballots import Receipt
from tallyroom.store.credentials import CredentialKey
from tallyroom.store.engine import Store
from tallyroom.store.errors import AlreadyCast, CredentialRejected, LifecycleError
from tallyroom.store.schema import CastChannel, ElectionState

__all__ = [
    "BALLOT_FORMAT_VERSION",
    "BLOCK_RULES",
    "PostalImport",
    "SpoiltReason",
    "ballot_plaintext",
    "cast_ballot",
    "import_postal_batch",
    "validate_ranking",
]

BALLOT_FORMAT_VERSION = 1
SINGLE_MARK_RULES = frozenset({"plurality"})
BLOCK_RULES = frozenset({"block"})
# The separator between preferences in a postal CSV cell, best first: "Ann>Bob".
POSTAL_SEPARATOR = ">"


class SpoiltReason:
    """Why a postal ballot is spoilt (the keys of :attr:`PostalImport.spoilt`)."""

    BLANK = "blank"
    UNREADABLE_CREDENTIAL = "unreadable_credential"
    INVALID_MARKS = "invalid_marks"


def validate_ranking(contest: Contest, ranking: Sequence[str]) -> tuple[int, ...]:
    """The ballot's candidate indexes, or InputError naming the contest, field and value."""
    names = contest.candidate_names
    where = f"choices[{contest.name}]"
    if isinstance(ranking, str):
        raise InputError("a ballot is a list of candidate names", field=where, value=ranking)
    if not ranking:
        raise InputError("the ballot marks no candidate", field=where, value=[])
    limit = len(names)
    if contest.rule in SINGLE_MARK_RULES:
        limit = 1
    elif contest.rule in BLOCK_RULES:
        limit = contest.seats
    if len(ranking) > limit:
        raise InputError(
            f"at most {limit} candidate(s) may be marked under rule {contest.rule!r}",
            field=where,
            value=list(ranking),
        )
    codes: list[int] = []
    for k, name in enumerate(ranking):
        if name not in names:
            raise InputError("not a candidate in this contest", field=f"{where}[{k}]", value=name)
        code = names.index(name)
        if code in codes:
            raise InputError("the candidate is marked twice", field=f"{where}[{k}]", value=name)
        codes.append(code)
    return tuple(codes)


def _canonical(contest: str, codes: Sequence[int]) -> str:
    doc = {"contest": contest, "ranking": list(codes), "v": BALLOT_FORMAT_VERSION}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ballot_plaintext(contest: Contest, codes: Sequence[int]) -> bytes:
    """The canonical, padded plaintext that is sealed (see the module docstring)."""
    n = len(contest.candidate_names)
    longest = len(_canonical(contest.name, [n - 1] * n).encode("utf-8"))
    text = _canonical(contest.name, codes).encode("utf-8")
    return text + b" " * (longest - len(text))


def _validate_all(
    definition: ElectionDefinition, choices: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, ...]]:
    if not choices:
        raise InputError("no contest was voted in", field="choices", value={})
    known = {c.name for c in definition.contests}
    out: dict[str, tuple[int, ...]] = {}
    for name, ranking in choices.items():
        if name not in known:
            raise InputError("no such contest in this election", field="choices", value=name)
        out[name] = validate_ranking(definition.contest(name), ranking)
    return out


def _public_key(conn: Connection, election_id: int) -> bytes:
    record = elections.get_election(conn, election_id)
    if record.ballot_public_key is None:
        raise LifecycleError("the ballot key is not set", election=election_id)
    return record.ballot_public_key


def _cast_in(
    conn: Connection,
    election_id: int,
    definition: ElectionDefinition,
    public_key: bytes,
    credential_id: int,
    rankings: Mapping[str, tuple[int, ...]],
    *,
    channel: CastChannel = CastChannel.ONLINE,
    postal_batch_id: int | None = None,
) -> list[Receipt]:
    """Seal and cast already-validated rankings in the caller's transaction."""
    receipts = []
    for name in sorted(rankings):
        sealed = seal_ballot(public_key, ballot_plaintext(definition.contest(name), rankings[name]))
        receipts.append(
            ballots.cast(
                conn,
                election_id,
                name,
                credential_id,
                sealed,
                channel=channel,
                postal_batch_id=postal_batch_id,
                with_section=True,
            )
        )
    return receipts


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
    unknown or revoked credential, :class:`AlreadyCast` for a second ballot in a contest.
    Nothing is stored when any of them is raised.
    """
    with store.begin() as conn:
        elections.require_state(conn, election_id, ElectionState.OPEN, doing="cast a ballot")
        definition = parse_definition(elections.get_election(conn, election_id).definition)
        rankings = _validate_all(definition, choices)
        public_key = _public_key(conn, election_id)
        record = credentials.authenticate(
            conn, election_id, credential_key, normalise_credential(credential_text)
        )
        receipts = _cast_in(conn, election_id, definition, public_key, record.id, rankings)
    return receipts


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
    """Cast the papers of a postal batch CSV, in one transaction (a savepoint per paper).

    Columns: ``credential`` and one column per contest holding the candidates best first,
    separated by ``>`` (``Ann>Bob``); an empty cell is a blank ballot in that contest.
    A paper whose credential cannot be read or is not a live credential is spoilt in every
    contest (``unreadable_credential``); an empty cell is spoilt ``blank``, marks its rule
    does not allow ``invalid_marks``; the paper's other contests are still cast. A paper
    whose voter already voted (online or by post) in one of its contests is refused whole
    (``already_cast``). The spoilt counts are recorded in the batch's audit event.
    """
    with store.begin() as conn:
        elections.require_state(conn, election_id, ElectionState.OPEN, doing="import postal")
        definition = parse_definition(elections.get_election(conn, election_id).definition)
        names = [c.name for c in definition.contests]
        rows = _postal_rows(Path(path_csv), names)
        public_key = _public_key(conn, election_id)
        batch = postal.open_batch(conn, election_id, label, len(rows), actor=actor)
        spoilt: dict[str, Counter[str]] = {n: Counter() for n in names}
        refused: Counter[str] = Counter()
        cast = 0
        for _line, row in rows:
            try:
                text = normalise_credential(row.get("credential") or "")
                record = credentials.authenticate(conn, election_id, credential_key, text)
            except (InputError, CredentialRejected):
                for n in names:
                    spoilt[n][SpoiltReason.UNREADABLE_CREDENTIAL] += 1
                continue
            rankings: dict[str, tuple[int, ...]] = {}
            for n in names:
                cell = (row.get(n) or "").strip()
                if not cell:
                    spoilt[n][SpoiltReason.BLANK] += 1
                    continue
                ranking = [part.strip() for part in cell.split(POSTAL_SEPARATOR)]
                try:
                    rankings[n] = validate_ranking(definition.contest(n), ranking)
                except InputError:
                    spoilt[n][SpoiltReason.INVALID_MARKS] += 1
            if not rankings:
                continue
            savepoint = conn.begin_nested()
            try:
                _cast_in(
                    conn,
                    election_id,
                    definition,
                    public_key,
                    record.id,
                    rankings,
                    channel=CastChannel.POSTAL,
                    postal_batch_id=batch.id,
                )
            except AlreadyCast:
                savepoint.rollback()
                refused["already_cast"] += 1
                continue
            savepoint.commit()
            cast += 1
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
