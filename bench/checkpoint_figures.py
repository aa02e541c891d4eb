"""Figures of the shipped checkpoints, measured now: validation and (where the data set has one) test.

    .venv/bin/python bench/checkpoint_figures.py

VAEs: negative ELBO in nats per image (genmodels.train.evaluate, fixed noise seed); autoencoders: the
reconstruction term alone; RowRNNs:
accuracy and cross-entropy; writers: exact NLL in nats per image on one fixed binarization of the
digits (as the trainer validates them). The test split is used here only, never for choosing epochs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels.models import MODEL_TYPES  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.registry import ModelRegistry  # noqa: E402
from genmodels.train import evaluate  # noqa: E402


def describe(metrics: dict) -> str:
    """Return the headline figure of a metrics dict as text."""
    if "val_nelbo" in metrics:
        return f"-ELBO {metrics['val_nelbo']:.2f} nats/image (recon {metrics['val_recon']:.2f} + KL {metrics['val_kl']:.2f})"
    if "val_recon" in metrics:  # a plain autoencoder: reconstruction only, no KL
        return f"reconstruction {metrics['val_recon']:.2f} nats/image"
    if "val_nll" in metrics:
        return f"NLL {metrics['val_nll']:.2f} nats/image (exact, binarized digits)"
    return f"accuracy {metrics['val_accuracy'] * 100:.2f}%, loss {metrics['val_loss']:.3f}"


def main() -> None:
    for entry in ModelRegistry(device="cpu").entries():
        model_class = MODEL_TYPES[entry.model_type]
        model = model_class.from_pretrained(entry.path, device="cpu")
        binary = getattr(model_class, "binary_data", False)
        data = load_dataset(entry.dataset)
        print(f"{entry.name} ({entry.dataset}, {entry.epochs_trained} epochs)")
        print(f"  validation ({len(data.val_x)}): {describe(evaluate(model, data.val_x, data.val_y, binary=binary))}")
        if data.test_x is not None:
            print(f"  test ({len(data.test_x)}):      "
                  f"{describe(evaluate(model, data.test_x, data.test_y, binary=binary))}")


if __name__ == "__main__":
    main()
