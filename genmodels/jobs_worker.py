"""The child-process side of a training job: `python -m genmodels.jobs run <job_dir>` ends up here.

It runs the same `build_trainer` + callbacks as the CLI, and reports through files only:
progress.json (throttled), metrics.jsonl (every epoch, thinned steps), samples/ (VAE grids) and
its stdout/stderr in log.txt. It stops within one step when the stop file appears or when the
process that started it is gone (the app was stopped), keeping the last saved epoch.
"""

import os
import sys
import time
import traceback

import torch

from .jobs_record import CANCELLED, DONE, FAILED, INTERRUPTED, JobFolder, append_jsonl, write_json

STEP_RECORDS_PER_EPOCH = 10  # thinned step curve: enough to see the loss move within an epoch
PROGRESS_EVERY_S = 0.5
GRID_COLUMNS = 8


def _be_a_good_neighbour(threads: int, nice: int) -> None:
    """Lower this process's CPU priority and thread count so the app's requests stay fast."""
    try:
        os.nice(nice)
    except OSError:
        pass  # not allowed here: run at normal priority
    torch.set_num_threads(max(1, threads))


def _grid_png(model, fixed_images: torch.Tensor, fixed_z: torch.Tensor, path) -> None:
    """Write a PNG: originals, their reconstructions and prior samples (8 per row, 2x scale)."""
    from PIL import Image

    with torch.no_grad():
        recon = model.reconstruct(fixed_images)
        samples = model.decode(fixed_z.to(model.device))
    rows = [fixed_images.reshape(-1, 28, 28), recon.reshape(-1, 28, 28), samples.reshape(-1, 28, 28)]
    gap = 2
    width = GRID_COLUMNS * 28 + (GRID_COLUMNS - 1) * gap
    canvas = torch.ones(len(rows) * 28 + (len(rows) - 1) * gap, width) * 0.5
    for r, row in enumerate(rows):
        for c, img in enumerate(row[:GRID_COLUMNS].cpu()):
            canvas[r * (28 + gap):r * (28 + gap) + 28, c * (28 + gap):c * (28 + gap) + 28] = img
    pixels = (canvas.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    image = Image.fromarray(pixels, mode="L").resize((width * 2, canvas.shape[0] * 2), Image.NEAREST)
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)


class _Reporter:
    """Trainer callbacks that write progress, metrics and sample grids into the job folder."""

    def __init__(self, folder: JobFolder, segment: int, trainer):
        self.folder, self.segment, self.trainer = folder, segment, trainer
        self.first_epoch = trainer.start_epoch
        self.total_epochs = trainer.total_epochs
        self.started = time.time()
        self.last_write = 0.0
        self.state = {"segment": segment, "pid": os.getpid(), "phase": "training",
                      "epoch": self.first_epoch, "epochs_done": self.first_epoch,
                      "total_epochs": self.total_epochs, "step": 0, "steps_per_epoch": 0,
                      "started": self.started, "outcome": None}
        self.fixed = None
        if trainer.is_vae:
            data = trainer.data
            # One validation image per class (first eight classes) and eight fixed prior draws:
            # the same inputs every epoch, so scrubbing the epoch slider shows them take shape.
            picks = [int((data.val_y == c).nonzero()[0]) for c in range(min(GRID_COLUMNS, len(data.class_names)))]
            images = data.val_x[picks].unsqueeze(1).float() / 255.0
            z = torch.randn(GRID_COLUMNS, trainer.model.config.latent_dim, generator=torch.Generator().manual_seed(0))
            self.fixed = (images, z)
        self.write(force=True)

    def write(self, force=False, **changes) -> None:
        """Update progress.json (at most every PROGRESS_EVERY_S unless forced)."""
        self.state.update(changes)
        now = time.time()
        if not force and now - self.last_write < PROGRESS_EVERY_S:
            return
        done = self.state["epochs_done"] - self.first_epoch
        spe = self.state["steps_per_epoch"] or 1
        in_epoch = self.state["step"] / spe if self.state["epoch"] > self.state["epochs_done"] else 0.0
        span = max(1, self.total_epochs - self.first_epoch)
        fraction = min(1.0, (done + in_epoch) / span)
        elapsed = now - self.started
        self.state.update(updated=now, elapsed_s=elapsed, fraction=fraction,
                          eta_s=(elapsed * (1 - fraction) / fraction) if fraction > 0.01 else None)
        write_json(self.folder.progress_file, self.state)
        self.last_write = now

    def on_step(self, trainer, info: dict) -> None:
        spe = info["steps_per_epoch"]
        every = max(1, spe // STEP_RECORDS_PER_EPOCH)
        if info["step"] % every == 0 or info["step"] == spe:
            append_jsonl(self.folder.metrics_file, {
                "kind": "step", "segment": self.segment, "epoch": info["epoch"], "step": info["step"],
                "x": info["epoch"] - 1 + info["step"] / spe, "loss": info["loss"], "time": time.time()})
        self.write(epoch=info["epoch"], step=info["step"], steps_per_epoch=spe)

    def on_epoch_end(self, trainer, metrics: dict) -> None:
        epoch = metrics["epoch"]
        if self.fixed is not None:
            self.folder.samples.mkdir(exist_ok=True)
            _grid_png(trainer.model, self.fixed[0], self.fixed[1], self.folder.samples / f"epoch-{epoch:03d}.png")
        record = {"kind": "epoch", "segment": self.segment, "time": time.time(),
                  **{k: v for k, v in metrics.items() if isinstance(v, (int, float, bool))}}
        append_jsonl(self.folder.metrics_file, record)
        figures = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if k.startswith("val_"))
        print(f"epoch {epoch}/{metrics['total_epochs']}: {figures} ({metrics['seconds']:.1f}s)"
              f"{' (best so far)' if metrics.get('improved') else ''}", flush=True)
        self.write(force=True, epochs_done=epoch, epoch=epoch, step=0)


