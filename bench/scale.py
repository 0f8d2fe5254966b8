"""What every `--scale` sweep shares: the sizes (each half the next), one row of times per size
and case, the CSV file, the growth exponent and the chart (PNG, drawn with matplotlib:
`pip install -e '.[bench]'`) beside the CSV.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def add_scale_options(parser: argparse.ArgumentParser, bench: str, sizes: str) -> None:
    """A benchmark's `--scale N` and `--scale-out FILE` (default `<bench>-scale.csv`); `sizes`
    says which sizes N counts, for the help text."""
    parser.add_argument(
        "--scale", type=int, metavar="N",
        help=f"time N {sizes} (5: a factor of 16), into a CSV file and a chart",
    )  # fmt: skip
    parser.add_argument(
        "--scale-out", default=f"{bench}-scale.csv", metavar="FILE",
        help="the CSV file of --scale; the chart is written beside it (.png)",
    )  # fmt: skip


#: The columns every sweep's CSV ends with.
TIME_COLUMNS = ("service_ms", "baseline_ms", "ratio")


@dataclass(frozen=True)
class Point:
    """The times of one case at one size; `details` are further CSV columns (other sizes,
    counts of what was read) by name."""

    size: int
    case: str
    service_ms: float
    baseline_ms: float
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.service_ms / self.baseline_ms


@dataclass(frozen=True)
class Sweep:
    """How a benchmark names its sweep: the size's CSV column and axis label, the CSV columns
    before the times (the size's and "case" among them), and the two sides' names."""

    bench: str  # "kpi-compute"
    size_column: str  # "incidents"
    size_label: str  # the chart's x axis
    columns: tuple[str, ...]  # CSV columns before TIME_COLUMNS
    baseline: str  # "hand-written SQL"
    service: str = "service"
    time_label: str = "ms (median)"


def halving_sizes(largest: int, steps: int) -> list[int]:
    """`steps` sizes, the largest as given and each other half the next (rounded down),
    smallest first: 5 steps span a factor of 16."""
    if steps < 2:
        raise ValueError("a sweep needs at least two sizes")
    if largest >> (steps - 1) < 1:
        raise ValueError(f"{largest} cannot be halved {steps - 1} times")
    return [largest >> k for k in range(steps - 1, -1, -1)]


def write_csv(sweep: Sweep, points: Sequence[Point], path: Path) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow((*sweep.columns, *TIME_COLUMNS))
        for p in points:
            row = {**p.details, sweep.size_column: p.size, "case": p.case}
            out.writerow([*(row[c] for c in sweep.columns), f"{p.service_ms:.2f}",
                          f"{p.baseline_ms:.2f}", f"{p.ratio:.3f}"])  # fmt: skip


def cases(points: Sequence[Point]) -> list[str]:
    return list(dict.fromkeys(p.case for p in points))


def growth(points: Sequence[Point], case: str, side: str) -> float:
    """The exponent k of time ~ size^k between the smallest and the largest size of a case
    (1: linear, 0: flat), from the side's ("service" or "baseline") times."""
    mine = sorted((p for p in points if p.case == case), key=lambda p: p.size)
    first, last = mine[0], mine[-1]
    ms = f"{side}_ms"
    return math.log(getattr(last, ms) / getattr(first, ms)) / math.log(last.size / first.size)


def step_growth(points: Sequence[Point], case: str, side: str) -> list[float]:
    """The exponent between each size and the next: a step above 1 grows worse than linearly
    there, whatever the ends say."""
    mine = sorted((p for p in points if p.case == case), key=lambda p: p.size)
    return [growth([a, b], case, side) for a, b in itertools.pairwise(mine)]


def write_chart(sweep: Sweep, points: Sequence[Point], path: Path) -> None:
    """Time against size, both axes logarithmic, one panel per case, both sides in each."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    names = cases(points)
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4.2), squeeze=False)
    for ax, case in zip(axes[0], names, strict=True):
        mine = sorted((p for p in points if p.case == case), key=lambda p: p.size)
        sizes = [p.size for p in mine]
        ax.plot(sizes, [p.service_ms for p in mine], "o-", label=sweep.service)
        ax.plot(sizes, [p.baseline_ms for p in mine], "s--", label=sweep.baseline)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes], rotation=20)
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_title(f"{sweep.bench}, {case}")
        ax.set_xlabel(sweep.size_label)
        ax.set_ylabel(sweep.time_label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(sweep: Sweep, points: Sequence[Point], out: Path) -> None:
    """Writes the CSV and the chart beside it, and prints each case's growth exponents."""
    write_csv(sweep, points, out)
    print(f"{sweep.bench} --scale: times in {out}")
    for case in cases(points):
        print(f"  {case}: time ~ size^{growth(points, case, 'service'):.2f} ({sweep.service}), "
              f"size^{growth(points, case, 'baseline'):.2f} ({sweep.baseline})")  # fmt: skip
        for side, name in (("service", sweep.service), ("baseline", sweep.baseline)):
            steps = " ".join(f"{k:.2f}" for k in step_growth(points, case, side))
            print(f"    {name}, size to the next: ^{steps}")
    chart = out.with_suffix(".png")
    try:
        write_chart(sweep, points, chart)
        print(f"  chart in {chart}")
    except ImportError:
        print("  no chart: matplotlib is not installed (pip install -e '.[bench]')")
