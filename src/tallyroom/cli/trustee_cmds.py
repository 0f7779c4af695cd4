"""``tallyroom trustee keygen | deal | open | reveal | drill``: a trustee's part of the key
ceremony, on the trustee's own machine, with files only (never the database).

The trustee reads the ceremony's public files that the officer exports (``--public DIR``,
services/ceremony_files.py), keeps its secrets in one passphrase-protected file
(``--secret-file``, crypto/passphrase.py: Argon2id + secretbox, mode 0600) and writes the
messages it publishes to ``--out DIR`` for the officer to add (``tallyroom ceremony add``),
each signed with the Ed25519 key made by ``keygen`` (crypto/trustee_signing.py). ``open``,
once every share checks, also writes the trustee's signed confirmation of the election key
(``confirmation-I.json``), without which the officer cannot finish the ceremony.
The passphrase is never an argument: ``--passphrase-file`` (its first line), else the
``TALLYROOM_TRUSTEE_PASSPHRASE`` environment variable, else a prompt. docs/trustees.md is the
trustee's guide.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tallyroom.cli.common import EXISTING, FILE, YES, confirm, one_line_errors

if TYPE_CHECKING:
    from tallyroom.crypto.ceremony_messages import KeyConfirmation, TrusteeSecrets
    from tallyroom.services.ceremony_files import PublicState

__all__ = ["PASSPHRASE_ENV", "trustee"]

PASSPHRASE_ENV = "TALLYROOM_TRUSTEE_PASSPHRASE"


F = TypeVar("F", bound=Callable[..., Any])


def _options(*, public: bool = True, secret_exists: bool = True) -> Callable[[F], F]:
    """The trustee's options: ``--public`` (unless told not to), ``--secret-file``,
    ``--passphrase-file``, ``--out``; errors as one line."""

    def decorate(func: F) -> F:
        wrapped: Any = func
        options = [
            click.option(
                "--secret-file",
                type=EXISTING if secret_exists else FILE,
                required=True,
                help="Your trustee's file (secret: keep it, and its passphrase, to yourself).",
            ),
            click.option(
                "--passphrase-file",
                type=EXISTING,
                help=f"A file whose first line is the passphrase (else {PASSPHRASE_ENV}, else"
                " a prompt).",
            ),
            click.option(
                "--out",
                type=click.Path(file_okay=False, path_type=Path),
                required=True,
                help="Folder for the files you send to the officer (created if need be).",
            ),
        ]
        if public:
            options.insert(
                0,
                click.option(
                    "--public",
                    type=click.Path(file_okay=False, exists=True, path_type=Path),
                    required=True,
                    help="The ceremony's public files, as the officer exported them.",
                ),
            )
        for option in reversed(options):
            wrapped = option(wrapped)
        return one_line_errors(wrapped)  # type: ignore[no-any-return]

    return decorate


def _passphrase(passphrase_file: Path | None, *, new: bool = False) -> str:
    from tallyroom.errors import InputError

    if passphrase_file is not None:
        try:
            lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot read the passphrase ({type(exc).__name__})"
            raise InputError(problem, path=str(passphrase_file)) from None
        if not lines or not lines[0]:
            raise InputError("the first line is empty", path=str(passphrase_file))
        return lines[0]
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    text: str = click.prompt(
        "Passphrase of your trustee's file",
        hide_input=True,
        confirmation_prompt=new,
        err=True,
    )
    return text


def _load(secret_file: Path, passphrase_file: Path | None) -> tuple[TrusteeSecrets, str]:
    from tallyroom.crypto.dkg import load_secrets

    passphrase = _passphrase(passphrase_file)
    return load_secrets(secret_file, passphrase), passphrase


def _write(out: Path, name: str, data: bytes) -> Path:
    from tallyroom.errors import InputError

    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / name
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write it ({exc.strerror})", path=str(out / name)) from None
    click.echo(f"wrote {path}")
    return path


def _state(public: Path, secrets: TrusteeSecrets) -> PublicState:
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony_files import read_folder

    state = read_folder(public)
    if secrets.election != state.ceremony.election:
        raise InputError(
            f"your file is for election {secrets.election!r}, these files for"
            f" {state.ceremony.election!r}",
            path=str(public),
        )
    return state


def _who(state: PublicState, number: int) -> str:
    return f"trustee {number} ({state.public.names[number - 1]})"


@click.group()
def trustee() -> None:
    """A trustee's part of the key ceremony, with files only (docs/trustees.md)."""


