"""Checkpoint folders: save -> load round trip, clear errors for damaged folders, atomic saves, recovery."""

import json
import os
import shutil


import pytest
from conftest import run_folders
import safetensors.torch
import torch

import genmodels.checkpoints as checkpoints
from genmodels import RowRNN, RowRNNConfig, VAE, VAEConfig
from genmodels.checkpoints import CONFIG_FILE, LATENT_FILE, WEIGHTS_FILE, recover_folder
from genmodels.data import load_dataset, to_float
from genmodels.registry import ModelRegistry



@pytest.fixture(scope="module")
def images():
    """32 real validation digits, float (32,1,28,28) in [0,1]."""
    return to_float(load_dataset("mnist-5k", device="cpu").val_x[:32])


def tiny_vae(seed=0) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(hidden_size=32)).eval()


def tiny_rnn(seed=0, cell="gru") -> RowRNN:
    torch.manual_seed(seed)
    return RowRNN(RowRNNConfig(cell=cell, hidden_size=32, num_layers=2)).eval()


CODES = torch.randn(8, 20, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def vae_folder(tmp_path):
    """A tiny VAE saved in tmp_path/vae, with metadata and an extra tensor file."""
    folder = tmp_path / "vae"
    tiny_vae().save_pretrained(folder, metadata={"dataset": "mnist-5k", "metrics": {"val_nelbo": 123.0}},
                               extra_files={LATENT_FILE: {"kl_per_dim": torch.arange(20.0)}})
    return folder


def rewrite_config(folder, change):
    path = folder / CONFIG_FILE
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


# -- round trip ------------------------------------------------------------------------------

def test_vae_save_load_gives_identical_outputs(tmp_path, images):
    model = tiny_vae(seed=5)
    folder = model.save_pretrained(tmp_path / "vae", metadata={"dataset": "mnist-5k", "epochs_trained": 3})
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    loaded = VAE.from_pretrained(folder, device="cpu")
    assert not loaded.training  # eval mode
    assert loaded.config == model.config
    assert torch.equal(loaded.decode(CODES), model.decode(CODES))
    mu, logvar = model.encode(images)
    mu2, logvar2 = loaded.encode(images)
    assert torch.equal(mu, mu2) and torch.equal(logvar, logvar2)
    info = loaded.checkpoint_info
    assert info["dataset"] == "mnist-5k" and info["epochs_trained"] == 3 and info["model_type"] == "vae"
    assert info["versions"]["torch"] == torch.__version__ and set(info["files"]) == {WEIGHTS_FILE}


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_rnn_save_load_gives_identical_outputs(tmp_path, images, cell):
    model = tiny_rnn(seed=2, cell=cell)
    folder = model.save_pretrained(tmp_path / "rnn")
    loaded = RowRNN.from_pretrained(folder, device="cpu")
    assert not loaded.training and loaded.config == model.config
    assert torch.equal(loaded.predict_proba(images), model.predict_proba(images))
    assert torch.equal(loaded.read_rows(images), model.read_rows(images))


def test_from_pretrained_returns_eval_mode_even_for_a_model_saved_in_train_mode(tmp_path):
    model = tiny_rnn()
    model.train()
    folder = model.save_pretrained(tmp_path / "rnn")
    assert RowRNN.from_pretrained(folder).training is False


def test_extra_files_round_trip_and_are_hashed(vae_folder):
    config = checkpoints.read_config(vae_folder)
    assert set(config["files"]) == {WEIGHTS_FILE, LATENT_FILE}
    assert checkpoints.has_file(vae_folder, LATENT_FILE)
    tensors = checkpoints.load_tensor_file(vae_folder, LATENT_FILE)
    assert torch.equal(tensors["kl_per_dim"], torch.arange(20.0))


def test_saving_again_replaces_the_folder_contents(tmp_path, images):
    folder = tmp_path / "vae"
    tiny_vae(seed=0).save_pretrained(folder, extra_files={LATENT_FILE: {"a": torch.zeros(2)}})
    newer = tiny_vae(seed=1)
    newer.save_pretrained(folder)
    assert not (folder / LATENT_FILE).exists()  # the folder is exactly what config.json lists
    assert torch.equal(VAE.from_pretrained(folder).decode(CODES), newer.decode(CODES))
    assert [p.name for p in tmp_path.iterdir()] == ["vae"]  # no staging or retired folder left


# -- damaged folders give a ValueError naming the file and the problem -----------------------------

def test_tampered_weights_are_rejected(vae_folder):
    path = vae_folder / WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # one byte of one weight changed: still a valid safetensors file
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256") as info:
        VAE.from_pretrained(vae_folder)
    assert f"{vae_folder.name}/{WEIGHTS_FILE}" in str(info.value)  # named, without the server's full path
    assert str(vae_folder.parent) not in str(info.value)


@pytest.mark.parametrize("hash_recorded, message", [(True, "truncated"), (False, "not a readable safetensors file")])
def test_truncated_weights_are_rejected(vae_folder, hash_recorded, message):
    """With its SHA-256 in config.json the hash check names the damage; without, a truncated file is
    still a clear error, not a crash."""
    if not hash_recorded:
        rewrite_config(vae_folder, lambda c: c.pop("files"))
    path = vae_folder / WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match=message) as info:
        VAE.from_pretrained(vae_folder)
    assert f"{vae_folder.name}/{WEIGHTS_FILE}" in str(info.value)  # named, without the server's full path
    assert str(vae_folder.parent) not in str(info.value)


