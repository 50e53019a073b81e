"""Ids that lost information on the way in are refused, naming the file, the column and the fix.

A float or integer ``product_id`` column (parquet), ids printed from floats or stripped of their
leading zeros (CSV, gt), null or empty ids: each would make judged products unreachable or merge
documents, a wrong number under exit 0.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from faults.harness import expect_error, run_cli
from faults.inputs import CSV, GT, STEM, results, run_split, warnings_of
from gcl_bench.results.facts import facts


def _rows(folder: Path) -> pa.Table:
    convert = pacsv.ConvertOptions(column_types={"product_id": pa.string(), "query_id": pa.string()})
    return pacsv.read_csv(folder / CSV, convert_options=convert)


def _parquet_folder(tmp_path: Path, table: pa.Table) -> Path:
    folder = tmp_path / "hf"
    (folder / "data").mkdir(parents=True)
    pq.write_table(table, folder / "data" / "zero_shot-00000-of-00001.parquet")
    return folder


def _with_ids(table: pa.Table, ids: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.column_names.index("product_id"), "product_id", ids)


@pytest.mark.parametrize("kind", [pa.float64(), pa.int64()])
def test_numeric_product_id_column_in_parquet_is_refused(tiny_dataset: Path, tmp_path: Path, kind: pa.DataType) -> None:
    table = _rows(tiny_dataset)
    folder = _parquet_folder(tmp_path, _with_ids(table, pc.cast(table["product_id"], kind)))
    line = expect_error(run_split(folder, tmp_path / "out"), "zero_shot-00000-of-00001.parquet", "'product_id'", str(kind))
    assert "as text" in line
    assert not (tmp_path / "out").exists()


def test_null_product_ids_in_parquet_are_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    table = _rows(tiny_dataset)
    ids = table["product_id"].to_pylist()
    ids[4] = ids[9] = None
    folder = _parquet_folder(tmp_path, _with_ids(table, pa.array(ids, pa.string())))
    line = expect_error(run_split(folder, tmp_path / "out"), "'product_id'", "2 row(s)", "row 5")
    assert 'document ""' in line


def test_null_query_in_parquet_belongs_to_no_query(tiny_dataset: Path, tmp_path: Path) -> None:
    table = _rows(tiny_dataset)
    queries = table["query"].to_pylist()
    queries[0] = None
    folder = _parquet_folder(tmp_path, table.set_column(table.column_names.index("query"), "query",
                                                        pa.array(queries, pa.string())))
    result = run_split(folder, tmp_path / "out")
    assert result.code == 0 and result.exception is None, result.stderr
    recorded = [fact.text for fact in facts(results(tmp_path / "out"))]  # a note: -q does not print it
    assert any("1 rows" in text and "no query" in text for text in recorded)
    assert all(key != "None_{!@#~}_" for key in json.loads((tmp_path / "out" / "run.json").read_text()))


def test_csv_ids_written_from_floats_are_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()  # judgements sampled from the CSV: its product ids are the judged ones
    table = _rows(tiny_dataset)
    floats = pa.array([repr(float(i)) for i in table["product_id"].to_pylist()])  # as pandas writes a float column
    pacsv.write_csv(_with_ids(table, floats), tiny_dataset / CSV)
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), CSV, "'product_id'")
    assert "written from floats" in line


def test_csv_ids_that_lost_their_leading_zeros_are_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    table = _rows(tiny_dataset)
    stripped = pc.utf8_ltrim(table["product_id"], "0")  # what an integer column writes
    pacsv.write_csv(_with_ids(table, stripped), tiny_dataset / CSV)
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), CSV, "leading zeros", "--allow-unreachable")
    assert "is '00" in line
    assert not (tmp_path / "out").exists()
    result = run_split(tiny_dataset, tmp_path / "out", "--allow-unreachable")
    assert result.code == 0, result.stderr
    assert any("can never be retrieved" in w for w in warnings_of(result))


def test_gt_ids_that_lost_their_leading_zeros_are_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tiny_dataset / GT
    gt = json.loads(path.read_text())
    query = next(iter(gt))
    padded = next(doc for doc in gt[query] if doc.startswith("0"))
    gt[query][padded.lstrip("0")] = gt[query].pop(padded)
    path.write_text(json.dumps(gt))
    expect_error(run_split(tiny_dataset, tmp_path / "out"), GT, repr(padded.lstrip("0")), repr(padded))


def test_empty_product_id_in_a_csv_is_refused(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    lines = (tiny_dataset / CSV).read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = ""
    lines[3] = ",".join(cells)
    (tiny_dataset / CSV).write_text("\n".join(lines) + "\n")
    expect_error(run_split(tiny_dataset, tmp_path / "out"), CSV, "'product_id'", "data row 3")


def _beir(folder: Path, ids: list[object]) -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [json.dumps({"_id": i, "title": f"doc {i}"}) for i in ids]
    (folder / "corpus.jsonl").write_text("\n".join(docs) + "\n")
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "doc"}) + "\n")
    (folder / "qrels" / "test.tsv").write_text(f"query-id\tcorpus-id\tscore\nq1\t{ids[0]}\t1\n")
    return folder


def test_beir_ids_must_be_text_or_integers(tmp_path: Path) -> None:
    folder = _beir(tmp_path / "beir_ok", [7, "008"])
    result = run_cli(["run", "--model", "bm25", "--data-dir", folder, "--output-dir", tmp_path / "out", "-q"])
    assert result.code == 0, result.stderr
    assert "7" in json.loads((tmp_path / "out" / "run.json").read_text())["q1"]
    folder = _beir(tmp_path / "beir_float", [1.5e11, "008"])
    result = run_cli(["run", "--model", "bm25", "--data-dir", folder, "--output-dir", tmp_path / "out2", "-q"])
    expect_error(result, "corpus.jsonl", "line 1", "_id 150000000000.0")


def test_most_judged_products_unreachable_is_an_error_unless_allowed(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tiny_dataset / "corpus_2.json"
    corpus = json.loads(path.read_text())
    path.write_text(json.dumps({f"x{k}": v for k, v in corpus.items()}))
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), GT, "--allow-unreachable", "corpus_2.json")
    assert line.count("of the") == 1 and "judged products" in line
    assert not (tmp_path / "out").exists()
    result = run_split(tiny_dataset, tmp_path / "out", "--allow-unreachable")
    assert result.code == 0, result.stderr
    saved = results(tmp_path / "out")
    assert saved["metrics"]["ndcg@10"] == 0.0
    assert saved["dataset"]["judged_not_in_corpus"] == saved["dataset"]["judged_products"] > 0
    assert any(STEM in w and "can never be retrieved" in w for w in warnings_of(result))
