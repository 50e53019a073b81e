"""The reference protocol (``--protocol reference``): one small constructed case per difference
from the GCL reference evaluation (marqo-ai/GCL ``evals/eval_gs_v1.py``), with the value each
protocol must give computed here by hand or by plain loops written from the formulas."""
from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest

import gcl_bench
from gcl_bench.data import load_split
from gcl_bench.data.pandas_ids import block_rows, reference_id_strings
from gcl_bench.data.split import Split
from gcl_bench.encode import encode_split
from gcl_bench.errors import GclBenchError
from gcl_bench.metrics import JudgedRun
from gcl_bench.runner import RunSettings, run_evaluation
from tests.test_runner import run_cli

QUERY_SUFFIX = "_{!@#~}_"


# ------------------------------------------------------------------ orders and metrics, as loops
def search_order(docs: dict[str, float]) -> list[str]:
    """Score descending, ties in the dict's order (a stable sort, as the reference's)."""
    return [doc for doc, _ in sorted(docs.items(), key=lambda item: -item[1])]


def trec_order(docs: dict[str, float]) -> list[str]:
    """Score descending, ties by doc id descending (trec_eval)."""
    by_id = sorted(docs.items(), key=lambda item: item[0], reverse=True)
    return [doc for doc, _ in sorted(by_id, key=lambda item: -item[1])]


def err_loop(grades: dict[str, int], ranked: list[str]) -> float:
    top, total, reach = max(grades.values()), 0.0, 1.0
    for rank, doc in enumerate(ranked, start=1):
        stop = (2 ** grades.get(doc, 0) - 1) / 2 ** top
        total += reach * stop / rank
        reach *= 1 - stop
    return total


def rbp_loop(grades: dict[str, int], ranked: list[str], p: float) -> float:
    top = max(grades.values())
    return (1 - p) * sum(grades.get(doc, 0) / top * p ** (rank - 1) for rank, doc in enumerate(ranked, start=1))


def rr_loop(grades: dict[str, int], ranked: list[str], k: int) -> float:
    return next((1 / rank for rank, doc in enumerate(ranked[:k], start=1) if grades.get(doc, 0) > 0), 0.0)


def ndcg_loop(grades: dict[str, int], ranked: list[str], k: int) -> float:
    dcg = sum(grades.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:k], start=1))
    ideal = sorted(grades.values(), reverse=True)[:k]
    return dcg / sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))


def ap_loop(grades: dict[str, int], ranked: list[str], k: int) -> float:
    found, total = 0, 0.0
    for rank, doc in enumerate(ranked[:k], start=1):
        if grades.get(doc, 0) > 0:
            found += 1
            total += found / rank
    return total / sum(1 for g in grades.values() if g > 0)


def precision_loop(grades: dict[str, int], ranked: list[str], k: int) -> float:
    return sum(1 for doc in ranked[:k] if grades.get(doc, 0) > 0) / k


def accuracy_loop(grades: dict[str, int], ranked: list[str], k: int) -> float:
    return float(any(grades.get(doc, 0) > 0 for doc in ranked[:k]))


def hole_loop(judged: set[str], ranked: list[str], k: int) -> float:
    return sum(1 for doc in ranked[:k] if doc not in judged) / k


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


# ------------------------------------------------------------------ 2: tied documents
TIE_QRELS = {"q1": {"d1": 3, "d2": 1, "d4": 2}, "q2": {"d7": 2, "d5": 1}}
TIE_RUN = {  # the order of each dict is the order the search returned the documents
    "q1": {"d2": 0.875, "d1": 0.5, "d3": 0.5, "d4": 0.5, "d0": 0.125},
    "q2": {"d6": 0.75, "d5": 0.75, "d7": 0.75},
}
TIE_METRICS = ["err", "rbp@0.8", "mrr@10", "accuracy@1", "hole@1", "ndcg@10", "map@1000", "precision@2"]


