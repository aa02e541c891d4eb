"""Pure formatting for the Train tab: a job's status, progress bar, curves and the job table (no Gradio here).

Every word comes from the catalogue (i18n), in the language of the call being answered: the
handlers run in their caller's language (ui/language.py), so these functions need no argument for it.
"""

import html
import io
import math
import re
import time

import matplotlib
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import i18n

from genmodels.models import MODEL_TYPES
from jobs.records import QUEUED, RUNNING
from jobs.settings import MODEL_KEYS

# How often the Train tab asks for news (s): every second while the followed job trains (its bar and
# curves move), every few seconds while it waits (its place and estimates move slowly) or otherwise.
# With a class training at once, most pages wait: this is most of the server's polling work.
RUNNING_TICK_S, WAITING_TICK_S, IDLE_TICK_S = 1.0, 4.0, 4.0


def tick_seconds(status: str | None, queue_position: int | None = None) -> float:
    """Return the Train tab's polling interval for the followed job's status (None: no job followed) and place in
    the queue: a job next to start is asked about as often as a running one, so the page shows it start (and
    its place taken by the next) within a second."""
    if status == RUNNING or (status == QUEUED and queue_position == 1):
        return RUNNING_TICK_S
    return WAITING_TICK_S if status == QUEUED else IDLE_TICK_S


NO_JOB = "train.no_job"  # the status block's words while no job is followed
# The job table's columns, by catalogue key (train.table.<column>); the job id comes first: a row's click reads it.
TABLE_COLUMNS = ["job", "name", "model", "dataset", "status", "when", "epochs", "figure", "started", "yours"]
# The runner's queue figures in every status view: position (1 = next to start), seconds until the
# job starts and until it finishes. A key that is missing, or None, means unknown.
QUEUE_KEYS = ("queue_position", "eta_start_s", "eta_finish_s")
PLOT_COLUMNS = ["epoch", "value", "series"]

# The curves' series, by catalogue key: short names, so a legend fits on one line even on a phone; the axis
# title says what is measured.
STEPS, TRAIN, VALIDATION = "train.series.steps", "train.series.train", "train.series.validation"
SERIES_KEYS = (STEPS, TRAIN, VALIDATION)
COLOURS = {STEPS: "#9ecae1", TRAIN: "#1f77b4", VALIDATION: "#ff7f0e"}

LOSS_UNIT = "nats per image"  # a validation figure in this unit can be drawn as the loss curve


def loss_curve_keys(model_type: str) -> tuple[str, str]:
    """Return the (train, validation) metrics keys of a model type's loss curve: its first validation figure in
    nats per image (genmodels.trainable), and the trainer's training mean of the same loss part."""
    figure = next(f for f in MODEL_TYPES[model_type].validation_figures if f.unit == LOSS_UNIT)
    return "train_" + figure.key.removeprefix("val_"), figure.key


# Per model type: the loss curve's (train, validation) metrics keys; its axis title is train.axis.<model type>
# and the note under it train.note.<model type>.
LOSS_CURVES = {model_type: loss_curve_keys(model_type) for model_type in MODEL_KEYS}
KL_AXIS, ACCURACY_AXIS, EPOCH_AXIS = "train.axis.kl", "train.axis.accuracy", "train.axis.epoch"


def series_colours(language: str | None = None) -> dict[str, str]:
    """Return each series' colour by its name in `language` (default: the current one), for the page's charts."""
    return {i18n.text(key, language): colour for key, colour in COLOURS.items()}


def loss_axis(model_type: str) -> str:
    """Return the loss curve's axis title of a model type, in the current language."""
    return i18n.text(f"train.axis.{model_type}")


def loss_note(model_type: str) -> str:
    """Return the sentence under the loss curve of a model type, in the current language."""
    return i18n.text(f"train.note.{model_type}")


def model_label(model_type: str) -> str:
    """Return the display name of a model type ('VAE', 'RowRNN', 'RowWriter', 'Autoencoder') in the current
    language; an unknown type as it is."""
    key = f"train.model_name.{model_type}"
    return i18n.text(key) if key in i18n.catalogue(i18n.DEFAULT) else model_type


def model_choices() -> list[tuple[str, str]]:
    """Return every model type as a (display name in the current language, model type) choice."""
    return [(model_label(m), m) for m in MODEL_KEYS]


