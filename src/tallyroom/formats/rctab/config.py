"""RCTab contest configuration files (``*_config.json``) read into typed, validated options.

The field list follows RCTab's config documentation (``config_file_documentation.txt``) and
its ``RawContestConfig``; values may be JSON strings or numbers, as RCTab writes them.
Validation collects every problem and raises one :class:`ConfigError` listing them all.
The counting options of the ``rules`` section are read straight into the engine's
:class:`~tallyroom.count.options.RctabOptions` (:attr:`Rules.counting`); :class:`Rules` adds
only what is not a counting option (the ranking limit the CVR readers enforce, the description).
Older option names are accepted (``multiSeatSequentialWinnerTakesAll`` for ``multiPassIrv``,
``usePermutationInConfig`` for ``useCandidateOrder``, ``undervoteLabel`` for
``skippedRankLabel``).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tallyroom.count.options import OvervoteRule, RctabOptions, TiebreakMode, WinnerMode
from tallyroom.errors import ConfigError

__all__ = [
    "CandidateConfig",
    "ContestConfig",
    "CvrSource",
    "OutputSettings",
    "OvervoteRule",
    "Provider",
    "Rules",
    "TiebreakMode",
    "WinnerMode",
    "load_config",
    "parse_config",
]

UNDECLARED_WRITE_IN = "Undeclared Write-ins"


class Provider(enum.Enum):
    ESS = "ess"
    DOMINION = "dominion"
    CDF = "cdf"
    CLEAR_BALLOT = "clearBallot"
    HART = "hart"
    GENERIC_CSV = "genericCsv"


_ALIASES = {
    "multiSeatSequentialWinnerTakesAll": "multiPassIrv",
    "usePermutationInConfig": "useCandidateOrder",
}


@dataclass(frozen=True, slots=True)
class OutputSettings:
    contest_name: str
    output_directory: str = ""
    contest_date: str = ""
    contest_jurisdiction: str = ""
    contest_office: str = ""
    tabulate_by_precinct: bool = False
    tabulate_by_batch: bool = False
    generate_cdf_json: bool = False


@dataclass(frozen=True, slots=True)
class CvrSource:
    """One ``cvrFileSources`` entry. Column and row indexes are 1-based, as in RCTab."""

    provider: Provider
    file_path: Path
    contest_id: str = ""
    first_vote_column_index: int | None = None
    first_vote_row_index: int | None = None
    id_column_index: int | None = None
    precinct_column_index: int | None = None
    batch_column_index: int | None = None
    overvote_delimiter: str = ""
    overvote_label: str = ""
    skipped_rank_label: str = ""
    undeclared_write_in_label: str = ""
    treat_blank_as_undeclared_write_in: bool = False


@dataclass(frozen=True, slots=True)
class CandidateConfig:
    name: str
    aliases: tuple[str, ...] = ()
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class Rules:
    """The ``rules`` section: how the count runs, and the ranking limit of the CVRs."""

    counting: RctabOptions
    max_rankings_allowed: int | None = None  # None: "max", the number of declared candidates
    description: str = ""  # rulesDescription


@dataclass(frozen=True, slots=True)
class ContestConfig:
    path: Path
    output: OutputSettings
    sources: tuple[CvrSource, ...]
    candidates: tuple[CandidateConfig, ...]
    rules: Rules

    @property
    def uses_undeclared_write_ins(self) -> bool:
        return any(s.undeclared_write_in_label for s in self.sources) or any(
            s.treat_blank_as_undeclared_write_in for s in self.sources
        )


def load_config(path: str | Path) -> ContestConfig:
    """Read and validate an RCTab contest config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", path=str(p)) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", path=str(p), line=exc.lineno) from None
    except RecursionError:
        raise ConfigError("not a config: JSON nested too deeply", path=str(p)) from None
    if not isinstance(raw, dict):
        raise ConfigError("a config must be a JSON object", path=str(p))
    return parse_config(raw, p)


