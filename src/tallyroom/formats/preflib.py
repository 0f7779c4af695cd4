"""PrefLib ordinal preference files (``.soc``, ``.soi``, ``.toc``, ``.toi``) read into a store.

The current PrefLib format (2022) opens with ``# KEY: value`` metadata and then holds one
line per distinct order, with how many voters cast it::

    # TITLE: 2010 UK Labor Leadership
    # DATA TYPE: soi
    # NUMBER ALTERNATIVES: 5
    # NUMBER VOTERS: 266
    # NUMBER UNIQUE ORDERS: 76
    # ALTERNATIVE NAME 1: D.Abbott
    ...
    34: 4
    13: 4,5,2,3,1
    3: 1,{2,3},4          ties (``.toc``/``.toi``) in braces: an overvote set at that rank

The older format (before 2022) is read too: the number of alternatives, ``k,name`` lines, a
``voters,sum,unique`` line, then ``count,order`` lines. Alternatives are numbered from 1; a
candidate's code is its number minus one.

Checks, each reported with file, line, field and value (all collected, the first raised
saying how many more there are): the counts in the metadata match the data, every order
names known alternatives at most once, and a complete order (``soc``, ``toc``) names every
alternative.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tallyroom.count.ballots import SKIP, BallotStore, CandidateTable, overvote_set_code
from tallyroom.errors import BallotFileError
from tallyroom.formats.blt import first_problem
from tallyroom.formats.blt_scan import merge_weighted_rows

__all__ = ["DATA_TYPES", "PreflibElection", "parse_preflib", "read_preflib"]

DATA_TYPES = ("soc", "soi", "toc", "toi")
_ITEM = re.compile(r"\s*(?:\{([^{}]*)\}|([^,{}]+))\s*(?:,|$)")


@dataclass(frozen=True, slots=True)
class PreflibElection:
    """What a PrefLib file holds; ``metadata`` keeps its ``# KEY: value`` lines in order."""

    title: str
    data_type: str
    candidates: CandidateTable
    ballots: BallotStore
    metadata: tuple[tuple[str, str], ...] = ()


