"""The Train tab's page: its components, per-visitor state and one handler per event, wired in the constructor.

All training happens in the jobs package (one process per job); this page only reads the job
files and calls the runner. The visitor's owner token and followed job live in the browser
(gr.BrowserState), so a reload keeps both; the job list is shared by everyone.

When the page opens (its load event), the form gets a seed drawn for this visitor (so a class's default
runs differ) and its choices in the visitor's language, and the job the browser follows is shown and, while
it is queued or running, announced, whichever tab is open. Gradio puts a tab's content (the BrowserStates
among it) on the page only once the tab is opened, so the followed job's id is also kept in plain
localStorage (FOLLOWED_ID_KEY: a job id is public, the owner token stays encrypted) for the load to read.

The page polls the job files with a timer (views.tick_seconds), only while the Train tab is selected. Each tick
sends the small parts (status, progress bar, buttons) and, of the heavier parts (curves, picture
grid, log, job table, and the "Compare runs" view while it is open), only those whose cheap
signature changed since the page last got them.
"""

import io
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import torch
from PIL import Image

import i18n
from genmodels.checkpoints import atomic_write
from genmodels.data import dataset_availability
from genmodels.files import read_below
from jobs.compare import NEWEST, RunComparison, check_model_filter, sort_keys
from jobs.records import ACTIVE, FINISHED
from jobs.settings import form_fields, model_type_of
from ui.errors import user_errors
from ui.explore import SHOW_DIGIT_JS
from ui.explore.layout import PRESENT_JS, model_choices as explorer_choices
from ui.explore.models import EXPLORABLE_TYPES
from ui.gradio_internals import current_blocks

from . import compare, layout, views
from .api import CANCEL_CONCURRENCY, check_more_epochs
from .experiments import experiment_choices, settings_for

TABLE_LIMIT = 40  # newest jobs shown in the table
FOLLOWED_ID_KEY = "latent-lab-followed-job-id"
# Keeps the followed job's id where the page's load event can read it (see the module docstring).
REMEMBER_FOLLOWED = f"(id) => {{ try {{ localStorage.setItem({json.dumps(FOLLOWED_ID_KEY)}, id || ''); }} catch (e) {{}} }}"
READ_FOLLOWED = f"() => {{ try {{ return [localStorage.getItem({json.dumps(FOLLOWED_ID_KEY)}) || '']; }} " \
                "catch (e) { return ['']; } }"
SEED_DRAW = 1_000_000  # a visitor's seed is drawn below this: short to read, and a class of 50 rarely repeats one
NO_METRICS = {"epochs": [], "steps": [], "problem": None}
QUIET = dict(api_visibility="private", show_progress="hidden")
PRIVATE = dict(api_visibility="private")
SCROLL_TO_STATUS = "() => document.querySelector('#train-status')?.scrollIntoView({behavior: 'smooth'})"


SECRET_BYTES = 1000  # the browser secret is 32 characters


def browser_secret(runs_dir: Path) -> str:
    """Return the key that encrypts owner tokens in the browser, kept in the runs folder so it survives restarts."""
    path = Path(runs_dir) / ".browser_secret"
    try:
        secret = read_below(runs_dir, path, SECRET_BYTES).decode("utf-8").strip()
    except (OSError, ValueError):  # missing, or a link, a device, damaged: a new one replaces it
        secret = ""
    if len(secret) < 16:
        secret = secrets.token_urlsafe(24)
        atomic_write(path, secret, mode=0o600)  # a rename: it replaces a link, never writes through one
    return secret


def dataset_choices(names, availability) -> list[tuple[str, str]]:
    """Return the data set choices, unavailable ones marked in the current language (`availability`:
    genmodels.data.dataset_availability())."""
    return [(name if availability.get(name, (False,))[0] else i18n.text("train.unavailable_choice", name=name), name)
            for name in names]


