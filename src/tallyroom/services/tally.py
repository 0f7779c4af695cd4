"""A verifiable election's tally: the closed board mixed, decrypted by trustees, and counted.

After the close (issue 15, items 4 and 5; docs/verifiable.md, docs/election-record.md):

1. **Groups.** The board (services/board.py; complete once the close has extended it) is cut
   into *groups* by everything the count needs of a ballot besides its content: contest,
   voter section (the declaration reports by section), weight (a weighted election) and unit
   (a contest counted by unit), one group per distinct key on the board, each the group's
   ballots' ciphertext rows in board order, the groups in the order of
   verify/record_format.py ``mix_groups`` (:func:`board_groups`). Each function below reads
   and decodes the board once.
2. **Mix.** Each group passes through the election's mixers in turn (``[verifiable] mixers``,
   each a trustee on their own machine: ``tallyroom trustee mix``). Mixer ``j`` takes the rows
   stage ``j - 1`` published (the board for ``j = 1``), re-encrypts and permutes them and
   proves it (crypto/shuffle.py, bound to :func:`mix_context` of the whole group key and
   ``j``). :func:`add_mix` checks the proof against the rows before it and stores the stage;
   no stage is stored that does not verify.
3. **Decrypt.** Each decrypting trustee publishes a share of every element of the last stage's
   rows with a Chaum-Pedersen proof (``tallyroom trustee decrypt``); :func:`add_decryption`
   checks every proof against the trustee's verification key before storing them.
4. **Count.** With every group mixed by every mixer and decrypted by at least the threshold
   of trustees (the lowest-numbered ``threshold`` of those who decrypted are combined:
   deterministic), :func:`count_tally` combines the shares into plaintexts, decodes each row
   to its ballot (crypto/ballot_encoding.py) and counts them with the exact engine
   (services/counting.py ``count_opened``), each ballot with its group's section, weight and
   unit, as the sealed path counts a ballot with those stored beside it (so an electoral
   college, a weighted contest and a contest counted by unit are counted and declared as
   the sealed path would count the same ballots). A row that decodes to no ballot, or to one
   the contest's ballot rules refuse, is counted as an invalid (spoilt) ballot with its
   reason, and so is a blank one.

Every stage and decryption stored is recorded in the audit log (``tally_part``: the part's
name and SHA-256), so a part edited in the database afterwards fails ``audit verify``
(check ``tally``) and the count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from tallyroom.audit.events import Action
from tallyroom.crypto.ballot_encoding import (
    BallotShape,
    InvalidBallot,
    decode_rows,
    width,
)
from tallyroom.crypto.ceremony_messages import ElectionKey
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.encrypted_ballot import EncryptedBallot
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import Row, check_shuffle_proof
from tallyroom.crypto.tally_encoding import shares_from_bytes, stage_from_bytes
from tallyroom.crypto.threshold import DecryptionShare, combine_many, verify_shares_many
from tallyroom.election.definition import Contest, ElectionDefinition
from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, LifecycleError, ProofRejected
from tallyroom.report.declaration import Declaration
from tallyroom.services.ballot_encryption import contest_shape
from tallyroom.services.counting import OpenedBallot, count_opened, declare
from tallyroom.services.elections import ballot_definition, get_election
from tallyroom.services.voting import ballot_rule_broken, mark_limit
from tallyroom.store import audit, board, elections, tally
from tallyroom.store.elections import ElectionRecord
from tallyroom.store.engine import Store
from tallyroom.store.tally import PartKind, TallyPart
from tallyroom.verify.record_format import GroupKey, group_key, mix_context

__all__ = [
    "BoardGroup",
    "GroupRows",
    "GroupStatus",
    "add_decryption",
    "add_mix",
    "board_groups",
    "check_decryption",
    "check_mix",
    "count_tally",
    "declare_tally",
    "group_rows",
    "mix_context",
    "next_rows",
    "store_parts",
    "tally_status",
]

_AFTER_CLOSE = (ElectionState.CLOSED, ElectionState.COUNTED, ElectionState.DECLARED)


@dataclass(frozen=True, slots=True)
class BoardGroup:
    """One group's ballots (one contest, section, weight and unit: verify/record_format.py
    ``GroupKey``; the section ``""`` for none), as ciphertext rows in board order."""

    contest: str
    section: str
    width: int
    rows: tuple[Row, ...]
    weight: str | None = None
    unit: str | None = None

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.contest, self.section or None, self.weight, self.unit)

    @property
    def name(self) -> str:
        """``CONTEST/SECTION[/weight=W][/unit=U]``, as messages and the audit log name it."""
        return self.key.name


@dataclass(frozen=True, slots=True)
class GroupStatus:
    """How far a group's tally has come: mixers done of those needed, trustees decrypted."""

    contest: str
    section: str
    ballots: int
    mixed: int
    mixers: int
    decrypted: tuple[int, ...]
    threshold: int
    weight: str | None = None
    unit: str | None = None

    @property
    def ready(self) -> bool:
        return self.mixed == self.mixers and len(self.decrypted) >= self.threshold

    @property
    def name(self) -> str:
        return GroupKey(self.contest, self.section or None, self.weight, self.unit).name


