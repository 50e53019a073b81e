"""``gcl-bench download``: fetch the Marqo-GS-10M archives or a registry model's weights.

``gcl-bench download dataset|images|wfash-images -o DIR`` downloads one release archive
(resumable, verified) and unpacks it safely into DIR; ``gcl-bench download model NAME`` puts a
registry model's weights into the cache (``GCL_BENCH_CACHE``/weights).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gcl_bench.commands.common import output_option, quiet_option

TARGETS = ("dataset", "images", "wfash-images", "model")


def _progress_bar(label: str):  # noqa: ANN202 - returns a (callback, finish) pair
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), transient=True,
    )
    task = progress.add_task(label, total=None)
    started = []

    def update(done: int, total: int | None) -> None:
        if not started:  # start on the first byte, so an early error prints one clean line
            progress.start()
            started.append(True)
        progress.update(task, completed=done, total=total)

    def finish() -> None:
        if started:
            progress.stop()

    return update, finish


@click.command("download")
@click.argument("what", type=click.Choice(TARGETS))
@click.argument("name", required=False)
@output_option("--output-dir", "-o", dest="to_dir", old=("--to",), path_type=Path,
               help="Folder to unpack a dataset archive into (required for dataset/images/wfash-images).")
@click.option("--keep-archive", is_flag=True, help="Keep the downloaded .tar after unpacking it.")
@click.option("--url", default=None, help="Download from this URL instead (a mirror).")
@quiet_option("No progress bar; print only the result line.")
def command(what: str, name: str | None, to_dir: Path | None, keep_archive: bool, url: str | None,
            quiet: bool) -> None:
    """Download WHAT: a dataset archive (dataset, images, wfash-images) or `model NAME`."""
    from gcl_bench.errors import GclBenchError

    if what == "model" and not name:
        raise GclBenchError("gcl-bench download model NAME: give a registry name (see gcl-bench models)")
    if what != "model" and name:
        raise GclBenchError(f"gcl-bench download {what} takes no NAME (got {name!r})")
    if what != "model" and to_dir is None:
        raise GclBenchError(f"gcl-bench download {what} needs --output-dir DIR")
    if what == "model":
        from gcl_bench.models import get_model_info

        get_model_info(str(name))  # an unknown name fails before any progress bar
    update, finish = (None, lambda: None) if quiet else _progress_bar(what if what != "model" else str(name))
    try:
        if what == "model":
            path = _download_model(str(name), url, update)
            finish()
            click.echo(f"{name}: {path}")
            return
        from gcl_bench.download import download_archive

        assert to_dir is not None
        result = download_archive(what, to_dir, keep_archive=keep_archive, url=url, progress=update)
    finally:
        finish()
    if result["skipped"]:
        click.echo(f"{what}: already unpacked in {to_dir} (delete {to_dir}/.{Path(result['archive']).name}.extracted to redo)")
    else:
        click.echo(f"{what}: unpacked {', '.join(result['extracted']) or 'nothing'} into {to_dir}")


def _download_model(name: str, url: str | None, update: Any) -> Path:
    from gcl_bench.models import download_weights, get_model_info

    return download_weights(get_model_info(name), url=url, progress=update)
