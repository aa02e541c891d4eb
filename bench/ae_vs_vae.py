"""The plain autoencoder against the VAE: reconstruction, how far each one's codes are from N(0, I), and what
the digit reader makes of codes drawn from N(0, I) through each decoder.

    .venv/bin/python bench/ae_vs_vae.py [--ae checkpoints/ae-mnist] [--vae checkpoints/vae-mnist] [-n 1000]

Figures on the validation digits of mnist-5k (never trained on), one torch thread, on the CPU:
- reconstruction BCE in nats per image: the autoencoder's (deterministic), and the VAE's reconstruction
  term of its validation -ELBO (one posterior draw, genmodels.train.evaluate) and from its posterior mean;
- the codes: mean over dimensions of each dimension's mean and standard deviation, the range of the
  standard deviations, the mean squared length of a code (N(0, I) in 20 dimensions: 0, 1, 1, 20), for the
  autoencoder's codes, the VAE's posterior means and the VAE's posterior draws;
- the same n codes drawn from N(0, I) (seed 0) through both decoders, read by rnn-mnist: the mean of the
  reader's largest class probability and the share of samples it reads with at least 0.9 of it.
"""

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from genmodels import VAE, Autoencoder, RowRNN  # noqa: E402
from genmodels.data import load_dataset, to_float  # noqa: E402
from genmodels.train import evaluate  # noqa: E402

CONFIDENT = 0.9  # the reader's largest class probability that counts as a clear digit


def code_figures(codes: torch.Tensor) -> str:
    """Return a line describing codes (N, d) against N(0, I): per-dimension mean and std, and E||z||^2."""
    std = codes.std(0)
    return (f"dim mean {codes.mean(0).mean():+.2f} (|mean| {codes.mean(0).abs().mean():.2f}), "
            f"dim std {std.mean():.2f} (from {std.min():.2f} to {std.max():.2f}), "
            f"E||z||^2 {codes.pow(2).sum(1).mean():.1f}")


def reader_figures(reader: RowRNN, images: torch.Tensor) -> str:
    """Return the reader's mean largest probability and its share of confident reads of images (N,1,side,side)."""
    top = reader.predict_proba(images).max(1).values
    return f"mean max-probability {top.mean():.3f}, read with >= {CONFIDENT:g}: {(top >= CONFIDENT).float().mean():.1%}"


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ae", default="checkpoints/ae-mnist")
    parser.add_argument("--vae", default="checkpoints/vae-mnist")
    parser.add_argument("--reader", default="checkpoints/rnn-mnist")
    parser.add_argument("-n", type=int, default=1000, help="codes drawn from N(0, I)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ae = Autoencoder.from_pretrained(args.ae, device="cpu")
    vae = VAE.from_pretrained(args.vae, device="cpu")
    reader = RowRNN.from_pretrained(args.reader, device="cpu")
    data = load_dataset("mnist-5k")
    x = to_float(data.val_x)
    flat = x.reshape(len(x), -1)
    print(f"{len(x)} validation digits of mnist-5k; {args.n} codes from N(0, I), seed 0")

    ae_recon = evaluate(ae, data.val_x, data.val_y)["val_recon"]
    vae_draw = evaluate(vae, data.val_x, data.val_y)["val_recon"]
    mu, logvar = vae.encode(x)
    vae_mean = F.binary_cross_entropy_with_logits(vae.decode_logits(mu), flat, reduction="none").sum(1).mean()
    print(f"reconstruction BCE, nats/image: autoencoder {ae_recon:.2f}; VAE {vae_draw:.2f} "
          f"(its -ELBO's term, one posterior draw), {vae_mean:.2f} (from the posterior mean)")

    draws = mu + torch.randn(mu.shape, generator=torch.Generator().manual_seed(0)) * torch.exp(0.5 * logvar)
    print(f"codes, autoencoder:           {code_figures(ae.encode(x))}")
    print(f"codes, VAE posterior means:   {code_figures(mu)}")
    print(f"codes, VAE posterior draws:   {code_figures(draws)}")
    print(f"N(0, I) itself:               dim mean 0, dim std 1, E||z||^2 {mu.shape[1]}")

    z = torch.randn(args.n, mu.shape[1], generator=torch.Generator().manual_seed(0))
    print(f"reader on prior samples, autoencoder: {reader_figures(reader, ae.decode(z))}")
    print(f"reader on prior samples, VAE:         {reader_figures(reader, vae.decode(z))}")
    print(f"reader on the validation digits:      {reader_figures(reader, x)}")


if __name__ == "__main__":
    main()
