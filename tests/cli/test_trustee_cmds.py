"""The key ceremony through the CLI's real entry point, on SQLite and PostgreSQL: three trustees
with threshold two, each with their own folder and file (keygen, deal, open, drill), the
officer relaying (export, add, finish, drill-start, drill-finish); every file signed and the
key confirmed by every trustee before finish; a stored key that opens a test ciphertext; a bad
share complained about and settled by the dealer's reveal; a tampered file refused naming it,
nothing stored; a file the server re-signed refused by the trustee; a wrong passphrase a
one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner, Result

from tallyroom.cli.main import main
from tallyroom.crypto import dkg, elgamal, group, threshold, trustee_signing
from tallyroom.crypto.ceremony_messages import Commitments, ElectionKey, SealedShare, signed
from tallyroom.store import open_store
from tallyroom.store.elections import find_election
from tallyroom.store.schema import ceremony_messages
from verifiable_leader import LEADER_VERIFIABLE

DEFINITION = LEADER_VERIFIABLE


def run(*args: str | Path, code: int = 0, input: str | None = None) -> Result:
    done = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert done.exit_code == code, done.output
    if code == 2:
        assert done.exception is None or isinstance(done.exception, SystemExit)
        assert "Traceback" not in done.output
    return done


class Ceremony:
    """The officer's database and folders, and each trustee's own folder."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.db = ("--db", url)
        self.sel = ("--election", "leader", "--db", url)
        definition = tmp / "leader.toml"
        definition.write_text(DEFINITION, encoding="utf-8")
        done = run("election", "create", definition, "--slug", "leader", *self.db)
        assert "draft, verifiable" in done.output  # no sealing key asked for, none made
        self.public = tmp / "public"
        for i in (1, 2, 3):
            (self.home(i)).mkdir()
            (self.home(i) / "pass").write_text(f"passphrase of trustee {i}\n", encoding="utf-8")

    def home(self, i: int) -> Path:
        return self.tmp / f"trustee-{i}"

    def export(self) -> None:
        run("ceremony", "export", "--out", self.public, *self.sel)

    def trustee(self, step: str, i: int, *extra: str, code: int = 0) -> Result:
        home = self.home(i)
        return run("trustee", step, "--public", self.public, "--secret-file", home / "secret",
                   "--passphrase-file", home / "pass", "--out", home / "out", *extra,
                   code=code)  # fmt: skip

    def add(self, *paths: Path, code: int = 0) -> Result:
        return run("ceremony", "add", *paths, *self.sel, code=code)

    def outs(self, i: int, pattern: str) -> list[Path]:
        return sorted((self.home(i) / "out").glob(pattern))

    def keygen(self) -> None:
        self.export()
        for i in (1, 2, 3):
            home = self.home(i)
            done = run("trustee", "keygen", "--ceremony", self.public / "ceremony.json",
                       "--trustee", str(i), "--secret-file", home / "secret",
                       "--passphrase-file", home / "pass", "--out", home / "out")  # fmt: skip
            assert "your fingerprint is" in done.output
            assert (home / "secret").stat().st_mode & 0o777 == 0o600
            self.add(*self.outs(i, "communication-key-*.json"))
        self.export()

    def deal(self) -> None:
        for i in (1, 2, 3):
            self.trustee("deal", i, "--yes")
            self.add(*self.outs(i, "commitments-*.json"), *self.outs(i, "sealed-share-*.json"))
        self.export()

    def open_and_confirm(self, *trustees: int) -> None:
        for i in trustees:
            done = self.trustee("open", i)
            assert "every share checked" in done.output or "already stored" in done.output
            assert "send the confirmation file" in done.output
            self.add(*self.outs(i, "confirmation-*.json"))

    def election_key(self) -> ElectionKey:
        with open_store(self.url) as store, store.read() as conn:
            record = find_election(conn, "leader")
            assert record is not None and record.election_key is not None
            return ElectionKey.from_json(record.election_key)


def _drill(c: Ceremony, trustees: tuple[int, ...]) -> None:
    run("ceremony", "drill-start", *c.sel)
    c.export()
    for i in trustees:
        c.trustee("drill", i)
        c.add(*c.outs(i, "drill-share-*.json"))


