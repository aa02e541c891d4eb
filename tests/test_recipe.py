"""What each part of the shipped training recipe does, observed on real runs of tiny models.

EMA of the weights, the cosine schedule (and what resuming does to it), decoupled weight decay,
dynamic binarization and the KL warm-up: each one is switched on and its effect checked directly.
"""

import math

import pytest
import torch

from genmodels import VAE, VAEConfig
from genmodels.train import TrainConfig, build_trainer

TINY = VAEConfig(hidden_size=16, latent_dim=4)


# nll_samples 0: the NLL bound a run measures after its last epoch is tested in test_likelihood.py.
def cpu_config(**changes) -> TrainConfig:
    return TrainConfig(**{"epochs": 1, "batch_size": 500, "device": "cpu", "nll_samples": 0, **changes})


def lrs_of_a_run(trainer) -> list[float]:
    """Run the trainer, recording the learning rate used by every step."""
    seen = []
    trainer.add_callback("on_step", lambda t, info: seen.append(t.optimizer.param_groups[0]["lr"]))
    trainer.run()
    return seen


def test_cosine_schedule_anneals_from_lr_to_zero_over_the_run(digits):
    trainer = build_trainer("vae", TINY, cpu_config(epochs=2, lr=4e-3, lr_schedule="cosine"), data=digits,
                            save_training_state=False)
    # The rate after each step: the first step ran at 4e-3, the schedule then moves along the cosine.
    lrs = lrs_of_a_run(trainer)
    steps = len(lrs)
    expected = [0.5 * 4e-3 * (1 + math.cos(math.pi * (k + 1) / steps)) for k in range(steps)]
    assert lrs == pytest.approx(expected, abs=1e-9)
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)


def test_constant_schedule_keeps_the_rate(digits):
    trainer = build_trainer("vae", TINY, cpu_config(lr=2e-3), data=digits, save_training_state=False)
    assert set(lrs_of_a_run(trainer)) == {2e-3}


def test_resuming_a_cosine_run_starts_a_new_cycle_at_the_configured_rate(digits, tmp_path):
    """Resuming a cosine run starts one full cycle at the configured rate, not the old curve at half its value."""
    config = cpu_config(epochs=2, lr=4e-3, lr_schedule="cosine")
    first = build_trainer("vae", TINY, config, out=tmp_path / "run", data=digits)
    assert lrs_of_a_run(first)[-1] == pytest.approx(0.0, abs=1e-12)
    resumed = build_trainer("vae", TINY, cpu_config(epochs=1, lr=4e-3, lr_schedule="cosine"), out=tmp_path / "run",
                            resume=True, data=digits)
    assert resumed.start_epoch == 2
    lrs = lrs_of_a_run(resumed)
    steps = len(lrs)
    assert lrs[0] == pytest.approx(0.5 * 4e-3 * (1 + math.cos(math.pi / steps)))  # not 2e-3, not ~0
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)
    assert [m["epoch"] for m in resumed.history] == [1, 2, 3]


def test_ema_validates_and_saves_a_moving_average_of_the_weights(digits, tmp_path):
    trainer = build_trainer("vae", TINY, cpu_config(epochs=2, ema_decay=0.9), out=tmp_path / "ema", data=digits)
    result = trainer.run()
    live = trainer.model.state_dict()
    averaged = trainer.ema.module.state_dict()
    assert any(not torch.equal(live[k], averaged[k]) for k in live)  # the average lags the live weights
    saved = VAE.from_pretrained(tmp_path / "ema", device="cpu").state_dict()
    best = result.model.state_dict()
    assert all(torch.equal(saved[k], best[k]) for k in saved)
    assert all(torch.equal(best[k], averaged[k]) for k in best)  # the last epoch was the best: its average was saved


def test_ema_average_follows_its_formula_with_warm_up(digits):
    """The second update (n_averaged = 1) keeps min(decay, 2/11) of the old average: the warm-up, not 0.999."""
    trainer = build_trainer("vae", TINY, cpu_config(ema_decay=0.999), data=digits, save_training_state=False)
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.ema.update_parameters(trainer.model)  # the first update copies the weights
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(1.0)
    trainer.ema.update_parameters(trainer.model)  # n_averaged = 1: rate min(0.999, 2/11)
    rate = 2 / 11
    for name, value in trainer.ema.module.state_dict().items():
        assert torch.allclose(value, initial[name] * rate + (initial[name] + 1) * (1 - rate), atol=1e-6)


def test_weight_decay_shrinks_weights_that_get_no_gradient(digits):
    """AdamW's decay acts on the weights directly: with the loss's gradient zeroed, only the decay moves them."""
    for decay, shrinks in ((0.0, False), (0.5, True)):
        trainer = build_trainer("vae", TINY, cpu_config(lr=0.1, weight_decay=decay), data=digits,
                                save_training_state=False)
        before = trainer.model.fc1.weight.detach().clone()
        trainer.model.fc1.weight.register_hook(lambda grad: torch.zeros_like(grad))
        trainer.run()
        after = trainer.model.fc1.weight.detach()
        if shrinks:
            assert after.norm() < before.norm() * 0.99
        else:
            assert torch.equal(after, before)


def test_binarize_trains_on_fresh_binary_samples_of_the_pixels(digits, monkeypatch):
    seen = []
    real_loss = VAE.loss

    def spy(self, x, labels=None, kl_weight=None):
        if self.training:
            seen.append(x.detach().clone())
        return real_loss(self, x, labels, kl_weight)

    monkeypatch.setattr(VAE, "loss", spy)
    build_trainer("vae", TINY, cpu_config(epochs=2, binarize=True, batch_size=4096), data=digits,
                  save_training_state=False).run()
    assert len(seen) == 4 and all(set(torch.unique(x).tolist()) <= {0.0, 1.0} for x in seen)
    # Two epochs draw different samples of the same images, and their mean is the grey level.
    assert not torch.equal(seen[0], seen[2]) or not torch.equal(seen[1], seen[3])
    seen.clear()
    build_trainer("vae", TINY, cpu_config(binarize=False, batch_size=4096), data=digits,
                  save_training_state=False).run()
    assert any(len(torch.unique(x)) > 2 for x in seen)  # without it the grey levels are kept


def test_kl_warmup_weight_ramps_within_the_loss(digits, monkeypatch):
    weights = []
    real_loss = VAE.loss

    def spy(self, x, labels=None, kl_weight=None):
        if self.training:
            weights.append(kl_weight)
        return real_loss(self, x, labels, kl_weight)

    monkeypatch.setattr(VAE, "loss", spy)
    config = VAEConfig(hidden_size=16, latent_dim=4, beta=2.0, kl_warmup_epochs=2)
    build_trainer("vae", config, cpu_config(epochs=3, batch_size=1500), data=digits, save_training_state=False).run()
    assert weights[0] == 0.0 and weights == sorted(weights)
    assert weights[-1] == 2.0 and weights[3] == pytest.approx(1.0)  # step 4 of 9 starts epoch 2: half way


def test_a_binarized_vae_is_still_validated_on_grey_digits(digits):
    """Its figures stay comparable with runs (and the reference recipe) that never binarized."""
    from genmodels.train import evaluate

    result = build_trainer("vae", TINY, cpu_config(binarize=True), data=digits, save_training_state=False).run()
    assert result.history[0]["val_nelbo"] == pytest.approx(evaluate(result.model, digits.val_x, digits.val_y)["val_nelbo"])
