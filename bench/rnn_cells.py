"""Digit RowRNN: validation accuracy of each cell type with the same recipe, on mnist-5k.

    .venv/bin/python bench/rnn_cells.py [--epochs 40] [--cells rnn gru lstm]

Each cell trains on the 4,500 training digits and is judged on the 500 validation digits it
never saw (best epoch by validation accuracy). Also times an epoch per cell.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import RowRNNConfig  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.train import TrainConfig, train  # noqa: E402

RECIPE = dict(augment=True, lr_schedule="cosine")
LEARNING_RATES = {"rnn": 1e-3, "gru": 2e-3, "lstm": 2e-3}  # the tanh RNN diverges at 2e-3


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"])
    args = parser.parse_args(argv)
    data = load_dataset("mnist-5k")
    print(f"RowRNN on mnist-5k, hidden {args.hidden}, {args.epochs} epochs, {RECIPE}, "
          f"torch threads {torch.get_num_threads()}")
    for cell in args.cells:
        started = time.perf_counter()
        result = train("rnn", RowRNNConfig(cell=cell, hidden_size=args.hidden),
                       TrainConfig(epochs=args.epochs, lr=LEARNING_RATES[cell], **RECIPE), data=data)
        seconds = time.perf_counter() - started
        m = result.best_metrics
        print(f"  {cell:5s} best epoch {result.best_epoch:3d}: val accuracy {m['val_accuracy'] * 100:.1f}%, "
              f"val loss {m['val_loss']:.3f}  ({seconds / args.epochs:.2f} s/epoch)", flush=True)


if __name__ == "__main__":
    main()
