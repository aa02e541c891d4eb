"""bench/vae_real_digits.py: a VAE's reconstructions of labelled pictures, per kind and averaged over sources."""

import numpy as np
import torch
from conftest import ROOT
from PIL import Image

from bench import vae_real_digits
from bench.real_digits import Picture
from genmodels import VAE
from genmodels.data import load_dataset
from genmodels.preprocess import prepare_digit


def test_the_average_over_sources_counts_each_source_once(tmp_path):
    # Source "a" gave three photos read right, source "b" one screen drawing read wrong.
    pics = [Picture(tmp_path / f"{i}.png", 1, "a", "photo") for i in range(3)]
    pics.append(Picture(tmp_path / "3.png", 1, "b", "screen-drawn"))
    right = np.array([True, True, True, False])
    log_likelihood = np.array([-10.0, -10.0, -10.0, -50.0])
    lines = vae_real_digits.table(pics, right, [("one", log_likelihood, right)])
    rows = {line[:36].strip(): line[36:].split() for line in lines[2:]}
    assert rows["photo (3)"] == ["100.0%", "-10.00", "100.0%"]
    assert rows["screen-drawn (1)"] == ["0.0%", "-50.00", "0.0%"]
    assert rows["all pictures (4)"] == ["75.0%", "-20.00", "75.0%"]
    assert rows["average over the 2 sources"] == ["50.0%", "-30.00", "50.0%"]


def test_a_folder_of_digits_is_prepared_encoded_reconstructed_and_read(tmp_path, capsys):
    data = load_dataset("mnist-5k")
    labels = data.val_y[:20].tolist()
    manifest = ["file,label,source,kind"]
    for i, (digit, label) in enumerate(zip(data.val_x[:20], labels)):
        # Dark ink on white paper, four times MNIST's size, as a student's upload would be.
        picture = Image.fromarray(255 - digit.numpy()).resize((112, 112), Image.Resampling.BILINEAR)
        (tmp_path / str(label)).mkdir(exist_ok=True)
        picture.save(tmp_path / str(label) / f"{i}.png")
        manifest.append(f"{label}/{i}.png,{label},{'photos' if i < 5 else 'drawings'},{'photo' if i < 5 else 'screen'}")
    (tmp_path / "manifest.csv").write_text("\n".join(manifest) + "\n")
    shipped = ROOT / "checkpoints" / "vae-mnist"
    vae_real_digits.main([str(tmp_path), "--checkpoint", str(shipped), "--checkpoint", str(shipped)])
    out = capsys.readouterr().out
    rows = {line[:36].strip(): line[36:].split() for line in out.splitlines() if line[:36].strip()}
    photo, every, sources = rows["photo (5)"], rows["all pictures (20)"], rows["average over the 2 sources"]
    assert rows["screen (15)"] and photo[1:3] == photo[3:5] and every[1:3] == every[3:5]  # one checkpoint twice
    assert len(sources) == 5
    assert float(every[2].rstrip("%")) >= 85  # the reconstruction of a clean MNIST digit is read as its label
    # The log-likelihood is the model's own: -reconstruction_nll of the prepared digits, decoded from the mean.
    vae = VAE.from_pretrained(shipped, device="cpu")
    x = torch.stack([prepare_digit(Image.open(p)) for p in sorted(tmp_path.glob("*/*.png"))])
    with torch.no_grad():
        mu, _ = vae.encode(x)
        expected = (-vae.reconstruction_nll(vae.decode_logits(mu), x)).mean().item()
    assert abs(float(every[1]) - expected) < 0.01
    stored = vae.checkpoint_info["metrics"]["val_nelbo"]  # the trainer's own figure for these weights
    assert f"validation -ELBO {stored:.2f} nats/image" in out and out.count("on its 500 validation digits") == 2
