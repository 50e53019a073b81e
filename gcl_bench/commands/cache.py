"""``gcl-bench cache info|clear``: what the cache root holds per kind, and removing it."""
from __future__ import annotations

import click

from gcl_bench.commands.common import quiet_option


@click.group("cache")
def command() -> None:
    """Show or clear the caches under GCL_BENCH_CACHE (default ~/.cache/gcl_bench).

    \b
    Examples:
      gcl-bench cache info
      gcl-bench cache clear embeddings --yes
      GCL_BENCH_CACHE=/scratch/gcl gcl-bench run --model bm25   # move the cache
    """


@command.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@quiet_option("Print only the total size.")
def info(as_json: bool, quiet: bool) -> None:
    """Files and sizes per kind: datasets, embeddings, weights, bm25, numba, images, sample, tmp."""
    from gcl_bench.caches import cache_root_source, cache_usage, format_bytes
    from gcl_bench.config import cache_dir

    rows = cache_usage()
    total = sum(row.bytes for row in rows)
    if as_json:
        from gcl_bench.io import dumps_json

        payload = {"root": str(cache_dir()), "chosen_by": cache_root_source(), "total_bytes": total,
                   "kinds": [{"kind": r.kind, "path": str(r.path), "files": r.files, "bytes": r.bytes} for r in rows]}
        click.echo(dumps_json(payload).decode("utf-8"), nl=False)
        return
    if quiet:
        click.echo(format_bytes(total))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cache {cache_dir()} (set by {cache_root_source()})", title_justify="left")
    for column, justify in (("kind", "left"), ("files", "right"), ("size", "right"), ("holds", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(row.kind, f"{row.files:,}", format_bytes(row.bytes), row.what if row.kind != "other" else str(row.path))
    table.add_row("total", f"{sum(r.files for r in rows):,}", format_bytes(total), "", style="bold")
    Console().print(table)


@command.command("clear")
@click.argument("kinds", nargs=-1)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@quiet_option("Print nothing but errors.")
def clear(kinds: tuple[str, ...], yes: bool, quiet: bool) -> None:
    """Remove the cache of each KIND (default: every kind). Everything is rebuilt on next use;
    weights are downloaded again."""
    import sys

    from gcl_bench.caches import CACHE_KINDS, check_kind, clear_cache, format_bytes
    from gcl_bench.config import cache_dir
    from gcl_bench.errors import GclBenchError

    chosen = [check_kind(kind) for kind in kinds] or list(CACHE_KINDS)
    if not yes:
        if not sys.stdin.isatty():
            raise GclBenchError(f"gcl-bench cache clear {' '.join(kinds) or '(all kinds)'}: confirm with --yes")
        click.confirm(f"Remove {', '.join(chosen)} under {cache_dir()}?", abort=True, err=True)
    removed = clear_cache(chosen)
    if not quiet:
        for row in removed:
            click.echo(f"removed {row.kind}: {row.files:,} files, {format_bytes(row.bytes)} ({row.path})")
