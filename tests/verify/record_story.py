"""A verifiable election run end to end in memory, as the record's tests and benchmark need it:
the trustees' ceremony (3 trustees, threshold 2) by crypto/dkg.py's own steps, every message
signed and the key confirmed by each trustee, a key drill,
ballots encrypted for tests/verify/record_election.toml (two sections; IRV, STV and a motion),
the board chained and its heads logged in the audit log by the audit package's functions,
each (contest, section) group mixed by two mixers, decrypted by trustees 1 and 3, decoded,
and declared by the count's own declaration builder (services/counting.py ``_contest``)."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tallyroom.audit.board import BoardEntry, chain_board
from tallyroom.audit.chain import ChainedEvent, chain
from tallyroom.audit.events import Action, AuditEvent, JsonValue
from tallyroom.crypto import dkg, elgamal, group, threshold
from tallyroom.crypto.ballot_encoding import InvalidBallot, decode_rows, element_for_limb
from tallyroom.crypto.encrypted_ballot import EncryptedBallot, encrypt_ballot
from tallyroom.crypto.mixnet import mix
from tallyroom.crypto.proofs import BallotContext, prove_ballot
from tallyroom.election.definition import ElectionDefinition
from tallyroom.election.reader import parse_definition
from tallyroom.report.declaration import Declaration, declaration_document
from tallyroom.services.counting import _contest
from tallyroom.services.counting_motion import UnitBallots, motion_declaration
from tallyroom.verify.record_format import (
    CeremonyRecord,
    DecodedBallot,
    MixGroup,
    PostedBallot,
    RecordContents,
    TrusteeShares,
    contest_shape,
    contest_width,
    group_inputs,
    mix_context,
)

ELECTION = "record-test-2026"
DEFINITION = (Path(__file__).parent / "record_election.toml").read_text(encoding="utf-8")
ELECTION_ID = 7
DECRYPTING = (1, 3)
ELECTORATE = Counter({"members": 400, "registered": 150})


@dataclass(frozen=True)
class Story:
    """The record and what an attacker (a test) may use: the trustees' secret shares."""

    record: RecordContents
    secrets: dict[int, int]
    key: dkg.ElectionKey
    polynomials: dict[int, tuple[int, ...]]  # each dealer's, to answer a complaint
    seeds: dict[int, bytes]  # each trustee's Ed25519 seed, to sign a message as it would


def ceremony() -> tuple[
    CeremonyRecord, dict[int, int], dict[int, tuple[int, ...]], dict[int, bytes]
]:
    c = dkg.Ceremony(ELECTION, trustees=3, threshold=2)
    step1 = [dkg.make_communication_key(c, i) for i in (1, 2, 3)]
    keys = tuple(k for _, k in step1)
    dealt = [dkg.deal(c, own, keys) for own, _ in step1]
    commitments = tuple(m for _, m, _ in dealt)
    sealed = [s for _, _, shares in dealt for s in shares]
    secrets = {}
    confirmations = []
    for own, _, _ in dealt:
        good, complaints = dkg.open_shares(c, own, commitments, sealed)
        assert complaints == ()
        secrets[own.trustee] = dkg.finish(c, own, good).share or 0
        confirmations.append(dkg.confirm_key(c, own, commitments))
    key = dkg.election_key(c, commitments)
    challenge = threshold.start_key_drill(key)
    drill = threshold.finish_key_drill(
        key,
        challenge,
        [
            threshold.partial_decrypt(
                ELECTION, t, secrets[t], key.verification_key(t), challenge.ciphertext
            )
            for t in (1, 2)
        ],
    )
    polynomials = {own.trustee: own.polynomial for own, _, _ in dealt}
    seeds = {own.trustee: own.signing_seed for own, _ in step1}
    record = CeremonyRecord(c, keys, commitments, (), (), tuple(confirmations), key, drill)
    return record, secrets, polynomials, seeds


