"""``tallyroom verify RECORD``: exit 0 when every check passes, 1 naming the first failed
check, 2 for no record at all; ``--json`` for a machine-readable report, ``--head`` for the
audit log's published head."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from record_story import build

from tallyroom.cli.main import main
from tallyroom.verify.checks import CHECKS
from tallyroom.verify.record_writer import write_record


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cmd") / "record"
    write_record(path, build(voters=25, seed=7).record)
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def test_an_honest_record_exits_0_and_says_so(record: Path) -> None:
    code, out, err = _run(str(record), "--workers", "1")
    assert code == 0, out
    assert "verifies: every check passed" in out
    assert "passed ballot-proofs" in err  # progress on stderr


def test_json_lists_every_check(record: Path) -> None:
    code, out, _ = _run(str(record), "--workers", "1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True and [c["name"] for c in doc["checks"]] == list(CHECKS)


def test_a_tampered_record_exits_1_naming_the_check(record: Path, tmp_path: Path) -> None:
    copy = tmp_path / "record"
    shutil.copytree(record, copy)
    path = copy / "declaration.json"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"votes":', b'"votes" :', 1))
    code, out, _ = _run(str(copy), "--workers", "1")
    assert code == 1
    assert "first failed check 'manifest'" in out
    assert f"declaration.json: {len(data) + 1} bytes; the manifest says {len(data)}" in out
    code, out, _ = _run(str(copy), "--workers", "1", "--json")
    assert code == 1 and json.loads(out)["first_failure"] == "manifest"


def test_the_published_head_must_be_the_logs(record: Path) -> None:
    code, out, _ = _run(str(record), "--workers", "1", "--head", f"1:{'00' * 32}")
    assert code == 1
    assert "first failed check 'audit-log'" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/record"], "not a folder"),
        (["."], "no manifest.json"),
    ],
)
def test_no_record_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    code, _, err = _run(*[str(tmp_path) if a == "." else a for a in args])
    assert code == 2
    assert message in err


def test_a_malformed_head_or_workers_is_a_usage_error(record: Path) -> None:
    assert _run(str(record), "--head", "nonsense")[0] == 2
    assert _run(str(record), "--workers", "0")[0] == 2
