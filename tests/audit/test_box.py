"""The ballot box's multiset digest (MuHash3072) and the record verifier, without a database."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tallyroom.audit import box
from tallyroom.audit.box import BallotElement, BoxDigest, CastElement
from tallyroom.audit.events import canonical_json
from tallyroom.audit.record import (
    BoxCounts,
    LoggedFacts,
    RecordCheck,
    StoredFacts,
    counts_json,
    verify_record,
)

receipts = st.binary(min_size=32, max_size=32)
ballot_elements = st.builds(
    BallotElement,
    st.sampled_from(["leader", "deputy"]),
    st.sampled_from(["members", "affiliated", None]),
    receipts,
)


def test_the_modulus_is_prime_and_the_reduction_is_exact() -> None:
    # Miller-Rabin with fixed bases: a composite passes all 20 with odds below 4^-20
    n, d, s = box.P, box.P - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in range(2, 22):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            pytest.fail(f"{a} witnesses that P is composite")
    rng = random.Random(7)
    for _ in range(200):
        a, b = rng.randrange(1, box.P), rng.randrange(1, box.P)
        assert box._mulmod(a, b) == a * b % box.P
    assert box._mulmod(box.P - 1, box.P - 1) == 1


@given(st.lists(ballot_elements, max_size=12), st.randoms())
def test_the_digest_is_the_multiset_whatever_the_order_and_grouping(
    elements: list[BallotElement], rng: random.Random
) -> None:
    whole = box.multiply(box.EMPTY, elements)
    shuffled = elements[:]
    rng.shuffle(shuffled)
    cut = rng.randint(0, len(shuffled))
    shards = [box.multiply(box.EMPTY, shuffled[:cut]), box.multiply(box.EMPTY, shuffled[cut:])]
    assert box.combine(shards) == whole
    assert box.from_bytes(box.to_bytes(whole)) == whole


@given(st.lists(ballot_elements, min_size=1, max_size=8), st.data())
def test_any_change_to_one_ballot_changes_the_digest(
    elements: list[BallotElement], data: st.DataObject
) -> None:
    whole = box.multiply(box.EMPTY, elements)
    k = data.draw(st.integers(0, len(elements) - 1))
    e = elements[k]
    changed = data.draw(
        st.sampled_from(
            [
                BallotElement(e.contest + "x", e.section, e.receipt),
                BallotElement(e.contest, "other", e.receipt),
                BallotElement(e.contest, e.section, hashlib.sha256(e.receipt).digest()),
            ]
        )
    )
    assert box.multiply(box.EMPTY, [*elements[:k], changed, *elements[k + 1 :]]) != whole
    assert box.multiply(box.EMPTY, [*elements, e]) != whole  # a duplicate
    assert box.multiply(box.EMPTY, elements[:k] + elements[k + 1 :]) != whole  # a deletion


def test_a_ballot_never_reads_as_a_cast() -> None:
    ballot = BallotElement("leader", "members", b"\x01" * 32)
    cast = CastElement(1, 1, "leader", "online", None)
    for element in (ballot, cast, BallotElement('Jürgen "x"', None, b"\x02" * 32)):
        assert element.encode() == canonical_json(json.loads(element.encode())).encode()
    assert ballot.encode().startswith(b'["ballot"') and cast.encode().startswith(b'["cast"')
    with pytest.raises(ValueError):
        box.from_bytes(b"\x00" * box.DIGEST_BYTES)


def _facts(**changes: object) -> StoredFacts:
    digest = BoxDigest(5, 7, 1, 1)
    base: dict[str, object] = {
        "state": "closed",
        "definition_sha256": "d" * 64,
        "definition_column": "d" * 64,
        "eligibility_sha256": "e" * 64,
        "box_kept": digest,
        "box_rows": digest,
        "counts": {("leader", "members"): BoxCounts(1, 1, 1)},
        "bad_receipts": 0,
    }
    base.update(changes)
    return StoredFacts(**base)  # type: ignore[arg-type]


LOGGED = LoggedFacts(
    state="closed",
    definition_sha256="d" * 64,
    eligibility_sha256="e" * 64,
    close_box=BoxDigest(5, 7, 1, 1).fingerprint,
    close_counts=counts_json({("leader", "members"): BoxCounts(1, 1, 1)}),
)


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, set()),
        ({"bad_receipts": 1}, {RecordCheck.RECEIPT}),
        ({"box_rows": BoxDigest(6, 7, 1, 1)}, {RecordCheck.BOX_BALLOTS, RecordCheck.BOX_CLOSE}),
        ({"box_rows": BoxDigest(5, 8, 1, 1)}, {RecordCheck.BOX_CASTS, RecordCheck.BOX_CLOSE}),
        (
            {"counts": {("leader", "members"): BoxCounts(1, 2, 2)}},
            {RecordCheck.RECONCILE, RecordCheck.BOX_CLOSE},
        ),
        ({"state": "open"}, {RecordCheck.STATE}),
        ({"definition_sha256": "x" * 64}, {RecordCheck.DEFINITION}),
        ({"eligibility_sha256": "x" * 64}, {RecordCheck.ELIGIBILITY}),
    ],
)
def test_each_difference_is_named(changes: dict[str, object], failed: set[RecordCheck]) -> None:
    result = verify_record(_facts(**changes), LOGGED)
    assert set(result.failed_checks) == failed
    assert result.ok is (not failed)
    if failed:
        assert "FAILED" in result.summary()


def test_eligibility_is_not_judged_after_an_unlogged_register_change() -> None:
    logged = LoggedFacts(
        state="closed",
        definition_sha256="d" * 64,
        eligibility_sha256="e" * 64,
        register_changed_since=True,
    )
    result = verify_record(_facts(eligibility_sha256="x" * 64), logged)
    assert RecordCheck.ELIGIBILITY not in result.checked and result.ok


def test_a_ballot_element_holds_its_weight_and_an_unweighted_one_is_as_before() -> None:
    receipt = bytes(range(32))
    plain = BallotElement("motion", "branches", receipt)
    # the encoding every unweighted box was built with: its digests stay valid
    assert (
        plain.encode()
        == json.dumps(
            ["ballot", "motion", "branches", receipt.hex()], separators=(",", ":")
        ).encode()
    )
    weighted = BallotElement("motion", "branches", receipt, "2.5")
    assert weighted.encode().endswith(b',{"weight":"2.5"}]')
    digests = {
        box.multiply(box.EMPTY, [e])
        for e in (plain, weighted, BallotElement("motion", "branches", receipt, "2.50"))
    }
    assert len(digests) == 3  # a weight added, or changed even in its writing, shows