def test_three_trustees_threshold_two_from_the_cli(empty_url: str, tmp_path: Path) -> None:
    c = Ceremony(empty_url, tmp_path)
    c.keygen()
    assert "runs `tallyroom trustee deal`" in run("ceremony", "status", *c.sel).output
    c.deal()
    status = run("ceremony", "status", *c.sel).output
    assert "dealt (2 of 2 shares)" in status and "trustee open" in status
    for i in (1, 2, 3):
        assert "every share checked" in c.trustee("open", i).output
        assert [p.name for p in c.outs(i, "confirmation-*.json")] == [f"confirmation-{i}.json"]
    # without every trustee's confirmation the ceremony does not finish
    c.add(*c.outs(1, "confirmation-*.json"), *c.outs(2, "confirmation-*.json"))
    assert "key confirmations from trustee(s) 3" in run("ceremony", "status", *c.sel).output
    done = run("ceremony", "finish", "--yes", *c.sel, code=2)
    assert "key-confirmation" in done.output and "trustee(s) [3]" in done.output
    # open again: the same confirmation, byte for byte (Ed25519 is deterministic)
    first = c.outs(3, "confirmation-3.json")[0].read_bytes()
    c.open_and_confirm(3)
    assert c.outs(3, "confirmation-3.json")[0].read_bytes() == first
    assert "key confirmed" in run("ceremony", "status", *c.sel).output
    run("ceremony", "finish", "--yes", *c.sel)
    key = c.election_key()
    assert json.loads((c.public / "ceremony.json").read_text())["names"][1] == "Ben Ode"

    # fewer than the threshold: no pass
    _drill(c, (2,))
    done = run("ceremony", "drill-finish", *c.sel, code=2)
    assert "needs the shares of 2 trustees; it has 1" in done.output
    c.trustee("drill", 3)
    c.add(*c.outs(3, "drill-share-*.json"))
    assert "trustees 2, 3 decrypted" in run("ceremony", "drill-finish", *c.sel).output
    assert "key drill: passed" in run("ceremony", "status", *c.sel).output
    assert "election record verified" in run("audit", "verify", *c.sel).output

    # the stored key opens a test ciphertext with two trustees' shares from their files
    m = group.hash_to_element("test", b"ballot")
    ct = elgamal.encrypt(key.public_key, m, group.random_scalar())
    shares = []
    for i in (1, 3):
        secrets = dkg.load_secrets(c.home(i) / "secret", f"passphrase of trustee {i}")
        assert secrets.share is not None
        if i == 3:
            assert secrets.polynomial == ()  # dropped once it drilled
        shares.append(
            threshold.partial_decrypt("leader", i, secrets.share, key.verification_key(i), ct)
        )
    assert threshold.combine(key, ct, shares) == m

    # the passphrase from the environment variable (no file, no prompt)
    home = c.home(1)
    done = CliRunner().invoke(
        main,
        ["trustee", "reveal", "--public", str(c.public), "--secret-file", str(home / "secret"),
         "--out", str(home / "out")],
        env={"TALLYROOM_TRUSTEE_PASSPHRASE": "passphrase of trustee 1"},
    )  # fmt: skip
    assert done.exit_code == 0 and "nothing to reveal" in done.output, done.output

    # a message changed in the database by a writer without the service: audit verify fails
    engine = sa.create_engine(c.url)
    with engine.begin() as conn:
        conn.execute(
            ceremony_messages.update()
            .where(ceremony_messages.c.kind == "commitments", ceremony_messages.c.trustee == 2)
            .values(body=(c.public / "commitments-1.json").read_bytes())
        )
    engine.dispose()
    done = run("audit", "verify", *c.sel, code=1)
    assert "ceremony: ceremony message commitments-2 hashes to" in done.output


def test_a_bad_share_is_complained_about_and_the_reveal_settles_it(
    empty_url: str, tmp_path: Path
) -> None:
    c = Ceremony(empty_url, tmp_path)
    c.keygen()
    # trustee 2 deals, but its share to trustee 3 is swapped for its share to trustee 1
    c.trustee("deal", 2, "--yes")
    to_1, to_3 = c.outs(2, "sealed-share-2-to-1.json")[0], c.outs(2, "sealed-share-2-to-3.json")[0]
    wrong = SealedShare.from_json(to_3.read_bytes())
    wrong = SealedShare(wrong.election, 2, 3, SealedShare.from_json(to_1.read_bytes()).sealed)
    dealer = dkg.load_secrets(c.home(2) / "secret", "passphrase of trustee 2")
    to_3.write_bytes(signed(wrong, dealer.signing_seed).to_json())  # trustee 2 itself cheats
    c.add(*c.outs(2, "*.json"))
    for i in (1, 3):
        c.trustee("deal", i, "--yes")
        c.add(*c.outs(i, "commitments-*.json"), *c.outs(i, "sealed-share-*.json"))
    c.export()
    done = c.trustee("open", 3, code=1)
    assert "trustee 2 (Ben Ode): the share does not open" in done.output
    (complaint,) = c.outs(3, "complaint-*.json")
    assert complaint.name == "complaint-2-by-3.json"
    c.add(complaint)
    done = run("ceremony", "finish", "--yes", *c.sel, code=2)
    assert "trustee 2's answer (tallyroom trustee reveal) to trustee 3's complaint" in done.output
    assert "UNANSWERED: 3" in run("ceremony", "status", *c.sel).output
    c.export()
    c.trustee("reveal", 2)
    c.add(*c.outs(2, "revealed-share-*.json"))
    c.export()
    assert "settles your complaint" in c.trustee("open", 3).output
    c.add(*c.outs(3, "confirmation-*.json"))
    c.open_and_confirm(1, 2)
    run("ceremony", "finish", "--yes", *c.sel)
    _drill(c, (1, 3))
    run("ceremony", "drill-finish", *c.sel)
    assert "election record verified" in run("audit", "verify", *c.sel).output


