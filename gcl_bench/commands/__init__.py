"""Click sub-commands of ``gcl-bench``, one module each, imported lazily by gcl_bench.cli."""
