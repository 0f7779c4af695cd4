"""``tallyroom``: the command-line entry point.

Each command parses its arguments, makes one call into the library and renders the answer.
Heavy modules are imported inside the commands so that ``tallyroom --help`` and a count start
fast. Errors from the one error tree print as a single line and exit with status 2.
"""

from __future__ import annotations

import enum
import os

# Counting is integer numpy, never linear algebra: one OpenBLAS thread spares every command
# the start-up of a BLAS thread pool it never uses (~30 ms of CPU, docs/performance.md). Set
# before anything imports numpy; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tallyroom import __version__
from tallyroom.cli.common import one_line_errors
from tallyroom.count.rules.choices import Arithmetic, DefeatBatch, QuotaRule

if TYPE_CHECKING:
    from tallyroom.formats.reading import ReadOptions


def _freeze_at_exit() -> None:
    """At the process's exit, move every object to the collector's permanent generation.

    The interpreter's teardown runs a full collection over everything still alive (numpy,
    click, the count's arrays): about 10 ms of a count's 0.2 s (docs/performance.md). Frozen
    objects are still freed, by reference count, as the modules are cleared; only the walk in
    search of cycles is skipped. Registered once, by the commands that are worth it.
    """
    global _FREEZE_REGISTERED
    if not _FREEZE_REGISTERED:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _FREEZE_REGISTERED = True


_FREEZE_REGISTERED = False


def _reading_options(func: Any) -> Any:
    """``--strict`` and the CSV layout options of the commands that read ballot files."""
    for option in reversed(
        [
            click.option(
                "--strict",
                is_flag=True,
                help="Refuse what is otherwise read leniently (and noted on stderr): BLT "
                "ballot lines without the closing 0, zero padding, text after the title.",
            ),
            click.option(
                "--header/--no-header",
                "csv_header",
                default=None,
                help="CSV: the first row is a header / a ballot (default: decided only when "
                "certain, else an error asks).",
            ),
            click.option(
                "--columns",
                "csv_columns",
                metavar="COLUMNS",
                help="CSV: the preference columns, by heading or 1-based number and range "
                "(e.g. 3-7 or 'Rank 1,Rank 2'); the others are passed over.",
            ),
            click.option(
                "--candidates",
                "csv_candidates",
                metavar="NAMES",
                help="CSV: the candidates, comma-separated, in order; any other name is an "
                "error (see --new-names).",
            ),
            click.option(
                "--new-names",
                "csv_new_names",
                is_flag=True,
                help="CSV: a name not among the candidates is added, with a warning listing "
                "each new name and its count.",
            ),
        ]
    ):
        func = option(func)
    return func


def _read_options(
    strict: bool,
    csv_header: bool | None,
    csv_columns: str | None,
    csv_candidates: str | None,
    csv_new_names: bool,
) -> ReadOptions:
    from tallyroom.formats.reading import CsvLayout, ReadOptions

    names = None
    if csv_candidates is not None:
        names = tuple(n.strip() for n in csv_candidates.split(",") if n.strip())
    layout = CsvLayout(csv_header, csv_columns, names, csv_new_names)
    return ReadOptions(strict=strict, csv=layout)


def _echo_notes(notes: Any) -> None:
    for note in notes:
        click.echo(f"tallyroom: note: {note}", err=True)