def expected_tie_metrics(search_order_families: set[str]) -> dict[str, float]:
    """Each metric from the loops, over the search order for ``search_order_families`` and over
    trec_eval's order for the others."""
    judged = {doc for grades in TIE_QRELS.values() for doc in grades}
    loops = {
        "err": lambda g, r: err_loop(g, r), "rbp@0.8": lambda g, r: rbp_loop(g, r, 0.8),
        "mrr@10": lambda g, r: rr_loop(g, r, 10), "accuracy@1": lambda g, r: accuracy_loop(g, r, 1),
        "hole@1": lambda g, r: hole_loop(judged, r, 1), "ndcg@10": lambda g, r: ndcg_loop(g, r, 10),
        "map@1000": lambda g, r: ap_loop(g, r, 1000), "precision@2": lambda g, r: precision_loop(g, r, 2),
    }
    out = {}
    for name, loop in loops.items():
        order = search_order if name.split("@")[0] in search_order_families else trec_order
        out[name] = mean([loop(TIE_QRELS[q], order(TIE_RUN[q])) for q in TIE_QRELS])
    return out


def test_ties_keep_search_order_for_err_rbp_mrr_accuracy_hole_under_the_reference_protocol() -> None:
    reference = gcl_bench.evaluate(TIE_QRELS, TIE_RUN, TIE_METRICS, protocol="reference")
    default = gcl_bench.evaluate(TIE_QRELS, TIE_RUN, TIE_METRICS)
    want_reference = expected_tie_metrics({"err", "rbp", "mrr", "accuracy", "hole"})
    want_default = expected_tie_metrics(set())
    for name in TIE_METRICS:
        assert reference[name] == pytest.approx(want_reference[name], abs=1e-12), name
        assert default[name] == pytest.approx(want_default[name], abs=1e-12), name
    # the case has teeth: the two orders give other numbers for every search-order family
    for name in ("err", "rbp@0.8", "accuracy@1", "hole@1"):
        assert want_reference[name] != pytest.approx(want_default[name]), name
    for name in ("ndcg@10", "map@1000", "precision@2"):
        assert reference[name] == default[name]


def test_search_output_ties_keep_column_order() -> None:
    """The array join ranks ties in column order: the same numbers as the dicts in that order."""
    doc_ids = [f"d{i}" for i in range(8)]
    width = max(map(len, TIE_RUN.values()))
    indices = np.full((2, width), -1, dtype=np.int64)
    scores = np.zeros((2, width), dtype=np.float32)
    for row, docs in enumerate(TIE_RUN.values()):
        for col, (doc, score) in enumerate(docs.items()):
            indices[row, col], scores[row, col] = doc_ids.index(doc), score
    for protocol, families in (("reference", {"err", "rbp", "mrr", "accuracy", "hole"}), ("default", set())):
        got = JudgedRun.from_arrays(TIE_QRELS, list(TIE_RUN), doc_ids, indices, scores,
                                    protocol=protocol).compute(TIE_METRICS).means
        want = expected_tie_metrics(families)
        for name in TIE_METRICS:
            assert got[name] == pytest.approx(want[name], abs=1e-12), (protocol, name)


def test_reference_ties_compare_scores_at_full_precision() -> None:
    """Two scores equal as float32 but not as float64 are no tie for the reference's Python sort."""
    qrels = {"q": {"a": 2, "b": 1}}
    run = {"q": {"b": 0.5, "a": 0.5 + 1e-12}}  # one float32, two float64 values
    got = gcl_bench.evaluate(qrels, run, ["err"], protocol="reference")["err"]
    assert got == pytest.approx(err_loop(qrels["q"], ["a", "b"]), abs=1e-15)
    assert gcl_bench.evaluate(qrels, run, ["err"])["err"] == pytest.approx(err_loop(qrels["q"], ["b", "a"]), abs=1e-15)


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(GclBenchError, match="protocol 'paper' is not one of default, reference"):
        gcl_bench.evaluate(TIE_QRELS, TIE_RUN, ["err"], protocol="paper")


