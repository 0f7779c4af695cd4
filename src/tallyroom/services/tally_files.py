"""The tally's files between the server and the trustees' machines.

The returning officer exports what the next step of the tally needs (:func:`export_inputs`);
a mixer shuffles it on their own machine (:func:`mix_inputs`) or a trustee decrypts it with
their secret file (:func:`decrypt_inputs`), each writing a folder of *parts*; the officer adds
the parts (:func:`add_parts`: each checked by services/tally.py before it is stored). Nothing
secret travels: the inputs are public rows, the parts public stages and shares with proofs.

An **inputs** folder::

    tally-inputs.json   {"kind": "tally-inputs", "version": 1, "election": slug,
                         "public_key": hex, "step": "mix" | "decrypt",
                         "groups": [{"contest", "section", "width", "rows", "mixed",
                                     "context", "file", "sha256"[, "weight"][, "unit"]},
                                    ...]}
    group-<k>.rows      the group's rows: rows x width ciphertexts of 64 bytes
                        (crypto/tally_encoding.py rows_bytes)

``mixed`` is how many mixers have published for the group (the next mixer is ``mixed + 1``);
``step`` is ``decrypt`` once every group is mixed by every mixer. A group of weighted
ballots names its ``weight`` and a group of a contest counted by unit its ``unit`` (the group
key, services/tally.py); a group without either has no such key. A **parts** folder::

    tally-parts.json    {"kind": "tally-parts", "version": 1, "election": slug,
                         "part": "mix" | "decryption", "number": mixer position or trustee,
                         "groups": [{"contest", "section", "file", "sha256"
                                     [, "weight"][, "unit"]}, ...]}
    group-<k>.mix-<j> / group-<k>.dec-<t>   crypto/tally_encoding.py's bytes

Every file named in a manifest must be there with the SHA-256 given; a folder that is not so
is refused naming the file, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tallyroom.crypto import group
from tallyroom.crypto.dkg import load_secrets
from tallyroom.crypto.mixnet import MixStage
from tallyroom.crypto.shuffle import gen_shuffle, gen_shuffle_proof
from tallyroom.crypto.tally_encoding import (
    rows_bytes,
    rows_from_bytes,
    shares_bytes,
    stage_bytes,
)
from tallyroom.crypto.threshold import partial_decrypt_many
from tallyroom.errors import InputError
from tallyroom.services import tally
from tallyroom.services.elections import get_election
from tallyroom.store.engine import Store
from tallyroom.verify.record_format import GroupKey

__all__ = [
    "INPUTS",
    "PARTS",
    "AddedParts",
    "add_parts",
    "decrypt_inputs",
    "export_inputs",
    "mix_inputs",
]

INPUTS = "tally-inputs.json"
PARTS = "tally-parts.json"
_VERSION = 1

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _read_json(path: Path, kind: str) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no {path.name} here: not a tally folder", path=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not readable JSON: {exc}", path=str(path)) from None
    if not isinstance(doc, dict) or doc.get("kind") != kind or doc.get("version") != _VERSION:
        raise InputError(f"not a {kind} manifest (version {_VERSION})", path=str(path))
    groups = doc.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise InputError("groups: must be a list of objects", path=str(path), field="groups")
    return doc


def _file(folder: Path, entry: dict[str, Any], manifest: str) -> bytes:
    """A manifest entry's file, checked against its SHA-256."""
    name = entry.get("file")
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise InputError("a file name in the folder", path=manifest, field="file", value=name)
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise InputError("its SHA-256 is not the one its manifest gives", path=str(path))
    return data


