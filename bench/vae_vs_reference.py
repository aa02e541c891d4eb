"""Digit VAE quality: our training recipe vs the pytorch/examples recipe, same split, same judge.

    .venv/bin/python bench/vae_vs_reference.py [--ref-epochs 200] [--epochs 200]

Both train on the same 4,500 mnist-5k images and are judged on the same 500 validation images
by the same function (genmodels.train.evaluate: negative ELBO in nats per image, fixed noise
seed). The reference is credited with its best epoch. Prints both, the margin, and the IWAE
(k=1000) bound of ours.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.reference_vae import ReferenceVAE, reference_loader, train_reference_epoch  # noqa: E402
from genmodels import VAE, VAEConfig  # noqa: E402
from genmodels.data import load_dataset, to_float  # noqa: E402
from genmodels.train import TrainConfig, evaluate, train  # noqa: E402

# The recipe of the shipped checkpoints/vae-mnist (docs/training.md, "The shipped checkpoints"): same model,
# regularised for 4,500 images and trained longer.
OUR_RECIPE = dict(lr=3e-3, lr_schedule="cosine", ema_decay=0.999, weight_decay=0.05, binarize=True,
                  augment=True, augment_rotation=10.0, augment_shift=0.0, augment_scale=0.0)


def run_reference(data, epochs: int, seed: int = 0) -> tuple[int, float, list[float]]:
    """Train the example's recipe; return (best epoch, best validation -ELBO, per-epoch curve)."""
    torch.manual_seed(seed)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = reference_loader(data.train_x, data.train_y, seed=seed)
    judge = VAE(VAEConfig())
    curve = []
    for _ in range(epochs):
        train_reference_epoch(model, optimizer, loader)
        judge.load_state_dict(model.state_dict())
        curve.append(evaluate(judge, data.val_x, data.val_y)["val_nelbo"])
    best = min(range(epochs), key=curve.__getitem__)
    return best + 1, curve[best], curve


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref-epochs", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--checkpoint", default=None, help="also judge this saved VAE folder")
    args = parser.parse_args(argv)
    data = load_dataset("mnist-5k")

    started = time.perf_counter()
    ref_epoch, ref_best, curve = run_reference(data, args.ref_epochs)
    ref_seconds = time.perf_counter() - started
    print(f"reference (pytorch/examples vae/main.py): best epoch {ref_epoch}/{args.ref_epochs}, "
          f"val -ELBO {ref_best:.2f} nats/image; last epoch {curve[-1]:.2f} ({ref_seconds:.0f}s)")

    started = time.perf_counter()
    train_config = TrainConfig(epochs=args.epochs, **OUR_RECIPE)
    result = train("vae", VAEConfig(), train_config, data=data)
    ours_seconds = time.perf_counter() - started
    ours = result.best_metrics["val_nelbo"]
    recipe = ", ".join(f"{k}={v}" for k, v in OUR_RECIPE.items())
    print(f"ours ({recipe}): best epoch {result.best_epoch}/{args.epochs}, val -ELBO {ours:.2f} "
          f"nats/image (recon {result.best_metrics['val_recon']:.2f} + KL {result.best_metrics['val_kl']:.2f}) "
          f"({ours_seconds:.0f}s)")
    print(f"margin: {ref_best - ours:.2f} nats/image in our favour")
    torch.manual_seed(0)
    x = to_float(data.val_x)
    iwae = result.model.iwae_bound(x, k=args.iwae_k, generator=torch.Generator().manual_seed(0)).mean().item()
    print(f"ours IWAE (k={args.iwae_k}) bound: log p(x) >= {iwae:.2f}, i.e. NLL <= {-iwae:.2f} nats/image")
    if args.checkpoint:
        shipped = VAE.from_pretrained(args.checkpoint, device="cpu")
        m = evaluate(shipped, data.val_x, data.val_y)
        b = shipped.iwae_bound(x, k=args.iwae_k, generator=torch.Generator().manual_seed(0)).mean().item()
        print(f"{args.checkpoint}: val -ELBO {m['val_nelbo']:.2f}, IWAE(k={args.iwae_k}) NLL <= {-b:.2f}")


if __name__ == "__main__":
    main()
