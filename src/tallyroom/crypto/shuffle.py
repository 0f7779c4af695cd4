"""A verifiable shuffle of ElGamal ciphertexts: re-encrypt, permute, prove (Terelius-Wikström).

A mixer takes a board of N rows, each row ``w`` ElGamal ciphertexts (one ballot; ``w`` > 1
when a ballot needs several group elements), re-encrypts every ciphertext and permutes the
rows; its proof convinces anyone that the output rows are the input rows re-encrypted in
some order, without saying which order.

The algorithms follow, step by step and under their names, the CHVote Protocol
Specification (R. Haenni, R. E. Koenig, P. Locher, E. Dubuis, IACR ePrint 2017/325,
version 3.x, s.8 "Verifiable mix-net": GenShuffle, GenPermutation, GenReEncryption,
GenShuffleProof (Alg. 8.47 in version 3.1), GenPermutationCommitment, GenCommitmentChain and
CheckShuffleProof), which condenses D. Wikström's and B. Terelius's proof of a shuffle
(Terelius and Wikström, "Proofs of Restricted Shuffles", AFRICACRYPT 2010; Wikström, "A
Commitment-Consistent Proof of a Shuffle", ACISP 2009); the same algorithms appear as
pseudo-code in Haenni, Locher, Koenig and Dubuis, "Pseudo-Code Algorithms for Verifiable
Re-Encryption Mix-Nets", FC 2017 Workshops, LNCS 10323.

Translated into this codebase:

* the spec's group G_q with generator g is ristretto255 with its standard generator
  (crypto/group.py); Z_q is the integers modulo ``group.ORDER``;
* the spec writes a ciphertext (a, b) = (m·pk^r, g^r); ours is (a, b) = (g^r, m·pk^r)
  (crypto/elgamal.py), so the two halves of t4 swap places;
* the spec's independent generators h, h_1..h_N (its GetGenerators) are
  ``group.independent_generators(domain, N + 1)`` with ``domain`` naming the context (the
  election and contest) and the mixer's position: index 0 is h (the base of the commitment
  chain), index i is h_i;
* the spec's GetChallenges / GetChallenge are ``group.hash_to_scalar`` over the whole
  statement (context, position, N, w, the public key, every input and output ciphertext, the
  permutation commitment), then the commitment chain and every t (docs/verifiable-shuffle.md
  lists the exact inputs);
* width ``w`` > 1 is the product-group generalisation of D. Wikström, "How to Implement a
  Stand-alone Verifier for the Verificatum Mix-Net" (s.2.3 product groups, s.8 proof of a
  shuffle with ciphertexts of width ω): the rows are permuted together, each ciphertext has
  its own randomness, the permutation commitment and the chain are those of w = 1, and t4 and
  s4 become vectors of w components (one per column). ``w = 1`` is the same computation.

The commitment chain ĉ_i = g^r̂_i · ĉ_{i-1}^u'_i is sequential as written; the prover, who
knows every exponent, computes it as ĉ_i = g^R_i · h^U_i with U_i = ∏_{j<=i} u'_j and
R_i = Σ_{j<=i} r̂_j ∏_{j<k<=i} u'_k (the same elements; the scalars are cheap and
sequential, the exponentiations independent), so that the per-row work of prover and
verifier is chunked over processes (:mod:`concurrent.futures`, two by default) and the long
products come back as partial products multiplied at the end.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from tallyroom.crypto import elgamal, group
from tallyroom.crypto.elgamal import Ciphertext
from tallyroom.crypto.group import Element
from tallyroom.crypto.shuffle_proof import ShuffleProof
from tallyroom.errors import InputError, ProofRejected

__all__ = [
    "Row",
    "Shuffle",
    "ShuffleProof",
    "check_shuffle_proof",
    "gen_permutation",
    "gen_shuffle",
    "gen_shuffle_proof",
    "generator_domain",
]

#: One ballot on the board: ``w`` ciphertexts, permuted together.
Row = tuple[Ciphertext, ...]

_DOMAIN = "tallyroom/shuffle/v1"
_DOMAIN_STATEMENT = _DOMAIN + "/statement"
_DOMAIN_U = _DOMAIN + "/u"
_DOMAIN_C = _DOMAIN + "/c"

#: Below this many rows a chunk is not worth a process.
_MIN_CHUNK = 256
#: Chunks per worker: small enough to balance two busy cores, large enough to pickle cheaply.
_CHUNKS_PER_WORKER = 4

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Shuffle:
    """GenShuffle's result: the output rows and the mixer's secret witness.

    ``outputs[i]`` is ``inputs[psi[i]]`` with its k-th ciphertext re-encrypted by
    ``r_tilde[i][k]``. The witness (``psi``, ``r_tilde``) is needed once, for the proof, and
    must then be forgotten: anyone holding it links inputs to outputs.
    """

    outputs: tuple[Row, ...]
    psi: tuple[int, ...]
    r_tilde: tuple[tuple[int, ...], ...]

    def __repr__(self) -> str:
        return f"Shuffle({len(self.outputs)} rows, witness hidden)"


def generator_domain(context: str, position: int) -> str:
    """The domain of h, h_1..h_N for the mixer at ``position`` in ``context``.

    The position is the last segment and has no '/', so no two (context, position) pairs
    share a domain."""
    return f"{_DOMAIN}/generators/{context}/{position}"


def gen_permutation(n: int) -> tuple[int, ...]:
    """CHVote GenPermutation: a uniform permutation of 0..n-1 (Knuth's Algorithm P, the
    Fisher-Yates shuffle) drawn from the operating system's CSPRNG."""
    psi = list(range(n))
    for i in range(n - 1):
        k = i + secrets.randbelow(n - i)
        psi[i], psi[k] = psi[k], psi[i]
    return tuple(psi)


