"""The Train tab's named HTTP endpoints (/train, /job, /cancel, /resume, /jobs) for gradio_client and plain HTTP.

Each endpoint is a plain typed function that checks its own arguments, then calls the same
runner method as the page. Anything a caller gets wrong, a missing argument included, comes
back as one sentence (through ui.errors.user_errors), never as a traceback in the server log.

    from gradio_client import Client
    client = Client("http://127.0.0.1:7860/")
    job_id = client.predict({"model": "vae", "epochs": 5, "name": "first try"}, "my-secret-token", api_name="/train")
    client.predict(job_id, "my-secret-token", api_name="/job")["status"]     # the log tail comes to the owner only
"""

import gradio as gr

from genmodels.settings import parse
from jobs.settings import form_fields, model_type_of
from ui.errors import check_calls, user_errors

TOKEN_MIN_CHARS = 8
# A cancel can wait seconds for its job to stop: at most this many server threads wait at once,
# shared by the page's Cancel button and /cancel.
CANCEL_CONCURRENCY = dict(concurrency_limit=2, concurrency_id="train-cancel")


def check_owner_token(owner_token) -> str:
    """Return the owner token a caller sent; ValueError with a sentence when it is missing or too short."""
    if owner_token is None:
        raise ValueError("owner_token is missing: send the secret text (at least 8 characters) "
                         "that you use to start, cancel and resume your jobs.")
    if not isinstance(owner_token, str) or len(owner_token.strip()) < TOKEN_MIN_CHARS:
        raise ValueError("owner_token must be a secret string of at least 8 characters that you keep "
                         "(the same token cancels or resumes the job later).")
    return owner_token.strip()


def check_more_epochs(epochs) -> int:
    """Return the epochs to add on resume as a whole number; ValueError with a sentence when it is not one."""
    if epochs is None:
        raise ValueError("epochs is missing: send how many more epochs to train, e.g. 5.")
    # The setting's own parser gives the sentence for text, fractions, NaN and out-of-range values.
    return parse(form_fields(model_type_of({}))["epochs"], epochs)


def wire_api(jobs) -> None:
    """Register /train, /job, /cancel, /resume and /jobs on the current Blocks, calling `jobs` (a JobRunner)."""

    @user_errors
    def train(settings: dict, owner_token: str) -> str:
        """Queue a training job and return its job id.

        settings: {model ('vae', 'rnn' or 'writer'), name (up to 40 characters), dataset, epochs,
        batch_size, lr, latent_dim, hidden_size, beta, kl_warmup, cell, augment, seed, device};
        owner_token: your secret (at least 8 characters), needed to cancel or resume the job.
        """
        if settings is None:
            raise ValueError('settings is missing: send a JSON object such as {"model": "vae", "epochs": 5}.')
        return jobs.submit_settings(settings, check_owner_token(owner_token))

    @user_errors
    def job(job_id: str, owner_token: str = "") -> dict:
        """Return a job's status and metrics, and to its owner (owner_token) the end of its log.

        Keys include status, title (the run's name), name (its model name in the explorer),
        epochs_done, target_epochs, fraction (0-1), eta_s, figures, error, metrics, sample_epochs, log_tail.
        """
        if owner_token is None:
            owner_token = ""
        if not isinstance(owner_token, str):
            raise ValueError("owner_token must be text (leave it out to see a job without its log).")
        view = jobs.status(job_id)
        view["metrics"] = jobs.metrics(job_id)
        view["sample_epochs"] = sorted(jobs.sample_grids(job_id))
        view["log_tail"] = jobs.log_tail(job_id, owner_token, 3000)
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
        return jobs.list_jobs()

    gr.api(train, api_name="train", concurrency_limit=None)
    gr.api(job, api_name="job", concurrency_limit=None)
    gr.api(cancel, api_name="cancel", **CANCEL_CONCURRENCY)
    gr.api(resume, api_name="resume", concurrency_limit=None)
    gr.api(list_jobs, api_name="jobs", concurrency_limit=None)
    check_calls({"train": train, "job": job, "cancel": cancel, "resume": resume, "jobs": list_jobs})