@trustee.command("keygen")
@click.option(
    "--ceremony",
    "ceremony_file",
    type=EXISTING,
    required=True,
    help="ceremony.json from the officer's export.",
)
@click.option("--trustee", "number", type=int, required=True, help="Your number (from 1).")
@_options(public=False, secret_exists=False)
def keygen(
    ceremony_file: Path, number: int, secret_file: Path, passphrase_file: Path | None, out: Path
) -> None:
    """Step 1: make your trustee's file and your public communication and signing keys."""
    from tallyroom.crypto import dkg
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony_files import PublicCeremony, file_name

    public = PublicCeremony.read(ceremony_file)
    public.ceremony.check_trustee(number)
    if secret_file.exists():
        raise InputError("a trustee's file is never overwritten", path=str(secret_file))
    passphrase = _passphrase(passphrase_file, new=True)
    secrets, key = dkg.make_communication_key(public.ceremony, number)
    dkg.save_secrets(secret_file, secrets, passphrase)
    click.echo(f"wrote {secret_file} (secret: keep it and its passphrase)")
    _write(out, file_name("communication-key", number), key.to_json())
    click.echo(
        f"you are trustee {number} ({public.names[number - 1]}) of {public.ceremony.election};"
        f" your fingerprint is {key.fingerprint()}: read it to the other trustees"
    )


@trustee.command("deal")
@YES
@_options()
def deal(
    public: Path, secret_file: Path, passphrase_file: Path | None, out: Path, yes: bool
) -> None:
    """Step 2: your commitments and one sealed share for each other trustee."""
    from tallyroom.crypto import dkg
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony_files import file_name

    secrets, passphrase = _load(secret_file, passphrase_file)
    state = _state(public, secrets)
    if secrets.polynomial or secrets.share is not None:
        raise InputError(
            "you have already dealt: send the files you wrote then", path=str(secret_file)
        )
    for key in sorted(state.keys, key=lambda k: k.trustee):
        click.echo(f"  {_who(state, key.trustee)}: {key.fingerprint()}")
    confirm(
        yes,
        "Has every trustee confirmed, out of band, the fingerprint shown for them above?",
    )
    secrets, commitments, shares = dkg.deal(state.ceremony, secrets, state.keys)
    dkg.save_secrets(secret_file, secrets, passphrase)  # before anything is published
    _write(out, file_name("commitments", commitments.trustee), commitments.to_json())
    for share in shares:
        _write(out, file_name("sealed-share", share.dealer, share.recipient), share.to_json())


@trustee.command("open")
@_options()
def open_(public: Path, secret_file: Path, passphrase_file: Path | None, out: Path) -> None:
    """Step 3: check the shares sealed to you; a complaint for each bad one, else your share
    is stored in your file and your signed confirmation of the election key is written."""
    from tallyroom.crypto import dkg
    from tallyroom.errors import InputError, ProofRejected
    from tallyroom.services.ceremony_files import file_name

    secrets, passphrase = _load(secret_file, passphrase_file)
    state = _state(public, secrets)
    me = secrets.trustee
    c = state.ceremony
    # every message is checked against the keys whose fingerprints were compared: the server
    # cannot pass off commitments or shares of its own as a trustee's
    mine = [s for s in state.sealed if s.recipient == me]
    dkg.check_signatures(c, state.keys, [*state.commitments, *mine, *state.revealed])
    if secrets.share is not None:
        click.echo(f"your share is already stored in {secret_file}")
        _confirm(out, dkg.confirm_key(c, secrets, state.commitments))
        return
    if not secrets.polynomial:
        raise InputError("deal first (tallyroom trustee deal)", path=str(secret_file))
    good, complaints = dkg.open_shares(c, secrets, state.commitments, state.sealed)
    answers = {(r.dealer, r.recipient): r for r in state.revealed}
    dealt = {x.trustee: x for x in state.commitments}
    standing = []
    for complaint in complaints:
        answer = answers.get((complaint.dealer, me))
        if answer is None:
            standing.append(complaint)
            continue
        try:
            dkg.check_revealed_share(c, dealt[complaint.dealer], answer)
        except ProofRejected:
            raise InputError(
                f"{_who(state, complaint.dealer)} revealed a share that does not match its"
                " commitments: it is to be excluded; tell the officer",
                path=str(public / file_name("revealed-share", complaint.dealer, me)),
            ) from None
        good[complaint.dealer] = answer.share
        click.echo(f"{_who(state, complaint.dealer)}'s revealed share settles your complaint")
    if standing:
        for complaint in standing:
            click.echo(f"{_who(state, complaint.dealer)}: {complaint.reason}", err=True)
            _write(out, file_name("complaint", complaint.dealer, me), complaint.to_json())
        click.echo(
            "send the complaint file(s) to the officer; once the dealer has answered"
            " (tallyroom trustee reveal), run `tallyroom trustee open` again",
            err=True,
        )
        sys.exit(1)
    finished = dkg.finish(c, secrets, good)
    # the polynomial is kept until the drill: a complaint about this trustee's shares may
    # still come, and only the polynomial answers it (tallyroom trustee reveal)
    dkg.save_secrets(secret_file, replace(finished, polynomial=secrets.polynomial), passphrase)
    key = dkg.verification_key(c, state.commitments, me)
    click.echo(
        f"every share checked: your secret share is stored in {secret_file}; your verification"
        f" key is {bytes(key).hex()} (it is in election-key.json once the officer finishes)"
    )
    _confirm(out, dkg.confirm_key(c, secrets, state.commitments))


