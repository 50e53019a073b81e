"""GCL loss: the CLIP baseline case, the weighting, duplicate masking, gathering, field fusion."""
from __future__ import annotations

import math
import os
import socket

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from gcl_bench.errors import GclBenchError
from gcl_bench.fields import fuse_fields_torch
from gcl_bench.train.losses import PSI_NAMES, GCLLoss, score_weights


def _features(n: int = 8, dim: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    queries = F.normalize(torch.randn(n, dim, generator=gen, dtype=torch.float64), dim=-1)
    docs = F.normalize(torch.randn(n, dim, generator=gen, dtype=torch.float64), dim=-1)
    return queries.float(), docs.float()


def _reference_loss(queries, docs, scale, weights, skip_q2d=None, skip_d2q=None) -> float:
    """Straightforward per-pair loop in float64 numpy: the formula of the paper, term by term."""
    q = queries.detach().double().numpy()
    d = docs.detach().double().numpy()
    n = q.shape[0]
    total = 0.0
    for i in range(n):
        row = [scale * q[i] @ d[j] for j in range(n) if not (skip_q2d and (i, j) in skip_q2d)]
        col = [scale * d[i] @ q[j] for j in range(n) if not (skip_d2q and (i, j) in skip_d2q)]
        pos = scale * q[i] @ d[i]
        term = -(pos - math.log(sum(math.exp(v) for v in row)))
        term += -(pos - math.log(sum(math.exp(v) for v in col)))
        total += weights[i] * term
    return total / (2 * n)


def test_psi_none_equals_open_clip_clip_loss():
    queries, docs = _features(n=12, dim=32)
    queries.requires_grad_(True)
    docs.requires_grad_(True)
    scale = torch.tensor(math.log(1 / 0.07)).exp()
    ours = GCLLoss(psi="none")(queries, docs, scale)
    theirs = ClipLoss()(docs, queries, scale)
    assert abs(ours.item() - theirs.item()) < 1e-6
    grad_ours = torch.autograd.grad(ours, (queries, docs))
    grad_theirs = torch.autograd.grad(ClipLoss()(docs, queries, scale), (queries, docs))
    for a, b in zip(grad_ours, grad_theirs, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("psi", ["linear", "reciprocal", "log", "exp"])
def test_weighted_loss_matches_the_formula(psi):
    queries, docs = _features(n=6)
    scores = torch.tensor([3.0, 1.0, 2.5, 0.5, 4.0, 1.5])
    loss = GCLLoss(psi=psi, score_max=4.0)(queries, docs, 10.0, scores)
    x = scores.double().numpy() / 4.0
    expected_w = {"linear": x, "reciprocal": x, "log": np.log2(1 + x),
                  "exp": (np.exp(x) - 1) / (math.e - 1)}[psi]
    assert loss.item() == pytest.approx(_reference_loss(queries, docs, 10.0, expected_w), rel=1e-5)


def test_score_weights_are_in_unit_interval_and_monotone():
    scores = torch.linspace(0.01, 5.0, 50)
    for psi in PSI_NAMES:
        w = score_weights(scores, psi, score_max=5.0)
        assert bool((w > 0).all()) and bool((w <= 1 + 1e-6).all())
        assert bool((w[1:] >= w[:-1]).all())
        assert w[-1].item() == pytest.approx(1.0)
    assert torch.equal(score_weights(None, "none", batch_size=3), torch.ones(3))
    with pytest.raises(GclBenchError, match="score_linear"):
        score_weights(None, "linear")
    with pytest.raises(GclBenchError, match="unknown psi"):
        GCLLoss(psi="square")


def test_constant_weights_scale_the_clip_loss():
    queries, docs = _features()
    clip = GCLLoss(psi="none")(queries, docs, 20.0)
    half = GCLLoss(psi="linear", score_max=2.0)(queries, docs, 20.0, torch.ones(8))
    assert half.item() == pytest.approx(clip.item() / 2, rel=1e-6)


def test_duplicate_masking_removes_only_self_negatives():
    queries, docs = _features(n=5)
    # pairs 0 and 3 share the product (the same image/title twice), pairs 1 and 2 share the query
    docs[3] = docs[0]
    queries[2] = queries[1]
    doc_ids = torch.tensor([10, 11, 12, 10, 14])
    query_ids = torch.tensor([0, 1, 1, 3, 4])
    scores = torch.tensor([1.0, 0.5, 0.25, 0.75, 1.0])
    loss = GCLLoss(psi="linear", mask_duplicates=True)(queries, docs, 15.0, scores,
                                                       query_ids=query_ids, doc_ids=doc_ids)
    skip_q2d = {(0, 3), (3, 0)}   # query 0 does not see product 10 again as a negative
    skip_d2q = {(1, 2), (2, 1)}   # document 1 does not see its query again as a negative
    expected = _reference_loss(queries, docs, 15.0, scores.numpy(), skip_q2d, skip_d2q)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    unmasked = GCLLoss(psi="linear")(queries, docs, 15.0, scores)
    assert unmasked.item() != pytest.approx(loss.item(), rel=1e-3)


def test_masking_without_duplicates_changes_nothing():
    queries, docs = _features()
    ids = torch.arange(8)
    masked = GCLLoss(psi="none", mask_duplicates=True)(queries, docs, 5.0, query_ids=ids, doc_ids=ids)
    plain = GCLLoss(psi="none")(queries, docs, 5.0)
    assert masked.item() == pytest.approx(plain.item(), rel=1e-7)


def test_combine_fields_renormalises_over_present_fields():
    gen = torch.Generator().manual_seed(1)
    image = F.normalize(torch.randn(3, 4, generator=gen), dim=-1)
    title = F.normalize(torch.randn(3, 4, generator=gen), dim=-1)
    present = {"image": torch.tensor([True, False, True]), "title": torch.tensor([True, True, False])}
    fused = fuse_fields_torch({"image": image, "title": title}, {"image": 0.9, "title": 0.1}, present)
    assert torch.allclose(fused[0], F.normalize(0.9 * image[0] + 0.1 * title[0], dim=-1), atol=1e-6)
    assert torch.allclose(fused[1], title[1], atol=1e-6)
    assert torch.allclose(fused[2], image[2], atol=1e-6)
    assert torch.allclose(fused.norm(dim=-1), torch.ones(3), atol=1e-6)
    with pytest.raises(ValueError):
        fuse_fields_torch({"image": image}, {"image": 1.0}, {"image": torch.tensor([True, False, True])})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gather_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        queries, docs = _features(n=8, seed=3)
        scores = torch.linspace(0.2, 1.0, 8)
        ids = torch.tensor([0, 1, 2, 0, 4, 5, 2, 7])
        part = slice(rank * 4, rank * 4 + 4)
        q = queries[part].clone().requires_grad_(True)
        d = docs[part].clone().requires_grad_(True)
        loss = GCLLoss(psi="linear", mask_duplicates=True, gather=True)(
            q, d, 12.0, scores[part], query_ids=ids[part], doc_ids=ids[part])
        loss.backward()
        torch.save({"loss": loss.detach(), "q_grad": q.grad, "d_grad": d.grad},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_gathered_loss_equals_the_global_batch_loss(tmp_path):
    torch.multiprocessing.spawn(_gather_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2)
    parts = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    queries, docs = _features(n=8, seed=3)
    queries.requires_grad_(True)
    docs.requires_grad_(True)
    ids = torch.tensor([0, 1, 2, 0, 4, 5, 2, 7])
    full = GCLLoss(psi="linear", mask_duplicates=True)(queries, docs, 12.0, torch.linspace(0.2, 1.0, 8),
                                                       query_ids=ids, doc_ids=ids)
    full.backward()
    # DDP averages gradients over ranks: the mean of the rank losses is the global-batch loss
    assert (parts[0]["loss"] + parts[1]["loss"]).item() / 2 == pytest.approx(full.item(), rel=1e-6)
    # the gather's backward sums every rank's contribution; DDP then divides by the world size
    q_grad = torch.cat([p["q_grad"] for p in parts]) / 2
    d_grad = torch.cat([p["d_grad"] for p in parts]) / 2
    assert torch.allclose(q_grad, queries.grad, atol=1e-6)
    assert torch.allclose(d_grad, docs.grad, atol=1e-6)
