"""The verifier: an election record's checks, each named, in order (docs/election-record.md).

:func:`verify_record` runs every check and returns a :class:`RecordReport`. A check that
needs what an earlier one could not provide (the files could not be read at all) is
skipped, saying why; every other check runs even after a failure, so the report shows all
that is wrong, and names the first failure.

1. ``manifest`` - the manifest is canonical; every file it lists is there with its size and
   SHA-256; no other file is in the directory.
2. ``files`` - every file reads in its documented format.
3. ``definition`` - the definition parses (with what the verifiable path refuses refused:
   election/verifiable.py), its digest is the one the audit log last recorded, and it has
   no unknown rule.
4. ``ceremony`` - the ceremony is this election's, one communication key per trustee, every
   message signed by the Ed25519 key in its sender's communication key, every commitment's
   proofs hold, every complaint was answered by a share that matches, the election key and
   verification keys are the commitments', and every trustee signed a confirmation of that
   key (crypto/dkg.py ``verify_ceremony``: a failure names its check, e.g. ``signature`` or
   ``key-confirmation``); every ceremony
   file hashes to the digest the audit log recorded when the message was stored, and every
   logged message of a published kind is in the record.
5. ``key-drill`` - the drill's shares are proved, from at least t trustees, and decrypt it.
6. ``audit-log`` - the audit log's hash chain; it ends at the declaration (and at the head
   published elsewhere, when the verifier is given one).
7. ``board`` - the board's chain, receipts, positions, every head the audit log recorded
   and the board's last head among them; every entry's contest and section exist, and it
   has a weight exactly when the election is weighted (``[weights]``) and a unit exactly
   when its contest is counted by unit.
8. ``ballot-proofs`` - every ballot's proof, bound to this election and its contest.
9. ``mix-inputs`` - the mix groups are the board's (contest, section, weight, unit) groups,
   in their order (record_format.py ``mix_groups``), each of its contest's width and as many
   rows as it has board entries.
10. ``mixes`` - every group's stages: at least two mixers, each shuffle proof against the
    rows before it (the first against the board's ciphertexts of the group, in board order)
    and the context of the group's whole key (record_format.py ``mix_context``).
11. ``decryption-shares`` - every group decrypted by at least t distinct trustees, each
    share proved against the trustee's verification key and the last stage's ciphertext.
12. ``decryption`` - the shares combined and decoded give the published ballots, in order
    (an invalid plaintext published as invalid, with its reason).
13. ``declaration-document`` - the declaration's bytes hash to the digest the audit log
    recorded when the result was declared; it names this election.
14. ``recount`` - each contest recounted from the published ballots equals the declaration
    (:mod:`.recount`), figure by figure.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tallyroom.audit.board import logged_heads, verify_board
from tallyroom.audit.chain import Head
from tallyroom.audit.record import logged_facts, tally_part_name
from tallyroom.audit.verify import verify_chain
from tallyroom.count.rules.registry import get_rule
from tallyroom.crypto import parallel
from tallyroom.crypto.ballot_encoding import decode_rows
from tallyroom.crypto.dkg import verify_ceremony
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.encrypted_ballot import BallotCheck, check_ballots
from tallyroom.crypto.mixnet import MIN_MIXERS, verify_mix
from tallyroom.crypto.proofs import BallotContext
from tallyroom.crypto.shuffle import Row
from tallyroom.crypto.tally_encoding import shares_bytes, stage_bytes
from tallyroom.crypto.threshold import combine_many, verify_key_drill, verify_shares_many
from tallyroom.election.definition import ElectionDefinition
from tallyroom.election.reader import parse_definition
from tallyroom.errors import InputError, ProofRejected, RecordUnreadable, TallyroomError
from tallyroom.verify.record_files import (
    AUDIT_LOG,
    BOARD,
    DECLARATION,
    DEFINITION,
    MANIFEST,
    MIX_INDEX,
    group_file,
)
from tallyroom.verify.record_format import (
    MixGroup,
    RecordContents,
    contest_shape,
    contest_width,
    group_inputs,
    mix_context,
    mix_groups,
)
from tallyroom.verify.record_reader import read_manifest, read_record
from tallyroom.verify.recount import postal_spoilt, recount
from tallyroom.verify.report import CheckResult, CheckStatus, Finding, RecordReport

__all__ = ["CHECKS", "StageReporter", "verify_record"]

#: Every check, in the order it runs.
CHECKS = (
    "manifest",
    "files",
    "definition",
    "ceremony",
    "key-drill",
    "audit-log",
    "board",
    "ballot-proofs",
    "mix-inputs",
    "mixes",
    "decryption-shares",
    "decryption",
    "declaration-document",
    "recount",
)


class StageReporter(Protocol):
    """Where progress goes (cli/progress.py's StageProgress is one)."""

    def start(self, label: str, total: int | None = None) -> None: ...

    def finish(self, summary: str) -> None: ...


class _Skip(Exception):
    """A check cannot run: what it needs is missing."""


@dataclass
class _State:
    root: Path
    workers: int
    log_head: Head | None = None
    pool: Executor | None = None
    record: RecordContents | None = None
    definition: ElectionDefinition | None = None
    inputs: dict[int, tuple[Row, ...]] = field(default_factory=dict)  # group -> board rows
    good_trustees: dict[int, list[int]] = field(default_factory=dict)  # group -> trustees
    summaries: dict[str, str] = field(default_factory=dict)

    def contents(self) -> RecordContents:
        if self.record is None:
            raise _Skip("the record's files could not be read")
        return self.record

    def parsed(self) -> ElectionDefinition:
        if self.definition is None:
            raise _Skip("the definition could not be read")
        return self.definition


def _group_name(group: MixGroup) -> str:
    return group.key.name


# --- 1, 2: the files ------------------------------------------------------------------------


def _manifest(state: _State) -> list[Finding]:
    try:
        manifest = read_manifest(state.root)
    except RecordUnreadable as exc:
        return [Finding(MANIFEST, exc.field, exc.problem)]
    listed = {f.name: f for f in manifest.files}
    out = []
    for path in sorted(state.root.rglob("*")):
        name = path.relative_to(state.root).as_posix()
        if path.is_symlink():
            out.append(Finding(name, None, "a symbolic link: a record holds only files"))
        elif path.is_file() and name != MANIFEST and name not in listed:
            out.append(Finding(name, None, "not in the manifest"))
    for f in manifest.files:
        path = state.root / f.name
        if not path.is_file() or path.is_symlink():
            out.append(Finding(f.name, None, "listed in the manifest but missing"))
            continue
        size = path.stat().st_size
        if size != f.size:
            out.append(Finding(f.name, None, f"{size} bytes; the manifest says {f.size}"))
            continue
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != f.sha256:
            out.append(Finding(f.name, None, "its SHA-256 is not the manifest's"))
    state.summaries["manifest"] = f"{len(manifest.files)} files"
    return out


def _files(state: _State) -> list[Finding]:
    try:
        state.record = read_record(state.root)
    except RecordUnreadable as exc:
        return [Finding(exc.path, exc.field, exc.problem)]
    r = state.record
    state.summaries["files"] = (
        f"{len(r.board):,} board entries, {len(r.groups)} mix groups, {len(r.audit_log)} events"
    )
    return []


# --- 3-7: definition, ceremony, log, board -------------------------------------------------


def _definition(state: _State) -> list[Finding]:
    record = state.contents()
    try:
        definition = parse_definition(record.definition)
    except InputError as exc:
        where = None if exc.line is None else f"line {exc.line}"
        return [Finding(DEFINITION, where, str(exc))]
    state.definition = definition
    out = []
    for contest in definition.contests:
        try:
            get_rule(contest.rule)
        except TallyroomError as exc:
            out.append(Finding(DEFINITION, f"contest {contest.name!r}", str(exc)))
    logged = logged_facts(c.event for c in record.audit_log).definition_sha256
    digest = hashlib.sha256(record.definition.encode("utf-8")).hexdigest()
    if logged != digest:
        out.append(
            Finding(
                DEFINITION,
                None,
                f"SHA-256 {digest[:16]}…; the audit log recorded {str(logged)[:16]}…",
            )
        )
    return out


def _ceremony(state: _State) -> list[Finding]:
    record = state.contents()
    c = record.ceremony
    out = []
    e = record.election
    for what, election in (
        ("ceremony/ceremony.json", c.ceremony.election),
        ("ceremony/election-key.json", c.election_key.election),
    ):
        if election != e:
            out.append(Finding(what, "election", f"{election!r}, not this record's {e!r}"))
    k = c.election_key
    if (k.trustees, k.threshold) != (c.ceremony.trustees, c.ceremony.threshold):
        out.append(Finding("ceremony/election-key.json", None, "not the ceremony's n and t"))
    wanted = list(range(1, c.ceremony.trustees + 1))
    if [key.trustee for key in c.communication_keys] != wanted:
        out.append(Finding("ceremony", None, f"one communication key per trustee {wanted}"))
    for key in c.communication_keys:
        if key.election != e:
            name = f"ceremony/communication-key-{key.trustee}.json"
            out.append(Finding(name, "election", f"{key.election!r}, not {e!r}"))
    try:
        verify_ceremony(
            c.ceremony,
            c.communication_keys,
            c.commitments,
            c.complaints,
            c.revealed_shares,
            c.confirmations,
            k,
        )
    except (ProofRejected, InputError) as exc:
        check = f" ({exc.check})" if isinstance(exc, ProofRejected) else ""
        out.append(Finding("ceremony", None, f"{exc}{check}"))
    out += _logged_ceremony(record)
    state.summaries["ceremony"] = (
        f"{c.ceremony.trustees} trustees, threshold {c.ceremony.threshold}"
    )
    return out


#: The ceremony messages a record holds (the sealed shares and the drill's shares are not
#: published: the key drill's transcript carries the latter).
_RECORDED_KINDS = (
    "communication-key",
    "commitments",
    "complaint",
    "revealed-share",
    "confirmation",
    "key-drill",
)


def _logged_ceremony(record: RecordContents) -> list[Finding]:
    """Each ceremony file against the SHA-256 the audit log recorded when the service stored
    the message (``ceremony_message``, ``key_drill`` and ``election_key`` events), and every
    logged message of a published kind present: a communication key or commitments swapped
    in the record (with a manifest rewritten to match) no longer verifies, and with a log
    head published elsewhere (``--head``) nothing of the ceremony can be swapped. Nothing to
    compare for a log that records none (a record made outside the service)."""
    facts = logged_facts(c.event for c in record.audit_log)
    c = record.ceremony
    made: dict[str, tuple[str, bytes]] = {}
    for key in c.communication_keys:
        made[f"communication-key-{key.trustee}"] = (
            f"ceremony/communication-key-{key.trustee}.json",
            key.to_json(),
        )
    for commitments in c.commitments:
        name = f"commitments-{commitments.trustee}"
        made[name] = (f"ceremony/{name}.json", commitments.to_json())
    for complaint in c.complaints:
        made[f"complaint-{complaint.dealer}-by-{complaint.recipient}"] = (
            f"ceremony/complaint-{complaint.dealer}-{complaint.recipient}.json",
            complaint.to_json(),
        )
    for revealed in c.revealed_shares:
        made[f"revealed-share-{revealed.dealer}-to-{revealed.recipient}"] = (
            f"ceremony/revealed-share-{revealed.dealer}-{revealed.recipient}.json",
            revealed.to_json(),
        )
    for confirmation in c.confirmations:
        name = f"confirmation-{confirmation.trustee}"
        made[name] = (f"ceremony/{name}.json", confirmation.to_json())
    made["key-drill"] = ("ceremony/key-drill.json", c.key_drill.to_json())
    out: list[Finding] = []
    logged = {
        n: d
        for n, d in facts.ceremony.items()
        if n == "key-drill" or n.startswith(tuple(f"{k}-" for k in _RECORDED_KINDS[:-1]))
    }
    if logged:
        for name, (file, data) in sorted(made.items()):
            want, have = logged.get(name), hashlib.sha256(data).hexdigest()
            if want is None:
                out.append(Finding(file, name, "the audit log records no such ceremony message"))
            elif want != have:
                out.append(
                    Finding(file, name, f"hashes to {have[:16]}…; the log recorded {want[:16]}…")
                )
        for name in sorted(set(logged) - set(made)):
            out.append(
                Finding(None, name, "the audit log records this message; the record lacks it")
            )
    want = facts.election_key_sha256
    if want is not None:
        have = hashlib.sha256(c.election_key.to_json()).hexdigest()
        if have != want:
            out.append(
                Finding(
                    "ceremony/election-key.json",
                    None,
                    f"hashes to {have[:16]}…; the audit log recorded {want[:16]}…",
                )
            )
    return out


def _key_drill(state: _State) -> list[Finding]:
    c = state.contents().ceremony
    try:
        verify_key_drill(c.election_key, c.key_drill)
    except (ProofRejected, InputError) as exc:
        return [Finding("ceremony/key-drill.json", None, str(exc))]
    trustees = sorted(s.trustee for s in c.key_drill.shares)
    state.summaries["key-drill"] = f"decrypted by trustees {trustees}"
    return []


def _audit_log(state: _State) -> list[Finding]:
    record = state.contents()
    result = verify_chain(record.audit_log, expected_head=state.log_head)
    out = [Finding(AUDIT_LOG, None, str(f)) for f in result.failures]
    if logged_facts(c.event for c in record.audit_log).state != "declared":
        out.append(Finding(AUDIT_LOG, None, "the log does not end with the result declared"))
    state.summaries["audit-log"] = f"{result.checked} events, head {result.head}"
    return out


def _board(state: _State) -> list[Finding]:
    record = state.contents()
    heads = logged_heads(c.event for c in record.audit_log)
    head, failures = verify_board(
        ((p.position, p.entry, p.receipt, p.link) for p in record.board), heads
    )
    out = [Finding(BOARD, f"position {f.position}", f.problem) for f in failures]
    if heads.get(head.position) != head.hash:
        out.append(Finding(BOARD, None, f"the audit log never recorded the board's end ({head})"))
    if state.definition is not None:
        for p in record.board:
            try:
                contest = state.definition.contest(p.entry.contest)
            except InputError:
                out.append(Finding(BOARD, f"position {p.position}", "no such contest"))
                continue
            if p.entry.section not in contest.sections:
                out.append(
                    Finding(
                        BOARD,
                        f"position {p.position}",
                        f"section {p.entry.section!r} does not vote in {contest.name!r}",
                    )
                )
            weighted = state.definition.weights is not None
            if (p.entry.weight is not None) != weighted:
                have = "a weight" if p.entry.weight is not None else "no weight"
                out.append(
                    Finding(
                        BOARD,
                        f"position {p.position}",
                        f"{have} in a{'' if weighted else 'n un'}weighted election",
                    )
                )
            by_unit = contest.motion is not None and contest.motion.units is not None
            if (p.entry.unit is not None) != by_unit:
                have = "a unit" if p.entry.unit is not None else "no unit"
                counted = "counted" if by_unit else "not counted"
                out.append(
                    Finding(
                        BOARD,
                        f"position {p.position}",
                        f"{have} in contest {contest.name!r}, {counted} by unit",
                    )
                )
    state.summaries["board"] = f"{len(record.board):,} entries, {len(heads)} logged heads"
    return out


# --- 8-12: ballots, mixes, decryption ------------------------------------------------------


def _widths(state: _State) -> dict[str, int]:
    return {c.name: contest_width(c) for c in state.parsed().contests}


def _ballot_proofs(state: _State) -> list[Finding]:
    record = state.contents()
    widths = _widths(state)
    items, positions = [], []
    for p in record.board:
        if p.entry.contest in widths:
            context = BallotContext(record.election, p.entry.contest)
            items.append(BallotCheck(context, widths[p.entry.contest], p.entry.ballot))
            positions.append(p.position)
    public = record.ceremony.election_key.public_key
    rejected = check_ballots(public, items, workers=state.workers, pool=state.pool)
    state.summaries["ballot-proofs"] = f"{len(items):,} ballots"
    return [
        Finding(BOARD, f"position {positions[r.index]}", f"ballot proof: {r.check}: {r.problem}")
        for r in rejected
    ]


def _mix_inputs(state: _State) -> list[Finding]:
    record = state.contents()
    widths = _widths(state)
    expected = mix_groups(p.entry for p in record.board)
    found = [g.key for g in record.groups]
    out = []
    if found != expected:
        out.append(
            Finding(
                MIX_INDEX,
                None,
                f"groups {[k.name for k in found]}; the board's are {[k.name for k in expected]}",
            )
        )
    usable = [p.entry for p in record.board if p.entry.contest in widths]
    try:
        inputs = group_inputs(usable, widths)
    except ProofRejected as exc:  # named at its position by the ballot-proofs check
        return [*out, Finding(BOARD, None, f"a ballot cannot be a row: {exc}")]
    for k, group in enumerate(record.groups, start=1):
        where = f"groups[{k - 1}] ({_group_name(group)})"
        width = widths.get(group.contest)
        board = inputs.get(group.key, ())
        if width != group.width:
            out.append(Finding(MIX_INDEX, where, f"width {group.width}; the contest's is {width}"))
            continue
        if group.rows != len(board):
            out.append(
                Finding(MIX_INDEX, where, f"{group.rows} rows; the board has {len(board)} ballots")
            )
        state.inputs[k] = board
    state.summaries["mix-inputs"] = f"{len(record.groups)} groups"
    return out


def _logged_parts(record: RecordContents) -> dict[str, str]:
    """The tally parts the audit log recorded (``tally_part`` events: the service stores each
    mix stage and each trustee's shares with its SHA-256): name -> SHA-256. Empty for a log
    that records none (a record made outside the service)."""
    return dict(logged_facts(c.event for c in record.audit_log).tally_parts)


def _part_findings(
    record: RecordContents, kind: str, made: dict[str, tuple[str, bytes]]
) -> list[Finding]:
    """Each part of ``kind`` in the record (name -> (file, its bytes in tally_encoding's
    form)) against the digest the log recorded for it, and every logged part present."""
    logged = {n: d for n, d in _logged_parts(record).items() if f"/{kind}/" in n}
    if not logged:
        return []
    out = []
    for name, (file, data) in sorted(made.items()):
        want = logged.get(name)
        have = hashlib.sha256(data).hexdigest()
        if want is None:
            out.append(Finding(file, name, "the audit log records no such tally part"))
        elif want != have:
            out.append(
                Finding(file, name, f"hashes to {have[:16]}…; the audit log recorded {want[:16]}…")
            )
    for name in sorted(set(logged) - set(made)):
        out.append(
            Finding(None, name, "the audit log records this tally part; the record lacks it")
        )
    return out


def _mixes(state: _State) -> list[Finding]:
    record = state.contents()
    public = record.ceremony.election_key.public_key
    out = []
    for k, group in enumerate(record.groups, start=1):
        rows = state.inputs.get(k)
        if rows is None:
            out.append(Finding(group_file(k, ""), None, "no input rows to check the mix against"))
            continue
        context = mix_context(
            record.election, group.contest, group.section, group.weight, group.unit
        )
        try:
            verify_mix(
                rows,
                public,
                group.stages,
                context=context,
                minimum=MIN_MIXERS,
                workers=state.workers,
            )
        except (ProofRejected, InputError) as exc:
            out.append(Finding(group_file(k, "stage-*"), _group_name(group), str(exc)))
    made = {
        tally_part_name(g.contest, g.section, "mix", stage.position, g.weight, g.unit): (
            group_file(k, f"stage-{stage.position}-rows.bin"),
            stage_bytes(stage),
        )
        for k, g in enumerate(record.groups, start=1)
        for stage in g.stages
    }
    out += _part_findings(record, "mix", made)
    stages = sum(len(g.stages) for g in record.groups)
    state.summaries["mixes"] = f"{stages} shuffle proofs in {len(record.groups)} groups"
    return out


def _flat(group: MixGroup) -> list[Ciphertext]:
    return [ct for row in group.stages[-1].outputs for ct in row] if group.stages else []


def _decryption_shares(state: _State) -> list[Finding]:
    record = state.contents()
    key = record.ceremony.election_key
    out = []
    checked = 0
    for k, group in enumerate(record.groups, start=1):
        trustees = [per.trustee for per in group.decryptions]
        if len(set(trustees)) < key.threshold:
            out.append(
                Finding(
                    group_file(k, "shares-*"),
                    _group_name(group),
                    f"decrypted by trustees {trustees}; {key.threshold} needed",
                )
            )
        cts = _flat(group)
        good = []
        for per in group.decryptions:
            name = group_file(k, f"shares-{per.trustee}.bin")
            if not 1 <= per.trustee <= key.trustees:
                out.append(Finding(name, None, f"trustee {per.trustee} is no trustee"))
                continue
            wrong = [i for i, s in enumerate(per.shares) if s.trustee != per.trustee]
            if wrong:
                out.append(Finding(name, f"share {wrong[0] + 1}", "another trustee's share"))
                continue
            rejected = verify_shares_many(
                key, cts, per.shares, workers=state.workers, pool=state.pool
            )
            checked += len(per.shares)
            w = group.width
            out.extend(
                Finding(
                    name,
                    f"share {r.index + 1} (row {r.index // w + 1}, element {r.index % w + 1})",
                    f"{r.check}: {r.problem}",
                )
                for r in rejected
            )
            if not rejected:
                good.append(per.trustee)
        state.good_trustees[k] = good
    made = {
        tally_part_name(g.contest, g.section, "decryption", per.trustee, g.weight, g.unit): (
            group_file(k, f"shares-{per.trustee}.bin"),
            shares_bytes(per.trustee, per.shares),
        )
        for k, g in enumerate(record.groups, start=1)
        for per in g.decryptions
        if all(s.trustee == per.trustee for s in per.shares)
    }
    out += _part_findings(record, "decryption", made)
    state.summaries["decryption-shares"] = f"{checked:,} shares"
    return out


def _decryption(state: _State) -> list[Finding]:
    record = state.contents()
    definition = state.parsed()
    key = record.ceremony.election_key
    out = []
    for k, group in enumerate(record.groups, start=1):
        name = group_file(k, "ballots.jsonl")
        good = state.good_trustees.get(k, [])
        if len(good) < key.threshold:
            out.append(Finding(name, None, "fewer than t trustees' shares verify: not decrypted"))
            continue
        try:
            contest = definition.contest(group.contest)
        except InputError:
            out.append(Finding(name, None, f"no contest {group.contest!r}"))
            continue
        shares = [per.shares for per in group.decryptions if per.trustee in good]
        plain = combine_many(key, _flat(group), shares, workers=state.workers, pool=state.pool)
        try:
            decoded = decode_rows(contest_shape(contest), plain)
        except InputError as exc:
            out.append(Finding(name, None, str(exc)))
            continue
        if len(decoded) != len(group.ballots):
            out.append(
                Finding(name, None, f"{len(group.ballots)} ballots; {len(decoded)} decrypted")
            )
            continue
        for i, (mine, published) in enumerate(zip(decoded, group.ballots, strict=True)):
            if mine != published:
                out.append(
                    Finding(
                        name,
                        f"line {i + 1}",
                        f"published {published!r}; the row decrypts to {mine!r}",
                    )
                )
    return out


# --- 13, 14: the declaration -------------------------------------------------------------


def _declaration_document(state: _State) -> list[Finding]:
    record = state.contents()
    digest = hashlib.sha256(record.declaration).hexdigest()
    logged = logged_facts(c.event for c in record.audit_log).document_sha256
    out = []
    if logged != digest:
        out.append(
            Finding(
                DECLARATION,
                None,
                f"SHA-256 {digest[:16]}…; the audit log declared {str(logged)[:16]}…",
            )
        )
    document = _document(record)
    if not isinstance(document, dict) or document.get("election") != record.election:
        out.append(Finding(DECLARATION, "election", f"not a declaration of {record.election!r}"))
    return out


def _document(record: RecordContents) -> Any:
    try:
        return json.loads(record.declaration.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _recount(state: _State) -> list[Finding]:
    record = state.contents()
    definition = state.parsed()
    ballots = {g.key: g.ballots for g in record.groups}
    document = _document(record)
    if document is None:
        return [Finding(DECLARATION, None, "not JSON")]
    state.summaries["recount"] = f"{len(definition.contests)} contests"
    postal = postal_spoilt(c.event for c in record.audit_log)
    return recount(definition, ballots, document, postal)


_RUN: dict[str, Callable[[_State], list[Finding]]] = {
    "manifest": _manifest,
    "files": _files,
    "definition": _definition,
    "ceremony": _ceremony,
    "key-drill": _key_drill,
    "audit-log": _audit_log,
    "board": _board,
    "ballot-proofs": _ballot_proofs,
    "mix-inputs": _mix_inputs,
    "mixes": _mixes,
    "decryption-shares": _decryption_shares,
    "decryption": _decryption,
    "declaration-document": _declaration_document,
    "recount": _recount,
}


def verify_record(
    directory: Path,
    *,
    workers: int = 2,
    progress: StageReporter | None = None,
    log_head: Head | None = None,
    checks: Sequence[str] = CHECKS,
) -> RecordReport:
    """Every check of :data:`CHECKS` (or of ``checks``, in that order) on the record in
    ``directory``; never raises for what is in the record. ``log_head``: the audit log's
    head as published elsewhere (with the declaration), which the log must end at."""
    state = _State(Path(directory), max(1, workers), log_head)
    results = []
    pool = parallel.make_pool(workers) if workers > 1 else None
    state.pool = pool
    try:
        for name in checks:
            if progress is not None:
                progress.start(name)
            began = time.perf_counter()
            try:
                findings = _RUN[name](state)
            except _Skip as exc:
                result = CheckResult(name, CheckStatus.SKIPPED, (Finding(None, None, str(exc)),))
            except (TallyroomError, ValueError, KeyError, TypeError, IndexError) as exc:
                # a record built to trip the verifier fails the check; it never crashes it
                stopped = Finding(None, None, f"the check stopped: {type(exc).__name__}: {exc}")
                result = CheckResult(name, CheckStatus.FAILED, (stopped,))
            else:
                status = CheckStatus.FAILED if findings else CheckStatus.PASSED
                result = CheckResult(
                    name,
                    status,
                    tuple(findings),
                    state.summaries.get(name, ""),
                    time.perf_counter() - began,
                )
            results.append(result)
            if progress is not None:
                progress.finish(f"{result.status.value} {name} ({result.seconds:.1f} s)")
    finally:
        if pool is not None:
            pool.shutdown()
    election = state.record.election if state.record is not None else None
    return RecordReport(election, tuple(results))
