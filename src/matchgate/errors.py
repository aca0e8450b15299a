"""One error hierarchy: every error carries a stable code, a sentence for people, an HTTP status
and a process exit code, so that the CLI and the API map any of them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class MatchgateError(Exception):
    """Base of every error matchgate raises on purpose."""

    code = "error"
    status = 500
    exit_code = 1

    def __init__(self, message: str, *, problems: list[Problem] | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole (an error raised in a child process, match/offload.py, reaches the
        batch with its problems and hint)."""
        return (_rebuilt, (type(self), self.message), dict(self.__dict__))

    def __str__(self) -> str:
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def _rebuilt(kind: type[MatchgateError], message: str) -> MatchgateError:
    """An error of that kind with that message; its attributes follow (pickle's state)."""
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    return error


class InputError(MatchgateError):
    """A file or value supplied by a user is missing, unreadable or malformed."""

    code = "invalid_input"
    status = 400
    exit_code = 2


class NotFound(InputError):
    code = "not_found"
    status = 404


class AgreementError(InputError):
    """The agreement does not parse or does not validate; every problem is listed at once."""

    code = "invalid_agreement"
    status = 422


class ManifestError(InputError):
    code = "invalid_manifest"
    status = 422


class StoreError(MatchgateError):
    """The match store or the operational store is missing or inconsistent."""

    code = "store_error"
    status = 503
    exit_code = 3


class ConfigError(MatchgateError):
    """The configuration names something that is not available (an engine, an optional
    dependency that is not installed)."""

    code = "configuration_error"
    status = 500
    exit_code = 5


class NoSpace(MatchgateError):
    """A folder matchgate writes to (the temporary folder, where DuckDB spills) is full. Nothing
    recorded is lost; the same command resumes once space is freed."""

    code = "no_space"
    status = 507
    exit_code = 75  # EX_TEMPFAIL: try again later


class AuditChainBroken(MatchgateError):
    """The audit chain does not verify."""

    code = "audit_chain_broken"
    status = 500
    exit_code = 4


class StoreInconsistent(MatchgateError):
    """The store holds what a crash or an edit must never leave: a request without its
    decision, an event twice, requests that differ from those received (audit/consistency.py).
    The same exit code as a broken chain: both mean the record cannot be trusted as it is."""

    code = "store_inconsistent"
    status = 500
    exit_code = 4


@dataclass
class ProblemCollector:
    """Collects problems so that a user can fix all of them in one pass."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, *, file: str | None = None, row: int | None = None,
            field: str | None = None) -> None:
        self.problems.append(Problem(message, file=file, row=row, field=field))

    def __bool__(self) -> bool:
        return bool(self.problems)