def gen_shuffle(inputs: Sequence[Row], public_key: Element, *, workers: int = 2) -> Shuffle:
    """CHVote GenShuffle: a random permutation and a re-encryption of every ciphertext
    (GenReEncryption: each multiplied by an encryption of the identity with fresh randomness
    from the CSPRNG)."""
    n = len(inputs)
    w = _width(inputs, "inputs")
    psi = gen_permutation(n)
    r_tilde = tuple(tuple(group.random_scalar() for _ in range(w)) for _ in range(n))
    jobs = [
        (public_key, [inputs[psi[i]] for i in range(lo, hi)], r_tilde[lo:hi])
        for lo, hi in _chunks(n, workers)
    ]
    outputs: list[Row] = []
    for part in _run(_reencrypt_chunk, jobs, workers):
        outputs.extend(part)
    return Shuffle(tuple(outputs), psi, r_tilde)


def gen_shuffle_proof(
    inputs: Sequence[Row],
    shuffle: Shuffle,
    public_key: Element,
    *,
    context: str,
    position: int,
    workers: int = 2,
) -> ShuffleProof:
    """CHVote GenShuffleProof (Alg. 8.47 in version 3.1): a non-interactive proof that
    ``shuffle.outputs`` is ``inputs`` re-encrypted and permuted, bound to ``public_key``,
    ``context`` and the mixer's ``position``."""
    e, e_tilde, psi = inputs, shuffle.outputs, shuffle.psi
    n = len(e)
    w = _width(e, "inputs")
    if len(e_tilde) != n or len(psi) != n or _width(e_tilde, "outputs") != w:
        raise InputError("the shuffle does not match its input board", field="shuffle")
    domain = generator_domain(context, position)
    h = group.hash_to_element(domain, _index(0))
    q = group.ORDER
    rand = group.random_scalar
    # GenPermutationCommitment: c_{psi(i)} = g^{r_{psi(i)}} * h_i
    r = [rand() for _ in range(n)]
    omega_prime = [rand() for _ in range(n)]
    omega_hat = [rand() for _ in range(n)]
    omega_1, omega_2, omega_3 = rand(), rand(), rand()
    omega_4 = [rand() for _ in range(w)]
    c: list[Element] = [group.IDENTITY] * n
    t3_parts: list[Element] = []
    commit_jobs = [
        (domain, lo, [r[psi[i]] for i in range(lo, hi)], omega_prime[lo:hi])
        for lo, hi in _chunks(n, workers)
    ]
    for (lo, _hi), (c_at, t3_part) in zip(
        _chunks(n, workers), _run(_commit_chunk, commit_jobs, workers), strict=True
    ):
        for offset, value in enumerate(c_at):
            c[psi[lo + offset]] = value
        t3_parts.append(t3_part)
    # GetChallenges: u_i from the statement
    y = statement_digest(context, position, public_key, e, e_tilde, c)
    u = challenges_u(y, n)
    u_prime = [u[psi[i]] for i in range(n)]
    # GenCommitmentChain from c_0 = h, as g^R_i * h^U_i (module docstring)
    r_hat = [rand() for _ in range(n)]
    big_r, big_u = [0], [1]
    for i in range(n):
        big_r.append((big_r[-1] * u_prime[i] + r_hat[i]) % q)
        big_u.append(big_u[-1] * u_prime[i] % q)
    c_hat: list[Element] = []
    t_hat: list[Element] = []
    t4a_parts: list[list[Element]] = []
    t4b_parts: list[list[Element]] = []
    chain_jobs = [
        (
            h,
            big_r[lo : hi + 1],
            big_u[lo : hi + 1],
            omega_hat[lo:hi],
            omega_prime[lo:hi],
            list(e_tilde[lo:hi]),
            w,
        )
        for lo, hi in _chunks(n, workers)
    ]
    for c_hat_part, t_hat_part, t4a_part, t4b_part in _run(_chain_chunk, chain_jobs, workers):
        c_hat.extend(c_hat_part)
        t_hat.extend(t_hat_part)
        t4a_parts.append(t4a_part)
        t4b_parts.append(t4b_part)
    t1 = group.exp_base(omega_1)
    t2 = group.exp_base(omega_2)
    t3 = group.mul(group.exp_base(omega_3), group.product(t3_parts))
    t4a = tuple(
        group.mul(group.exp_base(-omega_4[k]), group.product(p[k] for p in t4a_parts))
        for k in range(w)
    )
    t4b = tuple(
        group.mul(group.exp(public_key, -omega_4[k]), group.product(p[k] for p in t4b_parts))
        for k in range(w)
    )
    challenge = challenge_c(y, c_hat, t1, t2, t3, t4a, t4b, t_hat)
    # responses: v_i = prod_{j > i} u'_j, so that sum r_hat_i v_i = R_N
    r_bar = sum(r) % q
    r_hat_sum = big_r[n]
    r_u = sum(ri * ui for ri, ui in zip(r, u, strict=True)) % q
    r_tilde_u = [sum(shuffle.r_tilde[i][k] * u_prime[i] for i in range(n)) % q for k in range(w)]
    return ShuffleProof(
        c=tuple(c),
        c_hat=tuple(c_hat),
        t1=t1,
        t2=t2,
        t3=t3,
        t4a=t4a,
        t4b=t4b,
        t_hat=tuple(t_hat),
        s1=(omega_1 - challenge * r_bar) % q,
        s2=(omega_2 - challenge * r_hat_sum) % q,
        s3=(omega_3 - challenge * r_u) % q,
        s4=tuple((omega_4[k] - challenge * r_tilde_u[k]) % q for k in range(w)),
        s_hat=tuple((omega_hat[i] - challenge * r_hat[i]) % q for i in range(n)),
        s_prime=tuple((omega_prime[i] - challenge * u_prime[i]) % q for i in range(n)),
    )


