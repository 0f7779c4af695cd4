"""tallyroom: membership ballots from the register to the declaration, with an exact count."""

__version__ = "0.1.0"
