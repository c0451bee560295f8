"""Error and warning types shared by readers, checks and shells.

Every rejection of user input is an :class:`InputError` that names the place: the file, the row (1-based line
number in the file, header included) or the path in a document, and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One problem found in user input.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str, optional
        File name as the user gave it.
    row : int, optional
        1-based line number in the file (the header is line 1).
    field : str, optional
        Column name or dotted path in a document (``members[2].pods[0].pod``).
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"riga {self.row}")
        if self.field:
            where.append(self.field)
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class InputError(Exception):
    """Bad user input; carries one or more :class:`Problem` (exit code 2 in the CLI)."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = self.problems[:20]
        lines = [str(p) for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"... e altri {len(self.problems) - len(shown)} problemi")
        return "\n".join(lines)

    @classmethod
    def one(
        cls, message: str, *, file: str | None = None, row: int | None = None, field: str | None = None
    ) -> InputError:
        """Build an error with a single problem."""
        return cls([Problem(message, file=file, row=row, field=field)])