def check_shuffle_proof(
    inputs: Sequence[Row],
    outputs: Sequence[Row],
    proof: ShuffleProof,
    public_key: Element,
    *,
    context: str,
    position: int,
    workers: int = 2,
) -> None:
    """CHVote CheckShuffleProof: returns if ``proof`` shows that ``outputs`` is ``inputs``
    re-encrypted and permuted under ``public_key`` by the mixer at ``position`` of
    ``context``; raises :class:`ProofRejected` naming every equation that fails."""
    e, e_tilde = inputs, outputs
    n = len(e)
    where = f"shuffle proof of mixer {position} ({context})"
    if len(e_tilde) != n:
        raise ProofRejected(
            "shuffle", f"{where}: the output board has {len(e_tilde)} rows, the input {n}"
        )
    w = _width(e, "inputs")
    if n and _width(e_tilde, "outputs") != w:
        raise ProofRejected("shuffle", f"{where}: the output rows are not {w} ciphertexts wide")
    if proof.n != n or proof.w != w:
        raise ProofRejected(
            "shuffle",
            f"{where}: the proof is for {proof.n} rows of width {proof.w}, "
            f"the board has {n} rows of width {w}",
        )
    domain = generator_domain(context, position)
    h = group.hash_to_element(domain, _index(0))
    y = statement_digest(context, position, public_key, e, e_tilde, proof.c)
    u = challenges_u(y, n)
    challenge = challenge_c(
        y, proof.c_hat, proof.t1, proof.t2, proof.t3, proof.t4a, proof.t4b, proof.t_hat
    )
    c_hat_0 = (h, *proof.c_hat)
    jobs = [
        (
            domain,
            lo,
            challenge,
            proof.c[lo:hi],
            c_hat_0[lo : hi + 1],
            proof.t_hat[lo:hi],
            proof.s_hat[lo:hi],
            proof.s_prime[lo:hi],
            u[lo:hi],
            list(e[lo:hi]),
            list(e_tilde[lo:hi]),
            w,
        )
        for lo, hi in _chunks(n, workers)
    ]
    parts = _run(_verify_chunk, jobs, workers)
    failed: list[str] = []
    # t1' = c̄^c g^s1 with c̄ = prod c_i / prod h_i
    c_bar = group.div(
        group.product(p.prod_c for p in parts), group.product(p.prod_h for p in parts)
    )
    if group.mul(group.exp(c_bar, challenge), group.exp_base(proof.s1)) != proof.t1:
        failed.append("t1")
    # t2' = ĉ^c g^s2 with ĉ = ĉ_N / h^u, u = prod u_i
    u_prod = 1
    for ui in u:
        u_prod = u_prod * ui % group.ORDER
    c_hat_bar = group.div(c_hat_0[n], group.exp(h, u_prod))
    if group.mul(group.exp(c_hat_bar, challenge), group.exp_base(proof.s2)) != proof.t2:
        failed.append("t2")
    # t3' = c̃^c g^s3 prod h_i^s'_i with c̃ = prod c_i^u_i
    c_tilde = group.product(p.c_tilde for p in parts)
    t3 = group.product(
        [group.exp(c_tilde, challenge), group.exp_base(proof.s3), *(p.h_s_prime for p in parts)]
    )
    if t3 != proof.t3:
        failed.append("t3")
    # t4' = (a'^c g^-s4 prod ã_i^s'_i, b'^c pk^-s4 prod b̃_i^s'_i), one pair a column, with
    # (a', b') = (prod a_i^u_i, prod b_i^u_i)
    for k in range(w):
        a_prime = group.product(p.a_u[k] for p in parts)
        b_prime = group.product(p.b_u[k] for p in parts)
        t4a = group.product(
            [
                group.exp(a_prime, challenge),
                group.exp_base(-proof.s4[k]),
                *(p.a_s_prime[k] for p in parts),
            ]
        )
        t4b = group.product(
            [
                group.exp(b_prime, challenge),
                group.exp(public_key, -proof.s4[k]),
                *(p.b_s_prime[k] for p in parts),
            ]
        )
        if t4a != proof.t4a[k] or t4b != proof.t4b[k]:
            failed.append(f"t4[{k + 1}]")
    # t̂_i' = ĉ_i^c g^ŝ_i ĉ_{i-1}^s'_i, checked in the chunks
    failed.extend(f"t̂_{i + 1}" for part in parts for i in part.bad_t_hat)
    if failed:
        shown = ", ".join(failed[:6])
        if len(failed) > 6:
            shown += f" and {len(failed) - 6} more"
        raise ProofRejected("shuffle", f"{where}: equation {shown} does not hold")


