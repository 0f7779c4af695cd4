"""Shared machinery of the benchmark scripts: timing, the tallyroom engine, peers, results.

* :func:`load_engine` imports tallyroom's counting engine lazily and fails with a clear
  message (:class:`EngineMissing`) when it is not importable.
* :func:`best_of` times a callable several times and keeps the fastest run.
* :func:`measure_peer` runs ``peers.py`` in a fresh process of whichever interpreter has the
  peer installed (see :func:`peer_python`), on the same ``.npy`` rankings tallyroom counts.
  A peer that would take longer than the budget on the whole contest is measured once on a
  prefix of the ballots and extrapolated linearly, and the row says so.
* :class:`Row` is one line of a results table; :func:`render_table` prints rows as markdown
  and :func:`save_results` writes them (with the environment) to ``benchmarks/results/``.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PEERS_SCRIPT = BENCH_DIR / "peers.py"
MAIN_VENV = REPO / ".venv-bench"
# Written by setup.sh: where each peer got installed, or the pip error that stopped it.
PEER_STATUS = MAIN_VENV / "peer-status.json"
# Peers whose pins cannot share a venv with tallyroom's numpy pin live here (see setup.sh).
SIDE_VENV = REPO / ".venv-bench-peers"

PEER_MODULES = {
    "pyrankvote": "pyrankvote",
    "votekit": "votekit",
    "votekit-fast": "votekit",
    "pref_voting": "pref_voting",
}
PEER_DISTRIBUTIONS = {
    "pyrankvote": "pyrankvote",
    "votekit": "votekit",
    "votekit-fast": "votekit",
    "pref_voting": "pref_voting",
}
ALL_PEERS: tuple[str, ...] = ("pyrankvote", "votekit", "votekit-fast", "pref_voting")
# What each peer's ballots become (the conversion that end-to-end timings include).
PEER_CONVERSIONS = {
    "pyrankvote": "pyrankvote Ballot objects",
    "votekit": "votekit RankBallot objects in a RankProfile",
    "votekit-fast": "votekit RankBallot objects in a RankProfile",
    "pref_voting": "a pref_voting ProfileWithTies",
}

T = TypeVar("T")
Ranks = npt.NDArray[np.int32]


# --------------------------------------------------------------------------------------------
# Timing


def best_of(fn: Callable[[], T], repeats: int, budget: float = float("inf")) -> tuple[float, T]:
    """Run ``fn`` up to ``repeats`` times (fewer once ``budget`` seconds are spent).

    Returns the fastest wall time and the result of the last run. A collection is forced
    before each run so that garbage from the previous one is not charged to the next.
    """
    best = float("inf")
    spent = 0.0
    result: T | None = None
    for _ in range(max(1, repeats)):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = min(best, elapsed)
        spent += elapsed
        if spent >= budget:
            break
    assert result is not None
    return best, result


# --------------------------------------------------------------------------------------------
# The tallyroom engine (imported lazily: it may not be installed yet)


class EngineMissing(RuntimeError):
    """tallyroom's counting engine (or its CLI) cannot be imported or found."""


@dataclass(frozen=True, slots=True)
class CountSummary:
    winners: tuple[str, ...]
    rounds: int


@dataclass(frozen=True)
class Engine:
    """The few tallyroom calls the benchmarks make, bound after a lazy import."""

    version: str
    store_from_rows: Callable[[Ranks], Any]
    _tabulate: Callable[[Any, Any, Any], Any]
    _table: Callable[[tuple[str, ...]], Any]
    _options: Callable[[int], Any]

    def table(self, names: Sequence[str]) -> Any:
        return self._table(tuple(names))

    def options(self, seats: int) -> Any:
        return self._options(seats)

    def count(self, store: Any, table: Any, options: Any) -> Any:
        return self._tabulate(store, table, options)

    @staticmethod
    def summary(count: Any) -> CountSummary:
        return CountSummary(tuple(count.winners), len(count.rounds))


