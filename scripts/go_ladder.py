"""Print the Go/Rust kernel ladder of a result file as a Markdown table (go/README.md, "Go at
its best"): per table, each rung's kernel P50 (``report.tiers.kernel_ladder``) and the
splits, and the end-to-end P50 beside it for the gRPC backends.

    python scripts/go_ladder.py /tmp/gobest_runs/ladder.json
"""

from __future__ import annotations

import sys

from hybridbench.report import formatting as fmt
from hybridbench.report import model, tiers
from hybridbench.results import load


def main(paths: list[str]) -> int:
    report = model.build([load(p) for p in paths])
    head = [*tiers.KERNEL_RUNGS, "Go tuning", "language (idiomatic)", "language (at their best)",
            "cgo"]
    print("| table | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 1) + "|")
    for run in report.runs:
        for group in run.groups:
            ladder = tiers.kernel_ladder(group.lowest)
            if ladder is None:
                continue
            times = [fmt.duration_ns(r.kernel_ns) if (r := ladder.rung(label)) else "-"
                     for label in tiers.KERNEL_RUNGS]
            splits = dict(ladder.splits())
            factors = [fmt.ratio(splits[name]) if name in splits else "-"
                       for name in head[len(tiers.KERNEL_RUNGS):]]
            print(f"| {group.title} | " + " | ".join(times + factors) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
