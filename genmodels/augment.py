"""Training augmentation for what real hands and pens do that MNIST's digits rarely show.

MNIST's strokes are 2-3 pixels wide with soft, anti-aliased edges. Digits written by students and
prepared by genmodels.preprocess come with a wider range: strokes grown or thinned to the edge of
MNIST's range, hard-edged and saturated. vary_strokes draws, per image, a stroke width (a fraction
of a 3x3 dilation or erosion) and an ink contrast (a gain that saturates the strokes). Elastic
distortion (Simard et al. 2003) of MNIST's own digits was tried as well and read real handwriting no
better, so it is left out (genmodels.printed bends its printed digits with it: type is too regular).
Only for training data: validation and test images are never augmented.
"""

import torch
import torch.nn.functional as F

STROKE_CHANGE = 0.5  # the stroke is moved up to this fraction of a one-pixel dilation (or erosion) each side
MAX_GAIN = 2.0  # the ink is multiplied by 1 to this, then clipped: from MNIST's soft edges to hard saturated ones


def vary_strokes(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return a batch (N,1,H,W) in [0,1] with each image's stroke width and ink contrast varied at random."""
    n = images.shape[0]
    rand = lambda: torch.rand(n, 1, 1, 1, generator=generator).to(images.device)  # noqa: E731
    # Width: blend towards a 3x3 dilation (thicker) or erosion (thinner), by a random fraction.
    thicker = F.max_pool2d(images, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-images, 3, stride=1, padding=1)
    change = (rand() * 2 - 1) * STROKE_CHANGE
    images = torch.where(change > 0, images + change * (thicker - images), images - change * (thinner - images))
    # Contrast: a gain of 1 keeps MNIST's soft edges, a larger one saturates them as a pen's ink.
    return (images * (1 + rand() * (MAX_GAIN - 1))).clamp(0, 1)