@dataclass(frozen=True, slots=True)
class GroupRows:
    """A group, the mixers done of ``mixers``, and the rows its next step takes (the last
    stage's rows, or the board's before any mixer)."""

    group: BoardGroup
    mixed: int
    mixers: int
    rows: tuple[Row, ...]
    context: str


@dataclass(frozen=True, slots=True)
class _Tally:
    record: ElectionRecord
    definition: ElectionDefinition
    key: ElectionKey
    mixers: int


def _tally(conn: Connection, record: ElectionRecord) -> _Tally:
    definition = ballot_definition(conn, record)
    if definition.verifiable is None or record.election_key is None:
        raise InputError(
            "this election takes the sealed path: count it with the returning officer's key"
            " ('tallyroom election count')",
            field="election",
            value=record.slug,
        )
    state = elections.get_election(conn, record.id).state  # read-only: no row lock
    if state not in _AFTER_CLOSE:
        raise LifecycleError(
            f"cannot tally while the election is {state.words} (needs closed, counted or declared)",
            election=record.slug,
            field="state",
            value=state.value,
        )
    key = ElectionKey.from_json(record.election_key)
    return _Tally(record, definition, key, len(definition.verifiable.mixing))


def _groups(conn: Connection, t: _Tally) -> list[BoardGroup]:
    """Every group of the board, in one pass over it (see the module doc)."""
    pending = board.pending(conn, t.record.id)
    if pending:
        raise LifecycleError(
            f"{len(pending)} ballot(s) are not on the board yet: run 'tallyroom board extend"
            f" --election {t.record.slug}' first",
            election=t.record.slug,
        )
    widths = {c.name: width(contest_shape(c)) for c in t.definition.contests}
    rows: dict[GroupKey, list[Row]] = defaultdict(list)
    for position, entry, _, _ in board.entries(conn, t.record.id):
        if entry.contest not in widths:
            raise ProofRejected(
                "board",
                f"board position {position}: a ballot of contest {entry.contest!r}, which the"
                " definition does not have",
            )
        try:
            ballot = EncryptedBallot.from_bytes(entry.ballot, widths[entry.contest])
        except ProofRejected as exc:
            raise ProofRejected(exc.check, f"board position {position}: {exc.problem}") from None
        rows[group_key(entry)].append(ballot.ciphertexts)
    return [
        BoardGroup(k.contest, k.section or "", widths[k.contest], tuple(rows[k]), k.weight, k.unit)
        for k in sorted(rows, key=lambda k: k.order)
    ]


def board_groups(store: Store, slug: str) -> list[BoardGroup]:
    """The closed board's groups, in order (see the module doc)."""
    record = get_election(store, slug)
    with store.read() as conn:
        return _groups(conn, _tally(conn, record))


