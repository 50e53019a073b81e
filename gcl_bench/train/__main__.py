"""``python -m gcl_bench.train ...`` (and ``torchrun -m gcl_bench.train ...``): the same flags as
``gcl-bench train``."""
from __future__ import annotations

import sys

from gcl_bench.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:]])
