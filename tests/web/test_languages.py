"""The booth's and public pages' languages: the Welsh catalogue is complete and up to date with
the templates and the code (extracted here, as ``pybabel extract`` does, and compared), its
placeholders are the English ones, the compiled ``.mo`` is the ``.po``; the voter's language
comes from the link (a cookie), else Accept-Language, else English; the console stays English;
dates and numbers follow the language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tallyroom.web import i18n
from tallyroom.web.app import create_app
from tallyroom.web.settings import WebSettings

WEB = Path(i18n.__file__).parent
LOCALE = WEB / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)(?:![rs])?\}")


def _extracted() -> set[str | tuple[str, ...]]:
    with (WEB / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map, keywords={"_": None, "gettext": None,
                                                     "ngettext": (1, 2), "N_": None}
    ):  # fmt: skip
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _ids(path: Path) -> set[str | tuple[str, ...]]:
    with path.open("rb") as f:
        catalog = read_po(f)
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def _table(catalog: Catalog) -> dict[object, object]:
    def key(v: object) -> object:
        return v if isinstance(v, str) else tuple(v)  # type: ignore[call-overload]

    return {key(m.id): key(m.string) for m in catalog if m.id}


def _names(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_catalogue_is_up_to_date_with_the_templates_and_the_code() -> None:
    extracted = _extracted()
    assert len(extracted) > 150
    template = _ids(LOCALE / "messages.pot")
    welsh = _ids(LOCALE / "cy" / "LC_MESSAGES" / "messages.po")
    assert extracted - template == set(), "run pybabel extract (docs/web.md, Languages)"
    assert template - extracted == set(), "messages.pot holds messages no page uses"
    assert welsh == template, "run pybabel update, then translate"


def test_every_message_has_a_welsh_translation_with_the_same_placeholders() -> None:
    with (LOCALE / "cy" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        texts = [message.string] if isinstance(message.string, str) else list(message.string)
        assert texts and all(t.strip() for t in texts), f"untranslated: {message.id!r}"
        wanted = set().union(*(_names(i) for i in ids))
        for text in texts:
            # every placeholder the translation uses is given; each one the English uses is
            # kept (a plural form may leave the count out, as the English "one" form does)
            assert _names(text) <= wanted, (message.id, text)
            assert _names(text) >= _names(ids[-1]) - {"count"}, (message.id, text)
    with (LOCALE / "cy" / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = read_mo(f)
    assert _table(compiled) == _table(catalog), "run pybabel compile -d src/tallyroom/web/locale"


@pytest.mark.parametrize(
    ("cookie", "accept", "chosen"),
    [
        (None, None, "en"),
        (None, "cy-GB,cy;q=0.9,en;q=0.8", "cy"),
        (None, "fr-FR, en;q=0.5, cy;q=0.7", "cy"),
        (None, "fr-FR, de;q=0.5", "en"),
        (None, "cy;q=0", "en"),
        ("en", "cy", "en"),
        ("cy", "en", "cy"),
        ("xx", "cy", "cy"),
    ],
)
def test_the_language_is_the_cookies_then_the_browsers(
    cookie: str | None, accept: str | None, chosen: str
) -> None:
    assert i18n.choose(cookie, accept) == chosen


def test_the_voter_chooses_a_language_and_it_is_remembered(web_settings: WebSettings) -> None:
    client = TestClient(create_app(web_settings))
    home = client.get("/")
    assert '<html lang="en">' in home.text and 'hreflang="cy">Cymraeg</a>' in home.text
    switched = client.get("/language", params={"to": "cy", "next": "/"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/"
    welsh = client.get("/")
    assert '<html lang="cy">' in welsh.text and "Etholiadau" in welsh.text
    assert 'hreflang="en">English</a>' in welsh.text
    # the console stays English, without a language link
    console = client.get("/console/sign-in")
    assert '<html lang="en">' in console.text and "Cymraeg" not in console.text
    # back to English; a link never leads off the site
    away = client.get("/language", params={"to": "en", "next": "//evil.example/x"},
                      follow_redirects=False)  # fmt: skip
    assert away.headers["location"] == "/"
    assert '<html lang="en">' in client.get("/").text
    ignored = client.get("/language", params={"to": "xx"}, follow_redirects=False)
    assert "set-cookie" not in ignored.headers


def test_the_browsers_language_is_the_default(web_settings: WebSettings) -> None:
    client = TestClient(create_app(web_settings))
    page = client.get("/", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"})
    assert '<html lang="cy">' in page.text and "Neidio i'r cynnwys" in page.text
