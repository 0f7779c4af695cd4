"""``tallyroom count`` on a plain file loads only what the count needs, with one BLAS thread
(docs/performance.md): run as a real process, so that nothing imported by other tests hides a
regression."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from tallyroom.cli.main import main
try:
    main(["count", sys.argv[1], "--rule", "irv", "--json", sys.argv[2]])
except SystemExit as done:
    assert done.code in (0, None), done.code
import json
import os
print("--probe--")
print(os.environ.get("OPENBLAS_NUM_THREADS"))
for name in sorted(sys.modules):
    if name.startswith("tallyroom.") or name == "decimal":
        print(name)
"""


def _loaded(tmp_path: Path, env: dict[str, str]) -> list[str]:
    blt = tmp_path / "b.blt"
    blt.write_text('3 1\n2 1 2 0\n1 3 0\n0\n"A"\n"B"\n"C"\n"T"\n', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(blt), str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout.split("--probe--", 1)[1].split()


def test_a_plain_count_loads_no_service_college_or_constraint_module(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    threads, *modules = _loaded(tmp_path, env)
    assert threads == "1"
    assert "tallyroom.count.rules.rctab" in modules  # it did count
    assert "tallyroom.formats._blt_c" in modules  # with the compiled BLT scan
    for absent in (
        "tallyroom.cli.election_cmds",
        "tallyroom.cli.poll_cmds",
        "tallyroom.cli.web_cmds",
        "tallyroom.store",
        "tallyroom.count.rules.college",
        "tallyroom.count.rules.constrained_stv",
        "tallyroom.count.constraints",
        "tallyroom.formats.constraint_spec",
        "tallyroom.formats.blt_scan",  # the numpy scan: only for files the C scan hands over
        "tallyroom.formats.blt_droop",  # only for a file with a slash or ballot ids
        "tallyroom.count.rules.rctab_hooks",  # only for a count given decisions (constraints)
        "decimal",  # only for the conversions of count.numbers that use it
    ):
        assert absent not in modules, absent


def test_a_thread_count_the_user_set_is_kept(tmp_path: Path) -> None:
    threads, *_ = _loaded(tmp_path, {**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert threads == "2"


EXIT_PROBE = """
import atexit, gc, sys
# registered first, so run last: after the count's own exit handler
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
from tallyroom.cli.main import main
main(["count", sys.argv[1], "--rule", "irv", "--json", sys.argv[2]])
"""


def test_the_heap_is_frozen_at_exit_with_every_output_whole(tmp_path: Path) -> None:
    # the interpreter's teardown then skips its walk over every object (docs/performance.md)
    blt = tmp_path / "b.blt"
    blt.write_text('3 1\n2 1 2 0\n1 3 0\n0\n"A"\n"B"\n"C"\n"T"\n', encoding="utf-8")
    report = tmp_path / "r.json"
    out = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE, str(blt), str(report)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("frozen at exit: True")
    assert "A" in out.stdout and json.loads(report.read_text("utf-8"))["results"]
