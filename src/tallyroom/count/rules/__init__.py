"""Counting rules: one module per rule family, each a function from ballots to a Count."""
