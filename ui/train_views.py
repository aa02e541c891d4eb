"""Pure functions that turn a job's status and metrics into what the Train tab shows (no events here)."""

import html
import time

import pandas as pd

STATUS_WORDS = {
    "queued": "queued (waiting for a free slot)",
    "running": "running",
    "done": "done",
    "failed": "failed",
    "cancelled": "cancelled",
    "interrupted": "interrupted (resume it to continue)",
}
LIVE_SERIES = "train loss (live, per step)"
VAE_SERIES = [("train_nelbo", "train loss"), ("train_recon", "train recon"), ("train_kl", "train KL"),
              ("val_nelbo", "validation loss"), ("val_recon", "validation recon"), ("val_kl", "validation KL")]
RNN_SERIES = [("train_loss", "train loss"), ("val_loss", "validation loss")]
ACCURACY_SERIES = [("train_accuracy", "train accuracy"), ("val_accuracy", "validation accuracy")]
TABLE_COLUMNS = ["job", "model", "data set", "status", "epochs", "best figure", "started", "yours"]
PLOT_COLUMNS = ["epoch", "value", "series"]


def duration(seconds) -> str:
    """Return a short human duration such as '1 min 05 s' ('—' when unknown)."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def figure_text(view: dict) -> str:
    """Return the headline figure of a job: best validation NELBO (nats/image) or accuracy (%)."""
    f = view.get("figures") or {}
    if f.get("val_nelbo") is not None:
        return f"NELBO {f['val_nelbo']:.1f} nats (epoch {f['best_epoch']})"
    if f.get("val_accuracy") is not None:
        return f"accuracy {100 * f['val_accuracy']:.1f}% (epoch {f['best_epoch']})"
    return "—"


def status_markdown(view: dict | None) -> str:
    """Return the Markdown status block of the followed job."""
    if view is None:
        return "No job followed yet: launch one, or pick one from the job table below."
    model = "VAE" if view["model_type"] == "vae" else "RowRNN"
    lines = [f"**Job `{view['id']}`** ({model} on {view['dataset']}): **{STATUS_WORDS.get(view['status'], view['status'])}**",
             f"Epochs {view['epochs_done']} of {view['target_epochs']} · best so far: {figure_text(view)}"]
    if view["status"] == "running" and view.get("phase") == "loading":
        lines.append("Loading the data set and building the model…")
    if view.get("error"):
        lines.append(f"**What happened:** {view['error']}")
    if view["status"] == "done":
        lines.append(f"Its checkpoint is listed in the explorer as **{view['name']}**.")
    return "\n\n".join(lines)


def progress_html(view: dict | None) -> str:
    """Return an HTML progress bar (fraction of the target epochs) with elapsed time and ETA."""
    if view is None:
        return ""
    percent = 100 * (view.get("fraction") or 0)
    colour = {"failed": "#d9534f", "cancelled": "#999", "interrupted": "#e0a030"}.get(view["status"], "#4a90d9")
    eta = ""
    if view["status"] == "running":
        step = f", step {view['step']}/{view['steps_per_epoch']}" if view.get("steps_per_epoch") else ""
        eta = f" · ETA {duration(view.get('eta_s'))}{step}"
    elif view["status"] == "queued":
        eta = " · waiting"
    label = html.escape(f"{percent:.0f}%{eta}")
    return (f'<div class="job-progress" data-status="{view["status"]}" data-percent="{percent:.1f}" '
            f'style="border:1px solid #ccc;border-radius:6px;height:24px;position:relative;overflow:hidden">'
            f'<div style="background:{colour};width:{percent:.1f}%;height:100%;transition:width .4s"></div>'
            f'<span style="position:absolute;left:8px;top:2px;font-size:14px">{label}</span></div>')


def _long(rows: list[tuple[float, float, str]], names: list[str]) -> pd.DataFrame:
    # One empty (NaN) point per series first: the browser's chart fixes its colour legend from the
    # first data it gets, and the epoch series only appear after the first epoch.
    return pd.DataFrame([(0.0, float("nan"), name) for name in names] + rows, columns=PLOT_COLUMNS)


def loss_frame(model_type: str, metrics: dict) -> pd.DataFrame:
    """Return long-form loss curves: VAE NELBO/recon/KL (nats/image), RNN cross-entropy (nats), train and validation."""
    rows = [(s["x"], s["loss"], LIVE_SERIES) for s in metrics["steps"]]
    series = VAE_SERIES if model_type == "vae" else RNN_SERIES
    for m in metrics["epochs"]:
        rows += [(float(m["epoch"]), m[key], name) for key, name in series if key in m]
    return _long(rows, [LIVE_SERIES] + [name for _, name in series])


def accuracy_frame(metrics: dict) -> pd.DataFrame:
    """Return long-form RNN accuracy curves (percent), train and validation, per epoch."""
    rows = []
    for m in metrics["epochs"]:
        rows += [(float(m["epoch"]), 100 * m[key], name) for key, name in ACCURACY_SERIES if key in m]
    return _long(rows, [name for _, name in ACCURACY_SERIES])


def table_rows(views: list[dict], is_mine) -> list[list]:
    """Return the job table rows (newest first); `is_mine(job_id)` marks the visitor's own jobs."""
    rows = []
    for v in views:
        started = time.strftime("%H:%M:%S", time.localtime(v["started"] or v["created"]))
        rows.append([v["id"], "VAE" if v["model_type"] == "vae" else "RowRNN", v["dataset"], v["status"],
                     f"{v['epochs_done']}/{v['target_epochs']}", figure_text(v), started,
                     "yes" if is_mine(v["id"]) else ""])
    return rows


def empty_table() -> pd.DataFrame:
    """Return an empty job table with its columns."""
    return pd.DataFrame([], columns=TABLE_COLUMNS)