def _error_text(error: BaseException) -> str:
    """Return the error as a sentence for the page: ValueErrors are already written for users."""
    if isinstance(error, ValueError):
        return str(error)
    if isinstance(error, MemoryError) or "out of memory" in str(error).lower():
        return f"The job ran out of memory ({type(error).__name__}: {error}). Try a smaller batch or hidden size."
    return f"Training failed with {type(error).__name__}: {error}"


def run_job(job_dir, parent_pid: int | None = None) -> int:
    """Run the latest segment of the job in `job_dir` in this process; return the exit code (0 = done)."""
    from .train import MODEL_TYPES, TrainConfig, build_trainer

    folder = JobFolder(os.path.dirname(os.path.abspath(job_dir)), os.path.basename(os.path.abspath(job_dir)))
    record = folder.record()
    if record is None:
        print(f"No job record in {job_dir}.", file=sys.stderr)
        return 2
    segment_index = len(record["segments"]) - 1
    segment = record["segments"][-1]
    limits = record.get("limits", {})
    _be_a_good_neighbour(limits.get("threads", 1), limits.get("nice", 10))
    progress = {"segment": segment_index, "pid": os.getpid(), "phase": "loading", "started": time.time(),
                "outcome": None, "epochs_done": folder.saved_epochs()}
    write_json(folder.progress_file, progress)

    def parent_gone() -> bool:
        return parent_pid is not None and os.getppid() != parent_pid

    def should_stop() -> bool:
        return folder.stop_file.exists() or parent_gone()

    try:
        model_cls, config_cls = MODEL_TYPES[record["model_type"]]
        model_config = config_cls(**record["model_config"])
        train_config = TrainConfig(**{**record["train_config"], "epochs": segment["epochs"]})
        print(f"job {folder.job_id}: {record['model_type']} on {train_config.dataset}, "
              f"{'resuming for' if segment['resume'] else 'training'} {segment['epochs']} epochs", flush=True)
        trainer = build_trainer(record["model_type"], model_config, train_config, out=folder.checkpoint,
                                resume=segment["resume"],
                                save_training_state=record.get("save_training_state", True))
        print(f"{trainer.data.summary()} on {trainer.device}", flush=True)
        reporter = _Reporter(folder, segment_index, trainer)
        trainer.add_callback("on_step", reporter.on_step)
        trainer.add_callback("on_epoch_end", reporter.on_epoch_end)
        result = trainer.run(should_stop)
        if not result.stopped:
            outcome, error = DONE, None
        elif parent_gone():
            outcome, error = INTERRUPTED, "The app stopped while this job was running."
        else:
            outcome, error = CANCELLED, None
        print(f"{outcome}: best epoch {result.best_epoch}, {trainer.start_epoch} epochs saved", flush=True)
        reporter.write(force=True, phase="finished", outcome=outcome, error=error)
        return 0 if outcome == DONE else 3
    except BaseException as error:  # noqa: BLE001 -- everything ends up in the record, then we exit
        traceback.print_exc()
        sys.stderr.flush()
        outcome = CANCELLED if isinstance(error, KeyboardInterrupt) else FAILED
        progress = folder.progress() or progress
        progress.update(phase="finished", outcome=outcome, error=_error_text(error), updated=time.time(),
                        epochs_done=folder.saved_epochs())
        write_json(folder.progress_file, progress)
        return 1

