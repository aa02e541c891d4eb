"""ModelRegistry: shipped and run checkpoints listed by name, clear unknown-name errors, caching, classifier_for."""

import os
import shutil


import pytest
from conftest import run_folders
import torch

from genmodels import RowRNN, RowRNNConfig, VAE, VAEConfig, checkpoints
from genmodels import registry as registry_module
from genmodels.checkpoints import CONFIG_FILE
from genmodels.registry import CHECKPOINTS_DIR, CheckpointEntry, ModelRegistry

SHIPPED = ["rnn-fashion", "rnn-mnist", "vae-fashion", "vae-mnist"]



@pytest.fixture
def runs_dir(tmp_path):
    """A runs folder with one finished VAE run, one RNN run, a damaged run and a job without a checkpoint."""
    runs = tmp_path / "runs"
    torch.manual_seed(0)
    VAE(VAEConfig(hidden_size=32)).save_pretrained(
        runs / "job-a" / "checkpoint",
        metadata={"dataset": "mnist-5k", "class_names": [str(i) for i in range(10)],
                  "metrics": {"val_nelbo": 300.0}, "epochs_trained": 2})
    RowRNN(RowRNNConfig(hidden_size=16)).save_pretrained(
        runs / "job-b" / "checkpoint", metadata={"dataset": "mnist-5k", "epochs_trained": 1})
    damaged = runs / "job-c" / "checkpoint"
    damaged.mkdir(parents=True)
    (damaged / CONFIG_FILE).write_text("{ not json")
    (runs / "job-d").mkdir()  # still running: no checkpoint yet
    return runs


@pytest.fixture
def registry(runs_dir):
    return ModelRegistry(extra_folders=run_folders(runs_dir), device="cpu")


def test_lists_shipped_and_run_checkpoints(registry):
    assert registry.checkpoints_dir == CHECKPOINTS_DIR
    names = registry.names()
    # Shipped first, then runs; the damaged and the unfinished run are left out.
    assert set(SHIPPED) <= set(names[:-2]) and names[-2:] == ["run-job-a", "run-job-b"]
    vaes, rnns = registry.names("vae"), registry.names("rnn")
    assert {"vae-fashion", "vae-mnist"} <= set(vaes) and vaes[-1] == "run-job-a"
    assert {"rnn-fashion", "rnn-mnist"} <= set(rnns) and rnns[-1] == "run-job-b"
    assert not set(vaes) & set(rnns)
    assert set(vaes) | set(rnns) | set(registry.names("writer")) | set(registry.names("ae")) == set(names)


def test_entries_describe_checkpoints_without_loading(registry, runs_dir):
    entry = registry.entry("run-job-a")
    assert isinstance(entry, CheckpointEntry)
    assert entry.path == runs_dir / "job-a" / "checkpoint"
    assert entry.model_type == "vae" and entry.dataset == "mnist-5k" and entry.epochs_trained == 2
    assert entry.metrics == {"val_nelbo": 300.0} and entry.class_names == tuple(str(i) for i in range(10))
    fashion = registry.entry("vae-fashion")
    assert fashion.dataset == "fashion-mnist" and fashion.class_names[0] == "T-shirt/top"
    assert fashion.path == CHECKPOINTS_DIR / "vae-fashion"


def test_unknown_name_is_a_value_error_listing_the_names(registry):
    with pytest.raises(ValueError, match="Unknown model 'vae-cifar'") as info:
        registry.entry("vae-cifar")
    for name in SHIPPED + ["run-job-a"]:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="Available: "):
        registry.load("run-job-c")  # the damaged run is not offered


def test_load_returns_cached_read_only_models_in_eval_mode(registry):
    vae = registry.load("vae-mnist")
    assert isinstance(vae, VAE) and not vae.training
    assert registry.load("vae-mnist") is vae  # loaded once, shared
    assert all(not p.requires_grad for p in vae.parameters())
    rnn = registry.load("run-job-b")
    assert isinstance(rnn, RowRNN) and rnn.config.hidden_size == 16 and not rnn.training
    assert vae.device.type == "cpu"


