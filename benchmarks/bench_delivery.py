"""Delivering credentials: messages rendered and sent a second, letters printed a second.

* ``send``: ``credentials send`` to a local SMTP sink (aiosmtpd's discarding handler, in its
  own process), every message rendered from the packaged templates, derived, checked and
  recorded in the queue (SQLite); unthrottled, ``--connections`` SMTP connections (goal:
  >= 500 messages/s on 2 cores);
* ``letters``: ``credentials letters`` for ``--voters`` voters by post (one A4 page each with
  its QR code, DejaVu Sans embedded) in volumes of ``--per-file`` pages, with Python's peak
  (tracemalloc) beside the resident peak.

Each phase runs in a fresh process (its store prepared by another) and reports its peak
resident memory (ru_maxrss) and the part of it the phase itself added.

    .venv/bin/python benchmarks/bench_delivery.py [--voters 10000] [--connections 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(folder: Path, voters: int, channel: str) -> tuple[Path, Path]:
    """A SQLite store with ``voters`` voters of ``channel``, credentials issued."""
    from tallyroom.services import elections, nominations
    from tallyroom.services import register as register_service
    from tallyroom.services.credentials import issue_credentials
    from tallyroom.store import open_store

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from delivery_election import DEFINITION, MAPPING, PASSPHRASE, SLUG

    db = folder / "bench.db"
    definition = folder / "coop.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    register = folder / "register.csv"
    with register.open("w", encoding="utf-8") as out:
        out.write("person_id,section,membership_number,status,joined,registered,name,email,"
                  "address,channel\n")  # fmt: skip
        for i in range(voters):
            if channel == "email":
                out.write(f"P{i},members,M{i},active,2015-03-01,,Voter {i},v{i}@example.org,,\n")
            else:
                out.write(f'P{i},members,M{i},active,2015-03-01,,Voter {i},,"{i} Mill Lane|'
                          f'Riverside|RV{i % 90 + 1} 1AA",post\n')  # fmt: skip
    with open_store(f"sqlite:///{db}", upgrade=True) as store:
        elections.create_election(
            store, definition, actor="bench", private_key_path=folder / "coop.private-key",
            passphrase=PASSPHRASE, slug=SLUG,
        )  # fmt: skip
        register_service.import_register(store, SLUG, register, actor="bench", mapping=MAPPING)
        register_service.freeze_register(store, SLUG, actor="bench")
        nominations.close_nominations(store, SLUG, actor="bench")
        key = folder / "coop.credential-key"
        issue_credentials(store, SLUG, key_path=key, actor="bench")
    return db, key


def phase_send(folder: Path, voters: int, connections: int) -> dict[str, float]:
    from tallyroom.services.delivery import MailSettings, send_credentials
    from tallyroom.services.smtp import SmtpServer, StartTls
    from tallyroom.store import open_store

    db, key = folder / "bench.db", folder / "coop.credential-key"
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        mail = MailSettings(
            SmtpServer("127.0.0.1", port, False, StartTls.NEVER, None),
            "Returning Officer <ro@riverside.example>",
            "https://vote.riverside.example",
            rate=0.0,
            connections=connections,
            batch=500,
        )
        before = _rss_mib()
        with open_store(f"sqlite:///{db}") as store:
            start = time.perf_counter()
            result = send_credentials(store, "coop", key_path=key, mail=mail, actor="bench")
            seconds = time.perf_counter() - start
    finally:
        sink.terminate()
        sink.wait()
    assert result.sent == voters, result
    return {
        "messages": voters,
        "seconds": round(seconds, 2),
        "per_second": round(voters / seconds),
        "peak_rss_mib": round(_rss_mib()),
        "added_mib": round(_rss_mib() - before),
    }


def phase_render(voters: int) -> dict[str, float]:
    """Rendering and building alone (no SMTP, no store): the ceiling of one core."""
    from tallyroom.services.mail import Mailer, booth_link

    mailer = Mailer("Returning Officer <ro@riverside.example>")
    context = {"election": "Riverside", "organisation": "Riverside Co-op", "closes": "Friday",
               "section": "members"}  # fmt: skip
    start = time.perf_counter()
    for i in range(voters):
        credential = f"7KQ2-M9XD-4HRT-0ZPB-WC6N-{i % 100:02d}"
        rendered = mailer.render(
            "credential",
            {**context, "name": f"Voter {i}", "credential": credential,
             "booth": "https://vote.example", "link": booth_link("https://v", "c", credential)},
        )  # fmt: skip
        mailer.message(f"v{i}@example.org", f"Voter {i}", rendered)
    seconds = time.perf_counter() - start
    return {"messages": voters, "per_second": round(voters / seconds)}


def phase_letters(folder: Path, voters: int, per_file: int, trace: bool) -> dict[str, float]:
    """Letters in volumes of ``per_file`` pages. With ``trace``, Python's own peak
    (tracemalloc: what the code holds, where the resident peak is also what the allocator
    kept); tracing makes the run about ten times slower, and its own tables show in the
    resident peak."""
    from tallyroom.services.letters import print_letters
    from tallyroom.store import open_store

    db, key = folder / "bench.db", folder / "coop.credential-key"
    out = folder / "letters.pdf"
    before = _rss_mib()
    if trace:
        tracemalloc.start()
    with open_store(f"sqlite:///{db}") as store:
        start = time.perf_counter()
        run = print_letters(
            store, "coop", key_path=key, out=out, booth_url="https://vote.riverside.example",
            actor="bench", per_file=per_file,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    assert run.printed == voters
    return {
        "pages": voters,
        "seconds": round(seconds, 2),
        "per_second": round(voters / seconds),
        "files": len(run.files),
        "per_file": per_file,
        "pdf_mib": round(sum(f.stat().st_size for f in run.files) / 2**20, 1),
        **({"traced_peak_mib": round(traced_peak / 2**20, 1)} if trace else {}),
        "peak_rss_mib": round(_rss_mib()),
        "added_mib": round(_rss_mib() - before),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--phase", choices=["prepare", "send", "render", "letters"])
    parser.add_argument("--channel", choices=["email", "post"], default="email")
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--per-file", type=int, default=2_000, help="Letters a volume.")
    parser.add_argument("--trace", action="store_true", help="Letters: tracemalloc's peak.")
    args = parser.parse_args()
    if args.phase is not None:
        if args.phase == "prepare":
            prepare(args.folder, args.voters, args.channel)
            return
        if args.phase == "send":
            found = phase_send(args.folder, args.voters, args.connections)
        elif args.phase == "render":
            found = phase_render(args.voters)
        else:
            found = phase_letters(args.folder, args.voters, args.per_file, args.trace)
        print(json.dumps(found))
        return
    common = ["--voters", str(args.voters), "--connections", str(args.connections),
              "--per-file", str(args.per_file), *(["--trace"] if args.trace else [])]  # fmt: skip
    for phase, channel in (("render", ""), ("send", "email"), ("letters", "post")):
        # each phase in a fresh process, its store prepared by another: ru_maxrss is its own
        with tempfile.TemporaryDirectory() as tmp:
            folder = ["--folder", tmp]
            if channel:
                subprocess.run(
                    [sys.executable, __file__, "--phase", "prepare", "--channel", channel,
                     *folder, *common],
                    check=True,
                )  # fmt: skip
            done = subprocess.run(
                [sys.executable, __file__, "--phase", phase, *folder, *common],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        print(f"{phase:8} {done.stdout.strip()}")


if __name__ == "__main__":
    main()
