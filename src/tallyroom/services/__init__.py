"""Use cases over the engine, the formats and (later) the store."""