def load_engine() -> Engine:
    """Import tallyroom's engine, or raise :class:`EngineMissing` saying what is missing."""
    try:
        from tallyroom.count.ballots import BallotStore, CandidateTable
        from tallyroom.count.options import RctabOptions, WinnerMode
        from tallyroom.count.rules.rctab import tabulate
    except ImportError as exc:  # ModuleNotFoundError included
        raise EngineMissing(
            f"tallyroom's counting engine is not importable ({type(exc).__name__}: {exc}). "
            "The benchmarks need tallyroom.count.ballots.{BallotStore, CandidateTable}, "
            "tallyroom.count.options.{RctabOptions, WinnerMode} and "
            "tallyroom.count.rules.rctab.tabulate. Install tallyroom into this interpreter "
            f"({sys.executable}) with `bash benchmarks/setup.sh`, or pass --peers-only to "
            "measure the peers alone."
        ) from exc

    def options(seats: int) -> Any:
        if seats == 1:
            return RctabOptions()
        return RctabOptions(
            winner_mode=WinnerMode.MULTI_WINNER_ALLOW_MULTIPLE_WINNERS_PER_ROUND,
            seats=seats,
            decimal_places=4,
        )

    def table(names: tuple[str, ...]) -> Any:
        return CandidateTable(names=names)

    return Engine(
        version=_version("tallyroom"),
        store_from_rows=BallotStore.from_rows,
        _tabulate=tabulate,
        _table=table,
        _options=options,
    )


def tallyroom_cli() -> Path:
    """The ``tallyroom`` console script of this interpreter's venv."""
    script = Path(sys.executable).parent / "tallyroom"
    if not script.exists():
        raise EngineMissing(
            f"no tallyroom console script at {script}; run `bash benchmarks/setup.sh` "
            "(it installs tallyroom into .venv-bench) and run the benchmarks with "
            ".venv-bench/bin/python"
        )
    return script


# --------------------------------------------------------------------------------------------
# Peers


@dataclass(frozen=True, slots=True)
class PeerRun:
    """One run of ``peers.py`` (a single measurement, on ``ballots`` ballots)."""

    tool: str
    version: str
    ballots: int
    total_seconds: float
    convert_seconds: float
    count_seconds: float
    winners: tuple[str, ...]
    peak_rss_mb: float
    python: str
    numpy: str


@dataclass(frozen=True, slots=True)
class PeerResult:
    """A peer's figure for a whole contest: measured, or extrapolated from a prefix."""

    tool: str
    case_ballots: int
    run: PeerRun | None
    probes: tuple[PeerRun, ...] = ()  # the other runs made (probes, slower repeats)
    error: str = ""
    runs: int = 1  # processes the figure is the best of

    @property
    def scale(self) -> float:
        return self.case_ballots / self.run.ballots if self.run else float("nan")

    @property
    def extrapolated(self) -> bool:
        return self.run is not None and self.run.ballots != self.case_ballots

    @property
    def total_seconds(self) -> float | None:
        return self.run.total_seconds * self.scale if self.run else None

    @property
    def count_seconds(self) -> float | None:
        return self.run.count_seconds * self.scale if self.run else None

    def note(self) -> str:
        if self.run is None:
            return self.error
        parts = [f"{self.tool} {self.run.version}"]
        how = "measured once" if self.runs == 1 else f"best of {self.runs} processes"
        if self.extrapolated:
            parts.append(
                f"{how} on the first {self.run.ballots:,} ballots "
                f"({self.run.total_seconds:.2f} s), extrapolated linearly x{self.scale:g}"
            )
        else:
            parts.append(how)
        parts.append(f"peak RSS {self.run.peak_rss_mb:,.0f} MB")
        return "; ".join(parts)


_PYTHON_CACHE: dict[str, Path | None] = {}


def _candidate_pythons() -> list[Path]:
    found: list[Path] = []
    for py in (Path(sys.executable), MAIN_VENV / "bin" / "python", SIDE_VENV / "bin" / "python"):
        if py.exists() and py not in found:
            found.append(py)
    extra = os.environ.get("TALLYROOM_BENCH_PEER_PYTHON")
    if extra:
        found.append(Path(extra))
    return found