class TiedEncoder:
    """A BEIR-style plug-in: documents d1, d2, d3 share one embedding, so their scores tie exactly."""

    similarity = "cos"

    def encode_queries(self, queries: list, batch_size: int, **kw: object) -> np.ndarray:
        return np.tile(np.array([[1.0, 0.0, 0.0]]), (len(queries), 1))

    def encode_corpus(self, corpus: list[dict], batch_size: int, **kw: object) -> np.ndarray:
        vectors = {"d0": [1.0, 0.1, 0.0], "d1": [1.0, 0.5, 0.0], "d2": [1.0, 0.5, 0.0], "d3": [1.0, 0.5, 0.0],
                   "d4": [0.1, 1.0, 0.0]}
        return np.array([vectors[doc["id"]] for doc in corpus])


def tied_split() -> Split:
    ids = [f"d{i}" for i in range(5)]
    return Split(name="tiny", doc_ids=ids, doc_titles=[f"product {i}" for i in ids], doc_images=[None] * 5,
                 query_ids=["q"], query_texts=["query"], qrels={"q": {"d3": 5, "d1": 1}})


@pytest.mark.parametrize("protocol", ["default", "reference"])
def test_flat_search_order_is_score_then_corpus_order(tmp_path: Path, protocol: str) -> None:
    """Search order of the flat index: score descending, then the lower document row. The cutoff
    inside a tie (difference 3) keeps the lower rows, and a top-k over the corpus size
    (difference 6) returns the whole corpus, under both protocols."""
    grades = {"d3": 5, "d1": 1}
    results = {}
    for top_k in (2, 5, 10):
        settings = RunSettings(model="tied", split="tiny", top_k=top_k, output_dir=str(tmp_path / f"{protocol}{top_k}"),
                               metrics=["err", "rbp@0.9"], protocol=protocol)
        results[top_k] = run_evaluation(settings, model=TiedEncoder(), split=tied_split())
        assert results[top_k]["settings"]["protocol"] == protocol
    run = json.loads((tmp_path / f"{protocol}10" / "run.json").read_text())["q"]
    assert list(run) == ["d0", "d1", "d2", "d3", "d4"] and all(math.isfinite(s) for s in run.values())
    cut = json.loads((tmp_path / f"{protocol}2" / "run.json").read_text())["q"]
    assert list(cut) == ["d0", "d1"]  # the tie at the cutoff keeps the lower row
    assert results[2]["metrics"]["err"] == pytest.approx(err_loop(grades, ["d0", "d1"]), abs=1e-12)
    order = ["d0", "d1", "d2", "d3", "d4"] if protocol == "reference" else ["d0", "d3", "d2", "d1", "d4"]
    for top_k in (5, 10):
        assert results[top_k]["metrics"]["err"] == pytest.approx(err_loop(grades, order), abs=1e-12)
        assert results[top_k]["metrics"]["rbp@0.9"] == pytest.approx(rbp_loop(grades, order, 0.9), abs=1e-12)


