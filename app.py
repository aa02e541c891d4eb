"""Latent Lab: explore a VAE's latent space and watch an RNN read digits. `python app.py` serves it.

Layout and wiring only: each tab lives in its own module under ui/, and all model work is done
by the genmodels package, which never imports gradio.
"""

import os

import gradio as gr

from genmodels.registry import ModelRegistry
from ui.explore import build_explore_tab
from ui.train_tab import build_train_tab


def build_app(registry: ModelRegistry | None = None, jobs=None) -> gr.Blocks:
    """Return the Latent Lab Blocks app over `registry` (shipped checkpoints + runs) and a job manager."""
    registry = registry or ModelRegistry()
    with gr.Blocks(title="Latent Lab") as demo:
        gr.Markdown("# Latent Lab\nExplore what a variational autoencoder learned, and watch an RNN read digits row by row.")
        with gr.Tabs() as tabs:
            with gr.Tab("Explore", id="explore"):
                explore = build_explore_tab(registry)
            with gr.Tab("Train", id="train"):
                build_train_tab(registry, jobs, explore=explore, tabs=tabs)
    return demo


if __name__ == "__main__":
    build_app().queue(default_concurrency_limit=4).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
