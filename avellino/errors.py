"""The exception hierarchy. Every message here is written for an analyst, not a programmer."""

from __future__ import annotations

from dataclasses import dataclass


class AvellinoError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""

    exit_code = 1


class ConfigError(AvellinoError):
    """A mapping, setting or option is wrong."""

    exit_code = 2


class MarkingError(AvellinoError):
    """A handling code, TLP label, evaluation or data-subject category is missing or invalid."""


class StoreError(AvellinoError):
    """The workspace or database cannot be used."""


class BatchExists(StoreError):
    """The file was imported with this mapping already (on a shared server, possibly by another writer at the
    same moment): nothing was written."""

    def __init__(self, source: str, batch_id: str, rows: int):
        self.source = source
        self.batch_id = batch_id
        self.rows = rows
        super().__init__(f"{source} was already imported with this mapping (batch {batch_id[:8]}); nothing was written")


@dataclass(frozen=True)
class RowProblem:
    """One bad value in an input file: where it is and why it is wrong."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        column = f", column {self.column!r}" if self.column else ""
        return f"{self.file}: row {self.row}{column}: {self.reason}"


class InputRejected(AvellinoError):
    """A file was rejected whole because some of its rows are bad. Nothing was written."""

    exit_code = 3

    def __init__(self, file: str, problems: list[RowProblem], total_rows: int | None = None):
        self.file = file
        self.problems = problems
        self.total_rows = total_rows
        shown = "\n".join(f"  - {p}" for p in problems[:200])
        more = f"\n  ... and {len(problems) - 200} more" if len(problems) > 200 else ""
        rows = len({p.row for p in problems})
        super().__init__(
            f"{file} was rejected: {len(problems)} problem(s) in {rows} row(s); nothing was imported.\n{shown}{more}"
        )

    def __reduce__(self) -> tuple[type[InputRejected], tuple[str, list[RowProblem], int | None]]:
        # rebuilt from its parts when it crosses a process boundary (parallel ingest)
        return (InputRejected, (self.file, self.problems, self.total_rows))


class UnreadableFile(InputRejected):
    """A file that cannot be read at all (missing, corrupt, not the format its mapping says, wrong encoding), or
    whose layout is broken at one place (a ragged row, an unclosed quote). One line: file, row where there is one,
    reason. Nothing was written; in a run of several files the others still import."""

    def __init__(self, file: str, reason: str, row: int | None = None):
        self.reason = reason
        self.row = row
        where = f"row {row}: " if row is not None else ""
        problem = RowProblem(file, row if row is not None else 0, "", reason)
        AvellinoError.__init__(self, f"{file}: {where}{reason}; nothing was imported")
        self.file = file
        self.problems = [problem]
        self.total_rows = None

    def __reduce__(self) -> tuple[type[UnreadableFile], tuple[str, str, int | None]]:  # type: ignore[override]
        return (UnreadableFile, (self.file, self.reason, self.row))
