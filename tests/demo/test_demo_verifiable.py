"""``tallyroom demo --verifiable --voters N``: the 2016 ballot on the verifiable path through
the command line (the trustees' ceremony and drill, encrypted ballots on the board, two
mixers, two of three trustees decrypting), its election record written and verified by the
demo, then checked again by ``tallyroom verify`` as anyone would, and failing once a byte of
the board is changed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tallyroom.cli.main import main

VOTERS = 600


def test_the_verifiable_demo_declares_and_its_record_verifies(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    run = tmp_path / "run"
    args = ["demo", "--verifiable", "--voters", str(VOTERS), "--no-serve", "--dir", str(run)]
    res = CliRunner().invoke(main, [*args, "--json", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["valid"] == VOTERS
    assert sum(c["votes"] for c in doc["candidates"]) == VOTERS
    assert doc["winners"] == ["Jeremy Corbyn"]  # 61.8% of a sample of every k-th voter
    assert doc["spoilt"] >= 1
    record = run / "record"
    assert f"tallyroom verify {record}" in res.output
    checked = CliRunner().invoke(main, ["verify", str(record), "--workers", "1"])
    assert checked.exit_code == 0, checked.output
    board = record / "board" / "board.bin"
    data = bytearray(board.read_bytes())
    data[len(data) // 2] ^= 0x01
    board.write_bytes(bytes(data))
    failed = CliRunner().invoke(main, ["verify", str(record), "--workers", "1"])
    assert failed.exit_code == 1, failed.output
