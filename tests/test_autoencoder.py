"""The plain autoencoder (genmodels/autoencoder.py): shapes, loss, save/load, one epoch through the trainer,
its latent analysis, and the shipped checkpoint `ae-mnist` with the command that made it."""

import dataclasses
import json
import math
import re
import shlex
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from genmodels import Autoencoder, AutoencoderConfig, latent
from genmodels.checkpoints import CONFIG_FILE, LATENT_FILE, WEIGHTS_FILE
from genmodels.models import MODEL_TYPES
from genmodels.registry import CHECKPOINTS_DIR
from genmodels.train import TrainConfig, build_parser, build_trainer, configs_from_args, evaluate

TINY = AutoencoderConfig(hidden_size=16, latent_dim=4)
TRAINING_DOC = Path(__file__).resolve().parent.parent / "docs" / "training.md"
SHIPPED = CHECKPOINTS_DIR / "ae-mnist"


def test_it_is_a_registered_model_type_of_the_vae_s_shape():
    assert MODEL_TYPES["ae"] is Autoencoder
    model = Autoencoder()
    assert (model.fc1.in_features, model.fc1.out_features, model.fc2.out_features) == (784, 400, 20)
    assert (model.fc3.in_features, model.fc4.out_features) == (20, 784)
    assert not hasattr(model, "fc22")  # no log-variance: one code per image, no posterior


def test_shapes_of_encode_decode_forward_and_sample():
    torch.manual_seed(0)
    model = Autoencoder(TINY).eval()
    x = torch.rand(5, 1, 28, 28)
    assert model.encode(x).shape == (5, 4)
    assert model.forward(x).shape == (5, 784)
    assert model.decode(torch.zeros(3, 4)).shape == (3, 1, 28, 28)
    assert model.reconstruct(x).shape == (5, 1, 28, 28)
    images = model.sample(6, generator=torch.Generator().manual_seed(1))
    assert images.shape == (6, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert torch.equal(images, model.sample(6, generator=torch.Generator().manual_seed(1)))
    with pytest.raises(ValueError, match="shaped"):
        model.decode(torch.zeros(2, 5))


def test_encoding_is_deterministic():
    model = Autoencoder(TINY).eval()
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(model.encode(x), model.encode(x))


def test_loss_is_the_summed_bce_per_image_with_no_kl():
    torch.manual_seed(0)
    model = Autoencoder(TINY)
    x = torch.rand(7, 1, 28, 28)
    parts = model.loss(x)
    assert set(parts) == {"loss", "recon"}
    expected = F.binary_cross_entropy_with_logits(model(x), x.reshape(7, -1), reduction="none").sum(1).mean()
    assert parts["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    with torch.no_grad():  # a decoder giving 0.5 everywhere costs ln 2 nats per pixel on binary images
        model.fc4.weight.zero_()
        model.fc4.bias.zero_()
    binary = (x > 0.5).float()
    assert model.loss(binary)["recon"].item() == pytest.approx(784 * math.log(2), rel=1e-5)


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    model = Autoencoder(TINY).eval()
    folder = model.save_pretrained(tmp_path / "ae")
    loaded = Autoencoder.from_pretrained(folder, device="cpu")
    assert loaded.config == TINY
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(loaded.encode(x), model.encode(x))
    assert torch.equal(loaded.decode(torch.ones(2, 4)), model.decode(torch.ones(2, 4)))
    assert json.loads((folder / CONFIG_FILE).read_text())["model"] == dataclasses.asdict(TINY)


def test_one_tiny_epoch_through_the_trainer_saves_a_checkpoint_the_explorer_reads(digits, tmp_path):
    config = TrainConfig(epochs=1, batch_size=500, device="cpu", nll_samples=0, binarize=True)
    result = build_trainer("ae", TINY, config, out=tmp_path / "run", data=digits, save_training_state=False).run()
    record = result.history[0]
    assert record["val_recon"] == record["val_loss"] and 0 < record["val_recon"] < 784 * math.log(2)
    assert "val_kl" not in record
    saved = json.loads((tmp_path / "run" / CONFIG_FILE).read_text())
    assert saved["model_type"] == "ae" and set(saved["files"]) == {WEIGHTS_FILE, LATENT_FILE}
    analysis = latent.load_analysis(tmp_path / "run")
    codes = result.model.encode(digits.val_x.unsqueeze(1).float() / 255)
    assert torch.allclose(analysis["code_var_per_dim"], codes.var(0).cpu(), rtol=1e-4, atol=1e-6)
    assert "kl_per_dim" not in analysis and analysis["centroids"].shape == (10, 4)


# -- the shipped checkpoint ----------------------------------------------------------------------
def documented_command() -> list[str]:
    """Return the arguments of the ae-mnist command in docs/training.md (after `python -m genmodels.train`)."""
    text = TRAINING_DOC.read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if "--out checkpoints/ae-mnist" in line)
    return shlex.split(re.sub(r"^.*?python -m genmodels\.train\s+", "", line))


def test_the_documented_command_is_the_one_that_made_ae_mnist():
    saved = json.loads((SHIPPED / CONFIG_FILE).read_text())
    model_config, train_config = configs_from_args(build_parser().parse_args(documented_command()))
    assert isinstance(model_config, AutoencoderConfig)
    parsed = dataclasses.asdict(train_config)
    assert {key: parsed[key] for key in saved["training"]} == saved["training"]
    # A setting added after the checkpoint was trained did not exist then: the command leaves it at its default.
    defaults = dataclasses.asdict(TrainConfig())
    assert {key: parsed[key] for key in parsed.keys() - saved["training"].keys()} == \
        {key: defaults[key] for key in parsed.keys() - saved["training"].keys()}
    assert dataclasses.asdict(model_config) == saved["model"]
    assert saved["epochs_trained"] == train_config.epochs


def test_the_vae_recipe_and_the_autoencoder_s_differ_only_in_the_model_and_the_epochs():
    """Same data and training settings as vae-mnist, so the two compare (docs/training.md says why the epochs differ)."""
    ae = json.loads((SHIPPED / CONFIG_FILE).read_text())["training"]
    vae = json.loads((CHECKPOINTS_DIR / "vae-mnist" / CONFIG_FILE).read_text())["training"]
    same = set(ae) & set(vae) - {"epochs", "device"}
    assert {k: ae[k] for k in same} == {k: vae[k] for k in same}


def test_shipped_ae_mnist_is_small_and_its_figure_is_what_it_measures(digits):
    folder = SHIPPED
    saved = json.loads((folder / CONFIG_FILE).read_text())
    assert {p.name for p in folder.iterdir()} == set(saved["files"]) | {CONFIG_FILE}
    assert sum(p.stat().st_size for p in folder.iterdir()) < 4 * 1024 * 1024
    model = Autoencoder.from_pretrained(folder, device="cpu")
    measured = evaluate(model, digits.val_x, digits.val_y)["val_recon"]
    assert measured == pytest.approx(saved["metrics"]["val_recon"], abs=0.05)
    assert measured < 544  # better than an untrained decoder's 784 * ln 2
    analysis = latent.load_analysis(folder)
    assert analysis["code_var_per_dim"].shape == (20,)
