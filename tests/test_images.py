"""The image pipeline: the ``gpu`` decoder's tensor path (run here on the CPU) against PIL.

Tolerance, from how the two resample: PIL resizes in two separable fixed-point passes with an
8-bit intermediate image; the tensor path computes in float32 and rounds once. The decoded
JPEG pixels are identical (both use libjpeg-turbo here), so every difference comes from the
resize: at most a few levels at sharp edges, a fraction of a level on average. Measured on noisy
JPEGs of 256-700 px: at most 4 levels, 16% of values off by one level, mean 0.16 level. (Pixel
noise at full amplitude is the worst case, up to 25 levels: PIL clips the overshoot of its first
pass, the float path only at the end.) A wrong crop offset, a missing normalisation or a
nearest-neighbour resize is tens of levels off on average.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gcl_bench.errors import GclBenchError
from gcl_bench.models.images import (
    TensorPreprocess,
    check_decode,
    iter_device_batches,
    iter_image_batches,
    load_image,
)

MAX_LEVELS = 5.0
MEAN_LEVELS = 0.3


@pytest.fixture(scope="module")
def preprocess():
    import open_clip

    return open_clip.image_transform(224, is_train=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """JPEGs of several sizes (two alike, one smaller than the crop), grey, PNG, broken ones."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("pipeline")
    rng = np.random.default_rng(0)
    paths = {}
    for name, (h, w) in {"a": (300, 420), "b": (300, 420), "c": (517, 263), "small": (150, 120)}.items():
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([np.sin(x / 17) * 80 + 128, np.cos(y / 23) * 80 + 128, (x + y) % 256], -1)
        pixels = np.clip(base + rng.integers(-30, 30, (h, w, 3)), 0, 255).astype("uint8")
        paths[name] = folder / f"{name}.jpg"
        Image.fromarray(pixels).save(paths[name], quality=90)
    paths["grey"] = folder / "grey.jpg"
    Image.open(paths["c"]).convert("L").save(paths["grey"])
    paths["png"] = folder / "p.png"
    Image.open(paths["c"]).crop((0, 0, 250, 230)).save(paths["png"])
    data = paths["a"].read_bytes()
    paths["truncated"] = folder / "truncated.jpg"
    paths["truncated"].write_bytes(data[: len(data) // 2])
    return {key: str(value) for key, value in paths.items()}


def levels(a: torch.Tensor, b: torch.Tensor, preprocess) -> torch.Tensor:  # noqa: ANN001
    """|a - b| of two normalised images in 8-bit levels."""
    std = torch.tensor(preprocess.transforms[-1].std).view(3, 1, 1)
    return ((a - b) * std * 255).abs()


def test_tensor_transforms_match_pil_within_a_few_levels(files, preprocess) -> None:
    from torchvision.io import ImageReadMode, decode_image

    transform = TensorPreprocess.from_transform(preprocess)
    for name in ("a", "c", "small", "grey", "png"):
        want = load_image(files[name], preprocess)
        pixels = decode_image(files[name], mode=ImageReadMode.RGB)
        got = transform([pixels])[0]
        assert got.shape == want.shape == (3, 224, 224)
        diff = levels(got, want, preprocess)
        assert diff.max() <= MAX_LEVELS and diff.mean() <= MEAN_LEVELS, (name, diff.max(), diff.mean())


def test_device_batches_keep_rows_and_equal_one_image_at_a_time(files, preprocess) -> None:
    from PIL import Image

    pil_image = Image.open(files["c"]).convert("RGB")
    images = [files["a"], None, files["png"], files["truncated"], "", "/no/such.jpg",
              files["grey"], pil_image, files["b"], float("nan"), files["small"], files["c"]]
    usable = [0, 2, 6, 7, 8, 10, 11]
    transform = TensorPreprocess.from_transform(preprocess)
    one_by_one = {row: next(iter_device_batches([images[row]], transform, 1))[0][0] for row in usable}
    for workers in (0, 1):
        rows, batches = [], []
        for pixels, batch_rows in iter_image_batches(images, preprocess, 4, workers, decode="gpu", device="cpu"):
            assert (pixels is None) == (not batch_rows)
            if batch_rows:
                rows += batch_rows
                batches.append(pixels)
        assert rows == usable
        stacked = torch.cat(batches)
        for position, row in enumerate(rows):  # batching by image size changes nothing
            torch.testing.assert_close(stacked[position], one_by_one[row], rtol=0, atol=1e-6)
    cpu_rows = [r for _, batch_rows in iter_image_batches(images, preprocess, 4) for r in batch_rows]
    assert cpu_rows == usable  # both decoders agree on which images are usable
    for position, row in enumerate(rows):
        assert levels(stacked[position], load_image(images[row], preprocess), preprocess).mean() <= MEAN_LEVELS


def test_gpu_decoder_embeddings_match_the_cpu_decoder(files) -> None:
    from gcl_bench.models.openclip import OpenClipRetriever

    model = OpenClipRetriever("gcl-tiny", device="cpu")
    values = [files["a"], files["truncated"], files["c"], None, files["png"]]
    want = model.encode_field("doc", "image", values, 2)
    cpu_key = model.field_cache_key("doc", "image")
    # the gpu decoder's code path, on the CPU (a real run refuses --decode gpu without CUDA)
    model.decode, model.device_preprocess = "gpu", TensorPreprocess.from_transform(model.preprocess)
    got = model.encode_field("doc", "image", values, 2)
    assert model.field_cache_key("doc", "image") == {**cpu_key, "decode": "gpu"}
    np.testing.assert_array_equal(np.isnan(got).all(axis=1), [False, True, False, True, False])
    kept = ~np.isnan(got).all(axis=1)
    cosine = (got[kept] * want[kept]).sum(axis=1)
    assert cosine.min() > 0.999, cosine


def test_unsupported_preprocess_is_refused() -> None:
    from torchvision import transforms as T

    with pytest.raises(GclBenchError, match="RandomCrop"):
        TensorPreprocess.from_transform(T.Compose([T.RandomCrop(8), T.ToTensor()]))
    with pytest.raises(GclBenchError, match="ToTensor"):
        TensorPreprocess.from_transform(T.Compose([T.Resize(8)]))


def test_decode_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_decode(None, "cpu") == check_decode("CPU", "cuda") == "cpu"
    with pytest.raises(GclBenchError, match="choose one of cpu, gpu"):
        check_decode("tpu", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(GclBenchError, match="no CUDA device"):
        check_decode("gpu", "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(GclBenchError, match="model runs on cpu"):
        check_decode("gpu", "cpu")
    assert check_decode("gpu", "cuda:1") == "gpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where CUDA is absent")
def test_cli_refuses_gpu_decode_without_cuda() -> None:
    from faults.harness import expect_error, run_cli

    expect_error(run_cli(["run", "--model", "bm25", "--decode", "gpu", "-q"]), "--decode gpu")
    expect_error(run_cli(["run", "--model", "open_clip:gcl-tiny", "--decode", "gpu", "-q"]), "no CUDA")
