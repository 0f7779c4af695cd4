"""Credentials derived from a delivery secret: the same for the same voter and issue, a
different one for anything else, in the credential's written form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tallyroom.crypto.credentials import normalise_credential
from tallyroom.crypto.delivery_secret import DeliverySecret

KEYS = st.text(min_size=1, max_size=64)
ISSUES = st.integers(min_value=1, max_value=10_000)


@given(secret=st.binary(min_size=32, max_size=32), key=KEYS, issue=ISSUES)
def test_derivation_repeats_and_is_a_credential(secret: bytes, key: str, issue: int) -> None:
    first = DeliverySecret(secret).credential(key, issue)
    assert DeliverySecret(secret).credential(key, issue) == first  # a resend repeats it
    assert normalise_credential(first).replace("-", "") == first.replace("-", "")
    assert len(first) == 27 and first.count("-") == 5
    assert DeliverySecret(secret).credentials([(key, issue), (key, issue)]) == [first, first]


@given(key=KEYS, other=KEYS, issue=ISSUES)
def test_another_voter_issue_or_secret_gives_another_credential(
    key: str, other: str, issue: int
) -> None:
    secret = DeliverySecret(b"\1" * 32)
    mine = secret.credential(key, issue)
    assert secret.credential(key, issue + 1) != mine
    assert DeliverySecret(b"\2" * 32).credential(key, issue) != mine
    if other != key:
        assert secret.credential(other, issue) != mine
    # the separator keeps ("a", 11) and ("a\x001", 1) apart
    assert secret.credential("a", 11) != secret.credential("a\x001", 1)


def test_check_value_tells_secrets_apart_and_repr_hides_it() -> None:
    one, two = DeliverySecret.generate(), DeliverySecret.generate()
    assert one.check_value() != two.check_value()
    assert one.secret.hex() not in repr(one)
