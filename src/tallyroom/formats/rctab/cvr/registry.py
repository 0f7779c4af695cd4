"""The one table of CVR providers: which :class:`CvrProvider` reads each ``provider`` value.

Read by :mod:`.contest` (the records of a source) and :mod:`.candidates` (the candidates a
source names). A new provider is one module exposing ``PROVIDER`` and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tallyroom.formats.rctab.config import CvrSource, Provider
from tallyroom.formats.rctab.cvr import cdf, clear_ballot, dominion, ess, generic_csv, hart
from tallyroom.formats.rctab.cvr.provider import CvrProvider

__all__ = ["PROVIDERS", "provider_of"]

PROVIDERS: Mapping[Provider, CvrProvider] = MappingProxyType(
    {
        Provider.ESS: ess.PROVIDER,
        Provider.CDF: cdf.PROVIDER,
        Provider.DOMINION: dominion.PROVIDER,
        Provider.CLEAR_BALLOT: clear_ballot.PROVIDER,
        Provider.HART: hart.PROVIDER,
        Provider.GENERIC_CSV: generic_csv.PROVIDER,
    }
)


def provider_of(source: CvrSource) -> CvrProvider:
    """The provider that reads ``source`` (every :class:`Provider` value has one)."""
    return PROVIDERS[source.provider]
