"""Letters for the voters by post: one page each, address in the DL window, the credential
that votes, the same credential when printed again; delivery ends when every voter is sent."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from delivery_election import SLUG, issued, mail_settings
from smtp_sink import smtp_sink
from tallyroom.errors import InputError
from tallyroom.services import delivery, polling
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.delivery_rounds import secret_path
from tallyroom.services.elections import get_election
from tallyroom.services.letters import print_letters
from tallyroom.services.voting import cast_ballot
from tallyroom.store import Store
from tallyroom.store import delivery as queue
from tallyroom.store.schema import DeliveryState

BOOTH = "https://vote.riverside.example"


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_one_letter_per_voter_by_post_whose_credential_votes(store: Store, tmp_path: Path) -> None:
    key = issued(store, tmp_path, emails=2, letters=4)
    out = tmp_path / "letters.pdf"
    run = print_letters(store, SLUG, key_path=key, out=out, booth_url=BOOTH, actor="ro")
    assert (run.printed, run.reissued, run.ended) == (4, 0, False)
    pages = _pages(out)
    assert len(pages) == 4
    mailhouse = tmp_path / "all.csv"
    delivery.export_credentials(store, SLUG, key_path=key, out=mailhouse, actor="ro")
    rows = [r.split(",") for r in mailhouse.read_text(encoding="utf-8").splitlines()[1:]]
    by_name = {r[3]: r[2] for r in rows}
    for i, text in enumerate(pages, start=1):
        assert f"Staff {i}" in text and f"{i} Mill Lane" in text and f"RV{i} 1AA" in text
        assert by_name[f"Staff {i}"] in text
        assert f"{BOOTH}/e/{SLUG}/vote" in text
    # the address sits in the DIN 5008 B field: 20 mm from the left, below 45 mm from the top
    page = pypdf.PdfReader(out).pages[0]
    positions: list[tuple[float, float]] = []

    def visit(text: str, cm: object, tm: list[float], *_: object) -> None:
        if "Mill Lane" in text:
            positions.append((tm[4], tm[5]))

    page.extract_text(visitor_text=visit)
    ((x, y),) = positions
    top = float(page.mediabox.height) - y
    assert 19 <= x / 72 * 25.4 <= 22 and 50 <= top / 72 * 25.4 <= 90
    # printed again (nothing pending): no page, nothing changed
    again = tmp_path / "again.pdf"
    assert (
        print_letters(store, SLUG, key_path=key, out=again, booth_url=BOOTH, actor="ro").printed
        == 0
    )
    assert not again.exists()
    with pytest.raises(InputError, match="already exists"):
        print_letters(store, SLUG, key_path=key, out=out, booth_url=BOOTH, actor="ro")
    # the letter's credential votes
    polling.open_voting(store, SLUG, actor="ro")
    assert cast_ballot(
        store,
        get_election(store, SLUG).id,
        by_name["Staff 2"],
        {"chair": ["Ann Ashe"]},
        credential_key=load_or_create_key(key, create=False),
    )
    # when the emails are sent too, every voter is: delivery ends by itself
    with smtp_sink() as (_, port):
        result = delivery.send_credentials(
            store, SLUG, key_path=key, mail=mail_settings(port), actor="ro"
        )
    assert result.ended and not secret_path(key).exists()


def test_letters_reprinted_after_a_crash_carry_the_same_credentials(
    store: Store, tmp_path: Path
) -> None:
    key = issued(store, tmp_path, emails=1, letters=3)  # the email keeps the round open
    first = tmp_path / "first.pdf"
    print_letters(store, SLUG, key_path=key, out=first, booth_url=BOOTH, actor="ro")
    # as if the printer's run was lost before the letters were recorded as printed
    election_id = get_election(store, SLUG).id
    with store.begin() as conn:
        queue.mark(
            conn,
            election_id,
            delivery.CREDENTIALS,
            [(e, DeliveryState.PENDING, None) for e in range(1, 50)],  # rows of no entry: ignored
        )
    second = tmp_path / "second.pdf"
    print_letters(store, SLUG, key_path=key, out=second, booth_url=BOOTH, actor="ro")
    assert _pages(first) == _pages(second)


def test_many_letters_are_written_as_volumes(store: Store, tmp_path: Path) -> None:
    key = issued(store, tmp_path, emails=1, letters=5)
    (tmp_path / "letters-003.pdf").write_bytes(b"not ours")
    with pytest.raises(InputError, match="already exists"):
        print_letters(
            store, SLUG, key_path=key, out=tmp_path / "letters.pdf", booth_url=BOOTH,
            actor="ro", per_file=2,
        )  # fmt: skip
    (tmp_path / "letters-003.pdf").unlink()
    run = print_letters(
        store, SLUG, key_path=key, out=tmp_path / "letters.pdf", booth_url=BOOTH, actor="ro",
        per_file=2,
    )  # fmt: skip
    assert [f.name for f in run.files] == ["letters-001.pdf", "letters-002.pdf", "letters-003.pdf"]
    pages = [_pages(f) for f in run.files]
    assert [len(p) for p in pages] == [2, 2, 1]
    names = [f"Staff {i}" for i in range(1, 6)]
    assert [n for n in names if any(n in page for volume in pages for page in volume)] == names


def test_without_a_unicode_font_a_name_outside_latin1_is_an_error_naming_the_voter() -> None:
    from tallyroom.services.letters import _Letters
    from tallyroom.store.delivery import QueueItem
    from tallyroom.store.schema import ContactChannel

    letters = _Letters(None, {"organisation": "Co-op", "election": "Chair", "closes": "Friday"})
    item = QueueItem(
        1, "staff/T1", "staff", ContactChannel.POST, "王小明", None, "1 Mill Lane|Riverside",
        1, 1, DeliveryState.PENDING, 0,
    )  # fmt: skip
    with pytest.raises(InputError, match="--font") as caught:
        letters.page(item, "7KQ2-M9XD-4HRT-0ZPB-WC6N-AF", f"{BOOTH}/e/x/vote#credential=7", BOOTH)
    assert caught.value.value == "staff/T1"


def test_a_downloaded_volume_counts_as_printed_only_once_recorded(
    store: Store, tmp_path: Path
) -> None:
    """The console's letters: the next volume in memory; until it is recorded (the whole
    download handed over) the letters stay due and print again with the same credentials;
    volumes follow each other; a volume of an ended round cannot be recorded."""
    from tallyroom.errors import LifecycleError
    from tallyroom.services.letters import letters_due, next_volume, record_volume

    key = issued(store, tmp_path, emails=1, letters=5)
    first = next_volume(store, SLUG, key_path=key, booth_url=BOOTH, actor="ro", size=3)
    assert first is not None and len(first.entries) == 3
    assert letters_due(store, SLUG) == 5  # nothing recorded yet: a broken download
    again = next_volume(store, SLUG, key_path=key, booth_url=BOOTH, actor="ro", size=3)
    assert again is not None and again.entries == first.entries
    text = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(first.pdf)).pages]
    text_again = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(again.pdf)).pages]
    assert text == text_again  # the same credentials
    assert record_volume(store, SLUG, first, key_path=key, actor="ro") is False
    assert letters_due(store, SLUG) == 2
    rest = next_volume(store, SLUG, key_path=key, booth_url=BOOTH, actor="ro", size=3)
    assert rest is not None and len(rest.entries) == 2
    assert not set(rest.entries) & set(first.entries)
    delivery.end_delivery(store, SLUG, key_path=key, actor="ro")
    with pytest.raises(LifecycleError, match="has ended: print them again"):
        record_volume(store, SLUG, rest, key_path=key, actor="ro")
    assert letters_due(store, SLUG) == 2
    with pytest.raises(InputError, match="give a reason"):
        next_volume(store, SLUG, key_path=key, booth_url=BOOTH, actor="ro")
