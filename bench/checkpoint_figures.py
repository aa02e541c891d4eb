"""Figures of the shipped checkpoints, measured now: validation and (where the data set has one) test.

    .venv/bin/python bench/checkpoint_figures.py

VAEs: negative ELBO in nats per image (genmodels.train.evaluate, fixed noise seed);
RowRNNs: accuracy and cross-entropy. The test split is used here only, never for choosing epochs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import VAE, RowRNN  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.registry import ModelRegistry  # noqa: E402
from genmodels.train import evaluate  # noqa: E402


def describe(metrics: dict) -> str:
    """Return the headline figure of a metrics dict as text."""
    if "val_nelbo" in metrics:
        return f"-ELBO {metrics['val_nelbo']:.2f} nats/image (recon {metrics['val_recon']:.2f} + KL {metrics['val_kl']:.2f})"
    return f"accuracy {metrics['val_accuracy'] * 100:.2f}%, loss {metrics['val_loss']:.3f}"


def main() -> None:
    registry = ModelRegistry(runs_dir=None, device="cpu")
    for entry in registry.entries():
        model = (VAE if entry.model_type == "vae" else RowRNN).from_pretrained(entry.path, device="cpu")
        data = load_dataset(entry.dataset)
        print(f"{entry.name} ({entry.dataset}, {entry.epochs_trained} epochs)")
        print(f"  validation ({len(data.val_x)}): {describe(evaluate(model, data.val_x, data.val_y))}")
        if data.test_x is not None:
            print(f"  test ({len(data.test_x)}):      {describe(evaluate(model, data.test_x, data.test_y))}")


if __name__ == "__main__":
    main()