# ------------------------------------------------------------------ 2: the reference's own files
def reference_files(folder: Path) -> tuple[Path, Path, list[float]]:
    """A gt_results.json and a retrieval.json as evals/eval_gs_v1.py writes them: query keys
    ``text_{!@#~}_``, 12 documents per query best first (ties in the order its search returned
    them), scores float32 values as Python floats; and the summary it prints, computed by loops:
    mAP@12, mrr@12 and NDCG@10 as BEIR rounds them (5 decimals), mERR and mRBP7/8/9 unrounded."""
    rng = np.random.default_rng(7)
    gt, retrieval = {}, {}
    for q in range(3):
        key = f"blue lamp {q}{QUERY_SUFFIX}"
        docs = [f"{rng.integers(10**7):08d}" for _ in range(14)]
        levels = np.sort(rng.choice([0.25, 0.5, 0.625, 0.75, 0.8125, 0.875], size=12))[::-1]
        retrieval[key] = {doc: float(np.float32(level)) for doc, level in zip(docs[:12], levels)}
        judged = rng.choice(14, size=7, replace=False)  # two of the judged may not be retrieved
        gt[key] = {docs[i]: int(rng.integers(1, 101)) for i in judged}
    gt_path, run_path = folder / "gt_results.json", folder / "retrieval.json"
    gt_path.write_text(json.dumps(gt))
    run_path.write_text(json.dumps(retrieval))
    keys = list(gt)
    ranked = {k: search_order(retrieval[k]) for k in keys}
    trec = {k: trec_order(retrieval[k]) for k in keys}
    printed = [
        round(mean([ap_loop(gt[k], trec[k], 12) for k in keys]), 5),
        round(mean([rr_loop(gt[k], ranked[k], 12) for k in keys]), 5),
        round(mean([ndcg_loop(gt[k], trec[k], 10) for k in keys]), 5),
        mean([err_loop(gt[k], ranked[k]) for k in keys]),
        *(mean([rbp_loop(gt[k], ranked[k], p) for k in keys]) for p in (0.7, 0.8, 0.9)),
    ]
    return gt_path, run_path, printed


def test_scoring_the_reference_retrieval_json_gives_what_it_printed(tmp_path: Path) -> None:
    gt_path, run_path, printed = reference_files(tmp_path)
    names = ["map@12", "mrr@12", "ndcg@10", "err", "rbp@0.7", "rbp@0.8", "rbp@0.9"]
    out = tmp_path / "scores.json"
    assert run_cli(["evaluate", "--qrels", str(gt_path), "--run", str(run_path), "--protocol", "reference",
                    "--metrics", ",".join(names), "-o", str(out), "-q"]) == 0
    scores = json.loads(out.read_text())
    assert scores["protocol"] == "reference"
    got = [scores["metrics"][name] for name in names]
    assert [round(value, 5) for value in got[:3]] == printed[:3]
    assert got[3:] == pytest.approx(printed[3:], abs=1e-12)
    # the default protocol breaks the ties by doc id: its ERR is not the one printed
    default = tmp_path / "default.json"
    assert run_cli(["evaluate", "--qrels", str(gt_path), "--run", str(run_path), "--metrics", "err",
                    "-o", str(default), "-q"]) == 0
    assert json.loads(default.read_text())["metrics"]["err"] != pytest.approx(printed[3], abs=1e-6)


def test_a_trec_run_keeps_its_rank_column_under_the_reference_protocol(tmp_path: Path) -> None:
    qrels = {"q": {"a": 3, "c": 1}}
    ranks = {"b": 1, "c": 2, "a": 3}  # all tied; the file lists them in another order than their ranks
    (tmp_path / "gt.json").write_text(json.dumps(qrels))
    (tmp_path / "run.trec").write_text("".join(f"q Q0 {doc} {ranks[doc]} 0.5 tag\n" for doc in ("a", "b", "c")))
    for protocol, order in (("reference", ["b", "c", "a"]), ("default", ["c", "b", "a"])):
        out = tmp_path / f"{protocol}.json"
        assert run_cli(["evaluate", "--qrels", str(tmp_path / "gt.json"), "--run", str(tmp_path / "run.trec"),
                        "--protocol", protocol, "--metrics", "err", "-o", str(out), "-q"]) == 0
        assert json.loads(out.read_text())["metrics"]["err"] == pytest.approx(err_loop(qrels["q"], order), abs=1e-12)
    (tmp_path / "bad.trec").write_text("q Q0 a first 0.5 tag\n")
    assert run_cli(["evaluate", "--qrels", str(tmp_path / "gt.json"), "--run", str(tmp_path / "bad.trec"),
                    "--protocol", "reference", "-q"]) == 2
    assert run_cli(["evaluate", "--qrels", str(tmp_path / "gt.json"), "--run", str(tmp_path / "bad.trec"), "-q"]) == 0


