"""Live progress on the console: one bar per running step, a spinner while something waits.

The stages never import rich: each takes a plain callback, ``progress(label, done, total)``
(:data:`ProgressCallback`), and calls it after every model batch, search block or parsed
slice. A :class:`Reporter` turns those calls into bars (items done, items/s, ETA) on stderr;
:class:`SilentReporter` (``-q``, the Python API's default, helper ranks under torchrun) ignores
them. ``status(text)`` shows a spinner line while something with no item count runs (importing
torch, compiling kernels, scoring), so the screen is never blank; ``log(text)`` prints a line
that stays above the bars. A bar disappears when its step is done: what stays is the stage
summary the command prints.

May import: rich, :mod:`gcl_bench.distributed` (the rank), the standard library.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, ProgressColumn
from rich.text import Text

ProgressCallback = Callable[[str, int, int], None]
"""``progress(label, items_done, items_total)``; ``label`` names the step (e.g. ``encode doc/image``)."""


class SilentReporter:
    """Shows nothing; every command and stage can call it unconditionally."""

    def update(self, label: str, done: int, total: int) -> None:
        """Set step ``label`` to ``done`` of ``total`` items (a bar appears on the first call)."""

    @contextmanager
    def status(self, text: str) -> Iterator[None]:
        """A spinner line ``text`` while the block runs."""
        yield

    def log(self, text: Any) -> None:
        """A line (rich markup allowed) or a rich renderable that stays on the screen."""

    def close(self) -> None:
        """Remove whatever is still live."""


class Reporter(SilentReporter):
    """Bars and spinners on stderr, drawn by one rich live display shared by every step."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), _BarColumn(bar_width=30),
            _CountColumn(), RateColumn(), _RemainingColumn(), TimeElapsedColumn(),
            console=self.console, transient=True, refresh_per_second=8,
        )
        self._tasks: dict[str, Any] = {}
        self._started = False

    def _start(self) -> None:
        if not self._started:
            self._progress.start()
            self._started = True

    def update(self, label: str, done: int, total: int) -> None:
        self._start()
        task = self._tasks.get(label)
        if task is None:
            task = self._tasks[label] = self._progress.add_task(label, total=total)
        self._progress.update(task, completed=done, total=total)
        if total and done >= total:  # finished: the bar goes, the summary tells what it did
            self._progress.remove_task(task)
            del self._tasks[label]

    @contextmanager
    def status(self, text: str) -> Iterator[None]:
        self._start()
        task = self._progress.add_task(text, total=None)
        try:
            yield
        finally:
            self._progress.remove_task(task)

    def log(self, text: Any) -> None:
        self.console.print(text, highlight=False, soft_wrap=isinstance(text, str))  # the terminal wraps lines

    def close(self) -> None:
        for task in self._tasks.values():
            self._progress.remove_task(task)
        self._tasks.clear()
        if self._started:
            self._progress.stop()
            self._started = False


def make_reporter(show: bool) -> SilentReporter:
    """A :class:`Reporter` when ``show`` (and this is rank 0 under torchrun), else a silent one."""
    if not show:
        return SilentReporter()
    from gcl_bench.distributed import rank

    return Reporter() if rank() == 0 else SilentReporter()


def step_callback(reporter: SilentReporter, prefix: str) -> ProgressCallback:
    """A :data:`ProgressCallback` whose labels are shown as ``f"{prefix} {label}"``."""

    def update(label: str, done: int, total: int) -> None:
        reporter.update(f"{prefix} {label}".strip(), done, total)

    return update


@contextmanager
def loading(text: str, show: bool = True) -> Iterator[None]:
    """A stand-alone spinner ``text`` on stderr while the block runs (e.g. while torch imports).

    Only on a terminal: in a log or a pipe it prints nothing (as rich's bars do there).
    """
    if not show or not sys.stderr.isatty():
        yield
        return
    reporter = Reporter()
    try:
        with reporter.status(text):
            yield
    finally:
        reporter.close()


class _BarColumn(BarColumn):
    """rich's bar, left out for a spinner (a step without an item count)."""

    def render(self, task: Any) -> Any:
        return Text("") if task.total is None else super().render(task)


class _CountColumn(ProgressColumn):
    """``done/total`` with thousands separators; nothing for a spinner."""

    def render(self, task: Any) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed):,}/{int(task.total):,}", style="progress.download")


class RateColumn(ProgressColumn):
    """Items (or ``unit``) per second over the recent updates."""

    def __init__(self, unit: str = "") -> None:
        super().__init__()
        self.unit = f" {unit}" if unit else ""

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        if task.total is None or not speed:
            return Text("")
        return Text(f"{format_rate(speed)}{self.unit}/s", style="progress.data.speed")


class _RemainingColumn(ProgressColumn):
    """``ETA m:ss`` once a rate is known."""

    def render(self, task: Any) -> Text:
        remaining = task.time_remaining
        if task.total is None or remaining is None:
            return Text("")
        minutes, seconds = divmod(int(remaining), 60)
        return Text(f"ETA {minutes}:{seconds:02d}", style="progress.remaining")


def format_rate(per_second: float) -> str:
    """``1234.5`` -> ``"1.2k"``; ``12.34`` -> ``"12.3"``; the number part of an items/s figure."""
    if per_second >= 1e6:
        return f"{per_second / 1e6:.1f}M"
    if per_second >= 1e4:
        return f"{per_second / 1e3:.0f}k"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f}k"
    return f"{per_second:.1f}" if per_second < 100 else f"{per_second:.0f}"
