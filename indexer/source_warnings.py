"""Bad source items (a file, or one JSON line) are skipped with a warning, never silently.

Each warning names the file (and line) and says what is wrong; it is printed on stderr as it
happens and counted in the summary line. With `--strict` the run stops instead, after reading
every source (so all problems are listed at once) and before anything is written.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO


class SourceError(ValueError):
    """A source file or line that cannot be read as an article; `field` names the JSON field at fault, if one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class SourceWarnings:
    strict: bool = False
    stream: TextIO | None = None  # default: sys.stderr at the time of the warning
    messages: list[str] = field(default_factory=list)

    def __call__(self, problem: SourceError | str) -> None:
        message = str(problem)
        self.messages.append(message)
        print(f"warning: {message}", file=self.stream or sys.stderr, flush=True)

    def __len__(self) -> int:
        return len(self.messages)

    def check(self, articles: int) -> None:
        """Stop the run where a warning must be an error: `--strict`, or nothing readable at all."""
        if not self.messages:
            return
        if self.strict:
            raise SourceError(
                f"{len(self.messages)} bad source item(s) and --strict is set; nothing was written "
                f"(first: {self.messages[0]})"
            )
        if articles == 0:
            raise SourceError(
                f"no article could be read: all {len(self.messages)} source item(s) were bad; nothing was written "
                f"(first: {self.messages[0]})"
            )
