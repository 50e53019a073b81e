"""Training triplets: (query fields, document fields, score) rows from a split's CSV, and batching.

:class:`TripletData` holds the rows the trainer sees, validated once when loaded (the score
column psi needs, scores positive and finite, known field names); :class:`BatchPlan` decides
which rows go into which batch, from a seed and the epoch alone, so a resumed run sees exactly
the batches an uninterrupted one would; :class:`BatchCollator` turns a batch of rows into
tensors (tokens, images, field-presence masks).

Field handling is the evaluation's: a document without a title or without a readable image
keeps the fields it has (the loss renormalises the field weights over them); a document with
no usable field at all is dropped and counted.

Reads files through :mod:`gcl_bench.data`; imports NumPy, torch, PIL and the psi rules of
:mod:`gcl_bench.train.losses`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gcl_bench.errors import GclBenchError
from gcl_bench.train.losses import PSI_SCORE_COLUMN, check_psi


def _factorize(values: Sequence[str]) -> np.ndarray:
    codes: dict[str, int] = {}
    return np.fromiter((codes.setdefault(v, len(codes)) for v in values), dtype=np.int64,
                       count=len(values))


@dataclass
class TripletData:
    """The validated training rows of one split, as parallel columns.

    ``query_index`` and ``doc_index`` number the distinct queries (by query id when the CSV has
    one, else by text) and products; the loss's duplicate masking and the grouping sampler use
    them. ``scores`` is None when psi needs none; ``score_max`` is the largest score of the file
    (psi scales by it).
    """

    queries: list[str]
    titles: list[str | None]
    images: list[str | None]
    product_ids: list[str]
    query_index: np.ndarray
    doc_index: np.ndarray
    scores: np.ndarray | None
    score_column: str | None
    score_max: float
    source: str
    report: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.queries)

    @classmethod
    def from_frame(cls, frame: Any, *, psi: str, doc_fields: dict[str, float],
                   score_column: str | None = None, source: str = "<frame>") -> TripletData:
        """Validate a ``read_triplets`` DataFrame and keep what training needs."""
        check_psi(psi)
        column = score_column or PSI_SCORE_COLUMN[psi]
        for needed in ("query", "product_id"):
            if needed not in frame.columns:
                raise GclBenchError(f"triplets have no {needed!r} column", source)
        scores = None
        score_max = 1.0
        if column is not None:
            if column not in frame.columns:
                raise GclBenchError(
                    f"psi={psi!r} needs the score column {column!r}, which the triplets lack "
                    f"(columns: {', '.join(map(str, frame.columns))}); use --psi none or "
                    f"--score-column", source)
            raw = frame[column]
            scores = np.asarray(_to_float(raw), dtype=np.float64)
            bad = ~np.isfinite(scores) | (scores <= 0)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise GclBenchError(
                    f"column {column!r} has {int(bad.sum())} non-positive or NaN scores "
                    f"(first at row {first}: {raw.iloc[first]!r}); psi={psi!r} needs positive scores",
                    source)
            score_max = float(scores.max()) if len(scores) else 1.0
        n = len(frame)
        queries = [str(q) for q in frame["query"].tolist()]
        product_ids = [str(p) for p in frame["product_id"].tolist()]
        titles = _optional_strings(frame["title"].tolist() if "title" in frame.columns else [None] * n)
        images = _optional_strings(frame["image"].tolist() if "image" in frame.columns else [None] * n)
        has_title = np.array([t is not None for t in titles], dtype=bool)
        has_image = np.array([i is not None for i in images], dtype=bool)
        usable = np.zeros(n, dtype=bool)
        if "title" in doc_fields:
            usable |= has_title
        if "image" in doc_fields:
            usable |= has_image
        keys = ([str(q) for q in frame["query_id"].tolist()] if "query_id" in frame.columns
                else queries)
        report = {
            "rows": n,
            "missing_titles": int((~has_title).sum()),
            "missing_images": int((~has_image).sum()),
            "dropped_no_field": int((~usable).sum()),
            "dropped_product_ids": [product_ids[i] for i in np.flatnonzero(~usable)[:20]],
        }
        keep = np.flatnonzero(usable)
        if len(keep) == 0:
            raise GclBenchError(f"no triplet has any of the document fields "
                                f"{', '.join(doc_fields)}", source)

        def pick(values: list) -> list:
            return values if len(keep) == n else [values[i] for i in keep]

        return cls(
            queries=pick(queries), titles=pick(titles), images=pick(images),
            product_ids=pick(product_ids),
            query_index=_factorize(pick(keys)), doc_index=_factorize(pick(product_ids)),
            scores=None if scores is None else scores[keep], score_column=column,
            score_max=score_max, source=source, report=report,
        )


def _to_float(series: Any) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _optional_strings(values: list) -> list[str | None]:
    out: list[str | None] = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
            continue
        text = str(value)
        out.append(text if text.strip() else None)
    return out


def load_triplets(data_dir: str | os.PathLike[str] | None, split: str, *, psi: str,
                  doc_fields: dict[str, float], image_root: str | None = None,
                  subset: str | None = None, score_column: str | None = None) -> TripletData:
    """Read a split's triplets through the data layer and validate them for ``psi``."""
    from gcl_bench.data import read_triplets

    if data_dir is None:
        from gcl_bench.data.sample import default_sample_dir

        data_dir = default_sample_dir()
    frame = read_triplets(data_dir, split, image_root=image_root, subset=subset)
    source = str(frame.attrs.get("path", Path(data_dir) / split))
    return TripletData.from_frame(frame, psi=psi, doc_fields=doc_fields, score_column=score_column,
                                  source=source)


