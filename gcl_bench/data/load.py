"""Loading one split of any supported folder into a :class:`~gcl_bench.data.split.Split`.

:func:`load_split` fetches an ``hf://`` dataset id into the Hugging Face cache
(:mod:`~gcl_bench.data.hub`, only the split asked for), finds the layout
(:func:`~gcl_bench.data.layout.detect`), plans the split (:func:`~gcl_bench.data.plans.plan_split`), loads its corpus through the corpus cache, builds
the judgements (a gt file with key resolution, or the reference sampling when there is none),
and stores the query side under the split cache, so a second load parses nothing.

May import: :mod:`~gcl_bench.data.hub`, :mod:`~gcl_bench.data.plans`, :mod:`~gcl_bench.data.corpus_cache`,
:mod:`~gcl_bench.data.judged`, :mod:`~gcl_bench.data.layout`, :mod:`~gcl_bench.data.cache`,
:mod:`~gcl_bench.data.split`, :mod:`~gcl_bench.data.splits`, :mod:`~gcl_bench.data.sample`
(the default folder), :mod:`gcl_bench.errors`, :mod:`gcl_bench.protocol`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gcl_bench.data import cache
from gcl_bench.data.columns import StrColumn
from gcl_bench.data.corpus_cache import READER_RULES, Corpus, PathLike, image_root_key, load_corpus
from gcl_bench.data.hub import HubSnapshot, is_hub_spec, local_folder
from gcl_bench.data.judged import Judged
from gcl_bench.data.layout import BEIR, DEFAULT_SPLIT, beir_split, beir_splits, detect
from gcl_bench.data.plans import Plan, plan_split
from gcl_bench.data.split import LoadReport, Split
from gcl_bench.data.splits import SPLITS, canonical_split, check_eval_set
from gcl_bench.protocol import DEFAULT, check_protocol


def data_folder(
    data_dir: PathLike | None, splits: Sequence[str] = SPLITS, every_split: bool = True
) -> tuple[Path, HubSnapshot | None]:
    """The folder ``data_dir`` names (``~`` expanded), and for an ``hf://`` id the snapshot it was
    fetched into (only ``splits``; see :func:`~gcl_bench.data.hub.local_folder`); None: the
    bundled sample, built on first use."""
    if data_dir is not None:
        return local_folder(data_dir, splits, every_split)
    from gcl_bench.data.sample import default_sample_dir

    return Path(default_sample_dir()), None


def load_split(
    data_dir: PathLike | None = None,
    split: str | None = None,
    eval_set: str = "test",
    image_root: PathLike | None = None,
    subset: str | None = None,
    weight_column: str = "score_linear",
    top_q: int = 2000,
    top_k: int = 1000,
    use_cache: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    protocol: str = DEFAULT,
) -> Split:
    """Load one split of a dataset folder into a :class:`Split`.

    ``data_dir`` is a Marqo-GS sub-dataset folder, a root holding sub-dataset folders (``subset``
    picks one; default ``marqo_gs_full_10m`` or the only one), a Hugging Face parquet export (a
    folder, or ``hf://ORG/NAME[@REVISION]`` on the Hub; ``meta["hub"]`` names the commit) or a
    BEIR folder; None means the bundled sample. ``split`` is a name, alias or file stem (None:
    ``zero_shot``); in a BEIR folder it names the qrels file (``test``, ``dev``, ``train``; None:
    ``eval_set``), as BEIR does. ``eval_set`` picks ``_gt_test.json`` or ``_gt_dev.json``; without one, judgements are
    sampled from the split CSV with the GCL reference's query set and grades (``weight_column``,
    ``top_q``; ``top_k`` judgements per query at most; recorded in ``meta``). ``image_root`` remaps image paths. The result is cached
    (see :mod:`gcl_bench.data.cache`); ``use_cache=False`` reads the files again.
    ``progress(step, done, total)`` follows the parse of a large corpus file. ``protocol``
    ``"reference"``: judgements sampled from a release CSV read its product ids as the GCL
    reference evaluation's pandas does (see :mod:`gcl_bench.protocol`).
    """
    check_protocol(protocol)
    # an hf:// id fetches only the files of the split asked for (Hub exports are never BEIR folders)
    wanted = [canonical_split(split or DEFAULT_SPLIT)] if is_hub_spec(data_dir) else SPLITS
    data_path, snapshot = data_folder(data_dir, wanted)
    layout = detect(data_path, subset, split)
    if layout.kind == BEIR and not layout.per_split:  # BEIR: the split names the qrels file
        split = eval_set = beir_split(layout.folder, split, eval_set)
    else:
        split = canonical_split(split or DEFAULT_SPLIT)
        eval_set = check_eval_set(eval_set)
    plan = plan_split(layout, split, eval_set, weight_column, top_q, top_k, protocol)
    fingerprint = cache.fingerprint(plan.inputs)
    root = image_root_key(image_root)
    # the protocol changes only judgements sampled from a CSV; other entries are shared
    changed_by_protocol = {"protocol": protocol} if protocol != DEFAULT and plan.reads_rows else {}
    key = cache.entry_key(
        "split", fingerprint=fingerprint, layout=layout.kind, folder=str(layout.folder.resolve()), split=split,
        eval_set=eval_set, image_root=root, weight_column=weight_column, top_q=top_q, top_k=top_k,
        rules=READER_RULES,
        **changed_by_protocol,
    )
    entry = cache.entry_dir("split", key)
    stored, damaged = None, []
    if use_cache:
        try:
            stored = cache.read_entry_json(entry / "split.json")
        except cache.DamagedEntry as err:
            damaged.append(str(err.path))
    corpus, judged = _load_parts(plan, image_root, use_cache, judge=stored is None, progress=progress)
    if stored is None:
        assert judged is not None
        meta = {
            "path": str(layout.folder),
            "subset": layout.subset,
            "split": split,
            "eval_set": eval_set,
            "format": layout.kind,
            "fingerprint": fingerprint,
            **plan.meta,
        }
        stored = _query_side(judged, corpus, plan, meta, root)
        if use_cache:
            cache.write_entry_json(entry / "split.json", stored)
        split_cache = ("rebuilt" if damaged else "miss") if use_cache else "off"
    else:
        split_cache = "hit"
    if corpus.info.get("cache_damaged"):
        damaged.append(corpus.info["cache_damaged"])
    # where the folder came from is not part of the cached entry: one snapshot folder may be
    # reached as a path or as an hf:// id
    origin: dict[str, Any] = {"data_dir": str(data_dir) if snapshot else str(data_path)}
    if snapshot is not None:
        origin["hub"] = snapshot.record()
    assembled = _assemble(split, stored, corpus, split_cache, origin, damaged)
    # a parse leaves hundreds of MB freed in Arrow's allocator, which keeps them for reuse unless
    # asked: the split itself is memory-mapped, so give them back before the long part of a run
    del corpus, judged
    pa.default_memory_pool().release_unused()
    return assembled


def split_names(data_dir: PathLike | None, spec: str | None, subset: str | None = None) -> list[str]:
    """The splits a ``--split`` value names: ``all``, a comma list, or None (the default split).

    Marqo-GS and Hugging Face folders: the four splits (names, aliases, stems); a BEIR folder:
    its qrels files, ``all`` meaning every one but ``train``.
    """
    parts = [part.strip() for part in (spec or "").split(",") if part.strip()]
    beir_folder = None
    if data_dir is not None and not is_hub_spec(data_dir):
        layout = detect(data_folder(data_dir)[0], subset, None if parts == ["all"] or not parts else parts[0])
        beir_folder = layout.folder if layout.kind == BEIR and not layout.per_split else None
    if beir_folder is not None:
        if parts == ["all"]:
            return [name for name in beir_splits(beir_folder) if name != "train"] or beir_splits(beir_folder)
        return [beir_split(beir_folder, part, "test") for part in parts] or [beir_split(beir_folder, None, "test")]
    if parts == ["all"]:
        return list(SPLITS)
    return [canonical_split(part) for part in parts] or [DEFAULT_SPLIT]


def _load_parts(
    plan: Plan, image_root: PathLike | None, use_cache: bool, judge: bool,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[Corpus, Judged | None]:
    """The corpus and (when ``judge``) the judgements of ``plan``.

    Judgements from a gt file are built in a thread while this thread parses the corpus
    (Arrow's CSV reader releases the GIL). Sampled judgements read the whole CSV: they are
    built first, so that the CSV columns are freed before the corpus is parsed.
    """
    judged = plan.judge() if judge and plan.reads_rows else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(plan.judge) if judge and judged is None else None
        corpus = load_corpus(plan.corpus, image_root, use_cache, progress)
        if pending is not None:
            judged = pending.result()
    return corpus, judged


def _judged_not_in_corpus(qrels: dict[str, dict[str, int]], corpus: Corpus) -> dict[str, Any]:
    """How many distinct products are judged, how many of them the corpus lacks (and the first in
    judgement order), and how many of those it has with leading zeros (ids that lost them)."""
    judged = pc.unique(pa.array([d for docs in qrels.values() for d in docs], type=pa.string()))
    counts: dict[str, Any] = {"judged_products": len(judged), "judged_not_in_corpus": 0,
                              "judged_not_in_corpus_example": None, "judged_without_leading_zeros": 0,
                              "judged_without_leading_zeros_example": None}
    if not len(judged):
        return counts
    corpus_ids = corpus.table["doc_id"]
    found = pc.filter(corpus_ids, pc.is_in(corpus_ids, value_set=judged))  # the small set is the one hashed
    if len(found) == len(judged):
        return counts
    outside = pc.filter(judged, pc.invert(pc.is_in(judged, value_set=found)))
    counts.update(judged_not_in_corpus=len(outside), judged_not_in_corpus_example=outside[0].as_py())
    padded = pc.filter(corpus_ids, pc.starts_with(corpus_ids, "0"))
    if len(padded):
        stripped = pc.utf8_ltrim(padded, "0")
        matched = pc.unique(pc.filter(stripped, pc.is_in(stripped, value_set=outside)))
        if len(matched):
            first = pc.filter(outside, pc.is_in(outside, value_set=matched))[0]
            counts.update(judged_without_leading_zeros=len(matched),
                          judged_without_leading_zeros_example=[first.as_py(), padded[pc.index(stripped, first).as_py()].as_py()])
    return counts


def _query_side(judged: Judged, corpus: Corpus, plan: Plan, meta: dict[str, Any], root: str | None) -> dict[str, Any]:
    """What the split cache stores: queries, judgements, the full ``meta`` (``meta`` given: the
    folder's part) and the report's parts."""
    meta = {
        **meta,
        **judged.meta,
        "files": plan.files,
        "corpus_file": str(plan.corpus.label),
        "image_root": root,
        "num_queries": len(judged.query_ids),
        "num_judgements": sum(len(v) for v in judged.qrels.values()),
        **_judged_not_in_corpus(judged.qrels, corpus),
    }
    return {"query_ids": judged.query_ids, "query_texts": judged.query_texts, "qrels": judged.qrels,
            "meta": meta, "gt_key_kinds": judged.kinds, "notes": list(judged.notes),
            "repeated_keys": [r.to_dict() for r in judged.repeats]}


def _assemble(
    split: str, stored: dict[str, Any], corpus: Corpus, split_cache: str, origin: dict[str, Any],
    damaged: list[str],
) -> Split:
    """The :class:`Split` of the stored query side and the corpus; ``origin`` says where the folder
    came from; ``damaged``: the cache files that failed their checksum and were rebuilt (in
    ``meta["load_cache"]``)."""
    info = corpus.info
    load_cache: dict[str, Any] = {"split": split_cache, "corpus": info.get("cache")}
    if damaged:
        load_cache["damaged"] = damaged
    table = corpus.table
    example = next((raw for raw in table["image_raw"].slice(0, 100).to_pylist() if raw), None)
    meta = dict(stored["meta"], **origin, num_documents=info["num_documents"], image_strategy=info["image_strategy"],
                image_example=example, load_cache=load_cache)
    report = LoadReport(
        missing_images=info["missing_images"],
        empty_titles=info["empty_titles"],
        docs_without_fields=list(info["docs_without_fields"]),
        unresolved_gt_keys=0,
        gt_key_kinds=dict(stored["gt_key_kinds"]),
        notes=list(stored["notes"]),
        repeated_keys=list(stored.get("repeated_keys", [])),
        documents_with_text=int(info.get("documents_with_text", 0)),
    )
    return Split(
        name=split,
        doc_ids=StrColumn(table["doc_id"]),
        doc_titles=StrColumn(table["title"]),
        doc_images=StrColumn(table["image"]),
        query_ids=stored["query_ids"],
        query_texts=stored["query_texts"],
        qrels=stored["qrels"],
        meta=meta,
        report=report,
        doc_texts=StrColumn(table["text"]) if "text" in table.column_names else None,
    )