def _parts(conn: Connection, election_id: int) -> dict[GroupKey, list[TallyPart]]:
    """Every stored part, by group, in one query."""
    out: dict[GroupKey, list[TallyPart]] = defaultdict(list)
    for p in tally.parts(conn, election_id):
        out[GroupKey(p.contest, p.section or None, p.weight or None, p.unit or None)].append(p)
    return out


def _group(
    groups: Sequence[BoardGroup],
    contest: str,
    section: str,
    weight: str | None = None,
    unit: str | None = None,
) -> BoardGroup:
    key = GroupKey(contest, section or None, weight, unit)
    for g in groups:
        if g.key == key:
            return g
    raise InputError(
        "the board has no ballots of this contest, section, weight and unit",
        field="group",
        value=key.name,
    )


def _next(t: _Tally, group: BoardGroup, parts: Sequence[TallyPart]) -> GroupRows:
    stages = [p for p in parts if p.kind is PartKind.MIX]
    rows = stage_from_bytes(stages[-1].body).outputs if stages else group.rows
    context = mix_context(t.record.slug, group.contest, group.section, group.weight, group.unit)
    return GroupRows(group, len(stages), t.mixers, rows, context)


def _group_now(
    conn: Connection, t: _Tally, contest: str, section: str, weight: str | None, unit: str | None
) -> GroupRows:
    group = _group(_groups(conn, t), contest, section, weight, unit)
    parts = tally.parts(
        conn,
        t.record.id,
        contest=group.contest,
        section=group.section,
        weight=group.weight or "",
        unit=group.unit or "",
        kind=PartKind.MIX,
    )
    return _next(t, group, list(parts))


def next_rows(store: Store, slug: str) -> list[GroupRows]:
    """Every group with the rows its next step takes, reading the board once (what
    services/tally_files.py exports)."""
    record = get_election(store, slug)
    with store.read() as conn:
        t = _tally(conn, record)
        parts = _parts(conn, record.id)
        return [_next(t, g, parts.get(g.key, [])) for g in _groups(conn, t)]


def group_rows(
    store: Store,
    slug: str,
    contest: str,
    section: str,
    *,
    weight: str | None = None,
    unit: str | None = None,
) -> tuple[int, tuple[Row, ...]]:
    """The rows the next mixer takes (or, once every mixer has, the rows to decrypt), with
    the number of mixers done."""
    record = get_election(store, slug)
    with store.read() as conn:
        now = _group_now(conn, _tally(conn, record), contest, section, weight, unit)
        return now.mixed, now.rows


def _log(conn: Connection, election_id: int, part: TallyPart, actor: str) -> None:
    tally.add(conn, election_id, part)
    audit.append(
        conn,
        election_id,
        Action.TALLY_PART,
        actor=actor,
        payload={"part": part.name, "sha256": part.sha256, "bytes": len(part.body)},
    )


def check_mix(
    store: Store,
    slug: str,
    contest: str,
    section: str,
    data: bytes,
    *,
    weight: str | None = None,
    unit: str | None = None,
    workers: int = 2,
) -> TallyPart:
    """A mixer's stage of a group, once its proof verifies against the rows before it
    (:class:`ProofRejected` naming the check otherwise); store it with :func:`store_parts`."""
    stage = stage_from_bytes(data)
    record = get_election(store, slug)
    with store.read() as conn:
        t = _tally(conn, record)
        now = _group_now(conn, t, contest, section, weight, unit)
    where = now.group.name
    if stage.position != now.mixed + 1 or stage.position > t.mixers:
        expected = "none: every mixer has published" if now.mixed == t.mixers else now.mixed + 1
        raise ProofRejected(
            "mix", f"{where}: a stage from mixer {stage.position}; the next expected is {expected}"
        )
    check_shuffle_proof(
        now.rows,
        stage.outputs,
        stage.proof,
        t.key.public_key,
        context=now.context,
        position=stage.position,
        workers=workers,
    )
    return TallyPart(contest, section, PartKind.MIX, stage.position, data, weight or "", unit or "")


