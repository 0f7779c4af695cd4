"""Messages as built: headers any mail reader parses back, names in any script, bodies that
survive SMTP (dots, long lines, CRLF), templates edited in a folder of one's own."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tallyroom.errors import InputError
from tallyroom.services.mail import Mailer, Rendered, booth_link

CONTEXT = {
    "election": "Chair 2026",
    "organisation": "Riverside",
    "closes": "Friday",
    "name": "Ann",
    "credential": "7KQ2-M9XD-4HRT-0ZPB-WC6N-AF",
    "booth": "https://vote.example/e/c/vote",
    "link": booth_link("https://vote.example/", "c", "7KQ2-M9XD-4HRT-0ZPB-WC6N-AF"),
    "section": "members",
}


def _parsed(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize(
    "name",
    ["Ann Ames", 'Łukasz "Luke" Ó Briain', "Dr. A. B. Cee", "王小明", "Ann\nBcc: x@y.z", None],
)
def test_headers_parse_back(name: str | None) -> None:
    mailer = Mailer("Zoë Returning Officer <ro@example.org>")
    out = mailer.message("ann@example.org", name, Rendered("Vöting: chair", "text\n", "<p>x</p>"))
    assert b"\r\n" in out.data and b"\n" not in out.data.replace(b"\r\n", b"")
    msg = _parsed(out.data)
    assert msg["From"].addresses[0].display_name == "Zoë Returning Officer"
    (to,) = msg["To"].addresses
    shown = " ".join((name or "").split())
    assert (to.addr_spec, to.display_name) == ("ann@example.org", shown)
    assert msg["Bcc"] is None  # a newline in a name cannot add a header
    assert msg["Subject"] == "Vöting: chair"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@example.org>") and msg["Date"]
    assert (out.sender, out.recipient) == ("ro@example.org", "ann@example.org")


def test_bodies_survive_transport() -> None:
    text = ".\n.leading dot\n" + "y" * 300 + "\ntrailing space \n=sign\nÜnïcödé\n"
    out = Mailer("ro@example.org").message("a@example.org", None, Rendered("s", text, "<p>é</p>"))
    assert max(len(line) for line in out.data.split(b"\r\n")) <= 78
    msg = _parsed(out.data)
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == text  # a reader normalises CRLF
    assert html.get_content() == "<p>é</p>"


def test_templates_render_the_link_with_the_credential_in_the_fragment() -> None:
    rendered = Mailer("ro@example.org").render("credential", CONTEXT)
    assert "https://vote.example/e/c/vote#credential=7KQ2-M9XD-4HRT-0ZPB-WC6N-AF" in rendered.text
    assert 'href="https://vote.example/e/c/vote#credential=7KQ2' in rendered.html
    assert rendered.subject == "Your voting credential for Chair 2026"


def test_the_html_is_escaped() -> None:
    rendered = Mailer("ro@example.org").render(
        "credential", {**CONTEXT, "name": "<script>alert(1)</script>"}
    )
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>" in rendered.text  # plain text is not HTML


def test_an_edited_template_replaces_only_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "credential.subject").write_text("Vote now, {{ name }}\n", encoding="utf-8")
    rendered = Mailer("ro@example.org", tmp_path).render("credential", CONTEXT)
    assert rendered.subject == "Vote now, Ann"
    assert CONTEXT["credential"] in rendered.text  # the packaged body still used


def test_template_and_sender_problems_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "credential.subject").write_text("{{ nosuchthing }}", encoding="utf-8")
    with pytest.raises(InputError, match="template"):
        Mailer("ro@example.org", tmp_path).render("credential", CONTEXT)
    with pytest.raises(InputError, match="sender"):
        Mailer("not an address")
    with pytest.raises(InputError, match="templates folder"):
        Mailer("ro@example.org", tmp_path / "missing")
