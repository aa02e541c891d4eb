"""The Train tab's components, each form input built from the one definition of its setting (no events here).

Every function builds its components inside the current Blocks and returns them in a small
dataclass; page.py wires them. Ranges, defaults, labels and help lines come from
`jobs.settings.form_fields` (which reads them off the config dataclasses), never from this file.
"""

from dataclasses import dataclass

import gradio as gr

from genmodels.settings import Described
from jobs.compare import ALL, NEWEST
from jobs.records import NAME_LIMIT
from jobs.settings import MODEL_KEYS, MODEL_LABELS, TRAIN_KEYS, form_fields, model_type_of

from . import compare, views

INTRO = "### New training job"
JOBS_INTRO = "### All jobs\nClick a row (or pick an id) to follow that job again."
GRID_INFO = "rows: validation images, their reconstructions, samples from the prior"
# The progress bar's template shows each estimate's clock time (a <time> element) in the visitor's own
# time zone: the server, on a Space, keeps another.
LOCAL_TIMES = (r"""${(value || '').replace(/<time datetime="([^"]+)">[^<]*<\/time>/g, (tag, at) => """
               r"""'<time datetime="' + at + '">' + new Date(at).toLocaleTimeString([], """
               r"""{hour: '2-digit', minute: '2-digit'}) + '</time>')}""")

GRID_LABEL = "Pictures after each epoch"


@dataclass
class SettingsForm:
    """The launch form: model choice, run name, the common settings and each model type's own settings."""

    model: gr.Radio
    name: gr.Textbox
    common: dict[str, gr.components.Component]  # public settings key -> input, shared by every model type
    per_model: dict[str, dict[str, gr.components.Component]]  # model type -> {public key -> input}
    groups: dict[str, gr.Column]  # model type -> the box holding its inputs (one visible at a time)
    class_code: gr.Textbox  # shown only where the host sets a class code
    launch: gr.Button


@dataclass
class LivePanel:
    """What the followed job shows: status, progress, curves, picture grid, actions and log."""

    status: gr.Markdown
    progress: gr.HTML
    loss_plot: gr.LinePlot
    kl_plot: gr.LinePlot
    accuracy_plot: gr.LinePlot
    grid: gr.Image
    grid_epoch: gr.Slider
    cancel: gr.Button
    more_epochs: gr.Number
    resume: gr.Button
    open: gr.Button
    log: gr.Textbox
    curves: gr.Button  # draws the curves as one picture to download
    curves_picture: gr.Image


@dataclass
class ComparePanel:
    """The finished runs side by side: a model filter, a sort order, the table and a picture per run."""

    box: gr.Accordion
    model: gr.Radio
    sort: gr.Dropdown
    note: gr.Markdown
    table: gr.Dataframe
    pictures: gr.Gallery


@dataclass
class JobsPanel:
    """Every job on this server: a picker and a table (clicking a row follows that job)."""

    picker: gr.Dropdown
    table: gr.Dataframe


def elem_id(*parts: str) -> str:
    """Return the HTML id of a Train tab element, e.g. elem_id('vae', 'hidden_size') -> 'train-vae-hidden-size'."""
    return "-".join(["train", *parts]).replace("_", "-")


def setting_input(described: Described, html_id: str, *, choices=None, high=None, label=None):
    """Return the input for one setting: a Number, Checkbox, Radio or Dropdown carrying its range and default.

    `choices` replaces the setting's own choices by (label, value) pairs (data sets marked as
    unavailable, the devices this machine has); `high` lowers the upper bound (the host's epoch
    limit); `label` replaces the setting's label.
    """
    spec = described.spec
    label = label or spec.label
    if described.kind == "bool":
        return gr.Checkbox(described.default, label=label, info=spec.help, elem_id=html_id)
    if described.kind in ("int", "float"):
        high = spec.high if high is None else min(high, spec.high)
        return gr.Number(described.default, label=label, info=views.setting_info(spec.help, spec.low, high),
                         minimum=spec.low, maximum=high, precision=0 if described.kind == "int" else None,
                         step=views.input_step(described), elem_id=html_id)
    options = choices if choices is not None else list(spec.choices)
    if not options:
        return gr.Textbox(described.default, label=label, info=spec.help, elem_id=html_id)
    if len(options) <= 3 and choices is None:
        return gr.Radio(options, value=described.default, label=label, info=spec.help, elem_id=html_id)
    return gr.Dropdown(options, value=described.default, label=label, info=spec.help, elem_id=html_id)