def _elements(rows: Sequence[Row]) -> list[Ciphertext]:
    return [ct for row in rows for ct in row]


def check_decryption(
    store: Store,
    slug: str,
    contest: str,
    section: str,
    data: bytes,
    *,
    weight: str | None = None,
    unit: str | None = None,
    workers: int = 2,
) -> TallyPart:
    """A trustee's shares of a fully mixed group, once every share's proof verifies
    (:class:`ProofRejected` naming the first that fails); store it with :func:`store_parts`."""
    trustee, shares = shares_from_bytes(data)
    record = get_election(store, slug)
    with store.read() as conn:
        t = _tally(conn, record)
        now = _group_now(conn, t, contest, section, weight, unit)
    where = now.group.name
    if now.mixed != t.mixers:
        raise LifecycleError(
            f"{where}: {now.mixed} of {t.mixers} mixers have published; decryption"
            " comes after the last",
            election=slug,
        )
    if not 1 <= trustee <= t.key.trustees:
        raise ProofRejected("trustee", f"trustees are numbered 1..{t.key.trustees}, not {trustee}")
    ciphertexts = _elements(now.rows)
    if len(shares) != len(ciphertexts):
        raise ProofRejected(
            "decryption", f"{where}: {len(shares)} shares for {len(ciphertexts)} ciphertexts"
        )
    rejected = verify_shares_many(t.key, ciphertexts, shares, workers=workers)
    if rejected:
        first = rejected[0]
        raise ProofRejected(
            first.check,
            f"{where}: share {first.index + 1} of trustee {trustee}: {first.problem}"
            f" ({len(rejected)} share(s) fail)",
        )
    return TallyPart(contest, section, PartKind.DECRYPTION, trustee, data, weight or "", unit or "")


def store_parts(store: Store, slug: str, parts: Sequence[TallyPart], *, actor: str) -> None:
    """Store checked parts (:func:`check_mix`, :func:`check_decryption`) in one transaction,
    each logged; all or none: refused if a part's place was taken meanwhile (a stage no longer
    the next of its group, a trustee's decryption already stored)."""
    record = get_election(store, slug)
    with store.begin() as conn:
        elections.require_state(conn, record.id, *_AFTER_CLOSE, doing="tally", exclusive=True)
        for part in parts:
            known = list(
                tally.parts(
                    conn,
                    record.id,
                    contest=part.contest,
                    section=part.section,
                    weight=part.weight,
                    unit=part.unit,
                    kind=part.kind,
                )
            )
            where = GroupKey(
                part.contest, part.section or None, part.weight or None, part.unit or None
            ).name
            if part.kind is PartKind.MIX and len(known) != part.number - 1:
                raise LifecycleError(
                    f"{where}: mixer {part.number}'s stage is no longer the next (mixers done:"
                    f" {len(known)}); export the inputs again",
                    election=slug,
                )
            if part.kind is PartKind.DECRYPTION and any(p.number == part.number for p in known):
                raise LifecycleError(
                    f"{where}: trustee {part.number}'s decryption is already stored",
                    election=slug,
                )
            _log(conn, record.id, part, actor)


def add_mix(
    store: Store,
    slug: str,
    contest: str,
    section: str,
    data: bytes,
    *,
    actor: str,
    weight: str | None = None,
    unit: str | None = None,
    workers: int = 2,
) -> MixStage:
    """Check and store a mixer's stage of a group (nothing stored if it fails)."""
    part = check_mix(store, slug, contest, section, data, weight=weight, unit=unit, workers=workers)
    store_parts(store, slug, [part], actor=actor)
    return stage_from_bytes(data)