# ------------------------------------------------------------------ 1: a missing title
BASIS = np.eye(6, dtype=np.float32)
TEXT_VECTORS = {"None": BASIS[0], "": BASIS[1], "blue": BASIS[2], "query": BASIS[4]}


class BasisAdapter:
    """gcl_bench's field-adapter protocol: each text and the image map to their own basis vector."""

    name = "basis"
    query_fields = {"text": 1.0}

    def __init__(self, doc_fields: dict[str, float]) -> None:
        self.doc_fields = doc_fields
        self.texts: list[str] = []

    def fingerprint(self) -> str:
        return "basis-1"

    def field_cache_key(self, side: str, field: str) -> dict:
        return {}

    def encode_field(self, side: str, field: str, values: list, batch_size: int) -> np.ndarray:
        if field == "image":
            return np.stack([BASIS[3] for _ in values])
        if side == "doc":
            self.texts.extend(values)
        return np.stack([TEXT_VECTORS[value] for value in values])


def titled_split(tmp_path: Path) -> Split:
    image = tmp_path / "photo.png"
    image.write_bytes(b"pixels")
    return Split(name="titles", doc_ids=["d0", "d1", "d2", "d3"], doc_titles=[None, "", "blue", None],
                 doc_images=[str(image), str(image), str(image), None], query_ids=["q"], query_texts=["query"],
                 qrels={"q": {"d2": 1}})


def unit(*parts: tuple[float, int]) -> np.ndarray:
    vector = sum(weight * BASIS[i] for weight, i in parts)
    return vector / np.linalg.norm(vector)


NONE, BLANK, BLUE, IMAGE = 0, 1, 2, 3
TITLE_CASES = {  # doc fields -> protocol -> {document row: its embedding}, from the rule by hand
    "title:1": {
        "default": {2: unit((1, BLUE))},
        "reference": {0: unit((1, NONE)), 1: unit((1, BLANK)), 2: unit((1, BLUE)), 3: unit((1, NONE))},
    },
    "image:0.5,title:0.5": {  # title second: a null title's weight is zeroed; a blank one is kept
        "default": {0: unit((1, IMAGE)), 1: unit((1, IMAGE)), 2: unit((0.5, IMAGE), (0.5, BLUE))},
        "reference": {0: unit((1, IMAGE)), 1: unit((0.5, IMAGE), (0.5, BLANK)), 2: unit((0.5, IMAGE), (0.5, BLUE))},
    },
    "title:0.5,image:0.5": {  # title first: a null title is the text "None" with its weight
        "default": {0: unit((1, IMAGE)), 1: unit((1, IMAGE)), 2: unit((0.5, BLUE), (0.5, IMAGE))},
        "reference": {0: unit((0.5, NONE), (0.5, IMAGE)), 1: unit((0.5, BLANK), (0.5, IMAGE)),
                      2: unit((0.5, BLUE), (0.5, IMAGE)), 3: unit((1, NONE))},  # d3: no image (7: renormalised)
    },
}


@pytest.mark.parametrize("doc_fields", list(TITLE_CASES))
@pytest.mark.parametrize("protocol", ["default", "reference"])
def test_a_missing_title_is_the_text_none_only_as_the_first_field(tmp_path: Path, doc_fields: str, protocol: str) -> None:
    weights = {name: float(w) for name, w in (part.split(":") for part in doc_fields.split(","))}
    adapter = BasisAdapter(weights)
    encoded = encode_split(adapter, titled_split(tmp_path), batch_size=8, cache=False, protocol=protocol)
    want = TITLE_CASES[doc_fields][protocol]
    rows = list(range(4)) if encoded.doc_rows is None else encoded.doc_rows.tolist()
    assert rows == sorted(want)
    np.testing.assert_allclose(encoded.doc_embeddings, np.stack([want[r] for r in rows]), atol=1e-6)
    if protocol == "reference" and doc_fields == "title:1":
        assert adapter.texts == ["None", "", "blue", "None"]
        assert encoded.info["documents"]["reference_texts"] == {"title": {"null_as_text": 2, "blank": 1}}