def test_tampered_extra_file_is_rejected(vae_folder):
    path = vae_folder / LATENT_FILE
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="SHA-256") as info:
        checkpoints.load_tensor_file(vae_folder, LATENT_FILE)
    assert LATENT_FILE in str(info.value)


def test_missing_weights_are_rejected(vae_folder):
    (vae_folder / WEIGHTS_FILE).unlink()
    with pytest.raises(ValueError, match="missing") as info:
        VAE.from_pretrained(vae_folder)
    assert WEIGHTS_FILE in str(info.value)


def test_missing_config_is_rejected(vae_folder):
    (vae_folder / CONFIG_FILE).unlink()
    with pytest.raises(ValueError, match="missing") as info:
        VAE.from_pretrained(vae_folder)
    assert CONFIG_FILE in str(info.value)


def test_missing_folder_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="does not exist") as info:
        RowRNN.from_pretrained(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


@pytest.mark.parametrize("text", ['{"model_type": "vae", "model": {', "", "\xff\xfe garbage"])
def test_invalid_config_json_is_rejected(vae_folder, text):
    (vae_folder / CONFIG_FILE).write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match="not valid JSON") as info:
        VAE.from_pretrained(vae_folder)
    assert CONFIG_FILE in str(info.value)


@pytest.mark.parametrize("content", [[1, 2], {"dataset": "mnist-5k"}, "just a string"])
def test_config_json_that_is_not_a_checkpoint_config_is_rejected(vae_folder, content):
    (vae_folder / CONFIG_FILE).write_text(json.dumps(content))
    with pytest.raises(ValueError, match="not a Latent Lab checkpoint config") as info:
        VAE.from_pretrained(vae_folder)
    assert CONFIG_FILE in str(info.value)


def test_unknown_model_setting_is_rejected(vae_folder):
    rewrite_config(vae_folder, lambda c: c["model"].update(depth=3))
    with pytest.raises(ValueError, match="model settings do not fit") as info:
        VAE.from_pretrained(vae_folder)
    assert CONFIG_FILE in str(info.value)


def test_wrong_shape_tensor_is_rejected(vae_folder):
    """A folder saved with hidden 32 whose config.json says 64: the shape check names the tensor."""
    rewrite_config(vae_folder, lambda c: c["model"].update(hidden_size=64))  # the weight hashes still match
    with pytest.raises(ValueError, match=r"'fc1.weight' has shape \(32, 784\), config.json implies \(64, 784\)") as info:
        VAE.from_pretrained(vae_folder)
    assert WEIGHTS_FILE in str(info.value)


def test_missing_tensor_is_rejected(tmp_path):
    """Weights of a one-layer GRU under a config that says two layers: the missing tensor is named."""
    folder = RowRNN(RowRNNConfig(cell="gru", hidden_size=32)).save_pretrained(tmp_path / "rnn")
    rewrite_config(folder, lambda c: c["model"].update(num_layers=2))
    with pytest.raises(ValueError, match="lacks tensor 'rnn.*_l1'") as info:
        RowRNN.from_pretrained(folder)
    assert WEIGHTS_FILE in str(info.value)


def test_wrong_weights_file_swapped_in_is_rejected(tmp_path, vae_folder):
    """An RNN's weights copied over a VAE's (hash removed so the tensor check is what trips)."""
    rnn_folder = tiny_rnn().save_pretrained(tmp_path / "rnn")
    shutil.copy(rnn_folder / WEIGHTS_FILE, vae_folder / WEIGHTS_FILE)
    with pytest.raises(ValueError, match="SHA-256"):
        VAE.from_pretrained(vae_folder)
    rewrite_config(vae_folder, lambda c: c["files"].pop(WEIGHTS_FILE))
    with pytest.raises(ValueError, match="lacks tensor"):
        VAE.from_pretrained(vae_folder)


def test_wrong_model_type_is_rejected(vae_folder, tmp_path):
    with pytest.raises(ValueError, match="holds a 'vae' checkpoint, not a 'rnn' one"):
        RowRNN.from_pretrained(vae_folder)
    rnn_folder = tiny_rnn().save_pretrained(tmp_path / "rnn")
    with pytest.raises(ValueError, match="holds a 'rnn' checkpoint, not a 'vae' one"):
        VAE.from_pretrained(rnn_folder)


def test_loading_never_unpickles(vae_folder, monkeypatch):
    """torch.load (the pickle path) is never called while loading a checkpoint."""
    def forbidden(*args, **kwargs):
        raise AssertionError("torch.load was called")
    monkeypatch.setattr(torch, "load", forbidden)
    VAE.from_pretrained(vae_folder)
    checkpoints.load_tensor_file(vae_folder, LATENT_FILE)


