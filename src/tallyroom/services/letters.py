"""Print-ready letters for the voters who asked for post: one A4 page each, for a DL window
envelope.

The page follows DIN 5008 form B, the layout window envelopes are made for: the address
field 20 mm from the left edge and 45 mm from the top, 85 x 45 mm (a return line in its
first 5 mm, then up to seven lines of name and address), and the fold marks at 105 mm and
210 mm; folded in three, the address shows through the window of a DL (DIN lang, 110 x 220
mm) envelope. Below the first fold: the election, the credential in a large monospaced face,
the booth's address, a QR code of the voting link (the credential in its fragment, as in the
emails) and the instructions.

Each credential is derived from the open round's delivery secret, checked against its hash
and, when it was issued outside this round, reissued (like an email resend;
:mod:`tallyroom.services.delivery`). The PDF is written beside its final name and renamed when
complete; only then are the voters' letters recorded as printed (``sent``) in the queue, so
letters printed again after a crash carry the same credentials.

Text is set in a Unicode TrueType face (``font``; by default DejaVu Sans where the system
has it) so that any name prints; without one, the PDF core fonts take Latin-1 only and a name
outside it is an error naming the voter. The QR code is drawn with a fixed mask pattern
(ISO/IEC 18004 allows any; evaluating all eight costs 8 times as long and letters are
printed, not photographed in poor light).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

from tallyroom.audit.events import Action
from tallyroom.crypto.credential_key import CredentialKey
from tallyroom.crypto.delivery_secret import DeliverySecret
from tallyroom.errors import InputError, LifecycleError
from tallyroom.services.contact_columns import address_lines
from tallyroom.services.credentials import load_or_create_key
from tallyroom.services.delivery import (
    CREDENTIALS,
    credentials_for,
    end_delivery,
    is_complete,
    message_context,
    open_or_resume,
)
from tallyroom.services.delivery_rounds import destroy_secret_file, secret_path
from tallyroom.services.elections import get_election
from tallyroom.services.mail import booth_link
from tallyroom.store import ElectionState, Store, audit, credentials, elections
from tallyroom.store import delivery as queue
from tallyroom.store.delivery import QueueItem
from tallyroom.store.schema import ContactChannel, DeliveryState

__all__ = [
    "LetterRun",
    "LetterVolume",
    "letters_due",
    "next_volume",
    "print_letters",
    "record_volume",
]

_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
# DIN 5008 form B (mm)
_ADDRESS_LEFT, _ADDRESS_TOP, _ADDRESS_WIDTH = 20.0, 45.0, 85.0
_FOLDS = (105.0, 210.0)
_QR_SIZE = 38.0
_LINE = 4.6


@dataclass(frozen=True, slots=True)
class LetterRun:
    printed: int
    reissued: int
    ended: bool
    files: tuple[Path, ...] = ()


def _fonts(font: Path | None) -> tuple[Path, Path] | None:
    """(regular, monospaced) TrueType faces, or None for the core fonts."""
    if font is not None:
        if not font.is_file():
            raise InputError("no such font file", path=str(font))
        return font, font
    for folder in _SYSTEM_FONTS:
        sans, mono = folder / "DejaVuSans.ttf", folder / "DejaVuSansMono.ttf"
        if sans.is_file() and mono.is_file():
            return sans, mono
    return None


class _Letters:
    def __init__(self, fonts: tuple[Path, Path] | None, context: dict[str, str]) -> None:
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_auto_page_break(False)
        pdf.set_creator("tallyroom")
        self.unicode = fonts is not None
        if fonts is not None:
            pdf.add_font("body", "", str(fonts[0]))
            pdf.add_font("mono", "", str(fonts[1]))
            self.body, self.mono = "body", "mono"
        else:
            self.body, self.mono = "helvetica", "courier"
        self.pdf = pdf
        self.context = context
        self._wrapped: dict[str, list[str]] = {}

    def _text(self, text: str, who: str, field: str) -> str:
        if not self.unicode:
            try:
                text.encode("latin-1")
            except UnicodeEncodeError:
                raise InputError(
                    "this cannot be printed in the PDF core fonts: give a TrueType font "
                    "(--font) that has it",
                    field=field,
                    value=who,
                ) from None
        return text

    def page(self, item: QueueItem, credential: str, link: str, booth: str) -> None:
        pdf, c = self.pdf, self.context
        who = item.entry_key
        pdf.add_page()
        pdf.set_draw_color(160)
        for y in _FOLDS:  # fold marks in the left margin
            pdf.line(4, y, 9, y)
        pdf.set_font(self.body, size=13)
        pdf.set_xy(20, 15)
        pdf.cell(170, 7, self._text(c["organisation"] or c["election"], who, "organisation"))
        pdf.set_font(self.body, size=7)
        pdf.set_xy(_ADDRESS_LEFT, _ADDRESS_TOP + 1)
        returning = f"Returning officer, {c['organisation'] or c['election']}"
        pdf.cell(_ADDRESS_WIDTH, 3, self._text(returning, who, "organisation"))
        pdf.set_font(self.body, size=10)
        lines = [item.name or "", *address_lines(item.postal_address or "")]
        y = _ADDRESS_TOP + 8
        for line in [ln for ln in lines if ln][:7]:
            pdf.set_xy(_ADDRESS_LEFT, y)
            pdf.cell(_ADDRESS_WIDTH, _LINE, self._text(line, who, "address"))
            y += _LINE
        pdf.set_font(self.body, size=14)
        pdf.set_xy(20, 112)
        pdf.cell(170, 8, self._text(f"Your voting credential: {c['election']}", who, "election"))
        pdf.set_font(self.mono, size=20)
        pdf.set_xy(20, 124)
        pdf.cell(130, 12, credential)
        pdf.set_font(self.body, size=10.5)
        pdf.set_xy(20, 142)
        pdf.cell(120, 5.2, self._text(f"Dear {item.name or 'member'},", who, "name"))
        y = 142 + 2 * 5.2
        for line in self._instructions(booth):
            if line:
                pdf.set_xy(20, y)
                pdf.cell(120, 5.2, line)
            y += 5.2
        code = segno.make_qr(link, error="m", mask=0)
        png = io.BytesIO()
        code.save(png, kind="png", scale=1, border=0)
        png.seek(0)
        pdf.image(png, x=152, y=124, w=_QR_SIZE, h=_QR_SIZE)

    def _instructions(self, booth: str) -> list[str]:
        """The instructions, the same on every page: wrapped once (fpdf2's multi_cell wraps
        again on every call, most of a page's cost), "" between paragraphs."""
        if booth not in self._wrapped:
            c = self.context
            paragraphs = (
                f"To vote, go to {booth} and type in the credential above (hyphens and spaces "
                "are optional; capitals or small letters, either will do), or scan the code "
                "with a phone: it opens the booth with your credential filled in.",
                f"Voting closes {c['closes']}.",
                "Keep this letter to yourself: anyone with the credential can vote in your "
                "place. If you lose it, ask the returning officer for a new one.",
            )
            lines: list[str] = []
            for paragraph in paragraphs:
                lines += [*self._wrap(self._text(paragraph, "", "instructions"), 120), ""]
            self._wrapped[booth] = lines
        return self._wrapped[booth]

    def _wrap(self, text: str, width: float) -> list[str]:
        lines, current = [], ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if current and self.pdf.get_string_width(candidate) > width - 2:
                lines.append(current)
                current = word
            else:
                current = candidate
        return [*lines, current] if current else lines

    def output(self) -> bytes:
        return bytes(self.pdf.output())


@dataclass(frozen=True, slots=True)
class LetterVolume:
    """One volume of letters, rendered but not yet recorded as printed: the PDF's bytes,
    the voters it holds, the round their credentials belong to, and the reissues made."""

    pdf: bytes
    entries: tuple[int, ...]
    round: int
    reissued: int


@dataclass(slots=True)
class _Run:
    """What every volume of one run shares: the election, its key and round, the fonts."""

    election_id: int
    context: dict[str, str]
    key: CredentialKey
    secret: DeliverySecret
    number: int
    fonts: tuple[Path, Path] | None
    booth_url: str
    slug: str
    actor: str
    reissue_reason: str


def _start(
    store: Store,
    slug: str,
    key_path: str | Path,
    *,
    booth_url: str,
    actor: str,
    font: Path | None,
    reissue_reason: str,
) -> _Run:
    """Check the state, bind the key, open (or resume) the round and queue the post voters."""
    election_id, context = message_context(store, slug)
    key = load_or_create_key(key_path, create=False)
    fonts = _fonts(font)
    with store.begin() as conn:
        elections.require_state(
            conn, election_id, ElectionState.CREDENTIALS_ISSUED, ElectionState.OPEN,
            doing="print letters",
        )  # fmt: skip
        credentials.bind_key(conn, election_id, key)
        secret, number, started = open_or_resume(
            conn, election_id, Path(key_path), actor=actor, reissue_reason=reissue_reason
        )
        try:
            queue.enqueue(conn, election_id, CREDENTIALS, [ContactChannel.POST])
        except BaseException:
            if started:
                destroy_secret_file(secret_path(key_path))
            raise
    return _Run(election_id, context, key, secret, number, fonts, booth_url, slug, actor,
                reissue_reason)  # fmt: skip


def _volume(
    store: Store,
    run: _Run,
    after: int,
    size: int,
    progress: Callable[[int], None] | None,
    printed: int,
) -> tuple[LetterVolume | None, int]:
    """The next volume: up to ``size`` pending letters after entry ``after`` (fetched a
    volume at a time, so nothing grows with the number of letters), rendered; and the last
    entry it looked at (0 when none was left)."""
    with store.read() as conn:
        chunk = queue.due(
            conn, run.election_id, CREDENTIALS, [DeliveryState.PENDING],
            channel=ContactChannel.POST, after=after, limit=size,
        )  # fmt: skip
    if not chunk:
        return None, 0
    with store.begin() as conn:
        found, n = credentials_for(
            conn, run.election_id, run.key, run.secret, run.number, chunk,
            actor=run.actor, reason=run.reissue_reason,
        )  # fmt: skip
    letters = _Letters(run.fonts, run.context)
    booth = booth_link(run.booth_url, run.slug)
    done: list[int] = []
    for item in chunk:
        credential = found.pop(item.entry_id, None)
        if credential is None:
            continue
        letters.page(item, credential, booth_link(run.booth_url, run.slug, credential), booth)
        done.append(item.entry_id)
        if progress is not None and (printed + len(done)) % 100 == 0:
            progress(printed + len(done))
    last = chunk[-1].entry_id
    del chunk, found
    if not done:
        return LetterVolume(b"", (), run.number, n), last
    return LetterVolume(letters.output(), tuple(done), run.number, n), last


def _record(store: Store, election_id: int, actor: str, volume: LetterVolume) -> None:
    """The volume's letters recorded as printed (``sent``), with one audit event of counts."""
    with store.begin() as conn:
        queue.mark(
            conn,
            election_id,
            CREDENTIALS,
            ((e, DeliveryState.SENT, "printed") for e in volume.entries),
        )
        audit.append(
            conn,
            election_id,
            Action.DELIVERY_BATCH,
            actor=actor,
            payload={"campaign": CREDENTIALS, "round": volume.round,
                     "printed": len(volume.entries), "reissued": volume.reissued},
        )  # fmt: skip


def _finish(store: Store, slug: str, key_path: str | Path, actor: str) -> bool:
    """End delivery when every voter has been sent their credential; whether it ended."""
    with store.read() as conn:
        complete = is_complete(conn, get_election(store, slug).id)
    if complete:
        end_delivery(store, slug, key_path=key_path, actor=actor, reason="every voter was sent")
    return complete


def print_letters(
    store: Store,
    slug: str,
    *,
    key_path: str | Path,
    out: str | Path,
    booth_url: str,
    actor: str,
    font: Path | None = None,
    reissue_reason: str = "",
    per_file: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> LetterRun:
    """Write a letter for every voter by post not yet printed (see the module docstring).

    More than ``per_file`` letters are written as volumes of ``per_file`` pages each,
    ``letters-001.pdf``, ``letters-002.pdf``... beside ``out``: a PDF library holds a whole
    document until it writes it, so a volume bounds the memory (about 3 KB a page while it
    is built; the queue is read a volume at a time)."""
    final = Path(out)
    if per_file < 1:
        raise InputError("a volume has at least one page", field="per_file", value=per_file)
    run = _start(
        store, slug, key_path, booth_url=booth_url, actor=actor, font=font,
        reissue_reason=reissue_reason,
    )  # fmt: skip
    with store.read() as conn:
        due = queue.count_due(
            conn, run.election_id, CREDENTIALS, [DeliveryState.PENDING],
            channel=ContactChannel.POST,
        )  # fmt: skip
    volumes = (due + per_file - 1) // per_file
    names = (
        [final]
        if volumes <= 1
        else [final.with_name(f"{final.stem}-{k:03d}{final.suffix}") for k in range(1, volumes + 1)]
    )
    for name in names:
        if name.exists():
            raise InputError("the letters file already exists (not overwritten)", path=str(name))
    reissued = printed = 0
    written: list[Path] = []
    after = 0
    for name in names:
        volume, after = _volume(store, run, after, per_file, progress, printed)
        if volume is None:
            break
        reissued += volume.reissued
        if not volume.entries:
            continue
        partial = name.with_name(name.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(volume.pdf)
            partial.replace(name)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        written.append(name)
        # each volume recorded as printed once it is complete on disk
        _record(store, run.election_id, actor, volume)
        printed += len(volume.entries)
        del volume
    complete = _finish(store, slug, key_path, actor)
    if progress is not None:
        progress(printed)
    return LetterRun(printed, reissued, complete, tuple(written))


def letters_due(store: Store, slug: str) -> int:
    """How many voters by post have no letter printed yet (queued or not)."""
    record = get_election(store, slug)
    with store.read() as conn:
        channels = queue.channels_by_section(conn, record.id)
        printed = sum(
            n
            for _, ch, state, _, n in queue.state_counts(conn, record.id, CREDENTIALS)
            if ch is ContactChannel.POST and state is DeliveryState.SENT
        )
    post = sum(n for (_, channel), n in channels.items() if channel == "post")
    return max(0, post - printed)


def next_volume(
    store: Store,
    slug: str,
    *,
    key_path: str | Path,
    booth_url: str,
    actor: str,
    font: Path | None = None,
    reissue_reason: str = "",
    size: int = 2_000,
) -> LetterVolume | None:
    """The next volume of at most ``size`` letters as a PDF in memory, for a download; not
    yet recorded as printed: call :func:`record_volume` once it has been handed over (a
    download that breaks off leaves the letters pending, printed again with the same
    credentials). None when no letter is due."""
    if size < 1:
        raise InputError("a volume has at least one page", field="size", value=size)
    if letters_due(store, slug) == 0:
        return None  # (and no round is opened for nothing)
    run = _start(
        store, slug, key_path, booth_url=booth_url, actor=actor, font=font,
        reissue_reason=reissue_reason,
    )  # fmt: skip
    after = 0
    while True:
        volume, after = _volume(store, run, after, size, None, 0)
        if volume is None or volume.entries:
            return volume


def record_volume(
    store: Store, slug: str, volume: LetterVolume, *, key_path: str | Path, actor: str
) -> bool:
    """Record a downloaded volume's letters as printed; end delivery when every voter has
    been sent their credential (whether it ended)."""
    record = get_election(store, slug)
    with store.read() as conn:
        found = queue.round_open(conn, record.id)
    if found is None or found.number != volume.round:
        raise LifecycleError(
            "the delivery round these letters belong to has ended: print them again",
            election=slug,
        )
    _record(store, record.id, actor, volume)
    return _finish(store, slug, key_path, actor)
