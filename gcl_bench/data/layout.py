"""Finding what a data folder is: a Marqo-GS sub-dataset, a root of them, a Hugging Face
parquet export, or a BEIR folder.

May import: :mod:`gcl_bench.data.files`, :mod:`gcl_bench.data.splits`, :mod:`gcl_bench.errors`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gcl_bench.data.files import BeirFiles, MarqoFiles, corpus_file
from gcl_bench.data.splits import CORPORA, SPLITS, canonical_split, split_from_file_label
from gcl_bench.errors import GclBenchError

DEFAULT_SUBSET = "marqo_gs_full_10m"
DEFAULT_SPLIT = "zero_shot"
"""The split of a Marqo-GS folder evaluated when none is named."""
MARQO = "marqo_gs"
HF_PARQUET = "hf_parquet"
BEIR = "beir"


@dataclass
class Layout:
    """What :func:`detect` found: the layout ``kind``, the ``folder`` to read, the sub-dataset.

    ``per_split``: a BEIR folder found as the sub-folder of one Marqo split (``root/zero_shot/``),
    whose qrels files are then that split's eval sets; a BEIR folder itself has the splits
    :func:`beir_splits` lists instead (its qrels files).
    """

    kind: str
    folder: Path
    subset: str | None = None
    per_split: bool = False


BEIR_SPLIT_ORDER = ("test", "dev", "train")


def beir_splits(folder: Path) -> list[str]:
    """The splits of a BEIR folder: the stems of ``qrels/*.tsv`` (or ``*.tsv.gz``), test, dev, train first."""
    names = [p.name.removesuffix(".gz") for p in (folder / "qrels").glob("*.tsv*") if p.is_file()]
    stems = sorted({name.removesuffix(".tsv") for name in names if name.endswith(".tsv")})
    return sorted(stems, key=lambda s: (BEIR_SPLIT_ORDER.index(s) if s in BEIR_SPLIT_ORDER else len(BEIR_SPLIT_ORDER), s))


def beir_split(folder: Path, split: str | None, eval_set: str) -> str:
    """The qrels split that ``split`` names in the BEIR folder ``folder`` (None: ``eval_set``)."""
    found = beir_splits(folder)
    name = (split if split is not None else eval_set).strip()
    if name not in found:
        raise GclBenchError(
            f"no qrels/{name}.tsv: the splits of a BEIR folder are its qrels files "
            f"(found: {', '.join(found) or 'none'})", folder
        )
    return name


def is_marqo_folder(folder: Path) -> bool:
    if any(corpus_file(folder, corpus).is_file() for corpus in CORPORA):
        return True
    return any(MarqoFiles(folder, split).csv.is_file() for split in SPLITS)


def is_beir_folder(folder: Path) -> bool:
    files = BeirFiles(folder)
    return files.corpus.is_file() and files.queries.is_file()


def parquet_files(folder: Path, max_depth: int = 3) -> dict[str, list[Path]]:
    """Parquet files under ``folder`` grouped by the split their name or folder names."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*.parquet")):
        rel = path.relative_to(folder)
        if len(rel.parts) > max_depth + 1 or any(p.startswith(".") for p in rel.parts):
            continue
        split = None
        for label in [path.stem, *reversed(rel.parts[:-1])]:
            split = split_from_file_label(label)
            if split:
                break
        if split:
            found.setdefault(split, []).append(path)
    return found


def detect(data_dir: Path, subset: str | None, split: str | None) -> Layout:
    """Which layout ``data_dir`` holds (choosing the sub-dataset or split sub-folder; ``split``
    None: the default split)."""
    if not data_dir.exists():
        raise GclBenchError("data folder not found", data_dir)
    if not data_dir.is_dir():
        raise GclBenchError("not a folder (expected a dataset folder)", data_dir)
    if subset is None and is_marqo_folder(data_dir):
        return Layout(MARQO, data_dir, data_dir.name)
    if is_beir_folder(data_dir):
        return Layout(BEIR, data_dir, None)
    children = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    subsets = [p for p in children if is_marqo_folder(p)]
    if subsets or subset is not None:
        names = [p.name for p in subsets]
        if subset is not None:
            if subset not in names:
                raise GclBenchError(
                    f"no sub-dataset {subset!r} here (found: {', '.join(names) or 'none'})", data_dir
                )
            chosen = subset
        elif DEFAULT_SUBSET in names:
            chosen = DEFAULT_SUBSET
        elif len(names) == 1:
            chosen = names[0]
        else:
            raise GclBenchError(f"several sub-datasets here; pick one with subset: {', '.join(names)}", data_dir)
        return Layout(MARQO, data_dir / chosen, chosen)
    for child in children:
        label = split_from_file_label(child.name)
        if label == canonical_split(split or DEFAULT_SPLIT) and is_beir_folder(child):
            return Layout(BEIR, child, None, per_split=True)
    if parquet_files(data_dir):
        return Layout(HF_PARQUET, data_dir, None)
    raise GclBenchError(
        "not a dataset folder: expected corpus_1.json / query_*_product_id_*.csv (Marqo-GS), "
        "sub-dataset folders, *.parquet files (Hugging Face export) or corpus.jsonl + queries.jsonl (BEIR)",
        data_dir,
    )
