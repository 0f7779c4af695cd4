"""``/rules/{name}``: a counting rule explained for voters and observers, linked from the
ballot, the election page and the results.

The page states the rule in words (what the voter marks, who wins, the quota) and, when this
copy of tallyroom runs from its source folder, the rule's full documentation
(``docs/rules/<page>.md``: the statute clause by clause, the known deviations) as text; an
installed copy without the docs names the page to look for.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tallyroom.count.rules.registry import get_rule
from tallyroom.errors import ConfigError, NotFound
from tallyroom.web.guards import MaybeUser
from tallyroom.web.pages import render
from tallyroom.web.results_view import RULE_PAGES, rule_facts

__all__ = ["DOCS", "router"]

router = APIRouter(include_in_schema=False)

# docs/rules in a source checkout (src/tallyroom/web -> the project's root)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "rules"


@router.get("/rules/{name}", response_class=HTMLResponse)
def rule_page(request: Request, name: str, user: MaybeUser) -> HTMLResponse:
    try:
        rule = get_rule(name)
    except ConfigError:
        raise NotFound("no such counting rule", field="rule", value=name) from None
    page = RULE_PAGES.get(rule.name)
    doc = DOCS / f"{page}.md" if page else None
    text = doc.read_text(encoding="utf-8") if doc is not None and doc.is_file() else None
    return render(
        request,
        "rule.html",
        user=user,
        rule=rule_facts(rule.name),
        multi_seat=rule.multi_seat,
        constrainable=rule.constrainable,
        doc_path=f"docs/rules/{page}.md" if page else None,
        doc_text=text,
    )
