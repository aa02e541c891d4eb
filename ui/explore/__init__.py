"""Explore tab: latent sliders, random samples, upload and drawing, the RNN readout, the latent map,
interpolation, a presentation layout for the classroom, and the named API.

Gradio glue only: layout in layout.py, events in page.py, pictures in render.py, the per-model
view cache in models.py, plain actions in actions.py, the panel "How the VAE sees this digit" in
explain.py, samples from the prior through a plain autoencoder and the VAE side by side in
contrast.py, the endpoints /decode, /sample, /reconstruct, /classify and /explain in api.py; the look
and the in-page scripts beside them.
"""

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ui.errors import user_errors

from .api import API_FILES, wire_api
from .contrast import ContrastSection, available
from .explain import ExplainSection
from .layout import EXPLORE_CSS
from .models import ViewCache
from .page import ExplorePage

__all__ = ["API_FILES", "EXPLORE_CSS", "SHOW_DIGIT_JS", "ExploreTab", "LoadHook", "build_explore_tab"]

# What a button elsewhere that opens a model here runs in the page once the tab is shown, e.g. the Train
# tab's "Open in explorer": button.click(handler, ...).success(None, js=SHOW_DIGIT_JS). It brings the model
# row, the digit and its sliders into view (explore.js, window.llShowDigit).
SHOW_DIGIT_JS = "() => { window.llShowDigit && window.llShowDigit(); }"


@dataclass
class LoadHook:
    """What the page must run when it opens: demo.load(hook.fn, hook.inputs, hook.outputs, api_visibility="private")."""

    fn: Callable
    inputs: list
    outputs: list


@dataclass
class ExploreTab:
    """What the app and other tabs need from the Explore tab.

    model_selector: the model list (the Train tab sets it to open a run's checkpoint).
    on_load: the page-open handler (restores ?model=...&z=... links) for the app to attach with demo.load.
    views: the tab's models and readers (ui/inpage.py hands them to pages).
    """

    model_selector: gr.Dropdown
    on_load: LoadHook
    views: ViewCache


def build_explore_tab(registry) -> ExploreTab:
    """Build the Explore tab inside the current Blocks, wire its events and its API; return handles for the app."""
    with gr.Column(elem_id="ll-explore"):
        page = ExplorePage(registry)
        contrast = ContrastSection(page.views) if available(registry) else None
        explain = ExplainSection(page)
        page.build_tools()
    page.wire()
    explain.wire()
    if contrast is not None:
        contrast.wire()
    wire_api(page.views)
    return ExploreTab(model_selector=page.model.selector,
                      on_load=LoadHook(user_errors(page.on_load), [], page.model_change_outputs),
                      views=page.views)
