"""Downloads: never a file under its final name that was not verified (by size, hash, or its format),
never a scheme other than http(s), never a non-checkpoint stored as model weights."""
from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.harness import expect_error, leftovers, run_cli
from faults.http_server import LoopbackServer, Served, serve

MODEL = "gcl-vitb32"  # a registry entry with a weights URL and no recorded size or hash


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    yield from serve()


@pytest.fixture
def weights_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GCL_BENCH_CACHE", str(tmp_path / "cache"))
    from gcl_bench.models import get_model_info

    info = get_model_info(MODEL)
    assert info.sha256 is None and info.size is None
    from gcl_bench.download import weights_path

    return weights_path(info.url)


def _torch_checkpoint() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"state_dict": {"w": torch.arange(4000, dtype=torch.float32)}}, buffer)
    return buffer.getvalue()


def _safetensors() -> bytes:
    import torch
    from safetensors.torch import save

    return save({"w": torch.arange(4000, dtype=torch.float32)})


def _tar(members: int = 3) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for i in range(members):
            data = bytes([i]) * 3000
            info = tarfile.TarInfo(f"marqo_gs_tiny/file_{i}.bin")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _download_model(url: str):
    return run_cli(["download", "model", MODEL, "--url", url, "-q"])


@pytest.mark.parametrize("make", [_torch_checkpoint, _safetensors], ids=["torch zip", "safetensors"])
def test_a_checkpoint_cut_short_without_content_length_is_not_kept(server: LoopbackServer, weights_cache: Path,
                                                                   make) -> None:  # noqa: ANN001
    body = make()
    server.files["/w.pt"] = Served(body, cut=len(body) // 2, length=False)
    line = expect_error(_download_model(server.url("/w.pt")), str(weights_cache), server.url("/w.pt"))
    assert "not a complete" in line and "it was not kept" in line
    assert not weights_cache.exists() and leftovers(weights_cache.parent) == []
    server.files["/w.pt"] = Served(body, length=False)  # the whole file, still without a length
    done = _download_model(server.url("/w.pt"))
    assert done.code == 0, done.stderr
    assert weights_cache.read_bytes() == body


def test_a_cut_file_already_at_the_final_name_is_not_trusted(tiny_dataset: Path, tmp_path: Path,
                                                             weights_cache: Path, monkeypatch) -> None:
    """What an older gcl-bench left after a transfer that ended early: refused by download and run."""
    weights_cache.parent.mkdir(parents=True)
    body = _torch_checkpoint()
    weights_cache.write_bytes(body[: len(body) // 2])
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    line = expect_error(run_cli(["download", "model", MODEL, "-q"]), str(weights_cache), "delete it")
    assert "not a complete checkpoint" in line
    run = run_cli(["run", "--model", MODEL, "--data-dir", tiny_dataset, "--split", "zero_shot",
                   "--output-dir", tmp_path / "out", "-q"])
    assert expect_error(run, str(weights_cache)) == line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("body", "content_type", "looks_like"), [
    (b"<!DOCTYPE html><html><body>403 Forbidden</body></html>" * 20, "text/html", "an HTML page"),
    (_tar(), "application/x-tar", "a tar archive"),
], ids=["html page", "tar archive"])
def test_a_model_download_that_is_not_a_checkpoint_is_refused(server: LoopbackServer, weights_cache: Path,
                                                              body: bytes, content_type: str, looks_like: str) -> None:
    server.files["/w.pt"] = Served(body, content_type=content_type)
    line = expect_error(_download_model(server.url("/w.pt")), str(weights_cache))
    assert f"not a checkpoint (it starts like {looks_like})" in line
    assert not weights_cache.exists() and leftovers(weights_cache.parent) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/w.pt", "data:,hello"])
def test_urls_other_than_http_are_refused(weights_cache: Path, tmp_path: Path, url: str) -> None:
    line = expect_error(_download_model(url), url, str(weights_cache))
    assert "only http:// and https://" in line
    assert not weights_cache.exists()
    archive = run_cli(["download", "dataset", "--to", tmp_path / "data", "--url", url, "-q"])
    expect_error(archive, url, "only http:// and https://")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_a_dataset_archive_cut_at_a_member_boundary(server: LoopbackServer, tmp_path: Path) -> None:
    """Cut exactly after a member, a tar reads as a shorter valid archive: only its end blocks tell."""
    body = _tar()
    boundary = 512 + 3072  # the first member's header and data
    server.files["/marqo-gs-dataset.tar"] = Served(body, cut=boundary, length=False)
    target = tmp_path / "data"
    result = run_cli(["download", "dataset", "--to", target, "--url", server.url("/marqo-gs-dataset.tar"), "-q"])
    line = expect_error(result, str(target / "marqo-gs-dataset.tar"))
    assert "end-of-archive" in line
    assert sorted(p.name for p in target.iterdir()) == []  # nothing extracted, no marker, no .part
    server.files["/marqo-gs-dataset.tar"] = Served(body, length=False)
    done = run_cli(["download", "dataset", "--to", target, "--url", server.url("/marqo-gs-dataset.tar"), "-q"])
    assert done.code == 0, done.stderr
    assert sorted(p.name for p in (target / "marqo_gs_tiny").iterdir()) == ["file_0.bin", "file_1.bin", "file_2.bin"]


def test_a_cut_archive_already_in_the_target_is_not_trusted(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "data"
    target.mkdir()
    (target / "marqo-gs-dataset.tar").write_bytes(_tar()[: 512 + 3072])
    monkeypatch.setenv("GCL_BENCH_OFFLINE", "1")
    line = expect_error(run_cli(["download", "dataset", "--to", target, "-q"]), str(target / "marqo-gs-dataset.tar"))
    assert "not a complete tar archive" in line and "delete it" in line
    assert sorted(p.name for p in target.iterdir()) == ["marqo-gs-dataset.tar"]


def test_a_read_only_download_folder(server: LoopbackServer, tmp_path: Path) -> None:
    from faults.filesystems import read_only_folder

    server.files["/marqo-gs-dataset.tar"] = Served(_tar())
    with read_only_folder(tmp_path / "locked"):
        result = run_cli(["download", "dataset", "--to", tmp_path / "locked" / "data",
                          "--url", server.url("/marqo-gs-dataset.tar"), "-q"])
        expect_error(result, str(tmp_path / "locked" / "data"), "not writable")
    assert server.requests == []  # refused before any transfer


def test_a_full_disk_during_a_download_keeps_the_part_to_resume(server: LoopbackServer,
                                                                weights_cache: Path) -> None:
    from faults.filesystems import disk_full_under

    body = _torch_checkpoint()
    server.files["/w.pt"] = Served(body)
    weights_cache.parent.mkdir(parents=True)
    with disk_full_under(weights_cache.parent):
        line = expect_error(_download_model(server.url("/w.pt")), str(weights_cache) + ".part", "No space left")
    assert "run the command again to resume" in line and not weights_cache.exists()
    done = _download_model(server.url("/w.pt"))
    assert done.code == 0, done.stderr
    assert weights_cache.read_bytes() == body and leftovers(weights_cache.parent) == []


def test_a_really_full_disk_while_downloading_an_archive(server: LoopbackServer, tmp_path: Path) -> None:
    from faults.filesystems import run_on_tiny_tmpfs

    server.files["/marqo-gs-dataset.tar"] = Served(_tar(members=4))
    mount = tmp_path / "mnt"
    code, lines = run_on_tiny_tmpfs(mount, ["download", "dataset", "--to", mount / "data", "--url",
                                            server.url("/marqo-gs-dataset.tar"), "-q"])
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {mount / 'data'}") and "No space left on device" in lines[0]
