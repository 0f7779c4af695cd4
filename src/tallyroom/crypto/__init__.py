"""Credentials voters can type, and ballots sealed to the returning officer's key."""
