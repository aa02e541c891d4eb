"""The hand-written VAE training step: same loss and gradients as autograd, and the Trainer uses it."""

import pytest
import torch

from genmodels import VAE, VAEConfig, vae_step
from genmodels.train import TrainConfig, Trainer


def autograd_reference(model: VAE, x: torch.Tensor, kl_weight, seed: int):
    """model.loss and its autograd gradients, with the reparameterisation noise drawn after `seed`."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    parts = model.loss(x, kl_weight=kl_weight)
    parts["loss"].backward()
    return {k: v.detach() for k, v in parts.items()}, {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("config, kl_weight", [
    (VAEConfig(), None),
    (VAEConfig(likelihood="gaussian"), None),
    (VAEConfig(latent_dim=3, hidden_dim=16, beta=4.0), 0.25),  # KL warm-up weight, beta-VAE
])
def test_loss_and_gradients_match_autograd(config, kl_weight):
    torch.manual_seed(0)
    model = VAE(config)
    x = torch.rand(32, 1, 28, 28)
    expected_parts, expected_grads = autograd_reference(model, x, kl_weight, seed=7)
    torch.manual_seed(7)
    parts = vae_step.loss_and_gradients(model, x, kl_weight=kl_weight)
    for key, value in expected_parts.items():
        assert parts[key].item() == pytest.approx(value.item(), rel=1e-5), key
    for name, param in model.named_parameters():
        expected = expected_grads[name]
        assert param.grad.shape == param.shape and param.grad.is_contiguous()
        scale = expected.abs().max().item()
        assert scale > 0, f"{name} got no gradient at all"  # a vacuous comparison would prove nothing
        assert (param.grad - expected).abs().max().item() <= 1e-5 * scale, name


def test_gradients_are_replaced_not_accumulated():
    model, x = VAE(VAEConfig(hidden_dim=32)), torch.rand(8, 784)
    torch.manual_seed(1)
    vae_step.loss_and_gradients(model, x)
    first = [p.grad.clone() for p in model.parameters()]
    torch.manual_seed(1)
    vae_step.loss_and_gradients(model, x)
    assert all(torch.equal(a, p.grad) for a, p in zip(first, model.parameters()))


def test_bad_input_gets_the_models_message():
    with pytest.raises(ValueError, match=r"\(N,1,28,28\)"):
        vae_step.loss_and_gradients(VAE(), torch.rand(4, 10))
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        vae_step.loss_and_gradients(VAE(), torch.full((4, 784), 255.0))


def test_dropout_models_train_through_autograd(digits):
    model = VAE(VAEConfig(hidden_dim=32, dropout=0.2))
    assert not vae_step.supports(model)
    with pytest.raises(ValueError, match="dropout"):
        vae_step.loss_and_gradients(model, torch.rand(4, 784))
    trainer = Trainer(model, TrainConfig(epochs=1, device="cpu"), digits)
    assert not trainer.hand_written_backward
    assert trainer.train_epoch(0, lambda: False)["train_nelbo"] > 0


def test_trainer_epoch_matches_the_autograd_path(digits):
    """One real epoch (fp32 products) through both paths: the same steps, so the same losses."""
    def epoch_metrics(hand_written: bool) -> dict:
        torch.manual_seed(0)
        trainer = Trainer(VAE(VAEConfig(hidden_dim=64)), TrainConfig(epochs=1, device="cpu", matmul_precision="fp32",
                                                                    binarize=True), digits)
        trainer.hand_written_backward = hand_written
        return trainer.train_epoch(0, lambda: False)

    hand, auto = epoch_metrics(True), epoch_metrics(False)
    assert Trainer(VAE(), TrainConfig(device="cpu"), digits).hand_written_backward  # the default for a VAE
    for key in ("train_loss", "train_recon", "train_kl"):
        assert hand[key] == pytest.approx(auto[key], rel=1e-4), key