def number_text(value) -> str:
    """Return a number as the form shows it (1e-06, 0.001, 4096)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain(text: str) -> str:
    """Return visitor-written text escaped so that Markdown shows it literally."""
    return re.sub(r"([\\`*_\[\]<>|#~!])", r"\\\1", text)


def setting_info(help_text, low=None, high=None):
    """Return the help line under a form input: what the setting does (a catalogue text) and its allowed range,
    as an i18n.Text (the page shows it in its visitor's language)."""
    if low is None or high is None:
        return help_text
    return i18n.Text("train.setting_range", help=help_text, low=number_text(low), high=number_text(high))


def input_step(described) -> float:
    """Return the arrow-key step of a number input: 1 for whole numbers, else a tenth of the default's magnitude."""
    if described.kind == "int":
        return 1
    default = abs(described.default or 0)
    return 10.0 ** (math.floor(math.log10(default)) - 1) if default else 0.1


def duration(seconds) -> str:
    """Return a short human duration such as '1 min 05 s' ('—' when unknown)."""
    if seconds is None:
        return i18n.text("train.unknown")
    seconds = int(round(seconds))
    if seconds < 60:
        return i18n.text("train.duration.s", s=seconds)
    if seconds < 3600:
        return i18n.text("train.duration.min", m=seconds // 60, s=seconds % 60)
    return i18n.text("train.duration.h", h=seconds // 3600, m=seconds % 3600 // 60)


def queue_place(n: int) -> str:
    """Return a place in the queue in words: '1st in the queue', ..., '11th', '12th', '13th', ..., '21st'."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return i18n.text(f"train.queue.position.{suffix}", n=n)


def about(seconds: float) -> str:
    """Return a rough duration in words ('a few seconds', 'about 40 s', 'about 3 min', 'about 1 h 20 min')."""
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return i18n.text("train.about.few")
    if seconds < 55:
        return i18n.text("train.about.s", s=int(round(seconds / 10)) * 10)
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return i18n.text("train.about.min", m=minutes)
    return i18n.text("train.about.h", h=minutes // 60, m=minutes % 60)


def _seconds(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def queue_parts(view: dict | None, now: float) -> list[tuple[str, float | None]]:
    """Return a queued or running job's queue words as (phrase, the Unix time it names or None), [] otherwise.

    e.g. [('3rd in the queue', None), ('starts in about 1 min', t0), ('done in about 2 min', t1)]; a
    queue figure the view lacks is left out (the words still say the job waits).
    """
    if view is None or view.get("status") not in ("queued", "running"):
        return []
    position = view.get("queue_position")
    start, finish = _seconds(view.get("eta_start_s")), _seconds(view.get("eta_finish_s"))
    parts = []
    if view["status"] == "queued":
        has_position = isinstance(position, int) and not isinstance(position, bool) and position > 0
        parts.append((queue_place(position) if has_position else i18n.text("train.queue.waiting"), None))
        if start is not None:
            parts.append((i18n.text("train.queue.starts", about=about(start)), now + start))
        elif has_position and position == 1:  # the job ahead is past its estimate: when it ends is not known
            parts.append((i18n.text("train.queue.after_ahead"), None))
    elif finish is None:
        finish = _seconds(view.get("eta_s"))  # the worker's own estimate, before the runner's
    if finish is not None:
        parts.append((i18n.text("train.queue.done", about=about(finish)), now + finish))
    return parts


def queue_text(view: dict | None, now: float | None = None) -> str:
    """Return the queue words in one line without clock times ('' for a job neither queued nor running)."""
    return i18n.text("train.queue.join").join(phrase for phrase, _ in queue_parts(view, time.time() if now is None else now))


def queue_html(view: dict | None, now: float | None = None) -> str:
    """Return the queue words with the clock time of each estimate, as HTML (<time> elements, which the page
    shows in the visitor's own time zone; the server's clock until it does)."""
    parts = []
    for phrase, at in queue_parts(view, time.time() if now is None else now):
        text = html.escape(phrase)
        if at is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
            text = i18n.text("train.queue.at", phrase=text,
                             time=f'<time datetime="{stamp}">{time.strftime("%H:%M", time.localtime(at))}</time>')
        parts.append(text)
    return i18n.text("train.queue.join").join(parts)


def figure_text(view: dict) -> str:
    """Return a job's headline figure, its model's first validation figure at the best epoch: −ELBO,
    reconstruction or NLL (nats per image), or accuracy (%)."""
    f = view.get("figures") or {}
    model_class = MODEL_TYPES.get(view.get("model_type"))
    headline = model_class.validation_figures[0] if model_class and model_class.validation_figures else None
    if headline is None or f.get(headline.key) is None:
        return i18n.text("train.unknown")
    name = i18n.text(f"train.figure.{headline.key}")
    if headline.unit == "fraction":
        return i18n.text("train.figure.percent", name=name, value=100 * f[headline.key], epoch=f["best_epoch"])
    return i18n.text("train.figure.nats", name=name, value=f[headline.key], epoch=f["best_epoch"])


def status_markdown(view: dict | None) -> str:
    """Return the Markdown status block of the followed job (its name, id, model, status, epochs, figure)."""
    if view is None:
        return i18n.text(NO_JOB)
    what = i18n.text("train.what", model=model_label(view["model_type"]), dataset=view["dataset"])
    status = status_word(view["status"])
    heading = (i18n.text("train.heading.named", title=plain(view["title"]), id=view["id"]) if view.get("title")
               else i18n.text("train.heading.plain", id=view["id"]))
    lines = [i18n.text("train.status_line", heading=heading, what=what, status=status),
             i18n.text("train.epochs_line", done=view["epochs_done"], target=view["target_epochs"],
                       figure=figure_text(view))]
    if view["status"] == "running" and view.get("phase") == "loading":
        lines.append(i18n.text("train.loading"))
    if view.get("error"):
        lines.append(i18n.text("train.what_happened", error=view["error"]))
    if view.get("problem"):
        lines.append(i18n.text("train.damaged", problem=plain(view["problem"])))
    if view["status"] == "done":
        lines.append(i18n.text("train.listed_as", name=view["name"]))
    return "\n\n".join(lines)


def status_word(status: str) -> str:
    """Return a job status in words ('queued (waiting for a free slot)'); an unknown one as it is."""
    key = f"train.status.{status}"
    return i18n.text(key) if key in i18n.catalogue(i18n.DEFAULT) else status


def progress_html(view: dict | None) -> str:
    """Return an HTML progress bar (fraction of the target epochs, the current epoch's steps included) with the ETA."""
    if view is None:
        return ""
    percent = 100 * (view.get("fraction") or 0)
    colour = {"failed": "#d9534f", "cancelled": "#999", "interrupted": "#e0a030"}.get(view["status"], "#4a90d9")
    eta = ""
    if view["status"] == "running":
        eta = i18n.text("train.eta", duration=duration(view.get("eta_s")))
    elif view["status"] == "queued":
        eta = i18n.text("train.waiting")
    label = html.escape(f"{percent:.0f}%{eta}")
    queue = queue_html(view)
    queue = (f'<div class="job-queue" style="margin-top:4px;font-size:14px">'
             f'{i18n.text("train.queue.sentence", text=queue[0].upper() + queue[1:])}</div>') if queue else ""
    return (f'<div class="job-progress" data-status="{view["status"]}" data-percent="{percent:.1f}" '
            f'style="border:1px solid #ccc;border-radius:6px;height:24px;position:relative;overflow:hidden">'
            f'<div style="background:{colour};width:{percent:.1f}%;height:100%;transition:width .4s"></div>'
            f'<span style="position:absolute;left:8px;top:2px;font-size:14px">{label}</span></div>{queue}')


MAX_STEP_POINTS = 400  # step points drawn per curve: a 100-epoch job costs each tick what a 4-epoch one does


def thinned(steps: list[dict], limit: int = MAX_STEP_POINTS) -> list[dict]:
    """Return at most `limit` of `steps`, evenly spread over the whole run and always with the last one."""
    if len(steps) <= limit:
        return steps
    stride = len(steps) / (limit - 1)
    return [steps[int(i * stride)] for i in range(limit - 1)] + [steps[-1]]


def _frame(rows: list[tuple[float, float, str]], keys: list[str]) -> pd.DataFrame:
    # The browser's chart fixes its colours and legend from the first data it is given, and epoch
    # series only appear after the first epoch: so each series starts with one empty (NaN) point.
    # Series are named in the reader's language: the name is the legend's text.
    names = {key: i18n.text(key) for key in SERIES_KEYS}
    return pd.DataFrame([(0.0, math.nan, names[key]) for key in keys] + [(x, y, names[key]) for x, y, key in rows],
                        columns=PLOT_COLUMNS)


def _epoch_rows(epochs: list[dict], key: str, name: str, scale: float = 1.0) -> list[tuple[float, float, str]]:
    return [(float(m["epoch"]), scale * m[key], name) for m in epochs if key in m]


def loss_frame(model_type: str, metrics: dict) -> pd.DataFrame | None:
    """Return long-form loss curves (nats per image): per step, and train and validation per epoch (None: no data)."""
    if not (metrics["steps"] or metrics["epochs"]):
        return None  # an empty frame would fix the axes before there is anything to show
    train_key, val_key = LOSS_CURVES[model_type]
    rows = [(s["x"], s["loss"], STEPS) for s in thinned(metrics["steps"])]
    rows += _epoch_rows(metrics["epochs"], train_key, TRAIN) + _epoch_rows(metrics["epochs"], val_key, VALIDATION)
    return _frame(rows, [STEPS, TRAIN, VALIDATION])


def kl_frame(metrics: dict) -> pd.DataFrame | None:
    """Return a VAE's KL term per epoch (nats per image), train and validation (None before the first epoch)."""
    if not metrics["epochs"]:
        return None
    rows = _epoch_rows(metrics["epochs"], "train_kl", TRAIN) + _epoch_rows(metrics["epochs"], "val_kl", VALIDATION)
    return _frame(rows, [TRAIN, VALIDATION])


def accuracy_frame(metrics: dict) -> pd.DataFrame | None:
    """Return a RowRNN's accuracy per epoch (percent), train and validation (None before the first epoch)."""
    if not metrics["epochs"]:
        return None
    rows = (_epoch_rows(metrics["epochs"], "train_accuracy", TRAIN, 100.0)
            + _epoch_rows(metrics["epochs"], "val_accuracy", VALIDATION, 100.0))
    return _frame(rows, [TRAIN, VALIDATION])


CURVES_DPI = 72  # a point is a pixel: the sizes below are pixels of the exported picture
CURVES_PANEL = (560, 400)  # one panel's width and height
# Fonts of the exported picture, first to last: matplotlib takes each glyph from the first that has it, so
# Latin text keeps its usual look and Chinese comes from a CJK font where the machine has one (Debian's
# fonts-noto-cjk); a font this machine lacks is left out, so none is ever warned about.
CURVE_FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
               "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC")


def curve_fonts() -> list[str]:
    """Return the font families of CURVE_FONTS that this machine has, in order (matplotlib's default when none)."""
    have = {entry.name for entry in font_manager.fontManager.ttflist}
    found = [name for name in CURVE_FONTS if name in have]
    return found or list(matplotlib.rcParams["font.sans-serif"][:1])


def curves_figure(model_type: str, metrics: dict, title: str = "") -> Figure | None:
    """Return a run's training curves as a matplotlib Figure (None before there is any data): the loss
    panel of the page's plot, and beside it the KL term (VAE) or the accuracy (RowRNN), the same series,
    its words in the current language."""
    loss = loss_frame(model_type, metrics)
    if loss is None:
        return None
    panels = [(loss, loss_axis(model_type))]
    second = kl_frame(metrics) if model_type == "vae" else accuracy_frame(metrics) if model_type == "rnn" else None
    if second is not None:
        panels.append((second, i18n.text(KL_AXIS if model_type == "vae" else ACCURACY_AXIS)))
    width, height = CURVES_PANEL
    colours = series_colours()
    steps = i18n.text(STEPS)
    with matplotlib.rc_context({"font.family": curve_fonts(), "axes.unicode_minus": False}):
        figure = Figure(figsize=(width * len(panels) / CURVES_DPI, height / CURVES_DPI), dpi=CURVES_DPI,
                        layout="constrained")
        FigureCanvasAgg(figure)
        for axes, (frame, axis_title) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
            for name, series in frame.dropna().groupby("series", sort=False):
                dots = name != steps and len(series) <= 60  # a dot per epoch while they stay apart
                axes.plot(series["epoch"], series["value"], color=colours[name], label=name,
                          linewidth=2.5 if name != steps else 1.2, marker="o" if dots else None, markersize=6)
            axes.set_xlabel(i18n.text(EPOCH_AXIS), fontsize=16)
            axes.set_ylabel(axis_title, fontsize=16)
            axes.tick_params(labelsize=14)
            axes.grid(alpha=0.3)
            axes.legend(fontsize=14, frameon=False)
        if title:
            figure.suptitle(title[:80], fontsize=18, parse_math=False)  # a visitor's name, shown as typed
        # Drawn inside the block: text is laid out with these fonts when drawn, not when added.
        figure.canvas.draw()
    return figure


def curves_png(model_type: str, metrics: dict, title: str = "") -> bytes | None:
    """Return the training curves (curves_figure) as PNG bytes, None before there is any data."""
    figure = curves_figure(model_type, metrics, title)
    if figure is None:
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def table_rows(views: list[dict], is_mine) -> list[list]:
    """Return the job table rows (newest first); `is_mine(job_id)` marks the visitor's own jobs."""
    rows = []
    for v in views:
        started = time.strftime("%H:%M:%S", time.localtime(v["started"] or v["created"]))
        status = i18n.text(f"jobs.status.{v['status']}") if f"jobs.status.{v['status']}" in i18n.catalogue(i18n.DEFAULT) \
            else v["status"]
        rows.append([v["id"], v.get("title") or "", model_label(v["model_type"]), v["dataset"], status,
                     queue_text(v), f"{v['epochs_done']}/{v['target_epochs']}", figure_text(v), started,
                     i18n.text("train.yes") if is_mine(v["id"]) else ""])
    return rows


def table_frame(rows: list[list]) -> pd.DataFrame:
    """Return the job table as a DataFrame with its column names in the current language (empty when there are
    no jobs)."""
    return pd.DataFrame(rows, columns=[i18n.text(f"train.table.{column}") for column in TABLE_COLUMNS])
