"""``tallyroom credentials send | report | export | delivery-end`` against a real SMTP server,
and a sender killed with SIGKILL mid-way, then restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from delivery_election import SLUG, email_of, issued
from smtp_sink import smtp_sink
from tallyroom.cli.main import main
from tallyroom.services.delivery_rounds import secret_path
from tallyroom.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"
VOTERS = 60


def _send_args(db: Path, key: Path, port: int, *extra: str) -> list[str]:
    return [
        "credentials", "send", "--election", SLUG, "--key-file", str(key),
        "--smtp", f"smtp://127.0.0.1:{port}", "--from", "RO <ro@riverside.example>",
        "--booth-url", "https://vote.riverside.example", "--db", f"sqlite:///{db}", *extra,
    ]  # fmt: skip


def _prepared(tmp_path: Path, voters: int) -> tuple[Path, Path]:
    db = tmp_path / "coop.db"
    with open_store(f"sqlite:///{db}", upgrade=True) as store:
        key = issued(store, tmp_path, voters)
    return db, key


def test_a_sender_killed_midway_and_restarted_sends_the_rest_once(tmp_path: Path) -> None:
    db, key = _prepared(tmp_path, VOTERS)
    with smtp_sink() as (sink, port):
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        args = _send_args(db, key, port, "--rate", "30", "--connections", "2", "--batch", "8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tallyroom.cli.main", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while len(sink.received) < 25 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
        assert proc.returncode == -signal.SIGKILL
        before = sink.credentials()
        assert 25 <= sum(len(c) for c in before.values()) < VOTERS
        result = CliRunner().invoke(main, _send_args(db, key, port, "--rate", "0"))
        assert result.exit_code == 0, result.output
        after = sink.credentials()
    assert sorted(after) == sorted(email_of(i) for i in range(1, VOTERS + 1))
    for rcpt, creds in after.items():
        assert len(set(creds)) == 1, rcpt  # never two different credentials
        if rcpt not in before:
            assert len(creds) == 1, rcpt  # the rest: once each
    resent = sum(len(c) for c in after.values()) - VOTERS
    assert resent <= 8 + 2  # at most the batch in flight when killed
    assert "delivery ended" in result.output
    assert not secret_path(key).exists()


def test_report_and_export_by_the_cli(tmp_path: Path) -> None:
    db, key = _prepared(tmp_path, 4)
    out = tmp_path / "mailhouse.csv"
    runner = CliRunner()
    exported = runner.invoke(
        main,
        ["credentials", "export", "--election", SLUG, "--key-file", str(key), "--out", str(out),
         "--db", f"sqlite:///{db}"],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    with smtp_sink() as (sink, port):
        sink.refuse = {email_of(2)}
        sent = runner.invoke(main, _send_args(db, key, port))
        assert sent.exit_code == 0, sent.output
    assert "sent 3, failed 1" in sent.output
    report = runner.invoke(
        main, ["credentials", "report", "--election", SLUG, "--db", f"sqlite:///{db}"]
    )
    assert report.exit_code == 0, report.output
    assert "members: 4 eligible" in report.output
    assert "email: 3 sent, 1 failed, 0 not yet sent" in report.output
    assert "failed (550 5.1.1 mailbox unavailable): 1" in report.output
    assert "delivery round 1 is open" in report.output
    ended = runner.invoke(
        main,
        ["credentials", "delivery-end", "--election", SLUG, "--key-file", str(key),
         "--db", f"sqlite:///{db}"],
    )  # fmt: skip
    assert ended.exit_code == 0, ended.output
    assert not secret_path(key).exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://user:secret@host", "no password in the URL"),
        ("http://host", "an SMTP URL is"),
        ("smtp://user@host", "TALLYROOM_SMTP_PASSWORD"),
    ],
)
def test_bad_smtp_urls_are_one_line_errors(tmp_path: Path, url: str, problem: str) -> None:
    db, key = _prepared(tmp_path, 1)
    args = _send_args(db, key, 1)
    args[args.index("--smtp") + 1] = url
    result = CliRunner().invoke(main, args, env={"TALLYROOM_SMTP_PASSWORD": None})
    assert result.exit_code == 2
    assert problem in result.output
    assert "secret" not in result.output


def test_remind_by_the_cli_spares_who_voted(tmp_path: Path) -> None:
    from tallyroom.services.credentials import load_or_create_key
    from tallyroom.services.elections import get_election
    from tallyroom.services.polling import open_voting
    from tallyroom.services.voting import cast_ballot

    db, key = _prepared(tmp_path, 3)
    runner = CliRunner()
    with smtp_sink() as (sink, port):
        assert runner.invoke(main, _send_args(db, key, port)).exit_code == 0
        credential = sink.credentials()[email_of(1)][0]
        sink.received.clear()
        with open_store(f"sqlite:///{db}") as store:
            open_voting(store, SLUG, actor="ro")
            cast_ballot(
                store, get_election(store, SLUG).id, credential, {"chair": ["Ann Ashe"]},
                credential_key=load_or_create_key(key, create=False),
            )  # fmt: skip
        args = _send_args(db, key, port)[2:]
        args = [a for a in args if a not in ("--key-file", str(key))]
        result = runner.invoke(main, ["voting", "remind", *args])
        assert result.exit_code == 0, result.output
        assert "reminded 2, failed 0" in result.output
        assert sorted(r for r, _ in sink.received) == [email_of(2), email_of(3)]


def test_letters_by_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "coop.db"
    with open_store(f"sqlite:///{db}", upgrade=True) as store:
        key = issued(store, tmp_path, 0, letters=2)
    out = tmp_path / "letters.pdf"
    result = CliRunner().invoke(
        main,
        ["credentials", "letters", "--election", SLUG, "--key-file", str(key), "--out", str(out),
         "--booth-url", "https://vote.riverside.example", "--db", f"sqlite:///{db}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 2 letters" in result.output and "delivery ended" in result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert os.stat(out).st_mode & 0o777 == 0o600