class _Collector:
    """Reads typed values out of the raw JSON and gathers every problem found."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def fail(self, field: str, problem: str, value: object = None) -> None:
        shown = f" ({value!r})" if value is not None else ""
        self.problems.append(f"{field}: {problem}{shown}")

    def text(self, obj: dict[str, Any], key: str, field: str) -> str:
        v = obj.get(key, "")
        if v is None:
            return ""
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v).strip()
        self.fail(field, "must be text", v)
        return ""

    def flag(self, obj: dict[str, Any], key: str, field: str) -> bool:
        v = obj.get(key, False)
        if v is None or v == "":
            return False
        if isinstance(v, bool):
            return v
        self.fail(field, "must be true or false", v)
        return False

    def integer(
        self,
        obj: dict[str, Any],
        key: str,
        field: str,
        *,
        low: int | None = None,
        high: int | None = None,
        required: bool = False,
        words: dict[str, int | None] | None = None,
    ) -> int | None:
        v = obj.get(key)
        if v is None or (isinstance(v, str) and v.strip() == ""):
            if required:
                self.fail(field, "is required")
            return None
        if isinstance(v, str) and words and v.strip() in words:
            return words[v.strip()]
        if isinstance(v, bool):
            self.fail(field, "must be a whole number", v)
            return None
        try:
            n = int(v) if isinstance(v, int) else int(str(v).strip())
        except ValueError:
            self.fail(field, "must be a whole number", v)
            return None
        if (low is not None and n < low) or (high is not None and n > high):
            rng = f"[{low if low is not None else ''}..{high if high is not None else ''}]"
            self.fail(field, f"must be in {rng}", v)
            return None
        return n

    def choice(self, obj: dict[str, Any], key: str, field: str, enum_type: type[Any]) -> Any:
        v = obj.get(key)
        if v is None or v == "":
            self.fail(field, "is required")
            return None
        name = _ALIASES.get(str(v), str(v))
        try:
            return enum_type(name)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_type)
            self.fail(field, f"must be one of {allowed}", v)
            return None


def parse_config(raw: dict[str, Any], path: Path) -> ContestConfig:
    """Validate a config already read as JSON; ``path`` anchors relative file paths."""
    c = _Collector(path)
    out_raw = raw.get("outputSettings")
    if not isinstance(out_raw, dict):
        c.fail("outputSettings", "is required")
        out_raw = {}
    output = OutputSettings(
        contest_name=c.text(out_raw, "contestName", "outputSettings.contestName"),
        output_directory=c.text(out_raw, "outputDirectory", "outputSettings.outputDirectory"),
        contest_date=c.text(out_raw, "contestDate", "outputSettings.contestDate"),
        contest_jurisdiction=c.text(
            out_raw, "contestJurisdiction", "outputSettings.contestJurisdiction"
        ),
        contest_office=c.text(out_raw, "contestOffice", "outputSettings.contestOffice"),
        tabulate_by_precinct=c.flag(
            out_raw, "tabulateByPrecinct", "outputSettings.tabulateByPrecinct"
        ),
        tabulate_by_batch=c.flag(out_raw, "tabulateByBatch", "outputSettings.tabulateByBatch"),
        generate_cdf_json=c.flag(out_raw, "generateCdfJson", "outputSettings.generateCdfJson"),
    )
    if not output.contest_name:
        c.fail("outputSettings.contestName", "is required")

    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, dict):
        c.fail("rules", "is required")
        rules_raw = {}
    rules = _parse_rules(c, rules_raw)

    cands_raw = raw.get("candidates")
    candidates: list[CandidateConfig] = []
    if not isinstance(cands_raw, list):
        c.fail("candidates", "must be a list")
        cands_raw = []
    seen: set[str] = set()
    for i, cr in enumerate(cands_raw):
        field = f"candidates[{i}]"
        if not isinstance(cr, dict):
            c.fail(field, "must be an object", cr)
            continue
        name = c.text(cr, "name", f"{field}.name")
        if not name:
            c.fail(f"{field}.name", "is required")
            continue
        aliases_raw = cr.get("aliases") or []
        aliases: list[str] = []
        if isinstance(aliases_raw, list):
            aliases = [str(a).strip() for a in aliases_raw if str(a).strip()]
        else:
            c.fail(f"{field}.aliases", "must be a list", aliases_raw)
        code = str(cr.get("code") or "").strip()
        if code and code not in aliases:
            aliases.append(code)
        for n in (name, *aliases):
            if n in seen:
                c.fail(f"{field}", "name or alias used twice", n)
            seen.add(n)
        if name == UNDECLARED_WRITE_IN:
            c.fail(f"{field}.name", "is reserved for undeclared write-ins", name)
        candidates.append(
            CandidateConfig(
                name=name,
                aliases=tuple(aliases),
                excluded=c.flag(cr, "excluded", f"{field}.excluded"),
            )
        )

    srcs_raw = raw.get("cvrFileSources")
    sources: list[CvrSource] = []
    if not isinstance(srcs_raw, list) or not srcs_raw:
        c.fail("cvrFileSources", "at least one CVR source is required")
        srcs_raw = []
    for i, sr in enumerate(srcs_raw):
        src = _parse_source(c, sr, f"cvrFileSources[{i}]", path)
        if src is not None:
            sources.append(src)

    if rules is not None:
        _check_rules_against_contest(c, rules, sources)

    if c.problems:
        raise ConfigError("; ".join(c.problems), path=str(path))
    assert rules is not None
    return ContestConfig(
        path=path,
        output=output,
        sources=tuple(sources),
        candidates=tuple(candidates),
        rules=rules,
    )


def _parse_rules(c: _Collector, r: dict[str, Any]) -> Rules | None:
    mode = c.choice(r, "winnerElectionMode", "rules.winnerElectionMode", WinnerMode)
    tiebreak = c.choice(r, "tiebreakMode", "rules.tiebreakMode", TiebreakMode)
    overvote = c.choice(r, "overvoteRule", "rules.overvoteRule", OvervoteRule)
    winners = c.integer(r, "numberOfWinners", "rules.numberOfWinners", low=0, required=True)
    places = c.integer(
        r,
        "decimalPlacesForVoteArithmetic",
        "rules.decimalPlacesForVoteArithmetic",
        low=1,
        high=20,
    )
    seed = c.integer(r, "randomSeed", "rules.randomSeed", low=-(2**47), high=2**47 - 1)
    skipped = c.integer(
        r,
        "maxSkippedRanksAllowed",
        "rules.maxSkippedRanksAllowed",
        low=0,
        required=True,
        words={"unlimited": None},
    )
    rankings = c.integer(
        r,
        "maxRankingsAllowed",
        "rules.maxRankingsAllowed",
        low=1,
        required=True,
        words={"max": None},
    )
    pct: Decimal | None = None
    pct_raw = r.get("multiSeatBottomsUpPercentageThreshold")
    if pct_raw not in (None, ""):
        try:
            pct = Decimal(str(pct_raw).strip())
            if not (Decimal(0) < pct <= Decimal(100)):
                raise InvalidOperation
        except InvalidOperation:
            c.fail("rules.multiSeatBottomsUpPercentageThreshold", "must be in (0..100]", pct_raw)
            pct = None
    stop_early = c.integer(
        r, "stopTabulationEarlyAfterRound", "rules.stopTabulationEarlyAfterRound", low=1
    )
    flags = {
        key: c.flag(r, key, f"rules.{key}")
        for key in (
            "exhaustOnDuplicateCandidate",
            "batchElimination",
            "continueUntilTwoCandidatesRemain",
            "doesFirstRoundDetermineThreshold",
            "nonIntegerWinningThreshold",
            "hareQuota",
            "cutoffElimination",
        )
    }
    if tiebreak is not None and tiebreak.needs_seed and seed is None:
        c.fail("rules.randomSeed", f"is required with tiebreakMode {tiebreak.value}")
    if None in (mode, tiebreak, overvote, winners):
        return None
    assert winners is not None
    counting = RctabOptions(
        winner_mode=mode,
        seats=winners,
        tiebreak_mode=tiebreak,
        random_seed=seed,
        overvote_rule=overvote,
        decimal_places=places if places is not None else 4,
        max_skipped_ranks_allowed=skipped,
        exhaust_on_duplicate_candidate=flags["exhaustOnDuplicateCandidate"],
        batch_elimination=flags["batchElimination"],
        continue_until_two_candidates_remain=flags["continueUntilTwoCandidatesRemain"],
        first_round_determines_threshold=flags["doesFirstRoundDetermineThreshold"],
        non_integer_winning_threshold=flags["nonIntegerWinningThreshold"],
        hare_quota=flags["hareQuota"],
        cutoff_elimination=flags["cutoffElimination"],
        percentage_threshold=pct,
        stop_after_round=stop_early,
    )
    return Rules(
        counting=counting,
        max_rankings_allowed=rankings,
        description=str(r.get("rulesDescription") or ""),
    )


def _parse_source(c: _Collector, sr: object, field: str, config_path: Path) -> CvrSource | None:
    if not isinstance(sr, dict):
        c.fail(field, "must be an object", sr)
        return None
    provider = c.choice(sr, "provider", f"{field}.provider", Provider)
    file_path = c.text(sr, "filePath", f"{field}.filePath")
    if not file_path:
        c.fail(f"{field}.filePath", "is required")
    resolved = Path(file_path)
    if file_path and not resolved.is_absolute():
        resolved = (config_path.parent / resolved).resolve()
    if file_path and not resolved.exists():
        c.fail(f"{field}.filePath", "does not exist", file_path)
    first_col = c.integer(
        sr, "firstVoteColumnIndex", f"{field}.firstVoteColumnIndex", low=1, high=1000
    )
    first_row = c.integer(sr, "firstVoteRowIndex", f"{field}.firstVoteRowIndex", low=1, high=100000)
    contest_id = c.text(sr, "contestId", f"{field}.contestId")
    if provider in (Provider.ESS, Provider.GENERIC_CSV):
        if first_col is None:
            c.fail(f"{field}.firstVoteColumnIndex", f"is required for {provider.value}")
        if provider is Provider.ESS and first_row is None:
            c.fail(f"{field}.firstVoteRowIndex", "is required for ess")
    elif provider is not None and not contest_id:
        c.fail(f"{field}.contestId", f"is required for {provider.value}")
    skipped = c.text(sr, "skippedRankLabel", f"{field}.skippedRankLabel") or c.text(
        sr, "undervoteLabel", f"{field}.undervoteLabel"
    )
    delimiter = c.text(sr, "overvoteDelimiter", f"{field}.overvoteDelimiter")
    label = c.text(sr, "overvoteLabel", f"{field}.overvoteLabel")
    if delimiter and label:
        c.fail(f"{field}", "overvoteDelimiter and overvoteLabel cannot both be set")
    if provider is None or not file_path:
        return None
    return CvrSource(
        provider=provider,
        file_path=resolved,
        contest_id=contest_id,
        first_vote_column_index=first_col,
        first_vote_row_index=first_row,
        id_column_index=c.integer(sr, "idColumnIndex", f"{field}.idColumnIndex", low=1),
        precinct_column_index=c.integer(
            sr, "precinctColumnIndex", f"{field}.precinctColumnIndex", low=1
        ),
        batch_column_index=c.integer(sr, "batchColumnIndex", f"{field}.batchColumnIndex", low=1),
        overvote_delimiter=delimiter,
        overvote_label=label,
        skipped_rank_label=skipped,
        undeclared_write_in_label=c.text(
            sr, "undeclaredWriteInLabel", f"{field}.undeclaredWriteInLabel"
        ),
        treat_blank_as_undeclared_write_in=c.flag(
            sr, "treatBlankAsUndeclaredWriteIn", f"{field}.treatBlankAsUndeclaredWriteIn"
        ),
    )


def _check_rules_against_contest(
    c: _Collector,
    rules: Rules,
    sources: list[CvrSource],
) -> None:
    options = rules.counting
    mode = options.winner_mode
    n = options.seats
    if mode is WinnerMode.SINGLE_WINNER_MAJORITY and n != 1:
        c.fail("rules.numberOfWinners", "must be 1 for singleWinnerMajority", n)
    if mode is WinnerMode.BOTTOMS_UP_USING_PERCENTAGE_THRESHOLD:
        if n != 0:
            c.fail("rules.numberOfWinners", "must be 0 for bottomsUpUsingPercentageThreshold", n)
        if options.percentage_threshold is None:
            c.fail("rules.multiSeatBottomsUpPercentageThreshold", "is required")
    elif n == 0:
        c.fail("rules.numberOfWinners", "0 is only valid for bottomsUpUsingPercentageThreshold")
    if (mode.is_stv or mode is WinnerMode.BOTTOMS_UP) and n < 2:
        c.fail("rules.numberOfWinners", f"must be more than 1 for {mode.value}", n)
    if options.batch_elimination and mode not in (
        WinnerMode.SINGLE_WINNER_MAJORITY,
        WinnerMode.MULTI_PASS_IRV,
    ):
        c.fail("rules.batchElimination", f"is not allowed with {mode.value}")
    if options.continue_until_two_candidates_remain and mode not in (
        WinnerMode.SINGLE_WINNER_MAJORITY,
        WinnerMode.MULTI_PASS_IRV,
    ):
        c.fail("rules.continueUntilTwoCandidatesRemain", f"is not allowed with {mode.value}")
    if options.hare_quota and options.non_integer_winning_threshold:
        c.fail("rules.hareQuota", "cannot be combined with nonIntegerWinningThreshold")
    if options.first_round_determines_threshold and mode.is_stv:
        c.fail("rules.doesFirstRoundDetermineThreshold", f"is not allowed with {mode.value}")
    if options.overvote_rule is OvervoteRule.EXHAUST_IF_MULTIPLE_CONTINUING and any(
        s.overvote_label for s in sources
    ):
        c.fail(
            "rules.overvoteRule",
            "exhaustIfMultipleContinuing needs the overvoted candidates, not an overvote label",
        )
    # numberOfWinners above the number of candidates: RCTab accepts it (a warning there) and
    # elects everyone, and so does the count here.