def add_decryption(
    store: Store,
    slug: str,
    contest: str,
    section: str,
    data: bytes,
    *,
    actor: str,
    weight: str | None = None,
    unit: str | None = None,
    workers: int = 2,
) -> int:
    """Check and store a trustee's shares of a group (nothing stored if one fails)."""
    part = check_decryption(
        store, slug, contest, section, data, weight=weight, unit=unit, workers=workers
    )
    store_parts(store, slug, [part], actor=actor)
    return part.number


def tally_status(store: Store, slug: str) -> list[GroupStatus]:
    """Each group's progress, in group order (one read of the board and of the parts)."""
    record = get_election(store, slug)
    with store.read() as conn:
        t = _tally(conn, record)
        parts = _parts(conn, record.id)
        out = []
        for g in _groups(conn, t):
            mine = parts.get(g.key, [])
            mixed = sum(1 for p in mine if p.kind is PartKind.MIX)
            decrypted = tuple(p.number for p in mine if p.kind is PartKind.DECRYPTION)
            out.append(
                GroupStatus(
                    g.contest,
                    g.section,
                    len(g.rows),
                    mixed,
                    t.mixers,
                    decrypted,
                    t.key.threshold,
                    g.weight,
                    g.unit,
                )
            )
        return out


def _opened(contest: Contest, shape: BallotShape, ballot: object) -> tuple[int, ...] | str:
    """A decoded row as the count takes it: candidate codes, or why it is invalid."""
    if isinstance(ballot, InvalidBallot):
        return f"invalid ({ballot.reason.value})"
    codes = tuple(ballot) if isinstance(ballot, tuple) else ()
    if not codes:
        return "blank"
    if len(codes) > mark_limit(contest):
        return f"invalid (too many marks: {len(codes)})"
    broken = ballot_rule_broken(contest, codes)
    return codes if broken is None else f"invalid (ballot rule: {broken})"


def count_tally(
    store: Store, slug: str, *, actor: str = "count", advance: bool = True, workers: int = 2
) -> Declaration:
    """Combine, decode and count every group (see the module doc); the declaration."""
    record = get_election(store, slug)
    opened: dict[str, list[OpenedBallot]] = defaultdict(list)
    with store.read() as conn:
        t = _tally(conn, record)
        contests = {c.name: c for c in t.definition.contests}
        parts = _parts(conn, record.id)
        for g in _groups(conn, t):
            mine = parts.get(g.key, [])
            stages = [stage_from_bytes(p.body) for p in mine if p.kind is PartKind.MIX]
            decryptions = [p for p in mine if p.kind is PartKind.DECRYPTION]
            where = g.name
            if len(stages) != t.mixers:
                raise LifecycleError(
                    f"{where}: {len(stages)} of {t.mixers} mixers have published", election=slug
                )
            if len(decryptions) < t.key.threshold:
                raise LifecycleError(
                    f"{where}: {len(decryptions)} trustee(s) have decrypted, {t.key.threshold}"
                    " needed",
                    election=slug,
                )
            chosen = sorted(decryptions, key=lambda p: p.number)[: t.key.threshold]
            shares: list[tuple[DecryptionShare, ...]] = [
                shares_from_bytes(p.body)[1] for p in chosen
            ]
            plaintexts = combine_many(t.key, _elements(stages[-1].outputs), shares, workers=workers)
            contest = contests[g.contest]
            shape = contest_shape(contest)
            # each ballot with its group's section, weight and unit: what the sealed path
            # stores beside a ballot and counts it with (services/counting.py)
            for ballot in decode_rows(shape, plaintexts):
                opened[g.contest].append(
                    (_opened(contest, shape, ballot), g.section or None, g.weight, g.unit)
                )
    return count_opened(store, record.id, opened, actor=actor, advance=advance)


def declare_tally(store: Store, slug: str, *, actor: str, workers: int = 2) -> Declaration:
    """Count the tally (again, if counted before: the same figures) and declare the result,
    all or nothing (services/counting.py ``declare``)."""
    decl = count_tally(store, slug, actor=actor, advance=False, workers=workers)
    declare(store, decl.election_id, decl, actor=actor)
    return decl
