"""The Explore tab's "Autoencoder against VAE" section: codes drawn from N(0, I) through both decoders, side by side.

The same codes go through the shipped plain autoencoder's decoder and the shipped VAE's: the VAE's
KL term pulled its codes onto the prior, so its decoder has learned the whole of N(0, I); the
autoencoder's codes sit elsewhere, so most prior codes land in its holes and decode to smudges.
Its words are catalogue texts (i18n/, keys contrast.*).
"""

from dataclasses import dataclass

import gradio as gr
import torch

import i18n
from ui.errors import user_errors
from ui.language import words

from . import render
from .actions import MAX_SEED
from .models import ViewCache
from .page import QUIET

PAIR = ("ae-mnist", "vae-mnist")  # the plain autoencoder and the VAE trained alike (docs/training.md)
# Codes drawn per press, decoded by each model. The texts contrast.why and contrast.redraw say the number
# themselves (a test checks it): Gradio's page cannot show words() with parameters (a "}" ends its marker).
SAMPLES = 16
COLUMNS = 4


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
        raise i18n.Sentence("contrast.different_sizes")
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
        with gr.Accordion(words("contrast.title"), open=True, elem_id="ll-contrast"):
            gr.Markdown(words("contrast.why"), elem_id="ll-contrast-why")
            # Side by side on a phone too (min_width): the comparison is the point, and the pair fits on the screen
            # above the lesson's dock.
            with gr.Row(elem_id="ll-contrast-pair"):
                ae = gr.Image(first_ae, label=words("contrast.autoencoder") + f" · {PAIR[0]}", interactive=False, format="png",
                              elem_id="ll-contrast-ae", buttons=[], min_width=120)
                vae = gr.Image(first_vae, label=words("contrast.vae") + f" · {PAIR[1]}", interactive=False, format="png",
                               elem_id="ll-contrast-vae", buttons=[], min_width=120)
            redraw = gr.Button(words("contrast.redraw"), size="sm", elem_id="ll-contrast-redraw")
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
