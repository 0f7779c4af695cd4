"""Deterministic synthetic contests for the benchmarks, and a one-ballot-per-line BLT writer.

Ballots are drawn from a mixture of Plackett-Luce models: each voter belongs to a bloc, and a
bloc ranks candidates by sampling without replacement in proportion to its support weights.
The Gumbel-max trick makes that one vectorised step: adding independent Gumbel noise to the
log-weights and sorting gives exactly a Plackett-Luce ranking. Each ballot is then truncated
to a length drawn from a realistic distribution (many bullet votes, many full ballots).

The blocs are chosen so that counts are not trivial: nobody has a first-round majority, the
first-round leader is not the eventual IRV winner, and several eliminations (with ballots
exhausting) happen before someone reaches a majority of the continuing ballots.

Rankings are an ``int32`` matrix of 0-based candidate codes, one row per ballot, padded with
``-1`` (tallyroom's ``SKIP``) after the last ranked candidate. No ballot has a gap, a repeated
candidate or an overvote, so every tool reads every ballot the same way.

Run ``python benchmarks/synthetic.py`` to print a summary of both contests.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "IRV_SEED",
    "PAD",
    "STV_SEED",
    "Contest",
    "irv_contest",
    "stv_contest",
    "write_blt",
]

PAD = -1
IRV_SEED = 20_130_105
STV_SEED = 20_240_611

Ranks = npt.NDArray[np.int32]

IRV_NAMES: tuple[str, ...] = (
    "Ada Okafor",
    "Bruno Lindqvist",
    "Carmen Duarte",
    "Dmitri Volkov",
    "Eleanor Whitfield",
    "Farah Haddad",
    "Gideon Mensah",
    "Hana Kobayashi",
    "Ivo Petrovic",
    "Julia Brennan",
    "Kofi Asante",
    "Lena Hoffmann",
    "Mateo Rossi",
)

# Support weights per bloc (one column per candidate in IRV_NAMES order) and bloc shares.
# Bloc 0 is split between A, B and C; bloc 1 is centred on D/E; bloc 2 on F/G; bloc 3 is
# diffuse. A leads the first round on bloc 0 alone, but E collects B/C/D transfers.
IRV_BLOC_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (9.0, 5.0, 4.0, 0.6, 1.2, 0.3, 0.3, 0.4, 0.5, 0.5, 0.2, 0.2, 0.2),
    (0.8, 1.0, 1.2, 6.0, 8.0, 0.8, 0.5, 1.0, 0.6, 0.4, 0.3, 0.3, 0.2),
    (0.4, 0.6, 1.0, 0.7, 2.5, 7.0, 6.5, 1.5, 0.8, 0.5, 0.5, 0.4, 0.3),
    (1.0, 1.0, 1.0, 1.0, 1.5, 1.0, 1.0, 1.2, 1.0, 1.0, 0.8, 0.8, 0.8),
)
IRV_BLOC_SHARES: tuple[float, ...] = (0.37, 0.30, 0.21, 0.12)
# P(ballot ranks exactly 1, 2, 3, 4, 5 candidates).
IRV_LENGTH_PROBS: tuple[float, ...] = (0.22, 0.13, 0.15, 0.12, 0.38)

STV_NAMES: tuple[str, ...] = (
    "Amara Nwosu",
    "Benedikt Krause",
    "Chiara Conti",
    "Declan Murphy",
    "Esther Adeyemi",
    "Felix Andersson",
    "Greta Novak",
    "Henrik Dahl",
    "Isabel Moreno",
    "Jonas Weber",
)

# Three party slates (A-C, D-F, G-I) and an independent (J); party voters mostly rank their
# own slate first, so surpluses and eliminations transfer along party lines.
STV_BLOC_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (12.0, 5.0, 3.0, 0.5, 0.5, 0.4, 0.3, 0.3, 0.2, 1.0),
    (0.4, 0.4, 0.6, 6.0, 5.0, 4.0, 0.8, 0.6, 0.4, 1.5),
    (0.3, 0.3, 0.3, 0.8, 0.6, 0.5, 5.0, 4.5, 2.0, 1.0),
    (1.0, 0.8, 1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.5),
)
STV_BLOC_SHARES: tuple[float, ...] = (0.36, 0.29, 0.22, 0.13)
STV_LENGTH_PROBS: tuple[float, ...] = (0.15, 0.12, 0.15, 0.15, 0.13, 0.30)


@dataclass(frozen=True, slots=True)
class Contest:
    """A synthetic contest: candidate names, seats and the padded rankings matrix."""

    title: str
    names: tuple[str, ...]
    seats: int
    ranks: Ranks

    @property
    def ballots(self) -> int:
        return int(self.ranks.shape[0])

    @property
    def max_rank(self) -> int:
        return int(self.ranks.shape[1])

    def prefix(self, n: int) -> Contest:
        """The first ``n`` ballots (the rows are i.i.d., so a prefix is a smaller sample)."""
        return Contest(self.title, self.names, self.seats, self.ranks[:n])


def plackett_luce_rankings(
    rng: np.random.Generator,
    n: int,
    bloc_weights: Sequence[Sequence[float]],
    bloc_shares: Sequence[float],
    length_probs: Sequence[float],
) -> Ranks:
    """``n`` truncated Plackett-Luce rankings from a bloc mixture, as a padded int32 matrix."""
    weights = np.asarray(bloc_weights, dtype=np.float64)
    shares = np.asarray(bloc_shares, dtype=np.float64)
    lengths_p = np.asarray(length_probs, dtype=np.float64)
    n_cands = weights.shape[1]
    max_rank = lengths_p.shape[0]
    if max_rank > n_cands:
        raise ValueError("cannot rank more candidates than there are")
    bloc = rng.choice(len(shares), size=n, p=shares / shares.sum())
    keys = np.log(weights)[bloc] + rng.gumbel(size=(n, n_cands))
    # Highest key first; only the top max_rank positions are kept.
    order = np.argsort(-keys, axis=1, kind="stable")[:, :max_rank].astype(np.int32)
    lengths = rng.choice(max_rank, size=n, p=lengths_p / lengths_p.sum()) + 1
    order[np.arange(max_rank)[None, :] >= lengths[:, None]] = PAD
    return np.ascontiguousarray(order, dtype=np.int32)


def irv_contest(n: int = 1_000_000, seed: int = IRV_SEED) -> Contest:
    """The single-winner benchmark contest: 13 candidates, up to 5 ranks."""
    rng = np.random.default_rng(seed)
    ranks = plackett_luce_rankings(rng, n, IRV_BLOC_WEIGHTS, IRV_BLOC_SHARES, IRV_LENGTH_PROBS)
    return Contest("Synthetic IRV contest (13 candidates, 5 ranks)", IRV_NAMES, 1, ranks)


def stv_contest(n: int = 50_000, seed: int = STV_SEED) -> Contest:
    """The 3-seat STV benchmark contest: 10 candidates, up to 6 ranks."""
    rng = np.random.default_rng(seed)
    ranks = plackett_luce_rankings(rng, n, STV_BLOC_WEIGHTS, STV_BLOC_SHARES, STV_LENGTH_PROBS)
    return Contest("Synthetic 3-seat STV contest (10 candidates, 6 ranks)", STV_NAMES, 3, ranks)


def _blt_quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def write_blt(contest: Contest, path: Path, chunk: int = 100_000) -> None:
    """Write ``contest`` as a BLT file with one ballot per line (weight 1, no grouping).

    The layout: ``<candidates> <seats>``, then ``1 c1 c2 ... 0`` per ballot with 1-based
    candidate numbers, a ``0`` line ending the ballots, each candidate name in quotes, and
    the title in quotes.
    """
    n_cands = len(contest.names)
    # Precomputed " k" strings make the per-ballot join a lookup, not a format call.
    tokens = [f" {k + 1}" for k in range(n_cands)]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(f"{n_cands} {contest.seats}\n")
        for start in range(0, contest.ballots, chunk):
            rows = contest.ranks[start : start + chunk].tolist()
            out.write(
                "".join("1" + "".join([tokens[c] for c in row if c >= 0]) + " 0\n" for row in rows)
            )
        out.write("0\n")
        for name in contest.names:
            out.write(_blt_quote(name) + "\n")
        out.write(_blt_quote(contest.title) + "\n")


def first_preferences(contest: Contest) -> dict[str, int]:
    """First-preference counts by candidate name (a quick sanity summary)."""
    firsts = contest.ranks[:, 0]
    counts = np.bincount(firsts[firsts >= 0], minlength=len(contest.names))
    return {name: int(counts[i]) for i, name in enumerate(contest.names)}


def distinct_rankings(contest: Contest) -> int:
    return int(np.unique(contest.ranks, axis=0).shape[0])


def _summarise(contest: Contest) -> None:
    print(f"{contest.title}: {contest.ballots:,} ballots, {contest.seats} seat(s)")
    print(f"  distinct rankings: {distinct_rankings(contest):,}")
    lengths = (contest.ranks >= 0).sum(axis=1)
    print(f"  ballot lengths: {np.bincount(lengths)[1:].tolist()}")
    for name, votes in sorted(first_preferences(contest).items(), key=lambda kv: -kv[1]):
        print(f"  {name:<20} {votes:>9,} ({votes / contest.ballots:6.2%})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irv-ballots", type=int, default=1_000_000)
    parser.add_argument("--stv-ballots", type=int, default=50_000)
    parser.add_argument("--blt", type=Path, help="also write the IRV contest as a BLT file here")
    args = parser.parse_args(argv)
    irv = irv_contest(args.irv_ballots)
    _summarise(irv)
    _summarise(stv_contest(args.stv_ballots))
    if args.blt is not None:
        write_blt(irv, args.blt)
        print(f"wrote {args.blt} ({args.blt.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