def statement_digest(
    context: str,
    position: int,
    public_key: Element,
    inputs: Sequence[Row],
    outputs: Sequence[Row],
    c: Sequence[Element],
) -> bytes:
    """y: the whole statement hashed once (docs/verifiable-shuffle.md, "Challenges")."""
    n = len(inputs)
    w = _width(inputs, "inputs")
    parts: list[bytes] = [
        context.encode("utf-8"),
        _index(position),
        _index(n),
        _index(w),
        bytes(public_key),
    ]
    parts.extend(b"".join(ct.to_bytes() for ct in row) for row in inputs)
    parts.extend(b"".join(ct.to_bytes() for ct in row) for row in outputs)
    parts.extend(bytes(ci) for ci in c)
    return group.scalar_bytes(group.hash_to_scalar(_DOMAIN_STATEMENT, *parts))


def challenges_u(y: bytes, n: int) -> list[int]:
    """GetChallenges: u_i = H_u(y, i) for i = 1..N."""
    return [group.hash_to_scalar(_DOMAIN_U, y, _index(i)) for i in range(1, n + 1)]


def challenge_c(
    y: bytes,
    c_hat: Sequence[Element],
    t1: Element,
    t2: Element,
    t3: Element,
    t4a: Sequence[Element],
    t4b: Sequence[Element],
    t_hat: Sequence[Element],
) -> int:
    """GetChallenge: c = H_c(y, ĉ_1..ĉ_N, t1, t2, t3, t4a_1..w, t4b_1..w, t̂_1..t̂_N)."""
    return group.hash_to_scalar(_DOMAIN_C, y, *c_hat, t1, t2, t3, *t4a, *t4b, *t_hat)


