"""Each model declares what the trainer needs (genmodels.trainable); the trainer names no model class; one name
per setting (hidden_size), with checkpoints written under the VAE's old name still loading."""

import ast
import json
from pathlib import Path

import pytest
import torch

from genmodels import VAE, VAEConfig, train as train_module
from genmodels.checkpoints import CONFIG_FILE, read_config
from genmodels.models import MODEL_TYPES
from genmodels.trainable import Trainable
from jobs.records import parse_record

TRAIN_SOURCE = Path(train_module.__file__).read_text()


def test_the_trainer_names_no_model_class():
    tree = ast.parse(TRAIN_SOURCE)
    classes = {cls.__name__ for cls in MODEL_TYPES.values()}
    named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not (named | imported) & classes
    assert not modules & {"vae", "rnn", "writer"}
    assert "isinstance(self.model" not in TRAIN_SOURCE and "model_type ==" not in TRAIN_SOURCE


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_every_model_declares_its_figures_and_rule(model_type):
    cls = MODEL_TYPES[model_type]
    assert issubclass(cls, Trainable) and cls.validation_figures
    assert cls.figures == tuple(f.key for f in cls.validation_figures)
    assert all(f.key.startswith("val_") and f.name and f.unit for f in cls.validation_figures)
    worse = {f.key: (0.0 if f.higher_is_better else 10.0) for f in cls.validation_figures}
    better = {f.key: 1.0 for f in cls.validation_figures}
    assert train_module.is_better(cls, better, worse) and not train_module.is_better(cls, worse, better)


def test_hidden_size_is_one_name_for_every_model():
    for cls in MODEL_TYPES.values():
        fields = cls.config_class.__dataclass_fields__
        assert "hidden_size" in fields and "hidden_dim" not in fields, cls.__name__


def test_a_checkpoint_saying_hidden_dim_still_loads(tmp_path):
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden_size=12, latent_dim=3)).eval()
    folder = model.save_pretrained(tmp_path / "old-vae")
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["model"]["hidden_dim"] = config["model"].pop("hidden_size")  # as runs folders of older versions
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    assert read_config(folder)["model"]["hidden_size"] == 12
    loaded = VAE.from_pretrained(folder, device="cpu")
    assert loaded.config.hidden_size == 12
    z = torch.zeros(1, 3)
    assert torch.equal(loaded.decode(z), model.decode(z))


def test_a_run_record_saying_hidden_dim_reads_under_today_s_name():
    record = {"id": "20250101-000000-0001", "status": "done", "model_type": "vae",
              "model_config": {"hidden_dim": 32, "latent_dim": 8}, "train_config": {"dataset": "mnist-5k"},
              "owner": "", "name": "", "created": 1.0, "queued": 1.0, "target_epochs": 1,
              "segments": [{"epochs": 1, "resume": False}]}
    parsed = parse_record(record, "20250101-000000-0001")
    assert parsed["model_config"] == {"hidden_size": 32, "latent_dim": 8}
