"""The election record verifies when honest, and every tampering the tests try is caught,
naming the check: a byte of any file (with and without the manifest rewritten to match), a
wrong shuffle, a bad or foreign decryption share, too few trustees, the board edited, a
ballot moved between contests, a declared figure changed by one, an extra file."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from record_story import ELECTION, Story, audit_log, build, declare, post

from tallyroom.audit.board import BoardEntry
from tallyroom.audit.events import JsonValue
from tallyroom.crypto import elgamal, group, threshold, trustee_signing
from tallyroom.crypto.ballot_encoding import InvalidBallot, InvalidReason
from tallyroom.crypto.ceremony_messages import (
    Complaint,
    KeyConfirmation,
    RevealedShare,
    signed,
)
from tallyroom.election.definition import College
from tallyroom.election.reader import parse_definition
from tallyroom.verify.checks import CHECKS, verify_record
from tallyroom.verify.record_files import BOARD, MANIFEST, Manifest, ManifestFile
from tallyroom.verify.record_format import (
    GroupKey,
    MixGroup,
    RecordContents,
    TrusteeShares,
    mix_context,
    mix_groups,
)
from tallyroom.verify.record_reader import read_record
from tallyroom.verify.record_writer import write_record
from tallyroom.verify.recount import recount
from tallyroom.verify.report import CheckStatus, RecordReport


@pytest.fixture(scope="module")
def story() -> Story:
    return build(voters=60)


@pytest.fixture(scope="module")
def honest(story: Story, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("honest") / "record"
    write_record(path, story.record)
    return path


def _copy(honest: Path, tmp_path: Path) -> Path:
    target = tmp_path / "record"
    shutil.copytree(honest, target)
    return target


def _rewrite_manifest(root: Path) -> None:
    """What an attacker who edits a file also does: a manifest that matches."""
    old = Manifest.from_json((root / MANIFEST).read_bytes())
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST):
        data = path.read_bytes()
        name = path.relative_to(root).as_posix()
        files.append(ManifestFile(name, hashlib.sha256(data).hexdigest(), len(data)))
    (root / MANIFEST).write_bytes(Manifest(old.election, tuple(files)).to_json())


def _verify(root: Path, **kwargs: object) -> RecordReport:
    return verify_record(root, workers=1, **kwargs)  # type: ignore[arg-type]


def _first(report: RecordReport) -> str:
    first = report.first_failure
    assert first is not None, report.summary()
    return first.name


def _written(tmp_path: Path, record: RecordContents) -> RecordReport:
    path = tmp_path / "tampered"
    write_record(path, record)
    return _verify(path)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --- the honest record ----------------------------------------------------------------------


def test_an_honest_record_passes_every_check_in_order(honest: Path) -> None:
    report = _verify(honest)
    assert report.ok, report.summary()
    assert [c.name for c in report.checks] == list(CHECKS)
    assert all(c.status is CheckStatus.PASSED for c in report.checks)
    doc = report.to_json()
    assert doc["ok"] is True and doc["first_failure"] is None and doc["election"] == ELECTION
    with pytest.raises(TypeError):
        bool(report)


def test_the_record_reads_back_as_written(story: Story, honest: Path) -> None:
    assert read_record(honest) == story.record


def test_the_record_publishes_blank_and_invalid_ballots(story: Story) -> None:
    ballots = [b for g in story.record.groups for b in g.ballots]
    invalid = [b for b in ballots if isinstance(b, InvalidBallot)]
    assert len(invalid) == 1 and invalid[0].reason is InvalidReason.RANGE
    assert () in ballots  # the blank committee ballot
    sections = {(g.contest, g.section) for g in story.record.groups}
    assert ("leader", "members") in sections and ("leader", "registered") in sections
    assert ("rule-change", "registered") not in sections


def test_groups_are_the_boards_sorted_by_contest_section_weight_and_unit() -> None:
    entries = [
        BoardEntry("b", "x", b"1"),
        BoardEntry("a", "y", b"2"),
        BoardEntry("b", "x", b"3"),
        BoardEntry("a", None, b"4"),
        BoardEntry("a", "y", b"5", weight="2"),
        BoardEntry("a", "y", b"6", weight="10"),  # code point order: "10" before "2"
        BoardEntry("a", "y", b"7", weight="2", unit="Ward 1"),
        BoardEntry("a", "y", b"8", unit="Ward 1"),
        BoardEntry("a", "y", b"9", weight="2"),
    ]
    assert mix_groups(entries) == [
        GroupKey("a", None),
        GroupKey("a", "y"),
        GroupKey("a", "y", None, "Ward 1"),
        GroupKey("a", "y", "10"),
        GroupKey("a", "y", "2"),
        GroupKey("a", "y", "2", "Ward 1"),
        GroupKey("b", "x"),
    ]


def test_mix_contexts_are_the_tallys_and_differ_for_every_group() -> None:
    assert mix_context("lab16", "leader", "members") == "tallyroom/v1/mix/lab16/leader/members"
    assert mix_context("lab16", "leader", None) == "tallyroom/v1/mix/lab16/leader/"
    # a group without weight and unit keeps the context it always had
    assert mix_context("lab16", "leader", "members", None, None) == mix_context(
        "lab16", "leader", "members"
    )
    assert (
        mix_context("e", "a", "s", "2.5", "Ward/1")
        == 'tallyroom/v2/mix/["e","a","s","2.5","Ward/1"]'
    )
    names = [
        mix_context("e", "a", "c"),
        mix_context("e", "b", "c"),
        mix_context("f", "a", "c"),
        mix_context("e", "a", None),
        mix_context("e", "a", "x"),
        mix_context("e", "a", "c", "2"),
        mix_context("e", "a", "c", "2.0"),
        mix_context("e", "a", "c", None, "2"),
        mix_context("e", "a", "c", "2", "2"),
        mix_context("e", "a", "c", "2", "3"),
        mix_context("e", "a", None, "2"),
        mix_context("e", "a/c", None, "2"),
        mix_context("e", "a", "c/2", None),
    ]
    assert len(set(names)) == len(names)


# --- any byte of any file -------------------------------------------------------------------


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_byte_changed_in_any_file_fails_the_manifest(honest: Path, tmp_path: Path) -> None:
    root = _copy(honest, tmp_path)
    for name in _files(root):
        path = root / name
        original = path.read_bytes()
        for at in (0, len(original) // 2, len(original) - 1):
            _flip(path, at)
            report = _verify(root, checks=("manifest",))
            assert _first(report) == "manifest", (name, at)
            path.write_bytes(original)
    assert _verify(root, checks=("manifest",)).ok


# Nothing in the record is bound by the manifest only: since each communication key is signed
# by the signing key it carries, and every later message by that key, a changed byte in one
# fails its signature (docs/election-record.md).
_BOUND_BY_MANIFEST_ONLY: tuple[str, ...] = ()


def test_a_byte_changed_in_any_file_with_a_matching_manifest_fails_a_content_check(
    honest: Path, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    for name in _files(root):
        if name == MANIFEST or name.startswith(_BOUND_BY_MANIFEST_ONLY):
            continue
        path = root / name
        original = path.read_bytes()
        _flip(path, len(original) // 2)
        _rewrite_manifest(root)
        report = _verify(root)
        assert not report.ok, name
        assert _first(report) != "manifest", name
        path.write_bytes(original)
    _rewrite_manifest(root)
    assert _verify(root).ok


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pick=st.integers(min_value=0), at=st.integers(min_value=0), value=st.integers(1, 255))
def test_random_changes_with_a_matching_manifest_never_verify(
    honest: Path, tmp_path: Path, pick: int, at: int, value: int
) -> None:
    root = tmp_path / f"r{pick}-{at}-{value}"
    shutil.copytree(honest, root)
    names = [n for n in _files(root) if n != MANIFEST and not n.startswith(_BOUND_BY_MANIFEST_ONLY)]
    path = root / names[pick % len(names)]
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= value
    path.write_bytes(bytes(data))
    _rewrite_manifest(root)
    assert not _verify(root).ok
    shutil.rmtree(root)


def test_an_extra_file_fails_the_manifest_and_one_listed_fails_the_files(
    honest: Path, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    (root / "mix" / "notes.txt").write_text("trust me\n")
    report = _verify(root)
    assert _first(report) == "manifest"
    assert "mix/notes.txt" in str(report.check("manifest").findings[0])
    _rewrite_manifest(root)
    report = _verify(root)
    assert _first(report) == "files"
    assert report.check("files").findings[0].file == "mix/notes.txt"
    assert report.check("recount").status is CheckStatus.SKIPPED


def test_a_file_replaced_by_a_link_fails_the_manifest(honest: Path, tmp_path: Path) -> None:
    root = _copy(honest, tmp_path)
    target = tmp_path / "elsewhere.toml"
    target.write_bytes((root / "definition.toml").read_bytes())
    (root / "definition.toml").unlink()
    (root / "definition.toml").symlink_to(target)
    findings = [str(f) for f in _verify(root, checks=("manifest",)).check("manifest").findings]
    assert "definition.toml: a symbolic link: a record holds only files" in findings


def test_a_missing_file_or_a_non_canonical_manifest_fails(honest: Path, tmp_path: Path) -> None:
    root = _copy(honest, tmp_path)
    (root / "mix" / "1" / "shares-3.bin").unlink()
    assert _first(_verify(root)) == "manifest"
    root = _copy(honest, tmp_path / "again")
    manifest = json.loads((root / MANIFEST).read_bytes())
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1))
    report = _verify(root)
    assert _first(report) == "manifest"
    assert "canonical" in str(report.check("manifest").findings[0])


# --- the ceremony ---------------------------------------------------------------------------


def _evaluate(polynomial: tuple[int, ...], x: int) -> int:
    return sum(a * x**j for j, a in enumerate(polynomial)) % group.ORDER


def _with_complaint(story: Story, share: int | None) -> RecordContents:
    """Trustee 2 complained about dealer 1's share; dealer 1 answered with ``share``."""
    complaint = Complaint(ELECTION, 1, 2, "the share does not match the dealer's commitments")
    complaint = signed(complaint, story.seeds[2])
    answers = (
        () if share is None else (signed(RevealedShare(ELECTION, 1, 2, share), story.seeds[1]),)
    )
    ceremony = dataclasses.replace(
        story.record.ceremony, complaints=(complaint,), revealed_shares=answers
    )
    return dataclasses.replace(story.record, ceremony=ceremony)