def read_preflib(path: str | os.PathLike[str]) -> PreflibElection:
    """Read a PrefLib file; its data type comes from the metadata, else the file's suffix."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BallotFileError(f"cannot read the file: {exc}", path=where) from exc
    suffix = Path(path).suffix.lstrip(".").lower()
    return parse_preflib(text, path=where, data_type=suffix if suffix in DATA_TYPES else None)


def parse_preflib(
    text: str, *, path: str | None = None, data_type: str | None = None
) -> PreflibElection:
    """Parse the text of a PrefLib file; ``path`` only names it in error messages."""
    return _Reader(text, path, data_type).read()


class _Reader:
    def __init__(self, text: str, path: str | None, data_type: str | None) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.data_type = data_type
        self.meta: list[tuple[str, str]] = []
        self.names: dict[int, tuple[str, int]] = {}  # number -> (name, line)
        self.declared: dict[str, tuple[int, int]] = {}  # count key -> (value, line)
        self.errors: list[BallotFileError] = []
        self.sets: dict[tuple[int, ...], int] = {}

    def problem(self, text: str, line: int | None, field: str | None, value: object) -> None:
        self.errors.append(
            BallotFileError(text, path=self.path, line=line, field=field, value=value)
        )

    def read(self) -> PreflibElection:
        numbered = [(i, line.strip()) for i, line in enumerate(self.lines, start=1)]
        content = [(i, line) for i, line in numbered if line]
        if content and content[0][1].startswith("#"):
            orders = self._metadata(content)
        else:
            orders = self._legacy_header(content)
        names = self._candidate_names()
        kind = self._kind()
        rows, weights = self._orders(orders, len(names), kind)
        self._check_counts(len(rows), int(sum(weights)), len(names))
        if self.errors:
            raise first_problem(self.errors)
        try:
            table = CandidateTable(names=tuple(names))
        except ValueError:
            again = next(i for i, n in enumerate(names) if n in names[:i])
            raise BallotFileError(
                "alternative names must be unique",
                path=self.path,
                line=self.names[again + 1][1],
                field="name",
                value=names[again],
            ) from None
        width = max((len(r) for r in rows), default=1) or 1
        matrix = np.full((len(rows), width), SKIP, dtype=np.int32)
        for i, row in enumerate(rows):
            matrix[i, : len(row)] = row
        sets = tuple(s for s, _ in sorted(self.sets.items(), key=lambda kv: kv[1]))
        store = merge_weighted_rows(matrix, np.array(weights, dtype=np.int64), sets)
        title = dict(self.meta).get("TITLE") or (Path(self.path).stem if self.path else "")
        return PreflibElection(title, kind, table, store, tuple(self.meta))

    # -- headers -------------------------------------------------------------------------------
    def _metadata(self, content: list[tuple[int, str]]) -> list[tuple[int, str]]:
        orders: list[tuple[int, str]] = []
        for number, line in content:
            if not line.startswith("#"):
                orders.append((number, line))
                continue
            key, sep, value = line.lstrip("#").partition(":")
            key, value = key.strip().upper(), value.strip()
            if not sep:
                continue  # a comment
            self.meta.append((key, value))
            if key.startswith("ALTERNATIVE NAME "):
                self._name(key.removeprefix("ALTERNATIVE NAME "), value, number)
            elif key in ("NUMBER ALTERNATIVES", "NUMBER VOTERS", "NUMBER UNIQUE ORDERS"):
                self._declare(key, value, number)
            elif key == "DATA TYPE" and value:
                self.data_type = value.lower()
        return orders

    def _legacy_header(self, content: list[tuple[int, str]]) -> list[tuple[int, str]]:
        if not content:
            return []
        number, first = content[0]
        self._declare("NUMBER ALTERNATIVES", first, number)
        count = self.declared.get("NUMBER ALTERNATIVES", (0, 0))[0]
        for number, line in content[1 : 1 + count]:
            index, _, name = line.partition(",")
            self._name(index, name.strip(), number)
        if len(content) <= 1 + count:
            self.problem("the file ends before its voter counts", content[-1][0], "header", None)
            return []
        number, totals = content[1 + count]
        parts = [p.strip() for p in totals.split(",")]
        if len(parts) != 3:
            self.problem("expected 'voters,sum of counts,unique orders'", number, "header", totals)
        else:
            self._declare("NUMBER VOTERS", parts[0], number)
            self._declare("NUMBER UNIQUE ORDERS", parts[2], number)
        return [(n, line) for n, line in content[2 + count :]]

    def _name(self, index: str, name: str, line: int) -> None:
        if not _whole(index.strip()) or int(index) < 1:
            self.problem("an alternative must be numbered from 1", line, "alternative", index)
        elif int(index) in self.names:
            self.problem("alternative numbered twice", line, "alternative", int(index))
        else:
            self.names[int(index)] = (name, line)

    def _declare(self, key: str, value: str, line: int) -> None:
        if _whole(value):
            self.declared[key] = (int(value), line)
        else:
            self.problem("expected a whole number", line, key.lower(), value)

    def _candidate_names(self) -> list[str]:
        declared = self.declared.get("NUMBER ALTERNATIVES")
        count = declared[0] if declared else max(self.names, default=0)
        for k in sorted(self.names):
            if k > count:
                self.problem(
                    f"alternative {k} beyond the {count} declared",
                    self.names[k][1],
                    "alternative",
                    k,
                )
        missing = [k for k in range(1, count + 1) if k not in self.names]
        if missing:
            line = declared[1] if declared else None
            self.problem("alternatives without a name", line, "alternative", missing[:5])
        return [self.names.get(k, (f"Alternative {k}", 0))[0] for k in range(1, count + 1)]

    def _kind(self) -> str:
        kind = self.data_type or "toi"
        if kind not in DATA_TYPES:
            self.problem(
                f"not an ordinal data type ({', '.join(DATA_TYPES)})", None, "data type", kind
            )
            return "toi"
        return kind

    # -- orders --------------------------------------------------------------------------------
    def _orders(
        self, orders: list[tuple[int, str]], n: int, kind: str
    ) -> tuple[list[list[int]], list[int]]:
        rows: list[list[int]] = []
        weights: list[int] = []
        legacy = not self.meta
        for number, line in orders:
            if legacy:
                count_text, sep, rest = line.partition(",")
            else:
                count_text, sep, rest = line.partition(":")
            count_text = count_text.strip()
            if not sep or not _whole(count_text):
                self.problem("expected 'count: order'", number, "count", line)
                continue
            ranking = self._ranking(rest, n, kind, number)
            if ranking is None:
                continue
            rows.append(ranking)
            weights.append(int(count_text))
        return rows, weights

    def _ranking(self, text: str, n: int, kind: str, line: int) -> list[int] | None:
        ranking: list[int] = []
        seen: set[int] = set()
        pos, text = 0, text.strip()
        while pos < len(text):
            m = _ITEM.match(text, pos)
            if m is None or m.end() == pos:
                self.problem("cannot read the order", line, "order", text)
                return None
            pos = m.end()
            group = m.group(1) if m.group(1) is not None else m.group(2)
            members: list[int] = []
            for part in group.split(","):
                part = part.strip()
                if not _whole(part) or not 1 <= int(part) <= n:
                    self.problem(f"not an alternative (1..{n})", line, "order", part)
                    return None
                code = int(part) - 1
                if code in seen:
                    self.problem("alternative ranked twice", line, "order", int(part))
                    return None
                seen.add(code)
                members.append(code)
            if len(members) == 1:
                ranking.append(members[0])
            else:
                if kind.startswith("s"):
                    self.problem(f"a tie in a strict-order ({kind}) file", line, "order", group)
                    return None
                key = tuple(sorted(members))
                ranking.append(overvote_set_code(self.sets.setdefault(key, len(self.sets))))
        if kind.endswith("c") and len(seen) != n:
            self.problem(f"a complete order ({kind}) must rank all {n}", line, "order", text)
            return None
        return ranking

    def _check_counts(self, unique: int, voters: int, alternatives: int) -> None:
        for key, actual in (
            ("NUMBER ALTERNATIVES", alternatives),
            ("NUMBER VOTERS", voters),
            ("NUMBER UNIQUE ORDERS", unique),
        ):
            declared = self.declared.get(key)
            # after a bad order line the totals differ anyway: report the line, not the total
            if declared is not None and declared[0] != actual and not self.errors:
                self.problem(
                    f"declared {declared[0]} but the file holds {actual}",
                    declared[1],
                    key.lower(),
                    declared[0],
                )


def _whole(text: str) -> bool:
    return text.isascii() and text.isdigit()
