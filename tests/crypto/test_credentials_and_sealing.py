import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tallyroom.crypto.credentials import (
    CREDENTIAL_BITS,
    credential_hash,
    new_credential,
    new_credentials,
    new_hash_key,
    normalise_credential,
)
from tallyroom.crypto.sealing import (
    ElectionKeys,
    load_private_key,
    open_ballot,
    receipt_of,
    seal_ballot,
)
from tallyroom.errors import InputError


def test_credentials_carry_over_100_bits_and_are_distinct() -> None:
    assert CREDENTIAL_BITS >= 100
    creds = {new_credential() for _ in range(2000)}
    assert len(creds) == 2000
    for c in list(creds)[:50]:
        assert len(normalise_credential(c)) == 22


def test_every_character_of_every_credential_is_uniform() -> None:
    """The batch generator's digits: each of the 32 in each of the 22 places about equally
    often (20,000 credentials: 625 expected per cell, sd 24.6; the bound is six sd)."""
    batch = new_credentials(20_000)
    assert len(set(batch)) == len(batch)
    assert all(re.fullmatch(r"([0-9A-Z]{4}-){5}[0-9A-Z]{2}", c) for c in batch)
    for place in range(22):
        counts = Counter(normalise_credential(c)[place] for c in batch)
        assert set(counts) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), place
        assert all(abs(n - 625) < 150 for n in counts.values()), (place, counts)


def test_typing_is_forgiving_but_strict_on_length() -> None:
    c = new_credential()
    canon = normalise_credential(c)
    assert normalise_credential(c.lower().replace("-", " ")) == canon
    assert normalise_credential(canon.replace("1", "I").replace("0", "O")) == canon
    with pytest.raises(InputError, match="22"):
        normalise_credential(c[:-1])
    with pytest.raises(InputError):
        normalise_credential(c[:-1] + "U")


@given(st.binary(min_size=32, max_size=32))
def test_hash_depends_on_key_and_credential(key: bytes) -> None:
    c1, c2 = new_credential(), new_credential()
    assert credential_hash(key, c1) == credential_hash(key, c1.lower())
    assert credential_hash(key, c1) != credential_hash(key, c2)
    assert credential_hash(key, c1) != credential_hash(new_hash_key(), c1)


def test_sealed_ballot_round_trip_and_receipt(tmp_path: Path) -> None:
    keys = ElectionKeys.generate()
    sealed = seal_ballot(keys.public, b'{"leader": [1, 0]}')
    assert b"leader" not in sealed
    assert open_ballot(keys, sealed) == b'{"leader": [1, 0]}'
    assert receipt_of(sealed) == receipt_of(bytes(sealed))
    assert seal_ballot(keys.public, b"x") != seal_ballot(keys.public, b"x")  # ephemeral keys
    path = tmp_path / "election.key"
    keys.save_private(path, "correct horse battery staple")
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_private_key(path, "correct horse battery staple")
    assert open_ballot(again, sealed) == b'{"leader": [1, 0]}'
    with pytest.raises(InputError, match="wrong passphrase"):
        load_private_key(path, "wrong")
    with pytest.raises(InputError, match="does not open"):
        open_ballot(ElectionKeys.generate(), sealed)
