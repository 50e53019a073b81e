"""The fault suite: bad inputs and faults, each ending in correct numbers or one clear error.

Every case asserts what the user sees: the exit code, the one ``error:`` line (it names the file or
option), that no traceback escapes, and that nothing half-written is left behind. Cases that are
numbers compare with a clean baseline. The shared tools of those cases:

- :func:`run_cli` runs ``gcl-bench`` in this process (``gcl_bench.cli.main``) and returns a :class:`CliResult`
  (fixture ``cli`` in conftest);
- :func:`expect_error` checks the one-line error contract;
- :func:`leftovers` lists temporary files (``*.tmp``, ``*.part``, staging folders) under a folder;
- fixture ``tiny_dataset`` (conftest) writes a small Marqo-GS folder that a case may damage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from gcl_bench.cli import main


@dataclass
class CliResult:
    """What one ``gcl-bench`` invocation printed and returned."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class _Main:
    """Adapter so CliRunner drives ``gcl_bench.cli.main`` (one-line errors, exit 2)."""

    name = "gcl-bench"

    def main(self, args, prog_name=None, **kwargs):  # the click protocol  # noqa: ANN001, ANN201
        main(list(args))


def run_cli(args: list[str]) -> CliResult:
    """Run ``gcl-bench ARGS`` in this process; an exception that escapes ``main`` is kept, not raised."""
    result = CliRunner().invoke(_Main(), [str(a) for a in args], catch_exceptions=True)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(result.exit_code, result.stdout, result.stderr, exception)


def expect_error(result: CliResult, *names: str, code: int = 2) -> str:
    """Assert the error contract and return the error line.

    Exit ``code``; no exception escaped (so no traceback); stderr is exactly one non-empty line,
    starting with ``error:``; the line contains every string of ``names`` (a file, an option...).
    """
    assert result.exception is None, f"an exception escaped: {result.exception!r}"
    assert "Traceback" not in result.stderr + result.stdout
    assert result.code == code, f"exit {result.code}, stderr: {result.stderr!r}"
    lines = result.error_lines
    assert len(lines) == 1, f"expected one error line, got {lines!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    for name in names:
        assert str(name) in line, f"{name!r} not named in {line!r}"
    return line


def leftovers(folder: Path) -> list[Path]:
    """Temporary files and staging folders under ``folder`` (what an interrupted write leaves)."""
    pattern = re.compile(r"(\.tmp$|\.part$|\.staging|\.extracting)")
    return sorted(p for p in Path(folder).rglob("*") if pattern.search(p.name))


