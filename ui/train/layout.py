"""The Train tab's components, each form input built from the one definition of its setting (no events here).

Every function builds its components inside the current Blocks and returns them in a small
dataclass; page.py wires them. Ranges, defaults, labels and help lines come from
`jobs.settings.form_fields` (which reads them off the config dataclasses), never from this file.
Every word is a catalogue text (`words`), shown in the page's language; choices' shown texts are
put in the visitor's language when the page loads (page.py).
"""

from dataclasses import dataclass

import gradio as gr

import i18n

from genmodels.settings import Described
from jobs.compare import ALL, NEWEST
from jobs.records import NAME_LIMIT
from jobs.settings import MODEL_KEYS, TRAIN_KEYS, form_fields, model_type_of
from ui.language import words

from . import compare, views
from .experiments import experiment_choices

# The progress bar's template shows each estimate's clock time (a <time> element) in the visitor's own
# time zone: the server, on a Space, keeps another.
LOCAL_TIMES = (r"""${(value || '').replace(/<time datetime="([^"]+)">[^<]*<\/time>/g, (tag, at) => """
               r"""'<time datetime="' + at + '">' + new Date(at).toLocaleTimeString([], """
               r"""{hour: '2-digit', minute: '2-digit'}) + '</time>')}""")

GRID_LABEL = "train.grid_label"
# Settings folded away under "Expert settings": a first run needs none of them changed.
EXPERT_KEYS = ("batch_size", "lr", "augment", "device", "kl_warmup")


@dataclass
class SettingsForm:
    """The launch form: model choice, run name, the common settings and each model type's own settings."""

    experiment: gr.Dropdown  # a ready-made class experiment that fills the form (experiments.py)
    model: gr.Radio
    name: gr.Textbox
    common: dict[str, gr.components.Component]  # public settings key -> input, shared by every model type
    per_model: dict[str, dict[str, gr.components.Component]]  # model type -> {public key -> input}
    groups: dict[str, list[gr.Column]]  # model type -> the boxes holding its inputs (one type's visible at a time)
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
    present: gr.Button  # the presentation layout (ui/explore/explore.js), for this tab too


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


def page_words(text):
    """Return a catalogue text (an i18n.Text) as words built into the page; plain text as it is."""
    return words(text.key, **text.params) if isinstance(text, i18n.Text) else text


def setting_input(described: Described, html_id: str, *, choices=None, high=None, label=None, info=None):
    """Return the input for one setting: a Number, Checkbox, Radio or Dropdown carrying its range and default.

    `choices` replaces the setting's own choices by (label, value) pairs (data sets marked as
    unavailable, the devices this machine has); `high` lowers the upper bound (the host's epoch
    limit); `label` and `info` replace the setting's label and help line.
    """
    spec = described.spec
    label = label or page_words(described.label_text)
    help_words = info or page_words(described.help_text)
    if described.kind == "bool":
        return gr.Checkbox(described.default, label=label, info=help_words, elem_id=html_id)
    if described.kind in ("int", "float"):
        high = spec.high if high is None else min(high, spec.high)
        info = info or page_words(views.setting_info(described.help_text, spec.low, high))
        return gr.Number(described.default, label=label, info=info,
                         minimum=spec.low, maximum=high, precision=0 if described.kind == "int" else None,
                         step=views.input_step(described), elem_id=html_id)
    options = choices if choices is not None else list(spec.choices)
    if not options:
        return gr.Textbox(described.default, label=label, info=help_words, elem_id=html_id)
    if len(options) <= 3 and choices is None:
        return gr.Radio(options, value=described.default, label=label, info=help_words, elem_id=html_id)
    return gr.Dropdown(options, value=described.default, label=label, info=help_words, elem_id=html_id)


