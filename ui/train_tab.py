"""Train tab (placeholder until the training-tab issue lands)."""

import gradio as gr


def build_train_tab(registry, jobs, explore, tabs) -> None:
    gr.Markdown("Training from the page is not available yet.")
