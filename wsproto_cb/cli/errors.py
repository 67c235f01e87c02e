"""The one error the command line reports without a traceback."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """A problem the user can fix: printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status