def build_settings_form(dataset_choices: list, dataset_notes: list, device_choices: list[str], max_epochs: int,
                        enabled: bool, needs_class_code: bool = False) -> SettingsForm:
    """Build the launch form; `max_epochs` is this host's limit, `enabled` False shows training as turned off,
    `needs_class_code` shows the class code field.

    What a first run needs stays in view (a class experiment, model, name, data set, epochs, seed and the
    model's main settings); the settings an expert tunes (EXPERT_KEYS) fold away in an accordion.
    """
    first = model_type_of({})  # the model type /train uses when none is named
    common_fields = {key: form_fields(first)[key] for key in TRAIN_KEYS}
    gr.Markdown(words("train.intro"), elem_id=elem_id("intro"))  # the form's column, found by it (explore.css)
    if not enabled:
        gr.Markdown(words("train.turned_off"))
    experiment = gr.Dropdown(experiment_choices(), value=None, label=words("train.experiment"),
                             info=words("train.experiment_info"), elem_id=elem_id("experiment"))
    with i18n.speaking(i18n.DEFAULT):  # the names are put in each visitor's language when the page opens (page.py)
        model_choices = views.model_choices()
    model = gr.Radio(model_choices, value=first, label=words("train.model"),
                     elem_id=elem_id("model"))
    name = gr.Textbox(label=words("train.run_name"), placeholder=words("train.run_name_placeholder"),
                      max_length=NAME_LIMIT, info=page_words(i18n.Text("train.run_name_info", limit=NAME_LIMIT)),
                      elem_id=elem_id("name"))

    def common(key, **options):
        return setting_input(common_fields[key], elem_id(key), **options)

    def model_inputs(expert: bool) -> dict:
        inputs = {}
        for model_type, keys in MODEL_KEYS.items():
            fields = form_fields(model_type)
            shown = [key for key in keys if (key in EXPERT_KEYS) == expert]
            if not shown:
                continue
            html_id = elem_id(model_type, "expert" if expert else "settings")
            with gr.Column(visible=model_type == first, elem_id=html_id) as column:
                inputs[model_type] = {key: setting_input(fields[key], elem_id(model_type, key)) for key in shown}
            groups.setdefault(model_type, []).append(column)
        return inputs

    groups: dict[str, list[gr.Column]] = {}
    inputs = {"dataset": common("dataset", choices=dataset_choices)}
    with gr.Accordion(words("train.datasets_here"), open=False):
        for note in dataset_notes:  # a line per data set: whether it works here, and why
            gr.Markdown(page_words(note))
    inputs["epochs"] = common("epochs", high=max_epochs)
    seed_info = i18n.Text("train.seed_info", help=common_fields["seed"].help_text)
    inputs["seed"] = common("seed", info=page_words(seed_info))  # drawn per visitor when the page opens (page.py)
    per_model = model_inputs(expert=False)
    with gr.Accordion(words("train.expert"), open=False, elem_id=elem_id("expert")):
        gr.Markdown(words("train.expert_terms"), elem_id=elem_id("expert", "terms"))  # its terms open the glossary
        with gr.Row():
            inputs["batch_size"] = common("batch_size")
            inputs["lr"] = common("lr")
        for model_type, expert in model_inputs(expert=True).items():
            per_model.setdefault(model_type, {}).update(expert)
        inputs["augment"] = common("augment")
        inputs["device"] = common("device", choices=device_choices)
    per_model = {model_type: {key: per_model[model_type][key] for key in keys} for model_type, keys in MODEL_KEYS.items()}
    class_code = gr.Textbox(label=words("train.class_code"), type="password", visible=needs_class_code and enabled,
                            info=words("train.class_code_info"), max_lines=1, elem_id=elem_id("class-code"))
    launch = gr.Button(words("train.launch"), variant="primary", interactive=enabled, elem_id=elem_id("launch"))
    return SettingsForm(experiment, model, name, {key: inputs[key] for key in TRAIN_KEYS}, per_model, groups,
                        class_code, launch)


def _curve_plot(label: str, y_title: str, html_id: str, visible=True) -> gr.LinePlot:
    # No fixed height: with one, the chart's legend below the axes is cut off. An empty colour
    # title drops the legend's heading (the column name "series"), which says nothing. The axis
    # titles and series names are sent again, in the visitor's language, with the curves (page.py).
    return gr.LinePlot(None, x="epoch", y="value", color="series", color_map=views.series_colours(i18n.DEFAULT),
                       color_title="", label=words(label), x_title=i18n.text(views.EPOCH_AXIS, i18n.DEFAULT),
                       y_title=i18n.text(y_title, i18n.DEFAULT), visible=visible, min_width=300, elem_id=html_id)