def peer_python(tool: str) -> Path | None:
    """The first interpreter (this one, .venv-bench, the side venv) that can import ``tool``."""
    module = PEER_MODULES[tool]
    if module not in _PYTHON_CACHE:
        _PYTHON_CACHE[module] = None
        for py in _candidate_pythons():
            probe = subprocess.run(
                [str(py), "-c", f"import {module}"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                _PYTHON_CACHE[module] = py
                break
    return _PYTHON_CACHE[module]


def peer_version(tool: str) -> str:
    """The installed version of ``tool``'s distribution, in the interpreter that has it."""
    py = peer_python(tool)
    if py is None:
        return "not installed"
    code = f"import importlib.metadata as m; print(m.version({PEER_DISTRIBUTIONS[tool]!r}))"
    proc = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "unknown"


def pip_conflict_summary(error: str) -> str:
    """pip's ResolutionImpossible output cut to its verdict and the conflicting requirements."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    head = lines[0] if lines else ""
    causes: list[str] = []
    if "The conflict is caused by:" in lines:
        for ln in lines[lines.index("The conflict is caused by:") + 1 :]:
            if ln.startswith(("Additionally", "To fix", "ERROR")):
                break
            causes.append(ln)
    return head + (f" Caused by: {'; '.join(causes)}." if causes else "")


def peer_unavailable_reason(tool: str) -> str:
    """Why ``tool`` cannot be run: the install error recorded by setup.sh, if any."""
    dist = PEER_DISTRIBUTIONS[tool]
    if PEER_STATUS.exists():
        status = json.loads(PEER_STATUS.read_text(encoding="utf-8")).get(dist, {})
        if status.get("error"):
            return f"{dist} not installed: {pip_conflict_summary(status['error'])}"
    return f"{dist} is not importable from {', '.join(map(str, _candidate_pythons()))}"


def _run_worker(
    py: Path,
    tool: str,
    rule: str,
    ballots_npy: Path,
    names_json: Path,
    seats: int,
    limit: int,
    timeout: float,
) -> PeerRun:
    cmd = [
        str(py),
        str(PEERS_SCRIPT),
        "--tool",
        tool,
        "--rule",
        rule,
        "--ballots",
        str(ballots_npy),
        "--names",
        str(names_json),
        "--seats",
        str(seats),
        "--limit",
        str(limit),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise RuntimeError(f"{tool} failed (exit {proc.returncode}): {tail[0]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return PeerRun(
        tool=tool,
        version=data["version"],
        ballots=int(data["ballots"]),
        total_seconds=float(data["total_seconds"]),
        convert_seconds=float(data["convert_seconds"]),
        count_seconds=float(data["count_seconds"]),
        winners=tuple(data["winners"]),
        peak_rss_mb=float(data["peak_rss_mb"]),
        python=data["python"],
        numpy=data["numpy"],
    )


def measure_peer(
    tool: str,
    rule: str,
    ballots_npy: Path,
    names_json: Path,
    case_ballots: int,
    seats: int = 1,
    budget: float = 120.0,
    probe_ballots: int = 10_000,
    prefix_ballots: int = 100_000,
    fast_seconds: float = 2.0,
    fast_repeats: int = 3,
    log: Callable[[str], None] = print,
) -> PeerResult:
    """Measure ``tool`` once on the whole contest, or on a prefix if that would exceed budget.

    A probe on ``probe_ballots`` ballots predicts the full run linearly. If the prediction is
    within ``budget`` seconds the peer runs on every ballot; otherwise on ``prefix_ballots``
    (if that fits the budget) or else the probe itself is used, and the figure is scaled up.
    A peer whose run takes under ``fast_seconds`` is run up to ``fast_repeats`` times (each in
    a new process) and keeps its best, as tallyroom does.
    """
    py = peer_python(tool)
    if py is None:
        return PeerResult(tool, case_ballots, None, error=peer_unavailable_reason(tool))
    runs: list[PeerRun] = []

    def run(n: int, timeout: float) -> PeerRun:
        log(f"  {tool}: {rule} on {n:,} ballots ...")
        result = _run_worker(py, tool, rule, ballots_npy, names_json, seats, n, timeout)
        log(f"  {tool}: {result.total_seconds:.3f} s, winners {', '.join(result.winners)}")
        runs.append(result)
        return result

    def best_on(n: int, first: PeerRun | None = None) -> PeerResult:
        best = first or run(n, budget * 3)
        count = 1
        # A run of a second or two is noisy: give a fast peer its best of a few processes.
        while count < fast_repeats and best.total_seconds < fast_seconds:
            best = min(best, run(n, budget * 3), key=lambda r: r.total_seconds)
            count += 1
        others = tuple(r for r in runs if r is not best)
        return PeerResult(tool, case_ballots, best, others, runs=count)

    try:
        probe_n = min(probe_ballots, case_ballots)
        probe = run(probe_n, timeout=budget * 5)
        if probe_n == case_ballots:
            return best_on(probe_n, probe)
        per_ballot = probe.total_seconds / probe_n
        if per_ballot * case_ballots <= budget:
            target = case_ballots
        elif per_ballot * min(prefix_ballots, case_ballots) <= budget:
            target = min(prefix_ballots, case_ballots)
        else:
            return best_on(probe_n, probe)
        try:
            return best_on(target)
        except subprocess.TimeoutExpired:
            log(f"  {tool}: gave up on {target:,} ballots after {budget * 3:.0f} s")
            runs[:] = [r for r in runs if r is not probe]
            return best_on(probe_n, probe)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        return PeerResult(tool, case_ballots, None, tuple(runs), error=str(exc))


# --------------------------------------------------------------------------------------------
# Results


@dataclass(slots=True)
class Row:
    """One line of a results table."""

    case: str
    tool: str
    seconds: float | None
    ratio: float | None = None  # seconds / tallyroom's seconds on the same case
    agree: bool | None = None  # same winners (as a set) as tallyroom on the same ballots
    winners: tuple[str, ...] = ()
    repeats: int = 1
    measured_ballots: int | None = None
    extrapolated: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Goal:
    name: str
    target: str
    measured: str
    met: bool | None  # None: could not be measured


def fill_ratios(rows: Iterable[Row], reference_tool: str = "tallyroom") -> None:
    """Set ``ratio`` on every row to its seconds over the reference tool's seconds in its case."""
    rows = list(rows)
    ref = {r.case: r.seconds for r in rows if r.tool == reference_tool and r.seconds}
    for r in rows:
        base = ref.get(r.case)
        r.ratio = r.seconds / base if (r.seconds is not None and base) else None


def agree(winners: Sequence[str] | None, reference: Sequence[str] | None) -> bool | None:
    if winners is None or reference is None:
        return None
    return set(winners) == set(reference)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _format_ratio(row: Row) -> str:
    if row.tool == "tallyroom" and row.ratio is not None:
        return "1x"
    if row.ratio is None:
        return "—"
    return f"{row.ratio:,.0f}x" if row.ratio >= 10 else f"{row.ratio:.1f}x"


def _format_agree(row: Row) -> str:
    if row.tool == "tallyroom" and row.agree is None:
        return "reference"
    return {True: "yes", False: "**NO**", None: "—"}[row.agree]


NOTE_WIDTH = 400  # longer notes are cut in tables (the JSON keeps them whole)


def render_table(rows: Sequence[Row]) -> str:
    """Rows as a markdown table: case, tool, seconds, ratio vs tallyroom, agreement, notes."""
    lines = [
        "| case | tool | seconds (best of N) | ratio vs tallyroom | winners agree? | notes |",
        "|---|---|---:|---:|:---:|---|",
    ]
    for r in rows:
        seconds = format_seconds(r.seconds)
        if r.seconds is not None and r.extrapolated:
            seconds += " (extrapolated)"
        elif r.seconds is not None and r.repeats > 1:
            seconds += f" (best of {r.repeats})"
        note = " ".join(r.note.replace("|", "/").split())
        if len(note) > NOTE_WIDTH:
            note = note[: NOTE_WIDTH - 3] + "..."
        lines.append(
            f"| {r.case} | {r.tool} | {seconds} | {_format_ratio(r)} | {_format_agree(r)} "
            f"| {note} |"
        )
    return "\n".join(lines)


def render_goals(goals: Sequence[Goal]) -> str:
    lines = ["| goal | target | measured | met? |", "|---|---|---|:---:|"]
    for g in goals:
        met = {True: "yes", False: "**NO**", None: "—"}[g.met]
        lines.append(f"| {g.name} | {g.target} | {g.measured} | {met} |")
    return "\n".join(lines)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    proc = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else "no commit"


def environment() -> dict[str, Any]:
    """What the figures were measured on (tallyroom's side; peers report their own)."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "interpreter": sys.executable,
        "numpy": np.__version__,
        "tallyroom": _version("tallyroom"),
        "git_commit": _git_commit(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }


def save_results(
    name: str,
    rows: Sequence[Row],
    goals: Sequence[Goal] = (),
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write ``benchmarks/results/<name>.json`` (rows, goals, environment, extra metadata)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "benchmark": name,
        "environment": environment(),
        "meta": meta or {},
        "rows": [asdict(r) for r in rows],
        "goals": [asdict(g) for g in goals],
        "table": render_table(rows),
        "goals_table": render_goals(goals) if goals else "",
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def report(title: str, rows: Sequence[Row], goals: Sequence[Goal], name: str) -> Path:
    """Print the table and goals, and save them as JSON; returns the JSON path."""
    print(f"\n## {title}\n")
    print(render_table(rows))
    if goals:
        print()
        print(render_goals(goals))
    path = save_results(name, rows, goals)
    print(f"\n(results written to {path.relative_to(REPO)})")
    return path


def error_line(stderr: str) -> str:
    """The last unindented line of a failed command's stderr (a traceback's verdict).

    Anything from GNU time's ``Command exited with non-zero status`` report on is ignored.
    """
    own = stderr.split("Command exited with non-zero status")[0]
    lines = [ln for ln in own.strip().splitlines() if ln.strip() and not ln[0].isspace()]
    return lines[-1] if lines else "(no message)"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peer_rows(
    result: PeerResult,
    end_to_end_case: str,
    count_only_case: str | None,
    reference_winners: Callable[[int], Sequence[str] | None],
    conversion: str,
) -> list[Row]:
    """Table rows for one peer: end to end and (optionally) count only, excluding conversion.

    ``reference_winners(n)`` gives tallyroom's winners on the first ``n`` ballots (``None``
    without the engine), so a peer measured on a prefix is checked on that same prefix.
    """
    if result.run is None:
        rows = [Row(end_to_end_case, result.tool, None, note=result.error)]
        if count_only_case:
            rows.append(Row(count_only_case, result.tool, None, note=result.error))
        return rows
    run = result.run
    reference = reference_winners(run.ballots)
    match = agree(run.winners, reference)
    note = result.note()
    if match is None:
        note += f"; winner(s): {', '.join(run.winners)}"
    elif result.extrapolated:
        note += f"; winners compared with tallyroom on the same {run.ballots:,} ballots"
    common: dict[str, Any] = {
        "agree": match,
        "winners": run.winners,
        "measured_ballots": run.ballots,
        "extrapolated": result.extrapolated,
        "repeats": result.runs,
    }
    extra = {"run": asdict(run), "probes": [asdict(p) for p in result.probes]}
    rows = [
        Row(end_to_end_case, result.tool, result.total_seconds, note=note, extra=extra, **common)
    ]
    if count_only_case:
        rows.append(
            Row(
                count_only_case,
                result.tool,
                result.count_seconds,
                note=f"excluding conversion to {conversion}; " + note,
                **common,
            )
        )
    return rows
