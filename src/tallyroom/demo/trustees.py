"""The demo's trustees: each trustee's steps of the key ceremony and of the tally, run in one
process with the functions the trustee commands use on their own machines.

In a real election each trustee runs ``tallyroom trustee ...`` and ``tallyroom tally mix |
decrypt`` on their own machine and hands files to the returning officer
(docs/trustees.md); here every trustee's secret file lives in the demo's folder, sealed under
the demo's passphrase, and the officer's side goes through the same services
(services/ceremony.py ``add_messages``, services/tally_files.py ``add_parts``), so every
message and every part is checked exactly as a trustee's file would be.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tallyroom.crypto import dkg, threshold
from tallyroom.crypto.ceremony_messages import (
    CommunicationKey,
    SealedShare,
    TrusteeSecrets,
    signed,
)
from tallyroom.crypto.drill_messages import DrillShare
from tallyroom.errors import InputError
from tallyroom.services import ceremony, tally_files
from tallyroom.services.ceremony_files import file_name
from tallyroom.services.elections import get_election
from tallyroom.store.engine import Store

__all__ = ["DemoTrustees", "run_ceremony", "run_tally"]

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class DemoTrustees:
    """Where each trustee's secret file is (trustee number -> path) and its passphrase."""

    slug: str
    names: tuple[str, ...]
    files: dict[int, Path]
    passphrase: str


def run_ceremony(
    store: Store,
    slug: str,
    folder: Path | None,
    *,
    passphrase: str,
    actor: str,
    drill: Sequence[int] | None = None,
) -> DemoTrustees:
    """Every trustee's key generation, deal, check of its shares and confirmation of the
    election key (every message signed, and checked by the officer's side); the officer finishes
    the ceremony, then the key drill with the trustees ``drill`` (default: the threshold's
    lowest numbers). Each trustee's final file is written to ``folder`` (sealed under
    ``passphrase``); with ``folder`` None the secrets are dropped at the end (a test that
    needs a ready election, not its trustees)."""
    public = ceremony.public_ceremony(get_election(store, slug))
    c = public.ceremony
    numbers = range(1, c.trustees + 1)
    made = [dkg.make_communication_key(c, i) for i in numbers]
    keys: list[CommunicationKey] = [k for _, k in made]
    held: dict[int, TrusteeSecrets] = {s.trustee: s for s, _ in made}
    ceremony.add_messages(
        store,
        slug,
        [(file_name("communication-key", k.trustee), k.to_json()) for k in keys],
        actor=actor,
    )
    dealt = []
    sealed: list[SealedShare] = []
    for i in numbers:
        held[i], commitments, shares = dkg.deal(c, held[i], keys)
        dealt.append(commitments)
        sealed += shares
        messages = [(file_name("commitments", i), commitments.to_json())]
        messages += [
            (file_name("sealed-share", s.dealer, s.recipient), s.to_json()) for s in shares
        ]
        ceremony.add_messages(store, slug, messages, actor=actor)
    confirmations = []
    for i in numbers:
        good, complaints = dkg.open_shares(c, held[i], dealt, sealed)
        if complaints:
            raise InputError(f"trustee {i} complains: {complaints[0].reason}")
        held[i] = replace(dkg.finish(c, held[i], good), polynomial=())
        confirmation = dkg.confirm_key(c, held[i], dealt)
        confirmations.append((file_name("confirmation", i), confirmation.to_json()))
    ceremony.add_messages(store, slug, confirmations, actor=actor)
    election_key = ceremony.finish(store, slug, actor=actor)
    challenge = ceremony.start_drill(store, slug, actor=actor)
    drilling = list(drill) if drill is not None else list(range(1, c.threshold + 1))
    messages = []
    for i in drilling:
        share = held[i].share
        assert share is not None
        part = threshold.partial_decrypt(
            slug, i, share, election_key.verification_key(i), challenge.ciphertext
        )
        answer = signed(DrillShare(slug, part), held[i].signing_seed)
        messages.append((file_name("drill-share", i), answer.to_json()))
    ceremony.add_messages(store, slug, messages, actor=actor)
    ceremony.finish_drill(store, slug, actor=actor)
    files: dict[int, Path] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for i in numbers:
            files[i] = folder / f"trustee-{i}.secret"
            dkg.save_secrets(files[i], held[i], passphrase)
    return DemoTrustees(slug, public.names, files, passphrase)


def run_tally(
    store: Store,
    trustees: DemoTrustees,
    folder: Path,
    *,
    mixers: Sequence[int],
    decrypting: Sequence[int],
    actor: str,
    workers: int = 2,
    say: Say = _quiet,
) -> None:
    """The closed board through each mixer in turn, then decrypted by the trustees
    ``decrypting``, each step exported, done as the trustee would, and added (checked)."""
    slug = trustees.slug
    for position, mixer in enumerate(mixers, start=1):
        inputs = folder / f"step-{position}"
        tally_files.export_inputs(store, slug, inputs)
        out = folder / f"mix-{position}"
        say(f"mixer {position} ({trustees.names[mixer - 1]}) shuffles the board")
        tally_files.mix_inputs(inputs, position, out, workers=workers)
        tally_files.add_parts(store, slug, out, actor=actor, workers=workers)
    inputs = folder / "to-decrypt"
    tally_files.export_inputs(store, slug, inputs)
    for trustee in decrypting:
        out = folder / f"decryption-{trustee}"
        say(f"trustee {trustee} ({trustees.names[trustee - 1]}) decrypts")
        tally_files.decrypt_inputs(
            inputs, trustees.files[trustee], trustees.passphrase, out, workers=workers
        )
        tally_files.add_parts(store, slug, out, actor=actor, workers=workers)