def build_live_panel(epochs: Described, max_epochs: int) -> LivePanel:
    """Build the followed job's view; `epochs` is the setting that the More-epochs input is built from."""
    status = gr.Markdown(words(views.NO_JOB), elem_id=elem_id("status"))
    progress = gr.HTML("", html_template=LOCAL_TIMES, js_on_load=None, elem_id=elem_id("progress"))
    with gr.Row():  # side by side on a wide screen, one under the other on a phone
        loss_plot = _curve_plot("train.loss", "train.axis.vae", elem_id("loss", "plot"))
        kl_plot = _curve_plot("train.kl", views.KL_AXIS, elem_id("kl", "plot"), visible=False)
        accuracy_plot = _curve_plot("train.accuracy", views.ACCURACY_AXIS, elem_id("accuracy", "plot"), visible=False)
    with gr.Row():
        curves = gr.Button(words("train.curves"), size="sm", elem_id=elem_id("curves"))
        present = gr.Button(words("train.present"), size="sm", elem_id=elem_id("present"))
    curves_picture = gr.Image(label=words("train.curves_picture"), type="pil", format="png",
                              interactive=False, visible=False, elem_id=elem_id("curves", "picture"))
    with gr.Row():
        grid = gr.Image(label=words(GRID_LABEL), interactive=False, visible=False, height=200,
                        elem_id=elem_id("grid"))
        grid_epoch = gr.Slider(1, 2, value=1, step=1, label=words("train.grid_epoch"), info=words("train.grid_info"),
                               visible=False, elem_id=elem_id("grid", "epoch"))
    with gr.Row():
        cancel = gr.Button(words("train.cancel"), variant="stop", interactive=False, elem_id=elem_id("cancel"))
        open_button = gr.Button(words("train.open"), interactive=False, elem_id=elem_id("open"))
    with gr.Row():
        more_epochs = setting_input(epochs, elem_id("more", "epochs"), high=max_epochs, label=words("train.more_epochs"))
        resume = gr.Button(words("train.resume"), interactive=False, elem_id=elem_id("resume"))
    with gr.Accordion(words("train.log"), open=False, elem_id=elem_id("log", "box")):
        log = gr.Textbox(lines=12, max_lines=20, show_label=False, interactive=False, elem_id=elem_id("log"))
    return LivePanel(status, progress, loss_plot, kl_plot, accuracy_plot, grid, grid_epoch, cancel, more_epochs,
                     resume, open_button, log, curves, curves_picture, present)


def build_jobs_panel() -> JobsPanel:
    """Build the job picker and table."""
    gr.Markdown(words("train.jobs_intro"))
    picker = gr.Dropdown([], value=None, label=words("train.follow"), allow_custom_value=True, elem_id=elem_id("picker"))
    table = gr.Dataframe(views.table_frame([]), interactive=False, wrap=True, elem_id=elem_id("table"))
    return JobsPanel(picker, table)


def build_compare_panel() -> ComparePanel:
    """Build the "Compare runs" view (closed until opened: it reads every run)."""
    with gr.Accordion(words("train.compare"), open=False, elem_id=elem_id("compare")) as box:
        gr.Markdown(words(compare.INTRO))
        with gr.Row():
            model = gr.Radio(compare.model_choices(), value=ALL, label=words("train.model"), min_width=280,
                             elem_id=elem_id("compare", "model"))
            sort = gr.Dropdown(compare.sort_choices(ALL), value=NEWEST, label=words("train.sort_by"), min_width=200,
                               elem_id=elem_id("compare", "sort"))
        note = gr.Markdown("", elem_id=elem_id("compare", "note"))
        table = gr.Dataframe(compare.frame([], ALL), interactive=False, max_height=420,
                             elem_id=elem_id("compare", "table"))
        # Its thumbnails take the shape of a picture grid, not a square (ui/static/gradio_internals.css).
        pictures = gr.Gallery(label=words(compare.GALLERY_LABEL), columns=compare.GALLERY_COLUMNS, height="auto",
                              format="png", object_fit="contain", elem_id=elem_id("compare", "pictures"))
    return ComparePanel(box, model, sort, note, table, pictures)
