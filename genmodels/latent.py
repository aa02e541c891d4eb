"""Latent-space analysis and paths: per-dimension KL (or code variance), class centroids, PCA map, interpolation."""

import torch

import i18n

from .checkpoints import LATENT_FILE, load_tensor_file, read_config

MAP_POINTS = 600  # encoded validation points stored with a checkpoint for the explorer's map


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return KL(N(mu, exp(logvar)) || N(0, I)) per dimension, shaped like mu, in nats.

    Closed form from Appendix B of Kingma & Welling (2013).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


# What orders a model's sliders, by model type: the key of its per-dimension score in LATENT_FILE.
# A VAE's KL per dimension says how much information each carries; a plain autoencoder has no
# posterior, so the variance of its codes over the validation digits stands in.
ORDER_KEYS = {"vae": "kl_per_dim", "ae": "code_var_per_dim"}


@torch.no_grad()
def analyze(vae, images: torch.Tensor, labels: torch.Tensor, num_classes: int = 10,
            map_points: int = MAP_POINTS, batch_size: int = 1000) -> dict[str, torch.Tensor]:
    """Return the latent analysis saved with a VAE checkpoint, computed on (validation) images.

    kl_per_dim (d,) nats, and the code analysis of the posterior means (describe_codes).
    """
    mus, kls = [], []
    for xb in _batches(images, batch_size):
        mu, logvar = vae.encode(xb.to(vae.device))
        mus.append(mu.cpu())
        kls.append(gaussian_kl(mu, logvar).sum(0).cpu())
    mu = torch.cat(mus)
    return {"kl_per_dim": torch.stack(kls).sum(0) / len(mu),
            **describe_codes(mu, labels, num_classes, map_points)}


def _batches(images: torch.Tensor, batch_size: int):
    """Yield float images in [0,1] (N,1,side,side) from uint8 (N,side,side) or float images, batch by batch."""
    for start in range(0, len(images), batch_size):
        xb = images[start:start + batch_size]
        yield xb.unsqueeze(1).float() / 255 if xb.dtype == torch.uint8 else xb


@torch.no_grad()
def encode_all(encode, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Return encode(x) (codes (N, d)) of all images, computed batch by batch, on the CPU."""
    return torch.cat([encode(xb).cpu() for xb in _batches(images, batch_size)])


def describe_codes(codes: torch.Tensor, labels: torch.Tensor, num_classes: int = 10,
                   map_points: int = MAP_POINTS) -> dict[str, torch.Tensor]:
    """Return what the explorer draws from the codes (N, d) of labelled images.

    centroids (classes, d) mean code per class; pca_mean (d,) and pca_components (2, d) of the
    codes; map_xy (M, 2), map_z (M, d), map_labels (M,) for a class-balanced subset of points.
    """
    mu = codes.cpu()
    labels = labels.cpu()
    centroids = torch.stack([
        mu[labels == c].mean(0) if (labels == c).any() else torch.zeros(mu.shape[1])
        for c in range(num_classes)
    ])
    pca_mean = mu.mean(0)
    # Top-2 principal directions of the codes (SVD of the centred matrix).
    _, _, v = torch.linalg.svd(mu - pca_mean, full_matrices=False)
    components = v[:2]
    chosen = _balanced_subset(labels, map_points, num_classes)
    return {
        "centroids": centroids,
        "pca_mean": pca_mean,
        "pca_components": components,
        "map_xy": project(mu[chosen], pca_mean, components),
        "map_z": mu[chosen],
        "map_labels": labels[chosen],
    }


def _balanced_subset(labels: torch.Tensor, total: int, num_classes: int) -> torch.Tensor:
    per_class = max(1, total // num_classes)
    picks = [torch.nonzero(labels == c).flatten()[:per_class] for c in range(num_classes)]
    return torch.cat(picks)


def project(z: torch.Tensor, pca_mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Return the 2-D PCA coordinates (N, 2) of latent codes z (N, d)."""
    return (z - pca_mean) @ components.T


def unproject(xy: torch.Tensor, pca_mean: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """Return the latent code (N, d) on the PCA plane at 2-D coordinates xy (N, 2)."""
    return pca_mean + xy @ components


def load_analysis(folder) -> dict[str, torch.Tensor]:
    """Return the latent analysis tensors stored with an autoencoder's checkpoint folder (its ORDER_KEYS score included)."""
    config = read_config(folder)
    order_key = ORDER_KEYS.get(config["model_type"])
    if order_key is None:
        raise i18n.Sentence("genmodels.latent.not_autoencoder")  # the folder is a server path: not in the sentence
    analysis = load_tensor_file(folder, LATENT_FILE, config)
    # A damaged or foreign file must fail here, with a sentence, not later in the explorer as a KeyError.
    ranks = {order_key: 1, "centroids": 2, "pca_mean": 1, "pca_components": 2, "map_xy": 2, "map_z": 2,
             "map_labels": 1}
    if not all(name in analysis and analysis[name].dim() == rank for name, rank in ranks.items()):
        raise i18n.Sentence("genmodels.latent.incomplete", file=LATENT_FILE)
    d = analysis["pca_mean"].shape[0]
    widths = [analysis[name].shape[-1] for name in (order_key, "centroids", "pca_components", "map_z")]
    if widths != [d] * 4 or analysis["map_xy"].shape[-1] != 2 or len(analysis["map_labels"]) != len(analysis["map_z"]):
        raise i18n.Sentence("genmodels.latent.wrong_width", file=LATENT_FILE, dims=d)
    return analysis


def kl_order(kl_per_dim: torch.Tensor) -> list[int]:
    """Return latent dimension indices sorted by their score (KL, or a code variance), largest first."""
    return torch.argsort(kl_per_dim, descending=True).tolist()


def lerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Return `steps` codes (steps, d) on the straight line from z0 to z1."""
    t = torch.linspace(0, 1, steps, device=z0.device).unsqueeze(1)
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """Return `steps` codes (steps, d) on the great-circle path from z0 to z1 (White, 2016).

    Under a Gaussian prior the straight line passes through low-norm, atypical codes; the
    spherical path keeps the norm typical. Falls back to lerp when the angle is ~0.
    """
    t = torch.linspace(0, 1, steps, device=z0.device).unsqueeze(1)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-8)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:
        return lerp(z0, z1, steps)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def traversal(z: torch.Tensor, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """Return codes (len(dims) * len(values), d): z with each dim in `dims` swept over `values`."""
    rows = []
    for dim in dims:
        block = z.repeat(len(values), 1)
        block[:, dim] = values
        rows.append(block)
    return torch.cat(rows)
