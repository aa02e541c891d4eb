"""Explore tab (placeholder until the explorer issue lands)."""

from dataclasses import dataclass

import gradio as gr


@dataclass
class ExploreTab:
    model_selector: gr.Dropdown  # the Train tab sets this to open a finished run in the explorer


def build_explore_tab(registry) -> ExploreTab:
    selector = gr.Dropdown(choices=registry.names("vae"), value="vae-mnist", label="Model")
    return ExploreTab(model_selector=selector)
