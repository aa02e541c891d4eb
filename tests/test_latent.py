"""Latent analysis and paths: analyze() shapes, kl_order, lerp/slerp, the PCA plane, traversals."""

import pytest
import torch

from genmodels import VAEConfig
from genmodels import latent
from genmodels.train import TrainConfig, train


@pytest.fixture(scope="module")
def vae(digits):
    """A tiny VAE (hidden 32, 20 latent dimensions) after one seeded epoch on mnist-5k."""
    config = TrainConfig(dataset="mnist-5k", epochs=1, seed=0, device="cpu", nll_samples=0)
    return train("vae", VAEConfig(hidden_size=32), config, data=digits, save_training_state=False).model


@pytest.fixture(scope="module")
def analysis(vae, digits):
    return latent.analyze(vae, digits.val_x, digits.val_y, num_classes=10, map_points=300)


def test_analyze_shapes(analysis):
    assert analysis["kl_per_dim"].shape == (20,)
    assert analysis["centroids"].shape == (10, 20)
    assert analysis["pca_mean"].shape == (20,)
    assert analysis["pca_components"].shape == (2, 20)
    assert analysis["map_xy"].shape == (300, 2)
    assert analysis["map_z"].shape == (300, 20)
    assert analysis["map_labels"].shape == (300,)
    assert all(t.device.type == "cpu" and torch.isfinite(t).all() for t in analysis.values())


def test_analyze_values_agree_with_the_model(analysis, vae, digits):
    x = digits.val_x.unsqueeze(1).float() / 255
    mu, _ = vae.encode(x)
    assert torch.allclose(analysis["kl_per_dim"], vae.kl_per_dimension(x), atol=1e-4)
    assert torch.allclose(analysis["centroids"][3], mu[digits.val_y == 3].mean(0), atol=1e-5)
    assert torch.allclose(analysis["pca_mean"], mu.mean(0), atol=1e-5)
    # The components are orthonormal and the first explains the most variance.
    comps = analysis["pca_components"]
    assert torch.allclose(comps @ comps.T, torch.eye(2), atol=1e-5)
    var = ((mu - mu.mean(0)) @ comps.T).var(0)
    assert var[0] >= var[1]
    # The map is class-balanced (30 of each class here) and its points are the encoded means.
    assert torch.bincount(analysis["map_labels"], minlength=10).tolist() == [30] * 10
    assert torch.allclose(analysis["map_xy"], latent.project(analysis["map_z"], analysis["pca_mean"], comps), atol=1e-5)


def test_analyze_is_deterministic_and_accepts_float_images(vae, digits, analysis):
    x = digits.val_x.unsqueeze(1).float() / 255
    again = latent.analyze(vae, x, digits.val_y, map_points=300, batch_size=128)
    for key in analysis:
        assert torch.allclose(again[key], analysis[key], atol=1e-4), key


def test_kl_order_is_most_informative_first():
    kl = torch.tensor([0.1, 3.0, 0.0, 1.5, 2.0])
    assert latent.kl_order(kl) == [1, 4, 3, 0, 2]


def test_kl_order_on_a_real_analysis(analysis):
    order = latent.kl_order(analysis["kl_per_dim"])
    assert sorted(order) == list(range(20))
    kl = analysis["kl_per_dim"]
    assert all(kl[a] >= kl[b] for a, b in zip(order, order[1:]))


def codes(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(20, generator=g), torch.randn(20, generator=g)


def test_lerp_endpoints_and_spacing():
    z0, z1 = codes()
    path = latent.lerp(z0, z1, 5)
    assert path.shape == (5, 20)
    assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(path[2], (z0 + z1) / 2, atol=1e-6)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, steps[0].expand_as(steps), atol=1e-6)  # evenly spaced


def test_slerp_endpoints_and_norms():
    z0, z1 = codes()
    path = latent.slerp(z0, z1, 9)
    assert path.shape == (9, 20)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    norms = path.norm(dim=1)
    low, high = min(z0.norm(), z1.norm()), max(z0.norm(), z1.norm())
    # The great circle keeps the norm typical; the straight line sags towards the origin.
    assert (norms > 0.9 * low).all() and (norms < 1.1 * high).all()
    assert latent.lerp(z0, z1, 9)[4].norm() < 0.85 * norms[4]
    # With equal norms the norm is kept exactly along the whole path.
    equal = latent.slerp(z0, z1 * z0.norm() / z1.norm(), 9).norm(dim=1)
    assert torch.allclose(equal, z0.norm().expand(9), rtol=1e-5)


def test_slerp_of_parallel_codes_falls_back_to_lerp():
    z0, _ = codes()
    path = latent.slerp(z0, 2 * z0, 3)
    assert torch.isfinite(path).all()
    assert torch.allclose(path, latent.lerp(z0, 2 * z0, 3), atol=1e-5)


def test_project_unproject_round_trip_on_the_plane(analysis):
    mean, comps = analysis["pca_mean"], analysis["pca_components"]
    xy = torch.tensor([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.25]])
    z = latent.unproject(xy, mean, comps)
    assert z.shape == (3, 20)
    assert torch.allclose(z[0], mean)
    assert torch.allclose(latent.project(z, mean, comps), xy, atol=1e-5)
    # A code on the plane comes back to itself; one off the plane lands on its projection.
    assert torch.allclose(latent.unproject(latent.project(z, mean, comps), mean, comps), z, atol=1e-5)
    off = analysis["map_z"][:5]
    back = latent.unproject(latent.project(off, mean, comps), mean, comps)
    assert torch.allclose(((off - back) @ comps.T), torch.zeros(5, 2), atol=1e-4)  # residual is orthogonal


def test_traversal_shape_and_values():
    z, _ = codes()
    values = torch.linspace(-3, 3, 7)
    grid = latent.traversal(z, [4, 0, 11], values)
    assert grid.shape == (21, 20)
    for block, dim in enumerate([4, 0, 11]):
        rows = grid[block * 7:(block + 1) * 7]
        assert torch.equal(rows[:, dim], values)
        others = [d for d in range(20) if d != dim]
        assert torch.equal(rows[:, others], z[others].expand(7, 19))
    assert torch.equal(z, codes()[0])  # the input code is not modified


def test_traversal_decodes_to_images(vae):
    z, _ = codes()
    images = vae.decode(latent.traversal(z, [0, 1], torch.linspace(-2, 2, 5)))
    assert images.shape == (10, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_analysis_saved_with_a_checkpoint_loads_back(vae, analysis, tmp_path):
    from genmodels.checkpoints import LATENT_FILE

    folder = vae.save_pretrained(tmp_path / "vae", extra_files={LATENT_FILE: analysis})
    loaded = latent.load_analysis(folder)
    assert set(loaded) == set(analysis)
    assert all(torch.equal(loaded[k], analysis[k]) for k in analysis)


def test_load_analysis_of_an_rnn_is_a_value_error(tmp_path):
    from genmodels import RowRNN, RowRNNConfig

    folder = RowRNN(RowRNNConfig(hidden_size=8)).save_pretrained(tmp_path / "rnn")
    with pytest.raises(ValueError, match="not a VAE checkpoint"):
        latent.load_analysis(folder)


def test_load_analysis_without_the_file_is_a_value_error(vae, tmp_path):
    folder = vae.save_pretrained(tmp_path / "vae")
    with pytest.raises(ValueError, match="latent.safetensors is missing"):
        latent.load_analysis(folder)
