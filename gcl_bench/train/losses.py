"""Generalized Contrastive Learning losses.

The GCL loss (Zhu, Jung and Clark, "Generalized Contrastive Learning for Multi-Modal Retrieval
and Ranking", arXiv 2404.08535, §3) is CLIP's symmetric InfoNCE in which every pair of the batch
carries a weight derived from its ground-truth ranking score, so that a pair that should rank
high costs more when the model gets it wrong. ``psi="none"`` gives every pair weight 1 and is
exactly open_clip's ``ClipLoss``, the fine-tuned CLIP baseline of the paper.

Imports torch (and torch.distributed for the gathered negatives) and the error type only.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gcl_bench.errors import GclBenchError

#: psi name -> the triplet CSV column it reads (None: no score needed).
PSI_SCORE_COLUMN: dict[str, str | None] = {
    "none": None,
    "linear": "score_linear",
    "reciprocal": "score_reciprocal",
    "log": "score_linear",
    "exp": "score_linear",
}

PSI_NAMES: tuple[str, ...] = tuple(PSI_SCORE_COLUMN)


def check_psi(psi: str, label: str = "psi") -> None:
    """Refuse a psi name not in :data:`PSI_NAMES` (``label``: how the message names the setting)."""
    if psi not in PSI_SCORE_COLUMN:
        raise GclBenchError(f"unknown {label} {psi!r}; choose one of {', '.join(PSI_NAMES)}")


def _psi_linear(x: torch.Tensor) -> torch.Tensor:
    return x


def _psi_log(x: torch.Tensor) -> torch.Tensor:
    return torch.log2(1.0 + x)


def _psi_exp(x: torch.Tensor) -> torch.Tensor:
    return torch.expm1(x) / math.expm1(1.0)


_PSI_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": _psi_linear,
    "reciprocal": _psi_linear,  # the column already holds 1/rank-style scores
    "log": _psi_log,
    "exp": _psi_exp,
}


def score_weights(scores: torch.Tensor | None, psi: str, score_max: float = 1.0,
                  batch_size: int | None = None) -> torch.Tensor:
    """Map ranking scores to loss weights ``w = psi(score / score_max)``, each in (0, 1].

    ``x = score / score_max`` scales the scores of the training file into (0, 1] (``score_max``
    is the largest score of the file, so weights do not depend on the batch). Then
    ``linear``/``reciprocal``: ``w = x``; ``log``: ``w = log2(1 + x)``;
    ``exp``: ``w = (e^x - 1) / (e - 1)``; ``none``: ``w = 1`` (``scores`` may be None).
    """
    check_psi(psi)
    if psi == "none":
        if scores is None:
            if batch_size is None:
                raise ValueError("batch_size is needed when psi='none' and scores is None")
            return torch.ones(batch_size)
        return torch.ones_like(scores, dtype=torch.float32)
    if scores is None:
        raise GclBenchError(f"psi={psi!r} needs scores (column {PSI_SCORE_COLUMN[psi]})")
    return _PSI_FUNCTIONS[psi](scores.float() / float(score_max))


def _gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate ``tensor`` from every rank in rank order, keeping the autograd graph."""
    import warnings

    import torch.distributed.nn.functional as dist_fn

    with warnings.catch_warnings():  # deprecated in favour of a private API; still the public one
        warnings.simplefilter("ignore", FutureWarning)
        return torch.cat(dist_fn.all_gather(tensor), dim=0)


