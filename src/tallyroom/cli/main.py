"""``tallyroom``: the command-line entry point.

Each command parses its arguments, makes one call into the library and renders the answer.
Heavy modules are imported inside the commands so that ``tallyroom --help`` and a count start
fast. Errors from the one error tree print as a single line and exit with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tallyroom import __version__
from tallyroom.errors import TallyroomError

F = TypeVar("F", bound=Callable[..., Any])


def _one_line_errors(func: F) -> F:
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TallyroomError as exc:
            click.echo(f"tallyroom: error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tallyroom")
def main() -> None:
    """Run membership ballots and count them exactly."""


@main.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for detailed_report.json/.csv (created if missing).",
)
@click.option(
    "--tie-decisions",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="For the 'ask' tie-break modes: a file of names, one per line, "
    "taken in order as the operator's decisions.",
)
@click.option(
    "--convert-to",
    type=click.Choice(["csv", "cdf"]),
    help="Instead of counting, write the contest's cast vote records as RCTab's CVR CSV "
    "or as a NIST CDF JSON report.",
)
@_one_line_errors
def rctab(
    config: Path, output_dir: Path, tie_decisions: Path | None, convert_to: str | None
) -> None:
    """Count an RCTab contest CONFIG exactly as RCTab would and write its reports."""
    from tallyroom.cli.progress import Progress
    from tallyroom.services.rctab import run_contest

    if convert_to is not None:
        from tallyroom.services.rctab_convert import convert_contest

        written = convert_contest(config, output_dir, "csv" if convert_to == "csv" else "cdf")
        click.echo(f"wrote {written}", err=True)
        return

    decider = _decisions_from_file(tie_decisions) if tie_decisions else None
    with Progress("reading cast vote records") as progress:
        run = run_contest(config, output_dir, progress=progress.update, tie_decider=decider)
    for count in run.counts:
        click.echo(
            f"{run.config.output.contest_name}: elected {', '.join(count.winners) or 'nobody'}"
        )
    for f in run.files:
        click.echo(f"wrote {f}", err=True)


def _decisions_from_file(path: Path) -> Callable[[int, bool, Any], str]:
    answers = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    it = iter(answers)

    def decide(round_number: int, electing: bool, tied: Any) -> str:
        try:
            return next(it)
        except StopIteration:
            from tallyroom.errors import TieUnresolved

            what = "election" if electing else "elimination"
            raise TieUnresolved(list(tied), f"{what} in round {round_number}") from None

    return decide


@main.command()
@click.argument("ballots", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--rule",
    "-r",
    default="irv",
    show_default=True,
    help="Counting rule: irv, stv, plurality, block.",
)
@click.option(
    "--seats", "-s", type=int, default=None, help="Seats to fill (default: the file's, else 1)."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the detailed report JSON here.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "blt", "preflib", "csv"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--seed", type=int, default=None, help="Seed for drawing lots (recorded in the result)."
)
@click.option(
    "--decimals",
    type=click.IntRange(0, 20),
    default=4,
    show_default=True,
    help="Decimal places of vote arithmetic.",
)
@_one_line_errors
def count(
    ballots: Path,
    rule: str,
    seats: int | None,
    json_out: Path | None,
    fmt: str,
    seed: int | None,
    decimals: int,
) -> None:
    """Count a ballot file (BLT, PrefLib, CSV) and print the round-by-round table."""
    from tallyroom.count.rules.registry import RuleParams, get_rule
    from tallyroom.errors import TieUnresolved
    from tallyroom.formats.ballot_file import read_ballot_file
    from tallyroom.report.text import count_to_text

    chosen = get_rule(rule)
    election = read_ballot_file(ballots, fmt)
    n_seats = seats if seats is not None else (election.seats or 1)
    try:
        result = chosen.run(
            election.store,
            election.candidates,
            RuleParams(seats=n_seats, decimal_places=decimals, seed=seed),
        )
    except TieUnresolved as exc:
        raise TieUnresolved(exc.tied, exc.purpose + " (draw lots with --seed N)") from None
    click.echo(count_to_text(result, title=election.title or ballots.name), nl=False)
    if json_out is not None:
        import json

        from tallyroom.report.rctab_json import ReportLabels, count_to_json

        doc = count_to_json(result, ReportLabels(contest=election.title or ballots.stem))
        json_out.write_text(
            json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "src_fmt",
    type=click.Choice(["auto", "blt", "preflib", "csv"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--to",
    "dst_fmt",
    type=click.Choice(["auto", "blt", "csv", "cdf"]),
    default="auto",
    show_default=True,
)
@_one_line_errors
def convert(source: Path, target: Path, src_fmt: str, dst_fmt: str) -> None:
    """Convert ballots between formats (BLT, PrefLib, CSV in; BLT, CSV, NIST CDF JSON out)."""
    from tallyroom.formats.ballot_file import read_ballot_file, write_ballot_file

    election = read_ballot_file(source, src_fmt)
    write_ballot_file(election, target, dst_fmt)
    click.echo(f"wrote {target} ({election.store.total} ballots)", err=True)


@main.command()
@click.option(
    "--no-serve", is_flag=True, help="Accepted for forward compatibility; nothing is served yet."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the result as JSON.",
)
@_one_line_errors
def demo(no_serve: bool, json_out: Path | None) -> None:
    """Count the bundled example contest end to end and print the declaration."""
    from tallyroom.services.demo import run_demo

    del no_serve
    click.echo(run_demo(json_out), nl=False)


def _register_service_commands() -> None:
    from tallyroom.cli.election_cmds import register_groups
    from tallyroom.cli.web_cmds import register_web_commands

    register_groups(main)
    register_web_commands(main)


_register_service_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