# --- the per-row work, in chunks (top-level functions so that worker processes can run them)


def _reencrypt_chunk(
    public_key: Element, rows: list[Row], r_tilde: Sequence[tuple[int, ...]]
) -> list[Row]:
    return [
        tuple(elgamal.reencrypt(public_key, ct, s) for ct, s in zip(row, rs, strict=True))
        for row, rs in zip(rows, r_tilde, strict=True)
    ]


def _commit_chunk(
    domain: str, lo: int, r_at: list[int], omega_prime: list[int]
) -> tuple[list[Element], Element]:
    """Rows lo.. of GenPermutationCommitment (g^{r_psi(i)} h_i, in order i) and their part of
    t3's product of h_i^{omega'_i}."""
    c_at: list[Element] = []
    t3 = group.IDENTITY
    for offset, (r_i, w_i) in enumerate(zip(r_at, omega_prime, strict=True)):
        h_i = group.hash_to_element(domain, _index(lo + offset + 1))
        c_at.append(group.mul(group.exp_base(r_i), h_i))
        t3 = group.mul(t3, group.exp(h_i, w_i))
    return c_at, t3


def _chain_chunk(
    h: Element,
    big_r: list[int],
    big_u: list[int],
    omega_hat: list[int],
    omega_prime: list[int],
    e_tilde: list[Row],
    w: int,
) -> tuple[list[Element], list[Element], list[Element], list[Element]]:
    """ĉ_i = g^R_i h^U_i, t̂_i = g^ω̂_i ĉ_{i-1}^ω'_i, and this chunk's parts of t4."""
    prev = group.mul(group.exp_base(big_r[0]), group.exp(h, big_u[0]))
    c_hat: list[Element] = []
    t_hat: list[Element] = []
    t4a = [group.IDENTITY] * w
    t4b = [group.IDENTITY] * w
    for i, row in enumerate(e_tilde):
        t_hat.append(group.mul(group.exp_base(omega_hat[i]), group.exp(prev, omega_prime[i])))
        prev = group.mul(group.exp_base(big_r[i + 1]), group.exp(h, big_u[i + 1]))
        c_hat.append(prev)
        for k, ct in enumerate(row):
            t4a[k] = group.mul(t4a[k], group.exp(ct.a, omega_prime[i]))
            t4b[k] = group.mul(t4b[k], group.exp(ct.b, omega_prime[i]))
    return c_hat, t_hat, t4a, t4b


