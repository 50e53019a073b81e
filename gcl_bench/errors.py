"""The one exception type users see.

Every expected failure (bad input, missing file, unknown name) raises :class:`GclBenchError`
with a message that names the file and what is wrong. The CLI prints it as one line and exits
with code 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import os


class GclBenchError(Exception):
    """A user-facing error: ``str(err)`` is one line, ``"<path>: <problem>"`` when a path is known."""

    exit_code = 2

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.message = message
        self.path = None if path is None else os.fspath(path)
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)