class _Commands(click.Group):
    """The top-level group. The service commands (elections, polls, the web) are registered
    when first looked up, so that ``tallyroom count`` does not import what it does not use."""

    _services_loaded = False

    def _load_services(self) -> None:
        if not self._services_loaded:
            self._services_loaded = True
            _register_service_commands(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and not self._services_loaded:
            self._load_services()
            found = super().get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_services()
        return super().list_commands(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
@one_line_errors
def rctab(
    config: Path, output_dir: Path, tie_decisions: Path | None, convert_to: str | None
) -> None:
    """Count an RCTab contest CONFIG exactly as RCTab would and write its reports."""
    from tallyroom.cli.progress import Progress
    from tallyroom.tabulate.rctab import run_contest

    if convert_to is not None:
        from tallyroom.tabulate.rctab_convert import convert_contest

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


def _choice(kind: type[enum.Enum]) -> Any:
    """A click option type offering an enum's values, giving the enum member."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        return None if value is None else kind(value)

    return {"type": click.Choice([m.value for m in kind]), "callback": convert}


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
@click.argument(
    "ballots", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.option(
    "--rule",
    "-r",
    default="irv",
    show_default=True,
    help="Counting rule: irv, stv, plurality, block, scottish-stv, wigm, wigm-prf, ers97, meek, "
    "meek-prf, warren, wright, minneapolis, cfer, qpq, irish-dail, supplementary-vote; "
    "motion (a yes/no question, the answer for listed first: a simple majority of the votes "
    "for and against); college (the electoral college, with --section). docs/rules/ "
    "describes each and the options it takes.",
)
@click.option(
    "--quota",
    default=None,
    help="The quota, for rules that offer a choice (wigm; cfer: droop-fractional, droop): "
    "droop = floor(V/(S+1)) + 1; droop-fractional = V/(S+1) truncated to --decimals, plus "
    "one unit of the last place (the PR Foundation's WIGM); hare = V/S rounded up. "
    "Default: the rule's own.",
    **_choice(QuotaRule),
)
@click.option(
    "--arithmetic",
    default=None,
    help="Arithmetic, for rules that offer a choice (meek, warren, wigm: fixed, guarded, "
    "rational). Default: fixed.",
    **_choice(Arithmetic),
)
@click.option(
    "--defeat-batch",
    default=None,
    help="none: one defeat at a time; safe: every sure loser at once, as droop defines it "
    "(meek, warren, wigm, wigm-prf, cfer). Default: none.",
    **_choice(DefeatBatch),
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
    default=None,
    help="Decimal places of vote arithmetic, for the rules that take them (irv, stv, wigm; "
    "college: of the shares shown). Default: 4; the other rules fix their own.",
)
@click.option(
    "--constraint",
    "constraint_specs",
    multiple=True,
    metavar="GROUP>=MIN:MEMBERS",
    help="A seat constraint for irv, stv or block: GROUP>=MIN:MEMBERS, GROUP<=MAX:MEMBERS or "
    "GROUP=MIN..MAX:MEMBERS; members are names or candidate numbers, comma-separated. "
    "Repeatable.",
)
@click.option(
    "--constraint-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A TOML groups file: [group.NAME] members, min_elected/max_elected (seat "
    "constraints), min_marked/max_marked (ballot validity rules).",
)
@click.option(
    "--section",
    "section_specs",
    multiple=True,
    metavar="NAME=FILE[:WEIGHT]",
    help="An electoral college section: its ballot file and its weight (1/3, 0.5; all "
    "omitted: equal). Repeatable; counts by the college rule.",
)
@_reading_options
@one_line_errors
def count(
    ballots: Path | None,
    rule: str,
    quota: QuotaRule | None,
    arithmetic: Arithmetic | None,
    defeat_batch: DefeatBatch | None,
    seats: int | None,
    json_out: Path | None,
    fmt: str,
    seed: int | None,
    decimals: int | None,
    constraint_specs: tuple[str, ...],
    constraint_file: Path | None,
    section_specs: tuple[str, ...],
    **reading: Any,
) -> None:
    """Count a ballot file (BLT, PrefLib, CSV) and print the round-by-round table.

    With --section, count an electoral college from one ballot file per section.
    """
    from tallyroom.errors import InputError, TieUnresolved
    from tallyroom.report.text import count_to_text

    _freeze_at_exit()
    college = rule == "college" or bool(section_specs)
    if college and rule not in ("college", "irv"):
        raise InputError("--section counts an electoral college; leave out --rule", value=rule)
    if college:
        for option, given in (
            ("--quota", quota),
            ("--arithmetic", arithmetic),
            ("--defeat-batch", defeat_batch),
        ):
            if given is not None:
                raise InputError(
                    f"rule 'college' cannot take {option}", field=option, value=given.value
                )
    if college and (constraint_specs or constraint_file):
        raise InputError("the electoral college takes no seat constraints", field="--constraint")
    if ballots is not None and section_specs:
        raise InputError(
            "give a ballot file or --section files, not both", field="--section", value=str(ballots)
        )
    if ballots is None and not section_specs:
        raise InputError("give a ballot file (or --section NAME=FILE for a college)")
    from tallyroom.tabulate.file_count import count_college_files, count_file

    try:
        if college:
            counted = count_college_files(
                ballots,
                section_specs,
                fmt=fmt,
                seed=seed,
                decimals=decimals,
                read_options=_read_options(**reading),
            )
        else:
            assert ballots is not None
            counted = count_file(
                ballots,
                rule,
                seats=seats,
                fmt=fmt,
                seed=seed,
                decimals=decimals,
                constraint_specs=constraint_specs,
                constraint_file=constraint_file,
                read_options=_read_options(**reading),
                quota=quota,
                arithmetic=arithmetic,
                defeat_batch=defeat_batch,
            )
    except TieUnresolved as exc:
        raise TieUnresolved(exc.tied, exc.purpose + " (draw lots with --seed N)") from None
    _echo_notes(counted.notes)
    result, title, stem = counted.result, counted.title, counted.stem
    click.echo(count_to_text(result, title=title), nl=False)
    if constraint_specs or constraint_file:
        # what the constraints did, round by round (the table shows only the tallies)
        for rnd in result.rounds:
            if rnd.label:
                click.echo(f"Round {rnd.number}: {rnd.label}")
    for name, part in counted.sections:
        click.echo(count_to_text(part, title=f"{title}: section {name}"), nl=False)
    if json_out is not None:
        import json

        from tallyroom.report.rctab_json import ReportLabels, count_to_json

        doc = count_to_json(result, ReportLabels(contest=title or stem))
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
@_reading_options
@one_line_errors
def convert(source: Path, target: Path, src_fmt: str, dst_fmt: str, **reading: Any) -> None:
    """Convert ballots between formats (BLT, PrefLib, CSV in; BLT, CSV, NIST CDF JSON out)."""
    from tallyroom.formats.ballot_file import read_ballot_file, write_ballot_file

    election = read_ballot_file(source, src_fmt, _read_options(**reading))
    _echo_notes(election.notes)
    write_ballot_file(election, target, dst_fmt)
    click.echo(f"wrote {target} ({election.store.total} ballots)", err=True)


@main.command()
@click.option("--no-serve", is_flag=True, help="Stop after the declaration; serve nothing.")
@click.option(
    "--serve-only",
    is_flag=True,
    help="Serve the demo an earlier run left in --dir, without running it again.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the declared result as JSON.",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tallyroom-demo"),
    show_default=True,
    help="Folder for the demo's store, register, keys and exports (cleared on each run).",
)
@click.option(
    "--verifiable",
    is_flag=True,
    help="On the verifiable path: three trustees' key ceremony, encrypted ballots on the "
    "public board, two mixers, two of three trustees decrypting; the election record is "
    "written to DIR/record and checked with tallyroom verify.",
)
@click.option(
    "--voters",
    type=click.IntRange(1),
    help="Only this many of the planned voters cast (a sample: the figures are then not 2016's).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to serve on.")
@one_line_errors
def demo(
    no_serve: bool,
    serve_only: bool,
    json_out: Path | None,
    folder: Path,
    verifiable: bool,
    voters: int | None,
    host: str,
    port: int,
) -> None:
    """Run Labour's 2016 leadership ballot end to end, declare it, then serve the web pages.

    A synthetic register of 660,000 entries is imported, 654,006 credentials issued,
    506,438 ballots cast through the voter's casting path and 1,042 spoilt postal papers
    imported; the count and the declaration follow, on an embedded SQLite store in --dir.
    """
    from tallyroom.cli.progress import StageProgress
    from tallyroom.demo.run import DemoFolder, DemoResult, existing_demo, run_demo, write_demo_json
    from tallyroom.errors import InputError
    from tallyroom.report.declaration_text import declaration_text

    result: DemoFolder | DemoResult
    if serve_only:
        if no_serve or json_out is not None:
            raise InputError("--serve-only serves; it takes neither --no-serve nor --json")
        result = existing_demo(folder)
    else:
        path = " on the verifiable path" if verifiable else ""
        click.echo(f"tallyroom demo: Labour Party leadership election 2016{path}", err=True)
        ran = result = run_demo(folder, StageProgress(), verifiable=verifiable, voters=voters)
        click.echo(f"  done in {ran.total_seconds:.1f} s", err=True)
        click.echo(declaration_text(ran.declaration), nl=False)
        if ran.record is not None:
            click.echo(f"election record: {ran.record} (check it: tallyroom verify {ran.record})")
        if json_out is not None:
            write_demo_json(ran, json_out)
            click.echo(f"wrote {json_out}", err=True)
        if no_serve:
            return
    from tallyroom.demo.run import DEMO_OBSERVER, DEMO_PASSPHRASE
    from tallyroom.web.server import serve
    from tallyroom.web.settings import WebSettings

    settings = WebSettings(
        database=result.db_url,
        data_dir=result.folder,
        credential_key_files={result.slug: result.credential_key},
        private_key_files={result.slug: result.private_key},
    )
    click.echo(
        f"serving the declaration at http://{host}:{port}/e/{result.slug}/results "
        f"(the OpenAPI document at /openapi.json); the console at /console, signed in as "
        f"{DEMO_OBSERVER!r} with the password {DEMO_PASSPHRASE!r} (read-only); Ctrl+C stops",
        err=True,
    )
    serve(settings, host=host, port=port)


def _register_service_commands(group: click.Group) -> None:
    from tallyroom.cli.ceremony_cmds import register_ceremony_commands
    from tallyroom.cli.delivery_cmds import register_delivery_commands
    from tallyroom.cli.election_cmds import register_groups
    from tallyroom.cli.poll_cmds import register_poll_commands
    from tallyroom.cli.tally_cmds import register_tally_commands
    from tallyroom.cli.web_cmds import register_web_commands

    register_groups(group)
    register_poll_commands(group)
    register_web_commands(group)
    register_delivery_commands(group)
    register_tally_commands(group)
    register_ceremony_commands(group)


def _register_verify(group: click.Group) -> None:
    from tallyroom.cli.verify_cmds import verify

    group.add_command(verify)


_register_verify(main)

if __name__ == "__main__":  # pragma: no cover
    main()
