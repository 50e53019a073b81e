"""`gcl-bench info` reports the per-split counts of the data layer."""
from __future__ import annotations

from click.testing import CliRunner

from gcl_bench.cli import cli
from gcl_bench.data import dataset_info, load_split


def test_info_lists_every_split_with_its_counts() -> None:
    result = CliRunner().invoke(cli, ["info"], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = {row["split"]: row for row in dataset_info(None)}
    assert list(rows) == ["in_domain", "novel_query", "novel_document", "zero_shot"]
    for name, row in rows.items():
        split = load_split(None, name)
        assert row["documents"] == split.num_docs
        line = next(line for line in result.output.splitlines() if name in line)
        assert str(row["queries"]) in line and str(row["documents"]) in line
