"""A synthetic Marqo-GS sub-dataset folder in the release layout, written deterministically.

Used by ``bench_load.py`` (the in-domain split alone) and ``bench_release.py`` (all four splits
at the release sizes). Nothing it writes is stored in the repository: the folder is generated
into a work directory and reused while its ``DONE`` marker matches the sizes asked for.

What is written into ``folder`` (file names from :mod:`gcl_bench.data.files`):

- ``corpus_1.json`` / ``corpus_2.json``: ``{product_id: {"title", "image_local", "brand"}}``,
  product ids zero-padded to ten digits (leading zeros, as strings), image paths pointing into a
  folder that does not exist (text-only runs);
- per split: ``<stem>.csv`` with the release's ten columns, ``<stem>_queries.json`` and
  ``<stem>_gt_test.json`` / ``<stem>_gt_dev.json`` (disjoint query sets, grades from
  ``score_linear``, keys = query text + the reference's ``_{!@#~}_`` suffix);
- ``no_gt/``: hard links to the in-domain CSV and its corpus only, so its judgements are sampled;
- ``DONE``: the sizes and seed, written last.

Each split draws its queries from its query set (0: seen, 1: novel) and its products from its
corpus, as :data:`gcl_bench.data.splits.SPLIT_SETS` says.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

WORDS = ("red blue green black white navy olive beige cotton linen wool leather denim silk "
         "shirt dress jacket sneaker boot scarf hat lamp rug vase pillow basket mug chair "
         "vintage modern classic rustic slim oversized floral striped plain waterproof").split()
MARKER = "DONE"
ROWS_PER_QUERY = 40
"""The release's CSV rows per query (3.93M in-domain rows over about 98k queries)."""


