"""A new data set is one DatasetInfo entry: a tiny one (side 8, two classes, in-memory tensors) trains every
model type, pairs generators with its reader in the registry and reads in the explorer, with no other change."""

import shutil

import numpy as np
import pytest
import torch

from genmodels import data as data_module
from genmodels.data import DATASETS, Dataset, DatasetInfo, dataset_availability, load_dataset
from genmodels.registry import CHECKPOINTS_DIR, ModelRegistry
from genmodels.train import TrainConfig, train
from ui.explore import actions, render
from ui.explore.models import ModelView, Reader
from ui.write import actions as write_actions

SIDE, CLASSES = 8, ("dark", "light")


def _tiny(data_dir=None) -> Dataset:
    """Two classes of 8 x 8 pictures: a dark square and a light one, with a little noise."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(120) % 2
    level = torch.where(labels[:, None, None] == 1, 200, 40)
    noise = torch.randint(-30, 30, (120, SIDE, SIDE), generator=generator)
    images = (level + noise).clamp(0, 255).to(torch.uint8)
    return Dataset(name="tiny-2", class_names=list(CLASSES), train_x=images[:100], train_y=labels[:100],
                   val_x=images[100:], val_y=labels[100:], source="made in memory")


@pytest.fixture
def tiny(monkeypatch):
    """The tiny data set declared beside the shipped ones (for this test only)."""
    info = DatasetInfo("tiny-2", SIDE, CLASSES, _tiny, lambda data_dir=None: (True, "made in memory"))
    monkeypatch.setitem(DATASETS, "tiny-2", info)
    return info


@pytest.fixture
def trained(tiny, tmp_path):
    """A VAE, a reader and a writer trained for one epoch on the tiny data set, beside a shipped digit reader."""
    folder = tmp_path / "checkpoints"
    config = TrainConfig(dataset="tiny-2", epochs=1, batch_size=50, device="cpu", seed=0, nll_samples=4)
    results = {name: train(name, None, config, out=folder / f"{name}-tiny", save_training_state=False)
               for name in ("vae", "rnn", "writer")}
    shutil.copytree(CHECKPOINTS_DIR / "rnn-mnist", folder / "rnn-mnist")
    shutil.copytree(CHECKPOINTS_DIR / "vae-mnist", folder / "vae-mnist")
    return results, ModelRegistry(checkpoints_dir=folder, device="cpu")


def test_the_declaration_is_what_loading_and_availability_read(tiny):
    data = load_dataset("tiny-2")
    assert data.side == SIDE and data.class_names == list(CLASSES)
    assert dataset_availability()["tiny-2"] == (True, "made in memory")
    assert TrainConfig(dataset="tiny-2").dataset == "tiny-2"  # the setting's choices follow the declarations
    with pytest.raises(ValueError, match="Unknown data set 'nope'"):
        load_dataset("nope")


def test_every_model_type_trains_on_it_with_its_side_and_classes(trained):
    results, registry = trained
    for name, result in results.items():
        config = result.model.config
        assert config.side == SIDE, name
        assert getattr(config, "num_classes", len(CLASSES)) == len(CLASSES), name
        assert result.history[0]["epoch"] == 1 and all(np.isfinite(v) for k, v in result.history[0].items()
                                                       if k.startswith("val_"))
        entry = registry.entry(f"{name}-tiny")
        assert entry.dataset == "tiny-2" and entry.class_names == CLASSES
    assert results["vae"].nll is not None and results["writer"].nll is not None  # the extra evaluation ran
    assert results["vae"].model.sample(3).shape == (3, 1, SIDE, SIDE)
    assert results["writer"].model.sample(2, label=1).shape == (2, 1, SIDE, SIDE)


def test_the_registry_pairs_each_generator_with_the_reader_of_its_images(trained):
    _, registry = trained
    assert registry.classifier_for("vae-tiny") == "rnn-tiny"
    assert registry.classifier_for("writer-tiny") == "rnn-tiny"
    assert registry.classifier_for("vae-mnist") == "rnn-mnist"
    assert write_actions.companion_vae(registry, "writer-tiny") == "vae-tiny"


def test_the_explorer_and_writer_show_its_pictures_and_classes(trained):
    _, registry = trained
    view, reader = ModelView(registry, "vae-tiny"), Reader(registry, "rnn-tiny")
    digit = view.decode(np.zeros(view.dims, dtype=np.float32))
    assert digit.shape == (SIDE, SIDE) and view.class_names == list(CLASSES)
    probs, picture = actions.readout(reader, digit)
    assert list(probs) == list(CLASSES) and picture is not None
    assert len(view.centroids) == len(CLASSES)
    assert len(render.class_colours(len(CLASSES))) == len(CLASSES)
    models = write_actions.load_models(registry, "writer-tiny")
    frames = list(write_actions.write_frames(models, 1, 1.0, write_actions.generator(0)))
    assert len(frames) == SIDE and frames[-1].canvas.shape == (SIDE, SIDE) and frames[-1].belief.shape == (2,)
    rows = write_actions.check_written_rows(frames[3].canvas[:4].tolist(), models.side)
    step = write_actions.write_step(models, rows, None, 1.0, seed=5)
    assert step.row == 4 and len(step.pixels) == SIDE
    with pytest.raises(ValueError, match=f"from 1 to {SIDE - 1}"):
        write_actions.check_rows(SIDE, models.side)


def test_class_colours_stay_distinct_beyond_ten():
    for n in (2, 10, 26):
        colours = render.class_colours(n)
        assert len(colours) == n and len(set(colours)) == n
    assert render.class_colours(3) == render.class_colours(26)[:3]  # a class keeps its colour


def test_the_loaders_are_the_declared_ones():
    assert set(DATASETS) >= {"mnist", "mnist-5k", "fashion-mnist"}
    assert DATASETS["fashion-mnist"].class_names[0] == "T-shirt/top"
    assert all(info.side == data_module.MNIST_SIDE for info in DATASETS.values())