def _selection(rng: random.Random, contest: str, candidates: int) -> tuple[int, ...]:
    """A ranking (or answer) with candidates favoured unequally, so that a small count has
    no tie to draw lots for."""
    if contest == "rule-change":
        return (rng.choices(range(candidates), weights=[5, 2, 1][:candidates])[0],)
    order = sorted(range(candidates), key=lambda c: rng.random() * (1 + c) ** 1.5)
    return tuple(order[: rng.randint(1, candidates)])


def cast(
    definition: ElectionDefinition, key: dkg.ElectionKey, voters: int, seed: int
) -> list[BoardEntry]:
    """Every voter's ballots, plus one blank committee ballot and one leader ballot whose
    plaintext is no ballot (a device that encrypted a bad code: it is found at the end)."""
    rng = random.Random(seed)
    entries = []
    for _ in range(voters):
        section = "members" if rng.random() < 0.75 else "registered"
        for contest in definition.contests:
            if section not in contest.sections:
                continue
            shape = contest_shape(contest)
            selection = _selection(rng, contest.name, len(contest.candidates))
            context = BallotContext(ELECTION, contest.name)
            ballot = encrypt_ballot(key.public_key, context, shape, selection)
            entries.append(BoardEntry(contest.name, section, ballot.to_bytes()))
    if {"committee", "leader"} <= {c.name for c in definition.contests}:
        committee = definition.contest("committee")
        blank = encrypt_ballot(
            key.public_key, BallotContext(ELECTION, "committee"), contest_shape(committee), ()
        )
        entries.append(BoardEntry("committee", "members", blank.to_bytes()))
        r = group.random_scalar()
        bad = elgamal.encrypt(key.public_key, element_for_limb(1000), r)  # code 1000 of 5
        proof = prove_ballot(key.public_key, BallotContext(ELECTION, "leader"), (bad,), [r])
        bad_ballot = EncryptedBallot((bad,), proof).to_bytes()
        entries.append(BoardEntry("leader", "registered", bad_ballot))
    rng.shuffle(entries)  # the board is in receipt order within a batch, not casting order
    return entries


def post(entries: list[BoardEntry]) -> tuple[PostedBallot, ...]:
    links = list(chain_board(entries))
    return tuple(
        PostedBallot(k, e, e.receipt, link)
        for k, (e, link) in enumerate(zip(entries, links, strict=True), start=1)
    )


def mix_and_decrypt(
    definition: ElectionDefinition,
    key: dkg.ElectionKey,
    secrets: dict[int, int],
    board: tuple[PostedBallot, ...],
    *,
    trustees: tuple[int, ...] = DECRYPTING,
    workers: int = 1,
) -> tuple[MixGroup, ...]:
    out = []
    widths = {c.name: contest_width(c) for c in definition.contests}
    for gk, rows in group_inputs((p.entry for p in board), widths).items():
        contest_name = gk.contest
        shape = contest_shape(definition.contest(contest_name))
        context = mix_context(ELECTION, contest_name, gk.section, gk.weight, gk.unit)
        stages = mix(rows, key.public_key, 2, context=context, workers=workers)
        flat = [ct for row in stages[-1].outputs for ct in row]
        decryptions = tuple(
            TrusteeShares(
                t,
                tuple(
                    threshold.partial_decrypt_many(ELECTION, t, secrets[t], flat, workers=workers)
                ),
            )
            for t in trustees
        )
        plain = threshold.combine_many(key, flat, [d.shares for d in decryptions], workers=workers)
        ballots = tuple(decode_rows(shape, plain))
        out.append(
            MixGroup(
                contest_name,
                gk.section,
                widths[contest_name],
                stages,
                decryptions,
                ballots,
                gk.weight,
                gk.unit,
            )
        )
    return tuple(out)


