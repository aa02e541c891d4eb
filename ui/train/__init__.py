"""Train tab: launch background training jobs, watch them learn live, cancel, resume, open in the explorer.

    layout.py  the components, each form input built from its setting's one definition
    page.py    TrainPage: per-visitor state and one handler per event, wired in its constructor
    views.py   pure formatting: status, queue position, progress bar, curves, job table
    compare.py the "Compare runs" view's formatting: the finished runs' table, filter, sort and pictures
    experiments.py  ready-made class experiments that fill the form (a β sweep, a 2-D latent space, RNN cells)
    api.py     the named endpoints /train, /job, /cancel, /resume, /jobs, /runs
"""

import gradio as gr

from jobs.compare import RunComparison
from ui.language import words

from .api import wire_api
from .page import TrainPage

__all__ = ["TrainPage", "build_train_tab"]


def build_train_tab(registry, jobs, explore, tabs: gr.Tabs, train_tab: gr.Tab | None = None) -> TrainPage | None:
    """Build the Train tab inside the current Blocks with its endpoints; return its page (None without a runner).

    `explore` is the Explore tab's handle (its model selector opens a finished run); `tabs` and
    `train_tab` tell the page when it is visible, so it polls the job files only then.
    """
    if jobs is None:
        gr.Markdown(words("train.not_available_here"))
        return None
    comparison = RunComparison(jobs)  # one for the page and /runs: each run is built once
    page = TrainPage(registry, jobs, explore, tabs, train_tab, comparison)
    wire_api(jobs, comparison)
    return page
