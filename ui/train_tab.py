"""Train tab: launch background training jobs, watch them learn live, cancel, resume, open in the explorer.

All training work happens in the jobs package (own processes); this module only reads the job
files on a timer and wires buttons. The visitor's owner token and followed job live in the
browser (gr.BrowserState), so a reload keeps both; the job list itself is shared by everyone.
"""

import os
import secrets
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

from genmodels.data import DATASETS, dataset_availability
from genmodels.settings import specs
from genmodels.vae import VAEConfig
from jobs.records import ACTIVE
from ui import train_views as views
from ui.errors import user_errors

TABLE_LIMIT = 40  # newest jobs shown in the table
FAST_TICK_S, SLOW_TICK_S = 1.0, 4.0  # poll fast while something runs, slowly otherwise
_LATENT = specs(VAEConfig)["latent_dim"].spec
LATENT_DIM_RANGE = (_LATENT.low, _LATENT.high)
CANCEL_LIMIT = 2  # a cancel can wait seconds for the job to stop: at most this many server threads wait


def _browser_secret(runs_dir: Path) -> str:
    """Return the key that encrypts owner tokens in the browser, kept in the runs folder so it survives restarts."""
    path = Path(runs_dir) / ".browser_secret"
    if not path.is_file():
        tmp = path.with_name(f".browser_secret.tmp-{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(24))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return path.read_text().strip()


def _dataset_choices() -> tuple[list[tuple[str, str]], str]:
    """Return the data set dropdown choices and a Markdown note saying which are available and why not."""
    availability = dataset_availability()
    choices, notes = [], []
    for name in DATASETS:
        ok, reason = availability.get(name, (False, "unknown"))
        choices.append((name if ok else f"{name} (not available here)", name))
        notes.append(f"- **{name}**: {'available' if ok else 'not available'}: {reason}")
    return choices, "\n".join(notes)


def _check_api_token(owner_token) -> str:
    token = str(owner_token or "").strip()
    if len(token) < 8:
        raise ValueError("owner_token must be a secret string of at least 8 characters that you keep "
                         "(the same token cancels or resumes the job later).")
    return token


def _device_choices() -> list[str]:
    """Return the devices the form offers: auto, cpu, and each CUDA device this machine has."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["auto", "cpu"] + (["cuda"] if count else []) + ([f"cuda:{i}" for i in range(count)] if count > 1 else [])


def build_train_tab(registry, jobs, explore, tabs, train_tab=None) -> None:
    """Build the Train tab inside the current Blocks: form, live view, job table, API endpoints.

    The page polls the job files only while this tab is selected (`tabs.select` switches the
    timer on and off). `train_tab`, the gr.Tab holding this tab, gives its label; without it
    the label is taken to be "Train".
    """
    if jobs is None:
        gr.Markdown("Training is not available in this app.")
        return
    secret = _browser_secret(jobs.runs_dir)
    owner = gr.BrowserState("", storage_key="latent-lab-owner", secret=secret)
    followed = gr.BrowserState("", storage_key="latent-lab-followed-job", secret=secret)
    shown = gr.State({})  # what this page already shows, so timer ticks send only what changed

    dataset_choices, dataset_note = _dataset_choices()
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            gr.Markdown("### New training job")
            if not jobs.enabled:
                gr.Markdown("**Training is turned off on this server** . "
                            "Finished runs are still listed below and open in the explorer.")
            model = gr.Radio([("VAE", "vae"), ("RowRNN", "rnn")], value="vae", label="Model")
            dataset = gr.Dropdown(dataset_choices, value="mnist-5k", label="Data set")
            with gr.Accordion("Which data sets work here", open=False):
                gr.Markdown(dataset_note)
            with gr.Row():
                epochs = gr.Number(5, label=f"Epochs (1–{jobs.max_epochs})", precision=0, elem_id="train-epochs")
                batch_size = gr.Number(128, label="Batch size", precision=0)
            with gr.Row():
                lr = gr.Number(0.001, label="Learning rate")
                hidden = gr.Number(400, label="Hidden size", precision=0, elem_id="train-hidden")
            with gr.Group(visible=True) as vae_box:
                with gr.Row():
                    latent = gr.Number(20, label=f"Latent size ({LATENT_DIM_RANGE[0]}–{LATENT_DIM_RANGE[1]})",
                                       precision=0, minimum=LATENT_DIM_RANGE[0], maximum=LATENT_DIM_RANGE[1],
                                       elem_id="train-latent")
                    beta = gr.Number(1.0, label="Beta (KL weight)")
                    warmup = gr.Number(0, label="KL warm-up (epochs)", precision=0)
            with gr.Group(visible=False) as rnn_box:
                cell = gr.Dropdown([("plain RNN (tanh)", "rnn"), ("GRU", "gru"), ("LSTM", "lstm")], value="rnn",
                                   label="Cell")
            with gr.Row():
                augment = gr.Checkbox(False, label="Augment (small rotations, shifts, scales)")
                seed = gr.Number(0, label="Seed", precision=0)
            device = gr.Dropdown(_device_choices(), value="auto", label="Device (auto = CUDA when available)")
            launch = gr.Button("Start training", variant="primary", interactive=jobs.enabled, elem_id="train-launch")
        with gr.Column(scale=2):
            status_md = gr.Markdown(views.status_markdown(None), elem_id="train-status")
            progress = gr.HTML("", elem_id="train-progress")
            loss_plot = gr.LinePlot(None, x="epoch", y="value",
                                    color="series", label="Loss (nats)", x_title="epoch", y_title="loss",
                                    height=280, elem_id="train-loss-plot")
            acc_plot = gr.LinePlot(None, x="epoch", y="value", color="series",
                                   label="Accuracy (%)", x_title="epoch", y_title="accuracy (%)", height=220,
                                   visible=False, elem_id="train-accuracy-plot")
            with gr.Row():
                grid = gr.Image(label="Rows: validation images, their reconstructions, prior samples",
                                interactive=False, visible=False, height=200, elem_id="train-grid")
                grid_epoch = gr.Slider(1, 2, value=1, step=1, label="Epoch (scrub back)", visible=False,
                                       elem_id="train-grid-epoch")
            with gr.Row():
                cancel_btn = gr.Button("Cancel job", variant="stop", interactive=False, elem_id="train-cancel")
                more_epochs = gr.Number(5, label="More epochs", precision=0, min_width=100)
                resume_btn = gr.Button("Resume", interactive=False, elem_id="train-resume")
                open_btn = gr.Button("Open in explorer", interactive=False, elem_id="train-open")
            with gr.Accordion("Log", open=False, elem_id="train-log-box"):
                log = gr.Textbox(lines=12, max_lines=20, show_label=False, interactive=False, elem_id="train-log")
    gr.Markdown("### All jobs\nClick a row (or pick an id) to follow that job again.")
    picker = gr.Dropdown([], value=None, label="Follow job", allow_custom_value=True, elem_id="train-picker")
    table = gr.Dataframe(views.empty_table(), interactive=False, wrap=True, elem_id="train-table")
    timer = gr.Timer(FAST_TICK_S, active=False)  # switched on while the Train tab is selected
    tab_label = train_tab.label if train_tab is not None else "Train"

    live_outputs = [status_md, progress, loss_plot, acc_plot, grid, grid_epoch, cancel_btn, resume_btn,
                    open_btn, log, table, picker, timer, shown]

    # ------------------------------------------------------------------ rendering
    def on_render(job_id, token, seen, active=None) -> dict:
        """Return updates for the live outputs that changed since `seen` (cheap file reads only).

        `active` True/False also switches the polling timer on or off.
        """
        seen = dict(seen or {})
        out = {}

        def put(key, signature, component, make):
            if seen.get(key) != signature:
                seen[key] = signature
                out[component] = make()

        job_views = jobs.list_jobs(limit=TABLE_LIMIT)
        view = next((v for v in job_views if v["id"] == job_id), None)
        if view is None and job_id:
            try:
                view = jobs.status(job_id)
            except ValueError:
                view = None
        owned: dict[str, bool] = {}

        def mine(jid):
            if jid not in owned:
                owned[jid] = bool(token) and jobs.is_owner(jid, token)
            return owned[jid]

        rows = views.table_rows(job_views, mine)
        put("table", rows, table, lambda: gr.Dataframe(value=rows or views.empty_table(), headers=views.TABLE_COLUMNS))
        ids = [v["id"] for v in job_views]
        put("picker", (ids, job_id), picker, lambda: gr.Dropdown(choices=ids, value=job_id or None))
        busy = any(v["status"] in ACTIVE for v in job_views)
        interval = FAST_TICK_S if busy else SLOW_TICK_S
        put("timer", busy, timer, lambda: gr.Timer(interval))
        if active is not None:
            out[timer] = gr.Timer(interval, active=active)

        status_text, bar = views.status_markdown(view), views.progress_html(view)
        put("status", status_text, status_md, lambda: status_text)
        put("progress", bar, progress, lambda: bar)
        is_mine = bool(view) and mine(view["id"])
        buttons = (view and view["id"], view and view["status"], is_mine, view and view["can_resume"])
        if seen.get("buttons") != buttons:
            seen["buttons"] = buttons
            out[cancel_btn] = gr.Button(interactive=bool(view) and is_mine and view["status"] in ACTIVE)
            out[resume_btn] = gr.Button(interactive=bool(view) and is_mine and view["can_resume"])
            out[open_btn] = gr.Button(interactive=bool(view) and view["has_checkpoint"]
                                      and view["model_type"] == "vae")
        if view is None:
            put("plots", None, loss_plot, lambda: None)
            put("grids", None, grid, lambda: gr.Image(value=None, visible=False))
            if grid in out:
                out[grid_epoch] = gr.Slider(visible=False)
            put("log", "", log, lambda: "")
            return {**out, shown: seen}

        metrics = jobs.metrics(view["id"])
        signature = (view["id"], len(metrics["epochs"]), len(metrics["steps"]),
                     metrics["steps"][-1]["x"] if metrics["steps"] else None)
        is_rnn = view["model_type"] == "rnn"
        # An empty frame would fix the axes as categories in the browser: send None until there is data.
        has_data = bool(metrics["steps"] or metrics["epochs"])
        put("plots", signature, loss_plot, lambda: views.loss_frame(view["model_type"], metrics) if has_data else None)
        if loss_plot in out:
            out[acc_plot] = gr.LinePlot(value=views.accuracy_frame(metrics) if metrics["epochs"] else None,
                                        visible=is_rnn)
        grids = jobs.sample_grids(view["id"])
        last = max(grids) if grids else None
        put("grids", (view["id"], last), grid,
            lambda: gr.Image(value=Image.open(grids[last]).copy() if grids else None, visible=bool(grids)))
        if grid in out:
            out[grid_epoch] = gr.Slider(minimum=min(grids) if grids else 1, maximum=max(2, last or 2),
                                        value=last or 1, visible=len(grids) > 1)
        tail = jobs.log_tail(view["id"], token)
        put("log", (view["id"], len(tail), tail[-200:]), log, lambda: tail)
        return {**out, shown: seen}

    def on_follow(job_id, token):
        job_id = str(job_id or "").strip()
        return {followed: job_id, **on_render(job_id, token, {})}

    def on_tab_selected(job_id, token, seen, evt: gr.SelectData):
        if evt.value != tab_label:  # another tab: stop polling for this visitor
            return {timer: gr.Timer(active=False)}
        return on_render(job_id, token, seen, active=True)

    # ------------------------------------------------------------------ actions
    def on_start(model_type, dataset_name, n_epochs, batch, rate, n_latent, n_hidden, kl_beta, kl_warmup, cell_type,
              use_augment, seed_value, device_name, token):
        named = {"Epochs": n_epochs, "Batch size": batch, "Learning rate": rate, "Hidden size": n_hidden,
                 "Seed": seed_value}
        if model_type == "vae":
            named.update({"Latent size": n_latent, "Beta": kl_beta, "KL warm-up": kl_warmup})
        empty = [name for name, value in named.items() if value is None]
        if empty:
            raise gr.Error(f"Please fill in: {', '.join(empty)}.")
        settings = {"model": model_type, "dataset": dataset_name, "epochs": n_epochs, "batch_size": batch,
                    "lr": rate, "hidden_size": n_hidden, "augment": bool(use_augment), "seed": seed_value,
                    "device": device_name}
        if model_type == "vae":
            settings.update(latent_dim=n_latent, beta=kl_beta, kl_warmup=kl_warmup)
        else:
            settings["cell"] = cell_type
        token = token or secrets.token_urlsafe(18)  # first launch in this browser: make its owner token
        job_id = jobs.submit_settings(settings, token)
        gr.Info(f"Job {job_id} queued; it starts as soon as a slot is free.")
        return {owner: token, **on_follow(job_id, token)}

    def on_cancel(job_id, token):
        if not job_id:
            raise gr.Error("Pick a job to cancel first.")
        status = jobs.cancel(job_id, token)
        gr.Info(f"Job {job_id} is {status}.")
        return on_render(job_id, token, {})

    def on_resume(job_id, token, n_epochs):
        if not job_id:
            raise gr.Error("Pick a job to resume first.")
        if n_epochs is None:
            raise gr.Error("Please fill in how many more epochs to train.")
        jobs.resume(job_id, token, n_epochs)
        gr.Info(f"Job {job_id} queued for {int(n_epochs)} more epochs.")
        return on_render(job_id, token, {})

    def on_open_in_explorer(job_id):
        if not job_id:
            raise gr.Error("Pick a job first.")
        view = jobs.status(job_id)
        if not view["has_checkpoint"]:
            raise gr.Error(f"Job {job_id} has no checkpoint yet: one is saved at the end of every epoch.")
        if view["model_type"] != "vae":
            raise gr.Error("This is a RowRNN run: the explorer opens VAE checkpoints.")
        names = registry.names("vae")
        if view["name"] not in names:
            raise gr.Error(f"The checkpoint of job {job_id} cannot be read; see its log.")
        # Switching tabs from code fires no select event, so the timer is switched off here.
        return gr.Dropdown(choices=names, value=view["name"]), gr.Tabs(selected="explore"), gr.Timer(active=False)

    def on_scrub(epoch, job_id):
        if not job_id:
            return gr.skip()
        grids = jobs.sample_grids(job_id)
        if not grids:
            return gr.skip()
        epoch = min(grids, key=lambda e: abs(e - int(epoch or 1)))  # nearest epoch that has a grid
        return Image.open(grids[epoch]).copy()

    def on_select_row(token, evt: gr.SelectData):
        row = evt.row_value or []
        return on_follow(row[0] if row else "", token)

    def on_model_changed(model_type):
        is_vae = model_type == "vae"
        return gr.Group(visible=is_vae), gr.Group(visible=not is_vae), (400 if is_vae else 128)

    private = {"api_visibility": "private"}
    model.change(on_model_changed, model, [vae_box, rnn_box, hidden], **private)
    launch.click(user_errors(on_start), [model, dataset, epochs, batch_size, lr, latent, hidden, beta, warmup, cell,
                                       augment, seed, device, owner], [owner, followed, *live_outputs], **private)
    timer.tick(user_errors(on_render), [followed, owner, shown], live_outputs, show_progress="hidden", **private)
    picker.input(user_errors(on_follow), [picker, owner], [followed, *live_outputs], **private)
    table.select(user_errors(on_select_row), [owner], [followed, *live_outputs], **private)
    tabs.select(user_errors(on_tab_selected), [followed, owner, shown], live_outputs, show_progress="hidden",
                **private)
    cancel_btn.click(user_errors(on_cancel), [followed, owner], live_outputs, concurrency_limit=CANCEL_LIMIT,
                     concurrency_id="train-cancel", **private)
    resume_btn.click(user_errors(on_resume), [followed, owner, more_epochs], live_outputs, **private)
    open_btn.click(user_errors(on_open_in_explorer), [followed], [explore.model_selector, tabs, timer], **private)
    grid_epoch.release(user_errors(on_scrub), [grid_epoch, followed], grid, show_progress="hidden", **private)

    _api_endpoints(jobs)


def _api_endpoints(jobs) -> None:
    """Register /train, /job, /cancel, /resume and /jobs for gradio_client and HTTP callers."""

    @user_errors
    def train(settings: dict, owner_token: str) -> str:
        """Queue a training job and return its job id.

        settings: {model, dataset, epochs, batch_size, lr, latent_dim (2-20), hidden_size, beta,
        kl_warmup, cell, augment, seed, device}; owner_token: your secret (>= 8 characters).
        """
        return jobs.submit_settings(settings, _check_api_token(owner_token))

    @user_errors
    def job(job_id: str, owner_token: str = "") -> dict:
        """Return a job's status and metrics, and to its owner (owner_token) the end of its log.

        Keys include status, epochs_done, target_epochs, fraction (0-1), eta_s, figures, error.
        """
        view = jobs.status(job_id)
        view["metrics"] = jobs.metrics(job_id)
        view["sample_epochs"] = sorted(jobs.sample_grids(job_id))
        view["log_tail"] = jobs.log_tail(job_id, owner_token, 3000)
        return view

    @user_errors
    def cancel(job_id: str, owner_token: str) -> str:
        """Cancel a queued or running job you started; return its status afterwards (normally 'cancelled')."""
        return jobs.cancel(job_id, owner_token)

    @user_errors
    def resume(job_id: str, owner_token: str, epochs: int) -> str:
        """Queue `epochs` more epochs of a stopped job you started; return its job id."""
        return jobs.resume(job_id, owner_token, epochs)

    def list_jobs() -> list:
        """Return every job's status view, newest first."""
        return jobs.list_jobs()

    gr.api(train, api_name="train", concurrency_limit=None)
    gr.api(job, api_name="job", concurrency_limit=None)
    gr.api(cancel, api_name="cancel", concurrency_limit=CANCEL_LIMIT, concurrency_id="train-cancel")
    gr.api(resume, api_name="resume", concurrency_limit=None)
    gr.api(list_jobs, api_name="jobs", concurrency_limit=None)

