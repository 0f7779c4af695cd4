"""The key ceremony and the key drill through the service (services/ceremony.py), on SQLite and
PostgreSQL: every message checked before it is stored (bad proof, another election, a trustee
out of range, a second different message, out of order, a signature not its trustee's, a key
confirmation of another key), all or none, every trustee's confirmation needed to finish, the
key stored and the drill passed before the poll opens, and a message edited, deleted or added
in the database seen by ``audit verify`` (check ``ceremony``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
import sqlalchemy as sa

from tallyroom.audit.events import Action
from tallyroom.audit.record import RecordCheck
from tallyroom.crypto import dkg, elgamal, group, threshold, trustee_signing
from tallyroom.crypto.ceremony_messages import Ceremony, KeyConfirmation, signed
from tallyroom.crypto.drill_messages import DrillShare
from tallyroom.errors import InputError, LifecycleError, ProofRejected
from tallyroom.services import ceremony as service
from tallyroom.services.audit_log import check_record
from tallyroom.services.polling import open_voting
from tallyroom.services.setup import SetupRefused, replace_draft_text
from tallyroom.store import audit, elections
from tallyroom.store.engine import Store
from tallyroom.store.schema import ElectionState, ceremony_messages
from verifiable_leader import LEADER_VERIFIABLE

DEFINITION = LEADER_VERIFIABLE
SLUG = "leader"
C = Ceremony(SLUG, 3, 2)
Files = list[tuple[str, bytes]]


def _create(store: Store, slug: str = SLUG) -> int:
    with store.begin() as conn:
        return elections.create_election(conn, slug, DEFINITION, actor="ro").id


class Trustees:
    """Three trustees running the ceremony in memory; their messages as files."""

    def __init__(self, ceremony: Ceremony = C) -> None:
        self.c = ceremony
        step1 = [dkg.make_communication_key(ceremony, i) for i in (1, 2, 3)]
        self.secrets = [s for s, _ in step1]
        self.keys = [k for _, k in step1]
        self.commitments: list[dkg.Commitments] = []
        self.sealed: list[dkg.SealedShare] = []

    def key_files(self) -> Files:
        return [(f"communication-key-{k.trustee}.json", k.to_json()) for k in self.keys]

    def deal(self) -> Files:
        out: Files = []
        for i, own in enumerate(self.secrets):
            s, c, shares = dkg.deal(self.c, own, self.keys)
            self.secrets[i] = s
            self.commitments.append(c)
            self.sealed.extend(shares)
            out.append((f"commitments-{c.trustee}.json", c.to_json()))
            out += [(f"sealed-share-{x.dealer}-to-{x.recipient}.json", x.to_json()) for x in shares]
        return out

    def open_all(self) -> list[dkg.TrusteeSecrets]:
        done = []
        for s in self.secrets:
            good, complaints = dkg.open_shares(self.c, s, self.commitments, self.sealed)
            assert complaints == ()
            done.append(dkg.finish(self.c, s, good))
        return done

    def confirm_files(self, which: tuple[int, ...] = (1, 2, 3)) -> Files:
        out: Files = []
        for s in self.secrets:
            if s.trustee in which:
                confirmation = dkg.confirm_key(self.c, s, self.commitments)
                out.append((f"confirmation-{s.trustee}.json", confirmation.to_json()))
        return out


def _ceremony(store: Store) -> tuple[Trustees, list[dkg.TrusteeSecrets], dkg.ElectionKey]:
    t = Trustees()
    service.add_messages(store, SLUG, t.key_files(), actor="ro")
    service.add_messages(store, SLUG, t.deal(), actor="ro")
    finished = t.open_all()
    service.add_messages(store, SLUG, t.confirm_files(), actor="ro")
    key = service.finish(store, SLUG, actor="ro")
    return t, finished, key


def _drill_file(key: dkg.ElectionKey, s: dkg.TrusteeSecrets, ch: threshold.DrillChallenge) -> bytes:
    assert s.share is not None
    share = threshold.partial_decrypt(
        SLUG, s.trustee, s.share, key.verification_key(s.trustee), ch.ciphertext
    )
    return signed(DrillShare(SLUG, share), s.signing_seed).to_json()


def _check(store: Store, election_id: int) -> set[RecordCheck]:
    with store.read() as conn:
        return set(check_record(conn, election_id).failed_checks)


def test_ceremony_key_and_drill_end_to_end(store: Store) -> None:
    election_id = _create(store)
    _, finished, key = _ceremony(store)
    with store.read() as conn:
        assert elections.get_election(conn, election_id).election_key == key.to_json()
    # the stored key opens a ciphertext with any two trustees' shares
    m = group.hash_to_element("test", b"ballot")
    ct = elgamal.encrypt(key.public_key, m, group.random_scalar())
    shares = [
        threshold.partial_decrypt(
            SLUG, s.trustee, s.share or 0, key.verification_key(s.trustee), ct
        )
        for s in finished[1:]
    ]
    assert threshold.combine(key, ct, shares) == m

    challenge = service.start_drill(store, SLUG, actor="ro")
    service.add_messages(
        store, SLUG, [("drill-share-1.json", _drill_file(key, finished[0], challenge))], actor="ro"
    )
    with pytest.raises(InputError, match="needs the shares of 2 trustees; it has 1"):
        service.finish_drill(store, SLUG, actor="ro")
    service.add_messages(
        store, SLUG, [("drill-share-3.json", _drill_file(key, finished[2], challenge))], actor="ro"
    )
    drill = service.finish_drill(store, SLUG, actor="ro")
    threshold.verify_key_drill(key, drill)

    pub = service.published(store, SLUG)
    assert pub.ceremony == C and pub.names == ("Ann Hale", "Ben Ode", "Cleo Marr")
    assert [k.trustee for k in pub.communication_keys] == [1, 2, 3]
    assert [(s.dealer, s.recipient) for s in pub.sealed_shares] == [
        (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)
    ]  # fmt: skip
    assert pub.election_key == key and pub.key_drill == drill
    assert [c.trustee for c in pub.confirmations] == [1, 2, 3]
    dkg.verify_ceremony(
        C,
        pub.communication_keys,
        pub.commitments,
        pub.complaints,
        pub.revealed_shares,
        pub.confirmations,
        key,
    )
    status = service.status(store, SLUG)
    assert status.drill_passed and "may open" in status.next_step
    assert all(t.confirmed for t in status.trustees)
    with store.read() as conn:
        actions = [c.event.action for c in audit.events(conn, election_id)]
        assert actions.count(Action.CEREMONY_MESSAGE) == 3 + 3 + 6 + 3 + 1 + 2
        assert actions.count(Action.KEY_DRILL) == 1
    assert _check(store, election_id) == set()


def test_bad_messages_are_refused_naming_file_and_check_and_nothing_is_stored(
    store: Store,
) -> None:
    election_id = _create(store)
    _create(store, "other")
    t = Trustees()
    # a commitment before every communication key is in
    dealt = t.deal()
    with pytest.raises(InputError, match=r"commitments-1.json.*before every trustee"):
        service.add_messages(store, SLUG, t.key_files()[:2] + dealt[:1], actor="ro")
    with store.read() as conn:  # all or none: the two good keys were not kept
        assert conn.execute(sa.select(sa.func.count()).select_from(ceremony_messages)).scalar() == 0
    # a sealed share to a trustee whose communication key is not in
    to_3 = next(x for x in t.sealed if (x.dealer, x.recipient) == (1, 3))
    with pytest.raises(InputError, match="trustee 3 has no communication key yet"):
        service.add_messages(
            store, SLUG, [*t.key_files()[:2], ("to-3.json", to_3.to_json())], actor="ro"
        )
    service.add_messages(store, SLUG, t.key_files(), actor="ro")

    # a commitment whose proof does not hold
    c1 = t.commitments[0]
    forged = replace(c1, coefficients=(group.exp_base(7), *c1.coefficients[1:]))
    forged = signed(forged, t.secrets[0].signing_seed)  # the dealer itself cheats
    with pytest.raises(ProofRejected) as info:
        service.add_messages(store, SLUG, [("c1.json", forged.to_json())], actor="ro")
    assert info.value.check == "coefficient-proof" and "c1.json" in str(info.value)

    # a message replayed from another election
    other = Trustees(Ceremony("other", 3, 2))
    with pytest.raises(ProofRejected, match="replayed") as info:
        service.add_messages(store, SLUG, other.key_files()[:1], actor="ro")
    assert info.value.check == "election"

    # a second, different message of the same kind from the same trustee
    _, again = dkg.make_communication_key(C, 2)
    with pytest.raises(InputError, match="already sent a different communication-key"):
        service.add_messages(store, SLUG, [("k2.json", again.to_json())], actor="ro")
    # the same bytes again are accepted as already stored
    added = service.add_messages(store, SLUG, t.key_files(), actor="ro")
    assert added.stored == () and len(added.already) == 3

    # a trustee outside 1..n, and a sealed share for a trustee without a key
    wrong = replace(t.keys[0], trustee=4)
    with pytest.raises(InputError, match=r"k4.json: trustee: trustees are numbered 1..3"):
        service.add_messages(store, SLUG, [("k4.json", wrong.to_json())], actor="ro")
    share = replace(t.sealed[0], recipient=5)
    with pytest.raises(InputError, match="recipient"):
        service.add_messages(store, SLUG, [("s.json", share.to_json())], actor="ro")
    # a sealed share before its dealer's commitments
    with pytest.raises(InputError, match="commitments must come with"):
        service.add_messages(store, SLUG, [("s.json", t.sealed[0].to_json())], actor="ro")
    # a tampered file (a byte changed: not canonical, or another value)
    body = t.commitments[0].to_json().replace(b'"trustee":1', b'"trustee": 1')
    with pytest.raises(InputError, match=r"tampered.json: encoding: .*canonical"):
        service.add_messages(store, SLUG, [("tampered.json", body)], actor="ro")
    # a drill share, and a complaint, out of order
    with pytest.raises(InputError, match=r"complaint.json.*before every trustee's commitments"):
        complaint = signed(
            dkg.Complaint(SLUG, 1, 2, "no share received"), t.secrets[1].signing_seed
        )
        service.add_messages(store, SLUG, [("complaint.json", complaint.to_json())], actor="ro")
    with pytest.raises(LifecycleError, match="not finished"):
        service.start_drill(store, SLUG, actor="ro")
    with store.read() as conn:
        assert len(conn.execute(sa.select(ceremony_messages.c.id)).all()) == 3
    with pytest.raises(InputError, match="still needs deals from trustee"):
        service.finish(store, SLUG, actor="ro")
    assert _check(store, election_id) == set()


def test_a_bad_share_gives_a_complaint_that_the_reveal_settles(store: Store) -> None:
    _create(store)
    t = Trustees()
    service.add_messages(store, SLUG, t.key_files(), actor="ro")
    files = t.deal()
    # trustee 2's share to 3 is replaced by its share to 1 resealed wrongly: 3 complains
    bad = replace(
        next(s for s in t.sealed if (s.dealer, s.recipient) == (2, 3)),
        sealed=next(s for s in t.sealed if (s.dealer, s.recipient) == (1, 3)).sealed,
    )
    bad = signed(bad, t.secrets[1].signing_seed)  # the dealer itself sent it
    t.sealed = [bad if (s.dealer, s.recipient) == (2, 3) else s for s in t.sealed]
    files = [(n, bad.to_json()) if n == "sealed-share-2-to-3.json" else (n, b) for n, b in files]
    service.add_messages(store, SLUG, files, actor="ro")
    _, complaints = dkg.open_shares(C, t.secrets[2], t.commitments, t.sealed)
    assert [(c.dealer, c.recipient) for c in complaints] == [(2, 3)]
    raised = [("complaint-2-by-3.json", complaints[0].to_json())]
    service.add_messages(store, SLUG, raised, actor="ro")
    with pytest.raises(InputError, match=r"trustee 2's answer .* to trustee 3's complaint"):
        service.finish(store, SLUG, actor="ro")
    # a wrong answer: the dealer is to be excluded, nothing stored
    wrong = signed(dkg.RevealedShare(SLUG, 2, 3, 12345), t.secrets[1].signing_seed)
    with pytest.raises(ProofRejected, match="to be excluded") as info:
        service.add_messages(store, SLUG, [("r.json", wrong.to_json())], actor="ro")
    assert info.value.check == "revealed-share"
    # the right answer settles it; the ceremony finishes and verifies
    right = dkg.reveal_share(C, t.secrets[1], complaints[0])
    service.add_messages(store, SLUG, [("r.json", right.to_json())], actor="ro")
    # trustee 3 opens again with the revealed share and confirms; so do the others
    service.add_messages(store, SLUG, t.confirm_files(), actor="ro")
    key = service.finish(store, SLUG, actor="ro")
    pub = service.published(store, SLUG)
    assert len(pub.complaints) == 1 and len(pub.revealed_shares) == 1
    dkg.verify_ceremony(
        C,
        pub.communication_keys,
        pub.commitments,
        pub.complaints,
        pub.revealed_shares,
        pub.confirmations,
        key,
    )
    # no ceremony message once the key is set
    late = signed(dkg.Complaint(SLUG, 1, 2, "late"), t.secrets[1].signing_seed)
    with pytest.raises(InputError, match="ceremony is finished"):
        service.add_messages(store, SLUG, [("late.json", late.to_json())], actor="ro")


def test_a_drill_share_with_a_bad_proof_is_refused(store: Store) -> None:
    _create(store)
    _, finished, key = _ceremony(store)
    challenge = service.start_drill(store, SLUG, actor="ro")
    # trustee 1 uses trustee 2's secret share: its proof fails against its verification key
    fake = replace(finished[0], share=finished[1].share)
    with pytest.raises(ProofRejected, match=r"drill-share-1.json") as info:
        service.add_messages(
            store, SLUG, [("drill-share-1.json", _drill_file(key, fake, challenge))], actor="ro"
        )
    assert info.value.check == "challenge"


def test_the_poll_does_not_open_before_the_key_and_the_drill(store: Store) -> None:
    election_id = _create(store)
    with store.begin() as conn:
        for state in list(ElectionState)[1:4]:
            elections.advance(conn, election_id, state, actor="ro")
        assert elections.get_election(conn, election_id).state is ElectionState.CREDENTIALS_ISSUED
    during = datetime.fromisoformat("2026-09-21T12:00:00+01:00")
    with pytest.raises(LifecycleError, match="key ceremony is not finished"):
        open_voting(store, SLUG, actor="ro", now=during)
    _, finished, key = _ceremony(store)
    with pytest.raises(LifecycleError, match="key drill has not passed"):
        open_voting(store, SLUG, actor="ro", now=during)
    challenge = service.start_drill(store, SLUG, actor="ro")
    files = [(f"d{s.trustee}.json", _drill_file(key, s, challenge)) for s in finished[:2]]
    service.add_messages(store, SLUG, files, actor="ro")
    service.finish_drill(store, SLUG, actor="ro")
    open_voting(store, SLUG, actor="ro", now=during)  # no sealing key: none is needed
    with store.read() as conn:
        assert elections.get_election(conn, election_id).state is ElectionState.OPEN


@pytest.mark.parametrize("attack", ["edit", "delete", "insert", "retag"])
def test_a_message_changed_in_the_database_fails_audit_verify(store: Store, attack: str) -> None:
    election_id = _create(store)
    t = Trustees()
    service.add_messages(store, SLUG, t.key_files(), actor="ro")
    assert _check(store, election_id) == set()
    _, other = dkg.make_communication_key(C, 1)
    table = ceremony_messages
    row = table.c.election_id == election_id
    with store.begin() as conn:  # a database writer without the service
        if attack == "edit":
            conn.execute(
                table.update().where(row, table.c.trustee == 1).values(body=other.to_json())
            )
        elif attack == "delete":
            conn.execute(table.delete().where(row, table.c.trustee == 3))
        elif attack == "insert":
            deal = dkg.deal(C, t.secrets[0], t.keys)[1].to_json()
            conn.execute(
                table.insert().values(
                    election_id=election_id, kind="commitments", trustee=1, recipient=0,
                    body=deal, sha256="0" * 64,
                )
            )  # fmt: skip
        else:
            conn.execute(table.update().where(row, table.c.trustee == 2).values(trustee=3 + 1))
    assert RecordCheck.CEREMONY in _check(store, election_id)


def test_the_trustees_cannot_change_once_the_ceremony_has_begun(store: Store) -> None:
    _create(store)
    other_threshold = DEFINITION.replace("threshold = 2", "threshold = 3")
    renamed = DEFINITION.replace('name = "Leader"', 'name = "Party leader"')
    # before any message: the draft's [verifiable] may change
    assert not isinstance(
        replace_draft_text(store, SLUG, other_threshold, actor="ro", reason="t"), SetupRefused
    )
    replace_draft_text(store, SLUG, DEFINITION, actor="ro", reason="back")
    service.add_messages(store, SLUG, Trustees().key_files()[:1], actor="ro")
    refused = replace_draft_text(store, SLUG, other_threshold, actor="ro", reason="t")
    assert isinstance(refused, SetupRefused)
    assert refused.problems[0].key == "verifiable" and "has begun" in refused.problems[0].problem
    # any other change still goes through
    assert not isinstance(
        replace_draft_text(store, SLUG, renamed, actor="ro", reason="name"), SetupRefused
    )


def _count(store: Store) -> int:
    with store.read() as conn:
        return len(conn.execute(sa.select(ceremony_messages.c.id)).all())


def test_a_message_not_signed_by_its_trustees_key_is_refused_whole(store: Store) -> None:
    """Each attack refused naming the file, the trustee and the check; nothing stored."""
    _create(store)
    t = Trustees()
    files = t.deal()
    # a communication key whose signing key was swapped: it cannot sign for the new key
    intruder = trustee_signing.new_seed()
    swapped = replace(t.keys[2], signing_key=trustee_signing.public_key_of(intruder))
    with pytest.raises(ProofRejected) as info:
        service.add_messages(
            store, SLUG, [*t.key_files()[:2], ("k3.json", swapped.to_json())], actor="ro"
        )
    assert info.value.check == "signature" and "k3.json: trustee 3" in str(info.value)
    assert _count(store) == 0
    service.add_messages(store, SLUG, t.key_files(), actor="ro")
    stored = _count(store)
    c2 = t.commitments[1]
    attacks = {
        # trustee 1's key signs trustee 2's commitments
        "by-another.json": signed(replace(c2, signature=b""), t.secrets[0].signing_seed),
        # one byte of the signature flipped
        "flipped.json": replace(c2, signature=c2.signature[:9] + bytes([c2.signature[9] ^ 4])
                                + c2.signature[10:]),
        # re-signed by a key that is not the one in communication-key-2
        "resigned.json": signed(replace(c2, signature=b""), intruder),
    }  # fmt: skip
    for name, forged in attacks.items():
        with pytest.raises(ProofRejected) as info:
            service.add_messages(store, SLUG, [*files[:1], (name, forged.to_json())], actor="ro")
        assert info.value.check == "signature", name
        assert f"{name}: trustee 2" in str(info.value)
        assert _count(store) == stored  # commitments-1, good, not kept either
    # a sealed share re-signed by the recipient instead of the dealer
    share = next(s for s in t.sealed if (s.dealer, s.recipient) == (1, 2))
    by_recipient = signed(share, t.secrets[1].signing_seed)
    with pytest.raises(ProofRejected, match=r"s.json: trustee 1: signature"):
        service.add_messages(
            store, SLUG, [*files[:1], ("s.json", by_recipient.to_json())], actor="ro"
        )
    assert _count(store) == stored


def test_finish_needs_every_trustees_confirmation_of_the_servers_key(store: Store) -> None:
    election_id = _create(store)
    t = Trustees()
    service.add_messages(store, SLUG, t.key_files(), actor="ro")
    dealt = t.deal()
    # a confirmation before every commitment is in
    t.open_all()
    with pytest.raises(InputError, match=r"confirmation-1.json.*before every trustee"):
        service.add_messages(store, SLUG, [*dealt[:1], *t.confirm_files((1,))], actor="ro")
    service.add_messages(store, SLUG, dealt, actor="ro")
    assert "key confirmations from trustee(s) 1, 2, 3" in service.status(store, SLUG).next_step
    # a confirmation of another key (a trustee shown other commitments): refused
    other = signed(KeyConfirmation(SLUG, 2, bytes(32)), t.secrets[1].signing_seed)
    with pytest.raises(ProofRejected) as info:
        service.add_messages(store, SLUG, [("confirmation-2.json", other.to_json())], actor="ro")
    assert info.value.check == "key-confirmation"
    assert "confirmation-2.json: trustee 2" in str(info.value)
    before = _count(store)
    # a confirmation not signed by its trustee: refused
    confirmations = t.confirm_files()
    forged = signed(dkg.confirm_key(C, t.secrets[2], t.commitments), t.secrets[0].signing_seed)
    with pytest.raises(ProofRejected, match=r"c3.json: trustee 3: signature"):
        service.add_messages(
            store, SLUG, [*confirmations[:2], ("c3.json", forged.to_json())], actor="ro"
        )
    assert _count(store) == before
    # a missing confirmation: finish refuses naming the trustee; the key is not set
    service.add_messages(store, SLUG, confirmations[:2], actor="ro")
    status = service.status(store, SLUG)
    assert [x.confirmed for x in status.trustees] == [True, True, False]
    with pytest.raises(ProofRejected) as info:
        service.finish(store, SLUG, actor="ro")
    assert info.value.check == "key-confirmation" and "trustee(s) [3]" in str(info.value)
    with store.read() as conn:
        assert elections.get_election(conn, election_id).election_key is None
    service.add_messages(store, SLUG, confirmations[2:], actor="ro")
    assert "run `tallyroom ceremony finish`" in service.status(store, SLUG).next_step
    key = service.finish(store, SLUG, actor="ro")
    assert confirmations[0][1] == dkg.confirm_key(C, t.secrets[0], t.commitments).to_json()
    assert service.published(store, SLUG).confirmations[0].election_key_sha256 == key.sha256()
    assert _check(store, election_id) == set()


def test_a_drill_share_signed_by_another_trustee_is_refused(store: Store) -> None:
    _create(store)
    _, finished, key = _ceremony(store)
    challenge = service.start_drill(store, SLUG, actor="ro")
    assert finished[0].share is not None
    share = threshold.partial_decrypt(
        SLUG, 1, finished[0].share, key.verification_key(1), challenge.ciphertext
    )
    forged = signed(DrillShare(SLUG, share), finished[1].signing_seed)
    with pytest.raises(ProofRejected, match=r"drill-share-1.json: trustee 1: signature"):
        service.add_messages(store, SLUG, [("drill-share-1.json", forged.to_json())], actor="ro")
