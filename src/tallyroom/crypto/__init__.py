"""Credentials voters can type, ballots sealed to the returning officer's key, and the
verifiable ballot's cryptography (group, encoding, proofs, key ceremony, threshold
decryption: see docs/verifiable.md)."""
