"""The option types a caller chooses for a rule: closed enums, no strings, no aliases.

Kept apart from :mod:`.params` (which holds them in :class:`~.params.RuleParams`) so that the
command line can offer their values without loading the engine.
"""

from __future__ import annotations

import enum

__all__ = ["Arithmetic", "DefeatBatch", "QuotaRule"]


class QuotaRule(enum.Enum):
    """How the quota is set from the valid papers ``V`` and the seats ``S``, at ``d`` places."""

    DROOP = "droop"  # floor(V / (S + 1)) + 1 whole votes
    DROOP_FRACTIONAL = "droop-fractional"  # floor_d(V / (S + 1)) + 10**-d (PRF WIGM A.1)
    HARE = "hare"  # ceil_d(V / S), at least 10**-d


class Arithmetic(enum.Enum):
    """How a rule that offers a choice computes its values."""

    FIXED = "fixed"  # integers in units of 10**-places, every rounding named by the rule
    GUARDED = "guarded"  # Droop's: fixed point with guard digits, equal within half a unit
    RATIONAL = "rational"  # exact fractions (a rule may still round some values, as it says)


class DefeatBatch(enum.Enum):
    """Whether a rule defeats several candidates at once where it can (droop's
    ``defeat_batch``)."""

    NONE = "none"  # one defeat at a time
    SAFE = "safe"  # every sure loser at once (droop's "safe" batch, PRF WIGM B.2)
