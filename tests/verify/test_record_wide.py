"""A contest whose ballot takes two group elements (a full ranking of 56 candidates: width 2)
through the whole record: its rows are two ciphertexts wide through the mix, its shares two a
row, and a tampered second element is named as such."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from record_story import DEFINITION, build

from tallyroom.crypto import group
from tallyroom.election.reader import parse_definition
from tallyroom.verify.checks import verify_record
from tallyroom.verify.record_format import TrusteeShares, contest_width
from tallyroom.verify.record_writer import write_record

CANDIDATES = "\n".join(f'[[contests.candidates]]\nname = "Candidate {k:02}"\n' for k in range(56))
WIDE = (
    DEFINITION.split("[[contests]]")[0]
    + f"""[[contests]]
name = "council"
title = "Council"
rule = "irv"
seats = 1

{CANDIDATES}
"""
    + "[eligibility]"
    + DEFINITION.split("[eligibility]")[1]
)


def test_a_two_element_ballot_verifies_and_its_second_element_is_checked(
    tmp_path: Path,
) -> None:
    assert contest_width(parse_definition(WIDE).contest("council")) == 2
    story = build(voters=24, seed=11, definition_text=WIDE)
    g = story.record.groups[0]
    assert g.width == 2 and all(len(row) == 2 for row in g.stages[-1].outputs)
    assert len(g.decryptions[0].shares) == 2 * g.rows
    write_record(tmp_path / "honest", story.record)
    report = verify_record(tmp_path / "honest", workers=1)
    assert report.ok, report.summary()

    shares = list(g.decryptions[0].shares)
    proof = shares[3].proof  # row 2, element 2
    shares[3] = dataclasses.replace(
        shares[3], proof=dataclasses.replace(proof, challenge=(proof.challenge + 1) % group.ORDER)
    )
    decryptions = (TrusteeShares(g.decryptions[0].trustee, tuple(shares)), g.decryptions[1])
    groups = (dataclasses.replace(g, decryptions=decryptions), *story.record.groups[1:])
    write_record(tmp_path / "tampered", dataclasses.replace(story.record, groups=groups))
    report = verify_record(tmp_path / "tampered", workers=1)
    assert report.first_failure is not None
    assert report.first_failure.name == "decryption-shares"
    assert report.first_failure.findings[0].where == "share 4 (row 2, element 2)"