# ------------------------------------------------------------------ 4: product ids read by pandas
def test_ids_are_rewritten_as_pandas_reads_an_integer_column(tmp_path: Path) -> None:
    path = tmp_path / "split.csv"
    integers = pa.array(["00123", "+7", " 45 ", "-012", "-0"])
    assert reference_id_strings(integers, 10, path, "product_id").to_pylist() == ["123", "7", "45", "-12", "0"]
    # past int64: uint64 when no id is negative, else text (kept as written)
    large = ["00123", "9223372036854775808"]
    assert reference_id_strings(pa.array(large), 10, path, "product_id").to_pylist() == ["123", large[1]]
    assert reference_id_strings(pa.array(["-1", large[1]]), 10, path, "product_id").to_pylist() == ["-1", large[1]]
    # one id that is no integer makes the block text: kept as written, missing values read "nan"
    text = pa.array(["00123", "B07XYZ", "NA", ""])
    assert reference_id_strings(text, 10, path, "product_id").to_pylist() == ["00123", "B07XYZ", "nan", "nan"]
    for floats in (["00123", "1.5"], ["00123", ""], ["00123", "1e3"]):
        with pytest.raises(GclBenchError, match="floating-point"):
            reference_id_strings(pa.array(floats), 10, path, "product_id")


def test_pandas_blocks_of_rows_convert_on_their_own() -> None:
    # pandas' low-memory parser: blocks of the largest power of two below 2**20 // columns rows
    assert [block_rows(n) for n in (2, 3, 10, 40, 200)] == [262144, 262144, 65536, 16384, 4096]
    assert block_rows(2**18) == 2
    ids = pa.array(["001", "002", "X3", "004", "005"])
    assert reference_id_strings(ids, 2**18, Path("f.csv"), "product_id").to_pylist() == ["1", "2", "X3", "004", "5"]


