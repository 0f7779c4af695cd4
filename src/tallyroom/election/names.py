"""What a name may hold, and when two names are the same name.

Candidate, section and contest names are shown to voters, written into every published file
and compared by the software, so each must be one unambiguous line of visible text:

* **one form**: a name is kept in Unicode Normalization Form C (NFC, UAX #15), the form the
  definition reader puts every text of the file into; ``Seán`` typed with a combining accent
  (NFD) is then the same name as ``Seán`` typed with the precomposed letter;
* **visible characters only**: refused are control characters (``Cc``: line breaks, tabs),
  format characters (``Cf``: the bidirectional embeddings, overrides and isolates U+202A-E and
  U+2066-9, the marks U+200E/F and U+061C, the zero-width space, joiner and non-joiner
  U+200B-D, the word joiner U+2060, the byte order mark U+FEFF, the soft hyphen), the line and
  paragraph separators (``Zl``, ``Zp``), surrogates, private-use and unassigned code points.
  Each of these can make a name look like another or break a file's lines (UTS #39 section 3.1
  lists the bidirectional and zero-width characters as a spoofing risk). The cost: a name that
  needs a zero-width non-joiner (some Persian spellings) must be written without it;
* **one name, one look**: two names are the same when their *keys* are equal
  (:func:`name_key`): case folded (``str.casefold``), decomposed (NFD), each character
  replaced by one representative of its confusable class, and decomposed again, after the
  skeleton of UTS #39 section 4. The classes are Unicode's confusables data
  (``confusables.txt``) as packaged by ``confusable-homoglyphs`` 3.3.1, joined transitively
  (if ``a`` is confusable with ``b`` and ``b`` with ``c``, all three are one class), single
  characters only; the class representative is its smallest code point. One sequence is
  added by hand: ``"`` is read as ``''``, which is its skeleton in ``confusables.txt`` and how
  a BLT file writes it (:func:`tallyroom.formats.blt.write_blt`), so that two names that
  would read the same in a BLT file are refused too.

So ``Jeremy Corbyn`` and ``JEREMY CORBYN``, ``Jeremy Corbyn`` with a Cyrillic ``е``, and
``Seán`` in NFC and NFD are each one name; ``Sean`` and ``Seán`` are two.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

__all__ = ["BLT_QUOTE", "look_alikes", "name_keys", "name_problem", "shown_character"]

BLT_QUOTE = "''"
"""How a double quote in a name is written in BLT (its UTS #39 skeleton, two apostrophes)."""

_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}


def shown_character(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named so that it can be seen."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"


def name_problem(text: str) -> str | None:
    """What makes ``text`` unusable as a name, or ``None`` (see the module docstring)."""
    if not text.strip():
        return "must be non-empty text"
    if text != text.strip():
        return "must not begin or end with spaces"
    for ch in text:
        what = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if what is not None:
            return f"holds {what}, {shown_character(ch)}: a name is one line of visible text"
    if not unicodedata.is_normalized("NFC", text):
        return "must be in Unicode Normalization Form C (NFC)"
    return None


@cache
def _classes() -> dict[str, str]:
    """Each confusable character -> its class representative (smallest code point)."""
    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        root = ch
        while parent.get(root, root) != root:
            root = parent[root]
        while ch != root:  # path compression
            parent[ch], ch = root, parent[ch]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            low, high = (ra, rb) if ra < rb else (rb, ra)
            parent[high] = low

    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    for ch, homoglyphs in data.items():
        if len(ch) != 1:
            continue
        parent.setdefault(ch, ch)
        for h in homoglyphs:
            other = h["c"]
            if len(other) == 1:
                parent.setdefault(other, other)
                union(ch, other)
    return {ch: find(ch) for ch in parent}


def _skeleton(text: str) -> str:
    classes = _classes()
    decomposed = unicodedata.normalize("NFD", text.replace('"', BLT_QUOTE))
    return unicodedata.normalize("NFD", "".join(classes.get(ch, ch) for ch in decomposed))


def name_keys(text: str) -> tuple[str, str, str]:
    """The keys of a name: two names are the same name when any key of one equals the same
    key of the other (see the module docstring)."""
    return (_skeleton(text), _skeleton(text.casefold()), _skeleton(text.upper()))


def look_alikes(names: Sequence[str]) -> list[tuple[int, int]]:
    """``(k, j)`` for each name ``k`` that is the same name as an earlier name ``j``."""
    first: dict[tuple[int, str], int] = {}
    out = []
    for k, name in enumerate(names):
        keys = [(kind, key) for kind, key in enumerate(name_keys(name))]
        earlier = [first[key] for key in keys if key in first]
        if earlier:
            out.append((k, min(earlier)))
        for key in keys:
            first.setdefault(key, k)
    return out
