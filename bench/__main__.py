"""`python -m bench <name> [options]` from the repository's root: the same as `kpi bench`."""

from __future__ import annotations

import sys

from bench import BENCHMARKS, run_benchmark


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in {"-h", "--help"}:
        print(f"usage: python -m bench <name> [options]; names: {', '.join(sorted(BENCHMARKS))}")
        return 0 if len(sys.argv) >= 2 else 2
    return run_benchmark(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
