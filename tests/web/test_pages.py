"""Page helpers: tallies shown exactly, with thousands separators."""

from __future__ import annotations

import pytest

from tallyroom.web.pages import votes


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("313209", "313,209"),
        (313209, "313,209"),
        ("1234.50000", "1,234.50000"),
        ("-1234.5", "-1,234.5"),
        ("0", "0"),
        ("12.3.4", "12.3.4"),
        ("n/a", "n/a"),
    ],
)
def test_votes_keep_every_decimal_place(value: object, shown: str) -> None:
    assert votes(value) == shown
