"""How many importance samples the end-of-run NLL bound needs: time and nats of likelihood.measure per k.

    .venv/bin/python bench/nll_samples.py [--checkpoint checkpoints/vae-mnist] [--ks 100,1000]

Runs on one torch thread (as a training job does), on the checkpoint's own validation digits
(binarized with likelihood.BINARIZE_SEED), one k after another in one run.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import VAE, likelihood  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="checkpoints/vae-mnist")
    parser.add_argument("--dataset", default="mnist-5k", help="the data set the checkpoint was trained on")
    parser.add_argument("--ks", default="100,1000")
    args = parser.parse_args()
    torch.set_num_threads(1)
    vae = VAE.from_pretrained(args.checkpoint, device="cpu")
    data = load_dataset(args.dataset)
    for k in (int(v) for v in args.ks.split(",")):
        started = time.perf_counter()
        record = likelihood.measure(vae, data, k=k)
        print(f"k={k:5d}: bound {record['nats']:.2f} nats/image on {record['digits']} digits, "
              f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
