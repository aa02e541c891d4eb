"""Training augmentation for what real hands and pens do that MNIST's digits rarely show.

MNIST's strokes are 2-3 pixels wide with soft, anti-aliased edges, and its writers' hands are
steady. Digits written by students and prepared by genmodels.preprocess come with a wider range:
strokes grown or thinned to MNIST's range (hard-edged and saturated), wobbly lines, stretched loops.
vary_strokes draws, per image, a stroke width (a fraction of a 3x3 dilation or erosion), an ink
contrast (a gain that saturates the strokes) and a smooth elastic displacement of the pixels
(Simard et al. 2003, "Best practices for convolutional neural networks applied to visual document
analysis"). Only for training data: validation and test images are never augmented.
"""

import torch
import torch.nn.functional as F
from torchvision.transforms.v2.functional import gaussian_blur

STROKE_CHANGE = 0.5  # the stroke is moved up to this fraction of a one-pixel dilation (or erosion) each side
MAX_GAIN = 2.0  # the ink is multiplied by 1 to this, then clipped: from MNIST's soft edges to hard saturated ones
ELASTIC_ALPHA = 0.8  # the displacement's typical size, pixels
ELASTIC_SIGMA = 4.0  # ... smoothed over this many pixels (Gaussian), so strokes bend instead of breaking up


def vary_strokes(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return a batch (N,1,H,W) in [0,1] with each image's stroke width, ink contrast and shape varied at random."""
    n = images.shape[0]
    rand = lambda *shape: torch.rand(n, *shape, generator=generator).to(images.device)  # noqa: E731
    # Width: blend towards a 3x3 dilation (thicker) or erosion (thinner), by a random fraction.
    thicker = F.max_pool2d(images, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-images, 3, stride=1, padding=1)
    change = (rand(1, 1, 1) * 2 - 1) * STROKE_CHANGE
    images = torch.where(change > 0, images + change * (thicker - images), images - change * (thinner - images))
    # Contrast: a gain of 1 keeps MNIST's soft edges, a larger one saturates them as a pen's ink.
    images = (images * (1 + rand(1, 1, 1) * (MAX_GAIN - 1))).clamp(0, 1)
    return elastic(images, generator)


def elastic(images: torch.Tensor, generator: torch.Generator | None = None, alpha: float = ELASTIC_ALPHA,
            sigma: float = ELASTIC_SIGMA) -> torch.Tensor:
    """Return a batch (N,1,H,W) warped by smooth random displacements of about `alpha` pixels (smoothed over `sigma`)."""
    n, _, height, width = images.shape
    noise = torch.randn(n, 2, height, width, generator=generator).to(images.device)
    size = int(4 * sigma) | 1  # an odd kernel of about +-2 sigma
    field = gaussian_blur(noise, [size, size], [sigma, sigma])
    # Scale so the displacement's standard deviation is alpha pixels, in grid_sample's [-1, 1] units.
    field = field / field.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6) * alpha
    field = field * torch.tensor([2 / width, 2 / height], device=images.device).view(1, 2, 1, 1)
    identity = F.affine_grid(torch.eye(2, 3, device=images.device).expand(n, 2, 3), list(images.shape),
                             align_corners=False)
    return F.grid_sample(images, identity + field.permute(0, 2, 3, 1), mode="bilinear", padding_mode="zeros",
                         align_corners=False)
