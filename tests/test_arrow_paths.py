"""Corpus columns backed by Arrow take shortcuts (hashing buffers, Arrow's hash join, one query's
ids at a time) that must give exactly what the plain Python paths give."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gcl_bench.data.columns import StrColumn
from gcl_bench.errors import GclBenchError
from gcl_bench.io import dumps_json, hash_texts
from gcl_bench.metrics.judgements import _rows_in_corpus
from gcl_bench.results import run_json, run_to_dict

TEXTS = ["red shirt", "", "héllo wörld ✓", "x" * 300, "zz", "a b c"]


@pytest.mark.parametrize("arrow", [
    pa.array(TEXTS),
    pa.array(TEXTS, type=pa.large_string()),
    pa.chunked_array([TEXTS[:2], TEXTS[2:]]),
    pa.array(["skipped"] + TEXTS)[1:],  # a slice: the offsets do not start at 0
    pa.chunked_array([pa.array(["s"] + TEXTS[:3])[1:], pa.array(TEXTS[3:] + ["t"])[:3]]),
])
def test_hash_of_an_arrow_column_is_the_hash_of_its_strings(arrow) -> None:
    assert hash_texts(StrColumn(arrow)) == hash_texts(list(TEXTS))


def test_hash_of_an_arrow_column_counts_a_null_as_empty_and_tells_lists_apart() -> None:
    assert hash_texts(StrColumn(pa.array(["a", None, "b"]))) == hash_texts(["a", "", "b"])
    assert hash_texts(StrColumn(pa.array(["ab", "c"]))) != hash_texts(["a", "bc"])
    assert hash_texts(StrColumn(pa.array([], type=pa.string()))) == hash_texts([])


def test_rows_in_an_arrow_corpus_equal_the_dict_lookup() -> None:
    rng = np.random.default_rng(0)
    ids = [f"{i:06d}" for i in rng.permutation(5000)]
    wanted = [ids[i] for i in rng.integers(0, len(ids), 700)] + ["absent", "00001x"]
    expected = np.array([ids.index(w) if w in ids else -1 for w in wanted])
    for column in (StrColumn(pa.array(ids)), StrColumn(pa.chunked_array([ids[:1234], ids[1234:]]))):
        rows = _rows_in_corpus(column, wanted)
        assert rows.dtype == np.int64 and rows.tolist() == expected.tolist()


def test_a_repeated_id_in_an_arrow_corpus_is_named() -> None:
    with pytest.raises(GclBenchError, match="'b' occurs more than once"):
        _rows_in_corpus(StrColumn(pa.array(["a", "b", "c", "b"])), ["a"])


def test_run_json_is_the_serialised_run_dict() -> None:
    rng = np.random.default_rng(1)
    doc_ids = [f"d{i}" for i in range(50)]
    indices = np.stack([rng.permutation(50)[:8] for _ in range(6)]).astype(np.int64)
    indices[2, 5:] = -1  # a short list, padded
    indices[4, :] = -1  # a query that retrieved nothing
    scores = rng.random(indices.shape).astype(np.float32)
    query_ids = [f"query {i}" for i in range(6)]
    expected = dumps_json(run_to_dict(query_ids, doc_ids, scores, indices), indent=False)
    assert run_json(query_ids, doc_ids, scores, indices) == expected
    assert run_json(query_ids, StrColumn(pa.array(doc_ids)), scores, indices) == expected
    repeated = ["a", "b", "a", "c", "d", "e"]  # the dict keeps the last list of a repeated key
    assert run_json(repeated, doc_ids, scores, indices) == dumps_json(
        run_to_dict(repeated, doc_ids, scores, indices), indent=False)
    assert run_json([], doc_ids, scores[:0], indices[:0]) == b"{}"


def test_text_field_of_an_arrow_column_equals_the_list_rule() -> None:
    from gcl_bench.encode.plan import _text_values

    titles = ["red shirt", " ", None, "b\x1c", "", "\u3000", "x y", "\t\n", "ok"] * 7  # Python's blanks
    column = StrColumn(pa.chunked_array([titles[:20], titles[20:]]))
    present, values = _text_values(None, "title", column, None)
    expected_present, expected_values = _text_values(None, "title", list(titles), None)
    assert present.tolist() == expected_present.tolist()
    assert list(values) == expected_values and isinstance(values, StrColumn)
    assert hash_texts(values) == hash_texts(expected_values)


def test_values_at_of_a_column_equal_indexing_its_list() -> None:
    ids = [f"d{i:04d}" for i in range(5000)]
    rows = np.random.default_rng(2).integers(0, len(ids), 300)
    expected = [ids[i] for i in rows.tolist()]
    chunked = StrColumn(pa.chunked_array([ids[i:i + 64] for i in range(0, len(ids), 64)]))
    assert chunked.values_at(rows) == expected
    assert chunked.values_at(rows[:0]) == []
    chunked.tolist()  # once the list exists, it is used
    assert chunked.values_at(rows) == expected
    assert StrColumn(list(ids)).values_at(rows) == expected
