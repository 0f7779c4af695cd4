"""Types of the compiled BLT ballot scan (source: _blt_c.c; used by blt_native.py)."""

def scan_plain(
    data: bytes, start: int, end: int, n: int, /
) -> tuple[bytearray, bytearray, int, int] | None: ...