def write_release_folder(folder: Path, gt: bool = False) -> Path:
    """A sub-dataset folder with one split CSV (no gt file: judgements are sampled from it)."""
    folder.mkdir(parents=True)
    corpus = {doc: {"title": f"lamp {doc}", "image_local": f"/img/{doc}.jpg"} for doc in ("0042", "1234", "0777")}
    (folder / "corpus_1.json").write_bytes(orjson.dumps(corpus))
    with open(folder / "query_0_product_id_0.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "product_id", "score_linear", "title"])
        for doc, score in (("0042", 10), ("1234", 5), ("0777", 0)):  # grades 100, 50, 1
            writer.writerow(["lamp", doc, score, f"lamp {doc}"])
    if gt:  # keyed by the raw query text, which the reference cannot read (difference 8)
        (folder / "query_0_product_id_0_gt_test.json").write_bytes(orjson.dumps({"lamp": {"0042": 2}}))
    return folder


def test_sampled_judgements_lose_leading_zeros_and_stop_at_top_k(tmp_path: Path) -> None:
    folder = write_release_folder(tmp_path / "marqo_gs_full_10m")
    default = load_split(folder, "in_domain", top_k=1000)
    reference = load_split(folder, "in_domain", top_k=2, protocol="reference")
    key = "lamp" + QUERY_SUFFIX
    assert default.qrels == {key: {"0042": 100, "1234": 50, "0777": 1}}
    assert reference.qrels == {key: {"42": 100, "1234": 50}}  # "42" is in no corpus: never retrieved
    assert reference.meta["ids_rewritten"] == 1 and reference.meta["judged_not_in_corpus"] == 1
    assert reference.query_ids == default.query_ids


@pytest.mark.parametrize("protocol", ["default", "reference"])
def test_run_scores_the_sampled_judgements_of_its_protocol(tmp_path: Path, protocol: str) -> None:
    folder = write_release_folder(tmp_path / "marqo_gs_full_10m")
    out = tmp_path / protocol
    assert run_cli(["run", "--model", "bm25", "--data-dir", str(folder), "--split", "in_domain", "--top-k", "2",
                    "--protocol", protocol, "--metrics", "ndcg@2,recall@2", "-o", str(out), "-q"]) == 0
    results = json.loads((out / "results.json").read_text())
    ranked = trec_order(json.loads((out / "run.json").read_text())["lamp" + QUERY_SUFFIX])  # nDCG's order
    grades = {"42": 100, "1234": 50} if protocol == "reference" else {"0042": 100, "1234": 50, "0777": 1}
    assert results["settings"]["protocol"] == protocol and results["dataset"]["top_k"] == (2 if protocol == "reference" else 1000)
    assert results["metrics"]["ndcg@2"] == pytest.approx(ndcg_loop(grades, ranked, 2), abs=1e-12)
    found = sum(1 for doc in ranked if doc in grades)
    assert results["metrics"]["recall@2"] == pytest.approx(found / len(grades), abs=1e-12)


def test_judged_top_k_other_than_top_k_is_refused_under_the_reference_protocol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = write_release_folder(tmp_path / "marqo_gs_full_10m")
    code = run_cli(["run", "--model", "bm25", "--data-dir", str(folder), "--split", "in_domain", "--top-k", "2",
                    "--judged-top-k", "5", "--protocol", "reference", "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--judged-top-k 5 differs from --top-k 2" in err[0]
    assert not (tmp_path / "out").exists()


def test_gt_files_keyed_by_raw_query_text_load_under_both_protocols(tmp_path: Path) -> None:
    folder = write_release_folder(tmp_path / "marqo_gs_full_10m", gt=True)
    for protocol in ("default", "reference"):
        split = load_split(folder, "in_domain", protocol=protocol)
        assert split.qrels == {"lamp": {"0042": 2}} and split.query_texts == ["lamp"]


# ------------------------------------------------------------------ the bundled sample
def per_query(path: Path) -> dict[str, dict[str, float]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row.pop("query_id"): {k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)}


SAMPLE_METRICS = ["ndcg@10", "map@1000", "recall@100", "precision@10", "err", "rbp@0.9", "mrr@10"]


@pytest.fixture(scope="module")
def bm25_sample_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BM25 on the bundled sample's zero_shot split under each protocol: ``<folder>/<protocol>/``."""
    folder = tmp_path_factory.mktemp("bm25_protocols")
    for protocol in ("default", "reference"):
        settings = RunSettings(model="bm25", split="zero_shot", output_dir=str(folder / protocol),
                               metrics=SAMPLE_METRICS, protocol=protocol)
        run_evaluation(settings)
    return folder


def test_bm25_on_the_bundled_sample_differs_only_where_scores_tie(bm25_sample_runs: Path) -> None:
    """The bundled sample has gt files (no id or depth difference) and BM25 does not fuse fields,
    so the one condition left is tied scores (BM25 ties on the sample's templated titles): the
    trec_eval-order metrics agree on every query, and ERR, RBP and MRR are, per query, the loops
    over the run's own order (reference) and over trec_eval's order (default)."""
    tmp_path = bm25_sample_runs
    run = json.loads((tmp_path / "default" / "run.json").read_text())
    assert run == json.loads((tmp_path / "reference" / "run.json").read_text())
    qrels = load_split(None, "zero_shot").qrels
    values = {protocol: per_query(tmp_path / protocol / "per_query.csv") for protocol in ("default", "reference")}
    differ = 0
    for query, docs in run.items():
        for name in ("ndcg@10", "map@1000", "recall@100", "precision@10"):
            assert values["reference"][query][name] == values["default"][query][name], (query, name)
        for protocol, ranked in (("reference", list(docs)), ("default", trec_order(docs))):
            got = values[protocol][query]
            assert got["err"] == pytest.approx(err_loop(qrels[query], ranked), abs=1e-12)
            assert got["rbp@0.9"] == pytest.approx(rbp_loop(qrels[query], ranked, 0.9), abs=1e-12)
            assert got["mrr@10"] == pytest.approx(rr_loop(qrels[query], ranked, 10), abs=1e-12)
        differ += values["reference"][query]["err"] != values["default"][query]["err"]
    assert differ > 0


def test_the_leaderboard_never_puts_two_protocols_in_one_table(bm25_sample_runs: Path) -> None:
    from gcl_bench.leaderboard import build_tables, discover, load_entries

    tables = build_tables(load_entries(discover([bm25_sample_runs])), metrics=["err"])
    assert sorted(table.setting["protocol"] for table in tables) == ["default", "reference"]
    by_protocol = {table.setting["protocol"]: table for table in tables}
    assert "reference protocol" in by_protocol["reference"].heading
    assert "protocol" not in by_protocol["default"].heading
    for protocol, table in by_protocol.items():
        want = json.loads((bm25_sample_runs / protocol / "results.json").read_text())["metrics"]["err"]
        assert [row.cells[("zero_shot", "err")].value for row in table.rows] == [want]


def test_sampled_judgements_of_the_bundled_sample_differ_only_in_leading_zero_ids(tmp_path: Path, sample_dir: Path) -> None:
    """Without its gt files the sample's judgements are sampled from its CSVs: the query set and
    grades agree, and the only ids that change are those with leading zeros (depth: every query
    has fewer rows than --top-k 1000, so cutting at it changes nothing)."""
    folder = tmp_path / "sample_without_gt"
    folder.mkdir()
    for name in ("corpus_2.json", "query_1_product_id_1.csv"):
        (folder / name).symlink_to(Path(sample_dir) / name)
    default = load_split(folder, "zero_shot")
    reference = load_split(folder, "zero_shot", top_k=1000, protocol="reference")
    assert reference.query_ids == default.query_ids
    rewritten = 0
    for key, grades in default.qrels.items():
        assert reference.qrels[key] == {str(int(doc)): grade for doc, grade in grades.items()}
        rewritten += sum(1 for doc in grades if doc.startswith("0"))
    assert rewritten > 0 and reference.meta["ids_rewritten"] == rewritten


def test_blank_titles_of_the_bundled_sample_are_the_only_encoding_difference(sample_dir: Path) -> None:
    """The sample's titles are never null, but some are empty: under the reference protocol those
    documents are encoded with their empty title; every other document's embedding is the same."""
    split = load_split(None, "zero_shot")
    blank = [i for i, title in enumerate(split.doc_titles) if not (title or "").strip()]
    embeddings = {}
    for protocol in ("default", "reference"):
        adapter = HashAdapter()
        encoded = encode_split(adapter, split, batch_size=256, cache=False, protocol=protocol)
        assert encoded.doc_rows is None  # every document has an image or a title
        embeddings[protocol] = encoded.doc_embeddings
    same = np.all(embeddings["default"] == embeddings["reference"], axis=1)
    assert blank and np.flatnonzero(~same).tolist() == blank


class HashAdapter(BasisAdapter):
    """A text's and an image path's vector from a hash of it (no model needed)."""

    def __init__(self) -> None:
        super().__init__({"image": 0.9, "title": 0.1})

    def encode_field(self, side: str, field: str, values: list, batch_size: int) -> np.ndarray:
        rows = []
        for value in values:
            seed = hashlib.sha256(f"{side}|{field}|{value}".encode()).digest()[:8]
            vector = np.random.default_rng(int.from_bytes(seed, "little")).standard_normal(8).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows)