def test_tampered_files_and_wrong_passphrases_are_one_line_errors(
    empty_url: str, tmp_path: Path
) -> None:
    c = Ceremony(empty_url, tmp_path)
    c.keygen()
    c.trustee("deal", 1, "--yes")
    commitments = c.outs(1, "commitments-1.json")[0]
    good = commitments.read_bytes()
    # a coefficient changed: no longer trustee 1's signature; the whole batch refused
    doc = json.loads(good)
    doc["coefficients"][0] = bytes(group.exp_base(5)).hex()
    forged = tmp_path / "forged.json"
    forged.write_bytes(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    shares = c.outs(1, "sealed-share-*.json")
    done = c.add(*shares, forged, code=2)
    assert "forged.json: trustee 1: signature" in done.output
    # re-signed by trustee 1 itself: the proof no longer holds
    own = dkg.load_secrets(c.home(1) / "secret", "passphrase of trustee 1")
    resigned = signed(Commitments.from_json(forged.read_bytes()), own.signing_seed)
    forged.write_bytes(resigned.to_json())
    done = c.add(*shares, forged, code=2)
    assert "forged.json" in done.output and "coefficient-proof" in done.output
    # not canonical (a space added): refused naming the file
    spaced = tmp_path / "spaced.json"
    spaced.write_bytes(good.replace(b",", b", ", 1))
    done = c.add(spaced, code=2)
    assert "spaced.json" in done.output and "canonical" in done.output
    status = run("ceremony", "status", *c.sel).output
    assert "dealt" not in status  # nothing of the batches stored
    # a wrong passphrase: one line, no traceback, the file unchanged
    before = (c.home(2) / "secret").read_bytes()
    (c.home(2) / "pass").write_text("not it\n", encoding="utf-8")
    done = c.trustee("deal", 2, "--yes", code=2)
    assert "wrong passphrase for this trustee's file" in done.output
    assert (c.home(2) / "secret").read_bytes() == before
    # the passphrase from the prompt when no file and no environment variable
    home = c.home(3)
    done = run("trustee", "deal", "--public", c.public, "--secret-file", home / "secret",
               "--out", home / "out", "--yes", input="passphrase of trustee 3\n")  # fmt: skip
    assert "commitments-3.json" in done.output


def test_a_trustee_file_is_never_overwritten_and_the_secret_never_printed(
    tmp_path: Path,
) -> None:
    c = Ceremony(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    c.keygen()
    home = c.home(1)
    done = run("trustee", "keygen", "--ceremony", c.public / "ceremony.json", "--trustee", "1",
               "--secret-file", home / "secret", "--passphrase-file", home / "pass",
               "--out", home / "out", code=2)  # fmt: skip
    assert "never overwritten" in done.output
    secrets = dkg.load_secrets(home / "secret", "passphrase of trustee 1")
    assert secrets.communication_key.hex() not in done.output
    done = run("trustee", "keygen", "--ceremony", c.public / "ceremony.json", "--trustee", "4",
               "--secret-file", home / "other", "--passphrase-file", home / "pass",
               "--out", home / "out", code=2)  # fmt: skip
    assert "trustees are numbered 1..3" in done.output


def test_a_trustee_refuses_files_the_server_signed_in_another_trustees_name(
    tmp_path: Path,
) -> None:
    """The server swaps trustee 2's commitments for its own (re-signed with a key of its own):
    trustee 1's `open` refuses, naming trustee 2 and the check; no confirmation is written."""
    c = Ceremony(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    c.keygen()
    c.deal()
    path = c.public / "commitments-2.json"
    theirs = Commitments.from_json(path.read_bytes())
    impostor = dkg.deal(
        dkg.Ceremony("leader", 3, 2),
        dkg.load_secrets(c.home(2) / "secret", "passphrase of trustee 2"),
        [dkg.CommunicationKey.from_json(p.read_bytes())
         for p in sorted(c.public.glob("communication-key-*.json"))],
    )[1]  # fmt: skip
    path.write_bytes(signed(impostor, trustee_signing.new_seed()).to_json())
    done = c.trustee("open", 1, code=2)
    assert "trustee 2: signature" in done.output and "Traceback" not in done.output
    assert c.outs(1, "confirmation-*.json") == []
    path.write_bytes(theirs.to_json())
    c.open_and_confirm(1)
