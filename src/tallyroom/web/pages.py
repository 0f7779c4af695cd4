"""Rendering pages: the Jinja2 environment (autoescaping everything) and :func:`render`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from tallyroom import __version__
from tallyroom.services.users import ConsoleUser
from tallyroom.web import i18n, locale_format
from tallyroom.web.guards import WebContext
from tallyroom.web.security import csrf_token

__all__ = ["environment", "render", "votes"]

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters["label"] = lambda value: str(value).replace("_", " ")
    # numbers in the language being rendered (grouping, decimal mark: Babel's CLDR data)
    env.filters["thousands"] = lambda value: locale_format.number(int(value), i18n.current())
    env.filters["votes"] = lambda value: locale_format.votes(value, i18n.current())
    env.filters["percent"] = lambda value: locale_format.percent(value, i18n.current())
    i18n.install(env)
    return env


def votes(value: object) -> str:
    """A tally as published (an exact decimal string, or an integer) with thousands
    separators and every decimal place kept: ``"313209"`` -> ``313,209``, ``"1234.50"`` ->
    ``1,234.50``. Anything else is shown as it is."""
    text = str(value)
    whole, dot, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.removeprefix("-")
    if not digits.isdigit() or (fraction and not fraction.isdigit()):
        return text
    return f"{sign}{int(digits):,}{dot}{fraction}"


def render(
    request: Request,
    template: str,
    *,
    user: ConsoleUser | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` with the request, the user, the session's CSRF token and the
    language (``lang``: the request's, :mod:`tallyroom.web.i18n`; the console's is English)."""
    web: WebContext = request.app.state.web
    with i18n.rendering(template) as language:
        page = web.templates.get_template(template).render(
            request=request,
            user=user,
            csrf_token=csrf_token(request),
            lang=language,
            lang_links=not template.startswith("console_"),
            **values,
        )
    return HTMLResponse(page, status_code=status_code)
