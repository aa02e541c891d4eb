"""Training: one short run lowers the loss (API and CLI), callbacks, stop flag, resume, KL warm-up, saving."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genmodels import VAE, RowRNN, RowRNNConfig, VAEConfig
from genmodels.checkpoints import CONFIG_FILE, LATENT_FILE, TRAINING_STATE_FILE, WEIGHTS_FILE
from genmodels.train import TrainConfig, build_trainer, evaluate, train

ROOT = Path(__file__).resolve().parent.parent
TINY_VAE = VAEConfig(hidden_size=32)
TINY_RNN = RowRNNConfig(cell="gru", hidden_size=32)


# nll_samples 0: the NLL bound a run measures after its last epoch is tested in test_likelihood.py.
def cpu_config(**kwargs) -> TrainConfig:
    return TrainConfig(**{"dataset": "mnist-5k", "epochs": 1, "seed": 0, "device": "cpu", "nll_samples": 0, **kwargs})


def untrained(model_cls, model_config, seed=0):
    """The model a run with this seed starts from (build_trainer seeds torch, then builds it)."""
    torch.manual_seed(seed)
    return model_cls(model_config)


def test_one_vae_epoch_lowers_the_validation_loss(digits):
    before = evaluate(untrained(VAE, TINY_VAE), digits.val_x, digits.val_y)
    result = train("vae", TINY_VAE, cpu_config(), data=digits, save_training_state=False)
    after = result.best_metrics
    assert after["val_nelbo"] < before["val_nelbo"] - 100  # ~545 -> ~350 nats per image
    assert result.best_epoch == 1 and len(result.history) == 1 and not result.stopped
    h = result.history[0]
    assert h["epoch"] == 1 and h["kl_weight"] == 1.0 and h["seconds"] > 0
    assert h["train_nelbo"] == pytest.approx(h["train_recon"] + h["train_kl"], rel=1e-5)
    assert not result.model.training
    assert evaluate(result.model, digits.val_x, digits.val_y)["val_nelbo"] == pytest.approx(after["val_nelbo"])


def test_one_rnn_epoch_lowers_the_validation_loss(digits):
    before = evaluate(untrained(RowRNN, TINY_RNN), digits.val_x, digits.val_y)
    result = train("rnn", TINY_RNN, cpu_config(batch_size=64, lr=3e-3), data=digits, save_training_state=False)
    after = result.best_metrics
    assert after["val_loss"] < before["val_loss"] - 0.3
    assert after["val_accuracy"] > before["val_accuracy"] + 0.2
    assert set(result.history[0]) >= {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}


def test_training_is_seeded_and_reproducible(digits):
    a = train("vae", TINY_VAE, cpu_config(seed=3), data=digits, save_training_state=False)
    b = train("vae", TINY_VAE, cpu_config(seed=3), data=digits, save_training_state=False)
    c = train("vae", TINY_VAE, cpu_config(seed=4), data=digits, save_training_state=False)
    assert a.history[0]["val_nelbo"] == b.history[0]["val_nelbo"]
    assert a.history[0]["train_loss"] == b.history[0]["train_loss"]
    assert a.history[0]["val_nelbo"] != c.history[0]["val_nelbo"]
    for key, tensor in a.model.state_dict().items():
        assert torch.equal(tensor, b.model.state_dict()[key])


def test_callbacks_report_every_step_and_epoch(digits):
    steps, epochs = [], []
    train("vae", TINY_VAE, cpu_config(epochs=2, batch_size=1000), data=digits, save_training_state=False,
          on_step=lambda trainer, info: steps.append(info), on_epoch_end=lambda trainer, info: epochs.append(info))
    assert [(s["epoch"], s["step"]) for s in steps] == [(e, s) for e in (1, 2) for s in range(1, 6)]
    assert all(s["steps_per_epoch"] == 5 and s["loss"] > 0 for s in steps)
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(e["total_epochs"] == 2 and "val_nelbo" in e and "improved" in e for e in epochs)
    assert epochs[0]["improved"] is True


def test_kl_warmup_ramps_the_kl_weight(digits):
    result = train("vae", VAEConfig(hidden_size=32, kl_warmup_epochs=2), cpu_config(epochs=3),
                   data=digits, save_training_state=False)
    # The weight at the end of each epoch: it ramps linearly over the first two epochs, then stays at beta.
    assert [h["kl_weight"] for h in result.history] == [0.5, 1.0, 1.0]
    first, second, third = result.history
    # During warm-up (steps of epochs 1 and 2) the objective weighs the KL by less than 1: below the ELBO.
    assert first["train_loss"] < first["train_nelbo"] - 1
    assert second["train_loss"] < second["train_nelbo"] - 1
    assert third["train_loss"] == pytest.approx(third["train_nelbo"], rel=1e-6)


def test_beta_weighs_the_kl_term_in_the_training_objective(digits):
    result = train("vae", VAEConfig(hidden_size=32, beta=2.0), cpu_config(batch_size=500), data=digits,
                   save_training_state=False)
    h = result.history[0]
    assert h["kl_weight"] == 2.0
    assert h["train_loss"] == pytest.approx(h["train_recon"] + 2.0 * h["train_kl"], rel=1e-5)
    assert h["train_loss"] > h["train_nelbo"]
    # Validation always reports the true negative ELBO, whatever the weight.
    assert h["val_nelbo"] == pytest.approx(h["val_recon"] + h["val_kl"], rel=1e-5)


def test_stop_flag_stops_within_one_step(digits):
    steps = []
    result = train("rnn", TINY_RNN, cpu_config(epochs=5), data=digits, save_training_state=False,
                   on_step=lambda trainer, info: steps.append(info["step"]), should_stop=lambda: len(steps) >= 3)
    assert steps == [1, 2, 3]
    assert result.stopped and result.history == [] and result.best_epoch == 0


def test_stop_in_a_later_epoch_keeps_the_saved_epochs(digits, tmp_path):
    steps = []
    out = tmp_path / "run"
    result = train("vae", TINY_VAE, cpu_config(epochs=5, batch_size=500), out=out, data=digits,
                   on_step=lambda trainer, info: steps.append(info), should_stop=lambda: len(steps) >= 11)
    assert len(steps) == 11  # 9 steps of epoch 1, 2 of epoch 2, then stopped before step 3
    assert result.stopped and [h["epoch"] for h in result.history] == [1]
    saved = json.loads((out / CONFIG_FILE).read_text())
    assert saved["epochs_trained"] == 1 and saved["resume"]["epoch"] == 1


def test_each_epoch_saves_best_weights_latent_analysis_and_resume_state(digits, tmp_path):
    out = tmp_path / "vae-run"
    result = train("vae", TINY_VAE, cpu_config(epochs=2, batch_size=500), out=out, data=digits)
    assert sorted(p.name for p in out.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE, LATENT_FILE, TRAINING_STATE_FILE])
    info = json.loads((out / CONFIG_FILE).read_text())
    assert info["dataset"] == "mnist-5k" and info["epochs_trained"] == 2 and len(info["history"]) == 2
    assert info["training"]["batch_size"] == 500 and info["model"]["hidden_size"] == 32
    best = min(result.history, key=lambda h: h["val_nelbo"])
    assert info["best_epoch"] == result.best_epoch == best["epoch"]
    assert info["metrics"]["val_nelbo"] == best["val_nelbo"]
    loaded = VAE.from_pretrained(out, device="cpu")
    z = torch.randn(4, 20, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.decode(z), result.model.decode(z))


def test_resume_continues_epochs_and_history(digits, tmp_path):
    out = tmp_path / "rnn-run"
    first = train("rnn", TINY_RNN, cpu_config(), out=out, data=digits)
    resumed = train("rnn", TINY_RNN, cpu_config(), out=out, resume=True, data=digits)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.history[0] == pytest.approx(first.history[0])
    info = json.loads((out / CONFIG_FILE).read_text())
    assert info["epochs_trained"] == 2 and [h["epoch"] for h in info["history"]] == [1, 2]
    # Weights, optimizer state and the shuffling generator are restored: 1 + 1 epochs equal 2 in one go.
    straight = train("rnn", TINY_RNN, cpu_config(epochs=2), data=digits, save_training_state=False)
    assert resumed.history[1]["val_loss"] == pytest.approx(straight.history[1]["val_loss"], rel=1e-5)
    assert resumed.history[1]["train_loss"] == pytest.approx(straight.history[1]["train_loss"], rel=1e-5)


def test_resume_takes_the_architecture_from_the_checkpoint(digits, tmp_path):
    out = tmp_path / "vae-run"
    train("vae", TINY_VAE, cpu_config(batch_size=500), out=out, data=digits)
    trainer = build_trainer("vae", VAEConfig(), cpu_config(batch_size=500), out=out, resume=True, data=digits)
    assert trainer.model.config.hidden_size == 32 and trainer.start_epoch == 1 and trainer.total_epochs == 2


def test_resume_errors_are_clear(digits, tmp_path):
    out = tmp_path / "vae-run"
    train("vae", TINY_VAE, cpu_config(batch_size=500), out=out, data=digits, save_training_state=False)
    with pytest.raises(ValueError, match="without resume state"):
        build_trainer("vae", TINY_VAE, cpu_config(), out=out, resume=True, data=digits)
    with pytest.raises(ValueError, match="holds a 'vae' run, not 'rnn'"):
        build_trainer("rnn", TINY_RNN, cpu_config(), out=out, resume=True, data=digits)
    with pytest.raises(ValueError, match="trained on 'mnist-5k'"):
        build_trainer("vae", TINY_VAE, cpu_config(dataset="fashion-mnist"), out=out, resume=True, data=digits)
    with pytest.raises(ValueError, match="does not exist"):
        build_trainer("vae", TINY_VAE, cpu_config(), out=tmp_path / "nothing", resume=True, data=digits)
    with pytest.raises(ValueError, match="needs the checkpoint folder"):
        build_trainer("vae", TINY_VAE, cpu_config(), out=None, resume=True, data=digits)


def test_bad_settings_are_value_errors(digits):
    with pytest.raises(ValueError, match="Unknown model type"):
        build_trainer("gan", None, cpu_config(), data=digits)
    with pytest.raises(ValueError, match="model has 5 classes"):
        build_trainer("rnn", RowRNNConfig(num_classes=5), cpu_config(), data=digits)
    for kwargs in ({"epochs": 0}, {"batch_size": 0}, {"lr": 0.0}, {"lr": float("nan")},
                   {"lr_schedule": "step"}, {"dataset": "imagenet"}, {"weight_decay": 2.0}):
        with pytest.raises(ValueError):
            cpu_config(**kwargs)


# -- the command line, run as a user would (the pytorch/examples "dry run" idea) ------------------

CLI_RUNS = {"vae": ["--hidden-size", "32", "--nll-samples", "20"],  # a small NLL bound: its cost is in bench/
            "rnn": ["--cell", "gru", "--hidden-size", "32", "--lr", "3e-3", "--batch-size", "64"]}


@pytest.mark.slow  # two processes that each import torch and train
def test_cli_one_epoch_runs_lower_the_loss(tmp_path, digits):
    """`python -m genmodels.train vae|rnn ... --epochs 1` in subprocesses (started together: most of
    their time is importing torch)."""
    env = dict(os.environ, TQDM_DISABLE="1", OMP_NUM_THREADS="1", LATENT_LAB_DEVICE="cpu")
    procs = {}
    for model, extra in CLI_RUNS.items():
        args = [sys.executable, "-m", "genmodels.train", model, "--dataset", "mnist-5k", "--epochs", "1",
                "--device", "cpu", "--out", str(tmp_path / model), *extra]
        procs[model] = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
    outputs = {model: proc.communicate(timeout=180) for model, proc in procs.items()}
    for model, proc in procs.items():
        stderr = outputs[model][1]
        assert proc.returncode == 0, stderr
        assert "best epoch 1" in stderr and str(tmp_path / model) in stderr
        assert "4500 train, 500 validation" in stderr and "Traceback" not in stderr
        info = json.loads((tmp_path / model / CONFIG_FILE).read_text())
        assert info["epochs_trained"] == 1 and info["model_type"] == model and info["dataset"] == "mnist-5k"

    vae = VAE.from_pretrained(tmp_path / "vae", device="cpu")
    info = vae.checkpoint_info
    before = evaluate(untrained(VAE, TINY_VAE), digits.val_x, digits.val_y)["val_nelbo"]
    assert info["metrics"]["val_nelbo"] < before - 100
    assert evaluate(vae, digits.val_x, digits.val_y)["val_nelbo"] == pytest.approx(info["metrics"]["val_nelbo"])

    rnn = RowRNN.from_pretrained(tmp_path / "rnn", device="cpu")
    info = rnn.checkpoint_info
    assert rnn.config.cell == "gru" and rnn.config.hidden_size == 32
    before = evaluate(untrained(RowRNN, TINY_RNN), digits.val_x, digits.val_y)["val_loss"]
    assert info["metrics"]["val_loss"] < before - 0.3
    measured = evaluate(rnn, digits.val_x, digits.val_y)
    assert measured["val_accuracy"] == pytest.approx(info["metrics"]["val_accuracy"])


def test_cli_bad_input_is_one_clear_line_and_exit_code_2(tmp_path, monkeypatch, capsys):
    """The CLI's own entry point (the code `python -m` runs), in-process to spare a torch import."""
    from genmodels import data
    from genmodels.train import main

    monkeypatch.setattr(data, "_network_reachable", lambda *args, **kwargs: False)
    monkeypatch.setattr(data, "DEFAULT_DATA_DIR", tmp_path / "default-data")
    code = main(["vae", "--dataset", "mnist", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x"),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "mnist-5k" in err and "--data-dir" in err
    assert not (tmp_path / "x").exists()
