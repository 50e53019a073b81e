"""How an input file is stored must not change the numbers or end in a traceback.

gzip (read transparently wherever an input is read), a UTF-8 byte order mark (spreadsheets write
one), CRLF line ends: the numbers equal the clean files'. Bytes that are not UTF-8, a damaged
gzip stream, grades past 64 bits, empty files, a header alone, another delimiter, a folder where
a file belongs: one line naming the file (and the line), exit 2, nothing written.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from faults.harness import expect_error, run_cli
from faults.inputs import CORPUS, CSV, GT, QUERIES, baseline, results, run_split

BOM = b"\xef\xbb\xbf"
DATASET_FILES = [CORPUS, GT, QUERIES, CSV]


@pytest.mark.parametrize("name", DATASET_FILES)
def test_gzip_dataset_file_gives_the_same_numbers(tiny_dataset: Path, tmp_path: Path, name: str) -> None:
    clean = baseline(tiny_dataset, tmp_path)
    path = tiny_dataset / name
    path.with_name(name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    saved = results(tmp_path / "out")
    assert saved["metrics"] == clean
    assert saved["dataset"]["sampled"] is False  # the gt.json.gz was read, not skipped


@pytest.mark.parametrize("name", DATASET_FILES)
def test_byte_order_mark_gives_the_same_numbers(tiny_dataset: Path, tmp_path: Path, name: str) -> None:
    clean = baseline(tiny_dataset, tmp_path)
    path = tiny_dataset / name
    path.write_bytes(BOM + path.read_bytes())
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    assert results(tmp_path / "out")["metrics"] == clean


def test_sampled_judgements_from_a_gzip_csv_with_bom_and_crlf(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    clean = baseline(tiny_dataset, tmp_path)
    path = tiny_dataset / CSV
    packed = gzip.compress(BOM + path.read_bytes().replace(b"\n", b"\r\n"))
    path.unlink()
    (tiny_dataset / "query_1_product_id_1.csv.gz").write_bytes(packed)
    result = run_split(tiny_dataset, tmp_path / "out")
    assert result.code == 0, result.stderr
    assert results(tmp_path / "out")["metrics"] == clean


def test_non_utf8_query_in_the_csv_names_the_line(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    path = tiny_dataset / CSV
    lines = path.read_bytes().split(b"\n")
    lines[5] = b"caf\xe9" + lines[5]  # the query column of data row 5
    path.write_bytes(b"\n".join(lines))
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), CSV, "line 6", "0xe9")
    assert "UTF-8" in line
    assert not (tmp_path / "out").exists()


def test_truncated_gzip_names_the_file(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tiny_dataset / GT
    packed = gzip.compress(path.read_bytes())
    path.unlink()
    (tiny_dataset / (GT + ".gz")).write_bytes(packed[: len(packed) // 2])
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), GT + ".gz")
    assert "gzip" in line


def test_folder_where_a_dataset_file_belongs(tiny_dataset: Path, tmp_path: Path) -> None:
    (tiny_dataset / GT).unlink()
    (tiny_dataset / GT).mkdir()  # silently sampling judgements instead would be a wrong number
    line = expect_error(run_split(tiny_dataset, tmp_path / "out"), GT)
    assert "folder" in line


@pytest.mark.parametrize(("content", "named"), [
    (b"", "empty"),
    (b"   \n", "malformed JSON"),
    (b"[]", "expected an object"),
    (b'{"wool clock": [1, 2]}', "maps to list"),
    (b'{"wool clock": {"77299689": "high"}}', "'high'"),
    (b'{"wool clock": {"77299689": NaN}}', "malformed JSON"),
    (b'{"wool clock": {"77299689": 1.5}}', "1.5"),
    (b'{"wool clock": {"77299689": true}}', "True"),
    (b'{"wool clock": {"77299689": 1}} trailing', "malformed JSON"),
    (b"\x00\x01\xff binary", "malformed JSON"),
])
def test_broken_gt_files(tiny_dataset: Path, tmp_path: Path, content: bytes, named: str) -> None:
    (tiny_dataset / GT).write_bytes(content)
    expect_error(run_split(tiny_dataset, tmp_path / "out"), GT, named)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("content", "named"), [
    (b"", "empty CSV"),
    (b"query,product_id,score_linear\n", "no queries"),
    (b"query;product_id;score_linear\nred;001;1\n", "no column 'query'"),
    (b"query,product_id,score_linear\nred,001,1,extra\n", "malformed CSV"),
    (b"query,product_id,score_linear\nred,001,high\n", "'high'"),
    (b"query,product_id,score_linear\nred,001,inf\nblue,002,1\n", "'inf'"),
    (b"query,product_id,query,score_linear\nred,001,blue,1\n", "'query' 2 times"),
])
def test_broken_csv_files(tiny_dataset: Path, tmp_path: Path, content: bytes, named: str) -> None:
    (tiny_dataset / GT).unlink()
    (tiny_dataset / CSV).write_bytes(content)
    expect_error(run_split(tiny_dataset, tmp_path / "out"), CSV, named)


@pytest.mark.parametrize(("content", "named"), [
    (b"{\xef\xbb\xbf}", "malformed JSON"),
    (b'{"00311872": "a title"}', "maps to str"),
    (b'{"00311872": {"title": ["a", "b"]}}', "title is list"),
    (b'{"00311872": {"title": "a", "image_local": 5}}', "image_local is int"),
    (b"{}", "no products"),
])
def test_broken_corpus_files(tiny_dataset: Path, tmp_path: Path, content: bytes, named: str) -> None:
    (tiny_dataset / CORPUS).write_bytes(content)
    expect_error(run_split(tiny_dataset, tmp_path / "out"), CORPUS, named)


# -- judgement and run files given to evaluate ---------------------------------------------------
QRELS_JSON = b'{"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}'
RUN_JSON = b'{"q1": {"d1": 0.9, "d2": 0.5}, "q2": {"d3": 0.1, "d1": 0.05}}'
FORMS = {
    "qrels.json": QRELS_JSON,
    "qrels.txt": b"q1 0 d1 2\nq1 0 d2 1\nq2 0 d3 1\n",
    "qrels.tsv": b"query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t1\nq2\td3\t1\n",
    "run.json": RUN_JSON,
    "run.trec": b"q1 Q0 d1 1 0.9 t\nq1 Q0 d2 2 0.5 t\nq2 Q0 d3 1 0.1 t\nq2 Q0 d1 2 0.05 t\n",
}


def _evaluate(tmp_path: Path, qrels: tuple[str, bytes], run: tuple[str, bytes]) -> tuple[object, dict]:
    qrels_path, run_path = tmp_path / qrels[0], tmp_path / run[0]
    qrels_path.write_bytes(qrels[1])
    run_path.write_bytes(run[1])
    out = tmp_path / "summary.json"
    result = run_cli(["evaluate", "--qrels", qrels_path, "--run", run_path, "--metrics", "ndcg@10,err", "--output", out])
    return result, (json.loads(out.read_text()) if out.exists() else {})


def _clean(tmp_path: Path) -> dict:
    result, summary = _evaluate(tmp_path, ("clean_qrels.json", QRELS_JSON), ("clean_run.json", RUN_JSON))
    assert result.code == 0, result.stderr
    return summary["metrics"]


STORED = {
    "gzip": lambda data: gzip.compress(data),
    "bom": lambda data: BOM + data,
    "crlf": lambda data: data.replace(b"\n", b"\r\n"),
    "bom+gzip": lambda data: gzip.compress(BOM + data),
}


@pytest.mark.parametrize("stored", sorted(STORED))
@pytest.mark.parametrize("name", sorted(FORMS))
def test_stored_forms_of_judgements_and_runs_give_the_same_numbers(tmp_path: Path, name: str, stored: str) -> None:
    data = STORED[stored](FORMS[name])
    qrels = (name, data) if name.startswith("qrels") else ("qrels.json", QRELS_JSON)
    run = (name, data) if name.startswith("run") else ("run.json", RUN_JSON)
    result, summary = _evaluate(tmp_path, qrels, run)
    assert result.code == 0, result.stderr
    assert summary["metrics"] == _clean(tmp_path)


@pytest.mark.parametrize("name", ["qrels.txt", "qrels.tsv", "run.trec"])
def test_non_utf8_line_of_a_text_file_is_named(tmp_path: Path, name: str) -> None:
    data = FORMS[name] + (b"q1 0 d\xe9 1\n" if name == "qrels.txt" else b"q1\td\xe9\t1\n" if name == "qrels.tsv"
                          else b"q1 Q0 d\xe9 3 0.01 t\n")
    qrels = (name, data) if name.startswith("qrels") else ("qrels.json", QRELS_JSON)
    run = (name, data) if name.startswith("run") else ("run.json", RUN_JSON)
    result, _ = _evaluate(tmp_path, qrels, run)
    last_line = data.count(b"\n")
    expect_error(result, name, f"line {last_line}", "not UTF-8")
    assert not (tmp_path / "summary.json").exists()


@pytest.mark.parametrize(("qrels", "named"), [
    (("qrels.txt", b"q1 0 d1 100000000000000000000000\n"), "grade 100000000000000000000000"),
    (("qrels.tsv", b"q1\td1\t18446744073709551617\n"), "grade 18446744073709551617"),
    (("qrels.json", b'{"q1": {"d1": 18446744073709551617}}'), "larger than 2^63 - 1"),
    (("qrels.txt", b"q1 0 d1 1e30\n"), "larger than 2^63 - 1"),
])
def test_grades_beyond_64_bits_are_refused_as_written(tmp_path: Path, qrels: tuple[str, bytes], named: str) -> None:
    result, _ = _evaluate(tmp_path, qrels, ("run.json", RUN_JSON))
    expect_error(result, qrels[0], named)


def test_the_largest_64_bit_grade_is_scored(tmp_path: Path) -> None:
    result, summary = _evaluate(tmp_path, ("qrels.txt", b"q1 0 d1 9223372036854775807\nq1 0 d2 1\n"),
                                ("run.json", RUN_JSON))
    assert result.code == 0, result.stderr
    assert summary["metrics"]["ndcg@10"] == pytest.approx(1.0)  # d1 first: the ideal order


@pytest.mark.parametrize(("run", "named"), [
    (("run.json", b'{"q1": {"d1": true, "d2": 0.5}}'), "score True"),
    (("run.json", b'{"q1": {"d1": "0.9"}}'), "score '0.9'"),
    (("run.json", b'{"q1": {"d1": null}}'), "score None"),
    (("run.json", b'{"q1": [["d1", 0.9]]}'), "not an object"),
    (("run.trec", b"q1 Q0 d1 1 nan t\n"), "line 1: score 'nan'"),
    (("run.trec", b"q1 Q0 d1 1 -inf t\n"), "line 1: score '-inf'"),
    (("run.trec", b"q1 Q0 d1 1 0.9\n"), "line 1: expected"),
    (("run.trec", b"\x1f\x8b\x08\x00garbage"), "gzip"),
    (("run.trec", b"\xff\xfe\x00\x01"), "line 1 is not UTF-8"),
])
def test_broken_runs(tmp_path: Path, run: tuple[str, bytes], named: str) -> None:
    result, _ = _evaluate(tmp_path, ("qrels.json", QRELS_JSON), run)
    expect_error(result, run[0], named)


@pytest.mark.parametrize(("qrels", "named"), [
    (("qrels.tsv", b""), "empty qrels file"),
    (("qrels.tsv", b"query-id\tcorpus-id\tscore\n"), "no judgements"),
    (("qrels.tsv", b"q1\td1\n"), "line 1"),
    (("qrels.txt", b"q1 0 d1 -1\n"), "line 1: grade '-1'"),
    (("qrels.txt", b"q1 0 d1 2.5\n"), "line 1: grade '2.5'"),
])
def test_broken_text_qrels(tmp_path: Path, qrels: tuple[str, bytes], named: str) -> None:
    result, _ = _evaluate(tmp_path, qrels, ("run.json", RUN_JSON))
    expect_error(result, qrels[0], named)


def test_folder_given_as_the_run(tmp_path: Path) -> None:
    (tmp_path / "qrels.json").write_bytes(QRELS_JSON)
    (tmp_path / "a_folder").mkdir()
    result = run_cli(["evaluate", "--qrels", tmp_path / "qrels.json", "--run", tmp_path / "a_folder"])
    line = expect_error(result)
    assert "a_folder" in line


def _beir_folder(folder: Path, stored: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": "007", "title": "red shoe"}, {"_id": "008", "title": "blue hat"}, {"_id": "9", "title": "red hat"}]
    files = {
        "corpus.jsonl": "\n".join(map(json.dumps, docs)).encode() + b"\n",
        "queries.jsonl": b'{"_id": "q1", "text": "red"}\n{"_id": "q2", "text": "hat"}\n',
        "qrels/test.tsv": b"query-id\tcorpus-id\tscore\nq1\t007\t2\nq1\t9\t1\nq2\t008\t1\nq2\t9\t2\n",
    }
    for name, data in files.items():
        target = folder / (name + (".gz" if "gzip" in stored else ""))
        target.write_bytes(STORED[stored](data) if stored != "plain" else data)
    return folder


@pytest.mark.parametrize("stored", sorted(STORED))
def test_beir_folder_stored_otherwise_gives_the_same_numbers(tmp_path: Path, stored: str) -> None:
    def metrics(folder: Path) -> dict:
        out = folder.parent / (folder.name + "_out")
        result = run_cli(["run", "--model", "bm25", "--data-dir", folder, "--output-dir", out, "-q"])
        assert result.code == 0, result.stderr
        return results(out)["metrics"]

    assert metrics(_beir_folder(tmp_path / stored, stored)) == metrics(_beir_folder(tmp_path / "plain", "plain"))