# -- a crash during a save leaves the old checkpoint loadable --------------------------------------

def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_crash_while_writing_tensors_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    old = tiny_vae(seed=0)
    folder = old.save_pretrained(tmp_path / "vae")
    old_outputs = old.decode(CODES)
    calls = []

    def crash_on_second_file(tensors, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full (injected)")
        return safetensors.torch.save_file(tensors, path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_file", crash_on_second_file)
    with pytest.raises(OSError, match="injected"):
        tiny_vae(seed=1).save_pretrained(folder, extra_files={LATENT_FILE: {"a": torch.zeros(3)}})
    assert len(calls) == 2
    assert _listing(tmp_path) == ["vae"]  # the staging folder is cleaned up
    assert torch.equal(VAE.from_pretrained(folder).decode(CODES), old_outputs)


def test_crash_between_the_two_renames_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    """os.replace fails when the new folder is moved into place (old one already renamed aside)."""
    old = tiny_rnn(seed=0)
    folder = old.save_pretrained(tmp_path / "runs" / "job1" / "checkpoint")
    images = torch.rand(4, 784, generator=torch.Generator().manual_seed(0))
    old_outputs = old.predict_proba(images)
    real_replace = os.replace
    calls = []

    def crash_on_second_call(src, dst):
        calls.append((str(src), str(dst)))
        if len(calls) == 2:
            raise OSError("power cut (injected)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_call)
    with pytest.raises(OSError, match="injected"):
        tiny_rnn(seed=1).save_pretrained(folder)
    monkeypatch.undo()
    assert ".checkpoint.old-" in calls[0][1] and calls[1][1] == str(folder)  # the crash hit the swap itself
    assert _listing(folder.parent) == ["checkpoint"]  # old folder put back, staging removed
    assert torch.equal(RowRNN.from_pretrained(folder).predict_proba(images), old_outputs)
    registry = ModelRegistry(checkpoints_dir=tmp_path / "none", extra_folders=run_folders(tmp_path / "runs"), device="cpu")
    assert registry.names() == ["run-job1"]


def test_a_killed_save_leaves_nothing_the_registry_lists(tmp_path):
    """A save killed mid-way (no except handler ran) leaves a hidden staging folder; it is never listed."""
    shipped = tmp_path / "checkpoints"
    tiny_vae().save_pretrained(shipped / "vae-a", metadata={"dataset": "mnist-5k"})
    leftover = shipped / ".vae-a.tmp-deadbeef"
    shutil.copytree(shipped / "vae-a", leftover)  # a complete-looking staging folder
    runs = tmp_path / "runs"
    tiny_rnn().save_pretrained(runs / "job1" / "checkpoint")
    shutil.copytree(runs / "job1" / "checkpoint", runs / "job1" / ".checkpoint.tmp-deadbeef")
    registry = ModelRegistry(checkpoints_dir=shipped, extra_folders=run_folders(runs), device="cpu")
    assert registry.names() == ["vae-a", "run-job1"]


def test_recover_folder_restores_a_folder_renamed_aside(tmp_path, images):
    """The crash window between the two renames: only `.name.old-<tag>` exists. Readers load it
    where it is without renaming (so they cannot disturb a writer); the next save puts it back."""
    model = tiny_vae(seed=4)
    folder = model.save_pretrained(tmp_path / "vae")
    aside = tmp_path / ".vae.old-0123abcd"
    os.replace(folder, aside)
    loaded = VAE.from_pretrained(folder)
    assert torch.equal(loaded.decode(CODES), model.decode(CODES))
    assert _listing(tmp_path) == [".vae.old-0123abcd"]  # reading renamed nothing
    recover_folder(folder)
    assert folder.is_dir() and not aside.exists()
    assert torch.equal(VAE.from_pretrained(folder).decode(CODES), model.decode(CODES))


def test_a_save_tidies_what_a_crashed_save_left(tmp_path):
    """Stale staging folders and retired versions beside an intact folder are removed by the next save."""
    folder = tiny_vae(seed=0).save_pretrained(tmp_path / "vae")
    (tmp_path / ".vae.old-0123abcd").mkdir()
    (tmp_path / ".vae.tmp-0123abcd").mkdir()
    recover_folder(tmp_path / "missing" / "vae")  # no parent folder: nothing to do, no error
    tiny_vae(seed=1).save_pretrained(folder)
    assert _listing(tmp_path) == ["vae"]


def test_damaged_file_list_in_config_is_rejected(vae_folder):
    rewrite_config(vae_folder, lambda c: c.update(files=[WEIGHTS_FILE]))
    with pytest.raises(ValueError, match="'files' must map") as info:
        VAE.from_pretrained(vae_folder)
    assert CONFIG_FILE in str(info.value)


def test_wrongly_typed_model_setting_is_rejected(vae_folder):
    """config.json saying hidden_size 8.5 is a clear ValueError, not a TypeError from nn.Linear."""
    rewrite_config(vae_folder, lambda c: c["model"].update(hidden_size=8.5))
    with pytest.raises(ValueError, match="Hidden size must be a whole number"):
        VAE.from_pretrained(vae_folder)
