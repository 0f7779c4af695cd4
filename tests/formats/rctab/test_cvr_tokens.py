"""The token resolver shared by every provider, and the candidate table."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cvr_testkit import case_config, with_source

from tallyroom.count.ballots import OVERVOTE, SKIP, overvote_set_code
from tallyroom.formats.rctab.config import UNDECLARED_WRITE_IN, ContestConfig
from tallyroom.formats.rctab.cvr import (
    TokenError,
    TokenResolver,
    candidate_table,
    declared_candidates,
    rank_limit,
)


def _resolver(config: ContestConfig) -> TokenResolver:
    return TokenResolver(candidate_table(config), declared_candidates(config), config.sources[0])


@pytest.fixture
def aliased() -> ContestConfig:
    """Candidates C, D, A (aliases A-2, A-3, A-4), B-2 (alias B); delimiter '|'."""
    return with_source(
        case_config("aliases_ess_xlsx"),
        overvote_label="",
        skipped_rank_label="undervote",
        undeclared_write_in_label="UWI",
    )


def test_names_aliases_and_labels(aliased: ContestConfig) -> None:
    r = _resolver(aliased)
    names = r.table.names
    assert names == ("C", "D", "A", "B-2", UNDECLARED_WRITE_IN)
    assert r.token("A") == r.token("A-3") == 2
    assert r.token("B") == r.token("B-2") == 3
    assert r.token("undervote") == SKIP
    assert r.token("UWI") == 4
    assert r.token(UNDECLARED_WRITE_IN) == 4
    with pytest.raises(TokenError) as info:
        r.token("Nobody")
    assert info.value.value == "Nobody"


def test_cells_blank_trim_and_delimiter(aliased: ContestConfig) -> None:
    r = _resolver(aliased)
    assert r.cell(None) == SKIP
    assert r.cell("   ") == SKIP
    assert r.cell("  C ") == 0
    ab = r.cell("A | B")
    assert ab == overvote_set_code(0)
    assert r.sets.sets == [(2, 3)]
    assert r.cell("B|A-2") == ab  # same set, whatever the order or alias
    assert r.cell("D|UWI") == overvote_set_code(1)
    assert r.sets.sets[1] == (1, 4)


def test_same_candidate_twice_is_an_overvote_keeping_both(aliased: ContestConfig) -> None:
    """RCTab keeps a rank's selections in a list; two entries are an overvote even when they
    name one candidate. The set keeps the duplicate so the count can apply that rule."""
    r = _resolver(aliased)
    code = r.cell("A|A")
    assert code == overvote_set_code(0)
    assert r.sets.sets == [(2, 2)]
    assert r.selections([2, 2]) == code


@pytest.mark.parametrize("cell", ["A|", "|A", "A||B", "A|undervote"])
def test_delimited_cell_with_blank_or_skip_part_is_refused(
    aliased: ContestConfig, cell: str
) -> None:
    with pytest.raises(TokenError):
        _resolver(aliased).cell(cell)


def test_overvote_label_with_other_selections_is_refused() -> None:
    config = with_source(case_config("conversions_from_ess"))  # overvoteLabel "overvote"
    r = _resolver(config)
    assert r.token("overvote") == OVERVOTE
    assert r.selections([OVERVOTE]) == OVERVOTE
    with pytest.raises(TokenError):
        r.selections([OVERVOTE, 0])
    assert r.selections([SKIP, 1]) == 1
    assert r.selections([]) == SKIP


def test_treat_blank_as_write_in() -> None:
    config = case_config("test_set_treat_blank_as_undeclared_write_in")
    r = _resolver(config)
    assert r.table.undeclared_write_in == 4
    assert r.cell(None) == 4
    assert r.cell("") == 4
    assert r.cell("undervote") == SKIP


def test_write_in_without_label_is_refused() -> None:
    r = _resolver(case_config("test_set_0_skipped_first_choice"))
    assert r.table.undeclared_write_in is None
    with pytest.raises(TokenError):
        r.write_in()
    with pytest.raises(TokenError):
        r.token(UNDECLARED_WRITE_IN)


def test_candidate_table_order_excluded_and_write_in_last() -> None:
    config = case_config("excluded_test")
    table = candidate_table(config)
    assert table.names == tuple(c.name for c in config.candidates)
    assert table.excluded == frozenset(i for i, c in enumerate(config.candidates) if c.excluded)
    assert table.excluded
    park = candidate_table(case_config("2013_minneapolis_park"))
    assert park.names[-1] == UNDECLARED_WRITE_IN
    assert park.undeclared_write_in == len(park) - 1


def test_rank_limit_max_is_declared_candidates_including_excluded() -> None:
    config = case_config("aliases_ess_xlsx")  # maxRankingsAllowed "max", 4 candidates
    assert config.rules.max_rankings_allowed is None
    assert rank_limit(config) == 4
    excluded = replace(
        config,
        candidates=tuple(replace(c, excluded=True) for c in config.candidates[:2])
        + config.candidates[2:],
    )
    assert rank_limit(excluded) == 4
    assert rank_limit(case_config("max_ranking_enforcement")) == 3


def test_declared_candidates_are_the_config_s_when_given() -> None:
    config = case_config("dominion_alaska")
    assert declared_candidates(config) == config.candidates