def test_a_complaint_answered_by_the_right_share_verifies(story: Story, tmp_path: Path) -> None:
    right = _evaluate(story.polynomials[1], 2)
    report = _written(tmp_path, _with_complaint(story, right))
    assert report.ok, report.summary()
    assert (tmp_path / "tampered" / "ceremony" / "revealed-share-1-2.json").is_file()


@pytest.mark.parametrize("answer", ["none", "wrong"])
def test_a_complaint_unanswered_or_answered_wrongly_fails_the_ceremony(
    story: Story, tmp_path: Path, answer: str
) -> None:
    share = None if answer == "none" else (_evaluate(story.polynomials[1], 2) + 1) % group.ORDER
    report = _written(tmp_path, _with_complaint(story, share))
    assert _first(report) == "ceremony"
    expected = "was not answered" if answer == "none" else "does not match the commitments"
    assert expected in str(report.check("ceremony").findings[0])


def _ceremony_changed(story: Story, **changes: object) -> RecordContents:
    ceremony = dataclasses.replace(story.record.ceremony, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(story.record, ceremony=ceremony)


def _ceremony_finding(report: RecordReport) -> str:
    assert _first(report) == "ceremony", report.summary()
    failed = {c.name for c in report.checks if c.status is CheckStatus.FAILED}
    assert failed == {"ceremony"}, report.summary()
    return str(report.check("ceremony").findings[0])


def test_commitments_signed_by_another_trustees_key_fail_the_signature(
    story: Story, tmp_path: Path
) -> None:
    c = story.record.ceremony
    forged = signed(dataclasses.replace(c.commitments[1], signature=b""), story.seeds[1])
    commitments = (c.commitments[0], forged, c.commitments[2])
    finding = _ceremony_finding(
        _written(tmp_path, _ceremony_changed(story, commitments=commitments))
    )
    assert "trustee 2: signature" in finding and "(signature)" in finding


def test_a_flipped_signature_byte_fails_the_signature(story: Story, tmp_path: Path) -> None:
    c = story.record.ceremony
    confirmation = c.confirmations[2]
    sig = bytearray(confirmation.signature)
    sig[40] ^= 0x10
    flipped = dataclasses.replace(confirmation, signature=bytes(sig))
    changed = _ceremony_changed(story, confirmations=(*c.confirmations[:2], flipped))
    finding = _ceremony_finding(_written(tmp_path, changed))
    assert "trustee 3: signature" in finding


def test_a_message_resigned_by_a_key_not_the_communication_keys_fails(
    story: Story, tmp_path: Path
) -> None:
    """The commitments re-signed by a fresh key; then also the communication key itself
    swapped for one carrying that key (self-signed): trustee 2's other messages still fail."""
    c = story.record.ceremony
    seed = trustee_signing.new_seed()
    resigned = signed(c.commitments[1], seed)
    commitments = (c.commitments[0], resigned, c.commitments[2])
    finding = _ceremony_finding(
        _written(tmp_path / "a", _ceremony_changed(story, commitments=commitments))
    )
    assert "trustee 2: signature" in finding
    key = signed(
        dataclasses.replace(
            c.communication_keys[1], signing_key=trustee_signing.public_key_of(seed)
        ),
        seed,
    )
    keys = (c.communication_keys[0], key, c.communication_keys[2])
    changed = _ceremony_changed(story, commitments=commitments, communication_keys=keys)
    finding = _ceremony_finding(_written(tmp_path / "b", changed))
    assert "trustee 2: signature" in finding  # confirmation-2 is signed by the real key


@pytest.mark.parametrize("attack", ["missing", "another-key"])
def test_a_missing_or_disagreeing_key_confirmation_fails(
    story: Story, tmp_path: Path, attack: str
) -> None:
    c = story.record.ceremony
    if attack == "missing":
        confirmations = c.confirmations[:2]
    else:
        other = signed(KeyConfirmation(ELECTION, 3, bytes(32)), story.seeds[3])
        confirmations = (*c.confirmations[:2], other)
    report = _written(tmp_path, _ceremony_changed(story, confirmations=confirmations))
    finding = _ceremony_finding(report)
    assert "(key-confirmation)" in finding and "[3]" in finding
    if attack == "missing":
        assert not (tmp_path / "tampered" / "ceremony" / "confirmation-3.json").exists()


def test_a_confirmation_filed_under_another_trustee_is_unreadable(
    honest: Path, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    ceremony = root / "ceremony"
    (ceremony / "confirmation-3.json").write_bytes((ceremony / "confirmation-1.json").read_bytes())
    _rewrite_manifest(root)
    report = _verify(root)
    assert _first(report) == "files"
    assert "ceremony/confirmation-3.json" in str(report.check("files").findings[0])


def test_a_drill_by_one_trustee_fails(story: Story, tmp_path: Path) -> None:
    drill = story.record.ceremony.key_drill
    one = dataclasses.replace(drill, shares=drill.shares[:1])
    ceremony = dataclasses.replace(story.record.ceremony, key_drill=one)
    report = _written(tmp_path, dataclasses.replace(story.record, ceremony=ceremony))
    assert _first(report) == "key-drill"


# --- the shuffle ----------------------------------------------------------------------------


def _replace_group(record: RecordContents, k: int, **changes: object) -> RecordContents:
    groups = list(record.groups)
    groups[k] = dataclasses.replace(groups[k], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(record, groups=tuple(groups))


def test_a_stage_with_a_wrong_permutation_fails_the_mixes(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[1]
    first = g.stages[0]
    rows = list(first.outputs)
    rows[0], rows[1] = rows[1], rows[0]
    stages = (dataclasses.replace(first, outputs=tuple(rows)), *g.stages[1:])
    report = _written(tmp_path, _replace_group(story.record, 1, stages=stages))
    assert _first(report) == "mixes"
    assert "mixer 1" in str(report.check("mixes").findings[0])


def test_a_stage_with_another_re_encryption_fails_the_mixes(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    last = g.stages[-1]
    rows = list(last.outputs)
    rows[2] = (elgamal.reencrypt(story.key.public_key, rows[2][0], group.random_scalar()),)
    stages = (*g.stages[:-1], dataclasses.replace(last, outputs=tuple(rows)))
    report = _written(tmp_path, _replace_group(story.record, 0, stages=stages))
    assert _first(report) == "mixes"
    assert "mixer 2" in str(report.check("mixes").findings[0])


def test_a_single_mixer_is_not_enough(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    report = _written(tmp_path, _replace_group(story.record, 0, stages=g.stages[:1]))
    assert "mixes" in report.failed


# --- decryption -----------------------------------------------------------------------------


def _flat(g: MixGroup) -> list[elgamal.Ciphertext]:
    return [ct for row in g.stages[-1].outputs for ct in row]


def test_shares_from_a_non_trustee_fail(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    stranger = group.random_scalar()  # decrypts "as trustee 3" with a key nobody dealt
    forged = tuple(threshold.partial_decrypt_many(ELECTION, 3, stranger, _flat(g), workers=1))
    decryptions = (g.decryptions[0], TrusteeShares(3, forged))
    report = _written(tmp_path, _replace_group(story.record, 0, decryptions=decryptions))
    assert _first(report) == "decryption-shares"
    assert "shares-3.bin" in str(report.check("decryption-shares").findings[0])
    assert "decryption" in report.failed  # fewer than t verified: not decrypted


def test_shares_under_a_number_that_is_no_trustee_fail(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    fourth = tuple(dataclasses.replace(s, trustee=4) for s in g.decryptions[1].shares)
    decryptions = (g.decryptions[0], TrusteeShares(4, fourth))
    report = _written(tmp_path, _replace_group(story.record, 0, decryptions=decryptions))
    assert _first(report) == "decryption-shares"
    assert "no trustee" in str(report.check("decryption-shares").findings[0])


def test_a_share_with_a_bad_proof_fails_naming_it(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[2]
    shares = list(g.decryptions[1].shares)
    proof = shares[5].proof
    shares[5] = dataclasses.replace(
        shares[5], proof=dataclasses.replace(proof, response=(proof.response + 1) % group.ORDER)
    )
    decryptions = (g.decryptions[0], TrusteeShares(g.decryptions[1].trustee, tuple(shares)))
    report = _written(tmp_path, _replace_group(story.record, 2, decryptions=decryptions))
    assert _first(report) == "decryption-shares"
    assert "share 6 (row 6, element 1)" in str(report.check("decryption-shares").findings[0])


def test_fewer_than_threshold_trustees_fail(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    report = _written(tmp_path, _replace_group(story.record, 0, decryptions=g.decryptions[:1]))
    assert _first(report) == "decryption-shares"
    assert "2 needed" in str(report.check("decryption-shares").findings[0])
    assert "decryption" in report.failed


def test_any_two_trustees_decrypt_the_same_record(story: Story, tmp_path: Path) -> None:
    g = story.record.groups[0]
    shares = tuple(
        threshold.partial_decrypt_many(ELECTION, 2, story.secrets[2], _flat(g), workers=1)
    )
    decryptions = (TrusteeShares(2, shares), g.decryptions[1])  # trustees 2 and 3
    report = _written(tmp_path, _replace_group(story.record, 0, decryptions=decryptions))
    assert report.ok, report.summary()


def test_a_published_ballot_other_than_its_plaintext_fails(story: Story, tmp_path: Path) -> None:
    k = next(i for i, g in enumerate(story.record.groups) if g.contest == "leader")
    g = story.record.groups[k]
    ballots = list(g.ballots)
    ballots[0] = (1, 0) if ballots[0] == (0, 1) else (0, 1)
    report = _written(tmp_path, _replace_group(story.record, k, ballots=tuple(ballots)))
    assert _first(report) == "decryption"
    assert report.check("decryption").findings[0].where == "line 1"


# --- the board ------------------------------------------------------------------------------


def _reboard(story: Story, entries: list[BoardEntry], relog: bool) -> RecordContents:
    """The board re-chained (every link recomputed) and, with ``relog``, the audit log
    rewritten to match: an attacker who controls the whole server after the close."""
    board = post(entries)
    log = audit_log(story.record.definition, board, story.record.declaration)
    return dataclasses.replace(
        story.record, board=board, audit_log=log if relog else story.record.audit_log
    )


def test_a_board_entry_removed_fails_the_board(story: Story, tmp_path: Path) -> None:
    entries = [p.entry for p in story.record.board]
    del entries[3]
    report = _written(tmp_path, _reboard(story, entries, relog=False))
    assert _first(report) == "board"
    assert "the audit log recorded" in str(report.check("board").findings[0])
    assert "mix-inputs" in report.failed


def test_board_entries_reordered_fail_the_board(story: Story, tmp_path: Path) -> None:
    entries = [p.entry for p in story.record.board]
    entries[1], entries[2] = entries[2], entries[1]
    report = _written(tmp_path, _reboard(story, entries, relog=False))
    assert _first(report) == "board"


def test_a_board_entry_removed_with_the_log_rewritten_fails_the_mixes(
    story: Story, tmp_path: Path
) -> None:
    entries = [p.entry for p in story.record.board]
    del entries[0]
    report = _written(tmp_path, _reboard(story, entries, relog=True))
    assert report.check("board").status is CheckStatus.PASSED
    assert _first(report) == "mix-inputs"
    assert "mixes" in report.failed


def test_a_rewritten_log_fails_against_the_published_head(story: Story, tmp_path: Path) -> None:
    published = story.record.audit_log[-1]
    entries = [p.entry for p in story.record.board]
    entries[0], entries[1] = entries[1], entries[0]
    path = tmp_path / "rewritten"
    write_record(path, _reboard(story, entries, relog=True))
    from tallyroom.audit.chain import Head

    head = Head(published.event.sequence, published.hash)
    report = _verify(path, log_head=head)
    assert _first(report) == "audit-log"


def test_a_ballot_moved_to_another_contest_fails_its_proof(story: Story, tmp_path: Path) -> None:
    entries = [p.entry for p in story.record.board]
    k = next(i for i, e in enumerate(entries) if e.contest == "leader" and e.section == "members")
    entries[k] = dataclasses.replace(entries[k], contest="committee")
    report = _written(tmp_path, _reboard(story, entries, relog=True))
    assert _first(report) == "ballot-proofs"
    assert report.check("ballot-proofs").findings[0].where == f"position {k + 1}"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"weight": "2"}, "a weight in an unweighted election"),
        ({"unit": "Ward 1"}, "a unit in contest 'leader', not counted by unit"),
    ],
)
def test_a_weight_or_unit_the_election_does_not_have_fails_the_board(
    story: Story, tmp_path: Path, extra: dict[str, str], problem: str
) -> None:
    """Even with the board re-chained and the log rewritten to match, an entry of this
    unweighted election that carries a weight (or a unit its contest is not counted by)
    is named: the count would weigh (or group) it as the election never does."""
    entries = [p.entry for p in story.record.board]
    k = next(i for i, e in enumerate(entries) if e.contest == "leader")
    entries[k] = dataclasses.replace(entries[k], **extra)  # type: ignore[arg-type]
    report = _written(tmp_path, _reboard(story, entries, relog=True))
    assert _first(report) == "board"
    assert [str(f) for f in report.check("board").findings] == [
        f"{BOARD}:position {k + 1}: {problem}"
    ]
    assert "mix-inputs" in report.failed


# --- the declaration ------------------------------------------------------------------------


def _declared(story: Story, change: object) -> RecordContents:
    doc = json.loads(story.record.declaration)
    change(doc)  # type: ignore[operator]
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    log = audit_log(story.record.definition, story.record.board, data)  # the log rewritten too
    return dataclasses.replace(story.record, declaration=data, audit_log=log)


def _contest(doc: dict[str, object], name: str) -> dict[str, object]:
    contests = doc["contests"]
    assert isinstance(contests, list)
    found: dict[str, object] = next(c for c in contests if c["contest"] == name)
    return found


def test_a_declared_vote_changed_by_one_fails_the_recount_naming_it(
    story: Story, tmp_path: Path
) -> None:
    def change(doc: dict[str, object]) -> None:
        candidates = _contest(doc, "leader")["candidates"]
        assert isinstance(candidates, list)
        candidates[0]["votes"] += 1

    report = _written(tmp_path, _declared(story, change))
    assert _first(report) == "recount"
    finding = report.check("recount").findings[0]
    assert finding.where == "contest 'leader' candidate 'Ada Lovelace' votes"
    assert report.check("declaration-document").status is CheckStatus.PASSED


@pytest.mark.parametrize(
    ("contest", "figure", "where"),
    [
        ("committee", "valid", "contest 'committee' valid"),
        ("committee", "spoilt", "contest 'committee' spoilt"),
        ("rule-change", "electorate", "contest 'rule-change' turnout_percent"),
        ("leader", "seats", "contest 'leader' seats"),
        ("leader", "rounds", "contest 'leader' rounds"),
    ],
)
def test_each_declared_figure_is_recounted(
    story: Story, tmp_path: Path, contest: str, figure: str, where: str
) -> None:
    def change(doc: dict[str, object]) -> None:
        entry = _contest(doc, contest)
        value = entry[figure]
        assert isinstance(value, int)
        entry[figure] = value + 1

    report = _written(tmp_path, _declared(story, change))
    assert _first(report) == "recount"
    assert where in [f.where for f in report.check("recount").findings]


def test_a_section_figure_and_the_winners_are_recounted(story: Story, tmp_path: Path) -> None:
    def change(doc: dict[str, object]) -> None:
        entry = _contest(doc, "committee")
        sections = entry["sections"]
        assert isinstance(sections, list)
        shown = [s for s in sections if s["published"]]
        assert shown, "the story publishes a section"
        shown[0]["candidates"][1]["votes"] -= 1
        entry["winners"] = list(reversed(entry["winners"]))  # type: ignore[call-overload]

    report = _written(tmp_path, _declared(story, change))
    wheres = [f.where for f in report.check("recount").findings]
    assert any(
        w.startswith("contest 'committee' section") and w.endswith("candidate 'Alan Turing' votes")
        for w in wheres
        if w
    ), wheres
    assert "contest 'committee' winners" in wheres


def test_a_ballot_the_booth_would_refuse_is_recounted_as_spoilt(story: Story) -> None:
    definition = parse_definition(story.record.definition)
    groups = {(g.contest, g.section): list(g.ballots) for g in story.record.groups}
    was = groups[("rule-change", "members")][4]
    assert was != (0, 1)
    groups[("rule-change", "members")][4] = (0, 1)  # two answers to a motion: spoilt
    findings = recount(definition, groups, json.loads(story.record.declaration))
    wheres = [f.where for f in findings]
    assert "contest 'rule-change' valid" in wheres and "contest 'rule-change' spoilt" in wheres


def test_marks_no_decoding_gives_fail_the_recount_naming_the_ballot(story: Story) -> None:
    definition = parse_definition(story.record.definition)
    groups = {(g.contest, g.section): list(g.ballots) for g in story.record.groups}
    groups[("committee", "members")][2] = (1, 1)
    findings = recount(definition, groups, json.loads(story.record.declaration))
    assert [str(f) for f in findings] == [
        "committee/members ballot 3: marks [1, 1]: no ballot of 'committee'"
    ]


def test_postal_papers_spoilt_outside_the_board_are_recounted(story: Story, tmp_path: Path) -> None:
    postal: dict[str, JsonValue] = {"leader": {"unreadable_credential": 2, "blank": 5}}
    log = audit_log(story.record.definition, story.record.board, story.record.declaration, postal)
    report = _written(tmp_path, dataclasses.replace(story.record, audit_log=log))
    assert "contest 'leader' spoilt" in [f.where for f in report.check("recount").findings]

    def change(doc: dict[str, object]) -> None:
        leader = _contest(doc, "leader")
        for figure in ("spoilt", "ballots_returned"):
            value = leader[figure]
            assert isinstance(value, int)
            leader[figure] = value + 2
        valid, spoilt, electorate = leader["valid"], leader["spoilt"], leader["electorate"]
        assert isinstance(valid, int) and isinstance(spoilt, int) and isinstance(electorate, int)
        turnout = parse_definition(story.record.definition).turnout
        leader["turnout_percent"] = str(
            turnout.percent(valid=valid, spoilt=spoilt, electorate=electorate)
        )

    declared = _declared(story, change)
    data = declared.declaration
    log = audit_log(story.record.definition, story.record.board, data, postal)
    report = _written(tmp_path / "both", dataclasses.replace(declared, audit_log=log))
    assert report.ok, report.summary()


def test_an_electoral_college_is_recounted_as_a_college(story: Story) -> None:
    """The same ballots declared as a college recount clean; declared by one member, one
    vote they fail the recount, naming the college's figures."""
    definition = parse_definition(story.record.definition)
    leader = definition.contest("leader")
    college = College(weights=(("members", Fraction(1, 2)), ("registered", Fraction(1, 2))))
    changed = dataclasses.replace(
        definition,
        contests=tuple(
            dataclasses.replace(c, college=college) if c is leader else c
            for c in definition.contests
        ),
    )
    groups = {g.key: g.ballots for g in story.record.groups}
    as_college = json.loads(declare(changed, story.record.groups))
    assert recount(changed, groups, as_college) == []
    findings = recount(changed, groups, json.loads(story.record.declaration))
    assert "contest 'leader' college" in [f.where for f in findings]


@pytest.mark.parametrize(
    "hostile",
    [
        {"contests": "all of them"},
        {"contests": [{"contest": "leader", "candidates": "x", "sections": 5, "electorate": []}]},
        {"contests": [{"contest": "leader", "sections": [{"name": 1}], "candidates": [3]}]},
        [1, 2, 3],
    ],
)
def test_a_hostile_declaration_fails_the_recount_without_a_traceback(
    story: Story, tmp_path: Path, hostile: object
) -> None:
    data = json.dumps(hostile).encode()
    log = audit_log(story.record.definition, story.record.board, data)
    record = dataclasses.replace(story.record, declaration=data, audit_log=log)
    report = _written(tmp_path, record)
    assert "recount" in report.failed


def test_a_declaration_the_log_did_not_record_fails(story: Story, tmp_path: Path) -> None:
    record = dataclasses.replace(story.record, declaration=story.record.declaration + b" ")
    report = _written(tmp_path, record)
    assert _first(report) == "declaration-document"


def test_a_definition_the_log_did_not_record_fails(story: Story, tmp_path: Path) -> None:
    text = story.record.definition + "\n# an edit after the log recorded it\n"
    report = _written(tmp_path, dataclasses.replace(story.record, definition=text))
    assert _first(report) == "definition"