def test_load_reloads_a_rewritten_run(registry, runs_dir):
    first = registry.load("run-job-a")
    torch.manual_seed(1)
    newer = VAE(VAEConfig(hidden_size=32))
    folder = runs_dir / "job-a" / "checkpoint"
    newer.save_pretrained(folder, metadata={"dataset": "mnist-5k"})
    stamp = (folder / CONFIG_FILE).stat().st_mtime
    os.utime(folder / CONFIG_FILE, (stamp + 5, stamp + 5))  # a later epoch's save, whatever the clock granularity
    second = registry.load("run-job-a")
    assert second is not first
    z = torch.zeros(1, 20)
    assert torch.equal(second.decode(z), newer.eval().decode(z))


def test_each_config_is_parsed_once_per_version(registry, runs_dir, monkeypatch):
    """Listing models is on every request: an unchanged config.json is not parsed again, a new one is,
    and a broken one is not parsed again until it changes."""
    parsed = []
    monkeypatch.setattr(registry_module, "read_config",
                        lambda folder: parsed.append("/".join(folder.parts[-2:])) or checkpoints.read_config(folder))
    for _ in range(5):
        assert "run-job-a" in registry.names() and "run-job-c" not in registry.names()
    assert len(parsed) == len(set(parsed)) and {"job-a/checkpoint", "job-c/checkpoint"} <= set(parsed)
    parsed.clear()
    VAE(VAEConfig(hidden_size=32)).save_pretrained(
        runs_dir / "job-a" / "checkpoint", metadata={"dataset": "mnist-5k", "metrics": {"val_nelbo": 200.0}})
    damaged = runs_dir / "job-c" / "checkpoint" / CONFIG_FILE
    damaged.unlink()
    damaged.write_text("{ still not json }")
    assert registry.entry("run-job-a").metrics == {"val_nelbo": 200.0}
    assert "run-job-c" not in registry.names()
    assert sorted(parsed) == ["job-a/checkpoint", "job-c/checkpoint"]


def test_classifier_for_matches_the_data_set(registry):
    assert registry.classifier_for("vae-mnist") == "rnn-mnist"
    assert registry.classifier_for("vae-fashion") == "rnn-fashion"
    assert registry.classifier_for("run-job-a") == "rnn-mnist"  # a shipped classifier is preferred


def test_classifier_for_without_a_matching_rnn(tmp_path):
    shipped = tmp_path / "checkpoints"
    VAE(VAEConfig(hidden_size=8)).save_pretrained(shipped / "vae-fashion", metadata={"dataset": "fashion-mnist"})
    RowRNN(RowRNNConfig(hidden_size=8)).save_pretrained(shipped / "rnn-mnist", metadata={"dataset": "mnist-5k"})
    registry = ModelRegistry(checkpoints_dir=shipped, device="cpu")
    assert registry.classifier_for("vae-fashion") is None
    with pytest.raises(ValueError, match="Unknown model"):
        registry.classifier_for("vae-missing")


def test_hidden_and_half_written_folders_are_not_listed(tmp_path):
    shipped = tmp_path / "checkpoints"
    shutil.copytree(CHECKPOINTS_DIR / "rnn-mnist", shipped / "rnn-mnist")
    shutil.copytree(CHECKPOINTS_DIR / "rnn-mnist", shipped / ".rnn-mnist.tmp-1234abcd")
    (shipped / "empty").mkdir()
    (shipped / "notes.txt").write_text("not a checkpoint")
    registry = ModelRegistry(checkpoints_dir=shipped, extra_folders=run_folders(tmp_path / "no-runs"), device="cpu")
    assert registry.names() == ["rnn-mnist"]


def test_missing_folders_list_nothing(tmp_path):
    registry = ModelRegistry(checkpoints_dir=tmp_path / "a", extra_folders=run_folders(tmp_path / "b"), device="cpu")
    assert registry.names() == []
    with pytest.raises(ValueError, match="Available: none"):
        registry.entry("vae-mnist")
