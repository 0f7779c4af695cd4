"""The charts' labels are text: a hostile candidate name never becomes plotly markup."""

from __future__ import annotations

import json

from tallyroom.web.charts import as_text, rounds_figure, transfers_figure

LINK = '<a href="https://evil.example/">Vote here</a>'
BOLD = "<b>Bold</b> &amp; <br>broken"
NAMES = [LINK, BOLD, "Plain O'Name"]
REPORT = {
    "results": [
        {
            "round": 1,
            "tally": {LINK: "5", BOLD: "3", "Plain O'Name": "2"},
            "tallyResults": [
                {"eliminated": "Plain O'Name", "transfers": {LINK: "1", "exhausted": "1"}}
            ],
        },
        {"round": 2, "tally": {LINK: "6", BOLD: "3"}, "tallyResults": [{"elected": LINK}]},
    ]
}


def _strings(doc: object) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in _strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in _strings(v)]
    return []


def test_names_are_escaped_for_plotly() -> None:
    assert as_text(LINK) == '&lt;a href="https://evil.example/"&gt;Vote here&lt;/a&gt;'
    assert as_text("&lt;") == "&amp;lt;"  # an entity in a name is shown as typed, too
    for figure in (rounds_figure(REPORT, NAMES), transfers_figure(REPORT, NAMES)):
        data = json.dumps(figure["data"])
        assert "<a " not in data and "<b>" not in data and "<br>" not in data
        shown = _strings(figure["data"])
        assert any(as_text(LINK) in s for s in shown)
        assert any("&amp;amp;" in s for s in shown)
