"""A verifiable election's tally end to end (services/tally.py, services/tally_files.py), on
SQLite and PostgreSQL: the trustees' real ceremony and drill (their files sealed under a
passphrase), ballots cast through the casting service, the close, two mixers, two of three
trustees decrypting (the third absent), the count; and the attacks on each step: a stage
with a wrong permutation or from the wrong mixer, a forged share, too few trustees, a part
edited in the database, a folder whose file does not match its manifest."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_voting import Poll
from verifiable_poll import VERIFIABLE, contest_of

from tallyroom.audit.record import RecordCheck
from tallyroom.crypto.ballot_encoding import decode_rows
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.credentials import new_credential, normalise_credential
from tallyroom.crypto.dkg import load_secrets
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import gen_shuffle, gen_shuffle_proof
from tallyroom.crypto.tally_encoding import stage_bytes, stage_from_bytes
from tallyroom.crypto.threshold import combine_many, partial_decrypt_many
from tallyroom.demo.trustees import DemoTrustees, run_ceremony, run_tally
from tallyroom.errors import CountError, InputError, LifecycleError, ProofRejected
from tallyroom.services import audit_log, tally, tally_files
from tallyroom.services.ballot_encryption import contest_shape
from tallyroom.services.election_record import record_contents, write_election_record
from tallyroom.services.polling import close_voting
from tallyroom.services.voting import cast_ballot
from tallyroom.store import ElectionState, Store, credentials, elections, register
from tallyroom.store.register import RegisterEntry
from tallyroom.store.schema import tally_parts
from tallyroom.verify.checks import verify_record
from tallyroom.verify.record_format import TrusteeShares, mix_context
from tallyroom.verify.record_writer import write_record

PASSPHRASE = "trustee passphrase for tests"
# the mixers are trustees 1 and 3: trustee 2 (Ben Ode) is absent after the close
DEFINITION = VERIFIABLE + 'mixers = ["Ann Hale", "Cleo Marr"]\n'
VOTES = {
    "M0": {"leader": ["Ann", "Bob"], "nec": ["Eve", "Fay"]},
    "M1": {"leader": ["Bob"], "nec": ["Gus"]},
    "M2": {"leader": ["Cat", "Ann"], "nec": ["Eve", "Gus"]},
    "M3": {"leader": ["Ann"], "nec": ["Fay", "Eve"]},
    "M4": {"leader": ["Ann", "Cat"], "nec": ["Eve"]},
    "A0": {"leader": ["Bob", "Cat"]},
    "A1": {"leader": ["Cat", "Bob"]},
}


def _verifiable_election(store: Store, folder: Path) -> tuple[Poll, DemoTrustees]:
    """The election created, its register, credentials, the trustees' ceremony and drill
    through the ceremony service, then the poll opened."""
    slug = f"tally-{folder.name[-24:].replace('_', '-').lower()}"
    key = CredentialKey.generate()
    people = [(p, "members" if p.startswith("M") else "affiliated") for p in VOTES]
    with store.begin() as conn:
        election = elections.create_election(conn, slug, DEFINITION, actor="ro")
        register.import_entries(
            conn, election.id, (RegisterEntry(p, s, {}, True) for p, s in people), actor="ro"
        )
        for state in (ElectionState.REGISTER_FROZEN, ElectionState.NOMINATIONS_CLOSED):
            elections.advance(conn, election.id, state, actor="ro")
        by_id = {e.id: e.person_id for e in register.iter_entries(conn, election.id)}
        secret = {person: new_credential() for person, _ in people}
        credentials.issue_many(
            conn,
            election.id,
            key,
            ((i, normalise_credential(secret[p])) for i, p in by_id.items()),
            actor="ro",
        )
        elections.advance(conn, election.id, ElectionState.CREDENTIALS_ISSUED, actor="ro")
    trustees = run_ceremony(store, slug, folder / "trustees", passphrase=PASSPHRASE, actor="ro")
    with store.begin() as conn:
        elections.advance(conn, election.id, ElectionState.OPEN, actor="ro")
    return Poll(store, election.id, key, Path("/nonexistent"), secret, {}, slug), trustees


@pytest.fixture
def closed(store: Store, tmp_path: Path) -> tuple[Poll, DemoTrustees]:
    poll, trustees = _verifiable_election(store, tmp_path)
    for person, choices in VOTES.items():
        cast_ballot(store, poll.id, poll.credential[person], choices, credential_key=poll.key)
    close_voting(store, poll.slug, actor="ro")
    return poll, trustees


def _figures(store: Store, slug: str) -> dict[str, dict[str, int]]:
    decl = tally.count_tally(store, slug, actor="ro", workers=1)
    return {c.contest: {r.name: r.votes for r in c.candidates} for c in decl.contests}


def test_the_board_is_mixed_decrypted_by_two_of_three_and_counted(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, trustees = closed
    groups = tally.board_groups(poll.store, poll.slug)
    assert [(g.contest, g.section, len(g.rows)) for g in groups] == [
        ("leader", "affiliated", 2),
        ("leader", "members", 5),
        ("nec", "members", 5),
    ]
    # trustee 2 (Ben Ode) is absent at the count: 1 and 3 decrypt
    run_tally(
        poll.store,
        trustees,
        tmp_path / "tally",
        mixers=[1, 3],
        decrypting=[1, 3],
        actor="ro",
        workers=1,
    )
    status = tally.tally_status(poll.store, poll.slug)
    assert all(g.ready and g.decrypted == (1, 3) for g in status)
    firsts = Counter(v["leader"][0] for v in VOTES.values())
    marks = Counter(c for v in VOTES.values() for c in v.get("nec", []))
    assert _figures(poll.store, poll.slug) == {
        "leader": {n: firsts[n] for n in ("Ann", "Bob", "Cat")},
        "nec": {n: marks[n] for n in ("Eve", "Fay", "Gus")},
    }
    with poll.store.read() as conn:
        assert elections.get_election(conn, poll.id).state is ElectionState.COUNTED
        result = audit_log.check_record(conn, poll.id)
    assert result.ok and RecordCheck.TALLY in result.checked
    declared = tally.declare_tally(poll.store, poll.slug, actor="ro", workers=1)
    assert declared.contests[0].winners == ("Ann",)
    # the record anyone can check: it verifies; one byte changed in a stage does not
    folder = tmp_path / "record"
    write_election_record(poll.store, poll.slug, folder, workers=1)
    report = verify_record(folder, workers=1)
    assert report.ok, report
    stage = sorted(folder.glob("mix/*/stage-2-rows.bin"))[0]
    data = bytearray(stage.read_bytes())
    data[-1] ^= 1
    stage.write_bytes(bytes(data))
    assert not verify_record(folder, workers=1).ok


def _exported(poll: Poll, folder: Path) -> Path:
    tally_files.export_inputs(poll.store, poll.slug, folder)
    return folder


def test_a_stage_with_rows_swapped_after_the_proof_is_refused_and_nothing_stored(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, _ = closed
    inputs = _exported(poll, tmp_path / "in")
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(inputs, 1, out, workers=1)
    manifest = json.loads((out / tally_files.PARTS).read_text())
    entry = next(g for g in manifest["groups"] if g["section"] == "members")
    path = out / entry["file"]
    stage = stage_from_bytes(path.read_bytes())
    swapped = (stage.outputs[1], stage.outputs[0], *stage.outputs[2:])
    forged = stage_bytes(type(stage)(stage.position, swapped, stage.proof))
    with pytest.raises(ProofRejected):
        tally.add_mix(poll.store, poll.slug, "leader", "members", forged, actor="x", workers=1)
    # the same forgery inside the folder, its manifest digest updated: refused as a whole
    path.write_bytes(forged)
    entry["sha256"] = __import__("hashlib").sha256(forged).hexdigest()
    (out / tally_files.PARTS).write_text(json.dumps(manifest))
    with pytest.raises(ProofRejected):
        tally_files.add_parts(poll.store, poll.slug, out, actor="x", workers=1)
    assert all(g.mixed == 0 for g in tally.tally_status(poll.store, poll.slug))


def test_a_file_that_is_not_its_manifests_is_refused(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, _ = closed
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(_exported(poll, tmp_path / "in"), 1, out, workers=1)
    victim = sorted(out.glob("group-*"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # always another byte
    with pytest.raises(InputError, match="SHA-256"):
        tally_files.add_parts(poll.store, poll.slug, out, actor="x", workers=1)


def test_mixers_publish_in_turn_and_only_once(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, _ = closed
    inputs = _exported(poll, tmp_path / "in")
    with pytest.raises(InputError, match="waits for mixer 1"):
        tally_files.mix_inputs(inputs, 2, tmp_path / "early", workers=1)
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(inputs, 1, out, workers=1)
    tally_files.add_parts(poll.store, poll.slug, out, actor="x", workers=1)
    with pytest.raises(ProofRejected, match="next expected is 2"):
        tally_files.add_parts(poll.store, poll.slug, out, actor="x", workers=1)
    with pytest.raises(InputError, match="not mixed yet"):
        tally_files.decrypt_inputs(
            _exported(poll, tmp_path / "again"),
            tmp_path / "nothing",
            PASSPHRASE,
            tmp_path / "dec",
        )


def test_a_forged_share_and_too_few_trustees_are_refused(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, trustees = closed
    run_tally(
        poll.store,
        trustees,
        tmp_path / "t",
        mixers=[1, 3],
        decrypting=[1],
        actor="ro",
        workers=1,
    )
    with pytest.raises(LifecycleError, match="1 trustee"):
        tally.count_tally(poll.store, poll.slug, workers=1)
    inputs = _exported(poll, tmp_path / "dec-in")
    out = tmp_path / "dec-3"
    tally_files.decrypt_inputs(inputs, trustees.files[3], PASSPHRASE, out, workers=1)
    part = sorted(out.glob("group-*"))[0]
    data = bytearray(part.read_bytes())
    data[-40] ^= 1  # inside the last share's proof
    with pytest.raises(ProofRejected):
        tally.add_decryption(poll.store, poll.slug, "leader", "affiliated", bytes(data), actor="x")
    # trustee 1 again: its decryption is already stored
    again = tmp_path / "dec-1-again"
    tally_files.decrypt_inputs(inputs, trustees.files[1], PASSPHRASE, again, workers=1)
    with pytest.raises(LifecycleError, match="already stored"):
        tally_files.add_parts(poll.store, poll.slug, again, actor="x", workers=1)
    with pytest.raises(InputError, match="passphrase"):
        tally_files.decrypt_inputs(inputs, trustees.files[3], "wrong", tmp_path / "w")


def test_a_tally_part_edited_in_the_database_stops_the_count(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, trustees = closed
    run_tally(
        poll.store,
        trustees,
        tmp_path / "t",
        mixers=[1, 3],
        decrypting=[1, 3],
        actor="ro",
        workers=1,
    )
    with poll.store.begin() as conn:  # a writer without the service: mixer 2's stage replaced
        # by mixer 1's (valid bytes, another permutation)
        first = conn.execute(
            sa.select(tally_parts.c.body).where(
                tally_parts.c.election_id == poll.id,
                tally_parts.c.kind == "mix",
                tally_parts.c.number == 1,
                tally_parts.c.section == "members",
                tally_parts.c.contest == "leader",
            )
        ).scalar_one()
        conn.execute(
            sa.update(tally_parts)
            .where(
                tally_parts.c.election_id == poll.id,
                tally_parts.c.kind == "mix",
                tally_parts.c.number == 2,
                tally_parts.c.section == "members",
                tally_parts.c.contest == "leader",
            )
            .values(body=first)
        )
    with poll.store.read() as conn:
        assert RecordCheck.TALLY in audit_log.check_record(conn, poll.id).failed_checks
    with pytest.raises(CountError, match="tally"):
        tally.count_tally(poll.store, poll.slug, workers=1)


def test_parts_of_another_election_are_refused(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    poll, _ = closed
    out = tmp_path / "mix-1"
    tally_files.mix_inputs(_exported(poll, tmp_path / "in"), 1, out, workers=1)
    manifest = json.loads((out / tally_files.PARTS).read_text())
    manifest["election"] = "another-election"
    (out / tally_files.PARTS).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="another-election"):
        tally_files.add_parts(poll.store, poll.slug, out, actor="x", workers=1)
    shutil.rmtree(out)


def test_a_sealed_election_has_no_tally(store: Store) -> None:
    with store.begin() as conn:
        record = elections.create_election(
            conn, "sealed-one", VERIFIABLE.split("[verifiable]")[0], actor="ro"
        )
    with pytest.raises(InputError, match="sealed path"):
        tally.tally_status(store, record.slug)


def test_a_second_valid_mix_swapped_into_the_record_fails_against_the_log(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    """A server (with a mixer and two trustees colluding after the fact) re-mixes a group
    and has it decrypted again: every proof in the record is valid and the ballots are the
    same, but the stage and the shares are not the ones the audit log recorded."""
    poll, trustees = closed
    run_tally(
        poll.store,
        trustees,
        tmp_path / "t",
        mixers=[1, 3],
        decrypting=[1, 3],
        actor="ro",
        workers=1,
    )
    tally.declare_tally(poll.store, poll.slug, actor="ro", workers=1)
    honest = record_contents(poll.store, poll.slug, workers=1)
    group = honest.groups[0]
    key = honest.ceremony.election_key
    first = group.stages[0]
    context = mix_context(poll.slug, group.contest, group.section)
    again = gen_shuffle(first.outputs, key.public_key, workers=1)
    proof = gen_shuffle_proof(
        first.outputs, again, key.public_key, context=context, position=2, workers=1
    )
    stage = MixStage(2, again.outputs, proof)
    cts = [ct for row in stage.outputs for ct in row]
    decryptions = []
    for t in (1, 3):
        secrets = load_secrets(trustees.files[t], PASSPHRASE)
        assert secrets.share is not None
        shares = partial_decrypt_many(poll.slug, t, secrets.share, cts, workers=1)
        decryptions.append(TrusteeShares(t, tuple(shares)))
    plain = combine_many(key, cts, [d.shares for d in decryptions], workers=1)
    contest = contest_of(poll.store, poll.slug, group.contest)
    forged = dataclasses.replace(
        group,
        stages=(first, stage),
        decryptions=tuple(decryptions),
        ballots=tuple(decode_rows(contest_shape(contest), plain)),
    )
    record = dataclasses.replace(honest, groups=(forged, *honest.groups[1:]))
    write_record(tmp_path / "forged", record)
    report = verify_record(tmp_path / "forged", workers=1)
    failed = {c.name for c in report.checks if c.status.value == "failed"}
    assert failed == {"mixes", "decryption-shares"}, report


def test_a_communication_key_swapped_into_the_record_fails_against_the_log(
    closed: tuple[Poll, DemoTrustees], tmp_path: Path
) -> None:
    """A record whose communication key for trustee 2 is another well-formed key, self-signed
    by a signing key of its own (its manifest written to match): trustee 2's messages no
    longer check against it, and the log recorded each ceremony message's SHA-256 when the
    service stored it."""
    import nacl.public

    from tallyroom.crypto import trustee_signing
    from tallyroom.crypto.ceremony_messages import signed

    poll, trustees = closed
    run_tally(poll.store, trustees, tmp_path / "t", mixers=[1, 3], decrypting=[1, 3],
              actor="ro", workers=1)  # fmt: skip
    tally.declare_tally(poll.store, poll.slug, actor="ro", workers=1)
    honest = record_contents(poll.store, poll.slug, workers=1)
    write_record(tmp_path / "honest", honest)
    assert verify_record(tmp_path / "honest", workers=1).ok
    other = bytes(nacl.public.PrivateKey.generate().public_key)
    seed = trustee_signing.new_seed()
    swapped = [
        signed(
            dataclasses.replace(
                k, public_key=other, signing_key=trustee_signing.public_key_of(seed)
            ),
            seed,
        )
        for k in honest.ceremony.communication_keys
        if k.trustee == 2
    ]
    keys = tuple(swapped[0] if k.trustee == 2 else k for k in honest.ceremony.communication_keys)
    ceremony = dataclasses.replace(honest.ceremony, communication_keys=keys)
    write_record(tmp_path / "forged", dataclasses.replace(honest, ceremony=ceremony))
    report = verify_record(tmp_path / "forged", workers=1)
    failed = {c.name: c for c in report.checks if c.status.value == "failed"}
    assert set(failed) == {"ceremony"}, report
    assert "communication-key-2" in str(failed["ceremony"])
    assert "trustee 2: signature" in str(failed["ceremony"])
