"""The key ceremony end to end for 3 trustees, threshold 2, and a cheating dealer caught."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.crypto import dkg, elgamal, group
from tallyroom.crypto.ceremony_messages import signed
from tallyroom.crypto.dkg import Ceremony
from tallyroom.errors import InputError, ProofRejected

CEREMONY = Ceremony("leader-2016", trustees=3, threshold=2)


def run_ceremony(
    ceremony: Ceremony = CEREMONY, cheat: dict[int, int] | None = None
) -> tuple[list[dkg.TrusteeSecrets], list[dkg.Commitments], dkg.ElectionKey, list[dkg.Complaint]]:
    """Every step, every message through its JSON bytes as the server would pass it.
    ``cheat`` maps a dealer to a recipient whose sealed share it corrupts."""
    finished, commitments, key, complaints, _, _ = run_signed(ceremony, cheat)
    return finished, commitments, key, complaints


def run_signed(
    ceremony: Ceremony = CEREMONY, cheat: dict[int, int] | None = None
) -> tuple[
    list[dkg.TrusteeSecrets],
    list[dkg.Commitments],
    dkg.ElectionKey,
    list[dkg.Complaint],
    list[dkg.CommunicationKey],
    list[dkg.KeyConfirmation],
]:
    """:func:`run_ceremony`, with the communication keys and the confirmations of the
    trustees whose shares all verified."""
    n = ceremony.trustees
    step1 = [dkg.make_communication_key(ceremony, i) for i in range(1, n + 1)]
    keys = [dkg.CommunicationKey.from_json(k.to_json()) for _, k in step1]
    secrets, commitments, sealed = [], [], []
    for own, _ in step1:
        s, c, shares = dkg.deal(ceremony, own, keys)
        secrets.append(s)
        commitments.append(dkg.Commitments.from_json(c.to_json()))
        for share in shares:
            if cheat and cheat.get(share.dealer) == share.recipient:
                wrong = _reseal_wrong(ceremony, s, keys, share.recipient)
                share = signed(replace(share, sealed=wrong), s.signing_seed)
            sealed.append(dkg.SealedShare.from_json(share.to_json()))
    finished, complaints, confirmations = [], [], []
    for s in secrets:
        good, raised = dkg.open_shares(ceremony, s, commitments, sealed)
        complaints.extend(dkg.Complaint.from_json(c.to_json()) for c in raised)
        if not raised:
            finished.append(dkg.finish(ceremony, s, good))
            confirmed = dkg.confirm_key(ceremony, s, commitments)
            confirmations.append(dkg.KeyConfirmation.from_json(confirmed.to_json()))
    key = dkg.election_key(ceremony, commitments)
    election_key = dkg.ElectionKey.from_json(key.to_json())
    return finished, commitments, election_key, complaints, keys, confirmations


def _reseal_wrong(
    ceremony: Ceremony, dealer: dkg.TrusteeSecrets, keys: list[dkg.CommunicationKey], to: int
) -> bytes:
    import nacl.public

    bad = (dkg._evaluate(dealer.polynomial, to) + 1) % group.ORDER
    plain = dkg._share_plaintext(ceremony.election, dealer.trustee, to, bad)
    return bytes(
        nacl.public.SealedBox(nacl.public.PublicKey(keys[to - 1].public_key)).encrypt(plain)
    )


def test_three_trustees_threshold_two_end_to_end() -> None:
    secrets, commitments, key, complaints = run_ceremony()
    assert complaints == []
    assert len(secrets) == 3 and all(s.share is not None and s.polynomial == () for s in secrets)
    # the election key is g to the sum of the constant terms, which nobody formed
    assert key.public_key == group.product(c.coefficients[0] for c in commitments)
    for s in secrets:
        assert s.share is not None
        assert group.exp_base(s.share) == key.verification_key(s.trustee)
        assert dkg.verification_key(CEREMONY, commitments, s.trustee) == key.verification_key(
            s.trustee
        )
    # any two shares interpolate to the same secret, whose key is the election key
    from tallyroom.crypto.threshold import lagrange_at_zero

    for pair in ((1, 2), (1, 3), (2, 3)):
        w = lagrange_at_zero(pair)
        x = sum(w[i] * secrets[i - 1].share for i in pair) % group.ORDER  # type: ignore[operator]
        assert group.exp_base(x) == key.public_key
    # one share alone decrypts nothing
    m = group.hash_to_element("test", b"m")
    ct = elgamal.encrypt(key.public_key, m, 12345)
    for s in secrets:
        assert s.share is not None
        assert elgamal.decrypt(s.share, ct) != m


def test_a_cheating_dealer_is_named_by_its_victim_and_its_reveal_settles_it() -> None:
    _, commitments, _, complaints = run_ceremony(cheat={2: 3})
    assert [(c.dealer, c.recipient) for c in complaints] == [(2, 3)]
    assert "does not match the dealer's commitments" in complaints[0].reason
    # the dealer must reveal the share publicly; a wrong one excludes it
    wrong = dkg.RevealedShare(CEREMONY.election, 2, 3, 42)
    with pytest.raises(ProofRejected) as info:
        dkg.check_revealed_share(CEREMONY, commitments[1], wrong)
    assert info.value.check == "revealed-share" and info.value.subject == "trustee 2"


def test_an_honest_dealer_wrongly_accused_is_cleared_by_its_revealed_share() -> None:
    ceremony = Ceremony("e", 2, 2)
    own, key1 = dkg.make_communication_key(ceremony, 1)
    _, key2 = dkg.make_communication_key(ceremony, 2)
    s, c, _ = dkg.deal(ceremony, own, [key1, key2])
    revealed = dkg.RevealedShare("e", 1, 2, dkg._evaluate(s.polynomial, 2))
    dkg.check_revealed_share(ceremony, c, revealed)


def test_missing_misaddressed_and_unopenable_shares_give_complaints() -> None:
    step1 = [dkg.make_communication_key(CEREMONY, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(CEREMONY, own, keys) for own, _ in step1]
    commitments = [c for _, c, _ in dealt]
    sealed = [share for _, _, shares in dealt for share in shares]
    me = dealt[0][0]
    # dealer 2's share to 1 is dropped; dealer 3's share to 1 is replaced by its share to 2
    to_me = [s for s in sealed if s.recipient == 1 and s.dealer == 3]
    stolen = next(s for s in sealed if s.dealer == 3 and s.recipient == 2)
    _, complaints = dkg.open_shares(CEREMONY, me, commitments, [replace(stolen, recipient=1)])
    reasons = {c.dealer: c.reason for c in complaints}
    assert reasons[2] == "no share received"
    assert "does not open" in reasons[3]
    assert to_me  # the honest one would have opened
    good, none = dkg.open_shares(CEREMONY, me, commitments, sealed)
    assert none == () and sorted(good) == [1, 2, 3]


def test_commitments_with_a_bad_proof_or_wrong_count_are_refused() -> None:
    step1 = [dkg.make_communication_key(CEREMONY, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    commitments = [dkg.deal(CEREMONY, own, keys)[1] for own, _ in step1]
    # a commitment to a coefficient the dealer does not know: the old proof fails
    forged = replace(
        commitments[0], coefficients=(group.exp_base(99), commitments[0].coefficients[1])
    )
    with pytest.raises(ProofRejected) as info:
        dkg.election_key(CEREMONY, [forged, *commitments[1:]])
    assert (info.value.check, info.value.subject) == ("coefficient-proof", "trustee 1")
    # a proof copied to another trustee's commitments fails: it is bound to the trustee
    moved = replace(
        commitments[1], coefficients=commitments[0].coefficients, proofs=commitments[0].proofs
    )
    with pytest.raises(ProofRejected, match="trustee 2"):
        dkg.check_commitments(CEREMONY, moved)
    short = replace(commitments[2], coefficients=commitments[2].coefficients[:1])
    with pytest.raises(ProofRejected, match="coefficients"):
        dkg.check_commitments(CEREMONY, short)
    with pytest.raises(ProofRejected, match="missing"):
        dkg.election_key(CEREMONY, commitments[:2])


def test_messages_refuse_any_non_canonical_encoding() -> None:
    _, key = dkg.make_communication_key(CEREMONY, 1)
    data = key.to_json()
    assert dkg.CommunicationKey.from_json(data) == key
    for bad in (
        data.replace(b'","', b'", "', 1),  # whitespace
        data.replace(key.public_key.hex().encode(), key.public_key.hex().upper().encode()),
        data.replace(b'"trustee":1', b'"trustee":1.0'),
        data.replace(b'"type":"communication-key"', b'"type":"commitments"'),
        data[:-1],
        data.replace(b'"election":"leader-2016",', b'"election":"leader-2016","extra":1,'),
        data.replace(b'"version":1', b'"version":2'),
    ):
        with pytest.raises(InputError):
            dkg.CommunicationKey.from_json(bad)


def test_the_trustees_file_opens_only_with_its_passphrase(tmp_path: Path) -> None:
    secrets, _, _, _ = run_ceremony()
    path = tmp_path / "trustee-1.key"
    dkg.save_secrets(path, secrets[0], "correct horse")
    assert path.stat().st_mode & 0o777 == 0o600
    assert dkg.load_secrets(path, "correct horse") == secrets[0]
    assert str(secrets[0].share) not in repr(secrets[0])
    with pytest.raises(InputError, match="wrong passphrase"):
        dkg.load_secrets(path, "wrong horse")
    text = path.read_text()
    assert str(secrets[0].share) not in text and hex(secrets[0].share or 0)[2:] not in text


def test_ceremony_parameters_are_checked() -> None:
    with pytest.raises(InputError):
        Ceremony("e", trustees=2, threshold=3)
    with pytest.raises(InputError):
        Ceremony("e", trustees=2, threshold=0)
    with pytest.raises(InputError, match=r"1\.\.3"):
        dkg.make_communication_key(CEREMONY, 4)
    own, key = dkg.make_communication_key(CEREMONY, 1)
    keys = [key, *(dkg.make_communication_key(CEREMONY, i)[1] for i in (2, 3))]
    with pytest.raises(InputError, match="another election"):
        dkg.deal(Ceremony("other", 3, 2), own, keys)
    with pytest.raises(InputError, match="every trustee"):
        dkg.deal(CEREMONY, own, keys[:2])


@settings(max_examples=12, deadline=None)
@given(st.data())
def test_any_threshold_subset_decrypts_and_a_smaller_one_does_not(data: st.DataObject) -> None:
    from tallyroom.crypto import threshold

    n = data.draw(st.integers(1, 5), label="trustees")
    t = data.draw(st.integers(1, n), label="threshold")
    ceremony = Ceremony("prop", n, t)
    secrets, _, key, complaints = run_ceremony(ceremony)
    assert complaints == [] and len(secrets) == n
    m = group.hash_to_element("prop", bytes([n, t]))
    ct = elgamal.encrypt(key.public_key, m, data.draw(st.integers(1, group.ORDER - 1)))
    chosen = data.draw(st.lists(st.integers(1, n), unique=True, min_size=t, max_size=n))
    shares = [
        threshold.partial_decrypt("prop", i, secrets[i - 1].share or 0, key.verification_key(i), ct)
        for i in chosen
    ]
    for s in shares:
        threshold.verify_share(key, ct, s)
    assert threshold.combine(key, ct, shares) == m
    if t > 1:
        fewer = shares[: t - 1]
        w = threshold.lagrange_at_zero([s.trustee for s in fewer])
        guess = group.div(ct.b, group.product(group.exp(s.share, w[s.trustee]) for s in fewer))
        assert guess != m


def test_the_verifier_checks_a_published_ceremony() -> None:
    secrets, commitments, key, complaints, keys, confirmed = run_signed(cheat={1: 2})
    assert [(c.dealer, c.recipient) for c in complaints] == [(1, 2)]
    with pytest.raises(ProofRejected, match="not answered") as info:
        dkg.verify_ceremony(CEREMONY, keys, commitments, complaints, [], confirmed, key)
    assert info.value.subject == "trustee 1"
    dealer = next(s for s in secrets if s.trustee == 1)
    wrong = signed(dkg.RevealedShare(CEREMONY.election, 1, 2, 7), dealer.signing_seed)
    with pytest.raises(ProofRejected, match="revealed-share"):
        dkg.verify_ceremony(CEREMONY, keys, commitments, complaints, [wrong], confirmed, key)
    honest, commitments, key, none, keys, confirmed = run_signed()
    assert none == []
    dkg.verify_ceremony(CEREMONY, keys, commitments, [], [], confirmed, key)
    swapped = replace(
        key,
        verification_keys=(
            key.verification_keys[1],
            key.verification_keys[0],
            key.verification_keys[2],
        ),
    )
    with pytest.raises(ProofRejected, match="election-key"):
        dkg.verify_ceremony(CEREMONY, keys, commitments, [], [], confirmed, swapped)
    other = replace(key, public_key=key.verification_keys[0])
    with pytest.raises(ProofRejected, match="election-key"):
        dkg.verify_ceremony(CEREMONY, keys, commitments, [], [], confirmed, other)
    del honest


_PUBLISHED = run_signed()


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 255))
def test_any_byte_changed_in_a_published_commitment_is_caught(pos: int, delta: int) -> None:
    _, commitments, key, _, keys, confirmed = _PUBLISHED
    data = bytearray(commitments[1].to_json())
    i = pos % len(data)
    data[i] = (data[i] + delta) % 256
    try:
        changed = dkg.Commitments.from_json(bytes(data))
    except InputError:
        return
    with pytest.raises(ProofRejected):
        dkg.verify_ceremony(
            CEREMONY, keys, [commitments[0], changed, commitments[2]], [], [], confirmed, key
        )


def test_a_fingerprint_names_the_key_the_trustee_and_the_election() -> None:
    _, key = dkg.make_communication_key(CEREMONY, 1)
    _, other = dkg.make_communication_key(CEREMONY, 1)
    fp = key.fingerprint()
    assert len(fp) == 24 and fp.count("-") == 4
    assert fp != other.fingerprint()
    assert fp != replace(key, trustee=2).fingerprint()
    assert fp != replace(key, election="leader-2017").fingerprint()
    # the fingerprint covers the signing key too: comparing it authenticates both keys
    assert fp != replace(key, signing_key=other.signing_key).fingerprint()


def test_a_trustee_refuses_commitments_published_in_its_name_that_it_did_not_make() -> None:
    """A server that swaps every dealer's commitments for its own would know the secret."""
    step1 = [dkg.make_communication_key(CEREMONY, i) for i in (1, 2, 3)]
    keys = [k for _, k in step1]
    dealt = [dkg.deal(CEREMONY, own, keys) for own, _ in step1]
    commitments = [c for _, c, _ in dealt]
    sealed = [s for _, _, shares in dealt for s in shares]
    _, impostor, _ = dkg.deal(CEREMONY, replace(dealt[0][0], polynomial=()), keys)
    swapped = [impostor, *commitments[1:]]
    with pytest.raises(ProofRejected) as info:
        dkg.open_shares(CEREMONY, dealt[0][0], swapped, sealed)
    assert (info.value.check, info.value.subject) == ("own-commitments", "trustee 1")
    with pytest.raises(InputError, match="not dealt"):
        dkg.open_shares(CEREMONY, step1[0][0], commitments, sealed)