def build_settings_form(dataset_choices: list, dataset_note: str, device_choices: list[str], max_epochs: int,
                        enabled: bool, needs_class_code: bool = False) -> SettingsForm:
    """Build the launch form; `max_epochs` is this host's limit, `enabled` False shows training as turned off,
    `needs_class_code` shows the class code field."""
    first = model_type_of({})  # the model type /train uses when none is named
    common_fields = {key: form_fields(first)[key] for key in TRAIN_KEYS}
    gr.Markdown(INTRO)
    if not enabled:
        gr.Markdown("**Training is turned off on this server.** Finished runs are still listed below "
                    "and open in the explorer.")
    model = gr.Radio([(MODEL_LABELS[m], m) for m in MODEL_KEYS], value=first, label="Model", elem_id=elem_id("model"))
    name = gr.Textbox(label="Run name", placeholder="optional, e.g. small beta", max_length=NAME_LIMIT,
                      info=f"shown in the job table and the status (up to {NAME_LIMIT} characters)",
                      elem_id=elem_id("name"))

    def common(key, **options):
        return setting_input(common_fields[key], elem_id(key), **options)

    inputs = {"dataset": common("dataset", choices=dataset_choices)}
    with gr.Accordion("Which data sets work here", open=False):
        gr.Markdown(dataset_note)
    with gr.Row():
        inputs["epochs"] = common("epochs", high=max_epochs)
        inputs["batch_size"] = common("batch_size")
    with gr.Row():
        inputs["lr"] = common("lr")
        inputs["seed"] = common("seed")
    per_model, groups = {}, {}
    for model_type, keys in MODEL_KEYS.items():
        fields = form_fields(model_type)
        with gr.Column(visible=model_type == first, elem_id=elem_id(model_type, "settings")) as groups[model_type]:
            per_model[model_type] = {key: setting_input(fields[key], elem_id(model_type, key)) for key in keys}
    inputs["augment"] = common("augment")
    inputs["device"] = common("device", choices=device_choices)
    class_code = gr.Textbox(label="Class code", type="password", visible=needs_class_code and enabled,
                            info="the code your teacher gave you; type it once, this browser keeps it",
                            max_lines=1, elem_id=elem_id("class-code"))
    launch = gr.Button("Start training", variant="primary", interactive=enabled, elem_id=elem_id("launch"))
    return SettingsForm(model, name, {key: inputs[key] for key in TRAIN_KEYS}, per_model, groups, class_code, launch)


def _curve_plot(label: str, y_title: str, html_id: str, visible=True) -> gr.LinePlot:
    # No fixed height: with one, the chart's legend below the axes is cut off. An empty colour
    # title drops the legend's heading (the column name "series"), which says nothing.
    return gr.LinePlot(None, x="epoch", y="value", color="series", color_map=views.SERIES_COLOURS, color_title="",
                       label=label, x_title="epoch", y_title=y_title, visible=visible, min_width=300,
                       elem_id=html_id)


def build_live_panel(epochs: Described, max_epochs: int) -> LivePanel:
    """Build the followed job's view; `epochs` is the setting that the More-epochs input is built from."""
    status = gr.Markdown(views.NO_JOB, elem_id=elem_id("status"))
    progress = gr.HTML("", html_template=LOCAL_TIMES, js_on_load=None, elem_id=elem_id("progress"))
    with gr.Row():  # side by side on a wide screen, one under the other on a phone
        loss_plot = _curve_plot("Loss", views.LOSS_CURVES["vae"][0], elem_id("loss", "plot"))
        kl_plot = _curve_plot("KL term", views.KL_AXIS, elem_id("kl", "plot"), visible=False)
        accuracy_plot = _curve_plot("Accuracy", views.ACCURACY_AXIS, elem_id("accuracy", "plot"), visible=False)
    curves = gr.Button("Picture of the curves (PNG)", size="sm", elem_id=elem_id("curves"))
    curves_picture = gr.Image(label="Training curves (its download button saves the PNG)", type="pil", format="png",
                              interactive=False, visible=False, elem_id=elem_id("curves", "picture"))
    with gr.Row():
        grid = gr.Image(label=GRID_LABEL, interactive=False, visible=False, height=200,
                        elem_id=elem_id("grid"))
        grid_epoch = gr.Slider(1, 2, value=1, step=1, label="Epoch (scrub back)", info=GRID_INFO, visible=False,
                               elem_id=elem_id("grid", "epoch"))
    with gr.Row():
        cancel = gr.Button("Cancel job", variant="stop", interactive=False, elem_id=elem_id("cancel"))
        open_button = gr.Button("Open in explorer", interactive=False, elem_id=elem_id("open"))
    with gr.Row():
        more_epochs = setting_input(epochs, elem_id("more", "epochs"), high=max_epochs, label="More epochs")
        resume = gr.Button("Resume", interactive=False, elem_id=elem_id("resume"))
    with gr.Accordion("Log", open=False, elem_id=elem_id("log", "box")):
        log = gr.Textbox(lines=12, max_lines=20, show_label=False, interactive=False, elem_id=elem_id("log"))
    return LivePanel(status, progress, loss_plot, kl_plot, accuracy_plot, grid, grid_epoch, cancel, more_epochs,
                     resume, open_button, log, curves, curves_picture)


def build_jobs_panel() -> JobsPanel:
    """Build the job picker and table."""
    gr.Markdown(JOBS_INTRO)
    picker = gr.Dropdown([], value=None, label="Follow job", allow_custom_value=True, elem_id=elem_id("picker"))
    table = gr.Dataframe(views.table_frame([]), interactive=False, wrap=True, elem_id=elem_id("table"))
    return JobsPanel(picker, table)


def build_compare_panel() -> ComparePanel:
    """Build the "Compare runs" view (closed until opened: it reads every run)."""
    with gr.Accordion("Compare runs", open=False, elem_id=elem_id("compare")) as box:
        gr.Markdown(compare.INTRO)
        with gr.Row():
            model = gr.Radio(compare.model_choices(), value=ALL, label="Model", min_width=280,
                             elem_id=elem_id("compare", "model"))
            sort = gr.Dropdown(compare.sort_choices(ALL), value=NEWEST, label="Sort by", min_width=200,
                               elem_id=elem_id("compare", "sort"))
        note = gr.Markdown("", elem_id=elem_id("compare", "note"))
        table = gr.Dataframe(compare.frame([], ALL), interactive=False, max_height=420,
                             elem_id=elem_id("compare", "table"))
        # Its thumbnails take the shape of a picture grid, not a square (ui/static/gradio_internals.css).
        pictures = gr.Gallery(label=compare.GALLERY_LABEL, columns=compare.GALLERY_COLUMNS, height="auto",
                              format="png", object_fit="contain", elem_id=elem_id("compare", "pictures"))
    return ComparePanel(box, model, sort, note, table, pictures)