@dataclass(frozen=True)
class Sizes:
    """How much to write: products per corpus, CSV rows per split, judged queries per eval set."""

    products: int
    rows: dict[str, int]
    judged: int
    eval_sets: tuple[str, ...] = ("test", "dev")
    seed: int = 0
    queries: dict[int, int] = field(default_factory=dict)
    """Queries per query set; by default rows / :data:`ROWS_PER_QUERY` of its largest split."""

    def query_counts(self) -> dict[int, int]:
        from gcl_bench.data.splits import SPLIT_QUERY_SET

        counts = dict(self.queries)
        for split, rows in self.rows.items():
            query_set = SPLIT_QUERY_SET[split]
            if query_set not in self.queries:
                counts[query_set] = max(counts.get(query_set, 0), max(1, rows // ROWS_PER_QUERY))
        return counts

    def as_marker(self) -> dict:
        marker = asdict(self)
        marker["eval_sets"] = list(self.eval_sets)
        marker["queries"] = {str(k): v for k, v in self.query_counts().items()}
        return marker


RELEASE = Sizes(products=2_000_000, judged=2_000, rows={
    "in_domain": 3_930_000, "novel_document": 3_920_000, "novel_query": 981_000, "zero_shot": 981_000})
"""Marqo-GS-10M's ``marqo_gs_full_10m`` at its sizes: the Hugging Face export's split rows
(3.93M, 3.92M, 981k, 981k), two corpora of about 2M products, 2,000 judged queries per file."""


def scaled(sizes: Sizes, factor: float, judged: int | None = None) -> Sizes:
    """``sizes`` with products and rows multiplied by ``factor`` (judged queries: ``judged``)."""
    return Sizes(products=int(sizes.products * factor), judged=judged or sizes.judged,
                 rows={split: int(rows * factor) for split, rows in sizes.rows.items()},
                 eval_sets=sizes.eval_sets, seed=sizes.seed,
                 queries={k: int(v * factor) for k, v in sizes.queries.items()})


def written(folder: Path) -> dict | None:
    """The marker of a finished generation in ``folder``, None if there is none (yet).

    ``marker["files"]`` names the in-domain CSV and corpus, so a reader of the raw files (the
    pandas + json reference) finds them without importing gcl_bench."""
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None


def ensure(folder: Path, sizes: Sizes) -> float:
    """Generate ``sizes`` into ``folder`` unless a matching generation is there; seconds spent."""
    marker = written(folder)
    if marker is not None and marker.get("sizes") == sizes.as_marker():
        return 0.0
    start = time.perf_counter()
    generate(folder, sizes)
    return time.perf_counter() - start


def generate(folder: Path, sizes: Sizes) -> None:
    """Write the corpora, the splits of ``sizes.rows``, their judgements and the marker."""
    import numpy as np

    from gcl_bench.data.files import MarqoFiles
    from gcl_bench.data.splits import CORPORA, SPLIT_CORPUS, SPLIT_QUERY_SET

    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).unlink(missing_ok=True)
    rng = np.random.default_rng(sizes.seed)
    corpora_needed = [c for c in CORPORA if any(SPLIT_CORPUS[s] == c for s in sizes.rows)]
    numbers = np.unique(rng.integers(0, 10**9, int(sizes.products * len(corpora_needed) * 1.01) + 100))
    rng.shuffle(numbers)
    products = {}
    for n, corpus in enumerate(corpora_needed):
        start = time.perf_counter()
        products[corpus] = _products(rng, numbers[n * sizes.products:(n + 1) * sizes.products], corpus)
        _write_corpus(folder / f"{corpus}.json", products[corpus])
        _say(f"{corpus}.json: {sizes.products:,} products ({time.perf_counter() - start:.0f} s)")
    query_texts = {query_set: _phrases(rng, count, 3, f" q{query_set}-")
                   for query_set, count in sorted(sizes.query_counts().items())}
    for split, rows in sizes.rows.items():
        start = time.perf_counter()
        _write_split(MarqoFiles(folder, split), rows, products[SPLIT_CORPUS[split]],
                     query_texts[SPLIT_QUERY_SET[split]], sizes, rng)
        _say(f"{MarqoFiles(folder, split).csv.name}: {rows:,} rows ({time.perf_counter() - start:.0f} s)")
    files = None
    if "in_domain" in sizes.rows:
        in_domain = MarqoFiles(folder, "in_domain")
        no_gt = folder / "no_gt"
        no_gt.mkdir(exist_ok=True)
        for path in (in_domain.corpus, in_domain.csv):
            (no_gt / path.name).unlink(missing_ok=True)
            os.link(path, no_gt / path.name)
        files = {"csv": in_domain.csv.name, "corpus": in_domain.corpus.name}
    (folder / MARKER).write_text(json.dumps({"sizes": sizes.as_marker(), "files": files}))


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _phrases(rng, n: int, k: int, numbered: str):  # noqa: ANN001, ANN202 - numpy/pyarrow types
    """``n`` texts of ``k`` random words, each followed by ``numbered`` and its row number (unique)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    words = np.array(WORDS)
    cols = [pa.array(words[rng.integers(0, len(words), n)]) for _ in range(k)]
    return pc.binary_join_element_wise(pc.binary_join_element_wise(*cols, " "),
                                       pa.array(np.arange(n).astype(str)), numbered)


def _products(rng, numbers, corpus: str) -> dict:  # noqa: ANN001 - numpy types
    """Ids (ten digits, leading zeros), titles and image paths of one corpus, as arrow arrays."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(numbers)
    ids = pc.utf8_lpad(pa.array(numbers.astype(str)), 10, "0")
    titles = _phrases(rng, n, 6, f" #{corpus[-1]}-")
    shard = pa.array((np.arange(n) % 1000).astype(str))
    images = pc.binary_join_element_wise("/home/ubuntu/marqo-gs/images", shard,
                                         pc.binary_join_element_wise(ids, ".jpg", ""), "/")
    return {"ids": ids, "titles": titles, "images": images}


def _write_corpus(path: Path, products: dict, block: int = 200_000) -> None:
    """Write the corpus JSON by string joins (the texts need no escaping), block by block."""
    import pyarrow.compute as pc

    entries = pc.binary_join_element_wise(
        '"', products["ids"], '":{"title":"', products["titles"], '","image_local":"', products["images"],
        '","brand":"acme"}', "")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{")
        for start in range(0, len(entries), block):
            if start:
                handle.write(",")
            handle.write(",".join(entries[start:start + block].to_pylist()))
        handle.write("}")


def _write_split(files, rows: int, products: dict, query_texts, sizes: Sizes, rng) -> None:  # noqa: ANN001
    """One split's CSV (sorted by query, positions 1.. per query), queries and gt files."""
    import numpy as np
    import orjson
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from gcl_bench.data import QUERY_SUFFIX

    ids, titles, images = products["ids"], products["titles"], products["images"]
    q_of_row = np.sort(rng.integers(0, len(query_texts), rows))
    doc_of_row = rng.integers(0, len(ids), rows)
    starts = np.r_[0, np.nonzero(np.diff(q_of_row))[0] + 1]
    position = np.arange(rows) - np.repeat(starts, np.diff(np.r_[starts, rows])) + 1
    score_linear = np.maximum(0.0, 100.0 - position) + rng.random(rows)
    doc_take = pa.array(doc_of_row)
    table = pa.table({
        "query": pc.take(query_texts, pa.array(q_of_row)),
        "product_id": pc.take(ids, doc_take),
        "position": pa.array(position),
        "title": pc.take(titles, doc_take),
        "pair_id": pa.array(np.arange(rows).astype(str)),
        "score_linear": pa.array(score_linear),
        "score_reciprocal": pa.array(1.0 / position),
        "no_score": pa.array(np.ones(rows)),
        "query_id": pa.array(q_of_row.astype(str)),
        "image_local": pc.take(images, doc_take),
    })
    pacsv.write_csv(table, files.csv)
    del table
    present = np.unique(q_of_row)
    judged = sizes.judged
    if judged * len(sizes.eval_sets) > len(present):
        raise ValueError(f"{files.csv.name}: {len(present)} queries, too few for {judged} judged queries in each "
                         f"of {len(sizes.eval_sets)} gt files; give it more rows")
    drawn = rng.choice(present, size=judged * len(sizes.eval_sets), replace=False)
    texts = query_texts.to_pylist()
    for n, eval_set in enumerate(sizes.eval_sets):
        mask = np.isin(q_of_row, drawn[n * judged:(n + 1) * judged])
        gt: dict[str, dict[str, int]] = {}
        for q, doc, score in zip(q_of_row[mask].tolist(), pc.take(ids, pa.array(doc_of_row[mask])).to_pylist(),
                                 score_linear[mask].tolist()):
            gt.setdefault(texts[q] + QUERY_SUFFIX, {})[doc] = int(score)
        files.gt(eval_set).write_bytes(orjson.dumps(gt))
    files.queries.write_bytes(orjson.dumps([texts[q] for q in present.tolist()]))
