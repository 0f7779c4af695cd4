"""The counting engine: pure, deterministic, no I/O, no clock, no floats."""