@dataclass(frozen=True, slots=True)
class _VerifyPart:
    prod_c: Element
    prod_h: Element
    c_tilde: Element
    h_s_prime: Element
    a_u: list[Element]
    b_u: list[Element]
    a_s_prime: list[Element]
    b_s_prime: list[Element]
    bad_t_hat: list[int]


def _verify_chunk(
    domain: str,
    lo: int,
    challenge: int,
    c: Sequence[Element],
    c_hat_0: Sequence[Element],
    t_hat: Sequence[Element],
    s_hat: Sequence[int],
    s_prime: Sequence[int],
    u: Sequence[int],
    e: list[Row],
    e_tilde: list[Row],
    w: int,
) -> _VerifyPart:
    """Rows lo.. of CheckShuffleProof: the partial products and each t̂_i' = ĉ_i^c g^ŝ_i
    ĉ_{i-1}^s'_i (``c_hat_0`` starts one row early: ĉ_{lo-1}, with ĉ_0 = h)."""
    prod_c = prod_h = c_tilde = h_s_prime = group.IDENTITY
    a_u, b_u = [group.IDENTITY] * w, [group.IDENTITY] * w
    a_s, b_s = [group.IDENTITY] * w, [group.IDENTITY] * w
    bad: list[int] = []
    mul, exp = group.mul, group.exp
    for i in range(len(c)):
        h_i = group.hash_to_element(domain, _index(lo + i + 1))
        prod_c = mul(prod_c, c[i])
        prod_h = mul(prod_h, h_i)
        c_tilde = mul(c_tilde, exp(c[i], u[i]))
        h_s_prime = mul(h_s_prime, exp(h_i, s_prime[i]))
        for k in range(w):
            a_u[k] = mul(a_u[k], exp(e[i][k].a, u[i]))
            b_u[k] = mul(b_u[k], exp(e[i][k].b, u[i]))
            a_s[k] = mul(a_s[k], exp(e_tilde[i][k].a, s_prime[i]))
            b_s[k] = mul(b_s[k], exp(e_tilde[i][k].b, s_prime[i]))
        t_hat_i = mul(
            mul(exp(c_hat_0[i + 1], challenge), group.exp_base(s_hat[i])),
            exp(c_hat_0[i], s_prime[i]),
        )
        if t_hat_i != t_hat[i]:
            bad.append(lo + i)
    return _VerifyPart(prod_c, prod_h, c_tilde, h_s_prime, a_u, b_u, a_s, b_s, bad)


# --- plumbing


def _index(i: int) -> bytes:
    return i.to_bytes(8, "big")


def _width(rows: Sequence[Row], field: str) -> int:
    """Every row's width (an empty board has width 1 by convention)."""
    if not rows:
        return 1
    w = len(rows[0])
    if w < 1:
        raise InputError("a row holds at least one ciphertext", field=f"{field}[1]", value=0)
    for i, row in enumerate(rows):
        if len(row) != w:
            raise InputError(
                f"every row is {w} ciphertexts wide", field=f"{field}[{i + 1}]", value=len(row)
            )
    return w


def _chunks(n: int, workers: int) -> list[tuple[int, int]]:
    """[lo, hi) ranges covering 0..n: one when small or single-process, else several per
    worker."""
    if n == 0:
        return [(0, 0)]
    if workers <= 1 or n < 2 * _MIN_CHUNK:
        return [(0, n)]
    count = min(workers * _CHUNKS_PER_WORKER, n // _MIN_CHUNK)
    bounds = [n * k // count for k in range(count + 1)]
    return list(itertools.pairwise(bounds))


def _run(fn: Callable[..., _T], jobs: list[tuple[Any, ...]], workers: int) -> list[_T]:
    """``fn`` over ``jobs`` in order: in this process for one job, else on a process pool."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(*job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, *zip(*jobs, strict=True)))