def _confirm(out: Path, confirmation: KeyConfirmation) -> None:
    from tallyroom.services.ceremony_files import file_name

    _write(out, file_name("confirmation", confirmation.trustee), confirmation.to_json())
    click.echo(
        "send the confirmation file to the officer: it confirms the election key (SHA-256"
        f" {confirmation.election_key_sha256.hex()}) that you computed from the commitments"
    )


@trustee.command("reveal")
@_options()
def reveal(public: Path, secret_file: Path, passphrase_file: Path | None, out: Path) -> None:
    """Answer each complaint about your shares by revealing that share publicly."""
    from tallyroom.crypto import dkg
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony_files import file_name

    secrets, _ = _load(secret_file, passphrase_file)
    state = _state(public, secrets)
    me = secrets.trustee
    against = [x for x in state.complaints if x.dealer == me]
    if not against:
        click.echo("no complaint about your shares: nothing to reveal")
        return
    if not secrets.polynomial:
        raise InputError(
            "your file no longer holds your polynomial: the share cannot be revealed",
            path=str(secret_file),
        )
    dealt = {x.trustee: x for x in state.commitments}
    for complaint in against:
        click.echo(f"{_who(state, complaint.recipient)} complains: {complaint.reason}")
        answer = dkg.reveal_share(state.ceremony, secrets, complaint)
        dkg.check_revealed_share(state.ceremony, dealt[me], answer)
        _write(out, file_name("revealed-share", me, complaint.recipient), answer.to_json())


@trustee.command("drill")
@_options()
def drill(public: Path, secret_file: Path, passphrase_file: Path | None, out: Path) -> None:
    """The key drill: your decryption share of the drill's test ciphertext."""
    from tallyroom.crypto import dkg, group, threshold
    from tallyroom.crypto.ceremony_messages import signed
    from tallyroom.crypto.drill_messages import DrillShare
    from tallyroom.errors import InputError
    from tallyroom.services.ceremony_files import ELECTION_KEY_FILE, file_name

    secrets, passphrase = _load(secret_file, passphrase_file)
    state = _state(public, secrets)
    me = secrets.trustee
    key, challenge = state.election_key, state.challenge
    if key is None or challenge is None:
        raise InputError(
            "no election key or no drill challenge among these files: the officer runs"
            " `tallyroom ceremony finish` and `drill-start`, then exports",
            path=str(public),
        )
    if secrets.share is None:
        raise InputError("your share is not stored yet: run `tallyroom trustee open`")
    if group.exp_base(secrets.share) != key.verification_key(me):
        raise InputError(
            "your share does not match your verification key in the published election key",
            path=str(public / ELECTION_KEY_FILE),
        )
    share = threshold.partial_decrypt(
        key.election, me, secrets.share, key.verification_key(me), challenge.ciphertext
    )
    if secrets.polynomial:  # the key is set: no complaint can come any more
        dkg.save_secrets(secret_file, replace(secrets, polynomial=()), passphrase)
    answer = signed(DrillShare(key.election, share), secrets.signing_seed)
    _write(out, file_name("drill-share", me), answer.to_json())