def _gather_ids(ids: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist

    parts = [torch.empty_like(ids) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, ids.contiguous())
    return torch.cat(parts, dim=0)


class GCLLoss(nn.Module):
    """Generalized Contrastive Learning loss (Zhu et al., arXiv 2404.08535, §3).

    For a batch of N (query, document) pairs with L2-normalised embeddings ``l_i`` (query side) and
    ``r_i`` (document side), logits ``S_ij = s * <l_i, r_j>`` (``s`` = ``logit_scale``, the inverse
    temperature, already exponentiated as open_clip's ``ClipLoss`` takes it) and weights
    ``w_i = psi(score_i)``::

        L = 1/(2N) * sum_i w_i * ( -log softmax_j(S_ij)[i]  -  log softmax_j(S_ji)[i] )

    the first term ranks documents for query i, the second ranks queries for document i.
    ``psi="none"`` (w = 1) is open_clip's ``ClipLoss``. With ``mask_duplicates`` the other pairs
    of the batch that hold the same product (query -> document direction) or the same query
    (document -> query direction) are removed from the softmax: a product or query is never a
    negative of itself. With ``gather`` (under torch.distributed) each rank scores its own pairs
    against the documents and queries of every rank (global negatives, gradients flow through
    the gather), as open_clip's ``local_loss=True, gather_with_grad=True``.

    Usage::

        loss_fn = GCLLoss(psi="linear", score_max=float(frame.score_linear.max()))
        loss = loss_fn(query_features, doc_features, model.logit_scale.exp(), scores)
        loss.backward()
    """

    def __init__(self, psi: str = "linear", mask_duplicates: bool = False, gather: bool = False,
                 score_max: float = 1.0) -> None:
        super().__init__()
        check_psi(psi)
        if not score_max > 0:
            raise GclBenchError(f"score_max must be positive, got {score_max}")
        self.psi = psi
        self.mask_duplicates = mask_duplicates
        self.gather = gather
        self.score_max = float(score_max)

    def extra_repr(self) -> str:
        return (f"psi={self.psi!r}, mask_duplicates={self.mask_duplicates}, gather={self.gather}, "
                f"score_max={self.score_max}")

    def forward(self, query_features: torch.Tensor, doc_features: torch.Tensor,
                logit_scale: torch.Tensor | float, scores: torch.Tensor | None = None,
                query_ids: torch.Tensor | None = None,
                doc_ids: torch.Tensor | None = None) -> torch.Tensor:
        """The weighted loss of one batch (a scalar).

        ``query_features``/``doc_features``: (N, D) L2-normalised; ``logit_scale``: the inverse
        temperature (``model.logit_scale.exp()``); ``scores``: (N,) ranking scores (unused with
        psi="none"); ``query_ids``/``doc_ids``: (N,) integer ids, needed by ``mask_duplicates``.
        """
        batch = query_features.shape[0]
        if doc_features.shape[0] != batch:
            raise ValueError("query_features and doc_features must have the same batch size")
        weights = score_weights(scores, self.psi, self.score_max, batch_size=batch)
        weights = weights.to(device=query_features.device, dtype=torch.float32)
        scale = logit_scale

        rank, world = 0, 1
        if self.gather:
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                rank, world = dist.get_rank(), dist.get_world_size()
        if world > 1:
            all_queries = _gather_with_grad(query_features)
            all_docs = _gather_with_grad(doc_features)
        else:
            all_queries, all_docs = query_features, doc_features

        # rows: this rank's pairs; columns: every rank's pairs (just this rank's when world == 1)
        logits_q2d = scale * query_features @ all_docs.T
        logits_d2q = scale * doc_features @ all_queries.T
        labels = torch.arange(batch, device=query_features.device) + rank * batch

        if self.mask_duplicates:
            if query_ids is None or doc_ids is None:
                raise ValueError("mask_duplicates needs query_ids and doc_ids")
            query_ids = query_ids.to(query_features.device)
            doc_ids = doc_ids.to(query_features.device)
            all_query_ids = _gather_ids(query_ids) if world > 1 else query_ids
            all_doc_ids = _gather_ids(doc_ids) if world > 1 else doc_ids
            not_self = torch.ones_like(logits_q2d, dtype=torch.bool)
            not_self[torch.arange(batch), labels] = False
            same_doc = (doc_ids[:, None] == all_doc_ids[None, :]) & not_self
            same_query = (query_ids[:, None] == all_query_ids[None, :]) & not_self
            logits_q2d = logits_q2d.masked_fill(same_doc, float("-inf"))
            logits_d2q = logits_d2q.masked_fill(same_query, float("-inf"))

        per_pair = (F.cross_entropy(logits_q2d.float(), labels, reduction="none")
                    + F.cross_entropy(logits_d2q.float(), labels, reduction="none"))
        return (weights * per_pair).sum() / (2 * batch)