def dataset_notes(names, availability) -> list[i18n.Text]:
    """Return one Markdown line per data set saying whether it works here and why, as catalogue texts."""
    notes = []
    for name in names:
        ok, reason = availability.get(name, (False, i18n.Text("data.available.unknown")))
        notes.append(i18n.Text("train.dataset_note", name=name, reason=reason,
                               state=i18n.Text("train.available" if ok else "train.not_available")))
    return notes


def device_choices() -> list[str]:
    """Return the devices the form offers: auto, cpu, and each CUDA device this machine has."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["auto", "cpu"] + (["cuda"] if count else []) + ([f"cuda:{i}" for i in range(count)] if count > 1 else [])


def tab_names(label) -> set[str]:
    """Return the Train tab's label as a tab's select event may name it: in every language (a catalogue text)."""
    key = getattr(label, "key", None)
    if isinstance(key, str) and key in i18n.catalogue(i18n.DEFAULT):
        return {str(label), *(i18n.text(key, code) for code in i18n.LANGUAGES)}
    return {str(label)}


@dataclass
class Snapshot:
    """The followed job and the job list, read once per event from the job files (cheap, cached reads)."""

    job_id: str
    view: dict | None  # the followed job's status view, None when there is none (or it is gone)
    listed: list[dict]  # the newest jobs' status views
    rows: list[list]  # the job table
    metrics: dict  # the followed job's {'epochs': [...], 'steps': [...], 'problem': ...}
    grids: dict[int, Path]  # its picture grids by epoch (read through the runner's grid_png)
    log: str  # the end of its log ('' unless the visitor owns it)
    mine: bool  # whether the visitor started the followed job

    def signatures(self) -> dict:
        """Return a cheap signature per heavy part of the view: it changes exactly when that part would."""
        job = self.view["id"] if self.view else None
        steps = self.metrics["steps"]
        return {"table": (self.job_id, self.rows),
                "curves": (job, len(self.metrics["epochs"]), len(steps), steps[-1]["x"] if steps else None),
                "grid": (job, max(self.grids) if self.grids else None),
                "log": (job, hash(self.log))}


class TrainPage:
    """The Train tab's components, per-visitor states and event handlers (built inside the current Blocks)."""

    def __init__(self, registry, jobs, explore, tabs: gr.Tabs, train_tab: gr.Tab | None = None,
                 comparison: RunComparison | None = None):
        self.registry, self.jobs, self.explore, self.tabs = registry, jobs, explore, tabs
        self.comparison = comparison or RunComparison(jobs)
        self.tab_names = tab_names(train_tab.label if train_tab is not None else "Train")
        secret = browser_secret(jobs.runs_dir)
        self.owner = gr.BrowserState("", storage_key="latent-lab-owner", secret=secret)
        self.followed = gr.BrowserState("", storage_key="latent-lab-followed-job", secret=secret)
        self.kept_code = gr.BrowserState("", storage_key="latent-lab-class-code", secret=secret)  # typed once
        self.shown = gr.State({})  # signatures of the heavy parts this page already shows
        # The followed job's id as the page's load event reads it from localStorage (REMEMBER_FOLLOWED).
        self.followed_id = gr.Textbox("", visible=False, max_length=40, elem_id=layout.elem_id("followed", "id"))
        self.timer = gr.Timer(views.RUNNING_TICK_S, active=False)  # on only while the Train tab is selected
        self.compare_open = gr.State(False)  # whether the "Compare runs" view is open (ticks refresh it then)

        fields = form_fields(model_type_of({}))
        self.dataset_names = list(fields["dataset"].spec.choices)
        self.availability = availability = dataset_availability()  # probes the network: once, not per visitor
        with i18n.speaking(i18n.DEFAULT):  # built once for everyone; each visitor's load puts them in their language
            choices = dataset_choices(self.dataset_names, availability)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                self.form = layout.build_settings_form(choices, dataset_notes(self.dataset_names, availability),
                                                       device_choices(), jobs.max_epochs, jobs.enabled,
                                                       jobs.needs_class_code)
            with gr.Column(scale=2, min_width=320):
                self.live = layout.build_live_panel(fields["epochs"], jobs.max_epochs)
        self.listing = layout.build_jobs_panel()
        self.compared = layout.build_compare_panel()

        live, compared = self.live, self.compared
        self.compare_outputs = [compared.sort, compared.note, compared.table, compared.pictures]
        self.live_outputs = [live.status, live.progress, live.loss_plot, live.kl_plot, live.accuracy_plot, live.grid,
                             live.grid_epoch, live.cancel, live.resume, live.open, live.log, self.listing.table,
                             self.listing.picker, self.timer, *self.compare_outputs, self.shown]
        self.tick_inputs = [self.followed, self.owner, self.shown, self.compare_open, compared.model, compared.sort]
        self.follow_outputs = [self.followed, *self.live_outputs]
        self.wire()

    # ------------------------------------------------------------------ reading
    def read(self, job_id, token) -> Snapshot:
        """Return the followed job and the job list as the job files say now."""
        job_id = job_id if isinstance(job_id, str) else ""
        token = token if isinstance(token, str) else ""
        listed = self.jobs.list_jobs(limit=TABLE_LIMIT)
        rows = views.table_rows(listed, lambda listed_id: self.owns(listed_id, token))
        view = next((v for v in listed if v["id"] == job_id), None)
        try:
            if view is None and job_id:
                view = self.jobs.status(job_id)  # an older job than the table shows
            metrics = self.jobs.metrics(view["id"]) if view else NO_METRICS
            grids = self.jobs.sample_grids(view["id"]) if view else {}
            log = self.jobs.log_tail(view["id"], token) if view else ""
            if view and view["status"] in FINISHED and token:
                self.jobs.opened(view["id"], token)  # its owner saw it finish: retention keeps it longer
        except ValueError:  # not a job id, or the job was deleted since: show no job
            view, metrics, grids, log = None, NO_METRICS, {}, ""
        return Snapshot(job_id, view, listed, rows, metrics, grids, log, bool(view) and self.owns(view["id"], token))

    def owns(self, job_id: str, token: str) -> bool:
        """Return True when `token` started the job (False for no token, or a job deleted meanwhile)."""
        try:
            return bool(token) and self.jobs.is_owner(job_id, token)
        except ValueError:
            return False

    # ------------------------------------------------------------------ what each part shows
    def status_updates(self, snap: Snapshot, active: bool | None) -> dict:
        """Return the small parts, sent at every event: status, progress bar, buttons, polling pace."""
        view, live = snap.view, self.live
        pace = views.tick_seconds(view["status"], view.get("queue_position")) if view else views.tick_seconds(None)
        return {
            live.status: views.status_markdown(view),
            live.progress: views.progress_html(view),
            live.cancel: gr.Button(interactive=bool(view) and snap.mine and view["status"] in ACTIVE),
            live.resume: gr.Button(interactive=bool(view) and snap.mine and view["can_resume"]),
            live.open: gr.Button(interactive=bool(view) and view["has_checkpoint"]
                                 and view["model_type"] in EXPLORABLE_TYPES),
            self.timer: gr.Timer(pace) if active is None else gr.Timer(pace, active=active),
        }

    def table_updates(self, snap: Snapshot) -> dict:
        """Return the job table and the picker's choices."""
        ids = [v["id"] for v in snap.listed]
        return {self.listing.table: views.table_frame(snap.rows),
                # The followed job may be older than the table shows: the picker still names it.
                self.listing.picker: gr.Dropdown(choices=ids, value=snap.job_id or None, allow_custom_value=True)}

    def curve_updates(self, snap: Snapshot) -> dict:
        """Return the loss curve, and the KL (VAE) or accuracy (RowRNN) curve, of the followed job."""
        live, model_type = self.live, snap.view["model_type"] if snap.view else None
        if model_type is None:
            return {live.loss_plot: None, live.kl_plot: gr.LinePlot(visible=False),
                    live.accuracy_plot: gr.LinePlot(visible=False)}
        # The axis titles and the series' names and colours come in the visitor's language with the curves.
        words = dict(x_title=i18n.text(views.EPOCH_AXIS), color_map=views.series_colours())
        return {
            live.loss_plot: gr.LinePlot(views.loss_frame(model_type, snap.metrics), y_title=views.loss_axis(model_type),
                                        caption=views.loss_note(model_type), **words),
            live.kl_plot: gr.LinePlot(views.kl_frame(snap.metrics) if model_type == "vae" else None,
                                      visible=model_type == "vae", y_title=i18n.text(views.KL_AXIS), **words),
            live.accuracy_plot: gr.LinePlot(views.accuracy_frame(snap.metrics) if model_type == "rnn" else None,
                                            visible=model_type == "rnn", y_title=i18n.text(views.ACCURACY_AXIS), **words),
        }

    def grid_updates(self, snap: Snapshot) -> dict:
        """Return the newest picture grid and the epoch slider that scrubs back through the others."""
        grids, live = snap.grids, self.live
        last = max(grids) if grids else None
        picture, label = self.grid_picture(snap.view["id"], last) if grids else (None, i18n.text(layout.GRID_LABEL))
        return {live.grid: gr.Image(picture, visible=bool(grids), label=label),
                live.grid_epoch: gr.Slider(minimum=min(grids) if grids else 1, maximum=max(2, last or 2),
                                           value=last or 1, visible=len(grids) > 1)}

    def grid_picture(self, job_id: str, epoch: int) -> tuple[Image.Image | None, str]:
        """Return (the job's picture grid of `epoch`, the grid's label); a damaged grid gives no picture and
        a label saying so. Read through the runner and decoded here: the runs folder is not served."""
        try:
            return Image.open(io.BytesIO(self.jobs.grid_png(job_id, epoch))), i18n.text(layout.GRID_LABEL)
        except ValueError as error:
            return None, i18n.text("train.grid_label_problem", problem=error)

    def log_updates(self, snap: Snapshot) -> dict:
        """Return the end of the job's log (empty unless the visitor started the job)."""
        return {self.live.log: snap.log}

    def compare_updates(self, model_type, sort_by, shown: dict | None = None) -> dict:
        """Return the "Compare runs" view for a model filter and sort order, or only its signature in `shown`
        when the page already shows exactly that (a run finishing or going changes it)."""
        model_type = check_model_filter(model_type)
        sort_by = sort_by if sort_by in sort_keys(model_type) else NEWEST  # a filter's change may drop the order
        runs = self.comparison.runs(model_type, sort_by)
        signature = (model_type, sort_by, tuple((r.id, r.finished, r.grid_epoch) for r in runs))
        shown = dict(shown or {})
        out = {}
        if shown.get("compare") != signature:
            found, table = len(runs), compare.frame(runs, model_type)
            out = {self.compared.sort: gr.Dropdown(choices=compare.sort_choices(model_type), value=sort_by),
                   self.compared.note: i18n.text(compare.EMPTY_NOTE) if not found else
                   i18n.text("train.finished_run" if found == 1 else "train.finished_runs", count=found),
                   self.compared.table: gr.Dataframe(table, datatype=compare.column_types(table)),
                   self.compared.pictures: compare.gallery(self.comparison, runs, sort_by)}
        shown["compare"] = signature
        return {**out, self.shown: shown}

    def show(self, job_id, token, shown: dict | None = None, active: bool | None = None,
             compared: tuple | None = None) -> dict:
        """Return updates for the live view; heavy parts whose signature is in `shown` are left as they are.

        `active` True or False also switches the polling timer on or off; `compared` (model filter,
        sort order) refreshes the open "Compare runs" view too.
        """
        snap = self.read(job_id, token)
        signatures = snap.signatures()
        out = self.status_updates(snap, active)
        parts = {"table": self.table_updates, "curves": self.curve_updates, "grid": self.grid_updates,
                 "log": self.log_updates}
        for part, updates in parts.items():
            if shown is None or shown.get(part) != signatures[part]:
                out.update(updates(snap))
        if shown and "compare" in shown:
            signatures["compare"] = shown["compare"]  # kept while the view is closed: reopening sends only news
        out[self.shown] = signatures
        if compared is not None:
            out.update(self.compare_updates(*compared, shown=signatures))
        return out

    # ------------------------------------------------------------------ handlers
    def on_tick(self, job_id, token, shown, compare_open, model_type, sort_by):
        return self.show(job_id, token, shown, compared=(model_type, sort_by) if compare_open else None)

    def on_tab_select(self, job_id, token, shown, compare_open, model_type, sort_by, evt: gr.SelectData):
        # Polling runs only while this tab is selected; arriving here shows the followed job at once.
        if evt.value not in self.tab_names:
            return {self.timer: gr.Timer(active=False)}
        if job_id is None:
            # The first visit since the page opened: the browser reads the stored job only once the
            # tab's content is on the page, just after this event left; on_stored shows it then.
            return {self.timer: gr.Timer(active=True)}
        return self.show(job_id, token, active=True, compared=(model_type, sort_by) if compare_open else None)

    def on_compare_open(self, model_type, sort_by, shown):
        return {self.compare_open: True, **self.compare_updates(model_type, sort_by, shown)}

    def on_compare_close(self):
        return False

    def on_compare_choice(self, model_type, sort_by, shown):
        return self.compare_updates(model_type, sort_by, shown)

    def on_stored(self, job_id, token, shown):
        # The followed job or the owner token changed: read from browser storage, or set by a handler
        # (which has just shown it, so `shown` leaves the heavy parts alone).
        return self.show(job_id, token, shown)

    def on_page_open(self, followed_id):
        """Return what the page gets when it opens: a seed drawn for this visitor, the choices' shown texts in
        the visitor's language (values stay the same in every language), and the job the browser follows
        (`followed_id`, from localStorage), announced while it is queued or running."""
        form, compared = self.form, self.compared
        out = {}
        job_id = followed_id.strip()[:40] if isinstance(followed_id, str) else ""
        if job_id:
            out = self.show(job_id, "")  # its owner's parts (log, buttons) come when the tab reads the owner token
            try:
                view = self.jobs.status(job_id)
            except ValueError:  # not a job id, or deleted since
                view = None
            if view is not None and view["status"] in ACTIVE:
                gr.Info(i18n.text("train.reattached", job=view["id"], status=views.status_word(view["status"])))
        return {**out, form.common["seed"]: gr.Number(value=secrets.randbelow(SEED_DRAW)),
                form.common["dataset"]: gr.Dropdown(choices=dataset_choices(self.dataset_names, self.availability)),
                form.experiment: gr.Dropdown(choices=experiment_choices()),
                form.model: gr.Radio(choices=views.model_choices()),
                compared.model: gr.Radio(choices=compare.model_choices()),
                compared.sort: gr.Dropdown(choices=compare.sort_choices(check_model_filter(None)))}

    def on_experiment(self, key, seed):
        """Fill the form with a class experiment's settings (experiments.py), its varied setting by the seed."""
        if key in (None, ""):
            return gr.skip()
        if isinstance(seed, bool) or not isinstance(seed, (int, float)) or seed != seed:
            seed = 0
        settings = settings_for(key, int(seed))
        form, model_type = self.form, settings["model"]
        out = {form.model: settings["model"], form.name: settings["name"], **self.on_model_change(model_type)}
        inputs = {**form.common, **form.per_model[model_type]}
        out.update({inputs[k]: value for k, value in settings.items() if k in inputs})
        gr.Info(i18n.text("train.experiment.filled", name=settings["name"]))
        return out

    def on_follow(self, job_id, token):
        job_id = job_id.strip() if isinstance(job_id, str) else ""
        return {self.followed: job_id, **self.show(job_id, token)}

    def on_select_row(self, token, evt: gr.SelectData):
        row = evt.row_value or []
        return self.on_follow(row[0] if row else "", token)

    def on_select_compared(self, token, evt: gr.SelectData):
        row = evt.row_value or []
        return self.on_follow(row[-1] if row else "", token)  # the comparison's job id is its last column

    def on_model_change(self, model_type):
        return {column: gr.Column(visible=kind == model_type) for kind, columns in self.form.groups.items()
                for column in columns}

    def on_launch(self, values: dict):
        # Raw form values (the event skips Gradio's own checks): jobs.settings checks every one and
        # names the setting in its message.
        form = self.form
        model_type = values.get(form.model)
        if not isinstance(model_type, str) or model_type not in form.per_model:
            raise i18n.Sentence("train.form_models")  # None, NaN, a list, 200 kB of text: a sentence, never an echo
        fields = {**form.common, **form.per_model[model_type]}
        described = form_fields(model_type)
        empty = [str(described[key].label_text) for key, component in fields.items()
                 if values.get(component) is None or (isinstance(values[component], str) and not values[component])]
        if empty:
            raise i18n.Sentence("train.fill_in", fields=i18n.text("train.fields_join").join(empty))
        settings = {"model": model_type, "name": values.get(form.name) or "",
                    **{key: values[component] for key, component in fields.items()}}
        token = values.get(self.owner) or secrets.token_urlsafe(18)  # first launch in this browser: a new owner token
        typed = values.get(form.class_code)
        code = typed if isinstance(typed, str) and typed.strip() else values.get(self.kept_code)
        job_id = self.jobs.submit_settings(settings, token, code)
        gr.Info(i18n.text("train.queued_info", job=job_id))
        kept = {self.kept_code: code.strip()} if self.jobs.needs_class_code else {}  # the right code, kept
        return {self.owner: token, **kept, **self.on_follow(job_id, token)}

    def on_cancel(self, job_id, token):
        if not job_id:
            raise i18n.Sentence("train.pick_cancel")
        status = self.jobs.cancel(job_id, token)
        gr.Info(i18n.text("train.job_is", job=job_id, status=i18n.text(f"jobs.status.{status}")))
        return self.show(job_id, token)

    def on_resume(self, job_id, token, epochs):
        if not job_id:
            raise i18n.Sentence("train.pick_resume")
        if epochs in (None, ""):
            raise i18n.Sentence("train.fill_more_epochs")
        epochs = check_more_epochs(epochs)
        self.jobs.resume(job_id, token, epochs)
        gr.Info(i18n.text("train.resumed_info", job=job_id, epochs=epochs))
        return self.show(job_id, token)

    def on_open_in_explorer(self, job_id):
        if not job_id:
            raise i18n.Sentence("train.pick_job")
        view = self.jobs.status(job_id)
        if not view["has_checkpoint"]:
            raise i18n.Sentence("train.no_checkpoint", job=job_id)
        if view["model_type"] not in EXPLORABLE_TYPES:  # a VAE or a plain autoencoder
            raise i18n.Sentence("train.not_explorable", model=views.model_label(view["model_type"]))
        choices = explorer_choices(self.registry)  # the explorer's own list: a run's title beside its name
        if view["name"] not in [name for _, name in choices]:
            raise i18n.Sentence("train.unreadable", job=job_id)
        # Switching tabs from code fires no select event, so polling is switched off here.
        return (gr.Dropdown(choices=choices, value=view["name"]), gr.Tabs(selected="explore"),
                gr.Timer(active=False))

    def on_curves(self, job_id):
        """Return the followed job's training curves drawn as one picture (views.curves_png) to download."""
        if not job_id:
            raise i18n.Sentence(views.NO_JOB)
        view = self.jobs.status(job_id)
        png = views.curves_png(view["model_type"], self.jobs.metrics(job_id),
                               view.get("title") or i18n.text("train.curves_title_job", id=view["id"]))
        if png is None:
            raise i18n.Sentence("train.no_curves")
        return gr.Image(Image.open(io.BytesIO(png)), visible=True)

    def on_scrub(self, epoch, job_id):
        grids = self.jobs.sample_grids(job_id) if job_id else {}
        if not grids:
            return gr.skip()
        if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or epoch != epoch:
            epoch = 1
        epoch = min(grids, key=lambda e: abs(e - epoch))  # the nearest epoch that has a grid
        picture, label = self.grid_picture(job_id, epoch)
        return gr.Image(picture, label=label)

    # ------------------------------------------------------------------ wiring
    def wire(self) -> None:
        """Attach every listener of the tab."""
        form, live, listing = self.form, self.live, self.listing
        columns = [column for columns in form.groups.values() for column in columns]
        form.model.change(user_errors(self.on_model_change), form.model, columns, **PRIVATE)
        experiment_outputs = [form.model, form.name, *columns, *form.common.values(),
                              *(c for inputs in form.per_model.values() for c in inputs.values())]
        form.experiment.select(user_errors(self.on_experiment), [form.experiment, form.common["seed"]],
                              experiment_outputs, **PRIVATE)
        compared = self.compared
        self.followed.change(None, self.followed, None, js=REMEMBER_FOLLOWED, **QUIET)
        current_blocks().load(user_errors(self.on_page_open), self.followed_id,
                              [form.common["seed"], form.common["dataset"], form.experiment, form.model, compared.model,
                               compared.sort, *self.live_outputs], js=READ_FOLLOWED, **QUIET)
        form_inputs = {form.model, form.name, *form.common.values(), self.owner, form.class_code, self.kept_code,
                       *(c for inputs in form.per_model.values() for c in inputs.values())}
        # preprocess=False: the values reach jobs.settings as typed, so its sentence names the field
        # that is wrong (Gradio's own range check would not say which one).
        form.launch.click(user_errors(self.on_launch), form_inputs, [self.owner, self.kept_code, *self.follow_outputs],
                          preprocess=False, **PRIVATE)
        self.timer.tick(user_errors(self.on_tick), self.tick_inputs, self.live_outputs, **QUIET)
        # preprocess=False: a BrowserState not yet read from the browser arrives as None, not as its default.
        self.tabs.select(user_errors(self.on_tab_select), self.tick_inputs, self.live_outputs,
                         preprocess=False, **QUIET)
        gr.on([self.followed.change, self.owner.change], user_errors(self.on_stored),
              [self.followed, self.owner, self.shown], self.live_outputs, **QUIET)
        # Following a job from the list below brings its status (at the top of the tab) into view.
        listing.picker.input(user_errors(self.on_follow), [listing.picker, self.owner], self.follow_outputs,
                             **PRIVATE).success(None, js=SCROLL_TO_STATUS)
        listing.table.select(user_errors(self.on_select_row), [self.owner], self.follow_outputs,
                             **PRIVATE).success(None, js=SCROLL_TO_STATUS)
        live.cancel.click(user_errors(self.on_cancel), [self.followed, self.owner], self.live_outputs,
                          **CANCEL_CONCURRENCY, **PRIVATE)
        live.resume.click(user_errors(self.on_resume), [self.followed, self.owner, live.more_epochs],
                          self.live_outputs, preprocess=False, **PRIVATE)
        # The explorer opens at its digit and sliders, not at the height the Train tab was scrolled to.
        live.open.click(user_errors(self.on_open_in_explorer), [self.followed],
                        [self.explore.model_selector, self.tabs, self.timer], **PRIVATE).success(None, js=SHOW_DIGIT_JS)
        live.grid_epoch.release(user_errors(self.on_scrub), [live.grid_epoch, self.followed], live.grid, **QUIET)
        live.curves.click(user_errors(self.on_curves), [self.followed], live.curves_picture, **QUIET)
        live.present.click(None, js=PRESENT_JS)  # in the page only: Write's and Explore's layout, for the curves
        choice = [compared.model, compared.sort, self.shown]
        compared.box.expand(user_errors(self.on_compare_open), choice,
                            [self.compare_open, *self.compare_outputs, self.shown], **PRIVATE)
        compared.box.collapse(user_errors(self.on_compare_close), None, self.compare_open, **QUIET)
        gr.on([compared.model.input, compared.sort.input], user_errors(self.on_compare_choice), choice,
              [*self.compare_outputs, self.shown], **PRIVATE)
        # A row of the comparison follows that run in the live view above, as a row of the job table does.
        compared.table.select(user_errors(self.on_select_compared), [self.owner], self.follow_outputs,
                              **PRIVATE).success(None, js=SCROLL_TO_STATUS)

