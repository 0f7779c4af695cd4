"""The verifier's report: every named check in order, passed, failed (with each problem, the
file and where in it) or skipped (and why), and the first failure.

Like audit/verify.py's result, a :class:`RecordReport` refuses to be read as a bool: callers
say ``report.ok``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "CheckStatus", "Finding", "RecordReport"]


class CheckStatus(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: the record's file it is in (``None``: the record as a whole), where in
    the file (a line, a position, a field) and what is wrong."""

    file: str | None
    where: str | None
    problem: str

    def __str__(self) -> str:
        place = ":".join(p for p in (self.file, self.where) if p)
        return f"{place}: {self.problem}" if place else self.problem

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "where": self.where, "problem": self.problem}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its name, its status, what it found, what it covered and how long it took."""

    name: str
    status: CheckStatus
    findings: tuple[Finding, ...] = ()
    summary: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "summary": self.summary,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class RecordReport:
    """What verifying a record found, check by check."""

    election: str | None
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.status is CheckStatus.PASSED for c in self.checks)

    @property
    def first_failure(self) -> CheckResult | None:
        for c in self.checks:
            if c.status is CheckStatus.FAILED:
                return c
        return None

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.status is CheckStatus.FAILED)

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def __bool__(self) -> bool:
        raise TypeError("a RecordReport is not a bool: test report.ok")

    def summary(self, *, limit: int = 10) -> str:
        """The report in words: a line per check, up to ``limit`` problems under each."""
        lines = []
        for c in self.checks:
            detail = f" ({c.summary})" if c.summary else ""
            lines.append(f"{c.status.value:7} {c.name}{detail}")
            for finding in c.findings[:limit]:
                lines.append(f"          {finding}")
            if len(c.findings) > limit:
                lines.append(f"          ... and {len(c.findings) - limit} more")
        first = self.first_failure
        who = f" of {self.election}" if self.election else ""
        if first is None:
            lines.append(f"the election record{who} verifies: every check passed")
        else:
            lines.append(
                f"the election record{who} does NOT verify: first failed check {first.name!r}"
                f" ({first.findings[0] if first.findings else 'no detail'})"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        first = self.first_failure
        return {
            "election": self.election,
            "ok": self.ok,
            "first_failure": None if first is None else first.name,
            "checks": [c.to_json() for c in self.checks],
        }