def declare(
    definition: ElectionDefinition,
    groups: tuple[MixGroup, ...],
    unit_electorate: dict[tuple[str, str], int] | None = None,
) -> bytes:
    """The stored results document, as services/counting.py's declare() stores it, built by
    the count's own ``_contest`` from the decoded ballots (blank and invalid: spoilt), each
    with its group's section, weight and unit (``unit_electorate``: each unit's electors, for
    a contest counted by unit)."""
    contests = []
    for contest in definition.contests:
        opened: list[tuple[tuple[int, ...], str | None]] = []
        weights: list[str | None] = []
        units = UnitBallots()
        spoilt = 0
        for g in groups:
            if g.contest != contest.name:
                continue
            for ballot in g.ballots:
                bad = isinstance(ballot, InvalidBallot) or not ballot
                if g.unit is not None:
                    units.add(g.section, g.unit, "spoilt" if bad else tuple(ballot))
                if bad:
                    spoilt += 1
                else:
                    opened.append((ballot, g.section))
                    weights.append(g.weight)
        declared = _contest(definition, contest, opened, ELECTORATE, spoilt, weights)
        if contest.motion is not None:
            by_unit = contest.motion.units is not None
            declared = motion_declaration(
                definition, contest, declared, units, unit_electorate if by_unit else None
            )
        contests.append(declared)
    decl = Declaration(ELECTION_ID, ELECTION, definition.name, tuple(contests))
    return json.dumps(declaration_document(decl), sort_keys=True, separators=(",", ":")).encode()


def audit_log(
    definition_text: str,
    board: tuple[PostedBallot, ...],
    document: bytes,
    postal: dict[str, JsonValue] | None = None,
) -> tuple[ChainedEvent, ...]:
    """The election's log: the definition, the board's heads (half-way and at the close),
    the lifecycle to the declaration; with ``postal``, a postal batch recording papers
    spoilt per contest (``{contest: {"unreadable_credential": n}}``)."""
    at = datetime(2026, 2, 2, 9, tzinfo=UTC)
    steps: list[tuple[Action, dict[str, JsonValue]]] = [
        (
            Action.DEFINITION,
            {"definition_sha256": hashlib.sha256(definition_text.encode()).hexdigest()},
        ),
        (Action.POLL_OPEN, {"to": "open"}),
    ]
    middle = len(board) // 2
    for p in (board[middle - 1], board[-1]) if middle else board[-1:]:
        steps.append((Action.BOARD_HEAD, {"position": p.position, "head": p.link.hex()}))
    if postal is not None:
        steps.append((Action.POSTAL_BATCH, {"spoilt": postal}))
    steps += [
        (Action.POLL_CLOSE, {"to": "closed"}),
        (Action.COUNT, {"to": "counted"}),
        (
            Action.DECLARATION,
            {"to": "declared", "document_sha256": hashlib.sha256(document).hexdigest()},
        ),
    ]
    events = [
        AuditEvent.create(
            sequence=k,
            election=ELECTION_ID,
            action=action,
            actor="returning officer",
            payload=payload,
            at=at + timedelta(hours=k),
        )
        for k, (action, payload) in enumerate(steps, start=1)
    ]
    return tuple(chain(events))


def build(
    voters: int = 60, seed: int = 2026, workers: int = 1, definition_text: str = DEFINITION
) -> Story:
    definition = parse_definition(definition_text)
    record_ceremony, secrets, polynomials, seeds = ceremony()
    key = record_ceremony.election_key
    board = post(cast(definition, key, voters, seed))
    groups = mix_and_decrypt(definition, key, secrets, board, workers=workers)
    document = declare(definition, groups)
    log = audit_log(definition_text, board, document)
    record = RecordContents(
        ELECTION, definition_text, record_ceremony, board, log, groups, document
    )
    return Story(record, secrets, key, polynomials, seeds)


def decoded(groups: tuple[MixGroup, ...]) -> list[DecodedBallot]:
    return [b for g in groups for b in g.ballots]
