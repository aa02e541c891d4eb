"""How well VAE checkpoints reconstruct real handwriting, side by side in one run.

    .venv/bin/python bench/vae_real_digits.py ../shared/real_digits_dev [--checkpoint DIR ...] [--reader DIR]

DIR holds labelled pictures laid out as `<label>/<file>` with an optional manifest.csv (as for
bench/real_digits.py, whose `pictures()` reads them). Each picture is opened and prepared as the app
prepares an upload (genmodels.preprocess), then encoded by each --checkpoint (repeat it to compare;
default checkpoints/vae-mnist) and decoded from the posterior mean, as the explorer shows it. Per kind
(photo, screen-drawn, unknown), over all pictures and as the average over sources (each source counts
once), for each checkpoint:

- log p(x|z): the reconstruction's Bernoulli log-likelihood of the prepared digit, in nats per image
  (VAE.reconstruction_nll at z = the posterior mean; higher is better);
- read as label: the share of reconstructions the reader (--reader, default checkpoints/rnn-mnist)
  reads as the picture's label: is the reconstruction of a student's 4 still a 4?

The first column, "prepared digit", is the reader on the prepared digits themselves, the ceiling the
reconstructions are read against. Pictures the preparation refuses are left out and counted. Last,
each checkpoint's validation -ELBO on its data set's validation digits (genmodels.train.evaluate, the
trainer's figure). The pictures are for measuring only, never for training.
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.real_digits import Picture, opened, pictures, read_all  # noqa: E402
from genmodels import VAE, RowRNN  # noqa: E402
from genmodels.data import load_dataset  # noqa: E402
from genmodels.preprocess import prepare_digit_with_notes  # noqa: E402
from genmodels.train import evaluate  # noqa: E402

CHECKPOINT = ROOT / "checkpoints" / "vae-mnist"
READER = ROOT / "checkpoints" / "rnn-mnist"


@torch.no_grad()
def reconstruction_figures(vae: VAE, reader: RowRNN, digits: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Return (log p(x|z) in nats, the reader's reading of the reconstruction) per digit (N,1,28,28) in [0,1].

    z is the posterior mean, the reconstruction the explorer shows (VAE.reconstruct).
    """
    mu, _ = vae.encode(digits)
    log_likelihood = -vae.reconstruction_nll(vae.decode_logits(mu), digits)
    readings = reader.predict_proba(vae.decode(mu)).argmax(1)
    return log_likelihood.cpu().numpy(), readings.cpu().numpy()


def groups(pics: list[Picture]) -> list[tuple[str, list[np.ndarray]]]:
    """Return the table's rows as (name, index arrays whose means are averaged): kinds, all, average over sources.

    A row of one index array is a plain mean over its pictures; the average over sources is the mean
    of each source's own mean, so a source counts once however many pictures it gave.
    """
    kinds, sources = defaultdict(list), defaultdict(list)
    for i, p in enumerate(pics):
        kinds[p.kind].append(i)
        sources[p.source].append(i)
    rows = [(f"{kind} ({len(index)})", [np.array(index)]) for kind, index in sorted(kinds.items())]
    rows.append((f"all pictures ({len(pics)})", [np.arange(len(pics))]))
    rows.append((f"average over the {len(sources)} sources", [np.array(i) for i in sources.values()]))
    return rows


def averaged(values: np.ndarray, parts: list[np.ndarray]) -> float:
    """Return the mean over `parts` of the mean of `values` in each part."""
    return float(np.mean([values[index].mean() for index in parts]))


def table(pics: list[Picture], read_right: np.ndarray, columns: list[tuple[str, np.ndarray, np.ndarray]]) -> list[str]:
    """Return the table's lines: the reader on the prepared digits, then each checkpoint's log p(x|z) and reading.

    `read_right` says per picture whether the reader reads the prepared digit as its label; `columns`
    holds (a checkpoint's name, log p(x|z) per picture, the reconstruction read as the label per picture).
    """
    head = f"{'':<36}{'prepared digit':>16}" + "".join(f"{name[-26:]:>28}{'':>14}" for name, _, _ in columns)
    under = f"{'':<36}{'read as label':>16}" + f"{'log p(x|z) nats':>28}{'read as label':>14}" * len(columns)
    lines = [head, under]
    for name, parts in groups(pics):
        text = f"{name:<36}{averaged(read_right, parts) * 100:>15.1f}%"
        for _, log_likelihood, right in columns:
            text += f"{averaged(log_likelihood, parts):>28.2f}{averaged(right, parts) * 100:>13.1f}%"
        lines.append(text)
    return lines


def main(argv=None) -> None:
    """Print the table of reconstructions of real digits and each checkpoint's validation -ELBO."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="pictures laid out as <label>/<file>, optional manifest.csv")
    parser.add_argument("--checkpoint", type=Path, action="append",
                        help=f"a VAE checkpoint to measure; repeat to compare (default {CHECKPOINT.relative_to(ROOT)})")
    parser.add_argument("--reader", type=Path, default=READER, help="the RowRNN that reads the reconstructions")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder of labelled pictures (<label>/<file>)")
    checkpoints = args.checkpoint or [CHECKPOINT]
    torch.set_num_threads(1)
    pics = pictures(args.folder)
    images = opened(pics)
    reader = RowRNN.from_pretrained(args.reader, device="cpu")
    predicted, refused, prepared = read_all(images, prepare_digit_with_notes, reader)
    kept = [i for i in range(len(pics)) if not refused[i]]
    pics_kept = [pics[i] for i in kept]
    labels = np.array([p.label for p in pics_kept])
    digits = torch.stack([prepared[i] for i in kept])
    columns, validation = [], []
    for path in checkpoints:
        vae = VAE.from_pretrained(path, device="cpu")
        log_likelihood, readings = reconstruction_figures(vae, reader, digits)
        columns.append((str(path), log_likelihood, readings == labels))
        data = load_dataset(vae.checkpoint_info["dataset"])
        validation.append((path, len(data.val_x), evaluate(vae, data.val_x, data.val_y)))
    print(f"{len(pics)} pictures in {args.folder}, {len(pics) - len(kept)} refused by the preparation and left out; "
          f"reader: {args.reader}")
    print("\n".join(table(pics_kept, predicted[kept] == labels, columns)))
    for path, count, metrics in validation:
        print(f"{path}: validation -ELBO {metrics['val_nelbo']:.2f} nats/image (recon {metrics['val_recon']:.2f} "
              f"+ KL {metrics['val_kl']:.2f}) on its {count} validation digits")


if __name__ == "__main__":
    main()
