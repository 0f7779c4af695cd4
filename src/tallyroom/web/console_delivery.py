"""The console's delivery page: credentials by email and by letter, reminders, result notices
and the delivery report by section.

Anyone signed in reads the page (the report is counts only: no address, no name, no
credential). Only the returning officer acts, by forms guarded like the console's others
(:data:`~tallyroom.web.guards.Officer` and the CSRF token):

* sending credentials, reminders or notices starts a background job
  (:mod:`tallyroom.web.jobs`) whose page follows the messages sent; the queue in the store
  makes every run resumable, and "retry the failed" sends only the refused. One delivery job
  runs per election at a time (a lock file under ``data_dir/jobs``, so across workers too);
* the letters (voters whose channel is post) come back as the next volume's PDF, rendered in
  memory and streamed to the officer's browser; they are recorded as printed only once the
  whole PDF has been handed over, so a download that breaks off prints the same letters
  again, with the same credentials. No copy is kept on the server;
* ending delivery destroys the delivery secret: the form asks for a confirmation.

The SMTP server, the sender and the public address come from the server's settings
(:class:`~tallyroom.web.settings.WebSettings`), the password from ``smtp_password_file`` or
the environment when a job starts: nobody types it into a page. What the services record in
the audit log is what the CLI records: counts, never an address or a credential.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from tallyroom.election.lifecycle import ElectionState
from tallyroom.errors import InputError, LifecycleError, StoreError, TallyroomError
from tallyroom.services import delivery, letters, reminders
from tallyroom.services.delivery_report import campaign_summary, delivery_report
from tallyroom.services.elections import definition_of, get_election
from tallyroom.services.smtp import PASSWORD_ENV, parse_smtp_url, read_password
from tallyroom.web.guards import Officer, User, Web, WebContext
from tallyroom.web.jobs import read_job, start_job
from tallyroom.web.pages import render
from tallyroom.web.security import check_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
log = logging.getLogger("tallyroom.web")
Text = Annotated[str, Form()]
Field = Annotated[str, Form()]
_FLASH = "flash"  # the console's message slot (console.py shows the same)
_CHUNK = 1 << 16
_RATE_MAX = 1_000.0
_LETTERS_STATES = (ElectionState.CREDENTIALS_ISSUED, ElectionState.OPEN)
_SENDING_STATES = (
    ElectionState.NOMINATIONS_CLOSED,
    ElectionState.CREDENTIALS_ISSUED,
    ElectionState.OPEN,
)


def _flash(request: Request, message: str, kind: str = "success") -> None:
    request.session[_FLASH] = {"message": message, "kind": kind}


def _page(slug: str) -> RedirectResponse:
    return RedirectResponse(f"/console/e/{slug}/delivery", status_code=303)


def _mail_view(web: WebContext) -> dict[str, Any]:
    """What the page says about the mail settings: the server (never the password), the
    sender, the public address, and what is missing, in words."""
    s = web.settings
    missing = []
    if not s.smtp:
        missing.append("no SMTP server (serve --smtp, or TALLYROOM_SMTP)")
    if not s.mail_from:
        missing.append("no sender (serve --mail-from)")
    if not s.public_url:
        missing.append("no public address for the links (serve --public-url)")
    view: dict[str, Any] = {"missing": missing, "sender": s.mail_from, "public": s.public_url}
    if s.smtp:
        try:
            server = parse_smtp_url(s.smtp, password="")
        except InputError as exc:
            missing.append(f"the SMTP setting is wrong: {exc.problem}")
        else:
            view["where"] = server.where()
            view["user"] = server.user
            view["tls"] = (
                "TLS from the first byte"
                if server.implicit_tls
                else {
                    "auto": "STARTTLS when the server offers it",
                    "require": "STARTTLS required",
                    "never": "no TLS",
                }[server.starttls.value]
            )
            view["password_from"] = (
                str(s.smtp_password_file) if s.smtp_password_file else PASSWORD_ENV
            )
    return view


def _mail(web: WebContext, rate: float) -> delivery.MailSettings:
    """The mail settings for a job, the password read now (file or environment)."""
    s = web.settings
    view = _mail_view(web)
    if view["missing"]:
        raise InputError(
            "the console cannot send mail: " + "; ".join(view["missing"]), field="mail settings"
        )
    server = parse_smtp_url(s.smtp, read_password(s.smtp_password_file))
    return delivery.MailSettings(
        server=server,
        sender=s.mail_from,
        booth_url=s.public_url,
        templates=s.mail_templates,
        rate=rate,
        connections=4,
        batch=200,
    )


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise InputError(
            "a rate is a number of messages a second", field="rate", value=text
        ) from None
    if not math.isfinite(rate) or not 0 <= rate <= _RATE_MAX:
        raise InputError(
            f"a rate is between 0 (as fast as the server takes) and {_RATE_MAX:,.0f} a second",
            field="rate",
            value=text,
        )
    return rate


class _Lock:
    """One delivery job per election at a time, across worker processes (``flock``)."""

    def __init__(self, data_dir: Path, slug: str) -> None:
        folder = data_dir / "jobs"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fd = os.open(folder / f"{slug}.delivery.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise LifecycleError(
                "a delivery job of this election is running: wait for it to finish, then try again",
                election=slug,
            ) from None

    def release(self) -> None:
        os.close(self.fd)  # closing the file releases the lock

    @classmethod
    def held(cls, data_dir: Path, slug: str) -> bool:
        """Whether a delivery job of the election holds the lock now."""
        try:
            cls(data_dir, slug).release()
        except LifecycleError:
            return True
        return False


def _start(
    web: WebContext,
    slug: str,
    kind: str,
    work: Callable[[Callable[[int], None]], dict[str, Any]],
) -> Response:
    lock = _Lock(web.settings.data_dir, slug)

    def locked(progress: Callable[[int], None]) -> dict[str, Any]:
        try:
            return work(progress)
        finally:
            lock.release()

    try:
        job = start_job(web.settings.data_dir, kind, slug, locked)
    except BaseException:
        lock.release()
        raise
    return RedirectResponse(f"/console/e/{slug}/delivery/jobs/{job}", status_code=303)


def _refused(request: Request, slug: str, exc: TallyroomError) -> Response:
    _flash(request, f"Nothing was started: {exc}", "error")
    return _page(slug)


# -- the page -------------------------------------------------------------------------------


@router.get("/console/e/{slug}/delivery", response_class=HTMLResponse)
def delivery_page(request: Request, slug: str, web: Web, user: User) -> HTMLResponse:
    record = get_election(web.store, slug)
    definition = definition_of(record)
    report = delivery_report(web.store, slug)
    failed = sum(sum(s.failed.values()) for s in report.sections)
    totals = {
        name: sum(getattr(s, name) for s in report.sections)
        for name in ("eligible", "sent", "pending", "not_queued", "letters_printed",
                     "letters_to_print", "no_contact", "reissues", "bounced", "deferred")
    }  # fmt: skip
    return render(
        request,
        "console_delivery.html",
        user=user,
        flash=request.session.pop(_FLASH, None),
        slug=slug,
        name=definition.name,
        state=record.state.value,
        sending=record.state in _SENDING_STATES,
        printing=record.state in _LETTERS_STATES,
        reminding=record.state is ElectionState.OPEN,
        declared=record.state is ElectionState.DECLARED,
        report=report,
        totals=totals,
        failed=failed,
        sections={s.name: s.label for s in definition.sections},
        campaigns=campaign_summary(web.store, slug),
        mail=_mail_view(web),
    )


@router.get("/console/e/{slug}/delivery/jobs/{job_id}", response_class=HTMLResponse)
def delivery_job(request: Request, slug: str, job_id: str, web: Web, user: User) -> HTMLResponse:
    job = read_job(web.settings.data_dir, slug, job_id)
    if job["state"] == "running" and not _Lock.held(web.settings.data_dir, slug):
        # the lock is let go just before the job's last write: look again after a moment
        time.sleep(1.0)
        job = read_job(web.settings.data_dir, slug, job_id)
        if job["state"] == "running":  # its process ended (a restart): the queue knows more
            job = {**job, "state": "failed", "problems": [
                "this job stopped without finishing (was the server restarted?)"]}  # fmt: skip
    return render(request, "console_delivery_job.html", user=user, slug=slug, job=job)


# -- email ------------------------------------------------------------------------------------


@router.post("/console/e/{slug}/delivery/send")
def send_credentials(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    rate: Field = "20",
    retry: Field = "",
    reissue_reason: Field = "",
) -> Response:
    check_csrf(request, csrf_token)
    store, key = web.store, web.settings.credential_key_file(slug)
    try:
        get_election(web.store, slug)
        mail = _mail(web, _rate(rate))

        def work(progress: Callable[[int], None]) -> dict[str, Any]:
            result = delivery.send_credentials(
                store, slug, key_path=key, mail=mail, actor=user.username,
                retry_failed=retry == "yes", reissue_reason=reissue_reason.strip(),
                progress=progress,
            )  # fmt: skip
            return {"sent": result.sent, "failed": result.failed, "reissued": result.reissued,
                    "pending": result.pending, "ended": result.ended}  # fmt: skip

        kind = "credentials (retry)" if retry == "yes" else "credentials"
        return _start(web, slug, kind, work)
    except (InputError, StoreError) as exc:
        return _refused(request, slug, exc)


@router.post("/console/e/{slug}/delivery/remind")
def send_reminders(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    rate: Field = "20",
    label: Field = "1",
    retry: Field = "",
) -> Response:
    check_csrf(request, csrf_token)
    store = web.store
    try:
        get_election(web.store, slug)
        mail = _mail(web, _rate(rate))
        label = label.strip() or "1"

        def work(progress: Callable[[int], None]) -> dict[str, Any]:
            result = reminders.send_reminders(
                store, slug, mail=mail, actor=user.username, label=label,
                retry_failed=retry == "yes", progress=progress,
            )  # fmt: skip
            return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}

        return _start(web, slug, f"reminder-{label}", work)
    except (InputError, StoreError) as exc:
        return _refused(request, slug, exc)


@router.post("/console/e/{slug}/delivery/notify")
def send_notices(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    rate: Field = "20",
    retry: Field = "",
) -> Response:
    check_csrf(request, csrf_token)
    store = web.store
    try:
        record = get_election(web.store, slug)
        if record.state is not ElectionState.DECLARED:
            raise LifecycleError("result notices go out once the result is declared", election=slug)
        mail = _mail(web, _rate(rate))
        results = f"{web.settings.public_url.rstrip('/')}/e/{slug}/results"

        def work(progress: Callable[[int], None]) -> dict[str, Any]:
            result = reminders.send_notices(
                store, slug, mail=mail, results_url=results, actor=user.username,
                retry_failed=retry == "yes", progress=progress,
            )  # fmt: skip
            return {"sent": result.sent, "failed": result.failed}

        return _start(web, slug, "notice", work)
    except (InputError, StoreError) as exc:
        return _refused(request, slug, exc)


# -- letters ----------------------------------------------------------------------------------


@router.post("/console/e/{slug}/delivery/letters")
def download_letters(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    reissue_reason: Field = "",
) -> Response:
    check_csrf(request, csrf_token)
    store, key = web.store, web.settings.credential_key_file(slug)
    if not web.settings.public_url:
        _flash(request, "No letters: the server has no public address for them "
               "(serve --public-url).", "error")  # fmt: skip
        return _page(slug)
    try:
        lock = _Lock(web.settings.data_dir, slug)
        try:
            volume = letters.next_volume(
                store, slug, key_path=key, booth_url=web.settings.public_url,
                actor=user.username, reissue_reason=reissue_reason.strip(),
            )  # fmt: skip
        finally:
            lock.release()
    except (InputError, StoreError) as exc:
        _flash(request, f"No letters were printed: {exc}", "error")
        return _page(slug)
    if volume is None:
        _flash(request, "No letter is due: every voter by post has had theirs printed.")
        return _page(slug)
    pdf, count = volume.pdf, len(volume.entries)

    def stream() -> Iterator[bytes]:
        for start in range(0, len(pdf), _CHUNK):
            yield pdf[start : start + _CHUNK]
        # reached only once every byte has been handed over: then they count as printed
        try:
            letters.record_volume(store, slug, volume, key_path=key, actor=user.username)
        except TallyroomError as exc:  # they stay due, and are printed again
            log.warning("letters of %s not recorded as printed: %s", slug, exc)

    name = f"{slug}-letters-{count}.pdf"
    return StreamingResponse(
        stream(),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(len(pdf)),
        },
    )


# -- ending delivery --------------------------------------------------------------------------


@router.post("/console/e/{slug}/delivery/end")
def end_delivery(
    request: Request,
    slug: str,
    web: Web,
    user: Officer,
    csrf_token: Text,
    confirm: Field = "",
    reason: Field = "",
) -> Response:
    check_csrf(request, csrf_token)
    if confirm != "yes":
        _flash(request, "Delivery was not ended: tick the box to confirm that the delivery "
               "secret is to be destroyed.", "error")  # fmt: skip
        return _page(slug)
    try:
        number = delivery.end_delivery(
            web.store, slug, key_path=web.settings.credential_key_file(slug),
            actor=user.username, reason=reason.strip(),
        )  # fmt: skip
    except (InputError, StoreError) as exc:
        _flash(request, f"Delivery was not ended: {exc}", "error")
        return _page(slug)
    _flash(request, f"Delivery round {number} ended; its secret is destroyed. A credential "
           "sent from now on is a reissue.")  # fmt: skip
    return _page(slug)
