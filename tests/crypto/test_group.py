"""The ristretto255 group as the verifiable ballot uses it: the laws its proofs rely on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyroom.crypto import group
from tallyroom.errors import InputError

scalars = st.integers(min_value=0, max_value=group.ORDER - 1)


@settings(max_examples=60, deadline=None)
@given(scalars, scalars)
def test_exponent_laws(a: int, b: int) -> None:
    g = group.GENERATOR
    assert group.mul(group.exp_base(a), group.exp_base(b)) == group.exp_base(a + b)
    assert group.exp(group.exp_base(a), b) == group.exp_base(a * b)
    assert group.exp(g, a) == group.exp_base(a)
    assert group.div(group.exp_base(a), group.exp_base(b)) == group.exp_base(a - b)
    assert group.mul(group.exp_base(a), group.inverse(group.exp_base(a))) == group.IDENTITY


def test_the_order_annihilates_and_zero_is_the_identity() -> None:
    assert group.exp_base(group.ORDER) == group.IDENTITY
    assert group.exp_base(0) == group.IDENTITY
    assert group.exp(group.GENERATOR, 0) == group.IDENTITY
    assert group.exp(group.IDENTITY, 5) == group.IDENTITY
    assert group.exp_base(group.ORDER + 1) == group.GENERATOR
    assert group.product([]) == group.IDENTITY


def test_decoding_refuses_what_is_not_a_canonical_element() -> None:
    assert group.decode_element(bytes(group.GENERATOR)) == group.GENERATOR
    assert group.decode_element(bytes(32)) == group.IDENTITY
    with pytest.raises(InputError, match="32 bytes"):
        group.decode_element(b"\x01" * 31)
    # 2^255 - 1 is not a canonical field element: ristretto255 decoding refuses it
    with pytest.raises(InputError, match="not a ristretto255 element"):
        group.decode_element(b"\xff" * 32)
    # a negative field element (odd encoding) is refused (RFC 9496 s.4.3.1)
    with pytest.raises(InputError, match="not a ristretto255 element"):
        group.decode_element(b"\x01" + bytes(31))
    with pytest.raises(InputError, match="below the group order"):
        group.scalar_from_bytes(group.ORDER.to_bytes(32, "little"))
    assert group.scalar_from_bytes(group.scalar_bytes(7)) == 7


def test_hashes_are_domain_separated_and_unambiguous() -> None:
    assert group.hash_to_scalar("a", b"bc") != group.hash_to_scalar("ab", b"c")
    assert group.hash_to_scalar("t", b"ab", b"c") != group.hash_to_scalar("t", b"a", b"bc")
    gens = group.independent_generators("test", 4)
    assert len(set(gens)) == 4 and group.GENERATOR not in gens
    assert gens == group.independent_generators("test", 4)
    assert all(group.decode_element(g) == g for g in gens)


def test_multi_exp_is_the_product_of_powers() -> None:
    gens = group.independent_generators("m", 3)
    expected = group.mul(group.mul(group.exp(gens[0], 2), group.exp(gens[1], 3)), gens[2])
    assert group.multi_exp(gens, [2, 3, 1]) == expected


@settings(max_examples=30, deadline=None)
@given(scalars, st.integers(min_value=1, max_value=group.ORDER - 1), st.binary(min_size=1))
def test_elgamal_decrypts_what_it_encrypts_and_after_reencryption(
    x: int, r: int, label: bytes
) -> None:
    from tallyroom.crypto import elgamal

    public = group.exp_base(x)
    message = group.hash_to_element("test-message", label)
    c = elgamal.encrypt(public, message, r)
    assert elgamal.decrypt(x, c) == message
    c2 = elgamal.reencrypt(public, c, 1 + r % (group.ORDER - 1))  # any nonzero scalar
    assert c2 != c and elgamal.decrypt(x, c2) == message
    assert elgamal.Ciphertext.from_bytes(c2.to_bytes()) == c2
    with pytest.raises(InputError):
        elgamal.Ciphertext.from_bytes(c2.to_bytes()[:-1])
