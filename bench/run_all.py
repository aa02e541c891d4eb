"""Run every benchmark in turn and print their figures (the source of BENCHMARKS.md).

    .venv/bin/python bench/run_all.py [--quick]

--quick shortens the training benches (fewer epochs) for a smoke run; the figures in
BENCHMARKS.md come from the full run.
"""

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = [
        ["checkpoint_figures.py"],
        ["train_speed.py"],
        ["vae_vs_reference.py"] + (["--epochs", "20", "--ref-epochs", "20", "--iwae-k", "100"] if args.quick else []),
        ["photo_accuracy.py"] + (["--n", "50"] if args.quick else []),
        ["writer_figures.py"],
        ["inpage_latency.py"],
        ["full_view.py"] + (["-n", "40"] if args.quick else []),
        ["page_get.py"] + (["-n", "20", "--bursts", "1"] if args.quick else []),
        ["rnn_cells.py"] + (["--epochs", "3"] if args.quick else []),
        ["slider_latency.py"] + (["-n", "40"] if args.quick else []),
        ["latency_under_training.py"] + (["--n", "40"] if args.quick else []),
        ["mnist5k_load.py"],
        ["class_train.py", "--idle", "10" if args.quick else "30"],
    ]
    failed = 0
    for script, *options in runs:
        print(f"\n$ .venv/bin/python bench/{script} {' '.join(options)}".rstrip(), flush=True)
        failed += subprocess.call([sys.executable, str(BENCH / script), *options]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
