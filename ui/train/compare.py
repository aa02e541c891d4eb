"""The Train tab's "Compare runs" view: the class's finished runs side by side, as a table and a picture each.

Formatting of jobs.compare's Runs for the page: the table's columns (the settings' own labels,
the figures in nats per image or percent), the filter and sort choices, and the gallery's
pictures with a caption naming each run and its beta. The pictures go into gradio's cache by
content, so a run's picture is one file however often the view is sent.
"""

import time

import pandas as pd

from jobs.compare import ALL, BEST, FIGURES, NEWEST, SETTING_KEYS, Run, sort_keys
from jobs.settings import MODEL_KEYS, form_fields
from ui.gradio_internals import write_to_cache

from .views import model_label, number_text

INTRO = ("Every finished run on this server with its settings and its best epoch's validation figures "
         "(−ELBO, reconstruction, KL, cross-entropy and NLL in nats per image, lower is better; accuracy in %). "
         "Filter by model, sort (or click a column's heading), and click a row to follow that run above.")
# Figure key -> (column heading, factor it is shown with): losses in nats per image, accuracy in percent.
# A figure's column: its declared name, and a fraction shown as a percentage.
FIGURE_COLUMNS = {key: (f"{f.name} %", 100.0) if f.unit == "fraction" else (f.name, 1.0) for key, f in FIGURES.items()}
GALLERY_LABEL = "After the last epoch"
GALLERY_COLUMNS = 3  # one on a phone, and thumbnails the shape of a picture grid (ui/static/gradio_internals.css)
FIRST_COLUMNS = ["run", "model"]
LAST_COLUMNS = ["best epoch", "finished", "job"]  # the job id last: the row's click handler reads it there
EMPTY_NOTE = "No finished runs yet: when a job is done it appears here."


def model_choices() -> list[tuple[str, str]]:
    """Return the model filter's (label, value) choices: all models, then each model type."""
    return [("All models", ALL)] + [(model_label(m), m) for m in MODEL_KEYS]


def setting_label(key: str) -> str:
    """Return the label of a public setting key, as the launch form shows it."""
    owner = next(m for m in MODEL_KEYS if key in SETTING_KEYS[m])
    return form_fields(owner)[key].spec.label


def column_label(key: str) -> str:
    """Return the table heading of a setting or figure key."""
    return FIGURE_COLUMNS[key][0] if key in FIGURE_COLUMNS else setting_label(key)


def sort_choices(model_type: str) -> list[tuple[str, str]]:
    """Return the sort order's (label, value) choices for a model filter."""
    names = {NEWEST: "newest first", BEST: "best figure first"}
    return [(names.get(k) or f"{column_label(k)}{', best first' if k in FIGURE_COLUMNS else ''}", k)
            for k in sort_keys(model_type)]


def _cell(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def frame(runs: list[Run], model_type: str) -> pd.DataFrame:
    """Return the comparison table: one row per run, its settings and figures (columns no run has are left out;
    a cell a run has no value for, such as a RowRNN's beta, is None)."""
    keys = [k for k in sort_keys(model_type) if k not in (NEWEST, BEST)]
    rows = []
    for run in runs:
        row = [run.title or "—", model_label(run.model_type)]
        row += [_cell(run.settings.get(k)) if k not in FIGURE_COLUMNS
                else (round(FIGURE_COLUMNS[k][1] * run.figures[k], 2) if k in run.figures else None) for k in keys]
        row += [run.figures.get("best_epoch"), time.strftime("%Y-%m-%d %H:%M", time.localtime(run.finished)), run.id]
        rows.append(row)
    # dtype object: a whole number stays whole beside an empty cell (pandas would make the column floats)
    table = pd.DataFrame(rows, columns=FIRST_COLUMNS + [column_label(k) for k in keys] + LAST_COLUMNS, dtype=object)
    if model_type != ALL:
        table = table.drop(columns="model")
    return table[[c for c in table.columns if c in FIRST_COLUMNS + LAST_COLUMNS or table[c].notna().any()]]


def column_types(table: pd.DataFrame) -> list[str]:
    """Return each column's type for the page's table: 'number' where every value is a number (so a click on
    its heading sorts by value, not as text), else 'str'."""
    def numeric(column) -> bool:
        values = [v for v in column if v is not None]
        return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return ["number" if numeric(table[c]) else "str" for c in table.columns]


def caption(run: Run, sort_by: str) -> str:
    """Return a picture's caption: the run's name, its beta (a VAE), the sorted-by setting, and its headline figure."""
    parts = [run.title or run.id]
    shown = ["beta"] + ([sort_by] if sort_by in run.settings and sort_by != "beta" else [])
    for key in shown:
        if key in run.settings and run.settings[key] is not None:
            value = run.settings[key]
            parts.append(f"{setting_label(key).lower()} {number_text(value) if not isinstance(value, bool) else value}")
    headline = next((k for k in FIGURE_COLUMNS if k in run.figures), None)
    if headline:
        label, factor = FIGURE_COLUMNS[headline]
        parts.append(f"{label.removesuffix(' %')} {factor * run.figures[headline]:.1f}{'%' if factor != 1 else ''}")
    return " · ".join(parts)


def gallery(comparison, runs: list[Run], sort_by: str) -> list[tuple[str, str]]:
    """Return the gallery's (file in gradio's cache, caption) of every run that has a picture, in table order."""
    items = []
    for run in runs:
        png = comparison.grid_png(run)
        if png is not None:
            items.append((write_to_cache(png, f"run-{run.id}.png"), caption(run, sort_by)))
    return items
