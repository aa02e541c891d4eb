"""VAE: shapes and value ranges, input checking, the Gaussian option, beta / KL weight, IWAE bound."""

import math

import pytest
import torch
import torch.nn.functional as F

from genmodels import VAE, VAEConfig
from genmodels.data import to_float
from genmodels.train import TrainConfig, evaluate, train


@pytest.fixture(scope="module")
def val_images(digits):
    """The first 200 validation digits as float (200,1,28,28) in [0,1]."""
    return to_float(digits.val_x[:200])


@pytest.fixture(scope="module")
def trained_vae(digits):
    """A tiny VAE (hidden 32) after one seeded epoch on mnist-5k."""
    config = TrainConfig(dataset="mnist-5k", epochs=1, seed=0, device="cpu", nll_samples=0)
    return train("vae", VAEConfig(hidden_size=32), config, data=digits, save_training_state=False).model


def tiny_vae(seed=0, **kwargs) -> VAE:
    torch.manual_seed(seed)
    return VAE(VAEConfig(hidden_size=32, **kwargs)).eval()


def test_default_config_is_the_reference_architecture():
    model = VAE()
    assert model.config.latent_dim == 20 and model.config.hidden_size == 400
    assert model.config.likelihood == "bernoulli" and model.config.beta == 1.0
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["fc1.weight"] == (400, 784) and shapes["fc21.weight"] == (20, 400)
    assert shapes["fc3.weight"] == (400, 20) and shapes["fc4.weight"] == (784, 400)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_decode_encode_reconstruct_shapes_and_ranges(likelihood, val_images):
    model = tiny_vae(likelihood=likelihood)
    mu, logvar = model.encode(val_images)
    assert mu.shape == (200, 20) and logvar.shape == (200, 20)
    z = torch.randn(7, 20, generator=torch.Generator().manual_seed(0)) * 3  # far from the prior too
    images = model.decode(z)
    assert images.shape == (7, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert model.decode(z[0]).shape == (1, 1, 28, 28)  # a single code is a batch of one
    recon = model.reconstruct(val_images)
    assert recon.shape == (200, 1, 28, 28) and recon.min() >= 0 and recon.max() <= 1
    samples = model.sample(5)
    assert samples.shape == (5, 1, 28, 28) and samples.min() >= 0 and samples.max() <= 1


def test_all_three_input_shapes_give_the_same_result(val_images):
    model = tiny_vae()
    x = val_images[:8]
    mu4, logvar4 = model.encode(x)
    for shaped in (x.reshape(8, 28, 28), x.reshape(8, 784)):
        mu, logvar = model.encode(shaped)
        assert torch.equal(mu, mu4) and torch.equal(logvar, logvar4)
        assert torch.equal(model.reconstruct(shaped), model.reconstruct(x))


def test_any_float_dtype_is_accepted(val_images):
    """float64 (numpy's default) and float16 pixels work and give the float32 answer."""
    model = tiny_vae()
    x = val_images[:8]
    mu, _ = model.encode(x)
    assert torch.allclose(model.encode(x.double())[0], mu, atol=1e-6)
    assert torch.allclose(model.encode(x.half())[0], mu, atol=1e-2)
    assert model.reconstruct(x.double()).dtype == torch.float32
    assert torch.isfinite(model.iwae_bound(x.double(), k=4)).all()


@pytest.mark.parametrize("bad_shape", [(8, 784, 1), (8, 2, 28, 28), (8, 28, 27), (8, 783), (784,), (28, 28)])
def test_wrong_image_shape_is_a_value_error_naming_the_expected_shapes(bad_shape):
    model = tiny_vae()
    with pytest.raises(ValueError, match=r"\(N,1,28,28\), \(N,28,28\) or \(N,784\)") as info:
        model.encode(torch.rand(bad_shape))
    assert str(tuple(bad_shape)) in str(info.value)  # says what it got, too
    with pytest.raises(ValueError, match=r"\(N,1,28,28\)"):
        model.loss(torch.rand(bad_shape))


def test_non_float_or_non_tensor_images_are_a_value_error(digits):
    model = tiny_vae()
    with pytest.raises(ValueError, match="float"):
        model.encode(digits.val_x[:4])  # raw uint8 (4,28,28)
    with pytest.raises(ValueError, match="float"):
        model.reconstruct(torch.zeros(4, 784, dtype=torch.int64))
    with pytest.raises(ValueError, match="torch.Tensor"):
        model.encode(digits.val_x[:4].float().numpy())


def test_wrong_latent_shape_is_a_value_error_naming_the_expected_shape():
    model = tiny_vae()
    for bad in (torch.zeros(3, 19), torch.zeros(3, 20, 1), [0.0] * 20):
        with pytest.raises(ValueError, match=r"\(N, 20\)"):
            model.decode(bad)


def test_sample_with_a_generator_is_reproducible():
    model = tiny_vae()
    a = model.sample(6, generator=torch.Generator().manual_seed(42))
    b = model.sample(6, generator=torch.Generator().manual_seed(42))
    c = model.sample(6, generator=torch.Generator().manual_seed(43))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_reconstruct_decodes_the_posterior_mean(val_images):
    model = tiny_vae()
    mu, _ = model.encode(val_images[:5])
    assert torch.equal(model.reconstruct(val_images[:5]), model.decode(mu))


def test_loss_parts_are_per_image_nats_and_consistent(val_images):
    model = tiny_vae()
    torch.manual_seed(0)
    parts = model.loss(val_images)
    assert set(parts) >= {"loss", "nelbo", "recon", "kl"}
    assert parts["recon"] > 0 and parts["kl"] >= 0
    assert torch.allclose(parts["nelbo"], parts["recon"] + parts["kl"])
    assert torch.allclose(parts["loss"], parts["nelbo"])  # beta = 1
    # Bernoulli: binary cross-entropy summed over the 784 pixels, then averaged over images.
    outputs = model.decode_logits(model.encode(val_images)[0])
    bce = F.binary_cross_entropy_with_logits(outputs, val_images.reshape(-1, 784), reduction="sum") / 200
    assert torch.allclose(model.reconstruction_nll(outputs, val_images).mean(), bce)
    # An untrained decoder outputs ~0.5 everywhere: about 784 * ln 2 = 543 nats per image.
    assert abs(parts["recon"].item() - 784 * math.log(2)) < 60
    # The closed-form KL agrees with the per-dimension breakdown.
    mu, logvar = model.encode(val_images)
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()
    assert torch.allclose(model.kl_per_dimension(val_images).sum(), kl, atol=1e-4)


def test_beta_and_kl_weight_change_the_objective_but_not_the_nelbo(val_images):
    plain, heavy = tiny_vae(seed=1), tiny_vae(seed=1, beta=4.0)
    torch.manual_seed(0)
    a = plain.loss(val_images)
    torch.manual_seed(0)
    b = heavy.loss(val_images)
    assert torch.allclose(a["nelbo"], b["nelbo"])  # same weights, same noise: same ELBO
    assert torch.allclose(b["loss"], b["recon"] + 4.0 * b["kl"])
    torch.manual_seed(0)
    c = heavy.loss(val_images, kl_weight=0.25)  # the trainer's warm-up passes an explicit weight
    assert torch.allclose(c["loss"], c["recon"] + 0.25 * c["kl"])
    assert torch.allclose(c["nelbo"], a["nelbo"])


def test_gaussian_likelihood_is_summed_squared_error_on_minus_one_to_one(val_images):
    model = tiny_vae(likelihood="gaussian")
    x = val_images[:10]
    target = x.reshape(10, 784) * 2 - 1
    assert torch.allclose(model.reconstruction_nll(target, x), torch.zeros(10))  # a perfect decoder
    outputs = torch.zeros(10, 784)
    assert torch.allclose(model.reconstruction_nll(outputs, x), 0.5 * (target ** 2).sum(1))
    # Decoded means live in [-1,1] inside the model and come out as images in [0,1].
    z = torch.randn(10, 20, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(model.decode(z).reshape(10, 784), (model.decode_logits(z) + 1) / 2)


def test_gaussian_vae_trains(digits):
    config = TrainConfig(dataset="mnist-5k", epochs=1, seed=0, device="cpu", nll_samples=0)
    model_config = VAEConfig(hidden_size=32, likelihood="gaussian")
    torch.manual_seed(0)
    before = evaluate(VAE(model_config), digits.val_x, digits.val_y)["val_nelbo"]
    result = train("vae", model_config, config, data=digits, save_training_state=False)
    assert result.best_metrics["val_nelbo"] < before
    assert result.model.config.likelihood == "gaussian"
    bound = result.model.iwae_bound(to_float(digits.val_x[:20]), k=8, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(bound).all()


def test_iwae_bound_is_tighter_than_the_elbo(trained_vae, val_images):
    model = trained_vae
    gen = torch.Generator().manual_seed(0)
    iwae_1 = model.iwae_bound(val_images, k=1, generator=gen)
    iwae_64 = model.iwae_bound(val_images, k=64, generator=gen)
    assert iwae_64.shape == (200,)
    torch.manual_seed(0)
    elbo = -model.loss(val_images)["nelbo"].item()
    # k=1 is a one-sample ELBO estimate: it agrees with -nelbo up to the sampling noise.
    assert abs(iwae_1.mean().item() - elbo) < 3
    # k>1 is a tighter lower bound on log p(x): higher than the ELBO on average.
    assert iwae_64.mean().item() > elbo + 1
    assert iwae_64.mean() > iwae_1.mean()
    assert (iwae_64 < 0).all()  # a log-likelihood of binary-ish images is below zero


def test_iwae_chunking_does_not_change_the_result(trained_vae, val_images):
    x = val_images[:30]
    one_chunk = trained_vae.iwae_bound(x, k=50, generator=torch.Generator().manual_seed(7))
    # 100 samples per chunk = 2 images per chunk: 15 chunks.
    chunked = trained_vae.iwae_bound(x, k=50, max_samples_per_chunk=100, generator=torch.Generator().manual_seed(7))
    assert torch.allclose(one_chunk, chunked, atol=1e-4)
    # ... and the result does depend on the noise (so the comparison above means something).
    other = trained_vae.iwae_bound(x, k=50, generator=torch.Generator().manual_seed(8))
    assert not torch.allclose(one_chunk, other)


def test_kl_per_dimension_shape_and_sign(trained_vae, val_images):
    kl = trained_vae.kl_per_dimension(val_images)
    assert kl.shape == (20,) and (kl >= -1e-6).all()
    assert kl.max() > 0.1  # after an epoch some dimensions carry information


def test_invalid_config_values_are_value_errors():
    for kwargs in ({"likelihood": "poisson"}, {"latent_dim": 0}, {"hidden_size": 0}, {"beta": -1.0},
                   {"kl_warmup_epochs": -1}):
        with pytest.raises(ValueError):
            VAEConfig(**kwargs)


def test_pixels_outside_unit_range_are_rejected():
    """0-255 images passed as floats would give a meaningless loss: say how to fix them instead."""
    with pytest.raises(ValueError, match=r"\[0,1\].*divide 0-255 images by 255"):
        VAE(VAEConfig(hidden_size=8)).encode(torch.full((2, 784), 255.0))