def _text(entry: dict[str, Any], key: str, manifest: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise InputError("must be text", path=manifest, field=key, value=value)
    return value


def _number(entry: dict[str, Any], key: str, manifest: str) -> int:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError("must be a whole number", path=manifest, field=key, value=value)
    return value


def _key_fields(weight: str | None, unit: str | None) -> dict[str, str]:
    """A group's weight and unit as manifest keys (only those it has)."""
    return {k: v for k, v in (("weight", weight), ("unit", unit)) if v is not None}


def export_inputs(store: Store, slug: str, folder: Path) -> str:
    """Write what the tally's next step needs into ``folder``; the step (mix or decrypt).
    The board is read once (services/tally.py :func:`~tallyroom.services.tally.next_rows`)."""
    record = get_election(store, slug)
    nexts = tally.next_rows(store, slug)
    step = "decrypt" if all(n.mixed == n.mixers for n in nexts) else "mix"
    folder.mkdir(parents=True, exist_ok=True)
    groups = []
    public_key = ""
    for k, n in enumerate(nexts, start=1):
        g = n.group
        data = rows_bytes(n.rows)
        name = f"group-{k}.rows"
        (folder / name).write_bytes(data)
        groups.append(
            {
                "contest": g.contest,
                "section": g.section,
                **_key_fields(g.weight, g.unit),
                "width": g.width,
                "rows": len(n.rows),
                "mixed": n.mixed,
                "context": n.context,
                "file": name,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    if record.election_key is not None:
        public_key = json.loads(record.election_key)["public_key"]
    _write_json(
        folder / INPUTS,
        {
            "kind": "tally-inputs",
            "version": _VERSION,
            "election": slug,
            "public_key": public_key,
            "step": step,
            "groups": groups,
        },
    )
    return step


def _optional_text(entry: dict[str, Any], key: str, manifest: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError("must be text when given", path=manifest, field=key, value=value)
    return value


@dataclass(frozen=True, slots=True)
class _Input:
    contest: str
    section: str
    width: int
    mixed: int
    context: str
    rows: tuple[tuple[Any, ...], ...]
    weight: str | None = None
    unit: str | None = None

    @property
    def name(self) -> str:
        return GroupKey(self.contest, self.section or None, self.weight, self.unit).name


def _inputs(folder: Path) -> tuple[dict[str, Any], list[_Input]]:
    path = folder / INPUTS
    doc = _read_json(path, "tally-inputs")
    out = []
    for entry in doc["groups"]:
        n = _number(entry, "rows", str(path))
        w = _number(entry, "width", str(path))
        data = _file(folder, entry, str(path))
        rows = rows_from_bytes(data, n, w, what=str(folder / str(entry["file"])))
        out.append(
            _Input(
                _text(entry, "contest", str(path)),
                _text(entry, "section", str(path)),
                w,
                _number(entry, "mixed", str(path)),
                _text(entry, "context", str(path)),
                rows,
                _optional_text(entry, "weight", str(path)),
                _optional_text(entry, "unit", str(path)),
            )
        )
    return doc, out


def _write_parts(
    out: Path, election: str, part: str, number: int, files: list[tuple[_Input, str, bytes]]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    groups = []
    for item, name, data in files:
        (out / name).write_bytes(data)
        groups.append(
            {
                "contest": item.contest,
                "section": item.section,
                **_key_fields(item.weight, item.unit),
                "file": name,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    doc = {
        "kind": "tally-parts",
        "version": _VERSION,
        "election": election,
        "part": part,
        "number": number,
        "groups": groups,
    }
    _write_json(out / PARTS, doc)


def mix_inputs(
    folder: Path, position: int, out: Path, *, workers: int = 2, say: Say = _quiet
) -> int:
    """Mixer ``position``'s stage of every group in ``folder`` (each re-encrypted, permuted
    and proved), written to ``out``; the number of rows mixed."""
    doc, inputs = _inputs(folder)
    if doc.get("step") != "mix":
        raise InputError(
            "these inputs are for decryption: every mixer has published", path=str(folder)
        )
    key = group.decode_element(bytes.fromhex(str(doc.get("public_key"))), field="public_key")
    files = []
    total = 0
    for k, item in enumerate(inputs, start=1):
        if item.mixed + 1 != position:
            raise InputError(
                f"group {item.name} waits for mixer {item.mixed + 1}",
                field="position",
                value=position,
            )
        say(f"mixing {item.name}: {len(item.rows):,} ballots")
        shuffled = gen_shuffle(item.rows, key, workers=workers)
        proof = gen_shuffle_proof(
            item.rows,
            shuffled,
            key,
            context=item.context,
            position=position,
            workers=workers,
        )
        stage = MixStage(position, shuffled.outputs, proof)
        files.append((item, f"group-{k}.mix-{position}", stage_bytes(stage)))
        total += len(item.rows)
    _write_parts(out, str(doc["election"]), "mix", position, files)
    return total


def decrypt_inputs(
    folder: Path,
    secret_file: Path,
    passphrase: str,
    out: Path,
    *,
    workers: int = 2,
    say: Say = _quiet,
) -> int:
    """A trustee's decryption shares of every group in ``folder`` (with proofs), written to
    ``out``; the trustee's number."""
    doc, inputs = _inputs(folder)
    if doc.get("step") != "decrypt":
        raise InputError("these inputs are not mixed yet: decryption comes last", path=str(folder))
    secrets = load_secrets(secret_file, passphrase)
    if secrets.election != doc.get("election"):
        raise InputError(
            f"a trustee's file of election {secrets.election!r}, not {doc.get('election')!r}",
            path=str(secret_file),
        )
    if secrets.share is None:
        raise InputError(
            "this trustee's file holds no key share yet (the ceremony did not finish for it)",
            path=str(secret_file),
        )
    files = []
    for k, item in enumerate(inputs, start=1):
        say(f"decrypting {item.name}: {len(item.rows):,} ballots")
        cts = [ct for row in item.rows for ct in row]
        shares = partial_decrypt_many(
            secrets.election, secrets.trustee, secrets.share, cts, workers=workers
        )
        name = f"group-{k}.dec-{secrets.trustee}"
        files.append((item, name, shares_bytes(secrets.trustee, shares)))
    _write_parts(out, secrets.election, "decryption", secrets.trustee, files)
    return secrets.trustee


@dataclass(frozen=True, slots=True)
class AddedParts:
    part: str
    number: int
    groups: int


def add_parts(
    store: Store, slug: str, folder: Path, *, actor: str, workers: int = 2, say: Say = _quiet
) -> AddedParts:
    """Check and store every part in ``folder`` (a mixer's stages or a trustee's shares)."""
    path = folder / PARTS
    doc = _read_json(path, "tally-parts")
    if doc.get("election") != slug:
        raise InputError(f"parts of election {doc.get('election')!r}, not {slug!r}", path=str(path))
    part = doc.get("part")
    if part not in ("mix", "decryption"):
        raise InputError("must be mix or decryption", path=str(path), field="part", value=part)
    number = _number(doc, "number", str(path))
    # every file is read and matched to its digest before any part is stored
    items = [
        (
            _text(e, "contest", str(path)),
            _text(e, "section", str(path)),
            _optional_text(e, "weight", str(path)),
            _optional_text(e, "unit", str(path)),
            _file(folder, e, str(path)),
        )
        for e in doc["groups"]
    ]
    check = tally.check_mix if part == "mix" else tally.check_decryption
    checked = []
    for contest, section, weight, unit, data in items:
        where = GroupKey(contest, section or None, weight, unit).name
        say(f"checking {part} {number} of {where}")
        found = check(
            store, slug, contest, section, data, weight=weight, unit=unit, workers=workers
        )
        if found.number != number:
            raise InputError(
                f"{where}: a {part} of {found.number} in a folder of {number}",
                path=str(path),
            )
        checked.append(found)
    tally.store_parts(store, slug, checked, actor=actor)
    return AddedParts(str(part), number, len(items))
