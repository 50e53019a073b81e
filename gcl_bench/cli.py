"""The ``gcl-bench`` command line.

Each sub-command lives in ``gcl_bench/commands/<name>.py`` as a click command called ``command``
and is imported only when it is used, so ``gcl-bench --help`` does not pay for torch; on a
terminal a spinner says so while a command module is imported.
Expected failures (:class:`~gcl_bench.errors.GclBenchError`) print one line and exit with 2, and so
does an exception raised inside a plug-in's code (naming the plug-in and the method); ``--debug``
shows the traceback instead. A bad option value or a missing argument (click's usage errors) is
one ``error:`` line too, with exit code 2. Any other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

from gcl_bench import __version__
from gcl_bench.errors import GclBenchError

#: command name -> (module, one-line help shown by ``gcl-bench --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("gcl_bench.commands.run", "Evaluate one model on one split, end to end."),
    "evaluate": ("gcl_bench.commands.evaluate", "Score an external run file against judgements."),
    "info": ("gcl_bench.commands.info", "Show per-split counts of a dataset folder."),
    "sample": ("gcl_bench.commands.sample", "Write a synthetic benchmark in the Marqo-GS layout."),
    "models": ("gcl_bench.commands.models", "List the registered models."),
    "download": ("gcl_bench.commands.download", "Download the dataset archives or model weights."),
    "train": ("gcl_bench.commands.train", "Train a GCL model on a split's triplets."),
    "leaderboard": ("gcl_bench.commands.leaderboard", "Build Markdown/LaTeX/CSV tables from results."),
    "cache": ("gcl_bench.commands.cache", "Show or clear the caches (datasets, embeddings, weights ...)."),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _module_exists(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _module_exists(COMMANDS[name][0]):
            return None
        module = COMMANDS[name][0]
        if module in sys.modules or not _shows_progress():
            return importlib.import_module(module).command
        from gcl_bench.progress import loading

        with loading(f"loading gcl-bench {name}"):  # e.g. train imports torch with its flags
            return importlib.import_module(module).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _shows_progress() -> bool:
    """Whether a spinner may be drawn: stderr is a terminal and no ``-q``/``--quiet``/``--help``."""
    return sys.stderr.isatty() and not set(sys.argv[1:]) & {"-q", "--quiet", "-h", "--help"}


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcl-bench")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Benchmark and train ranking-aware retrievers on Marqo-GS-10M."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI, turning GclBenchError into one line and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("GCL_BENCH_DEBUG") == "1"
    try:
        cli.main(args=args, prog_name="gcl-bench", standalone_mode=False)
    except GclBenchError as err:
        if debug:
            raise
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as err:  # a bad option value: one line, as every other input error
        command = err.ctx.command_path if err.ctx is not None else "gcl-bench"
        click.echo(f"error: {err.format_message()} (see '{command} --help')", err=True)
        sys.exit(err.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    except Exception as err:  # a plug-in's exception is one line; any other keeps its traceback
        from gcl_bench.models.plugins import plugin_failure

        failure = plugin_failure(err)
        if failure is None or debug:
            raise
        click.echo(f"error: {failure}", err=True)
        sys.exit(failure.exit_code)
