"""The public ballot board on the web: its pages, a receipt's entry, the whole board as a file.

* ``/e/{slug}/board``: the board's head (position and hash, the one the audit log records)
  and how to check it, then the board a page at a time (``?after=N``: from position N + 1;
  positions in order, so the newest batch is last); ``?receipt=HEX`` answers alone with the
  receipt's entry (the booth's receipt page links a voter straight there);
* ``/e/{slug}/board.jsonl``: the whole board as JSON Lines
  (:func:`tallyroom.services.board.export_board`), streamed;
* ``GET /api/elections/{slug}/board``: the head and a page of entries as JSON, or with
  ``?receipt=`` the receipt's entry.

Only a verifiable election (``[verifiable]`` in its definition) publishes its board: for any
other election these answer 404 (a sealed-path election's ballots are sealed boxes, and its
voters check their receipts in the public list of receipts).

A receipt that is not 64 hexadecimal digits (dashes and spaces allowed) is a 400 naming at
most its first 80 characters; one not on the board (yet) a 404: the board is extended every
few seconds while the poll is open (``serve --board-every``), and at the close.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from tallyroom.audit.board import BoardHead
from tallyroom.errors import InputError, NotFound
from tallyroom.services import board
from tallyroom.services.elections import definition_of, get_election
from tallyroom.store.board import BoardRow
from tallyroom.web.guards import MaybeUser, Web, WebContext
from tallyroom.web.pages import render

__all__ = ["api_router", "router"]

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])

#: The most entries one API page returns.
API_LIMIT = 5_000


def _verifiable(web: WebContext, slug: str) -> str:
    """The election's name, or :class:`NotFound` unless it is verifiable."""
    definition = definition_of(get_election(web.store, slug))
    if definition.verifiable is None:
        raise NotFound("this election has no public ballot board", election=slug)
    return definition.name


def _head_json(head: BoardHead) -> dict[str, Any]:
    return {"position": head.position, "hash": head.hash.hex()}


def _entry_view(row: BoardRow) -> dict[str, Any]:
    position, entry, receipt, link = row
    text = receipt.hex()
    return {
        "position": position,
        "contest": entry.contest,
        "receipt": text,
        "code": "-".join(text[i : i + 4] for i in range(0, len(text), 4)),
        "link": link.hex(),
    }


@router.get("/e/{slug}/board", response_class=HTMLResponse)
def board_page(
    request: Request,
    slug: str,
    web: Web,
    user: MaybeUser,
    receipt: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The head and a page of the board, or (``?receipt=``) one receipt's entry."""
    name = _verifiable(web, slug)
    head = board.board_head(web.store, slug)
    found: dict[str, Any] | None = None
    problem: str | None = None
    status = 200
    rows: list[BoardRow] = []
    if receipt is not None:
        try:
            row = board.find_on_board(web.store, slug, board.parse_receipt(receipt))
        except InputError as exc:
            problem, status = str(exc), 400
        else:
            if row is None:
                status = 404
            else:
                found = _entry_view(row)
    else:
        rows = board.board_page(web.store, slug, after=after)
    last = rows[-1][0] if rows else after
    return render(
        request,
        "board.html",
        status_code=status,
        user=user,
        slug=slug,
        name=name,
        head=head,
        receipt=None if receipt is None else receipt[: board.RECEIPT_TEXT_MAX],  # never huge
        found=found,
        problem=problem,
        entries=[_entry_view(r) for r in rows],
        after=after,
        next_after=last if last < head.position else None,
    )


@router.get("/e/{slug}/board.jsonl")
def board_download(slug: str, web: Web) -> StreamingResponse:
    """The whole board as JSON Lines, streamed from one snapshot."""
    _verifiable(web, slug)  # NotFound before the stream starts
    return StreamingResponse(
        iterate_in_threadpool(board.export_board(web.store, slug)),
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-board.jsonl"'},
    )


@api_router.get("/elections/{slug}/board")
def board_api(
    slug: str,
    web: Web,
    receipt: Annotated[
        str | None, Query(description="A receipt (64 hex digits): its entry alone.")
    ] = None,
    after: Annotated[int, Query(ge=0, description="The last position of the page before.")] = 0,
    limit: Annotated[int, Query(ge=1, le=API_LIMIT)] = board.PAGE_SIZE,
) -> JSONResponse:
    """The board's head and a page of its entries (``next``: the following page's URL), or
    with ``receipt`` that receipt's entry (404 when it is not on the board yet)."""
    _verifiable(web, slug)
    head = board.board_head(web.store, slug)
    if receipt is not None:
        try:
            digest = board.parse_receipt(receipt)
        except InputError as exc:
            return JSONResponse({"error": "InputError", "message": str(exc)}, status_code=400)
        row = board.find_on_board(web.store, slug, digest)
        body: dict[str, Any] = {
            "receipt": digest.hex(),
            "found": row is not None,
            "entry": None if row is None else board.row_json(row),
            "head": _head_json(head),
        }
        return JSONResponse(body, status_code=200 if row is not None else 404)
    rows = board.board_page(web.store, slug, after=after, limit=limit)
    following = None
    if rows and rows[-1][0] < head.position:
        following = f"/api/elections/{slug}/board?after={rows[-1][0]}&limit={limit}"
    return JSONResponse(
        {
            "head": _head_json(head),
            "entries": [board.row_json(r) for r in rows],
            "next": following,
        }
    )
