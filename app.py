"""Latent Lab: explore a VAE's latent space and watch an RNN read digits. `python app.py` serves it.

Layout and wiring only: each tab lives in its own module under ui/, and all model work is done
by the genmodels package, which never imports gradio.
"""

import os

import gradio as gr

from genmodels.jobs import JobManager
from genmodels.preprocess import MAX_BYTES as MAX_UPLOAD_BYTES
from genmodels.registry import ModelRegistry
from ui.explore import EXPLORE_CSS, build_explore_tab
from ui.train_tab import build_train_tab


def build_app(registry: ModelRegistry | None = None, runs_dir=None) -> gr.Blocks:
    """Return the Latent Lab Blocks app over `registry` (shipped checkpoints + runs) and its runs folder."""
    if registry is None:
        registry = ModelRegistry(runs_dir=runs_dir) if runs_dir else ModelRegistry()
    # Background training; LATENT_LAB_TRAINING=off (public hosting) turns it off.
    jobs = JobManager.from_env(runs_dir or registry.runs_dir)
    # delete_cache: uploads and rendered images older than an hour are removed every hour, so a
    # long-running public app does not fill its disk.
    with gr.Blocks(title="Latent Lab", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Latent Lab\nExplore what a variational autoencoder learned, "
                    "and watch an RNN read digits row by row.")
        with gr.Tabs() as tabs:
            with gr.Tab("Explore", id="explore"):
                explore = build_explore_tab(registry)
            with gr.Tab("Train", id="train") as train_tab:
                build_train_tab(registry, jobs, explore=explore, tabs=tabs, train_tab=train_tab)
        # On page open the explorer reads ?model=...&z=... and refreshes its model list.
        demo.load(explore.on_load.fn, explore.on_load.inputs, explore.on_load.outputs, api_visibility="private")
    return demo


def serve(demo: gr.Blocks, **launch_kwargs):
    """Queue and launch `demo` with the app's settings (tests use the same path as `python app.py`)."""
    launch_kwargs.setdefault("server_name", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    launch_kwargs.setdefault("server_port", int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    # Uploads above this are refused by the server before any handler sees them.
    launch_kwargs.setdefault("max_file_size", MAX_UPLOAD_BYTES)
    launch_kwargs.setdefault("css", EXPLORE_CSS)
    return demo.queue(default_concurrency_limit=4).launch(**launch_kwargs)


if __name__ == "__main__":
    serve(build_app())
