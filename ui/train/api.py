"""The Train tab's named HTTP endpoints (/train, /job, /cancel, /resume, /jobs, /runs) for gradio_client and plain HTTP.

Each endpoint is a plain typed function that checks its own arguments, then calls the same
runner method as the page. Anything a caller gets wrong, a missing argument included, comes
back as one sentence (through ui.errors.user_errors), never as a traceback in the server log.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    job_id = client.predict({"model": "vae", "epochs": 5, "name": "first try"}, "my-secret-token", api_name="/train")
    client.predict(job_id, "my-secret-token", api_name="/job")["status"]     # the log tail comes to the owner only
    client.predict("vae", "beta", api_name="/runs")                            # the finished VAEs, smallest beta first
"""

import base64

import gradio as gr

import i18n
from genmodels.settings import parse
from jobs.compare import RunComparison
from jobs.records import FINISHED
from jobs.settings import form_fields, model_type_of, owner_seed
from ui.errors import check_calls, user_errors

from .views import QUEUE_KEYS

TOKEN_MIN_CHARS = 8
CURSOR_CHARS = 60  # a metrics cursor is a few digits; longer text is not one
# A cancel can wait seconds for its job to stop: at most this many server threads wait at once,
# shared by the page's Cancel button and /cancel.
CANCEL_CONCURRENCY = dict(concurrency_limit=2, concurrency_id="train-cancel")


def check_owner_token(owner_token) -> str:
    """Return the owner token a caller sent; ValueError with a sentence when it is missing or too short."""
    if owner_token is None:
        raise i18n.Sentence("train.api.token_missing")
    if not isinstance(owner_token, str) or len(owner_token.strip()) < TOKEN_MIN_CHARS:
        raise i18n.Sentence("train.api.token_short")
    return owner_token.strip()


def check_more_epochs(epochs) -> int:
    """Return the epochs to add on resume as a whole number; ValueError with a sentence when it is not one."""
    if epochs is None:
        raise i18n.Sentence("train.api.epochs_missing")
    # The setting's own parser gives the sentence for text, fractions, NaN and out-of-range values.
    return parse(form_fields(model_type_of({}))["epochs"], epochs)


def with_queue_keys(view: dict) -> dict:
    """Return a status view with every queue figure present (None where the runner gives none)."""
    return {**{key: None for key in QUEUE_KEYS}, **view}


def wire_api(jobs, comparison: RunComparison) -> None:
    """Register /train, /job, /cancel, /resume, /jobs and /runs on the current Blocks, calling `jobs` (a JobRunner)
    and `comparison` (its finished runs)."""

    @user_errors
    def train(settings: dict, owner_token: str, class_code: str = "") -> str:
        """Queue a training job and return its job id.

        settings: {model ('vae', 'rnn' or 'writer'), name (up to 40 characters), dataset, epochs,
        batch_size, lr, latent_dim, hidden_size, beta, kl_warmup, cell, augment, seed (default: one drawn from
        your owner_token), device};
        owner_token: your secret (at least 8 characters), needed to cancel or resume the job;
        class_code: the code your teacher gave you, where the server asks for one.
        """
        if settings is None:
            raise i18n.Sentence("train.api.settings_missing")
        owner_token = check_owner_token(owner_token)
        if isinstance(settings, dict) and settings.get("seed") in (None, ""):
            settings = {**settings, "seed": owner_seed(owner_token)}  # students' default runs differ
        return jobs.submit_settings(settings, owner_token, class_code)

    @user_errors
    def job(job_id: str, owner_token: str = "", since: str = "") -> dict:
        """Return a job's status and what its metrics gained since `since`, and to its owner (owner_token) the end
        of its log.

        Keys include status, title (the run's name), name (its model name in the explorer),
        epochs_done, target_epochs, fraction (0-1), eta_s, queue_position (1 = next to start, None when
        not queued), eta_start_s and eta_finish_s (seconds from now, None when unknown), figures, error,
        problem (a sentence when the job's files are damaged), metrics, sample_epochs, log_tail.
        metrics holds epochs and steps, cursor and complete: pass the cursor back as `since` to get only
        the new ones (complete is then false: append them); complete true means the whole history.
        error and problem are sentences in the language of your Accept-Language header (English or zh-CN).
        """
        if owner_token is None:
            owner_token = ""
        if not isinstance(owner_token, str):
            raise i18n.Sentence("train.api.token_text")
        if since is not None and not isinstance(since, str):
            raise i18n.Sentence("train.api.since")
        view = with_queue_keys(jobs.status(job_id))
        view["metrics"] = jobs.metrics_since(job_id, since[:CURSOR_CHARS] if since else None)
        view["sample_epochs"] = sorted(jobs.sample_grids(job_id))
        owner_token = owner_token.strip()  # as cancel and resume strip it
        view["log_tail"] = jobs.log_tail(job_id, owner_token, 3000)
        if view["status"] in FINISHED and owner_token:
            jobs.opened(job_id, owner_token)  # its owner saw it finish: retention keeps it longer
        return view

    @user_errors
    def cancel(job_id: str, owner_token: str) -> str:
        """Cancel a queued or running job you started; return its status afterwards (normally 'cancelled')."""
        return jobs.cancel(job_id, check_owner_token(owner_token))

    @user_errors
    def resume(job_id: str, owner_token: str, epochs: int) -> str:
        """Queue `epochs` more epochs of a stopped job you started; return its job id."""
        return jobs.resume(job_id, check_owner_token(owner_token), check_more_epochs(epochs))

    @user_errors
    def list_jobs() -> list:
        """Return every job's status view, newest first."""
        return [with_queue_keys(view) for view in jobs.list_jobs()]

    @user_errors
    def runs(model: str = "all", sort_by: str = "newest", pictures: bool = False) -> list:
        """Return every finished run with its settings and best validation figures, for comparing them.

        model: 'all', 'vae', 'rnn' or 'writer'; sort_by: 'newest', 'best' (each model's own rule), a
        setting (e.g. 'beta', 'latent_dim', 'lr') or a figure (e.g. 'val_nelbo'; losses smallest first,
        accuracy largest first); pictures: true adds grid_png, the last epoch's picture grid as a data: URL.
        Each run: id, name (its model name in the explorer), title, model_type, dataset, epochs,
        finished (Unix time, s), settings {key: value}, figures (val_* in nats per image, val_accuracy
        0-1, best_epoch), grid_epoch (the epoch of its picture grid, None when it has none).
        """
        if not isinstance(pictures, bool):
            raise i18n.Sentence("train.api.pictures")
        found = comparison.runs(model, sort_by)
        out = [run.as_dict() for run in found]
        if pictures:
            for listed, run in zip(out, found):
                png = comparison.grid_png(run)
                listed["grid_png"] = "data:image/png;base64," + base64.b64encode(png).decode() if png else None
        return out

    gr.api(train, api_name="train", concurrency_limit=None)
    gr.api(job, api_name="job", concurrency_limit=None)
    gr.api(cancel, api_name="cancel", **CANCEL_CONCURRENCY)
    gr.api(resume, api_name="resume", concurrency_limit=None)
    gr.api(list_jobs, api_name="jobs", concurrency_limit=None)
    gr.api(runs, api_name="runs", concurrency_limit=None)
    check_calls({"train": train, "job": job, "cancel": cancel, "resume": resume, "jobs": list_jobs, "runs": runs})
