"""``python -m gcl_bench`` is the command line (so ``torchrun -m gcl_bench run ...`` works)."""
from gcl_bench.cli import main

if __name__ == "__main__":
    main()
