"""The Train tab's "Compare runs" view: the class's finished runs side by side, as a table and a picture each.

Formatting of jobs.compare's Runs for the page: the table's columns (the settings' own labels,
the figures in nats per image or percent), the filter and sort choices, and the gallery's
pictures with a caption naming each run and its beta. The pictures go into gradio's cache by
content, so a run's picture is one file however often the view is sent. Every word is in the
language of the call being answered (i18n).
"""

import time

import pandas as pd

import i18n

from jobs.compare import ALL, BEST, FIGURES, NEWEST, SETTING_KEYS, Run, sort_keys
from jobs.settings import MODEL_KEYS, form_fields
from ui.gradio_internals import write_to_cache

from .views import model_choices as each_model, model_label, number_text

INTRO = "train.compare.intro"
# Figure key -> factor it is shown with: losses in nats per image, accuracy (a fraction) in percent; its
# heading is train.figure.<key>.
FIGURE_COLUMNS = {key: 100.0 if f.unit == "fraction" else 1.0 for key, f in FIGURES.items()}
GALLERY_LABEL = "train.compare.gallery"
GALLERY_COLUMNS = 3  # one on a phone, and thumbnails the shape of a picture grid (ui/static/gradio_internals.css)
FIRST_COLUMNS = ["run", "model"]  # headings' keys, train.compare.<column>
LAST_COLUMNS = ["best_epoch", "finished", "job"]  # the job id last: the row's click handler reads it there
EMPTY_NOTE = "train.compare.empty"


def model_choices() -> list[tuple[str, str]]:
    """Return the model filter's (label, value) choices: all models, then each model type."""
    return [(i18n.text("train.compare.all"), ALL)] + each_model()


def setting_label(key: str) -> str:
    """Return the label of a public setting key, as the launch form shows it."""
    owner = next(m for m in MODEL_KEYS if key in SETTING_KEYS[m])
    return str(form_fields(owner)[key].label_text)


def figure_label(key: str) -> str:
    """Return a figure's name ('−ELBO', 'accuracy'), without its unit."""
    return i18n.text(f"train.figure.{key}")


def column_label(key: str) -> str:
    """Return the table heading of a setting or figure key (a percentage's heading ends with %)."""
    if key not in FIGURE_COLUMNS:
        return setting_label(key)
    return figure_label(key) + (" %" if FIGURE_COLUMNS[key] != 1 else "")


def sort_choices(model_type: str) -> list[tuple[str, str]]:
    """Return the sort order's (label, value) choices for a model filter."""
    names = {NEWEST: i18n.text("train.compare.newest"), BEST: i18n.text("train.compare.best")}
    return [(names.get(k) or (i18n.text("train.compare.best_first", label=column_label(k)) if k in FIGURE_COLUMNS
                              else column_label(k)), k)
            for k in sort_keys(model_type)]


def _cell(value):
    if isinstance(value, bool):
        return i18n.text("train.yes" if value else "train.no")
    return value


def frame(runs: list[Run], model_type: str) -> pd.DataFrame:
    """Return the comparison table: one row per run, its settings and figures (columns no run has are left out;
    a cell a run has no value for, such as a RowRNN's beta, is None)."""
    keys = [k for k in sort_keys(model_type) if k not in (NEWEST, BEST)]
    rows = []
    for run in runs:
        row = [run.title or "—", model_label(run.model_type)]
        row += [_cell(run.settings.get(k)) if k not in FIGURE_COLUMNS
                else (round(FIGURE_COLUMNS[k] * run.figures[k], 2) if k in run.figures else None) for k in keys]
        row += [run.figures.get("best_epoch"), time.strftime("%Y-%m-%d %H:%M", time.localtime(run.finished)), run.id]
        rows.append(row)
    # dtype object: a whole number stays whole beside an empty cell (pandas would make the column floats)
    first, last = ([i18n.text(f"train.compare.{c}") for c in columns] for columns in (FIRST_COLUMNS, LAST_COLUMNS))
    table = pd.DataFrame(rows, columns=first + [column_label(k) for k in keys] + last, dtype=object)
    if model_type != ALL:
        table = table.drop(columns=first[1])  # the model column says the same on every row
    return table[[c for c in table.columns if c in first + last or table[c].notna().any()]]


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
        factor = FIGURE_COLUMNS[headline]
        parts.append(f"{figure_label(headline)} {factor * run.figures[headline]:.1f}{'%' if factor != 1 else ''}")
    return " · ".join(parts)


def gallery(comparison, runs: list[Run], sort_by: str) -> list[tuple[str, str]]:
    """Return the gallery's (file in gradio's cache, caption) of every run that has a picture, in table order."""
    items = []
    for run in runs:
        png = comparison.grid_png(run)
        if png is not None:
            items.append((write_to_cache(png, f"run-{run.id}.png"), caption(run, sort_by)))
    return items
