"""The audit hash chain: any change to any field of any event is found, and named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tallyroom.audit import (
    GENESIS,
    Action,
    AuditEvent,
    ChainedEvent,
    Check,
    Head,
    canonical_json,
    chain,
    verify_chain,
)

ELECTION = 7
FIELDS = ("sequence", "election", "action", "actor", "reason", "payload", "recorded_at", "hash")

texts = st.text(st.characters(codec="utf-8"), max_size=20)
payloads = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), texts),
    max_size=4,
)
moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def logs(draw: st.DrawFn, min_size: int = 1) -> list[ChainedEvent]:
    n = draw(st.integers(min_size, 12))
    events = [
        AuditEvent.create(
            sequence=i + 1,
            election=ELECTION,
            action=draw(st.sampled_from(Action)),
            actor=draw(texts.filter(bool)),
            reason=draw(texts),
            payload=draw(payloads),
            at=draw(moments),
        )
        for i in range(n)
    ]
    return list(chain(events))


def _tampered(original: ChainedEvent, field: str, data: st.DataObject) -> ChainedEvent:
    """``original`` with ``field`` changed to another valid value."""
    event = original.event
    if field == "hash":
        flip = data.draw(st.integers(0, 31))
        digest = bytearray(original.hash)
        digest[flip] ^= 0x01
        return ChainedEvent(event, bytes(digest))
    current = getattr(event, field)
    if field in ("sequence", "election"):
        new: object = data.draw(st.integers(1, 10**6).filter(lambda v: v != current))
    elif field == "action":
        new = data.draw(st.sampled_from([a for a in Action if a is not current]))
    elif field == "payload":
        new = canonical_json(data.draw(payloads.filter(lambda p: canonical_json(p) != current)))
    elif field == "recorded_at":
        new = data.draw(
            moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).filter(
                lambda t: t != current
            )
        )
    else:
        new = data.draw(texts.filter(lambda t: t != current and (field != "actor" or t)))
    changed = dataclasses.replace(event, **{field: new})  # type: ignore[arg-type]
    return ChainedEvent(changed, original.hash)


@given(logs())
def test_an_untouched_log_verifies(log: list[ChainedEvent]) -> None:
    result = verify_chain(log, election=ELECTION, expected_head=Head(len(log), log[-1].hash))
    assert result.ok, result.summary()
    assert result.checked == len(log)
    assert result.head == Head(len(log), log[-1].hash)


@given(logs(), st.data())
def test_tampering_with_any_field_of_any_event_names_that_event(
    log: list[ChainedEvent], data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(log) - 1), label="position")
    field = data.draw(st.sampled_from(FIELDS), label="field")
    tampered = list(log)
    tampered[position] = _tampered(log[position], field, data)
    result = verify_chain(tampered, election=ELECTION)
    assert not result.ok
    first = result.first_failure
    assert first is not None
    assert first.position == position, result.summary()
    assert f"event #{position}" in str(first)
    if field != "hash":
        assert result.failed_positions == (position,), result.summary()


@given(logs(min_size=2), st.data())
def test_a_removed_event_is_named_where_the_gap_is(
    log: list[ChainedEvent], data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(log) - 2))
    result = verify_chain(log[:position] + log[position + 1 :], election=ELECTION)
    assert result.first_failure is not None
    assert result.first_failure.position == position
    assert {f.check for f in result.failures} >= {Check.SEQUENCE, Check.HASH}


@given(logs(min_size=2))
def test_events_cut_from_the_end_are_caught_by_the_head(log: list[ChainedEvent]) -> None:
    expected = Head(len(log), log[-1].hash)
    result = verify_chain(log[:-1], election=ELECTION, expected_head=expected)
    assert [f.check for f in result.failures] == [Check.HEAD]
    assert result.first_failure is not None and result.first_failure.position is None


@given(logs(min_size=2), st.data())
def test_swapped_events_are_named(log: list[ChainedEvent], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(log) - 2))
    swapped = list(log)
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    result = verify_chain(swapped, election=ELECTION)
    assert result.first_failure is not None and result.first_failure.position == i


def test_another_elections_event_is_named() -> None:
    log = list(
        chain(
            AuditEvent.create(sequence=i, election=e, action=Action.DEFINITION, actor="ro")
            for i, e in ((1, ELECTION), (2, ELECTION + 1))
        )
    )
    result = verify_chain(log, election=ELECTION)
    assert [(f.position, f.check) for f in result.failures] == [(1, Check.ELECTION)]


def test_the_encoding_is_pinned() -> None:
    """A log written today must verify tomorrow: the bytes hashed must not drift."""
    event = AuditEvent.create(
        sequence=1,
        election=1,
        action=Action.DEFINITION,
        actor="returning officer",
        reason="",
        payload={"slug": "labour-leader-2016", "definition_sha256": "ab" * 32},
        at=datetime(2016, 7, 20, 9, 0, tzinfo=UTC),
    )
    assert event.encode().startswith(b'{"action":"definition","actor":"returning officer"')
    (chained,) = chain([event])
    assert GENESIS.hex() == "53d9f9ccc95e810c218241f36995f70bd4e8fb8b0f753ef9f9bbd9a005f2479d"
    assert chained.hash.hex() == "4a1308dbcdbe456f2847917f9fe754e2040154bfb8ad346f8415857d1076dfb3"


def test_a_result_is_not_a_bool() -> None:
    result = verify_chain([])
    assert result.ok and result.checked == 0
    with pytest.raises(TypeError, match=r"result\.ok"):
        bool(result)


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'
    with pytest.raises(ValueError, match="floats"):
        canonical_json({"quota": 1.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="canonical"):
        AuditEvent(1, 1, Action.COUNT, "ro", "", '{"b": 1}', "2016-07-20T09:00:00.000000Z")
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent.create(
            sequence=1, election=1, action=Action.COUNT, actor="ro", at=datetime(2016, 1, 1)
        )
