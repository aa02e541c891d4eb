"""The Explore tab's "Autoencoder against VAE" section: codes drawn from N(0, I) through both decoders, side by side.

The same codes go through the shipped plain autoencoder's decoder and the shipped VAE's: the VAE's
KL term pulled its codes onto the prior, so its decoder has learned the whole of N(0, I); the
autoencoder's codes sit elsewhere, so most prior codes land in its holes and decode to smudges.
"""

from dataclasses import dataclass

import gradio as gr
import torch

from ui.errors import user_errors

from . import render
from .actions import MAX_SEED
from .models import ViewCache
from .page import QUIET

PAIR = ("ae-mnist", "vae-mnist")  # the plain autoencoder and the VAE trained alike (docs/training.md)
SAMPLES = 16  # codes drawn per press, decoded by each model
COLUMNS = 4
WHY = ("The same 16 codes, drawn from N(0, I), go through both decoders. The autoencoder's look broken "
       "because its codes do not fill the prior: nothing made them, so most of these codes fall into holes "
       "it never learned; the VAE's KL term pulls its codes onto N(0, I), so its decoder knows the whole "
       "region.")


@dataclass
class ContrastPanel:
    """The section's components: the two sample grids, the button and the seed shown."""

    autoencoder: gr.Image
    vae: gr.Image
    redraw: gr.Button
    seed: gr.State


def prior_samples(views: ViewCache, seed: int) -> tuple:
    """Return (autoencoder's, VAE's) tiled pictures of SAMPLES codes drawn from N(0, I) with torch seed `seed`."""
    ae, vae = (views.get(name) for name in PAIR)
    if ae.dims != vae.dims:
        raise ValueError("The autoencoder and the VAE compared here have latent codes of different sizes.")
    z = torch.randn(SAMPLES, vae.dims, generator=torch.Generator().manual_seed(seed)).numpy()
    return render.tiles(ae.decode(z), COLUMNS), render.tiles(vae.decode(z), COLUMNS)


def available(registry) -> bool:
    """Return True when both checkpoints of the comparison are installed."""
    names = registry.names()
    return all(name in names for name in PAIR)


class ContrastSection:
    """Samples from the prior through the plain autoencoder and the VAE; a button draws new codes."""

    def __init__(self, views: ViewCache):
        self.views = views
        first_ae, first_vae = prior_samples(views, 0)
        with gr.Accordion("Autoencoder against VAE: samples from the prior", open=True, elem_id="ll-contrast"):
            gr.Markdown(WHY, elem_id="ll-contrast-why")
            with gr.Row():
                ae = gr.Image(first_ae, label=f"plain autoencoder ({PAIR[0]})", interactive=False, format="png",
                              elem_id="ll-contrast-ae", buttons=[])
                vae = gr.Image(first_vae, label=f"VAE ({PAIR[1]})", interactive=False, format="png",
                               elem_id="ll-contrast-vae", buttons=[])
            redraw = gr.Button("Draw 16 new codes", size="sm", elem_id="ll-contrast-redraw")
        self.panel = ContrastPanel(ae, vae, redraw, gr.State(0))

    def on_redraw(self, seed):
        """Return both grids for the next seed, and that seed."""
        seed = (int(seed or 0) + 1) % (MAX_SEED + 1)
        ae, vae = prior_samples(self.views, seed)
        return ae, vae, seed

    def wire(self):
        """Attach the button."""
        p = self.panel
        p.redraw.click(user_errors(self.on_redraw), [p.seed], [p.autoencoder, p.vae, p.seed], **QUIET)