class BatchPlan:
    """Which rows form each batch of an epoch: a function of (seed, epoch) only.

    Global batches hold ``batch_size * world_size`` rows; rank r takes its contiguous slice.
    With ``group_size`` g > 1 the rows of each query are shuffled and cut into groups of up to
    g, and whole groups are shuffled, so several documents of one query share a batch (the
    many-to-many case GCL targets); g = 1 is a plain shuffle. The last incomplete global batch
    of an epoch is dropped, so every rank runs the same number of steps.
    """

    def __init__(self, query_index: np.ndarray, batch_size: int, *, seed: int = 0,
                 world_size: int = 1, group_size: int = 1) -> None:
        if batch_size < 1 or group_size < 1:
            raise GclBenchError("batch size and group size must be at least 1")
        self.query_index = np.asarray(query_index, dtype=np.int64)
        self.batch_size = batch_size
        self.world_size = world_size
        self.group_size = group_size
        self.seed = seed
        self.global_batch = batch_size * world_size
        self.batches_per_epoch = len(self.query_index) // self.global_batch
        if self.batches_per_epoch == 0:
            raise GclBenchError(f"{len(self.query_index)} triplets cannot fill one batch of "
                                f"{batch_size} x {world_size} rank(s); lower --batch-size")

    def epoch_order(self, epoch: int) -> np.ndarray:
        """Every row index once, in this epoch's order."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        n = len(self.query_index)
        perm = torch.randperm(n, generator=gen).numpy()
        if self.group_size == 1:
            return perm
        by_query = perm[np.argsort(self.query_index[perm], kind="stable")]
        queries = self.query_index[by_query]
        starts = np.r_[0, np.flatnonzero(queries[1:] != queries[:-1]) + 1]
        run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
        group_of = np.cumsum(np.r_[True, (queries[1:] != queries[:-1])
                                   | ((np.arange(1, n) - run_start[1:]) % self.group_size == 0)]) - 1
        group_keys = torch.randperm(int(group_of[-1]) + 1, generator=gen).numpy()
        return by_query[np.argsort(group_keys[group_of], kind="stable")]

    def batches(self, epoch: int, rank: int = 0, start: int = 0) -> list[np.ndarray]:
        """This rank's batches of ``epoch``, from batch ``start`` on."""
        order = self.epoch_order(epoch)
        out = []
        for b in range(start, self.batches_per_epoch):
            lo = b * self.global_batch + rank * self.batch_size
            out.append(order[lo:lo + self.batch_size])
        return out


@dataclass
class Batch:
    """Tensors of one batch: per-field inputs and presence masks, scores and ids."""

    query_inputs: dict[str, torch.Tensor]
    doc_inputs: dict[str, torch.Tensor]
    doc_present: dict[str, torch.Tensor]
    scores: torch.Tensor | None
    query_ids: torch.Tensor
    doc_ids: torch.Tensor

    def to(self, device: torch.device | str) -> Batch:
        move = {k: v.to(device, non_blocking=True) for k, v in self.query_inputs.items()}
        docs = {k: v.to(device, non_blocking=True) for k, v in self.doc_inputs.items()}
        present = {k: v.to(device) for k, v in self.doc_present.items()}
        scores = None if self.scores is None else self.scores.to(device)
        return Batch(move, docs, present, scores, self.query_ids.to(device), self.doc_ids.to(device))


class BatchCollator:
    """Turn row indices into a :class:`Batch` (tokenise texts, load and preprocess images).

    An image that cannot be opened counts as missing (its presence mask is False), as in
    evaluation; ``unreadable_images`` counts them.
    """

    def __init__(self, data: TripletData, tokenizer: Callable[[list[str]], torch.Tensor],
                 preprocess: Callable[[Any], torch.Tensor], image_size: int,
                 query_fields: dict[str, float], doc_fields: dict[str, float]) -> None:
        self.data = data
        self.tokenizer = tokenizer
        self.preprocess = preprocess
        self.image_size = image_size
        self.query_fields = query_fields
        self.doc_fields = doc_fields
        self.unreadable_images = 0

    def _image(self, path: str | None) -> torch.Tensor | None:
        if path is None:
            return None
        from PIL import Image

        try:
            with Image.open(path) as img:
                return self.preprocess(img.convert("RGB"))
        except (OSError, ValueError):
            self.unreadable_images += 1
            return None

    def __call__(self, rows: np.ndarray) -> Batch:
        data = self.data
        rows = [int(r) for r in rows]
        query_inputs = {"text": self.tokenizer([data.queries[r] for r in rows])}
        doc_inputs: dict[str, torch.Tensor] = {}
        present: dict[str, torch.Tensor] = {}
        if "title" in self.doc_fields:
            titles = [data.titles[r] for r in rows]
            doc_inputs["title"] = self.tokenizer([t or "" for t in titles])
            present["title"] = torch.tensor([t is not None for t in titles])
        if "image" in self.doc_fields:
            images = [self._image(data.images[r]) for r in rows]
            blank = torch.zeros(3, self.image_size, self.image_size)
            doc_inputs["image"] = torch.stack([blank if im is None else im for im in images])
            present["image"] = torch.tensor([im is not None for im in images])
        if present:
            usable = torch.stack(list(present.values())).any(dim=0)
            if not bool(usable.all()):
                row = rows[int((~usable).nonzero()[0])]
                raise GclBenchError(f"product {data.product_ids[row]} has no usable document field "
                                    f"(its image cannot be read)", data.images[row])
        scores = None if data.scores is None else torch.as_tensor(data.scores[rows], dtype=torch.float32)
        return Batch(query_inputs, doc_inputs, present, scores,
                     torch.as_tensor(data.query_index[rows]), torch.as_tensor(data.doc_index[rows]))
